"""Every finite float32 survives a save and load, bit for bit, through both readers."""

from __future__ import annotations

import json
import warnings
from typing import Annotated

import numpy as np
import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import rustgpt_format as rf
from rustgpt_format.boundary import validated
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.float32 import ARRAY2_JSON_SCHEMA, AS_FLOAT32, FINITE_ARRAYS, Float32Array
from tests.strategies import SPECIAL_BITS


def with_values(values: np.ndarray) -> rf.Checkpoint:
    """The tiny checkpoint with its token embeddings' first row set to ``values``."""
    checkpoint = tiny_checkpoint()
    table = np.zeros((3, len(values)), np.float32)
    table[0] = values
    embeddings = checkpoint.network[0]
    assert isinstance(embeddings, rf.Embeddings)
    d = len(values)
    return rf.Checkpoint(
        config=checkpoint.config.model_copy(update={"embedding_dim": d}),
        vocab=checkpoint.vocab,
        network=[
            rf.Embeddings(
                token_embeddings=table, positional_embeddings=np.zeros((2, d), np.float32)
            ),
            rf.OutputProjection(
                w_out=np.zeros((d, 3), np.float32), b_out=np.zeros((1, 3), np.float32)
            ),
        ],
    )


def texts_of_first_row(data: bytes) -> list[bytes]:
    start = data.index(b'"data":[') + len(b'"data":[')
    return data[start : data.index(b"]", start)].split(b",")


def read_back(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    data = rf.dumps(with_values(values))
    ours = rf.loads(data).network[0].token_embeddings[0]  # type: ignore[union-attr]
    # A float64-then-float32 reader, such as serde_json without float_roundtrip:
    document = orjson.loads(data)
    float64_path = np.array(document["network"][0]["token_embeddings"]["data"], np.float64)
    theirs = float64_path.astype(np.float32)[: len(values)]
    return ours, theirs, texts_of_first_row(data)


@pytest.mark.parametrize("bits", SPECIAL_BITS, ids=[hex(b) for b in SPECIAL_BITS])
def test_special_values_survive_both_readers(bits: int) -> None:
    value = np.array([bits], np.uint32).view(np.float32)
    ours, theirs, _ = read_back(value)
    assert ours.view(np.uint32)[0] == bits
    assert theirs.view(np.uint32)[0] == bits


def test_random_bit_patterns_survive_both_readers() -> None:
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = values[np.isfinite(values)]
    ours, theirs, _ = read_back(values)
    assert np.array_equal(ours.view(np.uint32), values.view(np.uint32))
    assert np.array_equal(theirs.view(np.uint32), values.view(np.uint32))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, b"0.1"),
        (-0.0, b"-0.0"),
        (1e-8, b"1e-8"),
        (3.4028234663852886e38, b"3.4028235e+38"),
        (1.401298464324817e-45, b"1e-45"),
        (123456.7, b"123456.7"),
        (1.0, b"1.0"),
    ],
)
def test_numbers_are_written_in_their_shortest_float32_form(value: float, text: bytes) -> None:
    _, _, texts = read_back(np.array([value], np.float32))
    assert texts[0] == text


def test_the_double_rounding_pair_is_written_long_and_read_from_its_short_text() -> None:
    pair = np.array([0x15AE43FD, 0x95AE43FD], np.uint32).view(np.float32)
    _, _, texts = read_back(pair)
    assert texts[:2] == [b"7.038530691851209e-26", b"-7.038530691851209e-26"]
    # A writer that emits the shortest text (RustGPT's serde_json does) is read exactly.
    short = rf.dumps(with_values(pair)).replace(b"7.038530691851209e-26", b"7.038531e-26")
    ours = rf.loads(short).network[0].token_embeddings[0]  # type: ignore[union-attr]
    assert [hex(b) for b in ours.view(np.uint32)[:2]] == ["0x15ae43fd", "0x95ae43fd"]


@pytest.mark.parametrize(
    ("text", "bits"),
    [
        (b"1e20", 0x60AD78EC),
        (b"1e+20", 0x60AD78EC),
        (b"1E20", 0x60AD78EC),
        (b"3", 0x40400000),
        (b"-0", 0x80000000),
        (b"-0.0", 0x80000000),
        (b"0e-5", 0x00000000),  # a minus in the exponent is not a sign
        (b"-0e3", 0x80000000),
        (b"0.10000000149011612", 0x3DCCCCCD),
    ],
)
def test_readers_accept_every_number_spelling(text: bytes, bits: int) -> None:
    data = rf.dumps(with_values(np.array([0.5], np.float32)))
    changed = data.replace(b'"data":[0.5,', b'"data":[' + text + b",", 1)
    assert changed != data
    value = rf.loads(changed).network[0].token_embeddings[0, 0]  # type: ignore[union-attr]
    assert np.array([value], np.float32).view(np.uint32)[0] == bits


