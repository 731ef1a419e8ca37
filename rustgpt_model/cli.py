"""The ``rustgpt`` command: ``run(argv, stdout, stderr) -> exit code``."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from rustgpt_format import CheckpointError
from rustgpt_model.commands import chat, demo, evaluate, generate, train
from rustgpt_model.commands.common import CommandError
from rustgpt_model.corpus import CorpusError
from rustgpt_model.train import TrainingError

COMMANDS = (train, demo, generate, chat, evaluate)
"""Each command module has ``NAME``, ``HELP``, ``configure(parser)`` and ``execute``."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports usage errors by exception instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


class _UsageError(Exception):
    pass


def _parser() -> _Parser:
    parser = _Parser(prog="rustgpt", description="Train and run RustGPT models (NumPy).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(sub)
        sub.set_defaults(execute=command.execute)
    return parser


def run(argv: list[str], stdout: TextIO, stderr: TextIO, stdin: TextIO | None = None) -> int:
    """Run the command line ``argv``: 0 done, 1 a problem (one line on stderr), 2 usage.

    ``stdin`` is read by ``chat`` (``sys.stdin`` when None).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        stderr.write(f"{error}\n")
        return 2
    except SystemExit as done:  # --help printed its text
        return int(done.code or 0)
    try:
        args.stdin = sys.stdin if stdin is None else stdin
        code: int = args.execute(args, stdout, stderr)
        return code
    except (CommandError, CheckpointError, CorpusError, TrainingError, ValueError) as error:
        stderr.write(f"rustgpt: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        stderr.write("rustgpt: interrupted (the last saved checkpoint is unchanged)\n")
        return 130


def main() -> None:
    """Entry point of the ``rustgpt`` console script."""
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
