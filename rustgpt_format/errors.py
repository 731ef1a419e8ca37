"""The one exception type of the format, and the paths it names."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int


def format_path(parts: Iterable[PathPart]) -> str:
    """Render path parts as a root path: ``("network", 3, "w_q")`` -> ``network[3].w_q``.

    >>> format_path(["network", 3, "w_q", "data", 517])
    'network[3].w_q.data[517]'
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def join_path(prefix: str, tail: str) -> str:
    """``join_path("network[3]", "w_q.data[5]")`` -> ``network[3].w_q.data[5]``."""
    if not prefix or not tail:
        return prefix or tail
    return prefix + tail if tail.startswith("[") else f"{prefix}.{tail}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where, what, and which rule said so."""

    path: str
    message: str
    rule: str = "reader"
    parts: tuple[PathPart, ...] = ()

    def __str__(self) -> str:
        """``path: message``; a problem of the whole document or file is its message alone.

        >>> str(Problem("", "cannot write a.json: No space left on device"))
        'cannot write a.json: No space left on device'
        """
        return f"{self.path}: {self.message}" if self.path else self.message


class CheckpointError(ValueError):
    """A checkpoint could not be read, validated or written.

    ``path`` names the place as a root path (``network[3].w_q.data[517]``; empty for
    the document as a whole) and ``problems`` lists every problem found, the first of
    which is the message.

    >>> str(CheckpointError("expected 1, found 2", path="format_version"))
    'format_version: expected 1, found 2'
    """

    def __init__(
        self, message: str, *, path: str = "", problems: Sequence[Problem] | None = None
    ) -> None:
        self.problems: tuple[Problem, ...] = (
            tuple(problems) if problems else (Problem(path, message),)
        )
        self.path = self.problems[0].path
        self.message = self.problems[0].message
        super().__init__(str(self.problems[0]))


class FieldError(ValueError):
    """Raised inside validators: a problem at ``parts`` below the value being checked.

    Pydantic attaches the location of the field; this adds the place inside it (an
    element index, a nested key) so the final path reaches the exact element.
    """

    def __init__(self, message: str, *parts: PathPart, rule: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.parts: tuple[PathPart, ...] = parts
        self.rule = rule


class FormatWarning(UserWarning):
    """Something was read but not kept: keys of a newer minor version, a migrated dialect."""


PACKAGES = ("rustgpt_format", "rustgpt_model")
"""This project's packages: a warning points past their frames, at the caller's line."""


def warn(message: str, category: type[Warning] = FormatWarning) -> None:
    """Warn with ``message``, pointing at the first line outside this project's packages.

    A fixed ``stacklevel`` counts frames, and the count depends on the path taken
    (``load``, ``read``, ``LLM.load``, a form's reader): it would name a line in this
    package instead of the user's ``rf.load(...)``. Python 3.12's ``skip_file_prefixes``
    does this walk; 3.11 does not have it. Frames are told by their module's name.

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("a.json: migrated from format version 0 -> 1.0")
    >>> print(caught[0].category.__name__, caught[0].message)
    FormatWarning a.json: migrated from format version 0 -> 1.0
    """
    frame = sys._getframe(1)
    level = 2  # the caller of warn
    while (
        frame.f_back is not None
        and str(frame.f_globals.get("__name__", "")).partition(".")[0] in PACKAGES
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
