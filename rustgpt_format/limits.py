"""Bounds on what a file may claim, checked before the reader acts on the claim.

A checkpoint file says how big things are — its length, its nesting, the length of
its strings and arrays, a safetensors header's size and offsets. A reader that trusts
those claims can be made to allocate, recurse or loop without bound by a few bytes.
Every claim is checked against a :class:`Limits` first; the defaults are far above
any RustGPT model (its default checkpoint is 14 MB of JSON, 1.4 million numbers,
nesting 6) and far below what would exhaust a machine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

MAX_DEPTH_CEILING = 256
"""``max_depth`` cannot be raised past this: Python-level walks must not overflow the stack."""

FORMAT_DEPTH = 6
"""The deepest nesting the format uses: document, network, layer, optimizer, array, data."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What a reader accepts; pass ``limits=Limits(...)`` to ``load`` to raise a bound.

    >>> Limits().max_depth, Limits(max_file_bytes=8 * 2**30).max_file_bytes
    (16, 8589934592)
    >>> Limits(max_depth=0)
    Traceback (most recent call last):
    ...
    ValueError: max_depth: expected an integer from 1 to 256, found 0
    """

    max_file_bytes: int = 2**30
    """Bytes of a file (of a compressed file: after decompression); 1 GiB."""
    max_header_bytes: int = 16 * 2**20
    """Bytes of JSON outside the numeric ``data`` arrays, or of a safetensors header; 16 MiB."""
    max_header_values: int = 2**20
    """Values and keys in the JSON outside the numeric ``data`` arrays (1,048,576): each
    word of the vocabulary is one, each array object eight. Counted in the text before
    it is parsed, so the Python objects the parser builds stay near 100 MiB, whatever
    16 MiB of ``{}``, ``[]`` or short keys would make (over 500 MiB)."""
    max_elements: int = 2**28
    """float32 numbers in all arrays together (1 GiB as float32)."""
    max_string_chars: int = 2**16
    """Characters of one string or key (a word, a metadata value)."""
    max_depth: int = 16
    """Nesting of arrays and objects; the format needs 6, newer minor versions may add some."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            ceiling = MAX_DEPTH_CEILING if field.name == "max_depth" else None
            if type(value) is not int or value < 1 or (ceiling and value > ceiling):
                bound = f"from 1 to {ceiling}" if ceiling else "≥ 1"
                raise ValueError(f"{field.name}: expected an integer {bound}, found {value!r}")


DEFAULT_LIMITS = Limits()
"""The bounds used when a caller passes none."""
