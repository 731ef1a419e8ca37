"""RustGPT's bincode ``.bin``: bytes, round trips, hostile input, and the real RustGPT.

The bytes a test expects are built here by hand from bincode 2's rules (``_varint``,
``_string``, ``_array`` below), independently of the module's writer. The files in
``tests/fixtures/bin/`` were written by the real RustGPT (see their README); the tests
taking the ``oracle`` fixture run it.
"""

from __future__ import annotations

import gzip
import random
import struct
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import assume, given, settings

import rustgpt_format as rf
from rustgpt_format import CheckpointError, Limits
from rustgpt_format.bincode import ADAM, ARRAY, CACHE, LAYER_FIELDS, decode, encode, looks_like
from rustgpt_format.codec import encode as encode_json
from rustgpt_format.codec import parse
from rustgpt_format.dialect import rustgpt_document, to_rustgpt
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.float32 import wire_numbers, wire_scalar
from rustgpt_format.migrations import migrated_checkpoint
from tests.oracle import Oracle, oracle  # noqa: F401
from tests.strategies import checkpoints

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bin"
TINY = (FIXTURES / "tiny.rustgpt.bin").read_bytes()
TRAINED = (FIXTURES / "tiny-trained.rustgpt.bin").read_bytes()


# --- bincode by hand ------------------------------------------------------------------


def _varint(number: int) -> bytes:
    if number <= 250:
        return bytes([number])
    if number < 1 << 16:
        return b"\xfb" + number.to_bytes(2, "little")
    if number < 1 << 32:
        return b"\xfc" + number.to_bytes(4, "little")
    return b"\xfd" + number.to_bytes(8, "little")


def _string(text: str) -> bytes:
    return _varint(len(text.encode())) + text.encode()


def _f32(value: float) -> bytes:
    return struct.pack("<f", value)


def _array(rows: int, cols: int, values: list[float] | None = None) -> bytes:
    values = [0.0] * (rows * cols) if values is None else values
    return (
        b"\x01" + _varint(rows) + _varint(cols) + _varint(len(values)) + b"".join(map(_f32, values))
    )


def _adam(rows: int, cols: int, timestep: int = 0) -> bytes:
    return _f32(0.9) + _f32(0.999) + _f32(1e-8) + _varint(timestep) + 2 * _array(rows, cols)


VOCAB = (
    _varint(2) + _string("hi") + _varint(0) + _string("</s>") + _varint(1)
    + _varint(2) + _varint(0) + _string("hi") + _varint(1) + _string("</s>")
    + _varint(2) + _string("hi") + _string("</s>")
)  # fmt: skip
LAYER_NORM = (
    _varint(3) + _f32(1e-5) + _array(1, 2, [1.0, 2.5]) + _array(1, 2)
    + b"\x00\x00\x00" + _adam(1, 2, timestep=300) + _adam(1, 2)
)  # fmt: skip
SMALL = VOCAB + _varint(1) + LAYER_NORM
"""A vocab of two words and one LayerNorm (a valid .bin, not a valid model)."""


def _small_document() -> dict[str, Any]:
    def array(values: list[float]) -> dict[str, Any]:
        return {"v": 1, "dim": [1, 2], "data": np.array(values, dtype=np.float32)}

    def adam(timestep: int) -> dict[str, Any]:
        scalars = {
            name: float(np.float32(x)) for name, x in zip(_BETAS, (0.9, 0.999, 1e-8), strict=False)
        }
        return {**scalars, "timestep": timestep, "m": array([0, 0]), "v": array([0, 0])}

    norm = {
        "epsilon": float(np.float32(1e-5)),
        "gamma": array([1.0, 2.5]),
        "beta": array([0, 0]),
        "cached_input": None,
        "cached_mean": None,
        "cached_std": None,
        "optimizer_gamma": adam(300),
        "optimizer_beta": adam(0),
    }
    vocab = {"encode": {"hi": 0, "</s>": 1}, "decode": {"0": "hi", "1": "</s>"}}
    return {"vocab": {**vocab, "words": ["hi", "</s>"]}, "network": [{"LayerNorm": norm}]}


_BETAS = ("beta1", "beta2", "epsilon")


