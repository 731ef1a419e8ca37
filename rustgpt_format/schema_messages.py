"""The JSON Schema's findings in the house style: ``expected ..., found ...``.

``jsonschema`` words its messages with Python reprs (``None is not of type 'object'``,
``'vocab' is a required property``); a user of a checkpoint format should read the
same words as the reader's: ``expected an object, found null``, ``missing required
key``. Each common keyword is translated here; a rare one keeps jsonschema's text.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from rustgpt_format.errors import join_path
from rustgpt_format.float32 import describe
from rustgpt_format.versions import FORMAT_VERSION

_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
UNKNOWN_KEY = "unknown key (a typo, or a key this format version does not have)"
MISSING_KEY = "missing required key"


def _value(value: Any) -> str:
    """A value as the expectation names it: strings quoted, numbers as written."""
    return repr(value) if isinstance(value, str) else describe(value)


def house_messages(where: str, error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    """``(path, message)`` pairs for one jsonschema error at ``where``.

    >>> from jsonschema import Draft202012Validator as V
    >>> [house_messages("config", e) for e in V({"type": "object"}).iter_errors(None)]
    [[('config', 'expected an object, found null')]]
    >>> schema = {"required": ["vocab"], "properties": {"a": {}}, "additionalProperties": False}
    >>> for error in V(schema).iter_errors({"a": 1, "b": 2}):
    ...     print(house_messages("", error))
    [('vocab', 'missing required key')]
    [('b', 'unknown key (a typo, or a key this format version does not have)')]
    """
    keyword, expected, found = error.validator, error.validator_value, error.instance
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)  # type: ignore[arg-type]
        wanted = " or ".join(_TYPES.get(name, name) for name in names)
        return [(where, f"expected {wanted}, found {describe(found)}")]
    if keyword == "required" and isinstance(found, dict):
        return [
            (join_path(where, key), MISSING_KEY)
            for key in expected  # type: ignore[union-attr]
            if key not in found and f"{key!r} is a required" in error.message
        ] or [(where, error.message)]
    if keyword == "additionalProperties" and isinstance(found, dict) and expected is False:
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        patterns = error.schema.get("patternProperties") if isinstance(error.schema, dict) else None
        if not patterns:
            return [(join_path(where, key), UNKNOWN_KEY) for key in found if key not in known]
    if keyword == "const":
        return [(where, f"expected {_value(expected)}, found {describe(found)}")]
    if keyword == "enum":
        choices = ", ".join(map(_value, expected))  # type: ignore[arg-type]
        return [(where, f"expected one of {choices}; found {describe(found)}")]
    if keyword in _BOUNDS:
        return [(where, f"expected a value {_BOUNDS[keyword]} {expected}, found {describe(found)}")]
    if keyword in ("minItems", "maxItems") and isinstance(found, list):
        bound = "at least" if keyword == "minItems" else "at most"
        return [(where, f"expected {bound} {expected} items, found {len(found)}")]
    if keyword == "pattern" and where == "format_version":  # the reader's words, no regex
        return [
            (
                where,
                f'expected a version "MAJOR.MINOR" such as {FORMAT_VERSION!r}, '
                f"found {describe(found)}",
            )
        ]
    return [(where, _short(error.message))]


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