def test_scalars_are_float32_and_written_shortest() -> None:
    state = rf.AdamState.fresh((1, 1), epsilon=1e-8)
    assert state.epsilon == float(np.float32(1e-8))
    checkpoint = tiny_checkpoint()
    assert b'"epsilon":1e-8' in rf.dumps(checkpoint)
    assert b'"epsilon":0.00001' in rf.dumps(checkpoint)  # orjson's notation for 1e-5


ODD_BITS = 0x15AE43FD
ODD = float(np.array([ODD_BITS], np.uint32).view(np.float32)[0])
ODD_LONG, ODD_SHORT = b"7.038530691851209e-26", b"7.038531e-26"
ODD_SHORT_VALUE = float(ODD_SHORT)  # what a float64 reader makes of the short text


def bits_of(value: float) -> int:
    return int(np.array([value], np.float32).view(np.uint32)[0])


def with_odd_scalars() -> rf.Checkpoint:
    """The tiny checkpoint with the double-rounding float32 in every kind of scalar."""
    checkpoint = tiny_checkpoint()
    norm = checkpoint.network[2]
    assert isinstance(norm, rf.LayerNorm) and norm.optimizer_gamma is not None
    norm.epsilon = ODD
    norm.optimizer_gamma.beta1 = ODD
    norm.optimizer_gamma.beta2 = ODD
    norm.optimizer_gamma.epsilon = ODD
    return checkpoint


def odd_scalars(document: dict) -> list[float]:  # type: ignore[type-arg]
    layer = document["network"][2]
    state = layer["optimizer_gamma"]
    return [layer["epsilon"], state["beta1"], state["beta2"], state["epsilon"]]


def test_a_scalar_of_the_double_rounding_pair_survives_both_readers() -> None:
    """Scalars (epsilon, Adam's betas) follow §2 as arrays do: written long, read exactly."""
    data = rf.dumps(with_odd_scalars())
    assert data.count(ODD_LONG) == 4 and ODD_SHORT not in data
    back = rf.loads(data).network[2]
    assert isinstance(back, rf.LayerNorm) and back.optimizer_gamma is not None
    ours = [back.epsilon, back.optimizer_gamma.beta1, back.optimizer_gamma.beta2]
    assert [bits_of(v) for v in [*ours, back.optimizer_gamma.epsilon]] == [ODD_BITS] * 4
    # A float64-then-float32 reader (Python's json, then np.float32), as serde_json reads:
    theirs = [np.float32(value) for value in odd_scalars(json.loads(data))]
    assert [bits_of(v) for v in theirs] == [ODD_BITS] * 4


@pytest.mark.parametrize("dialect", ["rustgpt-checkpoint", "rustgpt"])
def test_rustgpts_short_text_in_a_scalar_position_reads_as_the_pair(dialect: str) -> None:
    """RustGPT writes 7.038531e-26 (shortest); through a float64 it is one ulp off."""
    long = rf.dumps(with_odd_scalars(), dialect=dialect)  # type: ignore[arg-type]
    short = long.replace(ODD_LONG, ODD_SHORT)
    assert short.count(ODD_SHORT) == 4
    assert bits_of(float(ODD_SHORT)) != ODD_BITS  # the neighbour a float64 reader makes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        back = rf.loads(short).network[2]
    assert isinstance(back, rf.LayerNorm) and back.optimizer_gamma is not None
    state = back.optimizer_gamma
    found = [back.epsilon, state.beta1, state.beta2, state.epsilon]
    assert [hex(bits_of(v)) for v in found] == [hex(ODD_BITS)] * 4


TOO_BIG = "expected a finite float32 (magnitude below 3.4028235e38), found "
NOT_A_NUMBER = "expected a number, found "

