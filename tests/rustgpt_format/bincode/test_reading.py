"""Reading RustGPT's .bin: round trips, the migration, and hostile bytes refused by name."""

from __future__ import annotations

import mmap
import random
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings

import rustgpt_format as rf
from rustgpt_format import CheckpointError, Limits, boundary, buffers
from rustgpt_format.bincode import decode, encode, reading
from rustgpt_format.bincode.layout import LAYER_CHARGE
from rustgpt_format.bincode.reading import looks_like
from rustgpt_format.buffers import Buffer, Releaser
from rustgpt_format.codec import encode as encode_json
from rustgpt_format.codec import parse
from rustgpt_format.dialect import rustgpt_document, to_rustgpt
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.migrations import migrated_checkpoint
from tests.rustgpt_format.bincode.handmade import (
    LAYER_NORM,
    SMALL,
    TINY,
    TRAINED,
    VOCAB,
    adam_bytes,
    array_bytes,
    f32_bytes,
    kept_by_the_dialect,
    same,
    small_document,
    string_bytes,
    varint_bytes,
)
from tests.strategies import checkpoints


def test_decode_reads_the_bytes_built_by_hand() -> None:
    same(decode(SMALL), small_document())


def test_a_non_canonical_varint_is_read_as_bincode_reads_it() -> None:
    # bincode 2 accepts 251 0x05 0x00 for 5, so RustGPT reads such a file: so do we.
    data = VOCAB + b"\xfb\x01\x00" + LAYER_NORM
    assert len(decode(data)["network"]) == 1


@pytest.mark.parametrize("data", [TINY, TRAINED], ids=["tiny", "trained"])
def test_rustgpt_bytes_survive_decode_and_encode(data: bytes) -> None:
    assert encode(decode(data)) == data


def test_the_dialect_writers_document_survives_encode_and_decode() -> None:
    document = parse(to_rustgpt(tiny_checkpoint()))
    same(decode(encode(document)), document)


@settings(max_examples=60, deadline=None)
@given(checkpoints())
def test_a_checkpoint_survives_the_bin_bit_for_bit(checkpoint: rf.Checkpoint) -> None:
    has_hidden = any(layer.type == "FeedForward" for layer in checkpoint.network)
    assume(has_hidden or checkpoint.config.hidden_dim == 256)  # else RustGPT cannot hold it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        data = encode(rustgpt_document(checkpoint))
        document = decode(data)
        back, _ = migrated_checkpoint(document)
        text = to_rustgpt(checkpoint)
    assert back == kept_by_the_dialect(checkpoint)
    assert encode(document) == data
    same(document, parse(text))


def test_decode_feeds_the_migration() -> None:
    with pytest.warns(Warning, match="migrated from format version 0 -> 1.0"):
        checkpoint, done = migrated_checkpoint(decode(TRAINED))
    assert done.source == "0"
    assert checkpoint.config.vocab_size == 3
    attention = checkpoint.network[1]
    assert isinstance(attention, rf.SelfAttention) and attention.optimizer_w_q is not None
    assert attention.optimizer_w_q.timestep == 85


def test_migrated_from_bin_equals_migrated_from_json() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_bin, _ = migrated_checkpoint(decode(TRAINED))
        from_json, _ = migrated_checkpoint(parse(to_rustgpt(from_bin)))
    assert encode_json(from_bin) == encode_json(from_json)


def test_a_nan_in_a_parameter_is_refused_naming_the_element() -> None:
    document = decode(TRAINED)
    document["network"][1]["SelfAttention"]["w_q"]["data"][5] = np.nan
    with pytest.raises(CheckpointError) as caught:
        decode(encode(document))
    assert str(caught.value) == (
        "network[1].SelfAttention.w_q.data[5]: "
        "expected a finite float32 (magnitude below 3.4028235e38), found nan"
    )


