"""Float32 values on the wire: the ndarray-serde array object and float32 scalars.

A JSON number is read as float32 exactly once (no double rounding, contract §2) and
written as the shortest text that reads back to the same float32. orjson does both
for every float32 except the pair ``0x15ae43fd`` / ``0x95ae43fd`` (±7.038531e-26),
whose shortest text comes back one ulp off through a float64: those two are written
with more digits and the shortest text is mapped back to them on reading.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import numpy as np
import orjson
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from rustgpt_format.errors import FieldError

FLOAT32_MAX_EXCLUSIVE = 3.4028235677973366e38
"""Decimals at or beyond this magnitude round to infinity as float32."""

_ODD_BITS = 0x15AE43FD  # the float32 whose shortest text double-rounds
_ODD_SHORT = float("7.038531e-26")  # what a float64 reader makes of its shortest text
_ODD_NEIGHBOUR = int(np.array([_ODD_SHORT], dtype=np.float32).view(np.uint32)[0])
_ODD_LONG = repr(float(np.array([_ODD_BITS], dtype=np.uint32).view(np.float32)[0]))
_ODD_TEXT = re.compile(rb"(?<=[\[,-])7\.038531e-26(?=[,\]])")
_ARRAY_KEYS = ("v", "dim", "data")
DATA_LENGTH = "§2 data holds rows × cols numbers"
"""The rule, across two keys of an array object, that JSON Schema cannot state."""


def describe(value: object) -> str:
    """Name a decoded JSON value the way a JSON reader would see it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, (list, tuple)):
        return f"an array of {len(value)} items"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype} and shape {value.shape}"
    if isinstance(value, int):
        return number_text(value)
    return repr(value)


_LONG_INTEGER = 10**40
"""Integers from here on (past any float32) are named by their length, not their digits."""


def number_text(value: float | int) -> str:
    """A number as an error message shows it; a huge integer by its count of digits.

    Python refuses to print an integer of more than 4300 digits, and a message holding
    one of 400 is no help.

    >>> number_text(12), number_text(2.5), number_text(-10**400)
    ('12', '2.5', 'an integer of 401 digits')
    """
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) < _LONG_INTEGER:
        return str(value)
    magnitude = abs(value)
    digits = int(magnitude.bit_length() * 0.30102999566398120)  # log10(2): exact or one short
    if magnitude >= 10**digits:
        digits += 1
    return f"an integer of {digits} digits"


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


# --- reading ------------------------------------------------------------------------


def floats_from_numbers(numbers: list[Any], *, only_numbers: bool = False) -> np.ndarray:
    """Convert decoded JSON numbers to a 1-D float32 array, or raise naming the element.

    ``only_numbers`` says the caller already knows every item is an int or a float
    (the fast reader saw only number characters in the text), which skips that check.
    """
    if not only_numbers and not set(map(type, numbers)) <= {float, int}:
        for index, value in enumerate(numbers):
            if type(value) not in (float, int):
                raise FieldError(f"expected a number, found {describe(value)}", index)
    try:
        with np.errstate(over="ignore"):
            values = np.array(numbers, dtype=np.float32)
    except OverflowError:  # an integer too large even for a float64
        values = np.array([float("inf") if abs(v) > 1e39 else v for v in numbers], np.float32)
    check_finite(values, numbers)
    return fix_double_rounding(values, numbers)


def check_finite(values: np.ndarray, numbers: list[Any] | None = None) -> None:
    """Raise naming the first element that is not a finite float32."""
    if values.size and not np.isfinite(values).all():
        index = int(np.flatnonzero(~np.isfinite(values.reshape(-1)))[0])
        found = values.reshape(-1)[index] if numbers is None else number_text(numbers[index])
        raise FieldError(
            f"expected a finite float32 (magnitude below 3.4028235e38), found {found}", index
        )


def fix_double_rounding(values: np.ndarray, numbers: list[Any]) -> np.ndarray:
    """Map the shortest text of the odd pair, read through float64, back to its float32."""
    bits = values.view(np.uint32)
    suspects = np.flatnonzero((bits & 0x7FFFFFFF) == _ODD_NEIGHBOUR)
    for index in suspects:
        if abs(numbers[index]) == _ODD_SHORT:
            bits[index] = (bits[index] & 0x80000000) | _ODD_BITS
    return values


