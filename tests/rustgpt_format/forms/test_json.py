"""The JSON form: what it takes for JSON, RustGPT's dialect indented, the schema's say."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.compression import compress
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.limits import Limits
from rustgpt_format.validation import check_bytes

INVALID_JSON = "expected a JSON document, found invalid JSON: unexpected character"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # JSON by its first character after JSON's white space, whatever follows: the
        # parser names the fault, even when control characters make it look binary
        (b'{"a": \x00}', INVALID_JSON),
        (b' {"a": \x00}', INVALID_JSON),
        (b"\n\t{\x01}", INVALID_JSON),
        # a form feed is not JSON's white space, nor is a letter: binary, not JSON
        (b"\x0c{}", "not a checkpoint: binary data"),
        (b"X{\x00}", "not a checkpoint: binary data"),
    ],
)
def test_what_is_read_as_json(data: bytes, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(data)
    assert caught.value.message.startswith(message)


def test_rustgpts_dialect_is_indented_when_asked() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the tiny checkpoint loses nothing in version 0
        compact = rf.dumps(tiny_checkpoint(), dialect="rustgpt")
        pretty = rf.dumps(tiny_checkpoint(), dialect="rustgpt", indent=2)
    assert b"\n" not in compact
    assert pretty.startswith(b'{\n  "vocab": {\n    "encode": {\n      "')
    assert orjson.loads(pretty) == orjson.loads(compact)


@pytest.mark.parametrize("wrap", [bytes, compress], ids=["json", "json.gz"])
def test_validate_asks_the_schema_about_json(wrap: Callable[[bytes], bytes]) -> None:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["config"]["max_seq_len"] = "80"
    problems = check_bytes(wrap(orjson.dumps(document)))
    assert [(p.path, p.message, p.rule) for p in problems] == [
        ("config.max_seq_len", "expected an integer, found string '80'", "schema, type")
    ]


@pytest.mark.parametrize("wrap", [bytes, compress], ids=["json", "json.gz"])
def test_the_callers_limits_apply_to_json(wrap: Callable[[bytes], bytes]) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(wrap(rf.dumps(tiny_checkpoint())), limits=Limits(max_elements=10))
    assert caught.value.message.startswith(
        "expected at most 10 numbers in all arrays (Limits.max_elements)"
    )