def test_an_infinity_in_a_cache_is_read_as_the_json_reader_reads_it() -> None:
    # RustGPT's JSON writes it as null, which the JSON reader drops with the cache unread.
    document = decode(TRAINED)
    document["network"][1]["SelfAttention"]["cached_input"]["data"][0] = np.inf
    cache = decode(encode(document))["network"][1]["SelfAttention"]["cached_input"]
    assert np.isinf(cache["data"][0])


# --- hostile input --------------------------------------------------------------------

_NORM_AT = len(VOCAB) + 1
"""Where the LayerNorm starts in SMALL."""
_GAMMA_AT = _NORM_AT + 1 + 4
"""Where its gamma array starts."""


def _patched(at: int, old: bytes, new: bytes) -> bytes:
    assert SMALL[at : at + len(old)] == old
    return SMALL[:at] + new + SMALL[at + len(old) :]


_CACHES = len(VOCAB) + 1 + 1 + 4 + 2 * len(array_bytes(1, 2))
"""Where SMALL's LayerNorm has its three Option tags (no caches)."""
_TIMESTEP_AT = _CACHES + 3 + 3 * 4
"""Where the timestep of its optimizer_gamma starts (300: three bytes)."""
_MOMENT_AT = _TIMESTEP_AT + len(varint_bytes(300))
"""Where that Adam state's m array starts."""


def _cut(at: int, next_bytes: bytes) -> bytes:
    """SMALL up to ``at``, where ``next_bytes`` start (a file cut there)."""
    assert SMALL[at : at + len(next_bytes)] == next_bytes
    return SMALL[:at]


