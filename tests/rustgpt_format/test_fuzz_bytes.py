"""Byte-level fuzzing of every form: truncate, flip, insert, delete, append garbage.

Valid files (JSON compact and indented, RustGPT's own JSON, gzip, safetensors) are
damaged the way disks and networks damage them and read through ``rustgpt_format.load``;
the oracle is the structured fuzzer's: a checkpoint or a CheckpointError, nothing else.

    python -m pytest -m slow tests/rustgpt_format/test_fuzz_bytes.py   # every offset
"""

from __future__ import annotations

import random
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.compression import compress
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import tiny_checkpoint
from tests.rustgpt_format.test_fuzz_structure import CASE_SECONDS, FuzzReport, check_one

FORMS: dict[str, bytes] = {
    "json": rf.dumps(tiny_checkpoint()),
    "json-indented": rf.dumps(tiny_checkpoint(), indent=2),
    "rustgpt-json": to_rustgpt(tiny_checkpoint()),
    "json.gz": compress(rf.dumps(tiny_checkpoint())),
    "safetensors": rf.dumps(tiny_checkpoint(), form="safetensors"),
    "rustgpt.bin": rf.dumps(tiny_checkpoint(), form="rustgpt.bin"),
}
TEXT_FORMS = {"json", "json-indented", "rustgpt-json"}

Damage = Callable[[random.Random, bytes], bytes]


def flip(rng: random.Random, data: bytes) -> bytes:
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        damaged[rng.randrange(len(damaged))] ^= rng.randint(1, 255)
    return bytes(damaged)


def insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 16)) + data[at:]


def delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 64) :]


def append(rng: random.Random, data: bytes) -> bytes:
    garbage = rng.choice([rng.randbytes(rng.randint(1, 64)), b"\x00" * 4096, b"}", b" ]", data])
    return data + garbage


def splice(rng: random.Random, data: bytes) -> bytes:
    """A block of the file copied over another place of it: a misdirected disk write."""
    size = rng.randint(1, 256)
    source, target = rng.randrange(len(data)), rng.randrange(len(data))
    block = data[source : source + size]
    return data[:target] + block + data[target + len(block) :]


DAMAGES: list[Damage] = [flip, insert, delete, append, splice]


def run_bytes(per_form: int, seed: int, *, every_offset: bool = False) -> dict[str, FuzzReport]:
    """Damage each form ``per_form`` times (seeded) and truncate it, then read each result."""
    reports = {}
    with tempfile.TemporaryDirectory() as folder:
        for form, data in FORMS.items():
            report = reports[form] = FuzzReport()
            path = Path(folder) / f"case.{form}"

            def read(raw: bytes, path: Path = path) -> rf.Checkpoint:
                path.write_bytes(raw)
                return rf.load(path)

            rng = random.Random(f"{seed}-{form}")
            ends = range(len(data)) if every_offset else sorted(rng.sample(range(len(data)), 60))
            for end in ends:
                report.mutations["truncate"] += 1
                check_one(data[:end], report, read, text=form in TEXT_FORMS)
            for _ in range(per_form):
                damage = rng.choice(DAMAGES)
                report.mutations[damage.__name__] += 1
                check_one(damage(rng, data), report, read, text=form in TEXT_FORMS)
    return reports


def _assert_clean(reports: dict[str, FuzzReport]) -> None:
    assert sorted(reports) == sorted(FORMS)
    for form, report in reports.items():
        assert report.escaped == [], form
        assert report.slowest < CASE_SECONDS, form
        assert set(report.mutations) == {"truncate"} | {d.__name__ for d in DAMAGES}, form
        assert report.outcomes["refused"] > 0, form


def test_damaged_files_of_every_form_give_a_checkpoint_or_a_checkpoint_error() -> None:
    _assert_clean(run_bytes(100, seed=1))


@pytest.mark.slow
def test_every_truncation_and_thousands_of_damages() -> None:
    _assert_clean(run_bytes(3000, seed=2, every_offset=True))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_undamaged_file_reads_back(form: str, tmp_path: Path) -> None:
    """The starting point of each form is valid, so every refusal above is the damage's."""
    path = tmp_path / f"model.{form}"
    path.write_bytes(FORMS[form])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert rf.load(path) == tiny_checkpoint()
    expected = [rf.FormatWarning] if form.startswith("rustgpt") else []  # migrated from version 0
    assert [warning.category for warning in caught] == expected
