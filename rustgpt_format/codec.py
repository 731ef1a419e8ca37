"""JSON bytes <-> Checkpoint, fast and exact.

Reading: the document is parsed as a skeleton in which every flat numeric ``data``
array is replaced by a placeholder; the skeleton is checked (size, nesting, syntax,
strings, duplicate keys) before any array is decoded, and each array is then decoded
on its own, counted before it is allocated and a chunk at a time (orjson, then one
float32 conversion), so the memory used is that of the arrays returned plus a chunk,
not of the Python floats. Anything unusual in an array leaves it in the skeleton,
where the validator finds and names the problem. Every step is linear in the text.

Memory (issue 15: a load holds at most the arrays it returns plus 256 MiB, a refused
one 256 MiB): the text may be a read-only map of a large file, gone through a chunk at
a time with the pages read given back (:mod:`rustgpt_format.buffers`); the skeleton's
values are counted (``Limits.max_header_values``) before it is parsed; and arrays that
would take more than 128 MiB as float32 are all checked, written to a temporary file,
and the document validated with stand-ins of their sizes (``check``) before any array
is held in memory.

Writing: one ``orjson.dumps`` of the model's wire form; orjson writes float32 arrays
as shortest round-trip texts without building Python floats.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn

import numpy as np
import orjson

from rustgpt_format.boundary import checked, validated
from rustgpt_format.buffers import CHECKED_FIRST, Buffer, Releaser, count, release, stand_in
from rustgpt_format.errors import CheckpointError, FieldError, PathPart, format_path, join_path
from rustgpt_format.float32 import NON_FINITE, floats_from_numbers
from rustgpt_format.json_scan import (
    duplicate_key,
    nesting_depth,
    path_at,
    value_count,
    without_strings,
)
from rustgpt_format.limits import DEFAULT_LIMITS, FORMAT_DEPTH, Limits
from rustgpt_format.models import Checkpoint

# A numeric data array, found in one pass: the key (in any spelling JSON allows, so
# that "d\u0061ta" is read like "data") and its "[", then only number characters up to
# the "]" (scanned a chunk at a time, see _numbers_end). Possessive repeats never give
# back, so a failed attempt costs what it read; the next search starts where the
# numbers stopped (they hold no quote), so attempts read disjoint text: the scan is
# linear in the document.
_DATA_KEY = re.compile(
    rb'"(?:d|\\u0064)(?:a|\\u0061)(?:t|\\u0074)(?:a|\\u0061)"\s*+:\s*+\['
)
_NUMBER_CHARS = re.compile(rb"[0-9.eE+\-, \t\r\n]*+")
_BLANK = re.compile(rb"\s*+")
_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that do not start a character
_BOM = b"\xef\xbb\xbf"


def parse(
    data: bytes | bytearray | memoryview | str | mmap.mmap,
    *,
    limits: Limits = DEFAULT_LIMITS,
    check: Callable[[Any], object] | None = None,
) -> Any:
    """Decode JSON text, with numeric ``data`` arrays already float32 ndarrays.

    Every size the text implies is checked against ``limits`` before it is acted on,
    and every step is linear in the length of the text. Besides the arrays it
    returns, the memory used is bounded by ``limits.max_header_bytes`` (the text
    outside the arrays, and the Python objects of ``limits.max_header_values``
    values), a chunk of numbers, and the text itself when it is bytes; text given as
    a read-only ``mmap`` (a large file, see :mod:`rustgpt_format.buffers`) is read a
    chunk at a time, each chunk's pages given back once read.

    When the arrays would take more than 128 MiB as float32, every array is checked
    (numbers, count, syntax) before any is kept, and ``check`` (if given) is called
    with the document whose arrays are stand-ins of their sizes (one value repeated,
    no memory) before they are decoded: a validator raising there refuses a
    document whose shapes, order or vocabulary are wrong without spending the memory
    of its arrays. Below that size the arrays are decoded in one pass, and refusing
    costs at most those 128 MiB.

    >>> parse(b'{"w": {"v": 1, "dim": [1, 2], "data": [0.5, -0]}}')["w"]["data"]
    array([ 0.5, -0. ], dtype=float32)
    """
    if isinstance(data, str) and len(data) > limits.max_file_bytes:
        raise _too_big(len(data), limits)  # characters: at least as many bytes
    raw = _as_bytes(data)
    if len(raw) > limits.max_file_bytes:
        raise _too_big(len(raw), limits)
    if _blank(raw):
        raise CheckpointError("expected a JSON document, found an empty file")
    if raw[: len(_BOM)] == _BOM:
        raise CheckpointError("expected UTF-8 JSON without a byte-order mark, found a BOM")
    marker = secrets.token_hex(12)
    # The skeleton is checked before any array is decoded: a document that is not
    # JSON, nests too deep or repeats a key is refused without the memory of its arrays.
    spans = _find_arrays(raw, marker, limits)
    names = [f"{marker}{index}" for index in range(len(spans))]
    found = _checked_skeleton(raw, spans, names, marker, limits)
    counts = _counts(raw, spans, names)
    if counts is not None and 4 * sum(counts.values()) > CHECKED_FIRST:
        # Large: every array checked (and counted) without being kept in memory, then
        # the document with stand-ins checked, so that a refusal costs no array memory.
        # The decoded floats wait in a temporary file, read back once all is well.
        with _Spill() as spill:
            stand_ins, failed = _decode(
                raw, spans, names, limits, found, keep=False, counts=counts, spill=spill
            )
            if failed:
                spans, names, found = _without(raw, spans, names, failed, marker, limits)
            if check is not None:
                for holder in found.holders:
                    holder["data"] = stand_ins[holder["data"]]
                check(found.skeleton)
                found = _checked_skeleton(raw, spans, names, marker, limits)  # a fresh copy
            if spill.whole():
                for holder in found.holders:
                    name = holder["data"]
                    holder["data"] = spill.read(name) if name in spill else stand_ins[name]
                return found.skeleton
        del stand_ins  # no room for the temporary file: decoded again, now kept
    arrays, failed = _decode(raw, spans, names, limits, found, keep=True, counts=counts)
    if failed:  # left in place: the validator (or the parser) names what is wrong in them
        spans, names, found = _without(raw, spans, names, failed, marker, limits)
    for holder in found.holders:
        holder["data"] = arrays[holder["data"]]
    return found.skeleton


class _Spill:
    """Decoded float32 arrays kept in an unnamed temporary file (in ``TMPDIR``) while
    the rest of a large document is checked: a refusal holds none of them, and a
    document found valid is not parsed twice, its arrays are read back. A file system
    that refuses the file (full, read-only), when it is made, written or flushed, leaves
    ``whole()`` false: nothing is lost, the arrays are decoded again."""

    def __init__(self) -> None:
        self.places: dict[str, tuple[int, int]] = {}
        self.size = 0
        try:
            self.file: BinaryIO | None = tempfile.TemporaryFile()  # noqa: SIM115 - __exit__
        except OSError:
            self.file = None

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self._drop()

    def whole(self) -> bool:
        """Whether every array written is in the file: what the file still buffers is
        written out first (a full file system may refuse only that last part)."""
        if self.file is not None:
            try:
                self.file.flush()
            except OSError:
                self._drop()
        return self.file is not None

    def _drop(self) -> None:
        """Close the file, whatever it still buffers: closing writes that out, which
        a file system that refused a write refuses again."""
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None

    def __contains__(self, name: object) -> bool:
        return name in self.places

    def write(self, values: np.ndarray) -> None:
        """Append ``values`` (float32) to the array being written."""
        if self.file is None:
            return
        try:
            self.file.write(np.ascontiguousarray(values, dtype=np.float32).data)
        except OSError:
            self._drop()
        self.size += values.size * 4

    def done(self, name: str, start: int) -> None:
        """The array ``name`` is what was written since ``start`` (a ``size`` before)."""
        self.places[name] = (start, (self.size - start) // 4)

    def read(self, name: str) -> np.ndarray:
        """The array ``name`` read back into memory."""
        assert self.file is not None
        start, count = self.places[name]
        values = np.empty(count, dtype=np.float32)
        view, got = values.data.cast("B"), 0
        self.file.seek(start)
        while got < len(view):
            read = self.file.readinto(view[got:])  # type: ignore[attr-defined]
            if not read:
                raise CheckpointError("cannot read back a temporary file: it was cut short")
            got += read
        return values


@dataclass
class _Found:
    """A checked skeleton: the document with each array a placeholder string, the
    objects whose ``data`` is one, its text and where each placeholder starts in it."""

    skeleton: Any
    holders: list[dict[str, Any]]
    text: bytes
    located: dict[str, int]


def _without(
    raw: Buffer,
    spans: list[tuple[int, int]],
    names: list[str],
    failed: set[int],
    marker: str,
    limits: Limits,
) -> tuple[list[tuple[int, int]], list[str], _Found]:
    """The spans and names but those ``failed``, and the skeleton with those put back."""
    kept = [index for index in range(len(spans)) if index not in failed]
    spans, names = [spans[index] for index in kept], [names[index] for index in kept]
    return spans, names, _checked_skeleton(raw, spans, names, marker, limits)


def _counts(raw: Buffer, spans: list[tuple[int, int]], names: list[str]) -> dict[str, int] | None:
    """The numbers in each array (by name): counted by their commas in an array of more
    than a chunk, at most what the text allows in a small one. None, sparing the count,
    when the arrays cannot hold more than 128 MiB as float32 (a number takes a character
    and a comma at least)."""
    counts = {name: (end - start) // 2 + 1 for (start, end), name in zip(spans, names, strict=True)}
    if 4 * sum(counts.values()) <= CHECKED_FIRST:
        return None
    for (start, end), name in zip(spans, names, strict=True):
        if end - start > _CHUNK:
            counts[name] = _count(raw, start, end - 1)
    return counts


def _claims(holders: list[dict[str, Any]]) -> dict[str, int]:
    """How many numbers each array object's ``dim`` claims, where it is two counts."""
    claimed = {}
    for holder in holders:
        dim = holder.get("dim")
        if isinstance(dim, list) and len(dim) == 2 and all(type(n) is int for n in dim):
            claimed[holder["data"]] = dim[0] * dim[1]
    return claimed


