"""Save's failures on real file systems: a full tmpfs and a read-only mount (issue 15).

test_atomic.py simulates each failing system call; these mount a small tmpfs, so the
kernel itself says ENOSPC or EROFS, at whichever call it chooses. Mounting needs root
(CI runs as root); elsewhere the tests are skipped, unless ``RUSTGPT_REQUIRE_MOUNTS`` is
set, as ``.ci/run`` sets it, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint

NAMES = ["model.json", "model.json.gz", "model.safetensors", "model.bin"]


def _mount(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *argv], capture_output=True, text=True, check=False)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of its own (room for the checkpoints below), unmounted afterwards."""
    point = tmp_path / "mnt"
    point.mkdir()
    try:
        mounted = _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point))
    except FileNotFoundError:
        mounted = None
    if mounted is None or mounted.returncode != 0:
        reason = mounted.stderr.strip() if mounted else "no mount command"
        if os.environ.get("RUSTGPT_REQUIRE_MOUNTS"):
            pytest.fail(f"RUSTGPT_REQUIRE_MOUNTS is set but a tmpfs cannot be mounted: {reason}")
        pytest.skip(f"cannot mount a tmpfs here: {reason}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path) -> None:
    """Take every free block of the file system ``folder`` is on."""
    descriptor = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, bytes(4096))
    except OSError as error:
        assert error.errno == 28  # ENOSPC
    finally:
        os.close(descriptor)


def others(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in (name, "filler"))


@pytest.mark.parametrize("name", NAMES)
def test_a_full_file_system_refuses_and_keeps_the_old_file(tmpfs: Path, name: str) -> None:
    target = tmpfs / name
    rf.save(tiny_checkpoint(), target)
    before = target.read_bytes()
    fill(tmpfs)
    bigger = random_checkpoint(vocab_size=100, embedding_dim=32, hidden_dim=64, max_seq_len=16)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.save(bigger, target)
    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert target.read_bytes() == before
    assert others(tmpfs, name) == []  # the temporary file is gone, its blocks freed
    (tmpfs / "filler").unlink()
    rf.save(bigger, target)
    with warnings.catch_warnings():  # a .bin is RustGPT's: read back through its migration
        warnings.simplefilter("ignore", rf.FormatWarning)
        assert rf.load(target) == bigger


@pytest.mark.parametrize("name", NAMES)
def test_a_read_only_file_system_refuses_and_keeps_the_old_file(tmpfs: Path, name: str) -> None:
    target = tmpfs / name
    rf.save(tiny_checkpoint(), target)
    before = target.read_bytes()
    remounted = _mount("-o", "remount,ro", str(tmpfs))
    assert remounted.returncode == 0, remounted.stderr
    for path in (target, tmpfs / f"new-{name}"):
        with pytest.raises(rf.CheckpointError) as caught:
            rf.save(tiny_checkpoint(), path)
        assert str(caught.value) == f"cannot write {path}: Read-only file system"
    assert target.read_bytes() == before
    assert others(tmpfs, name) == []
