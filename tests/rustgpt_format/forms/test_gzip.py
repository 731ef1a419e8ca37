"""Gzip: deterministic bytes, several members, and inflation bounded before memory runs out."""

from __future__ import annotations

import gzip
import itertools
import mmap
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format import buffers, compression
from rustgpt_format.compression import compress, inflate, inflate_to_buffer
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


def test_the_bytes_are_level_6_deflate_with_no_name_and_time_zero() -> None:
    """Pinned against zlib itself: a checkpoint saved again, by a later version too,
    gives the same bytes (and the README's gzipped sizes are level 6's)."""
    data = rf.dumps(tiny_checkpoint())
    written = compress(data)
    assert written[:4] == b"\x1f\x8b\x08\x00"  # deflate, no flags: no file name
    assert written[4:9] == bytes(5)  # time stamp 0; extra flags 0 (neither level 1 nor 9)
    deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert written[10:-8] == deflater.compress(data) + deflater.flush()
    assert written[-8:] == struct.pack("<II", zlib.crc32(data), len(data))


def test_a_stream_inflating_to_several_chunks_per_read_comes_back_whole() -> None:
    """Past 1 MiB of output per call zlib keeps the rest of the input it was given
    (unconsumed_tail); the reader must go on from there, not from the slice's end."""
    data = np.random.default_rng(0).integers(0, 4, 6 * 2**20, dtype=np.uint8).tobytes()
    packed = compress(data)
    assert 2**20 < len(packed) < len(data) // 2
    assert inflate(packed) == data


def test_from_mapped_from_inflated_bytes_the_buffer_is_a_map_of_a_temporary_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buffers, "MAPPED_FROM", 1000)
    for size, kind in ((998, bytes), (999, mmap.mmap), (5000, mmap.mmap)):  # and b"}"
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        inflated = inflate_to_buffer(compress(data) + compress(b"}"))
        assert (type(inflated), inflated[:]) == (kind, data + b"}")


def test_the_pages_passed_are_given_back_a_mib_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``release`` is asked for (it acts on mapped input, a no-op on bytes)."""
    data = np.random.default_rng(1).integers(0, 4, 12 * 2**20, dtype=np.uint8).tobytes()
    packed = compress(data)
    asked: list[tuple[int, int]] = []

    def release(buffer: object, start: int, end: int) -> None:
        assert buffer is packed
        asked.append((start, end))

    monkeypatch.setattr(compression, "release", release)
    assert inflate(packed) == data
    # the counting pass, then the keeping one: each from the start, contiguous, a MiB
    # or more at a time, up to the last MiB
    half = len(asked) // 2
    assert half and asked[:half] == asked[half:]
    assert asked[0][0] == 0 and asked[half - 1][1] > len(packed) - 2**20
    assert all(end - start >= 2**20 for start, end in asked)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(asked[:half]))


def test_only_gzip_is_inflated() -> None:
    """zlib could guess the header (wbits 32 and up); a zlib stream is not a .json.gz."""
    with pytest.raises(rf.CheckpointError) as caught:
        inflate(zlib.compress(b"{}"))
    assert caught.value.message == (
        "expected gzip data, found a damaged stream: Error -3 while decompressing data: "
        "incorrect header check"
    )


def bomb(inflated: int) -> bytes:
    """``inflated`` zero bytes in a few kilobytes of gzip, without building them in memory."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    parts = [deflater.compress(chunk) for _ in range(inflated >> 20)]
    return b"".join([*parts, deflater.flush()])


def refusal_peak(data: bytes, limit: int) -> tuple[int, str]:
    """Peak traced memory while ``inflate`` refuses ``data``, and its message."""
    tracemalloc.start()
    try:
        with pytest.raises(rf.CheckpointError) as caught:
            inflate(data, limit=limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, caught.value.message


def test_a_bomb_is_refused_before_it_inflates_past_the_limit() -> None:
    data = bomb(256 * 2**20)  # 256 MiB of zeros
    assert len(data) < 2**20
    peak, message = refusal_peak(data, 8 * 2**20)
    assert message == (
        f"expected gzip data inflating to at most 8388608 bytes (Limits.max_file_bytes), found "
        f"more from {len(data)} compressed bytes; to read it anyway, pass limits=Limits(...) "
        "with a higher bound"
    )
    # Refusing counts without keeping: one 1 MiB chunk and the compressed input (3.2 MiB
    # measured). A reader that kept what it inflated would hold the whole 8 MiB limit.
    assert peak < 4 * 2**20


def test_refusing_a_bomb_holds_as_much_at_a_limit_eight_times_higher() -> None:
    data = bomb(256 * 2**20)
    low, _ = refusal_peak(data, 8 * 2**20)
    high, _ = refusal_peak(data, 64 * 2**20)
    assert high < low + 2**20  # independent of the limit, not 8 times more


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
