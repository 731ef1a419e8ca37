"""The binary form's refusals, each at its bound and with its message, read from a file
and from bytes (a pipe, ``loads``): what the reader checks itself before and after the
``safetensors`` library has checked the container."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.forms import FORMS, ReadOptions, Source
from rustgpt_format.forms.safetensors import is_safetensors
from rustgpt_format.models import Parts
from rustgpt_format.reading import read_parts
from tests.rustgpt_format.forms.test_safetensors import join, split

SAFETENSORS = FORMS.named("safetensors")
DATA = rf.dumps(tiny_checkpoint(), form="safetensors")
HINT = "; to read it anyway, pass limits=Limits(...) with a higher bound"


def header_and_body() -> tuple[dict[str, Any], bytes]:
    """A fresh copy of the tiny checkpoint's header (to change) and its tensor bytes."""
    return split(DATA)


def refusal(read: Callable[[], object]) -> rf.CheckpointError:
    with pytest.raises(rf.CheckpointError) as caught:
        read()
    return caught.value


def from_file(data: bytes, folder: Path, **options: Any) -> rf.CheckpointError:
    target = folder / "model.safetensors"
    target.write_bytes(data)
    return refusal(lambda: rf.load(target, **options))


def from_bytes(data: bytes, **options: Any) -> rf.CheckpointError:
    return refusal(lambda: rf.loads(data, **options))


def problems(error: rf.CheckpointError) -> list[tuple[str, str]]:
    return [(problem.path, problem.message) for problem in error.problems]


# --- recognition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "size", "expected"),
    [
        (2, 10, True),  # "{}" and nothing else: the smallest header fits exactly
        (3, 10, False),  # one byte past the end
        (1, 10, False),  # no room for "{}"
        (2, None, True),  # a pipe: nine bytes are enough to tell
        (2**40 - 1, None, True),  # the largest claim taken from a pipe
        (2**40, None, False),
    ],
)
def test_a_header_length_is_recognised_only_where_it_fits(
    length: int, size: int | None, expected: bool
) -> None:
    head = struct.pack("<Q", length) + b"{"
    assert is_safetensors(head, size) is expected
    assert not is_safetensors(head[:8], size)  # no brace at byte 8: not safetensors


def test_bytes_whose_header_length_does_not_fit_are_not_taken_for_safetensors() -> None:
    """The length is checked against the data's own size, not a pipe's 2**40."""
    error = from_bytes(bytes([200, 1, 0, 0, 0, 0, 0, 0]) + b"{")
    assert error.message == (
        "not a checkpoint: binary data (looks like safetensors, but its header length 456 "
        "does not fit in 9 bytes)"
    )


# --- a source that is not (or no longer) what recognition saw --------------------------
# The form's decode is also called on a file that changed after it was recognised, and
# by a caller who names the form; its own checks then come first.


def decoded_from(data: bytes, folder: Path | None) -> rf.CheckpointError:
    if folder is None:
        source = Source(name="<bytes>", data=data)
        return refusal(lambda: SAFETENSORS.decode(source, ReadOptions()))
    target = folder / "model.safetensors"
    target.write_bytes(data)
    with target.open("rb") as stream:
        opened = Source.of_file(stream, str(target))
        return refusal(lambda: SAFETENSORS.decode(opened, ReadOptions()))


@pytest.mark.parametrize("where", ["bytes", "file"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01" * 5, "expected a safetensors file, found 5 bytes"),
        (
            struct.pack("<Q", 3) + b"{}",
            "expected a safetensors header within the file, found a claim of 3 bytes in a "
            "file of 10",
        ),
        (
            struct.pack("<Q", 2**63) + b"{}",  # a length with its top bit set is no negative
            "expected a safetensors header within the file, found a claim of "
            "9223372036854775808 bytes in a file of 10",
        ),
    ],
    ids=["too short", "one byte past the end", "top bit set"],
)
def test_a_source_too_short_for_its_header_is_refused(
    where: str, data: bytes, message: str, tmp_path: Path
) -> None:
    error = decoded_from(data, tmp_path if where == "file" else None)
    assert (error.path, error.message) == ("", message)


def test_bytes_of_a_bare_length_or_a_header_that_is_no_object_are_refused() -> None:
    # eight bytes are a length (0) and an empty header: JSON's complaint, not "too short"
    assert decoded_from(bytes(8), None).message == "expected a JSON document, found an empty file"
    assert decoded_from(struct.pack("<Q", 2) + b"[]", None).message == (
        "expected a safetensors header object, found an array of 0 items"
    )


# --- the bounds of Limits, at and one past each -------------------------------------


