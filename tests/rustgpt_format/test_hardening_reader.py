"""The JSON reader's edges (issue 15): documents that are not containers, keys spelled
with escapes, errors placed in the file the user has, huge integers, and the memory
an invalid document may cost."""

from __future__ import annotations

import gc
import io
import random
import tracemalloc
from pathlib import Path

import numpy as np
import orjson
import pydantic
import pytest

import rustgpt_format as rf
from rustgpt_format import codec
from rustgpt_format.cli import run
from rustgpt_format.errors import FieldError
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.float32 import describe, floats_from_numbers, number_text, to_float32

TEXT = codec.encode(tiny_checkpoint())
INVALID = "expected a JSON document, found invalid JSON: "
INFINITY = INVALID + "number is infinity when parsed as double: line 1 column 1 (char 0)"

# a whole document that is not an object or an array -> the message
BARE: list[tuple[bytes, str]] = [
    (b"NaN", "expected a finite number, found nan"),
    (b"-Infinity", "expected a finite number, found -inf"),
    (b" Infinity\n", "expected a finite number, found inf"),
    (b"1e999", INFINITY),  # the standard library reads it as inf, a float, not a constant
    (b"1" + b"0" * 400, INFINITY),  # the standard library reads it as an int
    (b"1" + b"0" * 5000, INFINITY),  # past Python's 4300-digit limit for int(str)
]


@pytest.mark.parametrize(("text", "message"), BARE, ids=lambda value: repr(value)[:14])
def test_a_bare_constant_or_huge_number_is_refused_not_a_type_error(
    text: bytes, message: str, tmp_path: Path
) -> None:
    """The fallback that names a NaN walked the document as a container (a TypeError)."""
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text)
    assert (caught.value.path, caught.value.message) == ("", message)
    path = tmp_path / "bare.json"
    path.write_bytes(text)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(path)
    assert caught.value.message == message
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(["validate", str(path)], stdout, stderr) == 1
    assert "Traceback" not in stderr.getvalue() and message in stderr.getvalue()


@pytest.mark.parametrize(
    "key",
    [b'"data"', b'"d\\u0061ta"', b'"\\u0064\\u0061\\u0074\\u0061"', b'"dat\\u0061"'],
    ids=["plain", "one escape", "all escaped", "last escaped"],
)
def test_an_integer_minus_zero_keeps_its_sign_however_the_key_is_spelled(key: bytes) -> None:
    """A parser reads -0 as the integer 0: only the array reader, which sees the text,
    can give it its sign, and it must find the array under any spelling of its key."""
    start = TEXT.index(b'"data":[') + len(b'"data":[')
    end = TEXT.index(b",", start)
    text = TEXT[: start - len(b'"data":[')] + key + b":[-0" + TEXT[end:]
    data = codec.parse(text)["network"][0]["token_embeddings"]["data"]
    assert data.view(np.uint32)[0] == 0x80000000  # -0.0, not +0.0


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text + b"x",  # content after the document, past every array
        lambda text: text.replace(b"]},", b"]}", 1),  # a comma missing after the first array
        lambda text: text.replace(b'"beta1":0.9', b'"beta1":09', 1),  # a leading zero
        lambda text: text.replace(b"]", b"]\n\n", 3) + b"\n}",  # lines added before the error
        lambda text: text.replace(b'"w0"', b'"w\xff"', 1),  # not UTF-8, after an array
    ],
    ids=["trailing", "missing comma", "leading zero", "lines", "not UTF-8"],
)
def test_an_invalid_document_is_placed_as_the_json_parser_places_it(damage) -> None:  # type: ignore[no-untyped-def]
    """The arrays are read apart from the rest; the error must still name the line,
    column and character of the file, as orjson reading the whole file does."""
    text = damage(TEXT)
    with pytest.raises(orjson.JSONDecodeError) as reference:
        orjson.loads(text)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text)
    assert caught.value.message == INVALID + str(reference.value)


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_random_damage_is_placed_as_the_json_parser_places_it(indent: int | None) -> None:
    """300 seeded damages (a byte changed, cut or added) of a document with non-ASCII
    words: wherever orjson refuses the whole text, the message is orjson's own."""
    rng = random.Random(15)
    text = codec.encode(tiny_checkpoint(), indent=indent)
    text = text.replace(b'"w0"', '"wé€0"'.encode(), 1)
    compared = 0
    for _ in range(300):
        damaged = bytearray(text)
        at = rng.randrange(len(damaged))
        byte = bytes([rng.choice(b'x,]}{[:"\n 0-')])
        damaged[at : at + rng.randrange(3)] = byte if rng.random() < 0.7 else b""
        try:
            orjson.loads(bytes(damaged))
            continue
        except orjson.JSONDecodeError as error:
            expected = INVALID + str(error)
        with pytest.raises(rf.CheckpointError) as caught:
            codec.parse(bytes(damaged))
        if caught.value.message.startswith(INVALID):  # not a NaN or a bound named first
            assert caught.value.message == expected
            compared += 1
    assert compared > 100


def test_an_invalid_document_after_a_large_array_is_not_parsed_into_python_floats() -> None:
    """One million numbers, then a syntax error: naming the error took a second parse of
    the whole text, building a million Python floats (some 60 MB) for an error message."""
    numbers = b"0.5," * 999_999 + b"0.5"
    text = TEXT.replace(b'"dim":[3,4]', b'"dim":[1,1000000]', 1)
    start = text.index(b'"data":[') + len(b'"data":[')
    text = text[:start] + numbers + text[text.index(b"]", start) :] + b"x"
    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(rf.CheckpointError) as caught:
            codec.parse(text)
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.message.startswith(INVALID + "unexpected content after document")
    assert used < 3 * len(text)


# --- huge integers in messages --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12, "12"),
        (-2.5, "-2.5"),
        (10**39, "1" + "0" * 39),  # still shown: the last of 40 digits
        (10**40, "an integer of 41 digits"),
        (-(10**400) + 1, "an integer of 400 digits"),
        (10**5000, "an integer of 5001 digits"),  # Python would refuse to print it
    ],
    ids=["small int", "float", "39 digits", "41 digits", "400 digits", "5001 digits"],
)
def test_a_number_is_shown_by_its_digits_until_they_stop_helping(value: float, text: str) -> None:
    assert number_text(value) == text
    assert describe(value) == text


def test_a_huge_integer_is_refused_with_a_message_not_a_value_error() -> None:
    """Python cannot turn an integer of more than 4300 digits into text: a message
    quoting one raised ValueError instead of naming the element."""
    with pytest.raises(FieldError) as caught:
        floats_from_numbers([0.5, 10**5000])
    assert (caught.value.message, caught.value.parts) == (
        "expected a finite float32 (magnitude below 3.4028235e38), found an integer of 5001 digits",
        (1,),
    )
    with pytest.raises(FieldError) as caught:
        to_float32(-(10**5000))
    assert caught.value.message == (
        "expected a finite float32 (magnitude below 3.4028235e38), found an integer of 5001 digits"
    )


@pytest.mark.parametrize(
    ("size", "found"),
    [(2**64, "18446744073709551616"), (10**5000, "an integer of 5001 digits")],
    ids=["2^64", "5001 digits"],
)
def test_an_array_dimension_past_a_usize_is_refused(size: int, found: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        pydantic.TypeAdapter(rf.Float32Array).validate_python(
            {"v": 1, "dim": [size, size], "data": []}
        )
    assert caught.value.errors()[0]["msg"] == (
        f"Value error, expected a size below 2^64 (a usize), found {found}"
    )
