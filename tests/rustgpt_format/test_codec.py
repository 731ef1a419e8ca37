"""Round trips through bytes and files: exact, deterministic, schema-valid."""

from __future__ import annotations

import gc
import io
import itertools
import os
import random
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema
import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings

import rustgpt_format as rf
from rustgpt_format import buffers, codec
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.limits import Limits
from tests.strategies import checkpoints

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def all_arrays(checkpoint: rf.Checkpoint) -> list[tuple[str, np.ndarray]]:
    found = []
    for index, layer in enumerate(checkpoint.network):
        for name, array in layer.parameters().items():
            found.append((f"network[{index}].{name}", array))
        for name, state in layer.optimizers().items():
            if state is not None:
                found += [
                    (f"network[{index}].{name}.m", state.m),
                    (f"network[{index}].{name}.v", state.v),
                ]
    return found


def assert_bit_identical(a: rf.Checkpoint, b: rf.Checkpoint) -> None:
    left, right = all_arrays(a), all_arrays(b)
    assert [name for name, _ in left] == [name for name, _ in right]
    for (name, x), (_, y) in zip(left, right, strict=True):
        assert x.dtype == y.dtype == np.float32, name
        assert x.shape == y.shape, name
        assert x.flags.c_contiguous and y.flags.c_contiguous, name
        assert np.array_equal(x.view(np.uint32), y.view(np.uint32)), name
    assert a.model_dump(exclude={"network"}) == b.model_dump(exclude={"network"})


@PROPERTY
@given(checkpoints())
def test_bytes_round_trip_is_bit_exact_and_stable(checkpoint: rf.Checkpoint) -> None:
    data = rf.dumps(checkpoint)
    again = rf.loads(data)
    assert_bit_identical(checkpoint, again)
    assert rf.dumps(again) == data  # the second save gives the same bytes
    assert rf.dumps(checkpoint) == data  # and so does saving twice


@PROPERTY
@given(checkpoints())
def test_pretty_form_reads_back_the_same(checkpoint: rf.Checkpoint) -> None:
    pretty = rf.dumps(checkpoint, indent=2)
    assert b"\n  " in pretty
    assert rf.dumps(rf.loads(pretty)) == rf.dumps(checkpoint)


@PROPERTY
@given(checkpoints())
def test_every_generated_checkpoint_validates_against_the_schema(checkpoint: rf.Checkpoint) -> None:
    jsonschema.Draft202012Validator(rf.json_schema()).validate(orjson.loads(rf.dumps(checkpoint)))


@settings(max_examples=20, deadline=None)
@given(checkpoints())
def test_file_round_trip(tmp_path_factory: object, checkpoint: rf.Checkpoint) -> None:
    folder: Path = tmp_path_factory.mktemp("rt")  # type: ignore[attr-defined]
    rf.save(checkpoint, folder / "a.json")
    rf.save(rf.load(folder / "a.json"), folder / "b.json")
    assert (folder / "a.json").read_bytes() == (folder / "b.json").read_bytes()
    assert_bit_identical(checkpoint, rf.load(folder / "b.json"))


def shuffled(node: object, rng: random.Random) -> object:
    if isinstance(node, dict):
        items = list(node.items())
        rng.shuffle(items)
        return {key: shuffled(value, rng) for key, value in items}
    if isinstance(node, list):
        return [shuffled(item, rng) for item in node]
    return node


def test_key_order_does_not_matter() -> None:
    checkpoint = tiny_checkpoint()
    document = orjson.loads(rf.dumps(checkpoint))
    for seed in range(5):
        mixed = orjson.dumps(shuffled(document, random.Random(seed)))
        assert mixed != rf.dumps(checkpoint)
        assert rf.dumps(rf.loads(mixed)) == rf.dumps(checkpoint)


def test_equality_is_by_value() -> None:
    a, b = tiny_checkpoint(), tiny_checkpoint()
    assert a == b
    b.network[1].w_q[0, 0] += 1  # type: ignore[union-attr]
    assert a != b


