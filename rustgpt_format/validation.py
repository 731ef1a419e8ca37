"""Validation as a report: every problem the schema and the reader find in a file."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from rustgpt_format.boundary import validated
from rustgpt_format.errors import CheckpointError, FormatWarning, Problem, format_path, join_path
from rustgpt_format.forms import FORMS, ReadOptions, Source
from rustgpt_format.forms.base import RefusedEarlyError
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.migrations import document_version, migrated_checkpoint
from rustgpt_format.models import LAYER_KINDS, Checkpoint
from rustgpt_format.reading import open_source
from rustgpt_format.schema import json_schema
from rustgpt_format.schema_messages import house_messages
from rustgpt_format.versions import CURRENT, parse_version


@cache
def _validator(kinds: tuple[str, ...]) -> jsonschema.protocols.Validator:
    """A validator of the schema for the layer kinds ``kinds`` (rebuilt when they change)."""
    schema = json_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_problems(document: Any) -> list[Problem]:
    """Problems the exported JSON Schema finds, one per failing rule, in document order."""
    problems = []
    for error in _validator(tuple(LAYER_KINDS)).iter_errors(_for_schema(document)):
        for leaf in _leaves(error):
            where = format_path(list(leaf.absolute_path))
            rule = f"schema, {leaf.validator}"
            if leaf.validator == "oneOf" and isinstance(leaf.instance, dict):
                tag = join_path(where, "type")
                problems.append(Problem(tag, _unknown_type(leaf.instance), rule))
                continue
            problems += [Problem(at, message, rule) for at, message in house_messages(where, leaf)]
    return problems


def _unknown_type(layer: dict[str, Any]) -> str:
    found = f"{layer['type']!r}" if "type" in layer else "no 'type' key"
    return f"expected a layer type, one of {', '.join(map(repr, LAYER_KINDS))}; found {found}"


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For a failed layer union, the errors of the branch its ``type`` names.

    For an optional value (``anyOf`` of a schema and ``null``) that is not null, the
    errors of the schema: what is wrong inside it, not that it is not null either.
    """
    if error.validator == "anyOf" and error.instance is not None:
        options: list[object] = list(error.validator_value)  # type: ignore[arg-type]
        nulls = [i for i, branch in enumerate(options) if branch == {"type": "null"}]
        if len(nulls) == 1 and len(options) == 2:
            chosen = [e for e in error.context or () if e.relative_schema_path[0] != nulls[0]]
            return [leaf for sub in chosen for leaf in _leaves(sub)] or [error]
    if error.validator != "oneOf" or not isinstance(error.instance, dict):
        return [error]
    tag = error.instance.get("type")
    alternatives: list[dict[str, str]] = error.validator_value  # type: ignore[assignment]
    branches = [branch.get("$ref", "").rsplit("/", 1)[-1] for branch in alternatives]
    if tag not in branches:
        return [error]
    chosen = [e for e in error.context or () if e.relative_schema_path[0] == branches.index(tag)]
    return [leaf for sub in chosen for leaf in _leaves(sub)] or [error]


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
        validated(Checkpoint, document)
    except CheckpointError as error:
        return _reader_problems(error)
    return []


def validate(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> list[Problem]:
    """Every problem of the checkpoint file at ``path`` (none when it is valid).

    The JSON Schema's problems come first (for documents it describes: format 1.x
    JSON up to this reader's minor version); when it has none, the reader's. Each
    problem names its path and the rule (``schema, ...`` or ``reader, ...``).

    >>> import tempfile, pathlib, rustgpt_format as rf
    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> rf.save(tiny_checkpoint(), target)
    >>> rf.validate(target)
    []
    """
    return check_file(Path(path), limits=limits)[0]


def check_file(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> tuple[list[Problem], str]:
    """Every problem of a checkpoint file of any form, and what the file was."""
    try:
        with open_source(path, named=False) as stream:
            return check_source(Source.of_file(stream, str(path)), limits=limits)
    except CheckpointError as error:
        return [Problem(p.path, p.message, "file") for p in error.problems], ""


def check_source(source: Source, *, limits: Limits = DEFAULT_LIMITS) -> tuple[list[Problem], str]:
    """:func:`check_file` of an open source (a file, standard input, bytes)."""
    try:
        form = FORMS.recognize(source, limits)
    except CheckpointError as error:
        return [Problem(p.path, p.message, "file") for p in error.problems], ""
    try:
        decoded = form.decode(source, ReadOptions(limits=limits))
    except RefusedEarlyError as early:
        # the validator refused a large document before its arrays were decoded: it is
        # checked below as one decoded whole is (schema first), with the same outcome
        decoded = early.decoded
    except CheckpointError as error:
        rule = "json" if form.name.startswith("json") else form.name
        return [Problem(p.path, p.message, rule) for p in error.problems], form.name
    except OSError as error:
        return [Problem("", f"cannot read: {error.strerror or error}", "file")], form.name
    document, what = decoded.document, form.name
    version = document_version(document)
    if version == "0":
        what += ", RustGPT's own JSON, version 0" if what.startswith("json") else ", RustGPT's own"
    parsed = parse_version(version)
    newer = parsed is not None and parsed[0] == CURRENT[0] and parsed[1] > CURRENT[1]
    # another major version: the reader says who wrote it, not the schema's pattern
    other_major = parsed is not None and parsed[0] != CURRENT[0]
    if decoded.schema_applies and version != "0" and not newer and not other_major:
        problems = schema_problems(document)
        if problems:
            return problems, what
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FormatWarning)
            migrated_checkpoint(document, context=decoded.context)
    except CheckpointError as error:
        return _reader_problems(error), what
    return [], what


def _reader_problems(error: CheckpointError) -> list[Problem]:
    return [
        Problem(p.path, p.message, "reader" if p.rule in ("", "reader") else f"reader, {p.rule}")
        for p in error.problems
    ]


def check_bytes(data: bytes) -> list[Problem]:
    """Every problem of a checkpoint given as bytes (empty when it is valid)."""
    return check_source(Source(name="<bytes>", data=data))[0]
