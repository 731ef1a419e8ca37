"""JSON text looked at before it is parsed: its nesting, its keys, and paths to offsets.

A JSON parser trusts the text to be reasonable: orjson recurses up to 1024 levels and
keeps the last of two equal keys, and Python code walking the result recurses too.
These functions measure the text first, in C-speed passes over the bytes (regular
expressions, ``bytes.translate``, numpy), so a hostile document is refused before it
is parsed, with the path of the place at fault.
"""

from __future__ import annotations

import re

import numpy as np
import orjson

from rustgpt_format.errors import PathPart, format_path

# A string literal, or an unterminated one up to the end of the text. Matching the
# unterminated case too is what keeps these linear: a pattern that needs the closing
# quote scans to the end from every quote of ``"\"\"\"...`` and fails each time.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?|[\[\]{}]|[^"\[\]{}]++', re.DOTALL)
_KEY_BYTES = 1 << 20
"""A key literal longer than this is named by its start: decoding it whole costs memory."""
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


def without_strings(text: bytes) -> bytes:
    """``text`` with every string literal emptied, so brackets and colons are structure.

    >>> without_strings(b'{"a[": "]:", "b": 1}')
    b'{"": "", "": 1}'
    """
    return _STRING.sub(b'""', text)


def nesting_depth(structure: bytes) -> int:
    """How deep arrays and objects nest in ``structure`` (text without strings).

    >>> nesting_depth(b'{"": [[1], {"": 2}]}')
    3
    """
    brackets = np.frombuffer(structure.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    depth = deepest = 0
    # a chunk at a time: the steps and levels of 11 M brackets at once took 240 MiB
    for at in range(0, brackets.size, _DEPTH_CHUNK):
        part = brackets[at : at + _DEPTH_CHUNK]
        steps = np.where((part == ord("[")) | (part == ord("{")), 1, -1).astype(np.int32)
        levels = np.cumsum(steps, dtype=np.int64) + depth
        deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


_DEPTH_CHUNK = 1 << 18


def value_count(structure: bytes) -> int:
    """How many values and keys ``structure`` (text without strings) holds, at most:
    one per key (colon), per comma, per array or object, and the document itself.

    The count is exact when no array or object is empty (an empty one counts as
    holding one value); it bounds the Python objects a parser would build, before
    it builds them.

    >>> value_count(b'{"": [1, 2, {"": ""}], "": 3}')  # 7 values, 3 keys
    10
    """
    opening = structure.count(b"[") + structure.count(b"{")
    return structure.count(b",") + structure.count(b":") + opening + 1


def path_at(text: bytes, *, offset: int | None = None, depth: int | None = None) -> str:
    """The document path of the value at byte ``offset``, or of the first to nest past ``depth``.

    >>> path_at(b'{"network": [{"w_q": {"data": [1, 2]}}]}', offset=30)
    'network[0].w_q.data'
    >>> path_at(b'{"metadata": {"a": [[[[]]]]}}', depth=3)
    'metadata.a[0]'
    """
    return format_path(_scan(text, offset=offset, depth=depth) or ())


def duplicate_key(text: bytes) -> str | None:
    """The path of the first key that appears twice in one object, or None.

    >>> duplicate_key(b'{"a": {"b": 1, "c": 2, "b": 3}}')
    'a.b'
    """
    parts = _scan(text, duplicates=True)
    return None if parts is None else format_path(parts)


def _scan(
    text: bytes,
    *,
    offset: int | None = None,
    depth: int | None = None,
    duplicates: bool = False,
) -> list[PathPart] | None:
    """Walk the tokens of ``text`` keeping the path; stop where the caller asked."""
    path: list[PathPart] = []  # the key or index of each open container
    kinds: list[int] = []  # "[" or "{" of each open container
    keys: list[set[str]] = []  # keys seen so far in each open container
    expecting_key = False
    end = len(text) if offset is None else offset
    for token in _TOKEN.finditer(text, 0, end):
        # Tokens are looked at in place: a run of numbers may be most of the text.
        first = text[token.start()]
        if first == 0x22:  # a string: a key when an object expects one
            if expecting_key and kinds:
                key = _key(text[token.start() : min(token.end(), token.start() + _KEY_BYTES)])
                if duplicates and key in keys[-1]:
                    return [*path[:-1], key]
                keys[-1].add(key)
                path[-1], expecting_key = key, False
        elif first in _OPEN:
            if depth is not None and len(kinds) == depth:
                break
            kinds.append(first)
            keys.append(set())
            path.append(0 if first == ord("[") else "")
            expecting_key = first == ord("{")
        elif first in b"]}":
            if kinds:
                kinds.pop(), keys.pop(), path.pop()
            expecting_key = False
        elif kinds:
            commas = text.count(b",", token.start(), token.end())
            if commas and kinds[-1] == ord("["):
                path[-1] = int(path[-1]) + commas
            elif commas:
                expecting_key = True
    return None if duplicates else path


def _key(literal: bytes) -> str:
    try:
        key = orjson.loads(literal)
    except orjson.JSONDecodeError:
        key = literal[1:-1].decode("utf-8", "replace")
    return key if isinstance(key, str) else ""
