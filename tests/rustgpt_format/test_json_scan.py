"""The scanner that looks at JSON text before it is parsed: paths, keys, nesting.

The reader's tests meet these functions through whole checkpoints; these rows pin the
cases a checkpoint rarely has (strings beside arrays, escaped keys, keys that are not
UTF-8, text that is not JSON at all) on the functions themselves.
"""

from __future__ import annotations

import pytest

from rustgpt_format import codec
from rustgpt_format.errors import CheckpointError
from rustgpt_format.json_scan import duplicate_key, nesting_depth, path_at, without_strings
from rustgpt_format.limits import Limits


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b'{"a": 1, "b": [{"a": 2}]}', None),  # the same key in two objects is no duplicate
        (b"[]", None),
        (b'{"a": "a"}', None),  # a value equal to its key is a value
        (b'{"a": 1, "b": 2, "a": 3}', "a"),
        # JSON readers decode escapes before they compare keys, so must the scanner
        (b'{"a\\u0062": 1, "ab": 2}', "ab"),
        # "b" the value is not "b" the key: the duplicate is the one inside
        (b'{"a": "b", "b": {"x": 1, "x": 2}}', "b.x"),
        (b'[[], "x", {"y": [], "y": 1}]', "[2].y"),  # a string after an array is an item
    ],
)
def test_duplicate_key(text: bytes, path: str | None) -> None:
    assert duplicate_key(text) == path


@pytest.mark.parametrize(
    ("text", "before", "path"),
    [
        (b'{"a": "xyz", "b": 1}', b",", "a"),  # a string value is not the next key
        (b'[[], "x", [1, 2]]', b"2", "[2][1]"),  # nor a string item after a closed array
        (b'{"a": {"b": 1}, "c": [3]}', b"3", "c[0]"),
        # a key that is not UTF-8 (the text has not been checked yet) is named readably
        (b'{"a\xffb": [1, 2', b"2", "a\ufffdb[1]"),
        (b'{"a": 1, "\xff": [1, 2', b"2", "\ufffd[1]"),
    ],
)
def test_path_at_an_offset(text: bytes, before: bytes, path: str) -> None:
    assert path_at(text, offset=text.index(before)) == path


@pytest.mark.parametrize(
    ("text", "depth", "path"),
    [
        (b'{"metadata": {"a": [[[[]]]]}}', 3, "metadata.a[0]"),
        (b"{" * 5, 2, ""),  # objects with no key yet: the path is the root's
        # only brackets open and close: a stray letter after one is text, not structure
        (b'[{"a": 1}X, [[', 2, "[1][0]"),
    ],
)
def test_path_at_a_depth(text: bytes, depth: int, path: str) -> None:
    assert path_at(text, depth=depth) == path


def test_a_depth_bomb_of_braces_is_refused_at_the_root() -> None:
    with pytest.raises(CheckpointError) as caught:
        codec.parse(b"{" * 300, limits=Limits(max_depth=16))
    assert (caught.value.path, caught.value.message[:37]) == (
        "",
        "expected nesting at most 16 deep (Lim",
    )


@pytest.mark.parametrize(
    ("text", "depth"),
    [(b"", 0), (b"1", 0), (b'{"a[": "]"}', 1), (b"[[], [[]]]", 3), (b'{"": [[1], {"": 2}]}', 3)],
)
def test_nesting_depth(text: bytes, depth: int) -> None:
    assert nesting_depth(without_strings(text)) == depth
