"""The exported JSON Schema: valid 2020-12, checked in, and strict where it can be."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.commands.schema import schema_text
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.float32 import ARRAY2_JSON_SCHEMA

CHECKED_IN = Path(__file__).parents[2] / "schemas" / "rustgpt-checkpoint-1.0.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(rf.json_schema())
BASE = orjson.loads(rf.dumps(tiny_checkpoint()))


def test_the_checked_in_schema_is_what_the_models_export() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == schema_text()


def test_it_is_a_valid_2020_12_schema_with_identity() -> None:
    schema = rf.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/rustgpt-checkpoint-1.0.schema.json")
    assert schema["title"] == "RustGPT checkpoint"
    assert "The reader enforces more" in schema["description"]
    assert schema["required"][:2] == ["format", "format_version"]


def test_the_array_fragment_is_pinned() -> None:
    """Written by hand (the ndarray-serde object); any change here is a format change."""
    assert rf.json_schema()["$defs"]["Array2"] == ARRAY2_JSON_SCHEMA
    assert ARRAY2_JSON_SCHEMA == {
        "title": "Array2",
        "description": ARRAY2_JSON_SCHEMA["description"],
        "type": "object",
        "properties": {
            "v": {"const": 1},
            "dim": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 2,
                "maxItems": 2,
            },
            "data": {
                "type": "array",
                "items": {
                    "type": "number",
                    "exclusiveMinimum": -3.4028235677973366e38,
                    "exclusiveMaximum": 3.4028235677973366e38,
                },
            },
        },
        "required": ["v", "dim", "data"],
        "additionalProperties": False,
    }


def test_the_valid_example_passes() -> None:
    assert list(VALIDATOR.iter_errors(BASE)) == []


def edit(change: Callable[[Any], object]) -> Any:
    document = copy.deepcopy(BASE)
    change(document)
    return document


REJECTED = [
    # (why it is invalid, change, path of the error, keyword that fails)
    ("wrong format", lambda d: d.update(format="other"), "format", "const"),
    ("missing format", lambda d: d.pop("format"), "", "required"),
    ("missing format_version", lambda d: d.pop("format_version"), "", "required"),
    (
        "version not MAJOR.MINOR",
        lambda d: d.update(format_version="1.0.0"),
        "format_version",
        "pattern",
    ),
    (
        "version of another major",
        lambda d: d.update(format_version="2.0"),
        "format_version",
        "pattern",
    ),
    ("unknown top-level key", lambda d: d.update(extra=1), "", "additionalProperties"),
    ("missing vocab", lambda d: d.pop("vocab"), "", "required"),
    (
        "config value is a string",
        lambda d: d["config"].update(hidden_dim="8"),
        "config.hidden_dim",
        "type",
    ),
    (
        "config value zero",
        lambda d: d["config"].update(hidden_dim=0),
        "config.hidden_dim",
        "exclusiveMinimum",
    ),
    ("unknown layer type", lambda d: d["network"][1].update(type="Dropout"), "network[1]", "oneOf"),
    ("missing layer field", lambda d: d["network"][1].pop("w_q"), "network[1]", "oneOf"),
    (
        "dim of length 3",
        lambda d: d["network"][1]["w_q"].update(dim=[4, 4, 1]),
        "network[1]",
        "oneOf",
    ),
    (
        "null in data",
        lambda d: d["network"][1]["w_q"]["data"].__setitem__(0, None),
        "network[1]",
        "oneOf",
    ),
    (
        "string in data",
        lambda d: d["network"][0]["token_embeddings"]["data"].__setitem__(0, "1"),
        "network[0]",
        "oneOf",
    ),
    (
        "number beyond float32",
        lambda d: d["network"][0]["token_embeddings"]["data"].__setitem__(0, 1e39),
        "network[0]",
        "oneOf",
    ),
    (
        "array version 2",
        lambda d: d["network"][0]["token_embeddings"].update(v=2),
        "network[0]",
        "oneOf",
    ),
    (
        "negative timestep",
        lambda d: d["network"][1]["optimizer_w_q"].update(timestep=-1),
        "network[1]",
        "oneOf",
    ),
    (
        "beta1 of 1",
        lambda d: d["network"][1]["optimizer_w_q"].update(beta1=1),
        "network[1]",
        "oneOf",
    ),
    (
        "word not a string",
        lambda d: d["vocab"]["words"].__setitem__(0, 7),
        "vocab.words[0]",
        "type",
    ),
    ("metadata value not a string", lambda d: d.update(metadata={"a": 1}), "metadata", "anyOf"),
]


@pytest.mark.parametrize(
    ("why", "change", "path", "keyword"), REJECTED, ids=[r[0] for r in REJECTED]
)
def test_the_schema_rejects_what_per_field_rules_can(
    why: str, change: Callable[[Any], object], path: str, keyword: str
) -> None:
    errors = list(VALIDATOR.iter_errors(edit(change)))
    assert [(rf.errors.format_path(e.absolute_path), e.validator) for e in errors] == [
        (path, keyword)
    ]


def test_the_file_is_plain_json() -> None:
    assert json.loads(CHECKED_IN.read_text(encoding="utf-8")) == rf.json_schema()
