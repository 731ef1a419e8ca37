"""docs/format.md stays consistent with the models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import rustgpt_format as rf

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")


def test_the_example_in_the_document_is_the_valid_fixture() -> None:
    example = DOC.split("## 13. Example", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", example, re.S)
    assert block is not None
    fixture = ROOT / "tests" / "fixtures" / "valid" / "docs-example.json"
    assert json.loads(block[1]) == json.loads(fixture.read_text(encoding="utf-8"))
    checkpoint = rf.loads(block[1])
    assert checkpoint.network[1].optimizers()["optimizer_w_q"] is not None


def test_every_layer_field_is_documented() -> None:
    for kind in (
        rf.Embeddings,
        rf.SelfAttention,
        rf.FeedForward,
        rf.LayerNorm,
        rf.OutputProjection,
    ):
        for field in kind.model_fields:
            assert f"`{field}`" in DOC, f"{kind.__name__}.{field} is not in docs/format.md"
    for field in (
        *rf.TrainingState.model_fields,
        *rf.TrainingPhase.model_fields,
        *rf.AdamState.model_fields,
    ):
        assert f'"{field}"' in DOC or f"`{field}`" in DOC, field


def test_the_documented_version_is_the_code_version() -> None:
    assert DOC.startswith(f"# The RustGPT checkpoint format, version {rf.FORMAT_VERSION}\n")
