"""``rustgpt-format report CHECKPOINT [-o report.html]`` and ``report BEFORE AFTER``.

One self-contained HTML page: the checkpoint at a glance, its layers, statistics and a
histogram of every array and Adam moment, Adam's effective step, the training curve;
with two checkpoints, also what changed in each array. An invalid file still gets its
page, with every problem at the top. Exit 0 when the page was written for valid
files, 1 when a file is invalid (the page is written all the same) or the two
checkpoints cannot be compared (nothing is written), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import struct
import warnings
from pathlib import Path
from typing import TextIO

import rustgpt_format
from rustgpt_format.codec import parse
from rustgpt_format.commands.common import problem_line
from rustgpt_format.compression import inflate, is_gzip
from rustgpt_format.errors import CheckpointError
from rustgpt_format.limits import DEFAULT_LIMITS
from rustgpt_format.report import Subject, render
from rustgpt_format.validation import check_file

NAME = "report"
HELP = (
    "write one self-contained HTML page about a checkpoint (layers, statistics and "
    "histograms of every array, Adam's state and step, the loss curve); given BEFORE "
    "and AFTER, also what training changed in each array"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "first", type=Path, metavar="CHECKPOINT", help="a checkpoint in any form (or BEFORE)"
    )
    parser.add_argument(
        "second", type=Path, nargs="?", metavar="AFTER", help="the later checkpoint, to compare"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("report.html"),
        metavar="HTML",
        help="where to write the page (report.html)",
    )
    parser.add_argument(
        "--weights-only",
        action="store_true",
        help="leave the optimizer state out (less memory and time; no Adam section)",
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    inputs = [path for path in (args.first, args.second) if path is not None]
    if any(_same_file(args.output, path) for path in inputs):
        stderr.write(f"{args.output}: is an input checkpoint; name the page another file (-o)\n")
        return 2
    before = None
    if args.second is not None:
        # Only the weights of BEFORE are compared: its Adam state is never read.
        before = read(args.first, optimizer=False)
    after = read(args.second or args.first, optimizer=not args.weights_only)
    for subject in (before, after):
        if subject is not None:
            stderr.writelines(problem_line(subject.name, problem) for problem in subject.problems)
    try:
        page = render(after, before=before)
    except ValueError as error:  # two valid checkpoints of different architectures
        assert before is not None
        stderr.write(f"{after.name}: cannot compare with {before.name}: {error}\n")
        return 1
    try:
        args.output.write_text(page, encoding="utf-8")
    except OSError as error:
        stderr.write(f"{args.output}: cannot write: {error.strerror or error}\n")
        return 1
    compared = f", compared with {before.name}" if before is not None else ""
    stdout.write(
        f"wrote {args.output} ({len(page.encode()) / 1024:,.0f} KiB): {after.name}{compared}\n"
    )
    invalid = after.problems or (before is not None and before.problems)
    return 1 if invalid else 0


def read(path: Path, *, optimizer: bool = True) -> Subject:
    """Everything the report needs of one file: the checkpoint, or the problems.

    The one place the command calls the reader: ``rustgpt_format.load`` for the
    checkpoint and, when it refuses the file, ``check_file`` for every problem in the
    validator's words (and the document, when its JSON parses, to show what it can).
    """
    size = path.stat().st_size if path.is_file() else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            checkpoint = rustgpt_format.load(path, optimizer=optimizer)
        except CheckpointError as error:
            problems, form = check_file(path)
            return Subject(
                str(path),
                problems=tuple(problems or error.problems),
                form=form,
                size=size,
                # Only JSON has a document to show in part; a binary file shows its problems.
                document=None if form == "safetensors" else _document(path),
            )
    notes = tuple(str(w.message).removeprefix(f"{path}: ") for w in caught)
    migrated = any(note.startswith("migrated from format version 0") for note in notes)
    version = (
        "RustGPT's own JSON (version 0), read as format 1.0"
        if migrated
        else f"{checkpoint.format} {checkpoint.format_version}"
    )
    return Subject(str(path), checkpoint, form=_form(path), version=version, size=size, notes=notes)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _form(path: Path) -> str:
    """The form of a file the reader accepted, told by its first bytes."""
    with path.open("rb") as stream:
        head = stream.read(9)
    if is_gzip(head):
        return "json.gz"
    if len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] > 0:
        return "safetensors"
    return "json"


def _document(path: Path) -> object:
    """The parsed JSON of a file the reader refused, or None when it does not parse."""
    try:
        if path.stat().st_size > DEFAULT_LIMITS.max_file_bytes:
            return None
        data = path.read_bytes()
        return parse(inflate(data, limit=DEFAULT_LIMITS.max_file_bytes) if is_gzip(data) else data)
    except (OSError, CheckpointError):
        return None