def to_float32(value: float) -> float:
    """Round a number to float32, refusing what float32 cannot hold.

    >>> to_float32(0.1)
    0.10000000149011612
    """
    if abs(value) >= FLOAT32_MAX_EXCLUSIVE:
        raise FieldError(
            f"expected a finite float32 (magnitude below 3.4028235e38), found {number_text(value)}"
        )
    if abs(value) == _ODD_SHORT:
        return math.copysign(float(np.array([_ODD_BITS], np.uint32).view(np.float32)[0]), value)
    return float(np.float32(value))


def _array_from_wire(obj: dict[str, Any]) -> np.ndarray:
    unknown = [key for key in obj if key not in _ARRAY_KEYS]
    if unknown:
        raise FieldError("unknown key in an array object (keys are v, dim, data)", unknown[0])
    for key in _ARRAY_KEYS:
        if key not in obj:
            raise FieldError("missing required key", key)
    if obj["v"] != 1 or type(obj["v"]) is not int:
        raise FieldError(f"expected 1 (ndarray-serde version), found {describe(obj['v'])}", "v")
    dim = obj["dim"]
    if not isinstance(dim, list) or len(dim) != 2:
        raise FieldError(f"expected [rows, cols], found {describe(dim)}", "dim")
    for axis, size in enumerate(dim):
        if not _is_count(size):
            raise FieldError(
                f"expected a non-negative integer, found {describe(size)}", "dim", axis
            )
        if size >= 2**64:  # ndarray's usize; also keeps the counts below printable
            raise FieldError(
                f"expected a size below 2^64 (a usize), found {describe(size)}", "dim", axis
            )
    rows, cols = dim
    data = obj["data"]
    if isinstance(data, np.ndarray) and data.dtype == np.float32 and data.ndim == 1:
        values = data  # decoded and checked by the fast JSON reader
    elif isinstance(data, list):
        if len(data) != rows * cols:
            raise FieldError(
                f"expected {rows * cols} numbers (dim {rows}x{cols}), found {len(data)}",
                "data",
                rule=DATA_LENGTH,
            )
        try:
            values = floats_from_numbers(data)
        except FieldError as error:
            raise FieldError(error.message, "data", *error.parts) from None
    else:
        raise FieldError(f"expected an array of numbers, found {describe(data)}", "data")
    if values.size != rows * cols:
        raise FieldError(
            f"expected {rows * cols} numbers (dim {rows}x{cols}), found {values.size}",
            "data",
            rule=DATA_LENGTH,
        )
    return values.reshape(rows, cols)


FINITE_ARRAYS = "rustgpt_format.finite_arrays"
"""Validation context key: ids of ndarrays a reader has already found all finite.

The binary reader checks every tensor in one pass over the bytes it read; naming an
array here spares the validator a second pass. Arrays not named are checked.
"""


def _array_from_python(value: object, info: core_schema.ValidationInfo) -> np.ndarray:
    if isinstance(value, dict):
        return _array_from_wire(value)
    if not isinstance(value, np.ndarray):
        raise FieldError(f"expected a float32 ndarray or an array object, found {describe(value)}")
    if value.dtype != np.float32 or value.ndim != 2:
        raise FieldError(f"expected a 2-D float32 ndarray, found {describe(value)}")
    if info.context and id(value) in info.context.get(FINITE_ARRAYS, ()):
        return np.ascontiguousarray(value)
    try:
        check_finite(value)
    except FieldError as error:
        row, col = divmod(error.parts[0], value.shape[1]) if value.shape[1] else (0, 0)
        raise FieldError(error.message.replace(", found", f" at [{row}, {col}], found")) from None
    return np.ascontiguousarray(value)


# --- writing ------------------------------------------------------------------------


_INF_BITS = 0x7F800000
"""A float32's bits without the sign are at least this exactly when it is not finite."""

NON_FINITE = "rustgpt_format.non_finite"
"""Serialization context key: a list to which the wire form appends each array whose
values are not all finite (orjson would write them as ``null``)."""