@pytest.mark.parametrize("source", ["file", "bytes"])
def test_a_header_of_exactly_max_header_bytes_is_read_one_byte_less_refused(
    source: str, tmp_path: Path
) -> None:
    (length,) = struct.unpack("<Q", DATA[:8])
    target = tmp_path / "model.safetensors"
    target.write_bytes(DATA)

    def read(bound: int) -> rf.Checkpoint:
        limits = rf.Limits(max_header_bytes=bound)
        return rf.load(target, limits=limits) if source == "file" else rf.loads(DATA, limits=limits)

    assert read(length) == tiny_checkpoint()
    error = refusal(lambda: read(length - 1))
    assert (error.path, error.message) == (
        "",
        f"expected a safetensors header of at most {length - 1} bytes "
        f"(Limits.max_header_bytes), found {length}{HINT}",
    )


def test_a_file_of_exactly_max_file_bytes_is_read_one_byte_less_refused(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    target.write_bytes(DATA)
    size = len(DATA)
    assert rf.load(target, limits=rf.Limits(max_file_bytes=size)) == tiny_checkpoint()
    error = refusal(lambda: rf.load(target, limits=rf.Limits(max_file_bytes=size - 1)))
    assert error.message == (
        f"expected at most {size - 1} bytes (Limits.max_file_bytes), found {size}{HINT}"
    )


def with_tensor(name: str, shape: list[int] | None, nbytes: int = 0) -> bytes:
    """The tiny checkpoint's file with the tensor ``name`` declared of ``shape`` and
    ``nbytes`` zero bytes instead, or left out (``shape`` None); later offsets move."""
    header, body = header_and_body()
    start, end = header[name]["data_offsets"]
    if shape is None:
        del header[name]
    else:
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [start, start + nbytes]}
    moved = nbytes - (end - start) if shape is not None else start - end
    for other, entry in header.items():
        if other != name and "data_offsets" in entry and entry["data_offsets"][0] >= end:
            entry["data_offsets"] = [offset + moved for offset in entry["data_offsets"]]
    return join(header, body[:start] + bytes(nbytes if shape is not None else 0) + body[end:])


def with_last_tensor(shape: list[int], nbytes: int) -> bytes:
    """The tiny checkpoint with its last tensor in the file (``network.5.w_out``)
    declared of ``shape`` and ``nbytes`` bytes instead."""
    return with_tensor("network.5.w_out", shape, nbytes)


@pytest.mark.parametrize("source", ["file", "bytes"])
def test_an_empty_tensor_with_a_side_past_max_elements_is_refused(
    source: str, tmp_path: Path
) -> None:
    """A (0, n) tensor holds no number, but a side of n past the bound is refused as if
    it held them; a side of exactly the bound is not (the validator refuses the shape)."""
    limits = rf.Limits(max_elements=1000)

    def read(data: bytes) -> rf.CheckpointError:
        if source == "file":
            return from_file(data, tmp_path, limits=limits)
        return from_bytes(data, limits=limits)

    at_the_bound = read(with_last_tensor([0, 1000], 0))
    assert (at_the_bound.path, at_the_bound.message) == (
        "network[5].b_out",
        "expected shape (1, 1000) (vocab_size = 1000, from w_out), found (1, 3)",
    )
    past = read(with_last_tensor([0, 1001], 0))
    assert past.message == (
        "tensor `network.5.w_out`: expected at most 1000 numbers in all tensors "
        f"(Limits.max_elements), found more by this one{HINT}"
    )
    if source == "file":  # from bytes the refusal names the tensor in its message only
        assert past.path == "network[5].w_out"


PAST_THE_BOUND = (
    "expected at most {} numbers in all tensors (Limits.max_elements), found more by this one"
)


@pytest.mark.parametrize("source", ["file", "bytes"])
@pytest.mark.parametrize(
    ("first", "nbytes", "bound", "named"),
    [
        (None, 0, 507, "network.5.w_out"),  # the numbers before it are exactly the bound
        ([0, 50], 0, 50, "network.0.token_optimizer.v"),  # a side of exactly the bound
        ([], 4, 50, "network.0.token_optimizer.v"),  # a scalar on the way
    ],
    ids=["exactly the bound before it", "a side of the bound", "a scalar"],
)
def test_the_tensor_named_past_max_elements_is_the_first_past_it(
    source: str,
    first: list[int] | None,
    nbytes: int,
    bound: int,
    named: str,
    tmp_path: Path,
) -> None:
    """In file order: positional_embeddings, its two moments, token_embeddings (12
    numbers each, 8 for the first), ... network.5.optimizer.v, network.5.w_out (12)."""
    data = DATA if first is None else with_tensor("network.0.positional_embeddings", first, nbytes)
    limits = rf.Limits(max_elements=bound)
    error = (
        from_file(data, tmp_path, limits=limits)
        if source == "file"
        else from_bytes(data, limits=limits)
    )
    assert error.message == f"tensor `{named}`: {PAST_THE_BOUND.format(bound)}{HINT}"


