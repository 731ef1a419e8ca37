"""The pre-commit hook runs the validate command on the files pre-commit passes it."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

from rustgpt_format.cli import run

ROOT = Path(__file__).parents[2]
HOOKS = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")


def field(name: str) -> str:
    match = re.search(rf"^[- ] {name}: (.+)$", HOOKS, re.MULTILINE)
    assert match is not None, name
    return match[1]


def test_the_hook_validates_matching_files_and_fails_on_invalid_ones() -> None:
    assert field("id") == "rustgpt-format-validate"
    assert field("language") == "python"
    program, *arguments = shlex.split(field("entry"))
    assert program == "rustgpt-format"  # the console script pyproject.toml installs
    pattern = re.compile(field("files"))
    valid = sorted((ROOT / "tests" / "fixtures" / "valid").glob("*"))
    invalid = sorted((ROOT / "tests" / "fixtures" / "reader-invalid").glob("*"))
    assert all(pattern.search(str(path)) for path in valid + invalid)
    assert all(pattern.search(name) for name in ("m.safetensors", "m.json.gz", "m.json"))
    assert not pattern.search("notes.txt")

    out, err = io.StringIO(), io.StringIO()
    assert run([*arguments, *map(str, valid)], out, err) == 0
    assert (out.getvalue(), err.getvalue()) == ("", "")
    assert run([*arguments, *map(str, valid + invalid)], out, err) == 1
    assert err.getvalue().count("\n") == len(invalid)
