"""Gzip: deterministic bytes, several members, and inflation bounded before memory runs out."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.compression import compress, inflate
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.limits import Limits


def test_a_checkpoint_round_trips_and_the_same_checkpoint_gives_the_same_bytes(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    rf.save(tiny_checkpoint(), first)
    rf.save(tiny_checkpoint(), second)
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()) == rf.dumps(tiny_checkpoint())
    assert rf.load(first) == tiny_checkpoint()


def test_several_members_are_one_stream() -> None:
    assert inflate(compress(b'{"a":') + compress(b"1}")) == b'{"a":1}'


def bomb(inflated: int) -> bytes:
    """``inflated`` zero bytes in a few kilobytes of gzip, without building them in memory."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    parts = [deflater.compress(chunk) for _ in range(inflated >> 20)]
    return b"".join([*parts, deflater.flush()])


def test_a_bomb_is_refused_before_it_inflates_past_the_limit() -> None:
    data = bomb(256 * 2**20)  # 256 MiB of zeros
    assert len(data) < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(rf.CheckpointError) as caught:
            inflate(data, limit=8 * 2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.message == (
        f"expected gzip data inflating to at most 8388608 bytes (Limits.max_file_bytes), found "
        f"more from {len(data)} compressed bytes; to read it anyway, pass limits=Limits(...) "
        "with a higher bound"
    )
    assert peak < 24 * 2**20  # the limit, one chunk and the growth of one buffer


def test_load_applies_the_callers_limit(tmp_path: Path) -> None:
    target = tmp_path / "model.json.gz"
    rf.save(tiny_checkpoint(), target)
    size = len(rf.dumps(tiny_checkpoint()))
    assert rf.load(target, limits=Limits(max_file_bytes=size)) == tiny_checkpoint()
    with pytest.raises(rf.CheckpointError, match="inflating to at most"):
        rf.load(target, limits=Limits(max_file_bytes=size - 1))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (compress(b"{}")[:-6], "expected gzip data, found a truncated stream"),
        (
            compress(b"{}") + b"junk",
            "expected gzip data, found 4 bytes of garbage after the stream",
        ),
        (
            b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff\xff",
            "expected gzip data, found a damaged stream: Error -3 while decompressing data: "
            "invalid block type",
        ),
    ],
)
def test_damaged_streams(data: bytes, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        inflate(data)
    assert caught.value.message == message
