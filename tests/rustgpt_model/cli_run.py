"""Running the ``rustgpt`` command in-process, for the CLI tests."""

from __future__ import annotations

import io
from pathlib import Path

from rustgpt_model.cli import run

TINY = ["--embedding-dim", "8", "--hidden-dim", "16", "--max-seq-len", "40", "--blocks", "1"]
"""A model small enough that an epoch of the embedded corpus takes milliseconds."""


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal (tqdm draws its bar only on one)."""

    def isatty(self) -> bool:
        return True


def rustgpt(
    *argv: str | Path, stdin: str = "", stderr: io.StringIO | None = None
) -> tuple[int, str, str]:
    """``rustgpt ARGV``: the exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO() if stderr is None else stderr
    code = run([str(a) for a in argv], out, err, io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()