def _same(ours: Any, theirs: Any, path: str = "") -> None:
    """Equal structure, key order (but the vocab maps'), float32 bits and integers."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        if path in (".vocab.encode", ".vocab.decode"):
            assert sorted(ours) == sorted(theirs), path
        else:
            assert list(ours) == list(theirs), path
        for key in theirs:
            _same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            _same(mine, other, f"{path}[{index}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype == np.float32, path
        assert ours.shape == theirs.shape, path
        assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32)), path
    elif isinstance(theirs, float):
        # JSON holds the shortest text of the float32; the .bin its exact value.
        assert type(ours) is float and ours == float(np.float32(ours)), path
        assert np.float32(ours).view(np.uint32) == np.float32(theirs).view(np.uint32), path
    else:
        assert type(ours) is type(theirs) and ours == theirs, (path, ours, theirs)


def _in_id_order(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its vocab maps in id order (RustGPT writes them in random order)."""
    vocab = document["vocab"]
    encode_map = dict(sorted(vocab["encode"].items(), key=lambda item: item[1]))
    decode_map = dict(sorted(vocab["decode"].items(), key=lambda item: int(item[0])))
    return {**document, "vocab": {**vocab, "encode": encode_map, "decode": decode_map}}


def _rewritten(document: dict[str, Any]) -> dict[str, Any]:
    """Migrated to 1.0, then the dialect writer's version-0 document of it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checkpoint, _ = migrated_checkpoint(document)
        return dict(parse(to_rustgpt(checkpoint)))


# --- bytes ----------------------------------------------------------------------------


def test_encode_writes_the_bytes_built_by_hand() -> None:
    assert encode(_small_document()) == SMALL


def test_decode_reads_the_bytes_built_by_hand() -> None:
    _same(decode(SMALL), _small_document())


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, b"\x00"),
        (250, b"\xfa"),  # the largest single byte
        (251, b"\xfb\xfb\x00"),
        (65535, b"\xfb\xff\xff"),
        (65536, b"\xfc\x00\x00\x01\x00"),
        (2**32 - 1, b"\xfc\xff\xff\xff\xff"),
        (2**32, b"\xfd\x00\x00\x00\x00\x01\x00\x00\x00"),
        (2**64 - 1, b"\xfd" + b"\xff" * 8),
    ],
)
def test_usize_varint(number: int, expected: bytes) -> None:
    document = _small_document()
    document["network"][0]["LayerNorm"]["optimizer_gamma"]["timestep"] = number
    data = encode(document)
    assert SMALL.replace(_varint(300), expected, 1) == data
    assert decode(data)["network"][0]["LayerNorm"]["optimizer_gamma"]["timestep"] == number


def test_a_non_canonical_varint_is_read_as_bincode_reads_it() -> None:
    # bincode 2 accepts 251 0x05 0x00 for 5, so RustGPT reads such a file: so do we.
    data = VOCAB + b"\xfb\x01\x00" + LAYER_NORM
    assert len(decode(data)["network"]) == 1


@pytest.mark.parametrize("kind", list(LAYER_FIELDS))
def test_field_tables_follow_the_layer_classes(kind: str) -> None:
    layer = getattr(rf, kind)
    table = LAYER_FIELDS[kind]
    assert tuple(name for name, _ in table) == tuple(layer.RUST_FIELDS)
    assert {name for name, field in table if field == ARRAY} == set(layer.SHAPES)
    assert {name for name, field in table if field == CACHE} == set(layer.CACHES)
    assert {name for name, field in table if field == ADAM} == set(layer.OPTIMIZERS)


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("data", [TINY, TRAINED], ids=["tiny", "trained"])
def test_rustgpt_bytes_survive_decode_and_encode(data: bytes) -> None:
    assert encode(decode(data)) == data


def test_the_dialect_writers_document_survives_encode_and_decode() -> None:
    document = parse(to_rustgpt(tiny_checkpoint()))
    _same(decode(encode(document)), document)


def _kept_by_the_dialect(checkpoint: rf.Checkpoint) -> rf.Checkpoint:
    """What RustGPT's structs keep: no training or metadata, an Adam state for each."""
    kept = checkpoint.model_copy(deep=True)
    kept.training, kept.metadata = None, None
    for layer in kept.network:
        for name, parameter in layer.OPTIMIZERS.items():
            if getattr(layer, name) is None:
                setattr(layer, name, rf.AdamState.fresh(getattr(layer, parameter).shape))
    return kept


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
    assert back == _kept_by_the_dialect(checkpoint)
    assert encode(document) == data
    _same(document, parse(text))


