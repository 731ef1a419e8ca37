"""``rustgpt-format validate FILE...``: the JSON Schema and the reader's rules, any form.

Exit 0 when every file is valid (or skipped), 1 when any is invalid, 2 for usage.
``-`` reads standard input; named pipes, devices and sockets are refused unless
``--special-files`` asks for them, so a CI job never waits forever on one. With
``--skip-non-checkpoints`` a file whose content does not claim to be a checkpoint
(see :mod:`rustgpt_format.commands.claims`) is skipped with a note: what the
pre-commit hook runs, in repositories full of other JSON files.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import BinaryIO, TextIO

from rustgpt_format.command_line import shown
from rustgpt_format.commands.claims import claims_checkpoint
from rustgpt_format.commands.common import (
    STDIN,
    add_input_options,
    input_problem,
    name_of,
    problem_line,
)
from rustgpt_format.errors import CheckpointError, Problem
from rustgpt_format.forms import Source
from rustgpt_format.reading import open_source
from rustgpt_format.validation import check_source

NAME = "validate"
HELP = (
    "check checkpoint files (JSON, .json.gz, .safetensors, RustGPT's own JSON) against the "
    "JSON Schema and the reader's structural rules; - reads standard input"
)
_NOT_A_CHECKPOINT = "not a checkpoint: "


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="checkpoint files (- for stdin)"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing for valid or skipped files"
    )
    parser.add_argument(
        "--skip-non-checkpoints",
        action="store_true",
        help="skip, with a note, files whose content does not claim to be a checkpoint "
        '(no top-level "format": "rustgpt-checkpoint", not RustGPT\'s {vocab, network}); '
        "a file that claims to be one and is broken still fails",
    )
    add_input_options(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if sum(str(path) == STDIN for path in args.files) > 1:
        stderr.write("rustgpt-format validate: error: - (standard input) can be read once\n")
        return 2
    invalid = 0
    for path in args.files:
        name = name_of(path)
        refused = input_problem(path, args.stdin, special=args.special_files)
        problems, form, source = (
            ([Problem("", refused, "file")], "", None) if refused else _check(path, args.stdin)
        )
        skip = problems and args.skip_non_checkpoints and not refused
        if skip and not _claims(path, source):
            if not args.quiet:
                stdout.write(f"{shown(name)}: skipped, not a checkpoint: {_why(problems)}\n")
            continue
        for problem in problems:
            stderr.write(problem_line(name, problem, rule=True))
        if problems:
            invalid += 1
        elif not args.quiet:
            stdout.write(f"{shown(name)}: valid" + ("\n" if form == "json" else f" ({form})\n"))
    return 1 if invalid else 0


def _why(problems: list[Problem]) -> str:
    first = problems[0].message
    if len(problems) == 1 and first.startswith(_NOT_A_CHECKPOINT):
        return first.removeprefix(_NOT_A_CHECKPOINT)  # what it looks like: binary data, ...
    if len(problems) == 1 and first.endswith("found an empty file"):
        return "an empty file"
    return 'nothing in it says it is one (no "format": "rustgpt-checkpoint")'


def _check(path: Path, stdin: BinaryIO | None) -> tuple[list[Problem], str, Source | None]:
    """The problems and form of a file; standard input's source too (it is read once)."""
    try:
        if str(path) == STDIN:
            assert stdin is not None
            source = Source.of_file(stdin, name_of(path))
            return (*check_source(source), source)
        with open_source(path, named=False) as stream:
            return (*check_source(Source.of_file(stream, str(path))), None)
    except CheckpointError as error:
        return [Problem(p.path, p.message, "file") for p in error.problems], "", None
    except OSError as error:
        return [Problem("", f"cannot read: {error.strerror or error}", "file")], "", None


def _claims(path: Path, stdin_source: Source | None) -> bool:
    if str(path) == STDIN:
        return stdin_source is not None and claims_checkpoint(stdin_source)
    try:
        with open_source(path) as stream:
            return claims_checkpoint(Source.of_file(stream, str(path)))
    except (CheckpointError, OSError):
        return False