@pytest.mark.parametrize(("source", "dtype"), [("file", "F32"), ("bytes", "float32")])
def test_a_scalar_tensor_is_refused_as_not_2_d(source: str, dtype: str, tmp_path: Path) -> None:
    data = with_last_tensor([], 4)
    error = from_file(data, tmp_path) if source == "file" else from_bytes(data)
    assert (error.path, error.message) == (
        "network[5].w_out",
        f"tensor `network.5.w_out`: expected a 2-D F32 tensor, found 0-D {dtype} of shape ()",
    )


def vocabulary_of(words: int) -> rf.Checkpoint:
    return random_checkpoint(
        vocab_size=words, embedding_dim=1, hidden_dim=1, max_seq_len=1, middle=()
    )


def test_the_callers_limits_reach_every_parse_of_the_header(tmp_path: Path) -> None:
    """A vocabulary of 9,000 words makes the metadata one string of over 2**16
    characters: a caller who raises max_string_chars reads it from bytes and without
    the optimizer (both parse the header themselves)."""
    checkpoint = vocabulary_of(9000)
    data = rf.dumps(checkpoint, form="safetensors")
    header, _ = split(data)
    assert len(header["__metadata__"]["checkpoint"]) > 2**16
    limits = rf.Limits(max_string_chars=2**17)
    assert rf.loads(data, limits=limits) == checkpoint
    target = tmp_path / "model.safetensors"
    target.write_bytes(data)
    weights = rf.load(target, optimizer=False, limits=limits)
    assert weights.network[0].token_embeddings.tobytes() == (  # type: ignore[union-attr]
        checkpoint.network[0].token_embeddings.tobytes()  # type: ignore[union-attr]
    )


def test_the_callers_limits_reach_the_document_in_the_metadata(tmp_path: Path) -> None:
    """The full load leaves the header to the library; the document in it is still
    parsed within the caller's limits."""
    error = from_file(DATA, tmp_path, limits=rf.Limits(max_depth=2))
    assert error.path.startswith("__metadata__.checkpoint")
    assert "(Limits.max_depth;" in error.message


# --- the metadata --------------------------------------------------------------------


def with_metadata(metadata: object) -> bytes:
    header, body = header_and_body()
    if metadata is None:
        del header["__metadata__"]
    else:
        header["__metadata__"] = metadata
    return join(header, body)


def with_document(change: Callable[[dict[str, Any]], object]) -> bytes:
    header, body = header_and_body()
    document = json.loads(header["__metadata__"]["checkpoint"])
    change(document)
    header["__metadata__"]["checkpoint"] = json.dumps(document)
    return join(header, body)


NO_DOCUMENT = "expected a RustGPT checkpoint as JSON under the key 'checkpoint', found "

METADATA = [
    ("no metadata", with_metadata(None), "__metadata__", NO_DOCUMENT + "none"),
    ("empty metadata", with_metadata({}), "__metadata__", NO_DOCUMENT + "none"),
    (
        "a document that is no object",
        with_metadata({"checkpoint": "[]"}),
        "__metadata__.checkpoint",
        "expected a JSON object, found an array of 0 items",
    ),
    (
        "no format key",
        with_document(lambda document: document.pop("format")),
        "__metadata__.checkpoint.format",
        "expected a RustGPT checkpoint (format 'rustgpt-checkpoint'), found no format key",
    ),
]


@pytest.mark.parametrize("source", ["file", "bytes"])
@pytest.mark.parametrize(
    ("why", "data", "path", "message"), METADATA, ids=[row[0] for row in METADATA]
)
def test_metadata_without_a_checkpoint_is_named(
    source: str, why: str, data: bytes, path: str, message: str, tmp_path: Path
) -> None:
    error = from_file(data, tmp_path) if source == "file" else from_bytes(data)
    assert (error.path, error.message) == (path, message)


def test_from_bytes_metadata_that_is_no_object_holds_no_document() -> None:
    """(From a file the library refuses it as a damaged header.)"""
    for metadata, found in [("abc", "none"), ({"a": "1", "b": "2"}, "keys 'a', 'b'")]:
        error = from_bytes(with_metadata(metadata))
        assert (error.path, error.message) == ("__metadata__", NO_DOCUMENT + found)


