"""Pydantic's ValidationError read as the format's problems, with paths from the root.

:mod:`rustgpt_format.boundary` raises them as one :class:`CheckpointError`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from rustgpt_format.errors import (
    FieldError,
    PathPart,
    Problem,
    format_path,
)
from rustgpt_format.float32 import describe
from rustgpt_format.models.layers import LAYER_KINDS

UNKNOWN_KEY = "unknown key"
"""The rule of problems that a newer minor version may explain (contract §8)."""

_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "string_type": "a string",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "bool_type": "true or false",
}


def document_path(loc: tuple[int | str, ...]) -> list[PathPart]:
    """Drop the union tag pydantic puts in a location (network, 3, 'SelfAttention', ...)."""
    parts: list[PathPart] = []
    for index, part in enumerate(loc):
        after_layer_index = (
            index == 2 and loc[0] == "network" and isinstance(loc[1], int)
        )
        if after_layer_index:
            continue
        parts.append(part)
    return parts


def _message(error: Any) -> tuple[str, list[PathPart], str]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    found = describe(error.get("input"))
    if kind == "value_error" and isinstance(ctx.get("error"), FieldError):
        field_error: FieldError = ctx["error"]
        return field_error.message, list(field_error.parts), field_error.rule or "field"
    if kind == "missing":
        return "missing required key", [], "field"
    if kind == "extra_forbidden":
        return "unknown key (a typo, or a key this format version does not have)", [], UNKNOWN_KEY
    if kind == "union_tag_invalid":
        tags = ", ".join(map(repr, LAYER_KINDS))
        return f"unknown layer type {ctx.get('tag')!r}, expected one of {tags}", ["type"], "field"
    if kind == "union_tag_not_found":
        tags = ", ".join(map(repr, LAYER_KINDS))
        return f"missing layer 'type', expected one of {tags}", [], "field"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, found {found}", [], "field"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, found {found}", [], "field"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {
            "greater_than": ">",
            "greater_than_equal": "≥",
            "less_than": "<",
            "less_than_equal": "≤",
        }[kind]
        bound = next(iter(ctx.values()))
        return f"expected a value {sign} {bound}, found {found}", [], "field"
    if kind == "string_pattern_mismatch":
        return f"expected a string matching {ctx.get('pattern')}, found {found}", [], "field"
    text = str(error.get("msg", "invalid value"))
    text = text.removeprefix("Value error, ")
    return f"{text[:1].lower()}{text[1:]}", [], "field"


def problems_of(error: ValidationError) -> list[Problem]:
    """Every problem in a ValidationError, as paths from the document root."""
    problems = []
    for item in error.errors(include_url=False):
        where = document_path(tuple(item["loc"]))
        message, tail, rule = _message(item)
        problems.append(Problem(format_path([*where, *tail]), message, rule, (*where, *tail)))
    return problems


