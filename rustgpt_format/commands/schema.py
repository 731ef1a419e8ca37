"""``rustgpt-format schema``: print, write or check the exported JSON Schema."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from rustgpt_format.commands.common import input_problem
from rustgpt_format.schema import SCHEMA_FILE, json_schema

NAME = "schema"
HELP = "print the JSON Schema of the format (or --check / --write the file in schemas/)"


def schema_text() -> str:
    """The schema exactly as checked in: indented by 2, keys in export order."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def configure(parser: argparse.ArgumentParser) -> None:
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the schema file differs from what the models export",
    )
    action.add_argument("--write", action="store_true", help="write the schema file")
    parser.add_argument(
        "--file",
        type=Path,
        default=None,
        help=f"schema file for --check and --write (default: schemas/{SCHEMA_FILE}); "
        "without either of them it is a usage error, never silently ignored",
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.file is not None and not (args.check or args.write):
        stderr.write(
            "rustgpt-format schema: error: --file applies to --check and --write; "
            "to print the schema, leave --file out (see rustgpt-format schema --help)\n"
        )
        return 2
    text = schema_text()
    path: Path = args.file if args.file is not None else Path("schemas") / SCHEMA_FILE
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return 0
    if not args.check:
        stdout.write(text)
        return 0
    refused = input_problem(path, None, options=False)  # a named pipe would wait forever
    if refused:
        stderr.write(f"{path}: {refused}\n")
        return 1
    try:
        current = path.read_text(encoding="utf-8")
    except OSError as error:
        stderr.write(f"{path}: cannot read: {error.strerror or error}\n")
        return 1
    if current != text:
        stderr.write(
            f"{path}: differs from the schema the models export; "
            "run `rustgpt-format schema --write` and commit it\n"
        )
        return 1
    stdout.write(f"{path}: up to date\n")
    return 0