def test_lists_and_two_dimensional_arrays_are_written_like_flat_float32() -> None:
    document = _small_document()
    gamma = document["network"][0]["LayerNorm"]["gamma"]
    gamma["data"] = [1, 2.5]
    assert encode(document) == SMALL
    gamma["data"] = np.array([[1.0, 2.5]], dtype=np.float32)
    assert encode(document) == SMALL


def test_numbers_are_read_as_the_json_reader_reads_them() -> None:
    # RustGPT's JSON says 0.9 for the float32 nearest 0.9; parse gives the float 0.9.
    document = _small_document()
    adam = document["network"][0]["LayerNorm"]["optimizer_gamma"]
    adam.update(beta1=0.9, beta2=0.999, epsilon=1e-8)
    adam["m"]["data"] = [7.038531e-26, -0.0]  # the double-rounding float32, and -0
    data = encode(document)
    moment = b"\x01\x01\x02\x02" + struct.pack("<I", 0x15AE43FD) + _f32(-0.0)
    gamma = _f32(0.9) + _f32(0.999) + _f32(1e-8) + _varint(300) + moment + _array(1, 2)
    norm = _f32(1e-5) + _array(1, 2, [1.0, 2.5]) + _array(1, 2) + b"\0\0\0" + gamma
    assert data == VOCAB + _varint(1) + _varint(3) + norm + _adam(1, 2)


def test_json_fragments_of_the_dialect_writer_are_written_as_their_float32() -> None:
    odd = np.array([0x15AE43FD, 0x95AE43FD], dtype=np.uint32).view(np.float32)
    document = _small_document()
    norm = document["network"][0]["LayerNorm"]
    norm["gamma"]["data"] = wire_numbers(odd)
    norm["epsilon"] = wire_scalar(float(odd[1]))
    assert isinstance(norm["gamma"]["data"], orjson.Fragment)
    decoded = decode(encode(document))["network"][0]["LayerNorm"]
    assert decoded["gamma"]["data"].view(np.uint32).tolist() == [0x15AE43FD, 0x95AE43FD]
    assert np.float32(decoded["epsilon"]).view(np.uint32) == 0x95AE43FD


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


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d["vocab"].pop("words"), "vocab.words", "missing required key"),
        (
            lambda d: d["network"].append({"Dropout": {}}),
            "network[1]",
            "expected a layer tagged by its kind (Embeddings, SelfAttention, FeedForward, "
            "LayerNorm, OutputProjection), found an object",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"].update(epsilon="0.1"),
            "network[0].LayerNorm.epsilon",
            "expected a float32, found string '0.1'",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"].update(epsilon=1e39),
            "network[0].LayerNorm.epsilon",
            "expected a finite float32 (magnitude below 3.4028235e38), found 1e+39",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["optimizer_beta"].update(timestep=-1),
            "network[0].LayerNorm.optimizer_beta.timestep",
            "expected an unsigned 64-bit integer, found -1",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["beta"].update(dim=[2, 2]),
            "network[0].LayerNorm.beta.data",
            "expected 4 numbers (dim [2, 2]), found 2",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["beta"].update(data=[0.5, None]),
            "network[0].LayerNorm.beta.data[1]",
            "expected a number, found null",
        ),
        (
            lambda d: d["network"][0]["LayerNorm"]["beta"].update(data=np.zeros(2)),
            "network[0].LayerNorm.beta.data",
            "expected a float32 ndarray or a list of numbers, found an ndarray of dtype float64 "
            "and shape (2,)",
        ),
        (
            lambda d: d["vocab"]["decode"].update({"x": "hi"}),
            'vocab.decode["x"]',
            "expected a decimal token id as key, found string 'x'",
        ),
    ],
)
def test_encode_refuses_a_document_it_cannot_write(change: Any, path: str, message: str) -> None:
    document = _small_document()
    change(document)
    with pytest.raises(CheckpointError) as caught:
        encode(document)
    assert (caught.value.path, caught.value.message) == (path, message)