def test_indent_other_than_two_is_refused() -> None:
    try:
        rf.dumps(tiny_checkpoint(), indent=4)
    except ValueError as error:
        assert str(error) == "indent: expected None or 2, found 4"
    else:
        raise AssertionError("indent=4 was accepted")


def test_array_keys_are_written_in_ndarray_serde_order() -> None:
    text = rf.dumps(tiny_checkpoint())
    assert b'"token_embeddings":{"v":1,"dim":[3,4],"data":[' in text


GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "tiny.json"


def test_golden_bytes() -> None:
    """The bytes of a fixed checkpoint are pinned: any change to them is a format change."""
    assert rf.dumps(tiny_checkpoint(), indent=2) + b"\n" == GOLDEN.read_bytes()
    assert rf.load(GOLDEN) == tiny_checkpoint()


def test_decode_reads_a_checkpoint_under_the_callers_limits() -> None:
    text = codec.encode(tiny_checkpoint())
    assert codec.decode(text) == tiny_checkpoint()
    with pytest.raises(rf.CheckpointError) as caught:
        codec.decode(text, limits=Limits(max_elements=10))
    assert caught.value.message.startswith(
        "expected at most 10 numbers in all arrays (Limits.max_elements)"
    )


def test_a_large_document_waits_in_the_spill_and_is_validated_with_stand_ins_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past CHECKED_FIRST bytes of float32 (128 MiB; every document here) the arrays are
    checked and written to a temporary file, the document is validated with stand-ins of
    their sizes, and the arrays are read back: the same checkpoint, the same refusals."""
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    text = codec.encode(tiny_checkpoint())
    assert codec.decode(text) == tiny_checkpoint()
    assert rf.loads(text) == tiny_checkpoint()
    document = orjson.loads(text)
    document["config"]["max_seq_len"] = 3
    with pytest.raises(rf.CheckpointError) as caught:
        codec.decode(orjson.dumps(document))
    assert (caught.value.path, caught.value.message) == (
        "network[0].positional_embeddings",
        "expected shape (3, 4) (config.max_seq_len = 3; config.embedding_dim = 4), found (2, 4)",
    )


def test_text_outside_the_arrays_is_refused_where_the_bound_stops_the_search() -> None:
    """No "data" key within reach of the bound: refused unread past it, as "more than"."""
    text = b'{"metadata": {"x": "' + b"a" * 5000 + b'"}}'
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text, limits=Limits(max_header_bytes=2000))
    assert caught.value.message == (
        "expected at most 2000 bytes of JSON outside the numeric data arrays "
        "(Limits.max_header_bytes), found more than 2064; to read it anyway, pass "
        "limits=Limits(...) with a higher bound"
    )


def _refused() -> BinaryIO:
    raise OSError(28, "No space left on device")


class _FullDisk(io.RawIOBase):
    """A file on a full file system: every write reaching it is refused."""

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    "spill",
    [
        _refused,
        lambda: open(os.devnull, "rb"),  # noqa: SIM115 - the reader closes it
        # the arrays fit in the buffer: the refusal comes when it is flushed
        lambda: io.BufferedRandom(_FullDisk()),
        # the second array overflows the buffer: that write is refused, and so is the
        # flush of the first when the file is closed
        lambda: io.BufferedRandom(_FullDisk(), buffer_size=64),
    ],
    ids=[
        "no temporary file",
        "a temporary file that takes no bytes",
        "a full file system refusing the buffered arrays",
        "a full file system refusing a write and the close",
    ],
)
def test_a_spill_the_file_system_refuses_loses_nothing(
    spill: Callable[[], BinaryIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The arrays are then decoded again, kept this time."""
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    monkeypatch.setattr(tempfile, "TemporaryFile", spill)  # the module codec uses
    assert codec.decode(codec.encode(tiny_checkpoint())) == tiny_checkpoint()