# (the first number of an array as JSON text; the message from a file, then from a Python
# document, where they differ: the JSON reader reads a long integer as a float64)
REFUSED_NUMBERS: list[tuple[bytes, str, str | None]] = [
    (b"null", NOT_A_NUMBER + "null", None),
    (b"true", NOT_A_NUMBER + "true", None),
    (b"false", NOT_A_NUMBER + "false", None),
    (b'"' + b"x" * 40 + b'"', NOT_A_NUMBER + "string '" + "x" * 40 + "'", None),  # shown whole
    (b'"' + b"y" * 41 + b'"', NOT_A_NUMBER + "string '" + "y" * 37 + "...'", None),  # cut
    (b'{"a":1}', NOT_A_NUMBER + "an object", None),
    (b"[1,2]", NOT_A_NUMBER + "an array of 2 items", None),
    (b"3.5e38", TOO_BIG + "3.5e+38", None),
    (b"-3.5e38", TOO_BIG + "-3.5e+38", None),
    (b"1" + b"0" * 39, TOO_BIG + "1e+39", TOO_BIG + "1" + "0" * 39),  # 40 digits: written out
    (b"9" * 40, TOO_BIG + "1e+40", TOO_BIG + "9" * 40),
    (b"1" + b"0" * 40, TOO_BIG + "1e+40", TOO_BIG + "an integer of 41 digits"),  # by its length
    (b"9" * 41, TOO_BIG + "1e+41", TOO_BIG + "an integer of 41 digits"),
    (b"1" + b"0" * 99, TOO_BIG + "1e+99", TOO_BIG + "an integer of 100 digits"),
    (b"-" + b"9" * 99, TOO_BIG + "-1e+99", TOO_BIG + "an integer of 99 digits"),
]


def first_number_replaced(text: bytes) -> tuple[bytes, dict]:  # type: ignore[type-arg]
    data = rf.dumps(tiny_checkpoint())
    marker = b'"token_embeddings":{"v":1,"dim":[3,4],"data":['
    start = data.index(marker) + len(marker)
    end = data.index(b",", start)
    changed = data[:start] + text + data[end:]
    document = orjson.loads(data)
    document["network"][0]["token_embeddings"]["data"][0] = json.loads(text)
    return changed, document


@pytest.mark.parametrize(("text", "message", "python"), REFUSED_NUMBERS, ids=lambda x: str(x)[:30])
def test_a_refused_number_is_named_as_the_reader_saw_it(
    text: bytes, message: str, python: str | None
) -> None:
    """From a file and from a Python document, and without a warning from NumPy."""
    data, document = first_number_replaced(text)
    readers = [
        (lambda: rf.loads(data), message),
        (lambda: validated(rf.Checkpoint, document), python or message),
    ]
    for read, expected in readers:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an overflow warning from the float32 cast
            with pytest.raises(rf.CheckpointError) as caught:
                read()
        assert (caught.value.path, caught.value.message) == (
            "network[0].token_embeddings.data[0]",
            expected,
        )


def test_an_integer_beyond_float64_in_a_python_document_is_named_by_its_length() -> None:
    """Too large even for a float64 (JSON readers refuse its text outright)."""
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["network"][0]["token_embeddings"]["data"][1] = -(10**400)
    with pytest.raises(rf.CheckpointError) as caught:
        validated(rf.Checkpoint, document)
    assert (caught.value.path, caught.value.message) == (
        "network[0].token_embeddings.data[1]",
        TOO_BIG + "an integer of 401 digits",
    )


def sample_model() -> type[BaseModel]:
    """A caller's own model using the format's types, built when called (not at import)."""

    class Sample(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        weights: Float32Array
        scale: Annotated[float, AS_FLOAT32]
        rate: Annotated[float, Field(ge=0), AS_FLOAT32]

    return Sample


def test_a_callers_model_reads_the_wire_form_and_rounds_scalars_to_float32() -> None:
    sample = sample_model().model_validate(
        {
            "weights": {"v": 1, "dim": [1, 2], "data": [0.1, 2]},
            "scale": 0.1,
            "rate": ODD_SHORT_VALUE,
        }
    )
    assert sample.weights.dtype == np.float32 and sample.weights.shape == (1, 2)  # type: ignore[attr-defined]
    assert sample.scale == 0.10000000149011612  # type: ignore[attr-defined]
    assert bits_of(sample.rate) == ODD_BITS  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "scale",
    ["0.5", True, float("inf"), float("nan"), 3.5e38],
    ids=["text", "bool", "inf", "nan", "big"],
)
def test_a_callers_model_refuses_what_the_format_refuses(scale: object) -> None:
    with pytest.raises(ValidationError):
        sample_model().model_validate(
            {"weights": {"v": 1, "dim": [1, 1], "data": [0.0]}, "scale": scale, "rate": 0}
        )


