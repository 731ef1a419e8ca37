"""``rustgpt-format convert IN OUT``: any form to any form, the output's by its extension."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_format.commands.common import add_input_options, count, read_reporting, reporting
from rustgpt_format.forms import DIALECTS, FORMS, Dialect, WriteOptions
from rustgpt_format.writing import save

NAME = "convert"
HELP = (
    "convert a checkpoint between forms: .json, .json.gz, .safetensors (by OUT's "
    "extension; the input's form is told by content), and to RustGPT's own JSON"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", type=Path, metavar="IN", help="a checkpoint in any form (- for standard input)"
    )
    add_input_options(parser)
    parser.add_argument("target", type=Path, metavar="OUT", help="where to write (atomically)")
    parser.add_argument(
        "--to",
        choices=DIALECTS,
        default=None,
        help="the dialect to write: this format (the default, but for .bin) or RustGPT's "
        "own, which RustGPT's LLM::load reads",
    )
    parser.add_argument(
        "--weights-only",
        action="store_true",
        help="leave out the optimizer states (an inference-only checkpoint)",
    )
    parser.add_argument("--pretty", action="store_true", help="indent JSON output by 2")


def usage_problem(target: Path, dialect: Dialect | None, pretty: bool) -> str | None:
    """Why the options cannot be honoured for ``target``'s form, or None."""
    form = FORMS.for_path(target)
    dialect = dialect or form.dialects[0]
    if dialect not in form.dialects:
        endings = " or ".join(
            suffix for other in FORMS if dialect in other.dialects for suffix in other.suffixes
        )
        return f"--to {dialect}: the {form.name} form cannot write it; name OUT {endings}"
    if pretty and not form.indents:
        return f"--pretty applies to JSON; the {form.name} form is binary"
    try:
        form.check_options(WriteOptions(indent=2 if pretty else None, dialect=dialect))
    except ValueError as error:
        return str(error)
    return None


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    problem = usage_problem(args.target, args.to, args.pretty)
    if problem:
        stderr.write(f"rustgpt-format convert: error: {problem}\n")
        return 2
    loaded = read_reporting(
        args.source,
        stderr,
        stdin=args.stdin,
        special=args.special_files,
        optimizer=not args.weights_only,
        quiet_migration=True,
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
    form = FORMS.for_path(args.target)
    stdout.write(
        f"{args.source} -> {args.target} ({form.name}, {args.to or form.dialects[0]}, "
        f"{count(size)} bytes)\n"
    )
    return 0
