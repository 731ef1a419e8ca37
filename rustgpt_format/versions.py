"""Format identity and the version policy of contract §8: one source for the version.

Everything else derives from :data:`CURRENT`: the version string written, the pattern a
1.x version matches in the schema, the schema's file name.
"""

from __future__ import annotations

import re
from typing import Any

from rustgpt_format.errors import FieldError
from rustgpt_format.float32 import describe

FORMAT = "rustgpt-checkpoint"
CURRENT = (1, 0)
"""The (major, minor) version this package writes; it reads every (major, y)."""
FORMAT_VERSION = f"{CURRENT[0]}.{CURRENT[1]}"
VERSION_PATTERN = rf"^{CURRENT[0]}\.(0|[1-9][0-9]*)$"
"""The ``format_version`` texts of this major version (any minor, as contract §8 reads them)."""

_VERSION = re.compile(r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$")


def parse_version(text: str) -> tuple[int, int] | None:
    """``"1.2"`` -> ``(1, 2)``; None when the text is not MAJOR.MINOR.

    >>> parse_version("1.12"), parse_version("1.0.0")
    ((1, 12), None)
    """
    match = _VERSION.match(text)
    return (int(match[1]), int(match[2])) if match else None


def check_version(data: dict[str, Any], *, required: bool = True) -> tuple[int, int]:
    """The version a decoded document claims, refusing what this reader cannot read.

    With ``required=False`` (keyword construction in Python) an absent ``format`` or
    ``format_version`` means the current one.
    """
    if "format" in data and data["format"] != FORMAT:
        raise FieldError(f"expected {FORMAT!r}, found {describe(data['format'])}", "format")
    if "format" not in data and required:
        raise FieldError(f"missing required key (expected {FORMAT!r})", "format")
    if "format_version" not in data:
        if required:
            raise FieldError(
                f"missing required key (expected {FORMAT_VERSION!r})", "format_version"
            )
        return CURRENT
    text = data["format_version"]
    version = parse_version(text) if isinstance(text, str) else None
    if version is None:
        raise FieldError(
            f'expected a version "MAJOR.MINOR" such as {FORMAT_VERSION!r}, found {describe(text)}',
            "format_version",
        )
    if version[0] > CURRENT[0]:
        raise FieldError(
            f"written by a newer rustgpt-format (format {text}); this reader reads "
            f"{CURRENT[0]}.x: upgrade rustgpt-format to read it",
            "format_version",
        )
    if version[0] < CURRENT[0]:
        raise FieldError(
            f"this reader reads format {CURRENT[0]}.x (it writes {FORMAT_VERSION}), "
            f"found version {text}; migrate it",
            "format_version",
        )
    return version
