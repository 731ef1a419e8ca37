"""The ``rustgpt-format`` command: ``run(argv, stdout, stderr) -> exit code``."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from rustgpt_format.commands import convert, diff, inspect, migrate, schema, validate
from rustgpt_format.versions import FORMAT_VERSION

COMMANDS = (validate, schema, inspect, convert, diff, migrate)
"""Each command module has ``NAME``, ``HELP``, ``configure(parser)`` and ``execute``."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports usage errors by exception instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message} (see --help)")


class _UsageError(Exception):
    pass


def _parser() -> _Parser:
    parser = _Parser(
        prog="rustgpt-format",
        description=f"Validate and inspect RustGPT checkpoints (format {FORMAT_VERSION}).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(sub)
        sub.set_defaults(execute=command.execute)
    return parser


def run(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """Run the command line ``argv``: 0 all good, 1 something invalid, 2 usage error."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        stderr.write(f"{error}\n")
        return 2
    except SystemExit as done:  # --help printed its text
        return int(done.code or 0)
    code: int = args.execute(args, stdout, stderr)
    return code


def main() -> None:
    """Entry point of the ``rustgpt-format`` console script."""
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
