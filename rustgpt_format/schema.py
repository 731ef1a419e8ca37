"""The JSON Schema of the format, exported from the models."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from rustgpt_format.float32 import ARRAY2_JSON_SCHEMA
from rustgpt_format.models import LAYER_KINDS, Checkpoint
from rustgpt_format.versions import FORMAT_VERSION

SCHEMA_ID = (
    f"https://rustgpt-format.invalid/schemas/rustgpt-checkpoint-{FORMAT_VERSION}.schema.json"
)
SCHEMA_FILE = f"rustgpt-checkpoint-{FORMAT_VERSION}.schema.json"

_DESCRIPTION = (
    f"A RustGPT checkpoint, format version {FORMAT_VERSION} (JSON). This schema carries "
    "the per-field rules: types, constants, required keys, the layer 'type' "
    "discriminator, array objects with a dim of length 2 and finite float32 numbers, "
    "float32 scalars, vocabulary words (non-empty, without white space, unique, with "
    "'</s>'). "
    "The reader enforces more, which JSON Schema cannot express: network[0] is "
    "Embeddings and the last layer OutputProjection (and neither appears elsewhere); "
    "every array's dim agrees with config and along the chain; len(data) equals "
    "rows*cols; Adam m and v have their parameter's shape; len(vocab.words) equals "
    "config.vocab_size; loss_history has one entry per completed epoch."
)


@cache
def _exported(kinds: tuple[tuple[str, type], ...]) -> dict[str, Any]:
    """The schema for the layer kinds ``kinds`` (the registry's items: rebuilt when it grows)."""
    body = _share_arrays(Checkpoint.model_json_schema(mode="validation"))
    body["$defs"]["Array2"] = ARRAY2_JSON_SCHEMA
    for kind in LAYER_KINDS:
        # The tag defaults in Python, but a document must name each layer's kind: without
        # this, a layer with no 'type' matched the one branch whose arrays it had.
        layer = body["$defs"][kind]
        layer["required"] = ["type", *layer.get("required", [])]
    # Python callers may omit these two (they default); a document must carry them.
    body["required"] = ["format", "format_version", *body["required"]]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **{key: value for key, value in body.items() if key not in ("description",)},
        "title": "RustGPT checkpoint",
        "description": _DESCRIPTION,
    }


def _share_arrays(node: Any) -> Any:
    """Refer to the one array schema in $defs; keep docstrings' first paragraph only.

    Pydantic's ``discriminator`` keyword (OpenAPI's, not JSON Schema's) is left out:
    strict 2020-12 validators such as Ajv refuse unknown keywords, and the ``oneOf``
    of layers, each with a ``const`` type, already says everything it does. What
    pydantic releases spell differently is spelled one way, so the file does not depend
    on the installed release: an ``enum`` of the ``const`` beside it is dropped, and a
    bound such as ``1.0`` is written ``1`` (the same number to JSON Schema).
    """
    if node == ARRAY2_JSON_SCHEMA:
        return {"$ref": "#/$defs/Array2"}
    if isinstance(node, dict):
        return {
            key: value.split("\n\n")[0]
            if key == "description" and isinstance(value, str)
            else _share_arrays(value)
            for key, value in node.items()
            if not (key == "discriminator" and isinstance(value, dict) and "propertyName" in value)
            and not (key == "enum" and "const" in node and value == [node["const"]])
        }
    if isinstance(node, list):
        return [_share_arrays(item) for item in node]
    if isinstance(node, float) and node.is_integer() and abs(node) < 2**53:
        return int(node)
    return node


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a checkpoint document.

    >>> json_schema()["properties"]["format"]["const"]
    'rustgpt-checkpoint'
    """
    return copy.deepcopy(_exported(tuple(LAYER_KINDS.items())))