def test_a_callers_model_writes_the_wire_form() -> None:
    model = sample_model()
    sample = model(weights=np.array([[0.5, ODD]], np.float32), scale=ODD, rate=0.25)
    python = sample.model_dump()
    assert isinstance(python["weights"], np.ndarray) and python["scale"] == ODD
    assert sample.model_dump(mode="json")["weights"] == {"v": 1, "dim": [1, 2], "data": [0.5, ODD]}
    wire = orjson.dumps(
        sample.model_dump(context={"wire": True}), option=orjson.OPT_SERIALIZE_NUMPY
    )
    assert wire == (
        b'{"weights":{"v":1,"dim":[1,2],"data":[0.5,'
        + ODD_LONG
        + b']},"scale":'
        + ODD_LONG
        + b',"rate":0.25}'
    )
    back = model.model_validate(orjson.loads(wire))
    assert bits_of(back.scale) == ODD_BITS  # type: ignore[attr-defined]
    assert back.weights.view(np.uint32).tolist() == sample.weights.view(np.uint32).tolist()  # type: ignore[attr-defined]


def test_a_callers_model_has_the_format_json_schema_of_numbers_and_arrays() -> None:
    schema = sample_model().model_json_schema()
    properties = schema["properties"]
    weights = properties["weights"]
    if "$ref" in weights:
        weights = schema["$defs"][weights["$ref"].split("/")[-1]]
    assert weights == ARRAY2_JSON_SCHEMA
    bound = 3.4028235677973366e38
    assert properties["scale"] == {
        "exclusiveMaximum": bound,
        "exclusiveMinimum": -bound,
        "title": "Scale",
        "type": "number",
    }
    assert properties["rate"] == {
        "exclusiveMaximum": bound,
        "minimum": 0.0,
        "title": "Rate",
        "type": "number",
    }


def test_an_empty_array_is_a_shape_like_any_other() -> None:
    """A dimension of 0 is a count (RustGPT can hold an empty Array2); no data follows."""
    sample = sample_model().model_validate(
        {"weights": {"v": 1, "dim": [0, 3], "data": []}, "scale": 1.0, "rate": 0}
    )
    assert sample.weights.shape == (0, 3)  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", ["v", "dim", "data"])
def test_an_array_without_one_of_its_keys_names_the_key(key: str) -> None:
    array = {"v": 1, "dim": [1, 1], "data": [0.5]}
    del array[key]
    with pytest.raises(rf.CheckpointError) as caught:
        validated(sample_model(), {"weights": array, "scale": 1.0, "rate": 0})
    assert (caught.value.path, caught.value.message) == (f"weights.{key}", "missing required key")


def test_arrays_can_be_left_out_of_the_wire_form() -> None:
    """context arrays=False: the document without its numbers (the safetensors header's)."""
    sample = sample_model()(weights=np.ones((2, 2), np.float32), scale=1.0, rate=0.5)
    assert sample.model_dump(context={"wire": True, "arrays": False})["weights"] is None
    assert sample.model_dump(context={"wire": True, "arrays": True})["weights"]["dim"] == [2, 2]


def test_a_bound_of_the_field_is_kept_in_the_json_schema() -> None:
    class Positive(BaseModel):
        epsilon: Annotated[float, Field(gt=0), AS_FLOAT32]

    assert Positive.model_json_schema()["properties"]["epsilon"] == {
        "exclusiveMaximum": 3.4028235677973366e38,
        "exclusiveMinimum": 0.0,
        "title": "Epsilon",
        "type": "number",
    }


DATA_LENGTH = "§2 data holds rows × cols numbers"

# (the array object, path under it, message, rule): refused from a Python document
REFUSED_ARRAYS: list[tuple[dict, str, str, str]] = [  # type: ignore[type-arg]
    (
        {"v": 1, "dim": [2**64, 1], "data": []},
        "dim[0]",
        "expected a size below 2^64 (a usize), found 18446744073709551616",
        "field",
    ),
    (
        {"v": 1, "dim": [1, 2**64 + 5], "data": []},
        "dim[1]",
        "expected a size below 2^64 (a usize), found 18446744073709551621",
        "field",
    ),
    (
        {"v": 1, "dim": [1, 2], "data": [0.5] * 3},
        "data",
        "expected 2 numbers (dim 1x2), found 3",
        DATA_LENGTH,
    ),
    (
        {"v": 1, "dim": [2, 3], "data": [0.5] * 5},
        "data",
        "expected 6 numbers (dim 2x3), found 5",
        DATA_LENGTH,
    ),
    (
        {"v": 1, "dim": [1, 1], "data": "abc"},
        "data",
        "expected an array of numbers, found string 'abc'",
        "field",
    ),
    (
        {"v": 1, "dim": [1, 1], "data": None},
        "data",
        "expected an array of numbers, found null",
        "field",
    ),
]


