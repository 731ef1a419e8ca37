"""Validation as a report: every problem the schema and the reader find in a document."""

from __future__ import annotations

import os
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from rustgpt_format.binary import is_safetensors, read_binary
from rustgpt_format.checkpoint import Checkpoint
from rustgpt_format.codec import parse
from rustgpt_format.compression import inflate, is_gzip
from rustgpt_format.errors import CheckpointError, FormatWarning, Problem, format_path, join_path
from rustgpt_format.forms import read_bounded
from rustgpt_format.limits import DEFAULT_LIMITS
from rustgpt_format.migrations import document_version, migrated_checkpoint
from rustgpt_format.pydantic_errors import LAYER_TAGS
from rustgpt_format.schema import json_schema


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_problems(document: Any) -> list[Problem]:
    """Problems the exported JSON Schema finds, one per failing rule, in document order."""
    problems = []
    for error in _validator().iter_errors(_for_schema(document)):
        for leaf in _leaves(error):
            where = format_path(list(leaf.absolute_path))
            message = _short(leaf.message)
            if leaf.validator == "oneOf" and isinstance(leaf.instance, dict):
                where, message = join_path(where, "type"), _unknown_type(leaf.instance)
            problems.append(Problem(where, message, f"schema, {leaf.validator}"))
    return problems


def _unknown_type(layer: dict[str, Any]) -> str:
    found = f"{layer['type']!r}" if "type" in layer else "no 'type' key"
    return f"expected a layer type, one of {', '.join(map(repr, LAYER_TAGS))}; found {found}"


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For a failed layer union, the errors of the branch its ``type`` names."""
    if error.validator != "oneOf" or not isinstance(error.instance, dict):
        return [error]
    tag = error.instance.get("type")
    alternatives: list[dict[str, str]] = error.validator_value  # type: ignore[assignment]
    branches = [branch.get("$ref", "").rsplit("/", 1)[-1] for branch in alternatives]
    if tag not in branches:
        return [error]
    chosen = [e for e in error.context or () if e.relative_schema_path[0] == branches.index(tag)]
    return [leaf for sub in chosen for leaf in _leaves(sub)] or [error]


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _for_schema(node: Any) -> Any:
    """The document as jsonschema sees it; decoded arrays become plain lists.

    The fast reader has already checked that each element of a decoded array is a
    number within float32 range, which is all the schema asks of them, so the schema
    validator is shown the array's length but not its 10^6 elements one by one.
    """
    if isinstance(node, dict):
        return {key: _for_schema(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_for_schema(item) for item in node]
    if isinstance(node, np.ndarray):
        return [0.0] * min(node.size, 1)
    return node


def check_document(document: Any) -> list[Problem]:
    """Schema problems first; then, if the schema passes, the reader's."""
    problems = schema_problems(document)
    if problems:
        return problems
    try:
        Checkpoint.model_validate(document)
    except CheckpointError as error:
        return _reader_problems(error)
    return []


def check_file(path: Path) -> tuple[list[Problem], str]:
    """Every problem of a checkpoint file of any form, and what the file was.

    Format-1 JSON (plain or gzipped) is checked against the JSON Schema and then the
    reader's rules. RustGPT's own JSON (version 0) is migrated and the reader's rules
    name paths in the old document; a safetensors file is read with the reader's
    rules (its tensors are not JSON, so the schema has nothing to say about them).
    """
    try:
        with path.open("rb") as stream:
            head, size = stream.read(16), os.fstat(stream.fileno()).st_size
            binary = is_safetensors(head, size)
            data = b"" if binary else read_bounded(stream, DEFAULT_LIMITS)
    except OSError as error:
        return [Problem("", f"cannot read: {error.strerror or error}", "file")], ""
    except CheckpointError as error:
        return [Problem(p.path, p.message, "file") for p in error.problems], ""
    if binary:
        try:
            read_binary(path)
        except CheckpointError as error:
            return _reader_problems(error), "safetensors"
        return [], "safetensors"
    form = "json"
    try:
        if is_gzip(data):
            form, data = "json.gz", inflate(data, limit=DEFAULT_LIMITS.max_file_bytes)
        document = parse(data)
    except CheckpointError as error:
        return [Problem(p.path, p.message, "json") for p in error.problems], form
    if isinstance(document, dict) and document_version(document) == "0":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FormatWarning)
                migrated_checkpoint(document)
        except CheckpointError as error:
            return _reader_problems(error), form
        return [], f"{form}, RustGPT's own JSON, version 0"
    return check_document(document), form


def _reader_problems(error: CheckpointError) -> list[Problem]:
    return [Problem(p.path, p.message, f"reader, {p.rule}") for p in error.problems]


def check_bytes(data: bytes) -> list[Problem]:
    """Every problem of a JSON checkpoint given as bytes (empty when it is valid)."""
    try:
        document = parse(data)
    except CheckpointError as error:
        return [Problem(p.path, p.message, "json") for p in error.problems]
    return check_document(document)
