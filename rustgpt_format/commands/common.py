"""What the file commands share: inputs, one line per problem, output safe for a terminal.

Every line about a file has one shape: ``FILE: PATH: message`` for a problem at a place
in the checkpoint, ``FILE: message`` for the file as a whole, ``FILE: warning: message``
for a warning. Nothing read from a file reaches the terminal unescaped (see
:func:`rustgpt_format.command_line.shown`).
"""

from __future__ import annotations

import argparse
import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO, TypeVar

from rustgpt_format.command_line import shown
from rustgpt_format.errors import CheckpointError, Problem
from rustgpt_format.forms import ReadOptions
from rustgpt_format.reading import Loaded, read, read_stream

T = TypeVar("T")
STDIN = "-"
"""The file name that means standard input."""
STDIN_NAME = "<stdin>"
"""How lines name standard input."""
SPECIAL_FLAG = "--special-files"

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def name_of(path: Path) -> str:
    """How lines name the file ``path`` (``<stdin>`` for ``-``)."""
    return STDIN_NAME if str(path) == STDIN else str(path)


def problem_line(file: str, problem: Problem, *, rule: bool = False) -> str:
    """``FILE: PATH: message`` (``FILE: message`` for the file as a whole), one line.

    >>> problem_line("a.json", Problem("network[3].w_q", "expected shape (4, 4)", "reader"))
    'a.json: network[3].w_q: expected shape (4, 4)\\n'
    >>> problem_line("a.json", Problem("", "not a checkpoint: binary data", "file"), rule=True)
    'a.json: not a checkpoint: binary data [file]\\n'
    """
    place = f"{shown(problem.path)}: " if problem.path else ""
    tag = f" [{problem.rule}]" if rule and problem.rule else ""
    return f"{shown(file)}: {place}{shown(advice(problem.message))}{tag}\n"


_RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"


def advice(message: str) -> str:
    """``message`` with the hint to raise a limit only where raising it could help.

    A bound past what the format itself needs (nesting: a checkpoint is 6 deep) is
    not worth raising: the file is not a checkpoint whatever the limit.

    >>> advice("expected nesting at most 16 deep (Limits.max_depth; the format needs 6), "
    ...        "found 40" + _RAISE)
    'expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 40'
    """
    return message.replace(_RAISE, "") if "the format needs" in message else message


def input_problem(
    path: Path, stdin: BinaryIO | None, *, special: bool = False, options: bool = True
) -> str | None:
    """Why ``path`` is not read, or None: a file that could make the command wait forever.

    A named pipe with no writer, a device or a socket blocks a reader (a CI job) with
    no end; they are read only when asked (``--special-files``) or as standard input
    (``-``), which is refused when it is a terminal nobody will type a checkpoint into.
    ``options``: whether the command has ``--special-files`` and ``-`` to suggest.
    """
    if str(path) == STDIN:
        if stdin is not None and stdin.isatty():
            return "standard input is a terminal: pipe or redirect a checkpoint into it"
        return None
    if special:
        return None
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None  # the reader names the problem (missing, a NUL byte, ...)
    for test, kind in _KINDS:
        if test(mode):
            advice = f"; pass {SPECIAL_FLAG} to read it, or - to read standard input"
            return (
                f"not a regular file ({kind}), which could wait forever for data"
                + (advice if options else "")
            )
    return None


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """The option every command reading checkpoints has: ``--special-files``."""
    parser.add_argument(
        SPECIAL_FLAG,
        action="store_true",
        help="also read named pipes, devices and sockets (reading may wait for a writer)",
    )


def write_problems(file: str, error: CheckpointError, stderr: TextIO) -> None:
    for problem in error.problems:
        stderr.write(problem_line(file, problem))


def reporting(
    path: Path | str, stderr: TextIO, action: Callable[[], T], *, quiet_migration: bool = False
) -> T | None:
    """Run ``action``; its problems and warnings become lines on ``stderr``.

    Returns None when it raised: each problem was written as ``FILE: PATH: message``.
    """
    file = str(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = action()
        except CheckpointError as error:
            write_problems(file, error, stderr)
            return None
        except ValueError as error:  # an option the form cannot honour
            stderr.write(f"{shown(file)}: {shown(error)}\n")
            return None
    for warning in caught:
        message = str(warning.message).removeprefix(f"{file}: ")
        if quiet_migration and message.startswith("migrated from format version"):
            continue
        stderr.write(f"{shown(file)}: warning: {shown(message)}\n")
    return result


def read_reporting(
    path: Path,
    stderr: TextIO,
    *,
    stdin: BinaryIO | None = None,
    special: bool = False,
    optimizer: bool = True,
    quiet_migration: bool = False,
) -> Loaded | None:
    """:func:`rustgpt_format.reading.read` of a path or ``-`` (``stdin``), reporting problems.

    Non-regular files are refused unless ``special`` (see :func:`input_problem`).
    """
    file = name_of(path)
    refused = input_problem(path, stdin, special=special)
    if refused:
        stderr.write(f"{shown(file)}: {refused}\n")
        return None
    if str(path) == STDIN:
        assert stdin is not None
        options = ReadOptions(optimizer=optimizer)
        return reporting(
            file,
            stderr,
            lambda: read_stream(stdin, file, options),
            quiet_migration=quiet_migration,
        )
    return reporting(
        path, stderr, lambda: read(path, optimizer=optimizer), quiet_migration=quiet_migration
    )


def count(number: int) -> str:
    """``1234567`` -> ``1,234,567``."""
    return f"{number:,}"
