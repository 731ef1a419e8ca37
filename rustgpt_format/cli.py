"""The ``rustgpt-format`` command: ``run(argv, stdout, stderr) -> exit code``."""

from __future__ import annotations

import sys
from typing import TextIO

from rustgpt_format.command_line import command_parser, parse
from rustgpt_format.commands import convert, diff, inspect, migrate, report, schema, validate
from rustgpt_format.versions import FORMAT_VERSION

COMMANDS = (validate, schema, inspect, convert, diff, migrate, report)
"""Each command module has ``NAME``, ``HELP``, ``configure(parser)`` and ``execute``."""


def run(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """Run the command line ``argv``: 0 all good, 1 something invalid, 2 usage error."""
    description = f"Validate, inspect and convert RustGPT checkpoints (format {FORMAT_VERSION})."
    args = parse(command_parser("rustgpt-format", description, COMMANDS), argv, stderr)
    if isinstance(args, int):
        return args
    code: int = args.execute(args, stdout, stderr)
    return code


def main() -> None:
    """Entry point of the ``rustgpt-format`` console script."""
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
