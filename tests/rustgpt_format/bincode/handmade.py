"""bincode written by hand from bincode 2's rules, and helpers the .bin tests share.

The bytes a test expects are built here (``varint_bytes``, ``string_bytes``,
``array_bytes``, ...), independently of the package's writer. The files in
``tests/fixtures/bin/`` were written by the real RustGPT (see their README).
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rustgpt_format.bincode import encode
from rustgpt_format.codec import parse
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import random_checkpoint
from rustgpt_format.migrations import migrated_checkpoint
from tests.rustgpt_format.test_dialect import expected_after_v0

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "bin"
TINY = (FIXTURES / "tiny.rustgpt.bin").read_bytes()
TRAINED = (FIXTURES / "tiny-trained.rustgpt.bin").read_bytes()


# --- bincode by hand ------------------------------------------------------------------


def varint_bytes(number: int) -> bytes:
    if number <= 250:
        return bytes([number])
    if number < 1 << 16:
        return b"\xfb" + number.to_bytes(2, "little")
    if number < 1 << 32:
        return b"\xfc" + number.to_bytes(4, "little")
    return b"\xfd" + number.to_bytes(8, "little")


def string_bytes(text: str) -> bytes:
    return varint_bytes(len(text.encode())) + text.encode()


def f32_bytes(value: float) -> bytes:
    return struct.pack("<f", value)


def array_bytes(rows: int, cols: int, values: list[float] | None = None) -> bytes:
    values = [0.0] * (rows * cols) if values is None else values
    return (
        b"\x01"
        + varint_bytes(rows)
        + varint_bytes(cols)
        + varint_bytes(len(values))
        + b"".join(map(f32_bytes, values))
    )


def adam_bytes(rows: int, cols: int, timestep: int = 0) -> bytes:
    return (
        f32_bytes(0.9)
        + f32_bytes(0.999)
        + f32_bytes(1e-8)
        + varint_bytes(timestep)
        + 2 * array_bytes(rows, cols)
    )


VOCAB = (
    varint_bytes(2) + string_bytes("hi") + varint_bytes(0) + string_bytes("</s>") + varint_bytes(1)
    + varint_bytes(2) + varint_bytes(0) + string_bytes("hi") + varint_bytes(1) + string_bytes("</s>")
    + varint_bytes(2) + string_bytes("hi") + string_bytes("</s>")
)  # fmt: skip
LAYER_NORM = (
    varint_bytes(3) + f32_bytes(1e-5) + array_bytes(1, 2, [1.0, 2.5]) + array_bytes(1, 2)
    + b"\x00\x00\x00" + adam_bytes(1, 2, timestep=300) + adam_bytes(1, 2)
)  # fmt: skip
SMALL = VOCAB + varint_bytes(1) + LAYER_NORM
"""A vocab of two words and one LayerNorm (a valid .bin, not a valid model)."""


def small_document() -> dict[str, Any]:
    def array(values: list[float]) -> dict[str, Any]:
        return {"v": 1, "dim": [1, 2], "data": np.array(values, dtype=np.float32)}

    def adam(timestep: int) -> dict[str, Any]:
        scalars = {
            name: float(np.float32(x)) for name, x in zip(BETAS, (0.9, 0.999, 1e-8), strict=False)
        }
        return {**scalars, "timestep": timestep, "m": array([0, 0]), "v": array([0, 0])}

    norm = {
        "epsilon": float(np.float32(1e-5)),
        "gamma": array([1.0, 2.5]),
        "beta": array([0, 0]),
        "cached_input": None,
        "cached_mean": None,
        "cached_std": None,
        "optimizer_gamma": adam(300),
        "optimizer_beta": adam(0),
    }
    vocab = {"encode": {"hi": 0, "</s>": 1}, "decode": {"0": "hi", "1": "</s>"}}
    return {"vocab": {**vocab, "words": ["hi", "</s>"]}, "network": [{"LayerNorm": norm}]}


BETAS = ("beta1", "beta2", "epsilon")


def same(ours: Any, theirs: Any, path: str = "") -> None:
    """Equal structure, key order (but the vocab maps'), float32 bits and integers."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        if path in (".vocab.encode", ".vocab.decode"):
            assert sorted(ours) == sorted(theirs), path
        else:
            assert list(ours) == list(theirs), path
        for key in theirs:
            same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            same(mine, other, f"{path}[{index}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype == np.float32, path
        assert ours.shape == theirs.shape, path
        assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32)), path
    elif isinstance(theirs, float):
        # JSON holds the shortest text of the float32; the .bin its exact value.
        assert type(ours) is float and ours == float(np.float32(ours)), path
        assert np.float32(ours).view(np.uint32) == np.float32(theirs).view(np.uint32), path
    else:
        assert type(ours) is type(theirs) and ours == theirs, (path, ours, theirs)


def in_id_order(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its vocab maps in id order (RustGPT writes them in random order)."""
    vocab = document["vocab"]
    encode_map = dict(sorted(vocab["encode"].items(), key=lambda item: item[1]))
    decode_map = dict(sorted(vocab["decode"].items(), key=lambda item: int(item[0])))
    return {**document, "vocab": {**vocab, "encode": encode_map, "decode": decode_map}}


def rewritten(document: dict[str, Any]) -> dict[str, Any]:
    """Migrated to 1.0, then the dialect writer's version-0 document of it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checkpoint, _ = migrated_checkpoint(document)
        return dict(parse(to_rustgpt(checkpoint)))


kept_by_the_dialect = expected_after_v0


def bin_with_words(count: int) -> bytes:
    document = parse(to_rustgpt(random_checkpoint(
        vocab_size=count, embedding_dim=2, hidden_dim=256, max_seq_len=2, middle=()
    )))  # fmt: skip
    return encode(document)