class _Trickle(io.BytesIO):
    """A file that gives back at most 5 bytes a read (a pipe or a network file system
    may give less than asked)."""

    def readinto(self, buffer: object) -> int:
        return super().readinto(memoryview(buffer)[:5])  # type: ignore[arg-type]


class _Forgetful(io.BytesIO):
    """A file that loses what is written to it past its first 20 bytes."""

    def write(self, data: object) -> int:
        size = len(memoryview(data))  # type: ignore[arg-type]
        super().write(bytes(memoryview(data))[: max(0, 20 - self.tell())])  # type: ignore[arg-type]
        return size


def test_a_spill_read_back_in_small_pieces_gives_the_same_arrays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    monkeypatch.setattr(tempfile, "TemporaryFile", _Trickle)
    assert codec.decode(codec.encode(tiny_checkpoint())) == tiny_checkpoint()


def test_a_spill_cut_short_is_refused_not_read_as_other_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    monkeypatch.setattr(tempfile, "TemporaryFile", _Forgetful)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.decode(codec.encode(tiny_checkpoint()))
    assert (caught.value.path, caught.value.message) == (
        "",
        "cannot read back a temporary file: it was cut short",
    )


def test_a_large_document_refused_by_the_validator_reads_no_array_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """decode shows the validator the document with stand-ins first: a refusal then
    costs no array's memory (the spilled arrays are never read back)."""
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    read_back: list[str] = []
    read = codec._Spill.read

    def spy(spill: codec._Spill, name: str) -> np.ndarray:
        read_back.append(name)
        return read(spill, name)

    monkeypatch.setattr(codec._Spill, "read", spy)
    document = orjson.loads(codec.encode(tiny_checkpoint()))
    document["network"][1]["w_q"]["dim"] = [2, 8]  # 16 numbers, as many as (4, 4)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.decode(orjson.dumps(document))
    assert caught.value.path == "network[1].w_q"
    assert read_back == []
    assert codec.decode(codec.encode(tiny_checkpoint())) == tiny_checkpoint()
    assert len(read_back) == len(all_arrays(tiny_checkpoint()))  # the spy sees reads


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        ({"note": "x" * 21}, None),  # at the bound: read
        ({"k" * 21: "x"}, None),
        ({"note": "x" * 22}, "metadata.note"),
        ({"k" * 22: "x"}, "metadata.kkkkkkkkkkkkkkkkkkkk..."),
    ],
)
def test_strings_and_keys_at_most_max_string_chars_and_placeholders_exempt(
    metadata: dict[str, str], path: str | None
) -> None:
    """21: the longest key of the format (positional_embeddings). The arrays' stand-ins
    in the skeleton are longer, and are not strings of the document."""
    document = orjson.loads(codec.encode(tiny_checkpoint()))
    document["metadata"] = metadata
    text, limits = orjson.dumps(document), Limits(max_string_chars=21)
    if path is None:
        assert rf.loads(text, limits=limits).metadata == metadata
        return
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(text, limits=limits)
    assert (caught.value.path, caught.value.message) == (
        path,
        "expected a string of at most 21 characters (Limits.max_string_chars), found 22; "
        "to read it anyway, pass limits=Limits(...) with a higher bound",
    )


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, object]], None]:
    def change(document: dict[str, object]) -> None:
        node: Any = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        # the long string of an array object's "data" is not its placeholder: refused
        (_set(("network", 1, "w_q", "data"), "x" * 22), "network[1].w_q.data", None),
        # a list's string at the bound is read, one more is refused
        (_set(("vocab", "words", 0), "x" * 21), "", ""),
        (_set(("vocab", "words", 0), "x" * 22), "vocab.words[0]", None),
        # the first string past the bound is named, not one at the bound before it
        (_set(("metadata",), {"a": "x" * 21, "b": "x" * 22}), "metadata.b", None),
        # a "data" that is no string (an object: no placeholder to look up) is the
        # validator's to name
        (
            _set(("network", 1, "w_q", "data"), {}),
            "network[1].w_q.data",
            "expected an array of numbers, found an object",
        ),
    ],
    ids=["long data string", "word at the bound", "long word", "first long one", "data object"],
)
def test_the_skeleton_walk_names_the_string_past_the_bound(
    change: Callable[[dict[str, object]], None], path: str, message: str | None
) -> None:
    """A document longer than Limits.max_string_chars is walked in full (the quick path
    takes only shorter ones): every string and key is measured there."""
    document = orjson.loads(codec.encode(tiny_checkpoint()))
    change(document)
    text, limits = orjson.dumps(document), Limits(max_string_chars=21)
    if not path:
        assert rf.loads(text, limits=limits).vocab.words[0] == "x" * 21
        return
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(text, limits=limits)
    assert (caught.value.path, caught.value.message) == (
        path,
        message
        or "expected a string of at most 21 characters (Limits.max_string_chars), found 22; "
        "to read it anyway, pass limits=Limits(...) with a higher bound",
    )


