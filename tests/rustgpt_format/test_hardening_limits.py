"""Claims are checked before they are trusted: every Limits bound, and the memory it saves."""

from __future__ import annotations

import gc
import os
import subprocess
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format import codec
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.limits import DEFAULT_LIMITS, FORMAT_DEPTH, Limits

RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"
TINY = rf.dumps(tiny_checkpoint())
HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile"


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(TINY)
    return loaded


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_depth": 0}, "max_depth: expected an integer from 1 to 256, found 0"),
        ({"max_depth": 257}, "max_depth: expected an integer from 1 to 256, found 257"),
        ({"max_file_bytes": -1}, "max_file_bytes: expected an integer ≥ 1, found -1"),
        ({"max_elements": 1.5}, "max_elements: expected an integer ≥ 1, found 1.5"),
        ({"max_string_chars": True}, "max_string_chars: expected an integer ≥ 1, found True"),
        ({"max_header_bytes": None}, "max_header_bytes: expected an integer ≥ 1, found None"),
    ],
)
def test_limits_refuse_bounds_that_are_no_bounds(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Limits(**options)
    assert str(caught.value) == message


def test_the_defaults_are_documented_values() -> None:
    assert DEFAULT_LIMITS == Limits(
        max_file_bytes=2**30,
        max_header_bytes=16 * 2**20,
        max_header_values=2**20,
        max_elements=2**28,
        max_string_chars=2**16,
        max_depth=16,
    )


# (limits, the tiny checkpoint's text or a change to it, path, message)
BOUNDS: list[tuple[str, Limits, bytes, str, str]] = [
    (
        "file size",
        Limits(max_file_bytes=9000),
        TINY,
        "",
        f"expected at most 9000 bytes (Limits.max_file_bytes), found {len(TINY)}{RAISE}",
    ),
    (
        "bytes outside the arrays",
        Limits(max_header_bytes=2000),
        TINY,
        "",
        "expected at most 2000 bytes of JSON outside the numeric data arrays "
        f"(Limits.max_header_bytes), found 2044{RAISE}",
    ),
    (
        "values outside the arrays",
        Limits(max_header_values=200),
        TINY,
        "",
        "expected at most 200 values and keys in the JSON outside the numeric data arrays "
        f"(Limits.max_header_values), found 618{RAISE}",
    ),
    (
        "numbers",
        Limits(max_elements=100),
        TINY,
        "network[1].w_v.data",  # 60 in Embeddings, then 16 in each of w_q, w_k, w_v
        f"expected at most 100 numbers in all arrays (Limits.max_elements), found more by this array{RAISE}",
    ),
    (
        "string length",
        Limits(max_string_chars=25),  # the longest key of the format has 21
        TINY.replace(b'"w0"', b'"' + b"w" * 26 + b'"'),
        "vocab.words[0]",
        f"expected a string of at most 25 characters (Limits.max_string_chars), found 26{RAISE}",
    ),
    (
        "key length",
        Limits(max_string_chars=25),
        TINY[:-1] + b',"metadata":{"' + b"k" * 30 + b'":"v"}}',
        "metadata.kkkkkkkkkkkkkkkkkkkk...",
        f"expected a string of at most 25 characters (Limits.max_string_chars), found 30{RAISE}",
    ),
    (
        "nesting",
        Limits(max_depth=FORMAT_DEPTH - 1),
        TINY,
        "network[0].token_optimizer.m.dim",
        f"expected nesting at most 5 deep (Limits.max_depth; the format needs 6), found 6{RAISE}",
    ),
]


@pytest.mark.parametrize(
    ("limits", "text", "path", "message"),
    [row[1:] for row in BOUNDS],
    ids=[row[0] for row in BOUNDS],
)
def test_each_bound_refuses_naming_it_and_how_to_raise_it(
    limits: Limits, text: bytes, path: str, message: str
) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text, limits=limits)
    assert (caught.value.path, caught.value.message) == (path, message)
    codec.parse(text)  # the defaults read it: the bound, not the text, refused it


def test_the_format_needs_exactly_its_stated_depth() -> None:
    assert rf.loads(TINY) == tiny_checkpoint()
    codec.parse(TINY, limits=Limits(max_depth=FORMAT_DEPTH))


def test_from_json_and_load_take_limits(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), target)
    small = Limits(max_file_bytes=100)
    message = f"expected at most 100 bytes (Limits.max_file_bytes), found {len(TINY)}{RAISE}"
    for read in (
        lambda: rf.loads(TINY, limits=small),
        lambda: rf.load(target, limits=small),
    ):
        with pytest.raises(rf.CheckpointError) as caught:
            read()
        assert caught.value.message == message


def test_an_endless_pipe_is_read_only_to_the_bound(tmp_path: Path) -> None:
    """A pipe has no size to check first: reading stops past Limits.max_file_bytes."""
    fifo = tmp_path / "endless.json"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"yes '[' > '{fifo}'"])  # text, forever
    try:
        with pytest.raises(rf.CheckpointError) as caught:
            rf.load(fifo, limits=Limits(max_file_bytes=3 * 2**20))
    finally:
        writer.kill()
        writer.wait()
    assert caught.value.message == (
        f"expected at most {3 * 2**20} bytes (Limits.max_file_bytes), found more than "
        f"{3 * 2**20}{RAISE}"
    )