# --- hostile input --------------------------------------------------------------------

_NORM_AT = len(VOCAB) + 1
"""Where the LayerNorm starts in SMALL."""
_GAMMA_AT = _NORM_AT + 1 + 4
"""Where its gamma array starts."""


def _patched(at: int, old: bytes, new: bytes) -> bytes:
    assert SMALL[at : at + len(old)] == old
    return SMALL[:at] + new + SMALL[at + len(old) :]


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
        "unknown enum variant",
        _patched(_NORM_AT, b"\x03", b"\x07"),
        "network[0]",
        "expected a layer's variant index (0 Embeddings, 1 SelfAttention, 2 FeedForward, "
        "3 LayerNorm, 4 OutputProjection), found 7",
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
        _patched(1, _string("hi"), b"\x02h\xff"),
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
        _patched(_GAMMA_AT + 2 * len(_array(1, 2)), b"\x00", b"\x02"),
        "network[0].LayerNorm.cached_input",
        "expected an Option tag, 0 (no cache) or 1 (a cached array), found 2",
    ),
    (
        "a word twice in encode",
        _patched(
            1, _string("hi") + b"\x00" + _string("</s>"), _string("hi") + b"\x00" + _string("hi")
        ),
        'vocab.encode["hi"]',
        "expected each word once in vocab.encode, found this one twice (RustGPT would "
        "silently keep the last)",
    ),
    (
        "an id twice in decode",
        VOCAB.replace(b"\x01\x04</s>\x02", b"\x00\x04</s>\x02") + _varint(1) + LAYER_NORM,
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
            b"\x01" + 2 * _varint(2**20) + _varint(2**40),
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


def test_a_long_run_of_layers_counts_as_its_json() -> None:
    # 31 bytes of bincode per layer would decode to some 2 KB of Python objects each.
    minimal = _varint(4) + 2 * _array(0, 0) + _adam(0, 0) + b"\x00"
    data = VOCAB + _varint(70000) + minimal * 70000
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


# --- telling a .bin by its content ----------------------------------------------------


def _bin_with_words(count: int) -> bytes:
    document = parse(to_rustgpt(random_checkpoint(
        vocab_size=count, embedding_dim=2, hidden_dim=256, max_seq_len=2, middle=()
    )))  # fmt: skip
    return encode(document)


@pytest.mark.parametrize(
    "count", [9, 10, 13, 31, 32, 34, 91, 123, 251, 533], ids=lambda n: f"{n}-words"
)
def test_a_bin_whose_first_byte_looks_like_another_form_is_told_as_a_bin(count: int) -> None:
    # 9, 10, 13, 32: JSON white space; 31: gzip's first byte; 34, 91, 123: '"', '[', '{'.
    assert looks_like(_bin_with_words(count))


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
    "data", [TINY, TRAINED, _bin_with_words(533)], ids=["tiny", "trained", "533-words"]
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


# --- the real RustGPT -----------------------------------------------------------------


def _rustgpt_pairs(oracle: Oracle, folder: Path) -> dict[str, tuple[Path, Path]]:  # noqa: F811
    """RustGPT's .bin and .json of the same models: untrained (tiny, default), trained."""
    pairs = {}
    for name, options in [("tiny", ["--tiny"]), ("default", [])]:
        for suffix in (".bin", ".json"):
            oracle.run("new", folder / f"{name}{suffix}", "5", *options)
        pairs[name] = (folder / f"{name}.bin", folder / f"{name}.json")
    trained = folder / "trained.bin"
    oracle.run("new", trained, "5", "--tiny", "--epochs", "1", "--chat-epochs", "1")
    oracle.run("resave", trained, folder / "trained.json")
    pairs["trained"] = (trained, folder / "trained.json")
    return pairs


@pytest.fixture(scope="module")
def rustgpt_files(oracle: Oracle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    return _rustgpt_pairs(oracle, tmp_path_factory.mktemp("rustgpt"))


@pytest.mark.parametrize("name", ["tiny", "default", "trained"])
def test_rustgpt_bin_decodes_to_what_its_json_parses_to(
    rustgpt_files: dict[str, tuple[Path, Path]], name: str
) -> None:
    binary, text = rustgpt_files[name]
    document = decode(binary.read_bytes())
    _same(document, parse(text.read_bytes()))
    layers = [next(iter(layer.items())) for layer in document["network"]]
    caches = [body["cached_input"] for kind, body in layers if kind != "FeedForward"]
    moments = [
        body["optimizer_w_q"]["m"]["data"] for kind, body in layers if kind == "SelfAttention"
    ]
    if name == "trained":  # forward caches full, Adam moments moved
        assert all(cache is not None for cache in caches)
        assert all(np.any(moment != 0) for moment in moments)
    else:
        assert all(cache is None for cache in caches)
        assert not any(np.any(moment != 0) for moment in moments)


@pytest.mark.parametrize("name", ["tiny", "default", "trained"])
def test_encode_gives_rustgpts_bytes(
    rustgpt_files: dict[str, tuple[Path, Path]], name: str
) -> None:
    binary, text = rustgpt_files[name]
    data = binary.read_bytes()
    assert encode(decode(data)) == data
    # and of what the JSON of the same model parses to, once the maps are in one order
    assert encode(_in_id_order(parse(text.read_bytes()))) == encode(_in_id_order(decode(data)))


@pytest.mark.parametrize("name", ["default", "trained"])
def test_rustgpt_reads_our_bin_of_a_migrated_checkpoint(
    oracle: Oracle,  # noqa: F811
    rustgpt_files: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    name: str,
) -> None:
    theirs = rustgpt_files[name][0]
    rewritten = _rewritten(decode(theirs.read_bytes()))
    ours = tmp_path / "ours.bin"
    ours.write_bytes(encode(rewritten))
    if name == "default":  # untrained: no caches to drop, so the same bytes but map order
        assert ours.read_bytes() == encode(_in_id_order(decode(theirs.read_bytes())))
    text = "hello world" if name == "trained" else "The sun rises in the east"
    logits = [
        orjson.loads(oracle.run("logits", path, text, "--all", "--json")) for path in (ours, theirs)
    ]
    assert logits[0] == logits[1] and len(logits[0]["logit_bits"]) == len(logits[0]["tokens"])
    again = tmp_path / "again.bin"
    oracle.run("resave", ours, again)
    assert encode(_in_id_order(decode(again.read_bytes()))) == ours.read_bytes()


def test_rustgpt_trains_on_from_our_adam_state(oracle: Oracle, tmp_path: Path) -> None:  # noqa: F811
    ours = tmp_path / "ours.bin"
    ours.write_bytes(encode(rustgpt_document(tiny_checkpoint())))
    corpus = tmp_path / "corpus.json"
    corpus.write_bytes(orjson.dumps(["w0 w1 </s>", "w1 w0 </s>"]))
    oracle.run("train", ours, tmp_path / "trained.bin", "--epochs", "2", "--corpus", corpus)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        trained, _ = migrated_checkpoint(decode((tmp_path / "trained.bin").read_bytes()))
    for before, after in zip(tiny_checkpoint().network, trained.network, strict=True):
        for name, parameter in before.OPTIMIZERS.items():
            old, new = getattr(before, name), getattr(after, name)
            assert new.timestep == old.timestep + 4, name  # 2 epochs of 2 texts, batch 1
            assert not np.array_equal(getattr(after, parameter), getattr(before, parameter))


def test_the_fixtures_are_rustgpts_own_bytes(oracle: Oracle, tmp_path: Path) -> None:  # noqa: F811
    # tiny.rustgpt.bin is RustGPT's resave of our tiny checkpoint; the trained one its training.
    ours = tmp_path / "tiny.bin"
    ours.write_bytes(encode(parse(to_rustgpt(tiny_checkpoint()))))
    oracle.run("resave", ours, tmp_path / "resaved.bin")
    resaved = decode((tmp_path / "resaved.bin").read_bytes())
    assert encode(_in_id_order(resaved)) == encode(_in_id_order(decode(TINY)))
