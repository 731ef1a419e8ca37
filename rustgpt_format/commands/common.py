"""What the file commands share: read or write a checkpoint, report as ``file: path: message``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from rustgpt_format.errors import CheckpointError
from rustgpt_format.reading import Loaded, read

T = TypeVar("T")


def reporting(
    path: Path, stderr: TextIO, action: Callable[[], T], *, quiet_migration: bool = False
) -> T | None:
    """Run ``action``; its problems and warnings become lines on ``stderr``.

    Returns None when it raised: each problem was written as ``file: path: message``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = action()
        except CheckpointError as error:
            for problem in error.problems:
                stderr.write(f"{path}: {problem}\n")
            return None
        except ValueError as error:  # an option the form cannot honour
            stderr.write(f"{path}: {error}\n")
            return None
    for warning in caught:
        message = str(warning.message).removeprefix(f"{path}: ")
        if quiet_migration and message.startswith("migrated from format version"):
            continue
        stderr.write(f"{path}: warning: {message}\n")
    return result


def read_reporting(
    path: Path, stderr: TextIO, *, optimizer: bool = True, quiet_migration: bool = False
) -> Loaded | None:
    """:func:`rustgpt_format.reading.read`, reporting problems and warnings on ``stderr``."""
    return reporting(
        path, stderr, lambda: read(path, optimizer=optimizer), quiet_migration=quiet_migration
    )


def count(number: int) -> str:
    """``1234567`` -> ``1,234,567``."""
    return f"{number:,}"