def wire_numbers(
    values: np.ndarray, non_finite: list[np.ndarray] | None = None
) -> np.ndarray | list[Any]:
    """The `data` list of an array as orjson should write it (flat, shortest texts).

    An array holding the odd pair becomes a list of float32 scalars with those two as
    their longer text, so that orjson still lays it out (one number per line when
    indenting, as serde_json's pretty printer does) and only the rare array pays.
    With ``non_finite``, the array is appended to it when a value is not finite: the
    same bits the odd pair is looked for in, one more reduction, instead of a pass of
    its own over the values.

    >>> found = []
    >>> wire_numbers(np.array([[1.0, np.inf]], np.float32), found) is not None, len(found)
    (True, 1)
    """
    flat = values.reshape(-1)
    magnitudes = flat.view(np.uint32) & 0x7FFFFFFF
    if non_finite is not None and magnitudes.size and magnitudes.max() >= _INF_BITS:
        non_finite.append(values)
    odd = np.flatnonzero(magnitudes == _ODD_BITS)
    if not odd.size:
        return flat
    items: list[Any] = list(flat)
    for index in odd:
        items[index] = wire_scalar(float(flat[index]))
    return items


def wire_scalar(value: float) -> np.float32 | orjson.Fragment:
    """A float32 scalar as orjson should write it."""
    single = np.float32(value)
    if (int(np.array([single]).view(np.uint32)[0]) & 0x7FFFFFFF) == _ODD_BITS:
        return orjson.Fragment(("-" if value < 0 else "") + _ODD_LONG)
    return single


def _serialize_array(values: np.ndarray, info: core_schema.SerializationInfo) -> Any:
    if info.context and info.context.get("wire"):
        if not info.context.get("arrays", True):
            return None
        data = wire_numbers(values, info.context.get(NON_FINITE))
        return {"v": 1, "dim": list(values.shape), "data": data}
    if info.mode == "json":
        return {"v": 1, "dim": list(values.shape), "data": values.reshape(-1).tolist()}
    return values


def _serialize_scalar(value: float, info: core_schema.SerializationInfo) -> Any:
    if info.context and info.context.get("wire"):
        return wire_scalar(value)
    return value


class _Float32ArrayMarker:
    """Pydantic glue for a 2-D float32 ndarray stored as ndarray-serde's object."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            _array_from_python,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_array, info_arg=True
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(ARRAY2_JSON_SCHEMA)  # the schema export moves it into $defs


ARRAY2_JSON_SCHEMA: dict[str, Any] = {
    "title": "Array2",
    "description": (
        "A 2-D float32 array as Rust's ndarray (serde) writes Array2<f32>: data holds "
        "rows*cols finite float32 numbers in row-major order (the length rule is the "
        "reader's)."
    ),
    "type": "object",
    "properties": {
        "v": {"const": 1},
        "dim": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 2,
            "maxItems": 2,
        },
        "data": {
            "type": "array",
            "items": {
                "type": "number",
                "exclusiveMinimum": -FLOAT32_MAX_EXCLUSIVE,
                "exclusiveMaximum": FLOAT32_MAX_EXCLUSIVE,
            },
        },
    },
    "required": ["v", "dim", "data"],
    "additionalProperties": False,
}

Float32Array = Annotated[np.ndarray, _Float32ArrayMarker]
"""A C-contiguous 2-D float32 ndarray; on the wire ``{"v": 1, "dim": [r, c], "data": [...]}``."""


class _AsFloat32:
    """Pydantic glue: a JSON number (with the field's bounds) held as a float32 value."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        number = handler(source)
        number = {**number, "strict": True, "allow_inf_nan": False}
        return core_schema.no_info_after_validator_function(
            to_float32,
            number,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_scalar, info_arg=True
            ),
        )


    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # what the reader refuses, the schema refuses: a number float32 cannot hold
        number = handler(schema)
        number.setdefault("exclusiveMaximum", FLOAT32_MAX_EXCLUSIVE)
        if "minimum" not in number and "exclusiveMinimum" not in number:
            number["exclusiveMinimum"] = -FLOAT32_MAX_EXCLUSIVE
        return number


AS_FLOAT32 = _AsFloat32()
"""Put last in ``Annotated[float, Field(...bounds), AS_FLOAT32]``: bounds apply first."""

Float32 = Annotated[float, AS_FLOAT32]
"""A float32 scalar held as the Python float of the same value."""