HOSTILE: list[tuple[str, bytes, str, str]] = [
    ("empty", b"", "", "expected RustGPT's bincode (the vocab first), found an empty file"),
    (
        "truncated in the data",  # the last 3 bytes of the last moment are gone
        SMALL[:-3],
        "network[0].LayerNorm.optimizer_beta.v.data",
        "expected 2 float32 numbers (8 bytes), found 5 bytes before the end of the file "
        "(truncated)",
    ),
    (
        "truncated in a word",
        VOCAB[:-2],
        "vocab.words[1]",
        "expected the UTF-8 bytes of a word (4 bytes), found 2 bytes before the end of the "
        "file (truncated)",
    ),
    (
        "truncated before the layers",
        VOCAB,
        "network",
        "expected the number of layers (1 byte), found no bytes before the end of the file "
        "(truncated)",
    ),
    (
        "trailing bytes (padding)",
        SMALL + b"\x00" * 16,
        "",
        "expected the end of the file after the last layer, found 16 more bytes",
    ),
    (
        "one trailing byte",
        SMALL + b"\x00",
        "",
        "expected the end of the file after the last layer, found 1 more byte",
    ),
    (
        "two trailing bytes",
        SMALL + b"\x00\x00",
        "",
        "expected the end of the file after the last layer, found 2 more bytes",
    ),
    (
        "unknown enum variant",
        _patched(_NORM_AT, b"\x03", b"\x07"),
        "network[0]",
        "expected a layer's variant index (0 Embeddings, 1 SelfAttention, 2 FeedForward, "
        "3 LayerNorm, 4 OutputProjection), found 7",
    ),
    (
        "the first variant index past LayerEnum's",
        _patched(_NORM_AT, b"\x03", b"\x05"),
        "network[0]",
        "expected a layer's variant index (0 Embeddings, 1 SelfAttention, 2 FeedForward, "
        "3 LayerNorm, 4 OutputProjection), found 5",
    ),
    (
        "variant index as a u64 (overflows bincode's u32)",
        _patched(_NORM_AT, b"\x03", b"\xfd" + (3).to_bytes(8, "little")),
        "network[0]",
        "expected the layer's variant index as a varint of a u32 (a byte up to 250, or 251, "
        "252 and its little-endian bytes), found the marker byte 253 of a u64",
    ),
    (
        "a usize as a u128 (overflows 64 bits)",
        _patched(_GAMMA_AT + 1, b"\x01", b"\xfe" + b"\xff" * 16),
        "network[0].LayerNorm.gamma.dim",
        "expected the number of rows as a varint of a usize (a byte up to 250, or 251, 252 "
        "or 253 and its little-endian bytes), found the marker byte 254 of a u128",
    ),
    (
        "reserved varint marker",
        _patched(0, b"\x02", b"\xff"),
        "vocab.encode",
        "expected the number of entries as a varint of a usize (a byte up to 250, or 251, "
        "252 or 253 and its little-endian bytes), found the reserved marker byte 255",
    ),
    (
        "non-UTF-8 word",
        _patched(1, string_bytes("hi"), b"\x02h\xff"),
        "vocab.encode",
        "expected the word of entry 0 in UTF-8, found the byte 0xff at byte 1 of its 2 "
        "(invalid start byte)",
    ),
    (
        "dim disagrees with the data",
        _patched(_GAMMA_AT, b"\x01\x01\x02\x02", b"\x01\x01\x03\x02"),
        "network[0].LayerNorm.gamma.dim",
        "expected dimensions whose product is the 2 elements of data, found [1, 3] (3)",
    ),
    (
        "ndarray version 2",
        _patched(_GAMMA_AT, b"\x01\x01\x02", b"\x02\x01\x02"),
        "network[0].LayerNorm.gamma.v",
        "expected ndarray's array version 1, found 2",
    ),
    (
        "Option tag 2",
        _patched(_GAMMA_AT + 2 * len(array_bytes(1, 2)), b"\x00", b"\x02"),
        "network[0].LayerNorm.cached_input",
        "expected an Option tag, 0 (no cache) or 1 (a cached array), found 2",
    ),
    (
        "a word twice in encode",
        _patched(
            1,
            string_bytes("hi") + b"\x00" + string_bytes("</s>"),
            string_bytes("hi") + b"\x00" + string_bytes("hi"),
        ),
        'vocab.encode["hi"]',
        "expected each word once in vocab.encode, found this one twice (RustGPT would "
        "silently keep the last)",
    ),
    (
        "an id twice in decode",
        VOCAB.replace(b"\x01\x04</s>\x02", b"\x00\x04</s>\x02") + varint_bytes(1) + LAYER_NORM,
        'vocab.decode["0"]',
        "expected each token id once in vocab.decode, found this one twice (RustGPT would "
        "silently keep the last)",
    ),
    (
        "a map claiming 2**60 entries",
        _patched(0, b"\x02", b"\xfd" + (2**60).to_bytes(8, "little")),
        "vocab.encode",
        f"expected at most {(len(SMALL) - 1) // 2} entries (each takes at least 2 bytes and "
        f"{len(SMALL) - 1} remain), found a length of {2**60} (truncated or damaged file)",
    ),
    (
        "a string claiming 4 GiB",
        _patched(1, b"\x02", b"\xfc\xff\xff\xff\xff"),
        "vocab.encode",
        "expected the word of entry 0 of at most 65536 characters (Limits.max_string_chars), "
        "found 4294967295 bytes; to read it anyway, pass limits=Limits(...) with a higher bound",
    ),
    (
        "data claiming 2**40 numbers",
        _patched(
            _GAMMA_AT,
            b"\x01\x01\x02\x02",
            b"\x01" + 2 * varint_bytes(2**20) + varint_bytes(2**40),
        ),
        "network[0].LayerNorm.gamma.data",
        "expected at most 268435456 numbers in all arrays (Limits.max_elements), found more "
        f"by this array ({2**40}); to read it anyway, pass limits=Limits(...) with a higher "
        "bound",
    ),
    (
        "a network claiming 2**24 layers",
        VOCAB + b"\xfc\x00\x00\x00\x01" + LAYER_NORM,
        "network",
        f"expected at most {len(LAYER_NORM) // 31} layers (each takes at least 31 bytes and "
        f"{len(LAYER_NORM)} remain), found a length of {2**24} (truncated or damaged file)",
    ),
    (
        "truncated at a cache's Option tag",  # gamma and beta of 8: the layer may end there
        VOCAB + varint_bytes(1) + varint_bytes(3) + f32_bytes(1e-5) + 2 * array_bytes(1, 8),
        "network[0].LayerNorm.cached_input",
        "expected an Option tag (1 byte), found no bytes before the end of the file (truncated)",
    ),
    (
        "a cached array of another ndarray version",  # caches are read, not checked finite
        _patched(_CACHES, b"\x00\x00", b"\x01\x02"),
        "network[0].LayerNorm.cached_input.v",
        "expected ndarray's array version 1, found 2",
    ),
    (
        "truncated in an Adam state's beta1",
        SMALL[: _CACHES + 3 + 2],
        "network[0].LayerNorm.optimizer_gamma.beta1",
        "expected a float32 (4 bytes), found 2 bytes before the end of the file (truncated)",
    ),
    # Each part of the vocab: its count, ids and words, cut or claiming too much.
    (
        "an encode map claiming one entry more than its bytes hold",  # 70 * 2 > 139
        _patched(0, b"\x02", b"\x46"),
        "vocab.encode",
        "expected at most 69 entries (each takes at least 2 bytes and 139 remain), found a "
        "length of 70 (truncated or damaged file)",
    ),
    (
        "truncated inside a word's byte length",  # 253 and 3 of its 8 bytes
        b"\x02\xfd\x00\x00\x00",
        "vocab.encode",
        "expected the byte length of the word of entry 0 (8 bytes), found 3 bytes before the "
        "end of the file (truncated)",
    ),
    (
        "a word that is not UTF-8 at the end of the file",
        VOCAB[:-4] + b"</s\xff",
        "vocab.words[1]",
        "expected a word in UTF-8, found the byte 0xff at byte 3 of its 4 (invalid start byte)",
    ),
    (
        "truncated in a word that is not UTF-8",  # the cut, not the byte, is the error
        VOCAB[:-4] + b"</\xff",
        "vocab.words[1]",
        "expected the UTF-8 bytes of a word (4 bytes), found 3 bytes before the end of the "
        "file (truncated)",
    ),
    (
        "truncated inside an encode map's token id",  # 251 and 1 of its 2 bytes
        _cut(4, b"\x00") + b"\xfb\x01",
        'vocab.encode["hi"]',
        "expected a token id (2 bytes), found 1 byte before the end of the file (truncated)",
    ),
    (
        "a decode map claiming 2**60 entries",
        _patched(11, b"\x02\x00", b"\xfd" + (2**60).to_bytes(8, "little") + b"\x00"),
        "vocab.decode",
        f"expected at most {(len(SMALL) - 12) // 2} entries (each takes at least 2 bytes and "
        f"{len(SMALL) - 12} remain), found a length of {2**60} (truncated or damaged file)",
    ),
    (
        "truncated inside a decode map's token id",  # 253 and 3 of its 8 bytes
        _cut(12, b"\x00") + b"\xfd\x00\x00\x00",
        "vocab.decode",
        "expected the token id of entry 0 (8 bytes), found 3 bytes before the end of the file "
        "(truncated)",
    ),
    (
        "truncated in a decode map's word",  # 5 bytes claimed, 2 there
        _cut(13, b"\x02hi") + b"\x05hi",
        'vocab.decode["0"]',
        "expected the UTF-8 bytes of a word (5 bytes), found 2 bytes before the end of the "
        "file (truncated)",
    ),
    (
        "a word list claiming 2**60 words",
        _patched(22, b"\x02\x02", b"\xfd" + (2**60).to_bytes(8, "little") + b"\x02"),
        "vocab.words",
        f"expected at most {len(SMALL) - 23} words (each takes at least 1 byte and "
        f"{len(SMALL) - 23} remain), found a length of {2**60} (truncated or damaged file)",
    ),
    # A file cut inside a usize or an array's header. Each cut leaves at least 31 bytes
    # per layer after the layer count (the fewest a layer takes), so that count does not
    # refuse the file first.
    (
        "truncated inside an Adam state's timestep",  # 251 and 1 of its 2 bytes
        _cut(_TIMESTEP_AT, varint_bytes(300)) + varint_bytes(300)[:2],
        "network[0].LayerNorm.optimizer_gamma.timestep",
        "expected an unsigned integer (usize) (2 bytes), found 1 byte before the end of the "
        "file (truncated)",
    ),
    (
        "truncated at a SelfAttention's embedding_dim",  # a second layer, cut after its index
        VOCAB + varint_bytes(2) + LAYER_NORM + varint_bytes(1),
        "network[1].SelfAttention.embedding_dim",
        "expected an unsigned integer (usize) (1 byte), found no bytes before the end of the "
        "file (truncated)",
    ),
    (
        "truncated at an array's version",
        _cut(_MOMENT_AT, array_bytes(1, 2)),
        "network[0].LayerNorm.optimizer_gamma.m.v",
        "expected ndarray's array version (1 byte), found no bytes before the end of the file "
        "(truncated)",
    ),
    (
        "truncated at a cached array's version",  # cached_std's tag set to 1, then the end
        _patched(_CACHES + 2, b"\x00", b"\x01")[: _CACHES + 3],
        "network[0].LayerNorm.cached_std.v",
        "expected ndarray's array version (1 byte), found no bytes before the end of the file "
        "(truncated)",
    ),
    (
        "truncated inside an array's column count",  # 300 columns: 251 and 1 of its 2 bytes
        _cut(_MOMENT_AT, b"\x01") + b"\x01" + varint_bytes(1) + varint_bytes(300)[:2],
        "network[0].LayerNorm.optimizer_gamma.m.dim",
        "expected the number of columns (2 bytes), found 1 byte before the end of the file "
        "(truncated)",
    ),
    (
        "truncated inside an array's element count",  # 252 and 2 of its 4 bytes
        _cut(_MOMENT_AT, b"\x01")
        + b"\x01"
        + varint_bytes(1)
        + varint_bytes(70_000)
        + varint_bytes(70_000)[:3],
        "network[0].LayerNorm.optimizer_gamma.m.data",
        "expected the number of elements (4 bytes), found 2 bytes before the end of the file "
        "(truncated)",
    ),
]


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_bytes_are_refused_naming_the_place(data: bytes, path: str, message: str) -> None:
    with pytest.raises(CheckpointError) as caught:
        decode(data)
    assert (caught.value.path, caught.value.message) == (path, message)