def _decode(
    raw: Buffer,
    spans: list[tuple[int, int]],
    names: list[str],
    limits: Limits,
    found: _Found,
    *,
    keep: bool,
    counts: dict[str, int] | None = None,
    spill: _Spill | None = None,
) -> tuple[dict[str, np.ndarray], set[int]]:
    """Each array decoded (or, without ``keep``, checked and replaced by a stand-in of
    its size) in order, by name; and the indices of the small arrays that failed, to be
    left in the document. ``found``: the skeleton, for the claims of ``dim`` and the
    paths of errors; ``spill``: where the arrays checked without ``keep`` are written.

    A large array whose count of numbers is not what its ``dim`` claims is not decoded:
    the validator refuses it for its size alone, so a stand-in of that size (one value
    repeated, no memory) takes its place.
    """
    arrays: dict[str, np.ndarray] = {}
    failed: set[int] = set()
    elements = 0
    claimed = _claims(found.holders)
    counts = counts or {}
    passing = Releaser(raw)
    for index, ((start, end), name) in enumerate(zip(spans, names, strict=True)):
        passing.upto(start)
        room, count = limits.max_elements - elements, None
        if end - start > _CHUNK and (name in claimed or name in counts):
            count = counts.get(name) or _count(raw, start, end - 1)
            if name in claimed and count != claimed[name] and count <= room:
                arrays[name] = stand_in(count)
                elements += count
                continue
        at = spill.size if spill is not None else 0
        sink = spill.write if spill is not None else None
        try:
            values = _numbers(raw, start, end - 1, room=room, keep=keep, count=count, sink=sink)
        except _TooManyError:
            raise CheckpointError(
                f"expected at most {limits.max_elements} numbers in all arrays "
                f"(Limits.max_elements), found more by this array{_RAISE}",
                path=_path(found, name),
            ) from None
        except (orjson.JSONDecodeError, FieldError) as error:
            if end - start <= _LEFT_TO_VALIDATOR:
                failed.add(index)
                continue
            where = _path(found, name)
            if isinstance(error, FieldError):
                raise CheckpointError(
                    error.message, path=join_path(where, format_path(error.parts))
                ) from None
            raise CheckpointError(
                f"expected numbers, found invalid JSON: {error.msg}", path=where
            ) from None
        elements += values.size
        if keep:
            arrays[name] = values
        else:  # the small arrays too: together they may be as large as the file
            if spill is not None and spill.size == at:  # a small one, decoded whole
                spill.write(values)
            if spill is not None:
                spill.done(name, at)
            arrays[name] = stand_in(values.size)
    return arrays, failed