@pytest.mark.parametrize(("array", "path", "message", "rule"), REFUSED_ARRAYS)
def test_a_refused_array_object_is_named_at_its_key(
    array: dict,
    path: str,
    message: str,
    rule: str,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        validated(sample_model(), {"weights": array, "scale": 1.0, "rate": 0})
    assert (caught.value.path, caught.value.message) == (f"weights.{path}", message)
    assert [problem.rule for problem in caught.value.problems] == [rule]


def test_the_json_reader_gives_the_data_length_rule_too() -> None:
    data = rf.dumps(tiny_checkpoint()).replace(
        b'"dim":[3,4],"data":[', b'"dim":[3,4],"data":[0.5,', 1
    )
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(data)
    assert (caught.value.path, caught.value.message) == (
        "network[0].token_embeddings.data",
        "expected 12 numbers (dim 3x4), found 13",
    )
    assert [problem.rule for problem in caught.value.problems] == [DATA_LENGTH]


def nan_at(row: int, col: int, shape: tuple[int, int] = (2, 3)) -> np.ndarray:
    values = np.zeros(shape, np.float32)
    values[row, col] = np.nan
    return values


# (the weights given as a Python value, the message that refuses it)
REFUSED_VALUES: list[tuple[object, str]] = [
    (
        np.zeros((2, 2)),
        "expected a 2-D float32 ndarray, found an ndarray of dtype float64 and shape (2, 2)",
    ),
    (
        np.zeros(4, np.float32),
        "expected a 2-D float32 ndarray, found an ndarray of dtype float32 and shape (4,)",
    ),
    (
        np.zeros((1, 1, 1), np.float32),
        "expected a 2-D float32 ndarray, found an ndarray of dtype float32 and shape (1, 1, 1)",
    ),
    ([[0.5, 1.0]], "expected a float32 ndarray or an array object, found an array of 1 items"),
    ("weights", "expected a float32 ndarray or an array object, found string 'weights'"),
    (nan_at(1, 0), "expected a finite float32 (magnitude below 3.4028235e38) at [1, 0], found nan"),
    (nan_at(0, 2), "expected a finite float32 (magnitude below 3.4028235e38) at [0, 2], found nan"),
    (
        nan_at(3, 0, (4, 1)),
        "expected a finite float32 (magnitude below 3.4028235e38) at [3, 0], found nan",
    ),
    (
        -np.full((1, 2), np.inf, np.float32),
        "expected a finite float32 (magnitude below 3.4028235e38) at [0, 0], found -inf",
    ),
]


@pytest.mark.parametrize(("value", "message"), REFUSED_VALUES, ids=lambda x: str(x)[:20])
def test_a_refused_python_value_is_named(value: object, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        validated(sample_model(), {"weights": value, "scale": 1.0, "rate": 0})
    assert (caught.value.path, caught.value.message) == ("weights", message)


def test_an_ndarray_is_kept_as_a_c_contiguous_float32_array() -> None:
    transposed = np.arange(6, dtype=np.float32).reshape(2, 3).T  # a Fortran-ordered view
    sample = sample_model()(weights=transposed, scale=1.0, rate=0)
    assert sample.weights.flags["C_CONTIGUOUS"]  # type: ignore[attr-defined]
    assert sample.weights.tolist() == transposed.tolist()  # type: ignore[attr-defined]


def test_arrays_a_reader_found_finite_are_not_checked_again() -> None:
    """FINITE_ARRAYS names arrays already checked (one pass over a file's bytes)."""
    checked = nan_at(0, 0).T  # (a NaN stands for "not looked at again")
    document = {"weights": checked, "scale": 1.0, "rate": 0}
    with pytest.raises(ValidationError):
        sample_model().model_validate(document)
    sample = sample_model().model_validate(document, context={FINITE_ARRAYS: {id(checked)}})
    assert sample.weights.flags["C_CONTIGUOUS"]  # type: ignore[attr-defined]
    assert np.isnan(sample.weights[0, 0])  # type: ignore[attr-defined]


def test_the_element_named_is_the_first_that_is_not_a_number() -> None:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["network"][0]["token_embeddings"]["data"][5] = "x"
    with pytest.raises(rf.CheckpointError) as caught:
        validated(rf.Checkpoint, document)
    assert (caught.value.path, caught.value.message) == (
        "network[0].token_embeddings.data[5]",
        "expected a number, found string 'x'",
    )
