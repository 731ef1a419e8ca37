"""The ``rustgpt`` command: ``run(argv, stdout, stderr) -> exit code``."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import TextIO

from rustgpt_format import FORMAT_VERSION, CheckpointError
from rustgpt_format.command_line import command_parser, console_main, parse
from rustgpt_model.commands import chat, demo, evaluate, generate, train
from rustgpt_model.commands.common import CommandError
from rustgpt_model.corpus import CorpusError
from rustgpt_model.train import TrainingError

COMMANDS = (train, demo, generate, chat, evaluate)
"""Each command module has ``NAME``, ``HELP``, ``configure(parser)`` and ``execute``."""


def run(argv: list[str], stdout: TextIO, stderr: TextIO, stdin: TextIO | None = None) -> int:
    """Run the command line ``argv``: 0 done, 1 a problem (one line on stderr), 2 usage.

    ``stdin`` is read by ``chat`` (``sys.stdin`` when None).
    """
    description = "Train and run RustGPT models (NumPy)."
    parser = command_parser("rustgpt", description, COMMANDS, version=version())
    args = parse(parser, argv, stderr, stdout)
    if isinstance(args, int):
        return args
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


def version() -> str:
    """What ``rustgpt --version`` prints: the package's version and the format it writes.

    >>> version().startswith("rustgpt ")
    True
    """
    try:
        installed = metadata.version("rustgpt-format")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        installed = "(not installed)"
    return f"rustgpt {installed} (rustgpt-checkpoint format {FORMAT_VERSION})"


def main() -> None:
    """Entry point of the ``rustgpt`` console script (no traceback from closed pipes)."""
    console_main(run, "rustgpt")