def _path(found: _Found, name: str) -> str:
    """The path of the array ``name``, found in the skeleton: the document's text before
    the array may be gigabytes of other arrays."""
    return path_at(found.text, offset=found.located[name])


def _find_arrays(raw: Buffer, marker: str, limits: Limits) -> list[tuple[int, int]]:
    """Where the numeric data arrays are (from "[" to after "]"), keeping the rest of the
    document, placeholders included, within ``limits.max_header_bytes`` as it goes.

    A key is looked for only as far as the text outside arrays may still reach: past
    that the document is refused unread. An array's numbers are scanned a chunk at a
    time, each chunk given back once scanned (a mapped file's pages).
    """
    spans: list[tuple[int, int]] = []
    outside = done = position = 0
    size = len(raw)
    passing = Releaser(raw)
    while True:
        passing.upto(position)
        # a key starting past ``reach`` would leave more than the bound outside arrays
        reach = min(size, done + limits.max_header_bytes - outside + _KEY_BYTES)
        match = _DATA_KEY.search(raw, position, reach) if position < reach else None
        if match is None:
            if reach < size:  # all of [done, reach) is outside the arrays: too much
                raise _outside_too_big(outside + max(reach, position) - done, limits, more=True)
            return spans
        start = match.end() - 1
        end = _numbers_end(raw, match.end())
        if end == size or raw[end] != 0x5D:  # not "]": no numeric array here
            position = end  # number characters hold no quote: no key starts before
            continue
        position = end = end + 1
        if _escaped(raw, match.start()):
            continue
        outside += start - done + len(marker) + len(str(len(spans))) + 2
        if outside > limits.max_header_bytes:
            raise _outside_too_big(outside, limits)
        spans.append((start, end))
        done = end


