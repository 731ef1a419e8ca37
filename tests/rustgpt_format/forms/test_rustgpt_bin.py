"""The .bin form: told by content under any name, read in growing prefixes, read under
the caller's limits, and written as RustGPT's bincode of the dialect's document."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.bincode import decode, encode
from rustgpt_format.codec import parse
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.forms import FORMS, Source
from rustgpt_format.forms.rustgpt_bin import RUSTGPT_BIN
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.reading import open_source, read
from tests.rustgpt_format.bincode.handmade import SMALL, bin_with_words, same, small_document
from tests.rustgpt_format.test_dialect import expected_after_v0


def test_a_bin_whose_vocab_passes_the_first_look_is_told_by_its_content(tmp_path: Path) -> None:
    """The first 64 bytes, then the first 64 KiB, hold only part of this vocab: each look
    must judge its bytes as the start of a file of the real size, not as a whole file."""
    data = bin_with_words(12_000)
    assert len(data) > 4 * 2**16
    assert FORMS.recognize(Source(name="<bytes>", data=data)).name == "rustgpt.bin"
    target = tmp_path / "model.data"
    target.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)  # RustGPT's files are version 0
        assert read(target).form == "rustgpt.bin"


def asked_prefixes(target: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the prefixes the .bin form reads to tell the file at ``target``."""
    asked: list[int] = []
    with open_source(target) as stream:
        source = Source.of_file(stream, str(target))
        original = source.prefix

        def prefix(count: int, limits: Limits) -> bytes:
            asked.append(count)
            return original(count, limits)

        monkeypatch.setattr(source, "prefix", prefix)
        assert RUSTGPT_BIN.recognizes(source, DEFAULT_LIMITS)
    return asked


def test_a_large_bin_is_told_from_growing_prefixes_never_from_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the form checks is structure, within max_header_bytes: a prefix of twice
    that answers as the whole file would, and a small first look tells most files."""
    target = tmp_path / "large.bin"
    with target.open("wb") as stream:
        stream.write(SMALL)  # a vocab and a first layer, then zeros (a sparse file)
        stream.truncate(3 * DEFAULT_LIMITS.max_header_bytes)
    assert asked_prefixes(target, monkeypatch) == [
        2**16,
        2**20,
        2**24,
        2 * DEFAULT_LIMITS.max_header_bytes,
    ]
    small = tmp_path / "small.bin"
    small.write_bytes(SMALL)
    assert asked_prefixes(small, monkeypatch) == [2**16]  # all of it at the first look


def test_the_callers_limits_apply_to_a_bin() -> None:
    data = rf.dumps(tiny_checkpoint(), form="rustgpt.bin")
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(data, limits=Limits(max_elements=10))
    assert caught.value.path == "network[0].Embeddings.token_embeddings.data"
    assert caught.value.message.startswith(
        "expected at most 10 numbers in all arrays (Limits.max_elements)"
    )


def test_a_bin_past_the_default_structure_bound_is_told_under_the_callers_limits() -> None:
    """51 MiB of vocabulary: past the default max_header_bytes, a .bin all the same when
    the caller raises the bound. Told with the default limits, it was 'not a checkpoint:
    binary data' whatever the caller passed."""
    document = small_document()
    words = ["a" * 60_000 + str(i) for i in range(300)] + ["</s>"]
    document["vocab"] = {
        "encode": {word: i for i, word in enumerate(words)},
        "decode": {str(i): word for i, word in enumerate(words)},
        "words": words,
    }
    data = encode(document)
    with pytest.raises(rf.CheckpointError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        rf.loads(data, limits=Limits(max_header_bytes=2**28))
    assert (caught.value.path, caught.value.message) == (
        "network",
        "expected at least Embeddings and OutputProjection, found 1 layers",
    )


def test_what_is_written_is_rustgpts_document_in_bincode() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        data = rf.dumps(tiny_checkpoint(), form="rustgpt.bin")
        assert rf.loads(data) == expected_after_v0(tiny_checkpoint())
    same(decode(data), parse(to_rustgpt(tiny_checkpoint())))
