"""Writing RustGPT's ``.bin``: a version-0 document -> the bytes ``LLM::save`` writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from rustgpt_format.bincode.layout import (
    ADAM,
    ADAM_FIELDS,
    ARRAY,
    CACHE,
    F32,
    F32_LE,
    LAYER_FIELDS,
    LAYER_KINDS,
    SINGLE_BYTE_MAX,
    WIDTH,
    map_key,
)
from rustgpt_format.errors import CheckpointError, FieldError
from rustgpt_format.float32 import describe, floats_from_numbers, to_float32


def encode(document: Mapping[str, Any]) -> bytes:
    """The bincode bytes RustGPT's ``LLM::save("x.bin")`` writes for a version-0 document.

    ``document`` has the shape :func:`decode` returns (``data`` may be a float32 ndarray
    of any shape or a list; caches ``None`` or an array), or is the dialect writer's
    ``rustgpt_document(checkpoint)`` (numpy scalars, ``orjson.Fragment`` numbers).
    Numbers given as Python floats or JSON fragments are read as the JSON reader reads
    them, each as its float32, so the document that :func:`rustgpt_format.codec.parse`
    makes of RustGPT's JSON is written as RustGPT's bincode of the same model. Maps are
    written in the order the dicts give (RustGPT writes its HashMaps in a random order).

    >>> from rustgpt_format.bincode.layout import EXAMPLE
    >>> encode(EXAMPLE)[:9]
    b'\\x02\\x02hi\\x00\\x04</s'
    """
    out: list[bytes] = []
    vocab = _item(document, "vocab", "", dict)
    encode_map = _item(vocab, "encode", "vocab", dict)
    out.append(_varint(len(encode_map)))
    for word, token_id in encode_map.items():
        out += [_string(word, "vocab.encode"), _usize(token_id, map_key("vocab.encode", word))]
    decode_map = _item(vocab, "decode", "vocab", dict)
    out.append(_varint(len(decode_map)))
    for key, word in decode_map.items():
        where = map_key("vocab.decode", str(key))
        out += [_usize(_token_id(key, where), where), _string(word, where)]
    words = _item(vocab, "words", "vocab", list)
    out.append(_varint(len(words)))
    out += [_string(word, f"vocab.words[{index}]") for index, word in enumerate(words)]
    network = _item(document, "network", "", list)
    out.append(_varint(len(network)))
    for index, layer in enumerate(network):
        where = f"network[{index}]"
        if not (isinstance(layer, dict) and len(layer) == 1 and next(iter(layer)) in LAYER_KINDS):
            raise CheckpointError(
                f"expected a layer tagged by its kind ({', '.join(LAYER_KINDS)}), "
                f"found {describe(layer)}",
                path=where,
            )
        kind, body = next(iter(layer.items()))
        out.append(_varint(LAYER_KINDS.index(kind)))
        _write_fields(out, body, f"{where}.{kind}", LAYER_FIELDS[kind])
    return b"".join(out)


def _write_fields(
    out: list[bytes], body: object, path: str, fields: tuple[tuple[str, str], ...]
) -> None:
    if not isinstance(body, dict):
        raise CheckpointError(f"expected an object, found {describe(body)}", path=path)
    for name, kind in fields:
        value = _item(body, name, path, object)
        where = f"{path}.{name}"
        if kind == ARRAY or (kind == CACHE and value is not None):
            out += [b"\x01"] if kind == CACHE else []
            _write_array(out, value, where)
        elif kind == CACHE:
            out.append(b"\x00")
        elif kind == ADAM:
            _write_fields(out, value, where, ADAM_FIELDS)
        elif kind == F32:
            out.append(_f32(value, where))
        else:
            out.append(_usize(value, where))


def _write_array(out: list[bytes], array: object, path: str) -> None:
    if not isinstance(array, dict):
        raise CheckpointError(f"expected an array object, found {describe(array)}", path=path)
    dim = _item(array, "dim", path, list)
    if len(dim) != 2:
        raise CheckpointError(f"expected [rows, cols], found {describe(dim)}", path=f"{path}.dim")
    for number in dim:
        _usize(number, f"{path}.dim")
    rows, cols = int(dim[0]), int(dim[1])
    data = _item(array, "data", path, object)
    if isinstance(data, orjson.Fragment):
        data = _unfragment(data)
    if isinstance(data, list):
        # the dialect writer's list of float32 scalars, with the odd pair as fragments
        data = [
            _unfragment(item)
            if isinstance(item, orjson.Fragment)
            else float(item)
            if isinstance(item, np.floating)
            else item
            for item in data
        ]
        try:  # as the JSON reader reads them: each to its float32, finite
            data = floats_from_numbers(data)
        except FieldError as error:
            raise CheckpointError(error.message, path=f"{path}.data[{error.parts[0]}]") from None
    if not (isinstance(data, np.ndarray) and data.dtype == np.float32):
        raise CheckpointError(
            f"expected a float32 ndarray or a list of numbers, found {describe(data)}",
            path=f"{path}.data",
        )
    numbers = data.astype("<f4", order="C", copy=False)
    if numbers.size != rows * cols:
        raise CheckpointError(
            f"expected {rows * cols} numbers (dim [{rows}, {cols}]), found {numbers.size}",
            path=f"{path}.data",
        )
    out += [b"\x01", _varint(rows), _varint(cols), _varint(numbers.size), numbers.tobytes()]


def _item(container: Mapping[str, Any], key: str, path: str, kind: type) -> Any:
    where = f"{path}.{key}" if path else key
    if key not in container:
        raise CheckpointError("missing required key", path=where)
    value = container[key]
    if not isinstance(value, kind):
        raise CheckpointError(
            f"expected {'an object' if kind is dict else 'an array'}, found {describe(value)}",
            path=where,
        )
    return value


def _varint(number: int) -> bytes:
    if number <= SINGLE_BYTE_MAX:
        return bytes((number,))
    for marker, width in WIDTH.items():
        if number < 1 << (8 * width):
            return bytes((marker,)) + number.to_bytes(width, "little")
    raise AssertionError("callers check the range")  # pragma: no cover


def _usize(value: object, path: str) -> bytes:
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not (0 <= value < 1 << 64)
    ):
        raise CheckpointError(
            f"expected an unsigned 64-bit integer, found {describe(value)}", path=path
        )
    return _varint(int(value))


def _token_id(key: object, path: str) -> int:
    if isinstance(key, str) and key.isdecimal() and key.isascii():
        return int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    raise CheckpointError(f"expected a decimal token id as key, found {describe(key)}", path=path)


def _f32(value: object, path: str) -> bytes:
    """A scalar as the JSON reader reads a number: its float32 (``0.9`` is float32 0.9)."""
    if isinstance(value, orjson.Fragment):
        value = _unfragment(value)
    if not isinstance(value, (float, int, np.floating)) or isinstance(value, bool):
        raise CheckpointError(f"expected a float32, found {describe(value)}", path=path)
    try:
        return F32_LE.pack(to_float32(float(value)))
    except FieldError as error:
        raise CheckpointError(error.message, path=path) from None


def _unfragment(fragment: orjson.Fragment) -> Any:
    """The numbers of a JSON fragment, as the JSON reader reads them.

    The dialect writer's document holds the float32 pair whose shortest text
    double-rounds (contract §2) as a fragment of longer text; read back through
    float64, that text gives the exact float32.
    """
    try:
        return orjson.loads(orjson.dumps(fragment))
    except orjson.JSONDecodeError as error:
        raise CheckpointError(f"expected JSON numbers in a fragment, found {error}") from None


def _string(text: object, path: str) -> bytes:
    if not isinstance(text, str):
        raise CheckpointError(f"expected a string, found {describe(text)}", path=path)
    try:
        raw = text.encode()
    except UnicodeEncodeError as error:
        raise CheckpointError(
            f"expected text that UTF-8 can encode, found a lone surrogate at character "
            f"{error.start}",
            path=path,
        ) from None
    return _varint(len(raw)) + raw
