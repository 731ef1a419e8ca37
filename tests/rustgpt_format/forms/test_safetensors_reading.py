"""A full safetensors load reads and checks its tensors a chunk at a time (issue 13), and
checks the tensors past the first ``_KEPT_UNCHECKED`` bytes before keeping any (issue 15:
a refused load spends at most 256 MiB). Here both bounds are made tiny, so that every
path runs on a small file and its result can be compared with the plain one."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
import rustgpt_format.forms.safetensors as binary
from rustgpt_format.examples import random_checkpoint

CHECKPOINT = random_checkpoint(vocab_size=7, embedding_dim=6, hidden_dim=5, max_seq_len=3, seed=3)


def offsets(data: bytes) -> tuple[int, dict[str, tuple[int, int, int]]]:
    """Where the data start, and each tensor's first float (from there), floats and columns."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__")
    return 8 + length, {
        name: (entry["data_offsets"][0] // 4, int(np.prod(entry["shape"])), entry["shape"][1])
        for name, entry in header.items()
    }


def with_value(data: bytes, at: int, value: float) -> bytes:
    """``data`` with the float at byte ``at`` replaced."""
    return data[:at] + np.float32(value).tobytes() + data[at + 4 :]


def small_bounds(monkeypatch: pytest.MonkeyPatch, *, chunk: int, kept: int) -> None:
    monkeypatch.setattr(binary, "_CHUNK_FLOATS", chunk)
    monkeypatch.setattr(binary, "_KEPT_UNCHECKED", kept)


def refusal(path: Path) -> tuple[str, str]:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(path)
    return caught.value.path, caught.value.message


@pytest.mark.parametrize(("chunk", "kept"), [(1, 0), (5, 64), (7, 4 * 300), (64, 1 << 30)])
def test_chunked_reads_give_the_same_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, kept: int
) -> None:
    target = tmp_path / "model.safetensors"
    rf.save(CHECKPOINT, target)
    small_bounds(monkeypatch, chunk=chunk, kept=kept)
    loaded = rf.load(target)
    assert loaded == CHECKPOINT
    first = loaded.network[0]
    assert first.token_embeddings.flags.writeable  # type: ignore[union-attr]


