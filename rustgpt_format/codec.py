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

import contextlib
import json
import re
import secrets
from typing import Any

import numpy as np
import orjson

from rustgpt_format.checkpoint import Checkpoint
from rustgpt_format.errors import CheckpointError, FieldError, PathPart, format_path, join_path
from rustgpt_format.float32 import floats_from_numbers
from rustgpt_format.json_scan import duplicate_key, nesting_depth, path_at, without_strings
from rustgpt_format.limits import DEFAULT_LIMITS, FORMAT_DEPTH, Limits

_DATA_KEY = re.compile(rb'"data"\s*:\s*\[')
_NUMBER_BYTES = b"0123456789.eE+-, \t\r\n"
_BOM = b"\xef\xbb\xbf"


def parse(
    data: bytes | bytearray | memoryview | str, *, limits: Limits = DEFAULT_LIMITS
) -> Any:
    """Decode JSON text, with numeric ``data`` arrays already float32 ndarrays.

    Every size the text implies is checked against ``limits`` before it is acted on.
    """
    if isinstance(data, str) and len(data) > limits.max_file_bytes:
        raise _too_big(len(data), limits)  # characters: at least as many bytes
    raw = _as_bytes(data)
    if len(raw) > limits.max_file_bytes:
        raise _too_big(len(raw), limits)
    if not raw.strip():
        raise CheckpointError("expected a JSON document, found an empty file")
    if raw.startswith(_BOM):
        raise CheckpointError("expected UTF-8 JSON without a byte-order mark, found a BOM")
    marker = secrets.token_hex(12)
    pieces: list[bytes] = []
    arrays: dict[str, np.ndarray] = {}
    done = elements = outside = 0
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
            values = _numbers(span)
        except (orjson.JSONDecodeError, FieldError) as error:
            if len(span) <= _LEFT_TO_VALIDATOR:
                continue  # left in place: the validator reports it with its path
            where = path_at(raw, offset=start)
            if isinstance(error, FieldError):
                raise CheckpointError(
                    error.message, path=join_path(where, format_path(error.parts))
                ) from None
            raise CheckpointError(
                f"expected numbers, found invalid JSON: {error.msg}", path=where
            ) from None
        # Counted once decoded: decoding a span allocates at most twice its bytes,
        # and the span is already in memory, bounded by Limits.max_file_bytes.
        elements += values.size
        if elements > limits.max_elements:
            raise CheckpointError(
                f"expected at most {limits.max_elements} numbers in all arrays "
                f"(Limits.max_elements), found more by this array{_RAISE}",
                path=path_at(raw, offset=start),
            )
        name = f"{marker}{len(arrays)}"
        arrays[name] = values
        pieces += [raw[done:start], b'"', name.encode(), b'"']
        outside += start - done + len(name) + 2
        if outside > limits.max_header_bytes:
            raise _outside_too_big(outside, limits)
        done = close + 1
    pieces.append(raw[done:])
    text = b"".join(pieces) if arrays else raw
    if len(text) > limits.max_header_bytes:
        raise _outside_too_big(len(text), limits)
    structure = without_strings(text)
    depth = nesting_depth(structure)
    if depth > limits.max_depth:
        raise CheckpointError(
            f"expected nesting at most {limits.max_depth} deep (Limits.max_depth; the format "
            f"needs {FORMAT_DEPTH}), found {depth}{_RAISE}",
            path=path_at(text, depth=limits.max_depth),
        )
    try:
        skeleton = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _parse_invalid(raw)
    members = _restore(skeleton, arrays, marker, limits.max_string_chars)
    if members != structure.count(b":"):
        raise CheckpointError(
            "expected unique keys, found this key twice in one object (JSON readers differ "
            "on which of the two values they keep)",
            path=duplicate_key(text) or "",
        )
    return skeleton


_LEFT_TO_VALIDATOR = 1 << 16
"""A bad numeric array up to this many bytes is left for the validator to name."""

_CHUNK = 1 << 20
"""Bytes of numbers decoded at once: bounds the Python floats alive at a time."""

_STDLIB_FALLBACK = 1 << 26
"""Invalid documents up to this size are re-read by the standard library to name a NaN."""

_RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"


def _too_big(size: int, limits: Limits) -> CheckpointError:
    return CheckpointError(
        f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), "
        f"found {size}{_RAISE}"
    )


def _outside_too_big(size: int, limits: Limits) -> CheckpointError:
    return CheckpointError(
        f"expected at most {limits.max_header_bytes} bytes of JSON outside the numeric data "
        f"arrays (Limits.max_header_bytes), found {size}{_RAISE}"
    )


def _as_bytes(data: object) -> bytes:
    """The bytes of JSON text given as bytes-like or str, refusing anything else."""
    if isinstance(data, str):
        try:
            return data.encode()
        except UnicodeEncodeError as error:
            raise CheckpointError(
                f"expected text that UTF-8 can encode, found a lone surrogate at "
                f"character {error.start}"
            ) from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise CheckpointError(f"expected JSON text as bytes or str, found {type(data).__name__}")


def _numbers(span: bytes) -> np.ndarray:
    """A numeric JSON array as float32, decoded a chunk at a time when it is large."""
    if len(span) <= _CHUNK:
        values = floats_from_numbers(orjson.loads(span), only_numbers=True)
        _negative_zeros(span, values)
        return values
    values = np.empty(span.count(b",") + 1, dtype=np.float32)
    filled, position, end = 0, 1, len(span) - 1
    while True:
        cut = span.find(b",", position + _CHUNK, end) if position + _CHUNK < end else -1
        chunk = b"[" + span[position : end if cut < 0 else cut] + b"]"
        try:
            part = floats_from_numbers(orjson.loads(chunk), only_numbers=True)
        except FieldError as error:
            raise FieldError(error.message, filled + int(error.parts[0])) from None
        if not part.size:
            raise FieldError("expected a number, found none between two commas", filled)
        _negative_zeros(chunk, part)
        values[filled : filled + part.size] = part
        filled += part.size
        if cut < 0:
            return values
        position = cut + 1


