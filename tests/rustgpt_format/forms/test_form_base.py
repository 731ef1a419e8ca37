"""What every form shares (forms/base.py): the source of bytes and its bounds, the
early check, the registry's order and names, and what unrecognised bytes look like."""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import rustgpt_format as rf
from rustgpt_format import buffers
from rustgpt_format.codec import wire_document
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.forms import FORMS, Decoded, Form, ReadOptions, Registry, Source, WriteOptions
from rustgpt_format.forms import base as forms_base
from rustgpt_format.forms.base import RefusedEarlyError, check_early, describe_content, is_text

HINT = "; to read it anyway, pass limits=Limits(...) with a higher bound"

# --- the source's bytes, within Limits.max_file_bytes --------------------------------


def test_bytes_in_memory_are_bounded_at_their_size() -> None:
    source = Source(name="<bytes>", data=b"0123456789")
    assert (source.size, source.head, source.stream, source.path) == (10, b"0123456789", None, None)
    assert source.data(rf.Limits(max_file_bytes=10)) == b"0123456789"
    with pytest.raises(rf.CheckpointError) as caught:
        source.data(rf.Limits(max_file_bytes=9))
    assert caught.value.message == (
        f"expected at most 9 bytes (Limits.max_file_bytes), found 10{HINT}"
    )


def test_the_head_is_the_first_64_bytes() -> None:
    data = bytes(range(100))
    assert Source(name="<bytes>", data=data).head == data[:64]


