"""Command-line plumbing shared by ``rustgpt-format`` and ``rustgpt``.

Each command is a module with ``NAME``, ``HELP``, ``configure(parser)`` and
``execute(args, stdout, stderr) -> exit code``; a command line that does not parse is
one line on stderr and exit code 2, never ``SystemExit`` from deep inside argparse.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TextIO


class UsageError(Exception):
    """A command line that does not parse (exit code 2)."""


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of exiting.

    A subcommand's parser is ``strict``: an argument it does not know is reported by
    it, with its usage, rather than handed up to the top-level parser, which would
    send the user to the top-level help.
    """

    strict = False

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if self.strict and extras:
            raise UsageError(
                f"{self.format_usage()}{self.prog}: error: unrecognized arguments: "
                f"{' '.join(extras)} (see {self.prog} --help)"
            )
        return parsed, extras


class _SubcommandParser(CommandParser):
    strict = True


def command_parser(
    prog: str, description: str, commands: Sequence[ModuleType], *, version: str | None = None
) -> CommandParser:
    """A parser with one subcommand per command module, each calling its ``execute``.

    ``version`` is what ``PROG --version`` prints (no ``--version`` when None).

    >>> parser = command_parser("tool", "A tool.", [], version="tool 1.0")
    >>> parser.prog
    'tool'
    """
    parser = CommandParser(prog=prog, description=description)
    if version is not None:
        parser.add_argument("--version", action="version", version=version)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_SubcommandParser
    )
    subparsers.required = True
    for command in commands:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(sub)
        sub.set_defaults(execute=command.execute)
    return parser


def parse(
    parser: CommandParser, argv: list[str], stderr: TextIO, stdout: TextIO | None = None
) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code when parsing ended the run (usage, --help).

    ``--help`` and ``--version`` print to ``stdout`` (``sys.stdout`` when None).
    """
    try:
        with contextlib.redirect_stdout(stdout) if stdout is not None else contextlib.nullcontext():
            return parser.parse_args(argv)
    except UsageError as error:
        stderr.write(f"{error}\n")
        return 2
    except SystemExit as done:  # --help or --version printed its text
        return int(done.code or 0)


def number(
    *, above: float | None = None, least: float | None = None, most: float | None = None
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in the given bounds, or a usage error.

    >>> number(above=0)("0.5")
    0.5
    >>> number(above=0)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number > 0, found '0'
    """
    bounds = [
        f"{relation} {bound:g}"
        for relation, bound in ((">", above), (">=", least), ("<=", most))
        if bound is not None
    ]
    expected = f"expected a number {' and '.join(bounds)}" if bounds else "expected a number"

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if (
            not math.isfinite(value)
            or (above is not None and not value > above)
            or (least is not None and not value >= least)
            or (most is not None and not value <= most)
        ):
            raise argparse.ArgumentTypeError(f"{expected}, found {text!r}")
        return value

    return convert


def count(*, least: int = 0) -> Callable[[str], int]:
    """An argparse ``type``: an integer of at least ``least``, or a usage error.

    >>> count(least=1)("3")
    3
    >>> count(least=1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, found '0'
    """

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"expected an integer >= {least}, found {text!r}")
        return value

    return convert