def _parse_invalid(raw: bytes) -> Any:
    """Explain a document orjson refused.

    NaN and Infinity are not JSON, but some writers emit them; reading them with the
    standard library lets the error name the element instead of a byte offset. The
    standard library accepts more than JSON (lone surrogates, UTF-16, huge integers),
    so what it reads is only used to place the first NaN or Infinity, never returned.
    """
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        found = None
        if len(raw) <= _STDLIB_FALLBACK:
            with contextlib.suppress(ValueError, RecursionError):
                found = _first_constant(json.loads(raw, parse_constant=_Constant))
        if found is not None:
            raise found from None
        raise CheckpointError(f"expected a JSON document, found invalid JSON: {error}") from None
    raise CheckpointError("internal error: the fast reader lost a valid document")


class _Constant(float):
    """NaN, Infinity or -Infinity as the standard library read it, marked as such."""

    def __new__(cls, text: str) -> _Constant:
        return super().__new__(cls, text)


def _first_constant(node: Any, parts: tuple[PathPart, ...] = ()) -> CheckpointError | None:
    """The error naming the first NaN or Infinity (nesting is already bounded)."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, _Constant):
            element = len(parts) >= 1 and parts[-1] == "data" and isinstance(key, int)
            expected = (
                "a finite float32 (magnitude below 3.4028235e38)" if element else "a finite number"
            )
            return CheckpointError(
                f"expected {expected}, found {float(value)}", path=format_path((*parts, key))
            )
        if isinstance(value, (dict, list)):
            found = _first_constant(value, (*parts, key))
            if found is not None:
                return found
    return None


def _negative_zeros(span: bytes, values: np.ndarray) -> None:
    """Give an integer ``-0`` (which JSON parsers read as int 0) its sign back.

    Only zeros whose text holds a minus sign are looked at, found with array
    operations, so a span without such zeros costs one comparison per element.
    """
    zeros = np.flatnonzero(values == 0)
    if not zeros.size or b"-" not in span:
        return
    text = np.frombuffer(span, dtype=np.uint8)
    commas = np.flatnonzero(text == ord(","))
    minus_elements = np.searchsorted(commas, np.flatnonzero(text == ord("-")))
    for index in np.intersect1d(zeros, minus_elements):
        begin = 1 if index == 0 else int(commas[index - 1]) + 1
        end = len(span) - 1 if index == len(commas) else int(commas[index])
        if span[begin:end].strip().startswith(b"-"):  # not the exponent of 0e-5
            values[index] = np.float32(-0.0)


def _escaped(raw: bytes, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes - 1 >= 0 and raw[quote - backslashes - 1] == 0x5C:
        backslashes += 1
    return backslashes % 2 == 1


def _restore(node: Any, arrays: dict[str, np.ndarray], marker: str, max_chars: int) -> int:
    """Put the decoded arrays back and check string lengths; count the keys of all objects."""
    members = 0
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            members += len(item)
            data = item.get("data")
            if isinstance(data, str) and data.startswith(marker) and data in arrays:
                item["data"] = arrays[data]
            for key, value in item.items():
                if len(key) > max_chars or (isinstance(value, str) and len(value) > max_chars):
                    raise _long_string(node, max_chars, marker)
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            for value in item:
                if isinstance(value, (dict, list)):
                    stack.append(value)
                elif isinstance(value, str) and len(value) > max_chars:
                    raise _long_string(node, max_chars, marker)
    return members


def _long_string(node: Any, max_chars: int, marker: str) -> CheckpointError:
    parts, length = _first_long_string(node, max_chars, marker) or ((), 0)
    return CheckpointError(
        f"expected a string of at most {max_chars} characters (Limits.max_string_chars), "
        f"found {length}{_RAISE}",
        path=format_path(parts),
    )


def _first_long_string(
    node: Any, max_chars: int, marker: str
) -> tuple[tuple[PathPart, ...], int] | None:
    """Where the first over-long string or key is (nesting is already bounded).

    Arrays not yet put back are placeholder strings starting with ``marker``: skipped.
    """
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(key, str) and len(key) > max_chars:
            return (key[:20] + "...",), len(key)
        if isinstance(value, str) and len(value) > max_chars and not value.startswith(marker):
            return (key,), len(value)
        if isinstance(value, (dict, list)):
            found = _first_long_string(value, max_chars, marker)
            if found:
                return (key, *found[0]), found[1]
    return None


def decode(
    data: bytes | bytearray | memoryview | str, *, limits: Limits = DEFAULT_LIMITS
) -> Checkpoint:
    """Read a checkpoint from JSON text, refusing what exceeds ``limits``.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> decode(encode(tiny_checkpoint())).config.embedding_dim
    4
    """
    return Checkpoint.model_validate(parse(data, limits=limits))


def wire_document(checkpoint: Checkpoint, *, arrays: bool = True) -> dict[str, Any]:
    """The checkpoint as orjson-ready Python objects (arrays stay ndarrays).

    With ``arrays=False`` each array object is ``None``, for forms that store the
    arrays elsewhere (the binary form) and need only the rest of the document.
    """
    context = {"wire": True, "arrays": arrays}
    document: dict[str, Any] = checkpoint.model_dump(context=context)
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