@pytest.mark.parametrize(
    ("metadata", "limits"),
    [
        (None, Limits()),
        ({"note": "a:b", "time": "12:00:00"}, Limits()),  # colons in strings, not keys
        (None, Limits(max_depth=6)),  # the format's depth, exactly the bound
    ],
    ids=["tiny checkpoint", "colons in values", "depth at the bound"],
)
def test_a_small_document_without_escapes_takes_the_quick_path(
    metadata: dict[str, str] | None, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text shorter than Limits.max_string_chars without a backslash is checked on the
    parsed document (one walk) instead of by the full path's passes over the text (some
    0.1-0.2 ms, each time a binary file's metadata is read): the full path's first pass
    must not run."""
    checkpoint = tiny_checkpoint()
    checkpoint.metadata = metadata
    text = codec.encode(checkpoint)

    def full_path(text: bytes) -> bytes:
        raise AssertionError("the full path ran")

    monkeypatch.setattr(codec, "without_strings", full_path)
    assert codec.decode(text, limits=limits) == checkpoint


@pytest.mark.parametrize(
    "text",
    [b"[" * 17 + b"]" * 17, b'{"a": ' + b"[" * 16 + b"]" * 16 + b"}"],
    ids=["lists", "lists in an object"],
)
def test_lists_nested_past_the_bound_are_refused_without_a_colon_to_count(text: bytes) -> None:
    """The quick path measures nesting through lists as well as objects."""
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text)
    assert caught.value.message == (
        "expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 17; "
        "to read it anyway, pass limits=Limits(...) with a higher bound"
    )


@pytest.mark.parametrize(
    "text",
    [
        b'\n{"a": x}',  # the skeleton's first character is its last line break
        b'{"w": {"v": 1, "dim": [1, 2], "data":\n[1, 2] x}}',  # a break just before an array
    ],
    ids=["break at 0", "break before an array"],
)
def test_an_error_is_placed_by_the_line_break_before_it(text: bytes) -> None:
    """The column counts from the document's last line break before the error, wherever
    the arrays taken out of the skeleton were."""
    with pytest.raises(orjson.JSONDecodeError) as reference:
        orjson.loads(text)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text)
    assert (
        caught.value.message == f"expected a JSON document, found invalid JSON: {reference.value}"
    )


def test_the_wire_document_without_arrays_holds_none_for_each() -> None:
    """For the forms that store the arrays elsewhere (safetensors)."""
    document = codec.wire_document(tiny_checkpoint(), arrays=False)
    layer = document["network"][1]
    assert (layer["w_q"], layer["optimizer_w_q"]["m"], layer["optimizer_w_q"]["v"]) == (None,) * 3
    assert b"data" not in orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


def test_a_value_that_is_not_finite_is_refused_by_encode_naming_it() -> None:
    checkpoint = tiny_checkpoint()
    checkpoint.network[1].w_q[2, 1] = np.float32("nan")  # type: ignore[union-attr]
    with pytest.raises(rf.CheckpointError) as caught:
        codec.encode(checkpoint)
    assert (caught.value.path, caught.value.message) == (
        "network[1].w_q",
        "expected a finite float32 (magnitude below 3.4028235e38) at [2, 1], found nan",
    )


def test_encode_refuses_an_indent_other_than_two() -> None:
    with pytest.raises(ValueError, match=r"^indent: expected None or 2, found 4$"):
        codec.encode(tiny_checkpoint(), indent=4)


def _zeros(count: int, *, first: bytes = b"0", pad: int = 0) -> bytes:
    """A document of one array of ``count`` numbers, the densest text: ``first`` then
    zeros, after ``pad`` bytes of a string."""
    numbers = b",".join([first] + [b"0"] * (count - 1))
    head = b'{"pad": "' + b"x" * pad + b'", ' if pad else b"{"
    return head + b'"w": {"v": 1, "dim": [1, %d], "data": [%s]}}' % (count, numbers)


# a document and the numbers its arrays' text is taken to hold at most
BOUNDED = [
    (_zeros(1000), 1001),  # 2001 bytes: 1000 numbers at most, counted as 1001
    (_zeros(1000, pad=codec._CHUNK), 1001),  # the same, far into the document
    # exactly a chunk of text (the last size bounded, not counted): 131071 numbers,
    # counted as 131073
    (_zeros(131_071, first=b"10"), codec._CHUNK // 2 + 1),
]


@pytest.mark.parametrize(
    ("text", "bound", "checked_first", "spilled"),
    [
        row
        for text, bound in BOUNDED
        for row in [(text, bound, 4 * bound, False), (text, bound, 4 * bound - 1, True)]
    ],
    ids=[
        f"{name}, {where}"
        for name in ["1000 numbers", "after a chunk of text", "a chunk of text"]
        for where in ["at the bound", "one byte below"]
    ],
)
def test_the_arrays_are_checked_first_when_their_text_could_hold_more_than_the_bound(
    text: bytes, bound: int, checked_first: int, spilled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrays up to a chunk of text are not counted: their text bounds their numbers (n
    numbers take 2n + 1 bytes at least; one more is allowed for). Arrays that could hold
    more than CHECKED_FIRST bytes of float32 are checked first, each written to a
    temporary file; the others are decoded in one pass, with no file."""
    made: list[BinaryIO] = []
    make = tempfile.TemporaryFile

    def spy() -> BinaryIO:
        made.append(make())
        return made[-1]

    monkeypatch.setattr(codec, "CHECKED_FIRST", checked_first)
    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    data = codec.parse(text, limits=Limits(max_string_chars=2 * codec._CHUNK))["w"]["data"]
    assert len(made) == 1 if spilled else not made
    assert data.size == int(text.rsplit(b"[1, ", 1)[1].split(b"]", 1)[0])  # its dim


@pytest.mark.parametrize("claimed", [80_000, 80_001], ids=["its count", "one more"])
def test_a_large_array_is_counted_checked_and_read_back_in_the_check_first_path(
    claimed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An array past a chunk of text (400 kB here) is counted by its commas: the
    validator sees a stand-in of that many numbers, then the numbers read back; one
    whose dim claims another count is not decoded (its size alone is refused)."""
    values = np.arange(80_000, dtype=np.float32) / 4  # exact in float32, up to 8 digits
    texts = [str(float(value)).encode() for value in values]
    texts[70_000], values[70_000] = b"-0", -0.0  # its sign is the text's, past a chunk
    numbers = b",".join(texts)
    text = b'{"w": {"v": 1, "dim": [1, %d], "data": [%s]}}' % (claimed, numbers)
    assert len(numbers) > codec._CHUNK
    seen: list[int] = []
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    document = codec.parse(text, check=lambda document: seen.append(document["w"]["data"].size))
    data = document["w"]["data"]
    assert (seen, data.size) == ([80_000], 80_000)
    if claimed == values.size:
        assert data.view(np.uint32).tolist() == values.view(np.uint32).tolist()
    else:
        assert not data.any() and data.strides == (0,)  # a stand-in, not the numbers


def test_a_zero_with_a_negative_exponent_after_a_negative_number_stays_positive() -> None:
    """Only a minus sign that starts the zero's own text makes it -0.0."""
    data = codec.parse(b'{"w": {"data": [1, -2, 0e-5, -0e-5]}}')["w"]["data"]
    assert data.view(np.uint32).tolist()[2:] == [0, 0x80000000]


def _large_array(count: int, dim: bytes = b'"dim": [1, %d], ') -> tuple[np.ndarray, bytes]:
    """``count`` float32 numbers (exact in 8 digits) and a document holding them, past a
    chunk of text."""
    values = np.arange(count, dtype=np.float32) / 4
    numbers = b",".join(str(float(value)).encode() for value in values)
    head = dim % count if b"%d" in dim else dim
    return values, b'{"w": {"v": 1, ' + head + b'"data": [' + numbers + b"]}}"


TINY_NUMBERS = sum(array.size for _, array in all_arrays(tiny_checkpoint()))


@pytest.mark.parametrize(
    ("text", "numbers"),
    [(codec.encode(tiny_checkpoint()), TINY_NUMBERS), (_large_array(80_000)[1], 80_000)],
    ids=["small arrays", "an array past a chunk"],
)
def test_exactly_max_elements_numbers_are_read_one_fewer_refused(text: bytes, numbers: int) -> None:
    codec.parse(text, limits=Limits(max_elements=numbers))
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text, limits=Limits(max_elements=numbers - 1))
    assert caught.value.message.startswith(
        f"expected at most {numbers - 1} numbers in all arrays (Limits.max_elements), "
        "found more by this array"
    )


@pytest.mark.parametrize("dim", [b"", b'"dim": [80000], '], ids=["no dim", "a dim of one number"])
def test_a_large_array_without_a_two_number_dim_is_counted_and_read_whole(dim: bytes) -> None:
    """No claim to go by: the reader counts the commas itself, and the validator names
    the dim."""
    values, text = _large_array(80_000, dim)
    data = codec.parse(text)["w"]["data"]
    assert data.view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_white_space_past_a_chunk_before_the_closing_bracket_ends_the_array() -> None:
    """No comma within a chunk of the end: the last chunk stops at the "]", not at a
    comma after it."""
    values, text = _large_array(80_000)
    text = text.replace(b"]}}", b" " * (codec._CHUNK + 10) + b'], "x": [1, 2]}}')
    document = codec.parse(text)
    assert document["w"]["x"] == [1, 2]
    assert document["w"]["data"].view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_an_empty_array_after_a_chunk_of_text_is_an_empty_array() -> None:
    text = b'{"pad": "' + b"x" * codec._CHUNK + b'", "w": {"v": 1, "dim": [0, 0], "data": []}}'
    data = codec.parse(text, limits=Limits(max_string_chars=codec._CHUNK))["w"]["data"]
    assert (type(data), data.dtype, data.shape) == (np.ndarray, np.float32, (0,))


def test_a_refused_large_document_never_holds_a_large_array_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked first, a large array is decoded a chunk at a time and written to the
    spill: a document the validator refuses costs a chunk, not the array's float32
    (chunks, and the window its commas are counted in, of 4 kB here, for an array of
    800 kB)."""
    text = b'{"w": {"v": 1, "dim": [1, 200000], "data": [' + b"0," * 199_999 + b"0]}}"
    monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    monkeypatch.setattr(codec, "_CHUNK", 1 << 12)
    monkeypatch.setattr(buffers, "_COUNTED", 1 << 12)

    def refuse(document: object) -> None:
        raise rf.CheckpointError("refused")

    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(rf.CheckpointError):
            codec.parse(text, check=refuse)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 400_000, f"{peak / 1e3:.0f} kB"


@pytest.mark.parametrize("scanned", [1 << 24, 1 << 12], ids=["default window", "4 kB window"])
def test_a_mapped_document_is_read_a_chunk_at_a_time(
    scanned: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file is read from a read-only map (its pages are the file's), each chunk
    of numbers, and each window of text scanned, given back once read."""
    monkeypatch.setattr(codec, "_SCANNED", scanned)
    values, text = _large_array(200_000)  # 1.6 MB: several chunks
    path = tmp_path / "large.json"
    path.write_bytes(text)
    with path.open("rb") as stream:
        mapped = buffers.mapped(stream)
        assert mapped is not None
        with mapped:
            data = codec.parse(mapped)["w"]["data"]
    assert data.view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_an_array_longer_than_the_scan_window_is_found_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run of number characters is scanned a window at a time (16 MiB; 4 kB here):
    an array across many windows is still one numeric array, decoded as float32."""
    monkeypatch.setattr(codec, "_SCANNED", 1 << 12)
    values, text = _large_array(80_000)
    data = codec.parse(text)["w"]["data"]
    assert (type(data), data.view(np.uint32).tolist()) == (
        np.ndarray,
        values.view(np.uint32).tolist(),
    )


@pytest.mark.parametrize("scanned", [1 << 24, 1 << 12], ids=["default window", "4 kB window"])
def test_a_document_cut_inside_an_array_is_refused_where_it_ends(
    scanned: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codec, "_SCANNED", scanned)
    text = b'{"w": {"data": [' + b"1, " * 3000 + b"2"
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text)
    assert caught.value.message == (
        "expected a JSON document, found invalid JSON: unexpected end of data: "
        f"line 1 column {len(text) + 1} (char {len(text)})"
    )


@pytest.mark.parametrize("size", [4096, 4097, 10_000])
def test_white_space_across_scan_windows_is_an_empty_file(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codec, "_SCANNED", 1 << 12)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(b" " * size)
    assert caught.value.message == "expected a JSON document, found an empty file"
    assert codec.parse(b" " * size + b"[]") == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (b'{"\\"data": [1, 2]}', '"data'),  # an escaped quote, then data": a key of 5
        (b'{"\\\\\\"data": [1, 2]}', '\\"data'),  # an escaped backslash and quote
        (b'{"\\\\": 0, "data": [1, 2]}', "data"),  # a key ending in one, before data
    ],
    ids=["escaped quote", "three backslashes", "a backslash key before"],
)
def test_a_data_key_is_told_from_text_ending_in_an_escaped_quote(text: bytes, key: str) -> None:
    """The quote before "data" opens the key only after an even run of backslashes (an
    odd run escapes it: the key is longer; after an even run of two or more it closes a
    string, and the document is not JSON)."""
    document = codec.parse(text)
    assert list(document)[-1] == key
    assert (type(document[key]), list(document[key])) == (
        np.ndarray if key == "data" else list,
        [1, 2],
    )


@pytest.mark.parametrize("checked_first", [False, True], ids=["kept", "checked first"])
@pytest.mark.parametrize("offset", [-3, -2, -1, 0, 1, 2, 3, codec._CHUNK])
def test_an_array_of_only_white_space_is_empty_at_any_length(
    offset: int, checked_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below a chunk an array is decoded whole, past it a chunk at a time: both read an
    array of white space alone as empty (the chunked reader used to refuse one with
    "expected a number, found none between two commas", which it has none of)."""
    if checked_first:  # arrays checked into the spill first, then read back
        monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    released: list[tuple[object, object, object]] = []
    monkeypatch.setattr(codec, "release", lambda *span: released.append(span))
    blank = b" " * (codec._CHUNK - 2 + offset)  # the array's text is blank plus its brackets
    other = b'"x": {"v": 1, "dim": [1, 1], "data": [2]}'  # counted: the check-first path
    text = b'{"w": {"v": 1, "dim": [0, 0], "data": [' + blank + b"]}, " + other + b"}"
    document = codec.parse(text, check=lambda document: None)
    data = document["w"]["data"]
    assert (type(data), data.dtype, data.shape) == (np.ndarray, np.float32, (0,))
    assert document["x"]["data"].tolist() == [2.0]
    if offset > 0:  # read by chunks: the blank text given back like a chunk of numbers
        first = text.index(b"[", text.index(b'"data"')) + 1
        assert (first, first + len(blank)) in [span[1:] for span in released]
        assert all(None not in span for span in released)
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["network"][1]["w_q"]["data"] = []
    short = orjson.dumps(document).replace(b'"data":[]', b'"data":[ ]')
    long = short.replace(b'"data":[ ]', b'"data":[' + blank + b"]")
    with pytest.raises(rf.CheckpointError) as caught_short:
        rf.loads(short)
    with pytest.raises(rf.CheckpointError) as caught_long:
        rf.loads(long)
    assert str(caught_long.value) == str(caught_short.value)
    assert caught_short.value.path == "network[1].w_q.data"


def test_each_chunk_of_an_array_and_each_scanned_window_is_given_back_once_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a load gives back of the buffer it reads (a mapped file's pages): each chunk
    of numbers from its first byte to the comma after it, the last up to the "]"; each
    window of text scanned whole. Recorded in-process: the memory the pages take is
    measured by test_memory_bound.py in a fresh process."""
    monkeypatch.setattr(codec, "_SCANNED", 1 << 12)
    calls: list[tuple[object, int, int]] = []
    monkeypatch.setattr(codec, "release", lambda raw, start, stop: calls.append((raw, start, stop)))
    scans: list[tuple[int, ...]] = []

    class Scanned:  # the number characters' pattern, each scan's bounds recorded
        def match(self, raw: bytes, *bounds: int) -> Any:
            scans.append(bounds)
            return number_chars.match(raw, *bounds)

    number_chars = codec._NUMBER_CHARS
    monkeypatch.setattr(codec, "_NUMBER_CHARS", Scanned())
    values, text = _large_array(200_000)  # 1.6 MB: several chunks and many windows
    data = codec.parse(text)["w"]["data"]
    assert data.view(np.uint32).tolist() == values.view(np.uint32).tolist()
    assert calls and all(raw is not None and len(raw) == len(text) for raw, _, _ in calls)  # type: ignore[arg-type]
    first, close = text.index(b"[", text.index(b'"data"')) + 1, text.rindex(b"]")
    spans = [(start, stop) for _, start, stop in calls]
    chunks = [span for span in spans if span[0] == first or text[span[0] - 1 : span[0]] == b","]
    chunks = [span for span in chunks if span[1] - span[0] >= codec._CHUNK or span[1] == close]
    assert chunks[0][0] == first and chunks[-1][1] == close
    assert all(
        b[0] == a[1] + 1 and text[a[1] : a[1] + 1] == b"," for a, b in itertools.pairwise(chunks)
    )
    windows = [span for span in spans if span[1] - span[0] == 1 << 12]
    assert len(windows) >= len(text) // (1 << 12) - 2  # every whole window of the scan
    assert all(b[0] == a[1] for a, b in itertools.pairwise(windows) if b[0] < close)
    assert scans and all(len(bounds) == 2 and bounds[1] - bounds[0] <= 1 << 12 for bounds in scans)


@pytest.mark.parametrize("checked_first", [False, True], ids=["kept", "checked first"])
@pytest.mark.parametrize("where", ["first", "last"])
def test_one_number_among_a_chunk_of_white_space_is_one_number(
    where: str, checked_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An array with no comma past a chunk is one number unless it is all white space:
    counted so, its ``dim`` of one agrees and it is read (a count of 0 or 2 would
    disagree, and the array would be refused for its size)."""
    if checked_first:
        monkeypatch.setattr(codec, "CHECKED_FIRST", 0)
    blank = b" " * (codec._CHUNK + 10)
    inside = b"7" + blank if where == "first" else blank + b"7"  # one character, at an edge
    text = b'{"w": {"v": 1, "dim": [1, 1], "data": [' + inside + b"]}}"
    data = codec.parse(text, check=lambda document: None)["w"]["data"]
    assert data.tolist() == [7.0]
