"""Telling a .bin by its content, and never another form for one."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.bincode import encode, looks_like
from rustgpt_format.bincode.layout import ENTRY_CHARGE
from rustgpt_format.codec import encode as encode_json
from rustgpt_format.codec import parse
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.limits import DEFAULT_LIMITS
from tests.rustgpt_format.bincode.handmade import (
    LAYER_NORM,
    TINY,
    TRAINED,
    VOCAB,
    bin_with_words,
    f32_bytes,
    string_bytes,
    varint_bytes,
)


@pytest.mark.parametrize(
    "count", [9, 10, 13, 31, 32, 34, 91, 123, 251, 533], ids=lambda n: f"{n}-words"
)
def test_a_bin_whose_first_byte_looks_like_another_form_is_told_as_a_bin(count: int) -> None:
    # 9, 10, 13, 32: JSON white space; 31: gzip's first byte; 34, 91, 123: '"', '[', '{'.
    assert looks_like(bin_with_words(count))


def test_a_bin_whose_ninth_byte_is_a_brace_is_told_as_a_bin() -> None:
    # 300 words, "w123" first: fb 2c 01 | 04 "w123" | 7b (its id, 123 = "{"): the bytes
    # a safetensors file starts with (a length, then "{"). RustGPT reads it as its own.
    document = parse(to_rustgpt(random_checkpoint(
        vocab_size=300, embedding_dim=2, hidden_dim=256, max_seq_len=2, middle=()
    )))  # fmt: skip
    first = {"w123": 123}
    document["vocab"]["encode"] = first | document["vocab"]["encode"]
    data = encode(document)
    assert data[8:9] == b"{" and looks_like(data)


@pytest.mark.parametrize(
    "data", [TINY, TRAINED, bin_with_words(533)], ids=["tiny", "trained", "533-words"]
)
def test_real_bins_are_told_as_bins_by_their_whole_or_their_head(data: bytes) -> None:
    assert looks_like(data)
    for cut in (0, 1, 9, 64, 1000):  # the first bytes are consistent with a .bin that size
        assert looks_like(data[:cut], len(data))


def test_a_head_says_less_than_the_whole_file() -> None:
    # 64 bytes of JSON can read as a vocab so far: recognition needs the whole vocab.
    text = to_rustgpt(tiny_checkpoint())
    assert looks_like(text[:64], len(text)) and not looks_like(text)


@pytest.mark.parametrize(
    ("data", "truncated"),
    [(TRAINED[:20], "in the vocab"), (TRAINED[:52], "in the first layer")],
)
def test_a_truncated_bin_is_a_bin_only_when_its_vocab_is_whole(data: bytes, truncated: str) -> None:
    assert looks_like(data) == (truncated == "in the first layer")


def _safetensors(checkpoint: rf.Checkpoint) -> bytes:
    path = Path(tempfile.mkdtemp()) / "checkpoint.safetensors"
    rf.save(checkpoint, path)
    return path.read_bytes()


def _other_forms() -> dict[str, bytes]:
    checkpoint = tiny_checkpoint()
    texts = {
        "json": encode_json(checkpoint),
        "json-indented": encode_json(checkpoint, indent=2),
        "rustgpt-json": to_rustgpt(checkpoint),
        "rustgpt-json-indented": to_rustgpt(checkpoint, indent=2),
        "rustgpt-json-123-words": to_rustgpt(
            random_checkpoint(
                vocab_size=123, embedding_dim=2, hidden_dim=256, max_seq_len=2, middle=()
            )
        ),
    }
    return {
        **texts,
        **{f"{name}.gz": gzip.compress(text, mtime=0) for name, text in texts.items()},
        "safetensors": _safetensors(checkpoint),
        "safetensors-default-size": _safetensors(random_checkpoint()),
        "empty": b"",
        "bin-without-layers": VOCAB + b"\x00",
    }


OTHER_FORMS = _other_forms()


@pytest.mark.parametrize("name", list(OTHER_FORMS))
def test_other_forms_are_not_told_as_bins(name: str) -> None:
    assert not looks_like(OTHER_FORMS[name])


def vocab_bytes(
    encode: list[tuple[str, int]], decode: list[tuple[int, str]], words: list[str]
) -> bytes:
    return (
        varint_bytes(len(encode))
        + b"".join(string_bytes(word) + varint_bytes(token) for word, token in encode)
        + varint_bytes(len(decode))
        + b"".join(varint_bytes(token) + string_bytes(word) for token, word in decode)
        + varint_bytes(len(words))
        + b"".join(string_bytes(word) for word in words)
    )


TWO = [("hi", 0), ("</s>", 1)], [(0, "hi"), (1, "</s>")], ["hi", "</s>"]
FIRST_LAYER = varint_bytes(1) + LAYER_NORM  # one layer, whose first field is a float32
EPSILON = varint_bytes(1) + varint_bytes(3) + f32_bytes(1e-5)  # LayerNorm up to gamma


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (vocab_bytes(*TWO) + FIRST_LAYER, True),
        (vocab_bytes([("</s>", 0)], [(0, "</s>")], ["</s>"]) + FIRST_LAYER, True),  # one word
        (VOCAB, True),  # a whole vocab: a .bin cut short, which decode calls truncated
        (VOCAB + EPSILON + b"\x01", True),  # cut after ndarray's version byte
        (VOCAB + EPSILON + b"\x02", False),  # not ndarray's version, however short the file
        # each word and each id once, every id below the count, in each of the three parts
        (vocab_bytes([("hi", 0), ("hi", 1)], *TWO[1:]) + FIRST_LAYER, False),
        (vocab_bytes([("hi", 0), ("</s>", 0)], *TWO[1:]) + FIRST_LAYER, False),
        (vocab_bytes([("hi", 0), ("</s>", 2)], *TWO[1:]) + FIRST_LAYER, False),
        (vocab_bytes(TWO[0], [(0, "hi"), (1, "hi")], TWO[2]) + FIRST_LAYER, False),
        (vocab_bytes(TWO[0], [(0, "hi"), (0, "</s>")], TWO[2]) + FIRST_LAYER, False),
        (vocab_bytes(TWO[0], [(0, "hi"), (2, "</s>")], TWO[2]) + FIRST_LAYER, False),
        (vocab_bytes(TWO[0], [(0, "hi")], TWO[2]) + FIRST_LAYER, False),
        (vocab_bytes(*TWO[:2], ["hi", "hi"]) + FIRST_LAYER, False),
        (vocab_bytes(*TWO[:2], ["hi"]) + FIRST_LAYER, False),
    ],
)
def test_a_bin_is_a_vocab_of_distinct_words_and_ids_then_layers(
    data: bytes, expected: bool
) -> None:
    assert looks_like(data) == expected
    assert looks_like(memoryview(data)) == looks_like(bytearray(data)) == expected


def test_a_head_cut_inside_a_character_is_consistent_but_not_a_byte_no_text_has() -> None:
    data = vocab_bytes([("a😀b", 0), ("</s>", 1)], *TWO[1:]) + FIRST_LAYER
    for cut in range(3, 10):  # inside the word, at every byte of the emoji
        assert looks_like(data[:cut], len(data))
    bad = varint_bytes(2) + varint_bytes(5) + b"ab\xffcd" + data[9:]
    assert not looks_like(bad[:5], len(bad))  # 0xff starts no UTF-8 character


def test_a_head_claiming_more_words_than_the_structure_budget_is_no_bin() -> None:
    """An entry counts its bytes and ENTRY_CHARGE against max_header_bytes, from the head."""
    most = (DEFAULT_LIMITS.max_header_bytes - 5) // (2 + ENTRY_CHARGE)  # 5: the count's varint
    assert looks_like(varint_bytes(most), 2**40)
    assert not looks_like(varint_bytes(most + 1), 2**40)


def test_the_vocab_parts_after_the_first_count_against_the_budget_with_what_came_before() -> None:
    """256 words of some 64 KiB each: the encode part alone is within max_header_bytes,
    and its bytes with the decode part's 256 entries (each its bytes and ENTRY_CHARGE)
    are past it by 512 bytes, or within it by 256 when the last word is 768 bytes
    shorter."""
    budget, count = DEFAULT_LIMITS.max_header_bytes, 256

    def head(short: int) -> bytes:
        words = [f"{index:03d}" + "x" * 65532 for index in range(count)]
        entries = [string_bytes(word) + varint_bytes(i) for i, word in enumerate(words)]
        text = varint_bytes(count) + b"".join(entries) + varint_bytes(count)
        cut = len(text) - (budget - (2 + ENTRY_CHARGE) * count + 512) + short
        words[-1] = words[-1][:-cut]
        entries[-1] = string_bytes(words[-1]) + varint_bytes(count - 1)
        return varint_bytes(count) + b"".join(entries) + varint_bytes(count)

    assert len(head(0)) + (2 + ENTRY_CHARGE) * count == budget + 512
    assert not looks_like(head(0), 2**40)
    assert looks_like(head(768), 2**40)
