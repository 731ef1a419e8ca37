"""Nothing is lost on a crash: SIGKILL mid-save, concurrent savers, full disks, stray files.

python -m pytest -m slow tests/rustgpt_format/test_crash_save.py   # 50 kills
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format import atomic as files
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint

SIZES = {"vocab_size": 400, "embedding_dim": 128, "hidden_dim": 256, "max_seq_len": 80}
"""RustGPT's default shape: a 17 MB JSON file, some 0.1 s to save."""

# A saver that alternates between two checkpoints for ever, so a kill at any moment
# lands inside some save: encoding, writing, fsync or rename.
SAVER = """
import json, sys
import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint
target, seeds, sizes = sys.argv[1], [int(s) for s in sys.argv[2:4]], json.loads(sys.argv[4])
versions = [random_checkpoint(seed=seed, **sizes) for seed in seeds]
print("ready", flush=True)
count = int(sys.argv[5]) if len(sys.argv) > 5 else -1
while count:
    rf.save(versions[count % 2], target)
    count -= 1
"""


def start_saver(target: Path, seeds: tuple[int, int], count: int = -1) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(target), *map(str, seeds), json.dumps(SIZES), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(files.TEMPORARY_SUFFIX))


@dataclass
class KillReport:
    """What a kill loop saw: kills, which version each left, temporary files left over."""

    kills: int = 0
    found: dict[str, int] = field(default_factory=lambda: {"old": 0, "new": 0})
    strays: int = 0
    problems: list[str] = field(default_factory=list)


def run_kills(kills: int, seed: int, folder: Path, latest: float = 0.4) -> KillReport:
    """Kill a saver ``kills`` times, at moments drawn (seeded) up to ``latest`` s after start."""
    rng = random.Random(seed)
    target = folder / "model.json"
    versions = {
        "old": rf.dumps(random_checkpoint(seed=1, **SIZES)),
        "new": rf.dumps(random_checkpoint(seed=2, **SIZES)),
    }
    target.write_bytes(versions["old"])
    report = KillReport()
    savers: set[int] = set()
    for _ in range(kills):
        process = start_saver(target, (1, 2))
        savers.add(process.pid)
        time.sleep(rng.uniform(0.0, latest))
        process.send_signal(signal.SIGKILL)
        process.wait()
        report.kills += 1
        data = target.read_bytes()
        names = [name for name, text in versions.items() if text == data]
        if not names:
            report.problems.append(f"kill {report.kills}: the target is neither version")
            continue
        report.found[names[0]] += 1
        if rf.dumps(rf.load(target)) != data:
            report.problems.append(f"kill {report.kills}: the target does not load as written")
        left = temporaries(folder)
        report.strays += len(left)
        if len(left) > 1:  # each saver leaves at most one; the next save removes it
            report.problems.append(f"kill {report.kills}: temporary files piled up: {left}")
        # A saver killed before its first save began (still encoding) has not yet removed
        # the previous one's temporary: a stray names one of the killed savers.
        if any(name.split(".")[-3] not in map(str, savers) for name in left):
            report.problems.append(f"kill {report.kills}: an unrecognised temporary: {left}")
    rf.save(tiny_checkpoint(), folder / "other.json")  # the next save to the folder cleans up
    if temporaries(folder):
        report.problems.append(f"left after the next save: {temporaries(folder)}")
    return report


def test_a_killed_save_leaves_the_old_or_the_new_checkpoint(tmp_path: Path) -> None:
    report = run_kills(8, seed=1, folder=tmp_path)
    assert report.problems == []
    assert report.kills == 8 == sum(report.found.values())


@pytest.mark.slow
def test_fifty_killed_saves() -> None:
    with tempfile.TemporaryDirectory() as folder:
        report = run_kills(50, seed=2, folder=Path(folder))
    assert report.problems == []
    assert report.kills == 50 == sum(report.found.values())
    assert report.strays > 0  # some kills did land mid-write


