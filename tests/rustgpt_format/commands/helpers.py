"""Running the rustgpt-format command with captured streams."""

from __future__ import annotations

import io

from rustgpt_format.cli import run


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()
