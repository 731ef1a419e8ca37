"""``rustgpt-format convert IN OUT``: any form to any form, the output's by its extension."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_format.commands.common import count, read_reporting, reporting
from rustgpt_format.files import save
from rustgpt_format.forms import DIALECTS, Dialect, form_for_path

NAME = "convert"
HELP = (
    "convert a checkpoint between forms: .json, .json.gz, .safetensors (by OUT's "
    "extension; the input's form is told by content), and to RustGPT's own JSON"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, metavar="IN", help="a checkpoint in any form")
    parser.add_argument("target", type=Path, metavar="OUT", help="where to write (atomically)")
    parser.add_argument(
        "--to",
        choices=DIALECTS,
        default="rustgpt-checkpoint",
        help="the JSON dialect to write: this format (default) or RustGPT's own, "
        "which RustGPT's LLM::load reads",
    )
    parser.add_argument(
        "--weights-only",
        action="store_true",
        help="leave out the optimizer states (an inference-only checkpoint)",
    )
    parser.add_argument("--pretty", action="store_true", help="indent JSON output by 2")


def usage_problem(target: Path, dialect: Dialect, pretty: bool) -> str | None:
    """Why the options cannot be honoured for ``target``'s form, or None."""
    if form_for_path(target) != "safetensors":
        return None
    if dialect == "rustgpt":
        return "--to rustgpt writes JSON; name OUT .json or .json.gz"
    if pretty:
        return "--pretty applies to JSON; the .safetensors form is binary"
    return None


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    problem = usage_problem(args.target, args.to, args.pretty)
    if problem:
        stderr.write(f"rustgpt-format convert: error: {problem}\n")
        return 2
    loaded = read_reporting(
        args.source, stderr, optimizer=not args.weights_only, quiet_migration=True
    )
    if loaded is None:
        return 1
    indent = 2 if args.pretty else None

    def write() -> bool:
        save(loaded.checkpoint, args.target, indent=indent, dialect=args.to)
        return True

    if reporting(args.target, stderr, write) is None:
        return 1
    size = args.target.stat().st_size
    stdout.write(
        f"{args.source} -> {args.target} ({form_for_path(args.target)}, {args.to}, "
        f"{count(size)} bytes)\n"
    )
    return 0