@pytest.mark.parametrize(
    ("limits", "path", "message"),
    [
        (
            Limits(max_file_bytes=100),
            "",
            f"expected at most 100 bytes (Limits.max_file_bytes), found {len(TRAINED)}",
        ),
        (
            Limits(max_elements=100),
            "network[1].SelfAttention.w_v.data",  # after 60 in Embeddings, w_q and w_k
            "expected at most 100 numbers in all arrays (Limits.max_elements), found more by "
            "this array (16)",
        ),
        (
            Limits(max_string_chars=2),
            "vocab.encode",
            "expected the word of entry 0 of at most 2 characters (Limits.max_string_chars), "
            "found 4 characters",
        ),
        (
            Limits(max_header_bytes=2000),
            "network[3]",  # the fourth layer's JSON would pass the bound
            "expected at most 2000 bytes of structure outside the float32 data "
            "(Limits.max_header_bytes; a layer counts as its JSON keys), found at least "
            "2439 by here",
        ),
        (
            Limits(max_header_bytes=15),
            "vocab.encode",  # its count's byte and 3 entries of at least 2 + 4 bytes each
            "expected at most 15 bytes of structure outside the float32 data "
            "(Limits.max_header_bytes; a layer counts as its JSON keys), found at least "
            "19 by here",
        ),
    ],
)
def test_limits_bound_what_a_file_may_claim(limits: Limits, path: str, message: str) -> None:
    data = TRAINED if limits.max_string_chars > 2 else SMALL.replace(b"\x02hi", b"\x04hiya", 1)
    with pytest.raises(CheckpointError) as caught:
        decode(data, limits=limits)
    assert caught.value.path == path
    assert (
        caught.value.message.removesuffix(
            "; to read it anyway, pass limits=Limits(...) with a higher bound"
        )
        == message
    )


