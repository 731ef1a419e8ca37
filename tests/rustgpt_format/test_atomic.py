"""Saving is atomic: a failure at any point leaves the previous file whole."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format import atomic as files
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "model.json")


class SimulatedCrashError(Exception):
    pass


def test_save_and_load(tmp_path: Path) -> None:
    rf.save(tiny_checkpoint(), tmp_path / "model.json")
    assert rf.load(tmp_path / "model.json") == tiny_checkpoint()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("stage", ["write", "fsync", "replace"])
def test_interrupted_save_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    target = tmp_path / "model.json"
    old = tiny_checkpoint()
    rf.save(old, target)
    before = target.read_bytes()
    new = random_checkpoint(vocab_size=50, embedding_dim=16, hidden_dim=32, max_seq_len=8)

    if stage == "write":
        real_fdopen = os.fdopen

        def fdopen(fd: int, mode: str) -> object:
            stream = real_fdopen(fd, mode)

            class HalfWriter:
                def __enter__(self) -> HalfWriter:
                    return self

                def __exit__(self, *exc: object) -> None:
                    stream.close()

                def write(self, data: bytes) -> int:
                    stream.write(data[: len(data) // 2])
                    raise SimulatedCrashError("interrupted mid-write")

            return HalfWriter()

        monkeypatch.setattr(files.os, "fdopen", fdopen)
    elif stage == "fsync":
        monkeypatch.setattr(
            files.os, "fsync", lambda fd: (_ for _ in ()).throw(SimulatedCrashError("fsync"))
        )
    else:
        monkeypatch.setattr(
            files.os, "replace", lambda a, b: (_ for _ in ()).throw(SimulatedCrashError("rename"))
        )

    with pytest.raises(SimulatedCrashError):
        rf.save(new, target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert rf.load(target) == old
    assert leftovers(tmp_path) == []


def test_an_os_error_becomes_a_checkpoint_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), target)

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.save(random_checkpoint(vocab_size=5, embedding_dim=2, hidden_dim=2, max_seq_len=2), target)
    assert caught.value.message == f"cannot write {target}: No space left on device"
    monkeypatch.undo()
    assert rf.load(target) == tiny_checkpoint()
    assert leftovers(tmp_path) == []


def test_missing_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(tmp_path / "absent.json")
    assert (
        caught.value.message == f"cannot read {tmp_path / 'absent.json'}: No such file or directory"
    )


def test_a_bad_checkpoint_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), target)
    broken = tiny_checkpoint()
    before = target.read_bytes()
    broken.network.pop()  # no OutputProjection: the model is no longer valid
    with pytest.raises(rf.CheckpointError) as caught:
        rf.save(broken, target)  # options the form accepts: only the checkpoint is wrong
    assert (caught.value.path, caught.value.message) == (
        "network[4].type",
        "expected OutputProjection last, found LayerNorm",
    )
    assert target.read_bytes() == before
    assert rf.load(target) == tiny_checkpoint()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["model.json", "model.safetensors", "model.json.gz", "model.bin"])
def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path: Path, name: str) -> None:
    """0666 less the umask, as open() gives, not the 0600 of a temporary file."""
    old = os.umask(0o027)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rf.FormatWarning)  # .bin drops nothing here
            rf.save(tiny_checkpoint(), tmp_path / name)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), target)
    target.chmod(0o604)
    rf.save(tiny_checkpoint(), target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