def test_a_device_of_binary_bytes_is_refused_without_reading_it() -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load("/dev/zero")
    assert caught.value.message == "not a checkpoint: binary data"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (TINY[:-1] + b',"config":{}}', "config"),
        (
            TINY.replace(b'"beta1":0.9,', b'"beta1":0.9,"beta1":0.5,', 1),
            "network[0].token_optimizer.beta1",
        ),
        (TINY.replace(b'"v":1,', b'"v":1,"v":1,', 1), "network[0].token_embeddings.v"),
    ],
    ids=["top level", "a scalar", "same value twice"],
)
def test_a_key_twice_in_one_object_is_refused(text: bytes, path: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(text)
    assert caught.value.path == path
    assert caught.value.message.startswith("expected unique keys, found this key twice")


# --- large arrays are decoded a chunk at a time ---------------------------------------


def big_array_text(values: list[str]) -> bytes:
    """The tiny checkpoint whose first array is replaced by one of these numbers, as written."""
    tree = document()
    tree["network"][0]["token_embeddings"] = {"v": 1, "dim": [1, len(values)], "data": [0]}
    text = orjson.dumps(tree)
    return text.replace(b'"data":[0]', b'"data":[' + ",".join(values).encode() + b"]", 1)


def test_a_large_array_decodes_exactly_across_chunks() -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal(300_000).astype(np.float32)
    texts = [str(float(v)) for v in values]  # float64 texts: more digits than needed
    texts[1000] = "-0"  # the sign of an integer -0 survives chunking
    texts[-1] = "7.038531e-26"  # the double-rounding pair's shortest text
    expected = np.array([float(t) for t in texts], dtype=np.float32)
    expected[1000] = np.float32(-0.0)
    expected[-1] = np.array([0x15AE43FD], np.uint32).view(np.float32)[0]
    document_ = codec.parse(big_array_text(texts))
    decoded = document_["network"][0]["token_embeddings"]["data"]
    assert len(big_array_text(texts)) > 4 * codec._CHUNK  # several chunks
    assert decoded.view(np.uint32).tolist() == expected.view(np.uint32).tolist()


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda t: t.__setitem__(250_000, "1e39"),
            "network[0].token_embeddings.data[250000]",
            "expected a finite float32 (magnitude below 3.4028235e38), found 1e+39",
        ),
        (
            lambda t: t.__setitem__(-1, ""),  # a trailing comma
            "network[0].token_embeddings.data",
            "expected numbers, found invalid JSON: trailing comma is not allowed",
        ),
        (
            lambda t: t.__setitem__(0, " " * (codec._CHUNK + 10)),  # only white space in a chunk
            "network[0].token_embeddings.data[0]",
            "expected a number, found none between two commas",
        ),
    ],
    ids=["beyond float32", "trailing comma", "blank chunk"],
)
def test_an_error_in_a_large_array_names_the_element(
    change: Callable[[list[str]], None], path: str, message: str
) -> None:
    texts = ["0.25"] * 300_000
    change(texts)
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(big_array_text(texts))
    assert (caught.value.path, caught.value.message) == (path, message)


# --- peak memory while refusing -------------------------------------------------------


def peak_bytes(action: Callable[[], object]) -> int:
    """tracemalloc's peak while ``action`` runs and is refused with a CheckpointError."""
    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(rf.CheckpointError):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("dim-claim.json", 1 << 20),  # claims 10^18 numbers = 4 EB as float32
        ("shape-claim.safetensors", 1 << 20),  # claims 10^18 numbers
        ("header-claims-more.safetensors", 1 << 20),  # claims a 1 TiB header
        ("nesting-past-parser.json", 16 << 20),  # 100,000 levels in 200 kB
        ("long-word.json", 2 << 20),  # 100,000 characters
    ],
)
def test_refusing_a_claim_takes_little_memory(name: str, bound: int) -> None:
    assert peak_bytes(lambda: rf.load(HOSTILE / name)) < bound


def test_refusing_a_large_array_of_short_numbers_stays_near_the_file_size() -> None:
    """8 MB of ``0.5,``: two million numbers, refused for their count after decoding."""
    text = big_array_text(["0.5"] * 2_000_000)
    text = text.replace(b'"dim":[1,2000000]', b'"dim":[1,3]', 1)
    assert peak_bytes(lambda: rf.loads(text)) < 6 * len(text)


def test_refusing_a_gzip_bomb_holds_a_chunk_not_the_bound() -> None:
    """32 MiB in 32 kB of gzip, read at a 16 MiB bound: the counting pass refuses it."""
    limits = Limits(max_file_bytes=16 * 2**20)
    assert peak_bytes(lambda: rf.load(HOSTILE / "gzip-bomb.json.gz", limits=limits)) < 4 << 20


@pytest.mark.parametrize(
    "limits",
    [DEFAULT_LIMITS, Limits(max_string_chars=1000)],
    ids=["text shorter than any too-long string", "text that could hold one"],
)
def test_a_duplicate_key_is_found_whatever_the_string_bound(limits: Limits) -> None:
    """The walk that checks string lengths also counts the keys, for any bound."""
    text = TINY[:-1] + b',"metadata":{"a":"1","a":"2"}}'
    assert len(text) > 1000
    with pytest.raises(rf.CheckpointError) as caught:
        codec.parse(text, limits=limits)
    assert caught.value.path == "metadata.a"
    assert caught.value.message.startswith("expected unique keys, found this key twice")


@pytest.mark.parametrize("text", [b"null", b"false", b"0", b'"model"', b"[]", b"[null]"])
def test_a_document_that_is_not_an_object_is_refused(text: bytes) -> None:
    """The structured fuzzer once found a walk of the document that took these for lists."""
    for limits in (DEFAULT_LIMITS, Limits(max_string_chars=1)):
        with pytest.raises(rf.CheckpointError) as caught:
            rf.loads(text, limits=limits)
        assert caught.value.path == ""
        assert caught.value.message.startswith("expected")
