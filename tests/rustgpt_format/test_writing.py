"""save and dumps check a checkpoint changed after construction before a byte is written.

Pydantic validates a model when it is built, not when a field is assigned or an array
written into: a checkpoint can be broken after construction (or after loading) and
still be a ``Checkpoint``. The writers check it against every rule the reader applies
first, so nothing is written that ``load`` would refuse, in any form, and the file
already at the path stays as it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint


def replace_a_layer(checkpoint: rf.Checkpoint) -> None:
    checkpoint.network[0] = checkpoint.network[-1]  # §6.1: OutputProjection first


def drop_the_output(checkpoint: rf.Checkpoint) -> None:
    checkpoint.network.pop()  # §6.1: a LayerNorm last


def assign_a_wrong_shape(checkpoint: rf.Checkpoint) -> None:
    attention = checkpoint.network[1]
    assert isinstance(attention, rf.SelfAttention)
    attention.w_q = np.zeros((3, 3), np.float32)  # §6.2: d is 4


def write_a_nan(checkpoint: rf.Checkpoint) -> None:
    checkpoint.network[0].token_embeddings[1, 0] = np.nan  # type: ignore[union-attr]


def write_an_infinity(checkpoint: rf.Checkpoint) -> None:
    checkpoint.network[5].b_out[0, 2] = -np.inf  # type: ignore[union-attr]


def wrong_moment_shape(checkpoint: rf.Checkpoint) -> None:
    attention = checkpoint.network[1]
    assert isinstance(attention, rf.SelfAttention)
    attention.optimizer_w_k = rf.AdamState.fresh((4, 3))  # §6.3: w_k is (4, 4)


BREAKAGES: list[tuple[Callable[[rf.Checkpoint], None], str, str]] = [
    # (what is done after construction, path of the error, message)
    (replace_a_layer, "network[0].type", "expected Embeddings first, found OutputProjection"),
    (drop_the_output, "network[4].type", "expected OutputProjection last, found LayerNorm"),
    (
        assign_a_wrong_shape,
        "network[1].w_q",
        "expected shape (4, 4) (embedding_dim = 4), found (3, 3)",
    ),
    (
        write_a_nan,
        "network[0].token_embeddings",
        "expected a finite float32 (magnitude below 3.4028235e38) at [1, 0], found nan",
    ),
    (
        write_an_infinity,
        "network[5].b_out",
        "expected a finite float32 (magnitude below 3.4028235e38) at [0, 2], found -inf",
    ),
    (
        wrong_moment_shape,
        "network[1].optimizer_w_k.m",
        "expected shape (4, 4) (that of w_k), found (4, 3)",
    ),
]

SUFFIXES = ["model.json", "model.json.gz", "model.safetensors", "model.bin"]


def loaded(path: Path) -> rf.Checkpoint:
    """A checkpoint as read back from ``path`` (a .bin is RustGPT's: it is migrated)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        return rf.load(path)


@pytest.mark.parametrize("name", SUFFIXES)
@pytest.mark.parametrize(("breakage", "path", "message"), BREAKAGES)
def test_save_refuses_a_checkpoint_broken_after_construction_and_keeps_the_old_file(
    tmp_path: Path,
    name: str,
    breakage: Callable[[rf.Checkpoint], None],
    path: str,
    message: str,
) -> None:
    target = tmp_path / name
    rf.save(tiny_checkpoint(), target)
    before = target.read_bytes()
    broken = loaded(target)  # a checkpoint read from a file, then changed
    breakage(broken)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.save(broken, target)
    assert (caught.value.path, caught.value.message) == (path, message)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left


@pytest.mark.parametrize("form", ["json", "json.gz", "safetensors", "rustgpt.bin"])
@pytest.mark.parametrize(("breakage", "path", "message"), BREAKAGES)
def test_dumps_refuses_a_checkpoint_broken_after_construction(
    form: str, breakage: Callable[[rf.Checkpoint], None], path: str, message: str
) -> None:
    broken = tiny_checkpoint()
    breakage(broken)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.dumps(broken, form=form)
    assert (caught.value.path, caught.value.message) == (path, message)


def test_the_rustgpt_dialect_of_json_is_checked_too(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), target, dialect="rustgpt")
    before = target.read_bytes()
    broken = tiny_checkpoint()
    replace_a_layer(broken)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.save(broken, target, dialect="rustgpt")
    assert caught.value.path == "network[0].type"
    assert target.read_bytes() == before


def test_checking_does_not_change_what_is_written() -> None:
    """The check reads the checkpoint; it neither copies its arrays into it nor rounds them."""
    checkpoint = tiny_checkpoint()
    array = checkpoint.network[0].token_embeddings  # type: ignore[union-attr]
    first = rf.dumps(checkpoint)
    assert checkpoint.network[0].token_embeddings is array  # type: ignore[union-attr]
    assert rf.dumps(checkpoint) == first
    assert rf.loads(first) == checkpoint
