"""Writing RustGPT's .bin: the bytes built by hand, and what a document cannot hold."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format import CheckpointError
from rustgpt_format.bincode import ADAM, ARRAY, CACHE, LAYER_FIELDS, decode, encode
from rustgpt_format.float32 import wire_numbers, wire_scalar
from tests.rustgpt_format.bincode.handmade import (
    SMALL,
    VOCAB,
    adam_bytes,
    array_bytes,
    f32_bytes,
    small_document,
    varint_bytes,
)


def test_encode_writes_the_bytes_built_by_hand() -> None:
    assert encode(small_document()) == SMALL


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, b"\x00"),
        (250, b"\xfa"),  # the largest single byte
        (251, b"\xfb\xfb\x00"),
        (65535, b"\xfb\xff\xff"),
        (65536, b"\xfc\x00\x00\x01\x00"),
        (2**32 - 1, b"\xfc\xff\xff\xff\xff"),
        (2**32, b"\xfd\x00\x00\x00\x00\x01\x00\x00\x00"),
        (2**64 - 1, b"\xfd" + b"\xff" * 8),
    ],
)
def test_usize_varint(number: int, expected: bytes) -> None:
    document = small_document()
    document["network"][0]["LayerNorm"]["optimizer_gamma"]["timestep"] = number
    data = encode(document)
    assert SMALL.replace(varint_bytes(300), expected, 1) == data
    assert decode(data)["network"][0]["LayerNorm"]["optimizer_gamma"]["timestep"] == number


@pytest.mark.parametrize("kind", list(LAYER_FIELDS))
def test_field_tables_follow_the_layer_classes(kind: str) -> None:
    layer = getattr(rf, kind)
    table = LAYER_FIELDS[kind]
    assert tuple(name for name, _ in table) == tuple(layer.RUST_FIELDS)
    assert {name for name, field in table if field == ARRAY} == set(layer.SHAPES)
    assert {name for name, field in table if field == CACHE} == set(layer.CACHES)
    assert {name for name, field in table if field == ADAM} == set(layer.OPTIMIZERS)


def test_lists_and_two_dimensional_arrays_are_written_like_flat_float32() -> None:
    document = small_document()
    gamma = document["network"][0]["LayerNorm"]["gamma"]
    gamma["data"] = [1, 2.5]
    assert encode(document) == SMALL
    gamma["data"] = np.array([[1.0, 2.5]], dtype=np.float32)
    assert encode(document) == SMALL


def test_numbers_are_read_as_the_json_reader_reads_them() -> None:
    # RustGPT's JSON says 0.9 for the float32 nearest 0.9; parse gives the float 0.9.
    document = small_document()
    adam = document["network"][0]["LayerNorm"]["optimizer_gamma"]
    adam.update(beta1=0.9, beta2=0.999, epsilon=1e-8)
    adam["m"]["data"] = [7.038531e-26, -0.0]  # the double-rounding float32, and -0
    data = encode(document)
    moment = b"\x01\x01\x02\x02" + struct.pack("<I", 0x15AE43FD) + f32_bytes(-0.0)
    gamma = (
        f32_bytes(0.9)
        + f32_bytes(0.999)
        + f32_bytes(1e-8)
        + varint_bytes(300)
        + moment
        + array_bytes(1, 2)
    )
    norm = f32_bytes(1e-5) + array_bytes(1, 2, [1.0, 2.5]) + array_bytes(1, 2) + b"\0\0\0" + gamma
    assert data == VOCAB + varint_bytes(1) + varint_bytes(3) + norm + adam_bytes(1, 2)


def test_json_fragments_of_the_dialect_writer_are_written_as_their_float32() -> None:
    odd = np.array([0x15AE43FD, 0x95AE43FD], dtype=np.uint32).view(np.float32)
    document = small_document()
    norm = document["network"][0]["LayerNorm"]
    norm["gamma"]["data"] = wire_numbers(odd)
    norm["epsilon"] = wire_scalar(float(odd[1]))
    assert isinstance(norm["gamma"]["data"][0], orjson.Fragment)
    decoded = decode(encode(document))["network"][0]["LayerNorm"]
    assert decoded["gamma"]["data"].view(np.uint32).tolist() == [0x15AE43FD, 0x95AE43FD]
    assert np.float32(decoded["epsilon"]).view(np.uint32) == 0x95AE43FD


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d["vocab"].pop("words"), "vocab.words", "missing required key"),
        (
            lambda d: d["network"].append({"Dropout": {}}),
            "network[1]",
            "expected a layer tagged by its kind (Embeddings, SelfAttention, FeedForward, "
            "LayerNorm, OutputProjection), found an object",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"].update(epsilon="0.1"),
            "network[0].LayerNorm.epsilon",
            "expected a float32, found string '0.1'",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"].update(epsilon=1e39),
            "network[0].LayerNorm.epsilon",
            "expected a finite float32 (magnitude below 3.4028235e38), found 1e+39",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["optimizer_beta"].update(timestep=-1),
            "network[0].LayerNorm.optimizer_beta.timestep",
            "expected an unsigned 64-bit integer, found -1",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["beta"].update(dim=[2, 2]),
            "network[0].LayerNorm.beta.data",
            "expected 4 numbers (dim [2, 2]), found 2",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["beta"].update(data=[0.5, None]),
            "network[0].LayerNorm.beta.data[1]",
            "expected a number, found null",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["beta"].update(data=np.zeros(2)),
            "network[0].LayerNorm.beta.data",
            "expected a float32 ndarray or a list of numbers, found an ndarray of dtype float64 "
            "and shape (2,)",
        ),
        (
            lambda d: d["vocab"]["decode"].update({"x": "hi"}),
            'vocab.decode["x"]',
            "expected a decimal token id as key, found string 'x'",
        ),
    ],
)
def test_encode_refuses_a_document_it_cannot_write(change: Any, path: str, message: str) -> None:
    document = small_document()
    change(document)
    with pytest.raises(CheckpointError) as caught:
        encode(document)
    assert (caught.value.path, caught.value.message) == (path, message)
