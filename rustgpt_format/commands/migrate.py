"""``rustgpt-format migrate IN OUT``: an older checkpoint upgraded to the current version."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_format.commands.common import add_input_options, read_reporting, reporting
from rustgpt_format.forms import FORMS
from rustgpt_format.versions import FORMAT_VERSION
from rustgpt_format.writing import save

NAME = "migrate"
HELP = (
    f"upgrade a checkpoint of an older version (such as RustGPT's own JSON, version 0) "
    f"to format {FORMAT_VERSION}, step by step; OUT's form follows its extension"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", type=Path, metavar="IN", help="a checkpoint of any version (- for standard input)"
    )
    add_input_options(parser)
    parser.add_argument("target", type=Path, metavar="OUT", help="where to write (atomically)")
    parser.add_argument("--pretty", action="store_true", help="indent JSON output by 2")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    form = FORMS.for_path(args.target)
    if args.pretty and not form.indents:
        stderr.write(
            f"rustgpt-format migrate: error: --pretty applies to JSON; "
            f"the {form.name} form is binary\n"
        )
        return 2
    loaded = read_reporting(
        args.source, stderr, stdin=args.stdin, special=args.special_files, quiet_migration=True
    )
    if loaded is None:
        return 1
    indent = 2 if args.pretty else None

    def write() -> bool:
        save(loaded.checkpoint, args.target, indent=indent)
        return True

    if reporting(args.target, stderr, write) is None:
        return 1
    if loaded.migrations:
        steps = ", ".join(f"{step.source} -> {step.target}" for step in loaded.migrations)
        stdout.write(f"{args.source}: migrated {steps}; wrote {args.target}\n")
    else:
        stdout.write(
            f"{args.source}: already at version {loaded.version or FORMAT_VERSION}; "
            f"wrote {args.target}\n"
        )
    return 0
