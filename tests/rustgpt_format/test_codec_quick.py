"""The quick check of a small document (``codec._quick_skeleton``) refuses what the full
path refuses, with the same error, and is taken for the documents it is meant for."""

from __future__ import annotations

from typing import Any

import pytest

import rustgpt_format as rf
from rustgpt_format import codec
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.forms.safetensors import METADATA_DOCUMENT, _tensors_and_metadata
from rustgpt_format.limits import DEFAULT_LIMITS, Limits

METADATA = _tensors_and_metadata(tiny_checkpoint())[1][METADATA_DOCUMENT].encode()
TINY = rf.dumps(tiny_checkpoint())


def full_path(text: bytes, limits: Limits, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What ``parse`` gives (or raises) with the quick check turned off."""
    with monkeypatch.context() as patched:
        patched.setattr(codec, "_quick_skeleton", lambda *args: None)
        try:
            return codec.parse(text, limits=limits)
        except rf.CheckpointError as error:
            return error


def no_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the full path's measuring fail, to see that the quick check was enough."""

    def refuse(text: bytes) -> bytes:
        raise AssertionError("the full path ran")

    monkeypatch.setattr(codec, "without_strings", refuse)


AT_THE_BOUNDS = b'{"a": [1, 2, 3, 4, 5, 6], "b": {"c": {}}}'
"""Depth 3, 14 values and keys by the text's count, 41 bytes."""


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        (METADATA, DEFAULT_LIMITS),
        (TINY, DEFAULT_LIMITS),
        (b'{"a:b": ":", "c": [":", "x:y:z", {"d:": 1}], "e": ["w", "w"]}', DEFAULT_LIMITS),
        (b'{"a": []}', DEFAULT_LIMITS),
        (b"[1, 2]", DEFAULT_LIMITS),
        (b'"a bare string"', DEFAULT_LIMITS),
        (AT_THE_BOUNDS, Limits(max_depth=3, max_header_values=14, max_string_chars=41)),
    ],
    ids=[
        "binary metadata",
        "tiny JSON",
        "colons in strings",
        "empty array",
        "array",
        "string",
        "at every bound",
    ],
)
def test_a_small_document_is_read_by_the_quick_check_alone(
    text: bytes, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = full_path(text, limits, monkeypatch)
    assert not isinstance(expected, rf.CheckpointError)
    no_full_path(monkeypatch)
    found = codec.parse(text, limits=limits)
    if text == TINY:  # arrays decoded from the placeholders the quick check found
        assert rf.loads(text) == tiny_checkpoint()
        assert found["network"][0]["token_embeddings"]["data"].dtype == "float32"
    else:
        assert found == expected


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        (b'{"a": 1, "b": 2, "b": 3}', DEFAULT_LIMITS),
        # the colons inside strings must be counted once each, keys and values
        (b'{"a:": 1, "b": 2, "b": 3}', DEFAULT_LIMITS),
        (b'{"a": "x:y", "b": 2, "b": 3}', DEFAULT_LIMITS),
        (b'{"a": [":"], "b": 2, "b": 3}', DEFAULT_LIMITS),
        # an escaped colon is one colon decoded but none in the text
        (b'{"a\\u003a": 1, "b": 2, "b": 3}', DEFAULT_LIMITS),
        (b'{"a": 1, "\\u0061": 2}', DEFAULT_LIMITS),
        (b'{"a": {"b": {"c": {"d": 1}}}}', Limits(max_depth=3)),
        (b'{"a": [{"b": [1]}]}', Limits(max_depth=3)),
        (b"[[[[1]]]]", Limits(max_depth=3)),
        # one fewer than the text's commas, colons, "[", "{" and the document (9)
        (b'{"a": [1, 2, 3, 4, 5, 6]}', Limits(max_header_values=8)),
        (b'{"abcdefghijk": 1}', Limits(max_string_chars=8)),
        (b'{"a": "abcdefghijk"}', Limits(max_string_chars=8)),
        (b'{"a": ["abcdefghijk"]}', Limits(max_string_chars=8)),
        (b'{"a": 1,}', DEFAULT_LIMITS),
        (b'{"a": NaN}', DEFAULT_LIMITS),
        (METADATA.replace(b'"beta1":0.9,', b'"beta1":0.9,"beta1":0.5,', 1), DEFAULT_LIMITS),
    ],
    ids=[
        "duplicate key",
        "duplicate and a colon in a key",
        "duplicate and a colon in a value",
        "duplicate and a colon in a list",
        "duplicate hidden by an escaped colon",
        "duplicate by an escape",
        "too deep in objects",
        "too deep through a list",
        "too deep in lists",
        "too many values",
        "long key",
        "long value",
        "long string in a list",
        "not JSON",
        "NaN",
        "duplicate in metadata",
    ],
)
def test_what_the_full_path_refuses_is_refused_alike(
    text: bytes, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = full_path(text, limits, monkeypatch)
    assert isinstance(expected, rf.CheckpointError)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text, limits=limits)
    assert (caught.value.message, caught.value.path) == (expected.message, expected.path)