@pytest.mark.parametrize(
    ("bound", "path", "found"),
    [
        (12, "vocab.encode", 13),  # its count (1 byte) and 2 entries of at least 2 + 4
        (18, "vocab.encode", 19),  # its 11 bytes and 2 entries of 4
        (31, "vocab.decode", 32),  # 12 bytes and 8 so far, 2 entries of at least 2 + 4
        (37, "vocab.decode", 38),  # 22 bytes and 2 * 2 entries of 4
        (48, "vocab.words", 49),  # 23 bytes and 16 so far, 2 words of at least 1 + 4
        (54, "vocab.words", 55),  # 31 bytes and 3 * 2 entries of 4
    ],
)
def test_each_part_of_the_vocab_counts_against_max_header_bytes(
    bound: int, path: str, found: int
) -> None:
    """Each map or list is charged on its count, before its entries are read, and again
    for what its entries took (4 bytes each beyond their own: JSON's quotes, colon and
    comma)."""
    with pytest.raises(CheckpointError) as caught:
        decode(SMALL, limits=Limits(max_header_bytes=bound))
    assert (caught.value.path, caught.value.message) == (
        path,
        f"expected at most {bound} bytes of structure outside the float32 data "
        "(Limits.max_header_bytes; a layer counts as its JSON keys), found at least "
        f"{found} by here; to read it anyway, pass limits=Limits(...) with a higher bound",
    )


