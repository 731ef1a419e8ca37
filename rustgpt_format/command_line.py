"""Command-line plumbing shared by ``rustgpt-format`` and ``rustgpt``.

Each command is a module with ``NAME``, ``HELP``, ``configure(parser)`` and
``execute(args, stdout, stderr) -> exit code``; a command line that does not parse is
one line on stderr and exit code 2, never ``SystemExit`` from deep inside argparse.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn, TextIO

SIGPIPE_EXIT = 141
"""The exit code when the reader of standard output went away (128 + SIGPIPE, as a shell shows)."""
INTERRUPT_EXIT = 130
"""The exit code after Ctrl-C (128 + SIGINT)."""


def shown(text: object) -> str:
    """``text`` safe to print: every non-printable character escaped, on one line.

    Control characters (escape sequences, carriage returns, new lines), bidirectional
    marks and the bytes of a non-UTF-8 file name (decoded by Python as lone
    surrogates) are written as backslash escapes, so a hostile file name or content
    can neither move the cursor nor forge a line.

    >>> print(shown("a\\x1b[31mred\\n.json"), shown("caf\\udce9.json"), shown("café"))
    a\\x1b[31mred\\n.json caf\\xe9.json café
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class Printable(io.TextIOBase):
    """A text stream that escapes what :func:`shown` escapes, line ends aside."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write("\n".join(shown(part) for part in text.split("\n")))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True


def console_main(run: Callable[[list[str], TextIO, TextIO], int], prog: str) -> NoReturn:
    """Run a console script's ``run`` on ``sys.argv`` and exit: never a traceback.

    - text the terminal's encoding cannot hold is written as backslash escapes (a file
      name that is not UTF-8 under ``PYTHONIOENCODING=utf-8:strict``);
    - a reader of standard output that goes away (``| head -1``) ends the run
      quietly, with exit code 141, as a program killed by SIGPIPE;
    - Ctrl-C is one line and exit code 130; an unexpected exception (a bug) is one line
      naming it, and exit code 1;
    - a warning is one line, ``FILE: warning: message`` (``PROG: warning: message``
      when it names no file), never Python's ``file.py:40: FormatWarning:`` lines.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    warnings.showwarning = _one_line_warnings(prog)
    try:
        code = run(sys.argv[1:], sys.stdout, sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_output()
        code = SIGPIPE_EXIT
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            sys.stderr.write(f"{prog}: interrupted\n")
        code = INTERRUPT_EXIT
    except Exception as error:  # a bug: one line that says so, still no traceback
        with contextlib.suppress(OSError):
            sys.stderr.write(
                shown(f"{prog}: internal error: {type(error).__name__}: {error}")
                + f" (a bug in {prog}: please report it with the command line)\n"
            )
        code = 1
    sys.exit(code)


def _discard_output() -> None:
    """Point standard output and error at /dev/null, so the flush at exit cannot fail."""
    null = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(null, stream.fileno())
    os.close(null)


def _one_line_warnings(prog: str) -> Callable[..., None]:
    def show(message: Warning | str, *args: object, **kwargs: object) -> None:
        text = str(message)
        file, separator, rest = text.partition(": ")
        line = (
            f"{file}: warning: {rest}"
            if separator and os.path.exists(file)
            else f"{prog}: warning: {text}"
        )
        with contextlib.suppress(OSError):
            sys.stderr.write(shown(line) + "\n")

    return show


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
