"""``rustgpt-format validate FILE...``: the JSON Schema and the reader's rules."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from rustgpt_format.errors import CheckpointError, Problem
from rustgpt_format.validation import check_bytes

NAME = "validate"
HELP = "check checkpoint files against the JSON Schema and the reader's structural rules"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="checkpoint files")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing for valid files")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    invalid = 0
    for path in args.files:
        problems = _problems(path)
        for problem in problems:
            stderr.write(f"{path}: {problem} [{problem.rule}]\n")
        if problems:
            invalid += 1
        elif not args.quiet:
            stdout.write(f"{path}: valid\n")
    return 1 if invalid else 0


def _problems(path: Path) -> list[Problem]:
    try:
        data = path.read_bytes()
    except OSError as error:
        return [Problem("", f"cannot read: {error.strerror or error}", "file")]
    problems: list[Any] = check_bytes(data)
    return problems


__all__ = ["HELP", "NAME", "CheckpointError", "configure", "execute"]