# --- tensors the header gets wrong, read from bytes -----------------------------------


def test_from_bytes_every_tensor_of_a_wrong_type_or_rank_is_named() -> None:
    header, body = header_and_body()
    header["network.1.w_q"]["dtype"] = "I32"  # same size: the library takes the offsets
    rows, cols = header["network.3.w1"]["shape"]
    header["network.3.w1"]["shape"] = [rows * cols]
    error = from_bytes(join(header, body))
    assert sorted(problems(error)) == [  # in the library's order
        (
            "network[1].w_q",
            "tensor `network.1.w_q`: expected a 2-D F32 tensor, found 2-D int32 of shape (4, 4)",
        ),
        (
            "network[3].w1",
            "tensor `network.3.w1`: expected a 2-D F32 tensor, found 1-D float32 of shape (32,)",
        ),
    ]


def test_from_bytes_overlapping_offsets_are_the_librarys_refusal() -> None:
    header, body = header_and_body()
    start, end = header["network.1.w_q"]["data_offsets"]
    header["network.1.w_k"]["data_offsets"] = [start + 4, end + 4]
    error = from_bytes(join(header, body))
    assert error.message.startswith("expected a safetensors file, found a damaged one: ")
    assert "invalid offset for tensor `network.1.w_q`" in error.message


@pytest.mark.parametrize(
    "entry",
    [5, {"dtype": "F32", "shape": ["a", 4]}, {"dtype": "F32", "shape": None}],
    ids=["an entry that is no object", "a side that is no number", "no shape"],
)
def test_from_bytes_a_malformed_tensor_entry_is_the_librarys_refusal(entry: Any) -> None:
    """Counting the numbers skips what it cannot count, and the library names it."""
    header, body = header_and_body()
    if isinstance(entry, dict):
        entry["data_offsets"] = header["network.1.w_q"]["data_offsets"]
    header["network.1.w_q"] = entry
    error = from_bytes(join(header, body))
    assert error.message.startswith("expected a safetensors file, found a damaged one: ")


@pytest.mark.parametrize("source", ["file", "bytes"])
def test_a_header_with_no_tensor_names_every_missing_one(source: str, tmp_path: Path) -> None:
    """The header fills the file to its last byte."""
    header, _ = header_and_body()
    names = [name for name in header if name != "__metadata__"]
    for name in names:
        del header[name]
    data = join(header, b"")
    error = from_file(data, tmp_path) if source == "file" else from_bytes(data)
    assert len(error.problems) == len(names) == 43
    assert (error.path, error.message) == (
        "network[0].token_embeddings",
        "tensor `network.0.token_embeddings` not found in the file",
    )


# --- layers the metadata gets wrong --------------------------------------------------


def layer_one_tensors() -> list[str]:
    header, _ = header_and_body()
    return sorted(name for name in header if name.startswith("network.1."))


@pytest.mark.parametrize("source", ["file", "bytes"])
@pytest.mark.parametrize(
    "change",
    [
        lambda network: network.__setitem__(1, 5),
        lambda network: network[1].update(type=[]),
        lambda network: network[1].update(type="Attention"),
    ],
    ids=["a layer that is no object", "a type that is no string", "an unknown type"],
)
def test_the_tensors_of_a_layer_the_metadata_cannot_place_are_named(
    source: str, change: Callable[[list[Any]], object], tmp_path: Path
) -> None:
    """Only that layer's tensors: the layers after it are read as usual."""
    data = with_document(lambda document: change(document["network"]))
    expected = [
        ("", f"unexpected tensor `{name}`: the checkpoint in __metadata__ has no place for it")
        for name in layer_one_tensors()
    ]
    error = from_file(data, tmp_path) if source == "file" else from_bytes(data)
    assert problems(error) == expected
    # and so when only another layer is asked for
    if source == "file":
        partial = refusal(lambda: rf.load(tmp_path / "model.safetensors", layers=[0]))
    else:
        bytes_source = Source(name="<bytes>", data=data)
        partial = refusal(lambda: read_parts(bytes_source, ReadOptions(layers=(0,))))
    assert problems(partial) == expected