def _numbers_end(raw: Buffer, start: int) -> int:
    """Where the run of number characters from ``start`` ends, scanned a chunk at a
    time; each chunk scanned whole is given back."""
    size = len(raw)
    while True:
        stop = min(start + _SCANNED, size)
        end = _NUMBER_CHARS.match(raw, start, stop).end()  # type: ignore[union-attr]
        if end < stop or stop == size:
            return end
        release(raw, start, stop)
        start = stop


def _blank(raw: Buffer, start: int = 0, size: int | None = None) -> bool:
    """Whether ``raw[start:size]`` is only white space (looked at, and given back, a
    window at a time)."""
    size = len(raw) if size is None else size
    while start < size:
        stop = min(start + _SCANNED, size)
        if _BLANK.match(raw, start, stop).end() < stop:  # type: ignore[union-attr]
            return False
        release(raw, start, stop)
        start = stop
    return True


_SCANNED = 1 << 24
"""Bytes scanned by one regular-expression call over an array or white space."""

_KEY_BYTES = 64
"""More than the longest spelling of a data key and its colon (without white space)."""


def _checked_skeleton(
    raw: Buffer, spans: list[tuple[int, int]], names: list[str], marker: str, limits: Limits
) -> _Found:
    """The document with each span replaced by its name as a string, parsed and checked
    (size, nesting, values, syntax, string lengths, duplicate keys); the objects whose
    ``data`` is such a name; the text and where each name is in it."""
    pieces: list[bytes] = []
    placed: list[_Span] = []
    done = outside = 0
    passing = Releaser(raw)  # a mapped page touched maps its neighbours too (2 MiB)
    for (start, end), name in zip(spans, names, strict=True):
        passing.upto(start)
        placed.append((start, end, outside + start - done, len(name) + 2))
        pieces += [raw[done:start], b'"', name.encode(), b'"']
        outside += start - done + len(name) + 2
        done = end
    if len(raw) - done + outside > limits.max_header_bytes:
        raise _outside_too_big(len(raw) - done + outside, limits)
    pieces.append(raw[done:])
    text = b"".join(pieces)
    del pieces
    release(raw, 0, len(raw))  # what was read of a mapped file: the arrays read it again
    located = {name: at for name, (_, _, at, _) in zip(names, placed, strict=True)}
    quick = _quick_skeleton(text, names, marker, limits)
    if quick is not None:
        return _Found(quick[0], quick[1], text, located)
    found = _Found(None, [], text, located)
    structure = without_strings(text)
    depth = nesting_depth(structure)
    if depth > limits.max_depth:
        raise CheckpointError(
            f"expected nesting at most {limits.max_depth} deep (Limits.max_depth; the format "
            f"needs {FORMAT_DEPTH}), found {depth}{_RAISE}",
            path=path_at(text, depth=limits.max_depth),
        )
    values = value_count(structure)
    if values > limits.max_header_values:
        raise CheckpointError(
            f"expected at most {limits.max_header_values} values and keys in the JSON outside "
            f"the numeric data arrays (Limits.max_header_values), found {values}{_RAISE}"
        )
    try:
        skeleton = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        # The first error may be inside an array taken out (a "]" where a digit was due
        # ends the array early). The arrays are checked in order, as reading them
        # would, without keeping them; the small ones found wrong go back in the text.
        _, failed = _decode(raw, spans, names, limits, found, keep=False)
        if failed:
            return _without(raw, spans, names, failed, marker, limits)[2]
        _parse_invalid(raw, text, placed, error)
    members, holders = _walk(skeleton, set(names), marker, limits.max_string_chars)
    if members != structure.count(b":"):
        raise CheckpointError(
            "expected unique keys, found this key twice in one object (JSON readers differ "
            "on which of the two values they keep)",
            path=duplicate_key(text) or "",
        )
    return _Found(skeleton, holders, text, found.located)


