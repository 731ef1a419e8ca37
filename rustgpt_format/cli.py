"""The ``rustgpt-format`` command: ``run(argv, stdout, stderr) -> exit code``."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from typing import BinaryIO, TextIO, cast

from rustgpt_format.command_line import Printable, command_parser, console_main, parse
from rustgpt_format.commands import convert, diff, inspect, migrate, report, schema, validate
from rustgpt_format.versions import FORMAT_VERSION

COMMANDS = (validate, schema, inspect, convert, diff, migrate, report)
"""Each command module has ``NAME``, ``HELP``, ``configure(parser)`` and ``execute``."""


def run(
    argv: list[str], stdout: TextIO, stderr: TextIO, stdin: BinaryIO | None = None
) -> int:
    """Run the command line ``argv``: 0 all good, 1 something invalid, 2 usage error.

    Everything written goes through :class:`~rustgpt_format.command_line.Printable`:
    no control character from a file's name or content reaches the terminal. ``stdin``
    is what ``-`` reads (``sys.stdin.buffer`` when None).
    """
    stdout, stderr = cast(TextIO, Printable(stdout)), cast(TextIO, Printable(stderr))
    description = f"Validate, inspect and convert RustGPT checkpoints (format {FORMAT_VERSION})."
    parser = command_parser("rustgpt-format", description, COMMANDS, version=version())
    args = parse(parser, argv, stderr, stdout)
    if isinstance(args, int):
        return args
    return execute(args, stdout, stderr, stdin)


def execute(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: BinaryIO | None
) -> int:
    args.stdin = stdin if stdin is not None else sys.stdin.buffer if sys.stdin else None
    code: int = args.execute(args, stdout, stderr)
    return code


def version() -> str:
    """What ``rustgpt-format --version`` prints: the package's version and the format's.

    >>> version().startswith("rustgpt-format ") and version().endswith("(format 1.0)")
    True
    """
    try:
        installed = metadata.version("rustgpt-format")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        installed = "(not installed)"
    return f"rustgpt-format {installed} (format {FORMAT_VERSION})"


def main() -> None:
    """Entry point of the ``rustgpt-format`` console script."""
    console_main(run, "rustgpt-format")