def test_a_long_run_of_layers_counts_as_its_json() -> None:
    # 31 bytes of bincode per layer would decode to some 2 KB of Python objects each.
    minimal = varint_bytes(4) + 2 * array_bytes(0, 0) + adam_bytes(0, 0) + b"\x00"
    data = VOCAB + varint_bytes(70000) + minimal * 70000
    with pytest.raises(CheckpointError) as caught:
        decode(data)
    assert caught.value.path == "network"
    assert caught.value.message.startswith(
        "expected at most 16777216 bytes of structure outside the float32 data "
        "(Limits.max_header_bytes; a layer counts as its JSON keys), found at least 17"
    )


def test_input_that_is_not_bytes_is_refused() -> None:
    with pytest.raises(CheckpointError, match="expected bincode as bytes, found str"):
        decode("hello")  # type: ignore[arg-type]


def test_every_truncation_is_refused() -> None:
    for size in range(len(TRAINED)):
        with pytest.raises(CheckpointError):
            decode(TRAINED[:size])


def test_random_damage_gives_a_document_or_a_checkpoint_error() -> None:
    rng = random.Random(11)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(3000):
        damaged = bytearray(TRAINED)
        action = rng.randrange(3)
        if action == 0:
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        elif action == 1:
            at = rng.randrange(len(damaged))
            damaged[at:at] = rng.randbytes(rng.randint(1, 16))
        else:
            at = rng.randrange(len(damaged))
            del damaged[at : at + rng.randint(1, 64)]
        try:
            decode(bytes(damaged))
            outcomes["read"] += 1
        except CheckpointError:
            outcomes["refused"] += 1
    # Both happen: a flipped float is still a file; most other damage is not.
    assert outcomes["read"] > 100 and outcomes["refused"] > 1000, outcomes