def test_two_savers_at_once_leave_one_complete_checkpoint(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    versions = {rf.dumps(random_checkpoint(seed=s, **SIZES)) for s in (1, 2, 3, 4)}
    first, second = start_saver(target, (1, 2), count=6), start_saver(target, (3, 4), count=6)
    assert (first.wait(), second.wait()) == (0, 0)  # neither removed the other's temporary
    assert target.read_bytes() in versions
    assert rf.dumps(rf.load(target)) == target.read_bytes()
    assert temporaries(tmp_path) == []


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def test_only_temporaries_whose_writer_is_gone_are_removed(tmp_path: Path) -> None:
    live = f".model.json.{os.getpid()}.abcd1234.rustgpt-tmp"
    dead = f".model.json.{dead_pid()}.efgh5678.rustgpt-tmp"
    unnamed_fresh = ".model.json.ijkl9012.rustgpt-tmp"  # no pid: removed only when old
    unnamed_old = ".other.json.mnop3456.rustgpt-tmp"
    strangers = ["notes.txt", ".model.json.bak", "model.json.rustgpt-tmp", ".x.0.a.rustgpt-tmp"]
    for name in [live, dead, unnamed_fresh, unnamed_old, *strangers]:
        (tmp_path / name).write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(tmp_path / unnamed_old, (two_days_ago, two_days_ago))

    rf.save(tiny_checkpoint(), tmp_path / "model.json")

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live, unnamed_fresh, *strangers, "model.json"]
    )


def fail(error: int) -> object:
    def raising(*args: object, **kwargs: object) -> None:
        raise OSError(error, os.strerror(error))

    return raising


REAL_FDOPEN = os.fdopen  # files.os is the os module: patching it patches os.fdopen


class FullDiskStream:
    """A file object whose writes fail as on a full disk, after writing half."""

    def __init__(self, fd: int, mode: str) -> None:
        self.stream = REAL_FDOPEN(fd, mode)

    def __enter__(self) -> FullDiskStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()

    def write(self, data: bytes) -> int:
        self.stream.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("write", errno.ENOSPC),  # full disk while writing
        ("fsync", errno.ENOSPC),  # full disk found at fsync (delayed allocation)
        ("fsync", errno.EIO),  # the device failed
        ("replace", errno.EACCES),  # rename refused
        ("replace", errno.EXDEV),  # rename across file systems
        ("mkstemp", errno.EROFS),  # read-only folder (root ignores chmod, so simulated)
        ("mkstemp", errno.EACCES),  # a folder without write permission
        ("mkstemp", errno.ENOSPC),  # not even an inode left
    ],
)
def test_a_failed_write_is_a_checkpoint_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, error: int
) -> None:
    target = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), target)
    before = target.read_bytes()
    if where == "write":
        monkeypatch.setattr(files.os, "fdopen", FullDiskStream)
    elif where == "mkstemp":
        monkeypatch.setattr(files.tempfile, "mkstemp", fail(error))
    else:
        monkeypatch.setattr(files.os, where, fail(error))
    with pytest.raises(rf.CheckpointError) as caught:
        rf.save(
            random_checkpoint(vocab_size=5, embedding_dim=2, hidden_dim=2, max_seq_len=2), target
        )
    monkeypatch.undo()
    assert caught.value.message == f"cannot write {target}: {os.strerror(error)}"
    assert target.read_bytes() == before
    assert rf.load(target) == tiny_checkpoint()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


# A saver that stops half-way through writing its temporary file and waits there, so
# that the kill is known to land mid-write (a kill at a random moment may not).
STALLING_SAVER = """
import os, sys, time
import rustgpt_format as rf
from rustgpt_format import atomic
from rustgpt_format.examples import random_checkpoint

real_fdopen = os.fdopen

class Stalling:
    def __init__(self, fd, mode):
        self.stream = real_fdopen(fd, mode)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.stream.close()
    def write(self, data):
        self.stream.write(data[: len(data) // 2])
        self.stream.flush()
        print("mid-write", len(data), flush=True)
        time.sleep(600)

atomic.os.fdopen = Stalling  # atomic.os is the os module: only this process is patched
rf.save(random_checkpoint(seed=2, vocab_size=40, embedding_dim=16, hidden_dim=32, max_seq_len=8), sys.argv[1])
"""


@pytest.mark.parametrize("name", ["model.json", "model.json.gz"])
def test_a_kill_that_lands_mid_write_leaves_the_old_file(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    old = random_checkpoint(seed=1, vocab_size=40, embedding_dim=16, hidden_dim=32, max_seq_len=8)
    rf.save(old, target)
    before = target.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-c", STALLING_SAVER, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        said, size = process.stdout.readline().split()
        assert said == "mid-write"
        [partial] = [tmp_path / n for n in temporaries(tmp_path)]  # the saver's, half written
        assert f".{process.pid}." in partial.name
        assert partial.stat().st_size == int(size) // 2
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    assert rf.load(target) == old
    assert temporaries(tmp_path) == [partial.name]  # left by the killed saver
    rf.save(tiny_checkpoint(), tmp_path / "other.json")  # the next save to the folder cleans up
    assert temporaries(tmp_path) == []
