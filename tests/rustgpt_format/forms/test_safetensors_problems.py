"""A binary load looks up where a tensor belongs only when it refuses the file (issue 13);
the refusal still names each tensor at fault by its path in the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint
from tests.rustgpt_format.forms.test_safetensors import join, split


def refused(
    tmp_path: Path, header: dict[str, Any], body: bytes, **options: Any
) -> rf.CheckpointError:
    target = tmp_path / "model.safetensors"
    target.write_bytes(join(header, body))
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target, **options)
    return caught.value


def test_every_tensor_of_a_wrong_type_is_named_by_its_path(tmp_path: Path) -> None:
    header, body = split(rf.dumps(tiny_checkpoint(), form="safetensors"))
    header["network.1.w_q"]["dtype"] = "I32"  # same size: the library accepts the offsets
    header["network.4.optimizer_beta.v"]["dtype"] = "U32"
    error = refused(tmp_path, header, body)
    assert [(problem.path, problem.message) for problem in error.problems] == [
        (
            "network[1].w_q",
            "tensor `network.1.w_q`: expected a 2-D F32 tensor, found 2-D I32 of shape (4, 4)",
        ),
        (
            "network[4].optimizer_beta.v",
            "tensor `network.4.optimizer_beta.v`: expected a 2-D F32 tensor, found 2-D U32 "
            "of shape (1, 4)",
        ),
    ]


@pytest.mark.parametrize(
    ("bound", "path"), [(518, "network[5].w_out"), (100, "network[1].optimizer_w_q.m")]
)
def test_the_tensor_past_max_elements_is_named_by_its_path(
    tmp_path: Path, bound: int, path: str
) -> None:
    header, body = split(rf.dumps(tiny_checkpoint(), form="safetensors"))  # 519 numbers
    error = refused(tmp_path, header, body, limits=rf.Limits(max_elements=bound))
    assert error.path == path
    assert error.message.startswith(f"tensor `{path.replace('[', '.').replace(']', '')}`: ")


def test_missing_and_unexpected_tensors_are_all_named(tmp_path: Path) -> None:
    header, body = split(rf.dumps(tiny_checkpoint(), form="safetensors"))
    header["network.7.w_q"] = header.pop("network.1.w_q")  # same bytes, another name
    error = refused(tmp_path, header, body)
    assert [(problem.path, problem.message) for problem in error.problems] == [
        ("network[1].w_q", "tensor `network.1.w_q` not found in the file"),
        (
            "",
            "unexpected tensor `network.7.w_q`: the checkpoint in __metadata__ has no place for it",
        ),
    ]


@pytest.mark.parametrize(
    ("options", "missing", "path"),
    [
        ({"optimizer": False}, "network.1.optimizer_w_q.v", "network[1].optimizer_w_q.v"),
        ({"layers": [0]}, "network.3.w2", "network[3].w2"),  # a layer not read
    ],
)
def test_a_tensor_left_unread_must_still_be_there(
    tmp_path: Path, options: dict[str, Any], missing: str, path: str
) -> None:
    header, body = split(rf.dumps(tiny_checkpoint(), form="safetensors"))
    start, end = header.pop(missing)["data_offsets"]
    for entry in header.values():  # close the gap its bytes leave
        if "data_offsets" in entry and entry["data_offsets"][0] >= end:
            entry["data_offsets"] = [offset - (end - start) for offset in entry["data_offsets"]]
    error = refused(tmp_path, header, body[:start] + body[end:], **options)
    assert (error.path, error.message) == (path, f"tensor `{missing}` not found in the file")
