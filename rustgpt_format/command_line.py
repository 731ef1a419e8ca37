"""Command-line plumbing shared by ``rustgpt-format`` and ``rustgpt``.

Each command is a module with ``NAME``, ``HELP``, ``configure(parser)`` and
``execute(args, stdout, stderr) -> exit code``; a command line that does not parse is
one line on stderr and exit code 2, never ``SystemExit`` from deep inside argparse.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType
from typing import TextIO


class UsageError(Exception):
    """A command line that does not parse (exit code 2)."""


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def command_parser(prog: str, description: str, commands: Sequence[ModuleType]) -> CommandParser:
    """A parser with one subcommand per command module, each calling its ``execute``."""
    parser = CommandParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=CommandParser
    )
    subparsers.required = True
    for command in commands:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(sub)
        sub.set_defaults(execute=command.execute)
    return parser


def parse(parser: CommandParser, argv: list[str], stderr: TextIO) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code when parsing ended the run (usage, --help)."""
    try:
        return parser.parse_args(argv)
    except UsageError as error:
        stderr.write(f"{error}\n")
        return 2
    except SystemExit as done:  # --help printed its text
        return int(done.code or 0)