def _quick_skeleton(
    text: bytes, names: list[str], marker: str, limits: Limits
) -> tuple[Any, list[dict[str, Any]]] | None:
    """The parsed skeleton and its holders, when ``text`` passes every check of the
    full path; None when it may not (the full path then finds and names the problem).

    The full path measures the text before parsing it (three passes at C speed, then
    a walk for the string lengths): a fixed cost of some 0.1-0.2 ms on a small
    document such as a binary file's metadata, most of it emptying the strings to see
    the structure. For a text shorter than ``limits.max_string_chars`` with no
    backslash (so each string's text is what it decodes to, and holds no quote) the
    same rules are checked on the parsed document instead, whose size the text
    bounds: no string or key can be longer than the text; the values and keys are at
    most the commas, colons and opening brackets of the whole text; orjson refuses
    what is not JSON (and recursion past 1024 levels, beyond any ``max_depth``); one
    walk finds the depth and the keys each object kept, which with the colons inside
    strings account for every colon of the text exactly when no object repeats a key.
    """
    if len(text) > limits.max_string_chars or b"\\" in text:
        return None
    values = text.count(b",") + text.count(b":") + text.count(b"[") + text.count(b"{") + 1
    if values > limits.max_header_values:
        return None
    try:
        skeleton = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    members, holders, depth, colons = _quick_walk(skeleton, set(names), marker)
    if depth > limits.max_depth or members + colons != text.count(b":"):
        return None
    return skeleton, holders