def bad_files() -> list[tuple[str, int, float]]:
    """(tensor, element, value): the first, a middle and the last element of some tensors."""
    data = rf.dumps(CHECKPOINT, form="safetensors")
    _, tensors = offsets(data)
    last = max(tensors, key=lambda name: tensors[name][0])
    chosen = [*sorted(tensors)[:: max(1, len(tensors) // 6)], last]
    cases = []
    for index, name in enumerate(chosen):
        floats = tensors[name][1]
        for element in sorted({0, floats // 2, floats - 1}):
            cases.append((name, element, [np.nan, np.inf, -np.inf][(index + element) % 3]))
    return cases


@pytest.mark.parametrize(("tensor", "element", "value"), bad_files())
@pytest.mark.parametrize(("chunk", "kept"), [(1, 0), (5, 64), (7, 4 * 300)])
def test_a_bad_value_is_named_alike_whether_found_before_or_while_keeping(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tensor: str,
    element: int,
    value: float,
    chunk: int,
    kept: int,
) -> None:
    data = rf.dumps(CHECKPOINT, form="safetensors")
    start, tensors = offsets(data)
    first, _, _ = tensors[tensor]
    at = start + 4 * (first + element)
    target = tmp_path / "model.safetensors"
    target.write_bytes(with_value(data, at, value))
    plain = refusal(target)  # read whole, then named by the validator
    assert plain[0].startswith("network[") and "expected a finite float32" in plain[1]
    small_bounds(monkeypatch, chunk=chunk, kept=kept)
    stops: list[tuple[bool, int]] = []
    if 4 * (first + element) >= kept:  # past the part kept unchecked: found before any is kept

        def no_buffer(*args: Any, **kwargs: Any) -> int | None:
            raise AssertionError("the tensors were kept before every value was checked")

        monkeypatch.setattr(binary, "_read_checked", no_buffer)
    else:  # within it: the read stops at the chunk holding the value
        read_checked = binary._read_checked

        def recorded(stream: Any, buffer: np.ndarray, *, stop: bool) -> int | None:
            found = read_checked(stream, buffer, stop=stop)
            stops.append((stop, stream.tell()))
            return found

        monkeypatch.setattr(binary, "_read_checked", recorded)
    assert refusal(target) == plain
    if 4 * (first + element) < kept:  # read up to the end of the chunk holding the value
        at, total = first + element, (len(data) - start) // 4
        assert stops == [(True, start + 4 * min((at // chunk + 1) * chunk, total))]


@pytest.mark.parametrize("kept", [64, 1 << 30], ids=["checked first", "checked while kept"])
def test_a_file_cut_short_while_it_is_checked_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    """The message counts the bytes of the read that came short: the tensors past the
    kept part (checked first), or all of them."""
    target = tmp_path / "model.safetensors"
    rf.save(CHECKPOINT, target)
    size = target.stat().st_size
    start, _ = offsets(target.read_bytes())
    small_bounds(monkeypatch, chunk=5, kept=kept)
    opened = binary.safe_open

    def cut_after_opening(*args: Any, **kwargs: Any) -> Any:
        handle = opened(*args, **kwargs)
        with open(target, "r+b") as stream:
            stream.truncate(size - 16)
        return handle

    monkeypatch.setattr(binary, "safe_open", cut_after_opening)
    _, message = refusal(target)
    skipped = kept if kept < size - start else 0  # bytes before the read that came short
    assert message == (
        f"expected {size - start - skipped} bytes of tensors, found "
        f"{size - 16 - start - skipped}: the file got shorter while it was read"
    )


def test_a_tensor_across_the_kept_part_is_named_by_its_first_bad_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check past the kept part finds the tensor's later bad value first; the error
    still names its first, as a full read would."""
    data = rf.dumps(CHECKPOINT, form="safetensors")
    start, tensors = offsets(data)
    name = max(tensors, key=lambda n: tensors[n][1])  # the largest tensor
    first, floats, _ = tensors[name]
    data = with_value(data, start + 4 * (first + 1), np.nan)
    data = with_value(data, start + 4 * (first + floats - 1), np.inf)
    target = tmp_path / "model.safetensors"
    target.write_bytes(data)
    plain = refusal(target)
    assert plain[1].endswith("at [0, 1], found nan")
    small_bounds(monkeypatch, chunk=3, kept=4 * (first + floats // 2))
    assert refusal(target) == plain


def bad_at(floats: list[int], values: list[float]) -> bytes:
    """The checkpoint's file with ``values`` at the given floats of its data region."""
    data = rf.dumps(CHECKPOINT, form="safetensors")
    start, _ = offsets(data)
    for at, value in zip(floats, values, strict=True):
        data = with_value(data, start + 4 * at, value)
    return data


def reads_while_keeping(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """Each call of the reading that keeps the tensors: whether it stops, and where it ended."""
    calls: list[tuple[bool, int]] = []
    read_checked = binary._read_checked

    def recorded(stream: Any, buffer: np.ndarray, *, stop: bool) -> int | None:
        found = read_checked(stream, buffer, stop=stop)
        calls.append((stop, stream.tell()))
        return found

    monkeypatch.setattr(binary, "_read_checked", recorded)
    return calls


@pytest.mark.parametrize(("at", "while_keeping"), [(39, True), (40, False)])
def test_the_kept_part_ends_at_its_bound_in_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int, while_keeping: bool
) -> None:
    """Kept: the first 160 bytes (40 floats). A bad 40th float is found by the read
    that keeps, the 41st by the check before it."""
    target = tmp_path / "model.safetensors"
    target.write_bytes(bad_at([at], [np.nan]))
    plain = refusal(target)
    small_bounds(monkeypatch, chunk=5, kept=160)
    calls = reads_while_keeping(monkeypatch)
    assert refusal(target) == plain
    start, _ = offsets(target.read_bytes())
    assert calls == ([(True, start + 4 * 40)] if while_keeping else [])


def test_tensors_of_exactly_the_kept_size_are_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not past the bound: one read of everything, the validator naming the bad value."""
    target = tmp_path / "model.safetensors"
    target.write_bytes(bad_at([3], [np.inf]))
    plain = refusal(target)
    size = target.stat().st_size
    start, _ = offsets(target.read_bytes())
    small_bounds(monkeypatch, chunk=5, kept=size - start)
    calls = reads_while_keeping(monkeypatch)
    assert refusal(target) == plain
    assert calls == [(False, size)]


def test_a_bad_value_just_before_the_kept_part_ends_names_its_tensor_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last value of a row is within the kept part, the next row's first past it:
    the check past the part finds the second, and the error names the first."""
    data = rf.dumps(CHECKPOINT, form="safetensors")
    _, tensors = offsets(data)
    name = max(tensors, key=lambda n: tensors[n][1])
    first, _, cols = tensors[name]
    target = tmp_path / "model.safetensors"
    target.write_bytes(bad_at([first + cols - 1, first + cols], [np.nan, np.inf]))
    plain = refusal(target)
    assert plain[1].endswith(f"at [0, {cols - 1}], found nan")
    small_bounds(monkeypatch, chunk=3, kept=4 * (first + cols))
    monkeypatch.setattr(binary, "_read_checked", None)  # refused before any is kept
    assert refusal(target) == plain
