"""``rustgpt-format validate FILE...``: the JSON Schema and the reader's rules, any form."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_format.validation import check_file

NAME = "validate"
HELP = (
    "check checkpoint files (JSON, .json.gz, .safetensors, RustGPT's own JSON) against the "
    "JSON Schema and the reader's structural rules"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="checkpoint files")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing for valid files")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    invalid = 0
    for path in args.files:
        problems, form = check_file(path)
        for problem in problems:
            stderr.write(f"{path}: {problem} [{problem.rule}]\n")
        if problems:
            invalid += 1
        elif not args.quiet:
            stdout.write(f"{path}: valid\n" if form == "json" else f"{path}: valid ({form})\n")
    return 1 if invalid else 0