def _quick_walk(
    node: Any, names: set[str], marker: str
) -> tuple[int, list[dict[str, Any]], int, int]:
    """The keys of all objects, the objects whose ``data`` is a placeholder among
    ``names``, how deep arrays and objects nest, and the colons inside strings (keys
    included) of a document orjson parsed."""
    members = deepest = 0
    holders: list[dict[str, Any]] = []
    strings: list[str] = []
    stack = [(node, 1)]
    values: Iterable[Any]
    while stack:
        item, level = stack.pop()
        if type(item) is dict:
            deepest = max(deepest, level)
            members += len(item)
            strings += item
            data = item.get("data")
            if type(data) is str and data.startswith(marker) and data in names:
                holders.append(item)
            values = item.values()
        elif type(item) is list:
            deepest = max(deepest, level)
            values = item
        else:
            continue  # a document that is a bare value
        for value in values:
            if type(value) is str:
                strings.append(value)
            elif type(value) is dict or type(value) is list:
                stack.append((value, level + 1))
    return members, holders, deepest, "".join(strings).count(":")


_LEFT_TO_VALIDATOR = 1 << 16
"""A bad numeric array up to this many bytes is left for the validator to name."""

_CHUNK = 1 << 18
"""Bytes of numbers decoded at once: bounds the Python floats alive at a time, and
orjson's own buffers for them (some 15 times the text: 4 MB for a chunk)."""

_STDLIB_FALLBACK = 1 << 26
"""Invalid documents up to this size are re-read by the standard library to name a NaN."""

_RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"


class _TooManyError(Exception):
    """An array holds more numbers than are left under Limits.max_elements."""


def _too_big(size: int, limits: Limits) -> CheckpointError:
    return CheckpointError(
        f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), "
        f"found {size}{_RAISE}"
    )


def _outside_too_big(size: int, limits: Limits, *, more: bool = False) -> CheckpointError:
    """``more``: reading stopped there, at the first ``size`` bytes."""
    return CheckpointError(
        f"expected at most {limits.max_header_bytes} bytes of JSON outside the numeric data "
        f"arrays (Limits.max_header_bytes), found {'more than ' if more else ''}{size}{_RAISE}"
    )


def _as_bytes(data: object) -> Buffer:
    """The bytes of JSON text given as bytes-like or str, refusing anything else; a
    read-only map is used as it is (copying it would read the whole file)."""
    if isinstance(data, str):
        try:
            return data.encode()
        except UnicodeEncodeError as error:
            raise CheckpointError(
                f"expected text that UTF-8 can encode, found a lone surrogate at "
                f"character {error.start}"
            ) from None
    if isinstance(data, mmap.mmap):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise CheckpointError(f"expected JSON text as bytes or str, found {type(data).__name__}")


def _count(raw: Buffer, start: int, close: int) -> int:
    """The numbers of the array ``raw[start : close + 1]``: one more than its commas
    (counted by numpy, a MiB at a time), or none when it holds only white space."""
    commas = count(raw, 0x2C, start, close)
    if commas:
        return commas + 1
    return 0 if _blank(raw, start + 1, close) else 1