def _best_seconds(data: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        decode(data)
        best = min(best, time.perf_counter() - start)
    return best


def test_decoding_time_grows_linearly_with_the_layers() -> None:
    document = decode(TRAINED)
    layers = document["network"][1:5]

    def seconds(copies: int) -> float:
        return _best_seconds(encode({**document, "network": layers * copies}))

    assert seconds(400) < 20 * seconds(50)  # 8 times the layers: 8 times the time


def test_decoding_time_grows_linearly_with_the_words() -> None:
    def seconds(count: int) -> float:
        words = [f"w{index}" for index in range(count)]
        vocab = {
            "encode": {word: index for index, word in enumerate(words)},
            "decode": {str(index): word for index, word in enumerate(words)},
            "words": words,
        }
        return _best_seconds(encode({"vocab": vocab, "network": decode(SMALL)["network"]}))

    assert seconds(80_000) < 20 * seconds(10_000)


@pytest.mark.parametrize(
    "name",
    ["a map claiming 2**60 entries", "a string claiming 4 GiB", "data claiming 2**40 numbers"],
)
def test_a_claim_is_refused_before_anything_is_allocated(name: str) -> None:
    data = next(case[1] for case in HOSTILE if case[0] == name)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError):
            decode(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


def test_a_file_of_exactly_max_elements_numbers_is_read_one_fewer_refused() -> None:
    def numbers(node: object) -> int:
        if isinstance(node, dict):
            return sum(numbers(value) for value in node.values())
        if isinstance(node, list):
            return sum(numbers(item) for item in node)
        return node.size if isinstance(node, np.ndarray) else 0

    total = numbers(decode(TINY))
    assert total == 519  # the tiny model's parameters and Adam moments
    assert numbers(decode(TINY, limits=Limits(max_elements=total))) == total
    with pytest.raises(CheckpointError) as caught:
        decode(TINY, limits=Limits(max_elements=total - 1))
    assert caught.value.path == "network[5].OutputProjection.optimizer.v.data"


# --- the pass over the bytes ----------------------------------------------------------


def test_an_array_is_read_a_chunk_at_a_time_each_number_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An array is checked finite and copied a chunk at a time (1 MiB; 4 numbers here),
    each number once, and the bytes behind the pass are given back as it goes: up to the
    end of each chunk read, never past it (issue 15: of a mapped file the process holds
    a chunk, not the array's bytes beside its copy)."""
    values = [float(index) for index in range(10)]
    data = SMALL[: -len(array_bytes(1, 2))] + array_bytes(1, 10, values)  # the last moment
    monkeypatch.setattr(reading, "_CHUNK_FLOATS", 4)
    looked_at: list[int] = []
    given_back: list[int] = []

    def all_finite(chunk: np.ndarray) -> bool:
        looked_at.append(chunk.size)
        return boundary.all_finite(chunk)

    class Recording(Releaser):
        def upto(self, position: int) -> None:
            given_back.append(position)
            super().upto(position)

    monkeypatch.setattr(reading, "all_finite", all_finite)
    monkeypatch.setattr(reading, "Releaser", Recording)
    document = decode(data)
    assert document["network"][0]["LayerNorm"]["optimizer_beta"]["v"]["data"].tolist() == values
    assert looked_at == [*[2] * 5, 4, 4, 2]  # five arrays of 2, then 10 in three chunks
    assert given_back[-3:] == [len(data) - 24, len(data) - 8, len(data)]
    assert given_back == sorted(given_back)
    with pytest.raises(CheckpointError) as caught:  # in the third chunk, at its second
        decode(data[:-4] + f32_bytes(float("nan")))
    assert caught.value.path == "network[0].LayerNorm.optimizer_beta.v.data[9]"


def test_a_mapped_file_reads_as_its_bytes_and_is_given_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file comes as a read-only map: it decodes as its bytes do, and once read
    all its pages are given back, from the first (a second pass reads them again)."""
    path = tmp_path / "trained.bin"
    path.write_bytes(TRAINED)
    released: list[tuple[object, int, int]] = []

    def release(buffer: Buffer, start: int, end: int) -> None:
        released.append((buffer, start, end))
        buffers.release(buffer, start, end)

    passing: list[Buffer] = []

    class Recording(Releaser):
        def __init__(self, buffer: Buffer) -> None:
            passing.append(buffer)
            super().__init__(buffer)

    monkeypatch.setattr(reading, "release", release)
    monkeypatch.setattr(reading, "Releaser", Recording)
    with path.open("rb") as stream:
        view = buffers.mapped(stream)
        assert isinstance(view, mmap.mmap)
        try:
            same(decode(view), decode(TRAINED))
            buffer, start, end = released[0]
            assert buffer is view and start - start % mmap.PAGESIZE == 0 and end >= len(TRAINED)
            assert passing[0] is view  # the pages behind the pass, given back as it goes
        finally:
            view.close()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bytes_in_a_bytearray_or_memoryview_are_read_as_bytes(kind: type) -> None:
    same(decode(kind(SMALL)), small_document())


def test_a_file_of_exactly_max_file_bytes_is_read_one_byte_more_refused() -> None:
    same(decode(SMALL, limits=Limits(max_file_bytes=len(SMALL))), small_document())
    with pytest.raises(CheckpointError) as caught:
        decode(SMALL, limits=Limits(max_file_bytes=len(SMALL) - 1))
    assert caught.value.message.startswith(
        f"expected at most {len(SMALL) - 1} bytes (Limits.max_file_bytes), found {len(SMALL)}"
    )


def test_past_the_threshold_each_number_is_checked_once_in_the_first_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file of CHECKED_FIRST bytes is read in one pass; one byte more, twice: the
    arrays checked finite in the first (stand-ins, shown to ``check``), copied unchecked
    in the second."""
    looked_at: list[int] = []

    def all_finite(chunk: np.ndarray) -> bool:
        looked_at.append(chunk.size)
        return boundary.all_finite(chunk)

    monkeypatch.setattr(reading, "all_finite", all_finite)
    shown: list[dict[str, Any]] = []
    monkeypatch.setattr(reading, "CHECKED_FIRST", len(SMALL))
    same(decode(SMALL, check=shown.append), small_document())
    assert shown == [] and looked_at == [2] * 6
    looked_at.clear()
    monkeypatch.setattr(reading, "CHECKED_FIRST", len(SMALL) - 1)
    same(decode(SMALL, check=shown.append), small_document())
    assert looked_at == [2] * 6
    (stand_ins,) = shown
    assert stand_ins["network"][0]["LayerNorm"]["gamma"]["data"].strides == (0,)


def test_a_file_of_exactly_max_header_bytes_of_structure_is_read_one_fewer_refused() -> None:
    # SMALL's vocab and its LayerNorm's variant index, its 6 vocab entries' 4 bytes each
    # and the layer's JSON keys: the structure counted when the layer starts
    structure = len(VOCAB) + 2 + 6 * 4 + LAYER_CHARGE["LayerNorm"]
    same(decode(SMALL, limits=Limits(max_header_bytes=structure)), small_document())
    with pytest.raises(CheckpointError) as caught:
        decode(SMALL, limits=Limits(max_header_bytes=structure - 1))
    assert caught.value.path == "network[0]"
    assert f"found at least {structure} by here" in caught.value.message


def test_a_word_of_exactly_max_string_chars_is_read_bytes_counted_four_a_character() -> None:
    """A word is refused on its byte length past 4 bytes a character, before it is
    decoded, else on its characters: one character of 4 bytes is read under a bound of
    one character, 5 bytes refused by their number, "hi" by its characters."""

    def one_word(word: str) -> bytes:
        vocab = (
            varint_bytes(1) + string_bytes(word) + varint_bytes(0)
            + varint_bytes(1) + varint_bytes(0) + string_bytes(word)
            + varint_bytes(1) + string_bytes(word)
        )  # fmt: skip
        return vocab + varint_bytes(1) + LAYER_NORM

    limits = Limits(max_string_chars=1)
    assert decode(one_word("\U0001f600"), limits=limits)["vocab"]["words"] == ["\U0001f600"]
    for word, found in (("hello", "5 bytes"), ("hi", "2 characters")):
        with pytest.raises(CheckpointError) as caught:
            decode(one_word(word), limits=limits)
        assert caught.value.message.startswith(
            "expected the word of entry 0 of at most 1 characters (Limits.max_string_chars), "
            f"found {found}"
        )


def test_a_head_whose_word_runs_to_the_end_of_the_file_is_checked_as_utf8() -> None:
    # a word of 5 bytes that ends the 7-byte file: the head holds its first byte
    assert looks_like(b"\x01\x05a", 7)
    assert not looks_like(b"\x01\x05\xff", 7)
