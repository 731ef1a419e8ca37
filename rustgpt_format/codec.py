"""JSON bytes <-> Checkpoint, fast and exact.

Reading: the document is parsed as a skeleton in which every flat numeric ``data``
array is replaced by a placeholder; each array is decoded on its own (orjson, then
one float32 conversion) so the peak memory stays near the file size instead of the
size of 1.4 million Python floats. Anything unusual in an array leaves it in the
skeleton, where the validator finds and names the problem.

Writing: one ``orjson.dumps`` of the model's wire form; orjson writes float32 arrays
as shortest round-trip texts without building Python floats.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import numpy as np
import orjson

from rustgpt_format.checkpoint import Checkpoint
from rustgpt_format.errors import CheckpointError, FieldError
from rustgpt_format.float32 import floats_from_numbers

_DATA_KEY = re.compile(rb'"data"\s*:\s*\[')
_NUMBER_BYTES = b"0123456789.eE+-, \t\r\n"
_BOM = b"\xef\xbb\xbf"
_INTEGER_MINUS_ZERO = re.compile(rb"(?<=[\[,\s])-0(?=[,\]\s])")


def parse(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode JSON text, with numeric ``data`` arrays already float32 ndarrays."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if not raw.strip():
        raise CheckpointError("expected a JSON document, found an empty file")
    if raw.startswith(_BOM):
        raise CheckpointError("expected UTF-8 JSON without a byte-order mark, found a BOM")
    marker = secrets.token_hex(12)
    pieces: list[bytes] = []
    arrays: dict[str, np.ndarray] = {}
    done = 0
    for match in _DATA_KEY.finditer(raw):
        key_start, start = match.start(), match.end() - 1
        if key_start < done or _escaped(raw, key_start):
            continue
        close = raw.find(b"]", start)
        if close < 0:
            break
        span = raw[start : close + 1]
        if span.translate(None, _NUMBER_BYTES) != b"[]":
            continue
        try:
            values = floats_from_numbers(orjson.loads(span))
        except (orjson.JSONDecodeError, FieldError):
            continue  # left in place: the validator reports it with its path
        if b"-0" in span:
            _negative_zeros(span, values)
        name = f"{marker}{len(arrays)}"
        arrays[name] = values
        pieces += [raw[done:start], b'"', name.encode(), b'"']
        done = close + 1
    pieces.append(raw[done:])
    try:
        skeleton = orjson.loads(b"".join(pieces) if arrays else raw)
    except orjson.JSONDecodeError:
        skeleton = None
    if skeleton is None:
        return _parse_invalid(raw)
    return _restore(skeleton, arrays, marker) if arrays else skeleton


def _parse_invalid(raw: bytes) -> Any:
    """Explain a document orjson refused.

    NaN and Infinity are not JSON, but some writers emit them; reading them with the
    standard library lets the validator name the element instead of a byte offset.
    """
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        try:
            return json.loads(raw, parse_constant=float)
        except (ValueError, RecursionError):
            pass
        raise CheckpointError(f"expected a JSON document, found invalid JSON: {error}") from None
    raise CheckpointError("internal error: the fast reader lost a valid document")


def _negative_zeros(span: bytes, values: np.ndarray) -> None:
    """Give integer ``-0`` (which JSON parsers read as int 0) its sign back."""
    for match in _INTEGER_MINUS_ZERO.finditer(span):
        index = span.count(b",", 0, match.start())
        values[index] = np.float32(-0.0)


def _escaped(raw: bytes, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes - 1 >= 0 and raw[quote - backslashes - 1] == 0x5C:
        backslashes += 1
    return backslashes % 2 == 1


def _restore(node: Any, arrays: dict[str, np.ndarray], marker: str) -> Any:
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, str) and data.startswith(marker):
            node["data"] = arrays[data]
        for value in node.values():
            if isinstance(value, (dict, list)):
                _restore(value, arrays, marker)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                _restore(item, arrays, marker)
    return node


def decode(data: bytes | bytearray | memoryview | str) -> Checkpoint:
    """Read a checkpoint from JSON text.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> decode(encode(tiny_checkpoint())).config.embedding_dim
    4
    """
    return Checkpoint.model_validate(parse(data))


def wire_document(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint as orjson-ready Python objects (arrays stay ndarrays)."""
    document: dict[str, Any] = checkpoint.model_dump(context={"wire": True})
    for key in ("training", "metadata"):
        if document[key] is None:
            del document[key]
    return document


def encode(checkpoint: Checkpoint, *, indent: int | None = None) -> bytes:
    """The canonical JSON bytes of a checkpoint (compact, or indented by 2).

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> encode(tiny_checkpoint())[:60]
    b'{"format":"rustgpt-checkpoint","format_version":"1.0","confi'
    """
    if indent not in (None, 2):
        raise ValueError(f"indent: expected None or 2, found {indent!r}")
    option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(wire_document(checkpoint), option=option)