def _numbers(
    raw: Buffer,
    start: int,
    close: int,
    *,
    room: int,
    keep: bool = True,
    count: int | None = None,
    sink: Callable[[np.ndarray], object] | None = None,
) -> np.ndarray:
    """The numeric JSON array ``raw[start : close + 1]`` as float32, at most ``room`` numbers.

    A large array is counted (by its commas) before anything is allocated for it, and
    decoded a chunk at a time into one float32 array: the Python floats alive at once
    are those of one chunk. Without ``keep`` the array is only checked (and each chunk
    handed to ``sink``): what comes back is a view of the right size on a single value.
    ``count``: the commas already counted.
    """
    if close + 1 - start <= _CHUNK:
        span = raw[start : close + 1]
        values = floats_from_numbers(orjson.loads(span), only_numbers=True)
        if values.size > room:
            raise _TooManyError
        _negative_zeros(span, values)
        return values
    if count is None:
        count = _count(raw, start, close)
    if count > room:
        raise _TooManyError
    kept = np.empty(count, dtype=np.float32) if keep else None
    filled, position = 0, start + 1
    while True:
        cut = raw.find(b",", position + _CHUNK, close) if position + _CHUNK < close else -1
        chunk = b"[" + raw[position : close if cut < 0 else cut] + b"]"
        try:
            part = floats_from_numbers(orjson.loads(chunk), only_numbers=True)
        except FieldError as error:
            raise FieldError(error.message, filled + int(error.parts[0])) from None
        if not part.size:
            if filled or cut >= 0:
                raise FieldError("expected a number, found none between two commas", filled)
            # only white space between the brackets: an empty array, as a short one reads
            release(raw, position, close)
            return kept[:0] if kept is not None else stand_in(0)
        if kept is not None or sink is not None:
            _negative_zeros(chunk, part)
        if kept is not None:
            kept[filled : filled + part.size] = part
        elif sink is not None:
            sink(part)
        filled += part.size
        release(raw, position, close if cut < 0 else cut)
        if cut < 0:
            return kept if kept is not None else stand_in(filled)
        position = cut + 1


_Span = tuple[int, int, int, int]
"""A decoded array: its start and end in the document, where its placeholder starts in
the skeleton (bytes) and the placeholder's length (ASCII, as the array's text)."""


def _parse_invalid(raw: Buffer, text: bytes, spans: list[_Span], error: Any) -> NoReturn:
    """Explain a document orjson refused, from its ``error`` in the skeleton ``text``.

    Neither the document nor a copy of it is parsed again: a second parse would build
    the Python floats the array reader avoids, and orjson's error holds the whole text
    as a str. The error is moved from the skeleton to the document instead.

    NaN and Infinity are not JSON, but some writers emit them; reading them with the
    standard library lets the error name the element instead of a byte offset. The
    standard library accepts more than JSON (lone surrogates, UTF-16, huge integers),
    so what it reads is only used to place the first NaN or Infinity, never returned.
    The skeleton is what it reads: the arrays taken out held only numbers, and the
    paths are the same.
    """
    found = None
    if len(text) <= _STDLIB_FALLBACK and (b"NaN" in text or b"Infinity" in text):
        with contextlib.suppress(ValueError, RecursionError):
            found = _first_constant(json.loads(text, parse_constant=_Constant))
    if found is not None:
        raise found from None
    where = _error_in_document(raw, text, spans, error)
    raise CheckpointError(f"expected a JSON document, found invalid JSON: {where}") from None