def test_a_network_that_is_no_list_places_no_tensor(tmp_path: Path) -> None:
    data = with_document(lambda document: document.update(network=5))
    for error in (from_file(data, tmp_path), from_bytes(data)):
        assert len(error.problems) == 43
        assert all(problem.message.startswith("unexpected tensor `") for problem in error.problems)
    # a partial load of it is refused naming the network in the JSON form's words (it
    # was the caller's ValueError about the layer index)
    target = tmp_path / "model.safetensors"
    for read in (
        lambda: rf.load(target, layers=[0]),
        lambda: read_parts(Source(name="<bytes>", data=data), ReadOptions(layers=(0,))),
    ):
        with pytest.raises(rf.CheckpointError) as caught:
            read()
        assert str(caught.value) == "network: expected an array, found 5"


# --- partial and weights-only loads --------------------------------------------------


def test_from_bytes_a_partial_load_reads_the_layers_asked_for() -> None:
    """A pipe gives the form bytes: the layers asked for still come back as Parts."""
    selections: list[tuple[int | str, ...]] = [(1,), ("LayerNorm",), (0, -1)]
    for layers in selections:
        parts = read_parts(Source(name="<bytes>", data=DATA), ReadOptions(layers=layers))
        assert parts == Parts.of(tiny_checkpoint(), layers)
    weights = rf.loads(DATA, optimizer=False)
    assert all(state is None for layer in weights.network for state in layer.optimizers().values())


def test_from_bytes_the_layers_not_asked_for_are_not_checked() -> None:
    """NaN in every number of the first and last layers: the blocks still load."""
    header, body = header_and_body()
    damaged = bytearray(body)
    for name, entry in header.items():
        if name.startswith(("network.0.", "network.5.")):
            start, end = entry["data_offsets"]
            damaged[start:end] = np.full((end - start) // 4, np.nan, np.float32).tobytes()
    data = join(header, bytes(damaged))
    with pytest.raises(rf.CheckpointError, match="finite"):
        rf.loads(data)
    parts = read_parts(Source(name="<bytes>", data=data), ReadOptions(layers=("blocks",)))
    assert parts == Parts.of(tiny_checkpoint(), ["blocks"])


def without(name: str) -> bytes:
    """The tiny checkpoint's file without the tensor ``name`` (later offsets moved up)."""
    return with_tensor(name, None)


@pytest.mark.parametrize("source", ["file", "bytes"])
@pytest.mark.parametrize(
    ("name", "path", "options"),
    [
        ("network.0.token_embeddings", "network[0].token_embeddings", {"layers": (1,)}),
        ("network.1.optimizer_w_q.v", "network[1].optimizer_w_q.v", {"optimizer": False}),
    ],
    ids=["a layer not asked for", "a moment not asked for"],
)
def test_a_missing_tensor_that_is_not_read_is_still_named_by_its_path(
    source: str, name: str, path: str, options: dict[str, Any], tmp_path: Path
) -> None:
    data = without(name)
    if source == "file":
        target = tmp_path / "model.safetensors"
        target.write_bytes(data)
        error = refusal(lambda: rf.load(target, **options))
    else:
        source_ = Source(name="<bytes>", data=data)
        error = refusal(
            lambda: (
                read_parts(source_, ReadOptions(**options))
                if "layers" in options
                else rf.loads(data, **options)
            )
        )
    assert (error.path, error.message) == (path, f"tensor `{name}` not found in the file")


def test_a_large_vocabulary_reads_alike_by_every_way_of_reading(tmp_path: Path) -> None:
    """The metadata document of a 9,000-word vocabulary is one header string past
    ``Limits.max_string_chars`` (74,203 characters): the header is bounded by
    ``max_header_bytes``, and every way of reading agrees (a load from bytes, without
    the optimizer or of some layers parsed the header with the string bound and
    refused the file the full load read)."""
    checkpoint = random_checkpoint(vocab_size=9000, embedding_dim=4, hidden_dim=4, max_seq_len=2)
    data = rf.dumps(checkpoint, form="safetensors")
    assert len(data) - 8 > rf.Limits().max_string_chars
    path = tmp_path / "large-vocab.safetensors"
    path.write_bytes(data)
    assert rf.load(path) == checkpoint
    assert rf.loads(data) == checkpoint
    weights = rf.load(path, optimizer=False)
    assert weights.vocab == checkpoint.vocab
    assert weights.network[1].optimizer_w_q is None  # type: ignore[union-attr]
    part = rf.load(path, layers=[1]).network[1]
    assert part.w_q.tobytes() == checkpoint.network[1].w_q.tobytes()  # type: ignore[attr-defined]
    tight = rf.Limits(max_string_chars=8)  # a word of the vocabulary is still held to it
    for read in (lambda: rf.load(path, limits=tight), lambda: rf.loads(data, limits=tight)):
        with pytest.raises(rf.CheckpointError) as caught:
            read()
        assert "Limits.max_string_chars" in caught.value.message