@pytest.fixture
def file_of_100(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    target = tmp_path / "data"
    target.write_bytes(bytes(range(100)))
    with target.open("rb") as stream:
        yield target, stream


def test_a_regular_file_is_read_whole_within_the_bound(file_of_100: tuple[Path, Any]) -> None:
    target, stream = file_of_100
    source = Source.of_file(stream, str(target))
    assert (source.size, source.head, source.name) == (100, bytes(range(64)), str(target))
    assert source.path == f"/proc/self/fd/{stream.fileno()}"
    assert source.data(rf.Limits(max_file_bytes=100)) == bytes(range(100))
    assert source.data(rf.Limits(max_file_bytes=100)) is source.data(rf.Limits())  # read once


def test_an_executable_file_is_a_regular_file_of_known_size(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_bytes(bytes(100))
    target.chmod(0o755)  # the permission bits are no part of the file's type
    with target.open("rb") as stream:
        assert Source.of_file(stream, str(target)).size == 100


def test_a_source_made_on_a_stream_reads_it_from_where_it_stands() -> None:
    """Without :meth:`Source.of_file` nothing is read ahead: no head, no size."""
    data = bytes(range(256)) * 4
    with pipe_of(data) as stream:
        source = Source(name="<pipe>", stream=stream)
        assert (source.head, source.size) == (b"", None)
        assert source.data(rf.Limits()) == data


def test_a_regular_file_past_the_bound_is_refused_before_it_is_read(
    file_of_100: tuple[Path, Any],
) -> None:
    target, stream = file_of_100
    source = Source.of_file(stream, str(target))
    at = stream.tell()
    with pytest.raises(rf.CheckpointError) as caught:
        source.data(rf.Limits(max_file_bytes=99))
    assert (
        caught.value.message
        == f"expected at most 99 bytes (Limits.max_file_bytes), found 100{HINT}"
    )
    assert stream.tell() == at  # nothing read past the head


def test_a_file_that_grew_after_it_was_opened_is_read_to_its_end(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_bytes(bytes(100))
    with target.open("rb") as stream:
        source = Source.of_file(stream, str(target))
        with target.open("ab") as more:
            more.write(b"x" * 50)
        assert source.data(rf.Limits()) == bytes(100) + b"x" * 50
        assert source.size == 150


@pytest.mark.parametrize(("bound", "read"), [(150, True), (149, False)])
def test_a_file_that_grew_is_bounded_at_its_new_size(
    tmp_path: Path, bound: int, read: bool
) -> None:
    """100 bytes when opened, 150 when read: the bytes past the first 100 are counted."""
    target = tmp_path / "data"
    target.write_bytes(bytes(100))
    with target.open("rb") as stream:
        source = Source.of_file(stream, str(target))
        with target.open("ab") as more:
            more.write(b"x" * 50)
        if read:
            assert source.data(rf.Limits(max_file_bytes=bound)) == bytes(100) + b"x" * 50
            return
        with pytest.raises(rf.CheckpointError) as caught:
            source.data(rf.Limits(max_file_bytes=bound))
    assert caught.value.message == (
        f"expected at most 149 bytes (Limits.max_file_bytes), found 150{HINT}"
    )


def test_a_file_that_grew_past_the_bound_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_bytes(bytes(100))
    with target.open("rb") as stream:
        source = Source.of_file(stream, str(target))
        with target.open("ab") as more:
            more.write(bytes(2 << 20))
        with pytest.raises(rf.CheckpointError) as caught:
            source.data(rf.Limits(max_file_bytes=1 << 20))
    assert caught.value.message.startswith(
        "expected at most 1048576 bytes (Limits.max_file_bytes), found "
    )


def pipe_of(data: bytes) -> Any:
    """The reading end of a pipe that a thread fills with ``data``, then closes."""
    read, write = os.pipe()

    def fill() -> None:
        with os.fdopen(write, "wb") as writer, contextlib.suppress(BrokenPipeError):
            writer.write(data)

    threading.Thread(target=fill, daemon=True).start()
    return os.fdopen(read, "rb")


def test_a_pipe_has_no_size_and_is_read_to_its_end() -> None:
    data = bytes(range(256)) * 100
    with pipe_of(data) as stream:
        source = Source.of_file(stream, "<pipe>")
        assert (source.size, source.head) == (None, data[:64])
        assert source.data(rf.Limits(max_file_bytes=len(data))) == data
        assert source.size == len(data)


def test_a_pipe_is_refused_once_it_passes_the_bound() -> None:
    with pipe_of(bytes(3 << 20)) as stream:
        source = Source.of_file(stream, "<pipe>")
        with pytest.raises(rf.CheckpointError) as caught:
            source.data(rf.Limits(max_file_bytes=1 << 20))
    assert caught.value.message == (
        f"expected at most 1048576 bytes (Limits.max_file_bytes), found more than 1048576{HINT}"
    )


class Unseekable(io.BufferedReader):
    """A regular file read as a stream that cannot seek (a wrapper, a socket-like reader)."""

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("seek")


def test_a_file_that_cannot_seek_is_read_on_from_its_head(tmp_path: Path) -> None:
    target = tmp_path / "data"
    data = bytes(range(256)) * 20
    target.write_bytes(data)
    with Unseekable(io.FileIO(target)) as stream:
        source = Source.of_file(stream, str(target))
        assert source.size == len(data)
        assert source.data(rf.Limits()) == data


# --- large files are mapped ------------------------------------------------------------


@pytest.fixture
def mapped_from_100(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buffers, "MAPPED_FROM", 100)


@pytest.mark.usefixtures("mapped_from_100")
def test_a_file_from_mapped_from_bytes_is_mapped_a_smaller_one_read(tmp_path: Path) -> None:
    for size, mapped in [(100, True), (99, False)]:
        target = tmp_path / f"data{size}"
        target.write_bytes(bytes(range(size)))
        with target.open("rb") as stream:
            source = Source.of_file(stream, str(target))
            whole = source.buffer(rf.Limits())
            assert isinstance(whole, bytes) is not mapped, size
            assert whole[:] == bytes(range(size))
            assert source.buffer(rf.Limits()) is whole  # mapped (or read) once
            del whole


@pytest.mark.usefixtures("mapped_from_100")
def test_a_mapped_file_past_the_bound_is_refused_before_it_is_mapped(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_bytes(bytes(200))
    with target.open("rb") as stream:
        whole = Source.of_file(stream, str(target)).buffer(rf.Limits(max_file_bytes=200))
        assert not isinstance(whole, bytes) and len(whole) == 200  # exactly the bound: mapped
        del whole
        source = Source.of_file(stream, str(target))
        with pytest.raises(rf.CheckpointError) as caught:
            source.buffer(rf.Limits(max_file_bytes=199))
    assert caught.value.message == (
        f"expected at most 199 bytes (Limits.max_file_bytes), found 200{HINT}"
    )


@pytest.mark.usefixtures("mapped_from_100")
def test_a_file_that_grew_past_the_bound_before_it_was_mapped_is_refused(tmp_path: Path) -> None:
    """Within the bound when opened, past it when mapped: the map is not kept, and the
    bytes read instead are refused."""
    target = tmp_path / "data"
    target.write_bytes(bytes(200))
    with target.open("rb") as stream:
        source = Source.of_file(stream, str(target))
        with target.open("ab") as more:
            more.write(bytes(100))
        with pytest.raises(rf.CheckpointError) as caught:
            source.buffer(rf.Limits(max_file_bytes=250))
    assert caught.value.message == (
        f"expected at most 250 bytes (Limits.max_file_bytes), found 300{HINT}"
    )


@pytest.mark.usefixtures("mapped_from_100")
def test_a_prefix_of_a_mapped_file_gives_its_pages_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data"
    target.write_bytes(bytes(range(200)))
    asked: list[tuple[object, int, int]] = []
    monkeypatch.setattr(
        forms_base, "release", lambda buffer, start, end: asked.append((buffer, start, end))
    )
    with target.open("rb") as stream:
        source = Source.of_file(stream, str(target))
        assert source.prefix(10, rf.Limits()) == bytes(range(10))
        whole = source.buffer(rf.Limits())
        assert not isinstance(whole, bytes)
        assert asked == [(whole, 0, 10)]
        assert whole[:] == bytes(range(200))  # the pages given back are read again
        del whole, asked[:]


def test_a_prefix_of_bytes_is_their_start() -> None:
    source = Source(name="<bytes>", data=b"0123456789")
    assert source.prefix(4, rf.Limits()) == b"0123"
    assert source.prefix(40, rf.Limits()) == b"0123456789"


# --- the early check -------------------------------------------------------------------


def test_the_early_check_passes_a_good_document_without_a_warning() -> None:
    """A document of RustGPT's dialect is migrated with a warning when it is read; the
    check before that says nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        document = json.loads(rf.dumps(tiny_checkpoint(), dialect="rustgpt"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_early(document, schema_applies=False)
    with pytest.warns(rf.FormatWarning, match="migrated"):
        rf.loads(json.dumps(document))


@pytest.mark.parametrize("schema_applies", [True, False])
def test_the_early_check_refuses_with_the_readers_error_and_the_document(
    schema_applies: bool,
) -> None:
    document = wire_document(tiny_checkpoint())
    document["config"]["embedding_dim"] = 5
    with pytest.raises(RefusedEarlyError) as caught:
        check_early(document, schema_applies=schema_applies)
    error = caught.value
    assert (error.path, error.message) == (
        "network[0].token_embeddings",
        "expected shape (3, 5) (config.vocab_size = 3; config.embedding_dim = 5), found (3, 4)",
    )
    assert str(error) == f"{error.path}: {error.message}"
    assert error.decoded.document is document
    assert error.decoded.schema_applies is schema_applies


# --- writing -----------------------------------------------------------------------------


def test_a_form_without_its_own_write_writes_its_encoding(tmp_path: Path) -> None:
    json_form = FORMS.named("json")
    options = WriteOptions(indent=2)
    target = tmp_path / "model.json"
    Form.write(json_form, tiny_checkpoint(), target, options)
    assert target.read_bytes() == json_form.encode(tiny_checkpoint(), options)
    assert target.read_bytes() == rf.dumps(tiny_checkpoint(), indent=2)


# --- the registry ------------------------------------------------------------------------


class Named(Form):
    """A form known only by its name and endings, for the registry's order."""

    accepts: ClassVar[bytes] = b""

    def __init__(self, name: str, *suffixes: str) -> None:
        self.name = name  # type: ignore[misc]
        self.suffixes = suffixes  # type: ignore[misc]

    def recognizes(self, source: Source, limits: rf.Limits) -> bool:
        return source.head.startswith(self.name.encode())

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        raise NotImplementedError


def test_a_registry_recognises_in_the_order_forms_were_given_or_registered() -> None:
    a, b, ab = Named("a"), Named("b"), Named("ab")
    registry = Registry([a, b, ab])
    assert registry.names() == ("a", "b", "ab")
    assert list(registry) == [a, b, ab]
    assert registry.recognize(Source(name="<bytes>", data=b"ab...")) is a  # a comes first
    registry.register(ab)  # first, by default
    assert registry.names() == ("ab", "a", "b")
    assert registry.recognize(Source(name="<bytes>", data=b"ab...")) is ab
    registry.register(ab, first=False)
    assert registry.names() == ("a", "b", "ab")
    registry.unregister("b")
    registry.unregister("b")  # a name not registered: nothing to do
    assert registry.names() == ("a", "ab")
    with pytest.raises(rf.CheckpointError) as caught:
        registry.recognize(Source(name="<bytes>", data=b"  "))
    assert caught.value.message == "not a checkpoint: only white space"


def test_another_form_of_a_registered_name_is_refused() -> None:
    registry = Registry([Named("a")])
    with pytest.raises(ValueError) as caught:
        registry.register(Named("a"))
    assert str(caught.value) == "a form named 'a' is registered already"


def test_an_unknown_form_name_lists_the_names() -> None:
    registry = Registry([Named("b"), Named("a")])
    assert registry.named("b").name == "b"
    with pytest.raises(ValueError) as caught:
        registry.named("c")
    assert str(caught.value) == "form: expected one of a, b, found 'c'"


def test_the_longest_ending_picks_the_form_and_a_tie_the_first_registered() -> None:
    gz, json_gz, other_gz = Named("gz", ".gz"), Named("json.gz", ".json.gz"), Named("x", ".gz")
    registry = Registry([gz, json_gz, other_gz, Named("json", ".json")])
    assert registry.for_path("model.JSON.GZ") is json_gz
    assert registry.for_path("model.gz") is gz
    assert registry.for_path("model").name == "json"


# --- what unrecognised bytes look like -----------------------------------------------------


@pytest.mark.parametrize(
    ("head", "size", "looks"),
    [
        (b"", 0, "an empty file"),
        (b" \r\n\t", 4, "only white space"),
        (b"hello", 5, "text that is not JSON"),
        (b"\x00\x01\x02", 3, "binary data"),
        (b"%PDF-1.7", 8, "binary data (looks like PDF)"),
        (
            bytes([200, 1, 0, 0, 0, 0, 0, 0]) + b"{",
            None,
            "binary data (looks like safetensors, but its header length 456 does not fit in "
            "a file of unknown size)",
        ),
        # eight bytes of text, the last character cut, then a brace: no length, no text
        (b"abcde" + "😀".encode()[:3] + b"{", 9, "binary data"),
    ],
)
def test_what_bytes_no_form_recognises_look_like(head: bytes, size: int | None, looks: str) -> None:
    assert describe_content(head, size) == looks


@pytest.mark.parametrize(
    ("head", "text"),
    [
        ("é".encode()[:1], True),  # a character cut at the end still counts
        (b"a" + "😀".encode()[:3], True),  # three bytes of a four-byte character
        (b"abc\xff", False),  # a byte that starts no character, near the end
        (b"\xffabcdef", False),
        (b"tab\tand\r\nlines", True),
        (b"bell\x07", False),
    ],
)
def test_text_is_utf_8_without_control_characters(head: bytes, text: bool) -> None:
    assert is_text(head) is text