def _error_in_document(raw: Buffer, text: bytes, spans: list[_Span], error: Any) -> str:
    """orjson's message for ``raw``, made from its ``error`` in the skeleton ``text``.

    orjson counts characters; each array left the skeleton for a placeholder, both
    ASCII. Spans before the error shift its character offset by their difference in
    length and its line by their line breaks; its column is counted from the last line
    break before it, in the skeleton or inside an array.
    """
    position, line = int(error.pos), int(error.lineno)
    newline = position - error.colno  # the skeleton's last line break before it; -1: none
    shift = newline_shift = 0
    last_break = -1  # in the document, the last line break inside an array before it
    chars = previous = 0  # characters of the skeleton up to ``previous`` (a byte offset)
    for start, end, skeleton_at, length in spans:
        chars += len(text[previous:skeleton_at].translate(None, _CONTINUATION))
        previous = skeleton_at
        if chars + length > position:
            break  # this placeholder and those after it are past the error
        breaks = count(raw, 0x0A, start, end)
        if breaks:
            line += breaks
            last_break = chars + shift + raw.rfind(b"\n", start, end) - start
        shift += end - start - length
        if newline >= chars + length:
            newline_shift = shift
    newline = newline + newline_shift if newline >= 0 else -1
    position += shift
    return (
        f"{error.msg}: line {line} column {position - max(newline, last_break)} (char {position})"
    )


class _Constant(float):
    """NaN, Infinity or -Infinity as the standard library read it, marked as such."""

    def __new__(cls, text: str) -> _Constant:
        return super().__new__(cls, text)


def _first_constant(node: Any, parts: tuple[PathPart, ...] = ()) -> CheckpointError | None:
    """The error naming the first NaN or Infinity (nesting is already bounded).

    ``node`` is what the standard library read: a container, or a document that is a
    bare number or constant.
    """
    if isinstance(node, _Constant) and not parts:
        return CheckpointError(f"expected a finite number, found {float(node)}")
    if not isinstance(node, (dict, list)):
        return None
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


def _escaped(raw: Buffer, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes - 1 >= 0 and raw[quote - backslashes - 1] == 0x5C:
        backslashes += 1
    return backslashes % 2 == 1


def _walk(
    node: Any, names: set[str], marker: str, max_chars: int
) -> tuple[int, list[dict[str, Any]]]:
    """Check string lengths and count the keys of all objects; find the objects whose
    ``data`` is a placeholder among ``names``."""
    members = 0
    holders: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            members += len(item)
            data = item.get("data")
            placeholder = isinstance(data, str) and data.startswith(marker) and data in names
            if placeholder:
                holders.append(item)
            for key, value in item.items():
                if len(key) > max_chars:
                    raise _long_string(node, max_chars, marker)
                long = isinstance(value, str) and len(value) > max_chars
                if long and not (placeholder and key == "data"):
                    raise _long_string(node, max_chars, marker)
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            for value in item:
                if isinstance(value, (dict, list)):
                    stack.append(value)
                elif isinstance(value, str) and len(value) > max_chars:
                    raise _long_string(node, max_chars, marker)
    return members, holders


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
    return validated(Checkpoint, parse(data, limits=limits, check=_validated))


def _validated(document: Any) -> None:
    validated(Checkpoint, document)


def wire_document(checkpoint: Checkpoint, *, arrays: bool = True) -> dict[str, Any]:
    """The checkpoint as orjson-ready Python objects (arrays stay ndarrays).

    With ``arrays=False`` each array object is ``None``, for forms that store the
    arrays elsewhere (the binary form) and need only the rest of the document.
    With the arrays, a checkpoint holding a value that is not finite is refused with
    :func:`~rustgpt_format.boundary.checked`'s error: the scan of each array for the
    float32 pair that needs longer text finds those values too, so a writer whose form
    goes through here is spared a pass of its own over them (``checks_values``).
    """
    non_finite: list[np.ndarray] = []
    context = {"wire": True, "arrays": arrays, NON_FINITE: non_finite}
    document: dict[str, Any] = checkpoint.model_dump(context=context)
    if non_finite:
        checked(checkpoint)
        raise AssertionError("an array holding a value that is not finite passed the check")
    for key, field in type(checkpoint).model_fields.items():
        if not field.is_required() and field.default is None and document[key] is None:
            del document[key]  # optional keys are left out when absent
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
