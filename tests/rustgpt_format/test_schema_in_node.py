"""The exported schema checked from another language: Ajv on Node agrees with jsonschema.

CI runs ``npm ci --prefix tests/ajv`` before pytest; locally, run it once. Without Node
or Ajv this test fails (it is the proof that the schema is portable, so it must run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import rustgpt_format as rf

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SCRIPT = ROOT / "tests" / "ajv" / "validate.js"
SCHEMA = ROOT / "schemas" / "rustgpt-checkpoint-1.0.schema.json"


def ajv_results() -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the schema must be checked by a non-Python validator")
    if not (SCRIPT.parent / "node_modules" / "ajv").is_dir():
        pytest.fail("Ajv is not installed: run `npm ci --prefix tests/ajv` (CI does)")
    done = subprocess.run(
        [node, str(SCRIPT), str(SCHEMA), str(FIXTURES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def test_ajv_and_jsonschema_give_every_example_the_same_verdict() -> None:
    results = ajv_results()
    folders = {result["file"].split("/")[0] for result in results}
    assert folders == {"valid", "golden", "reader-invalid", "schema-invalid", "v0"}
    assert len([r for r in results if r["file"].startswith("schema-invalid/")]) >= 15
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    python = {
        result["file"]: validator.is_valid(json.loads((FIXTURES / result["file"]).read_bytes()))
        for result in results
    }
    assert {r["file"]: r["valid"] for r in results} == python
    assert {r["file"]: r["valid"] for r in results} == {r["file"]: r["expected"] for r in results}


def test_the_reader_refuses_what_only_it_can_check() -> None:
    """reader-invalid examples pass both schema validators and are still refused on reading."""
    for path in sorted((FIXTURES / "reader-invalid").glob("*.json")):
        with pytest.raises(rf.CheckpointError):
            rf.loads(path.read_bytes())
    for path in sorted((FIXTURES / "schema-invalid").glob("*.json")):
        with pytest.raises(rf.CheckpointError):
            rf.loads(path.read_bytes())
    for path in sorted((FIXTURES / "valid").glob("*.json")):
        assert rf.loads(path.read_bytes()).format_version == "1.0"
