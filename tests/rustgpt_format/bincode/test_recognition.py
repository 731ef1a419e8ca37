"""Telling a .bin by its content, and never another form for one."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.bincode import encode, looks_like
from rustgpt_format.codec import encode as encode_json
from rustgpt_format.codec import parse
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from tests.rustgpt_format.bincode.handmade import (
    TINY,
    TRAINED,
    VOCAB,
    bin_with_words,
)


@pytest.mark.parametrize(
    "count", [9, 10, 13, 31, 32, 34, 91, 123, 251, 533], ids=lambda n: f"{n}-words"
)
def test_a_bin_whose_first_byte_looks_like_another_form_is_told_as_a_bin(count: int) -> None:
    # 9, 10, 13, 32: JSON white space; 31: gzip's first byte; 34, 91, 123: '"', '[', '{'.
    assert looks_like(bin_with_words(count))


def test_a_bin_whose_ninth_byte_is_a_brace_is_told_as_a_bin() -> None:
    # 300 words, "w123" first: fb 2c 01 | 04 "w123" | 7b (its id, 123 = "{"): the bytes
    # a safetensors file starts with (a length, then "{"). RustGPT reads it as its own.
    document = parse(to_rustgpt(random_checkpoint(
        vocab_size=300, embedding_dim=2, hidden_dim=256, max_seq_len=2, middle=()
    )))  # fmt: skip
    first = {"w123": 123}
    document["vocab"]["encode"] = first | document["vocab"]["encode"]
    data = encode(document)
    assert data[8:9] == b"{" and looks_like(data)


@pytest.mark.parametrize(
    "data", [TINY, TRAINED, bin_with_words(533)], ids=["tiny", "trained", "533-words"]
)
def test_real_bins_are_told_as_bins_by_their_whole_or_their_head(data: bytes) -> None:
    assert looks_like(data)
    for cut in (0, 1, 9, 64, 1000):  # the first bytes are consistent with a .bin that size
        assert looks_like(data[:cut], len(data))


def test_a_head_says_less_than_the_whole_file() -> None:
    # 64 bytes of JSON can read as a vocab so far: recognition needs the whole vocab.
    text = to_rustgpt(tiny_checkpoint())
    assert looks_like(text[:64], len(text)) and not looks_like(text)


@pytest.mark.parametrize(
    ("data", "truncated"),
    [(TRAINED[:20], "in the vocab"), (TRAINED[:52], "in the first layer")],
)
def test_a_truncated_bin_is_a_bin_only_when_its_vocab_is_whole(data: bytes, truncated: str) -> None:
    assert looks_like(data) == (truncated == "in the first layer")


def _safetensors(checkpoint: rf.Checkpoint) -> bytes:
    path = Path(tempfile.mkdtemp()) / "checkpoint.safetensors"
    rf.save(checkpoint, path)
    return path.read_bytes()


def _other_forms() -> dict[str, bytes]:
    checkpoint = tiny_checkpoint()
    texts = {
        "json": encode_json(checkpoint),
        "json-indented": encode_json(checkpoint, indent=2),
        "rustgpt-json": to_rustgpt(checkpoint),
        "rustgpt-json-indented": to_rustgpt(checkpoint, indent=2),
        "rustgpt-json-123-words": to_rustgpt(
            random_checkpoint(
                vocab_size=123, embedding_dim=2, hidden_dim=256, max_seq_len=2, middle=()
            )
        ),
    }
    return {
        **texts,
        **{f"{name}.gz": gzip.compress(text, mtime=0) for name, text in texts.items()},
        "safetensors": _safetensors(checkpoint),
        "safetensors-default-size": _safetensors(random_checkpoint()),
        "empty": b"",
        "bin-without-layers": VOCAB + b"\x00",
    }


OTHER_FORMS = _other_forms()


@pytest.mark.parametrize("name", list(OTHER_FORMS))
def test_other_forms_are_not_told_as_bins(name: str) -> None:
    assert not looks_like(OTHER_FORMS[name])
