"""Scaling and memory of the readers on hostile input (issue 15), printed as Markdown.

    python scripts/scaling_report.py [--big-bytes 1073741824] [--memory-only]

Scaling: each construction of tests/rustgpt_format/test_scaling.py at the size issue
15 reported and at 10 times that size, read by ``rustgpt_format.load`` from a file
(best of 3 when a load takes under a second); a linear reader takes about 10 times as
long. Memory: the peak resident memory of ``load(path)`` in a fresh process (Linux:
VmHWM after a warm-up load and a reset through /proc/self/clear_refs), above what the
process held before, for each hostile file of tests/rustgpt_format/test_memory_bound.py
at the default limits and ``--big-bytes``, and for valid checkpoints (as JSON and as
RustGPT's ``.bin``), against the bytes of the arrays a load returns (issue 15's target:
at most those plus 256 MiB, or 256 MiB when refused). ``scripts/hardening_report.py``
prints both sections after its own.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the constructions live in the tests package

import rustgpt_format as rf  # noqa: E402
from rustgpt_format import bincode, codec  # noqa: E402
from rustgpt_format.dialect import rustgpt_document  # noqa: E402
from rustgpt_format.examples import BLOCK, random_checkpoint  # noqa: E402
from tests.rustgpt_format.test_memory_bound import (  # noqa: E402
    empty_objects,
    hostile_files,
    resident_peak,
)
from tests.rustgpt_format.test_scaling import (  # noqa: E402
    data_keys,
    escaped_quotes,
    gzip_members,
    metadata_file,
)

VALID = ((128, 256, 3, 400), (256, 1024, 6, 2000), (512, 2048, 6, 4000))
"""Valid checkpoints loaded for scale: RustGPT's default size, and two whose arrays are
under and over the 128 MiB past which they are checked before being kept."""


def timed_load(path: Path) -> tuple[float, str]:
    """Seconds to load (best of 3 when under a second: the machine is shared), outcome."""
    times: list[float] = []
    while len(times) < 3 and sum(times) < 1:
        start = time.perf_counter()
        try:
            rf.load(path)
            outcome = "read"
        except rf.CheckpointError as error:
            outcome = f"refused: {error.message[:50]}..."
        times.append(time.perf_counter() - start)
    return min(times), outcome


def scaling(folder: Path) -> None:
    constructions: list[tuple[str, Callable[[int, Path], Path], int]] = [
        (
            'unterminated string of `\\"` (JSON)',
            lambda k, f: write(f / f"quotes-{k}.json", escaped_quotes(k)),
            100_000,
        ),
        (
            "the same as `__metadata__` (safetensors)",
            lambda k, f: metadata_file(f, f"quotes-{k}.safetensors", escaped_quotes(k)),
            100_000,
        ),
        (
            '`"data":[` repeated (JSON)',
            lambda k, f: write(f / f"keys-{k}.json", data_keys(k)),
            250_000,
        ),
        (
            "empty gzip members (`.json.gz`)",
            lambda k, f: write(f / f"members-{k}.json.gz", gzip_members(k)),
            1_000_000,
        ),
    ]
    print("### Scaling: the constructions of issue 15 at its size and 10 times it\n")
    print("| construction | n | file | time | 10n | file | time | ratio | outcome |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, make, n in constructions:
        small, large = make(n, folder), make(10 * n, folder)
        at_n, outcome = timed_load(small)
        at_10n, outcome_10n = timed_load(large)
        if outcome_10n != outcome:
            outcome += f" (at 10n {outcome_10n})"
        print(
            f"| {label} | {n:,} | {small.stat().st_size:,} B | {at_n * 1000:.0f} ms | "
            f"{10 * n:,} | {large.stat().st_size:,} B | {at_10n * 1000:.0f} ms | "
            f"{at_10n / at_n:.1f}x | {outcome} |"
        )
        small.unlink()
        large.unlink()
    print()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def memory(folder: Path, big: int, *, valid_sizes: tuple[tuple[int, ...], ...] = VALID) -> None:
    """Peak resident memory of loads of large files (the hostile ones ``big`` bytes or
    less), each in a fresh process (``resident_peak`` of test_memory_bound.py)."""
    rows = [
        (f"{label} ({path.stat().st_size / 2**20:,.0f} MiB)", path)
        for label, (path, _) in hostile_files(folder, big).items()
    ]
    objects = empty_objects(folder / "objects.json", 16 * 2**20 - 1024)
    rows.append(("16 MiB of `{}` outside the arrays (5.6 M objects)", objects))
    for d, h, blocks, vocab in valid_sizes:
        path = folder / f"valid-{d}-{h}-{blocks}-{vocab}.json"
        checkpoint = random_checkpoint(
            vocab_size=vocab, embedding_dim=d, hidden_dim=h, middle=BLOCK * blocks
        )
        path.write_bytes(codec.encode(checkpoint))
        size = path.stat().st_size / 2**20
        rows.append((f"valid, d={d} h={h} {blocks} blocks V={vocab} ({size:,.0f} MiB)", path))
        # the same as RustGPT's .bin: its file is its arrays (the optimizer's included)
        path = path.with_suffix(".bin")
        path.write_bytes(bincode.encode(rustgpt_document(checkpoint)))
        del checkpoint
        size = path.stat().st_size / 2**20
        rows.append((f"valid .bin, d={d} h={h} {blocks} blocks V={vocab} ({size:,.0f} MiB)", path))
    print("### Memory: peak resident memory of `load(path)`, above the process before it\n")
    print("| input | peak | arrays returned | peak − arrays | time | outcome |")
    print("|---|---:|---:|---:|---:|---|")
    for label, path in rows:
        peak = resident_peak(path)
        outcome = peak.outcome if len(peak.outcome) < 90 else peak.outcome[:87] + "..."
        print(
            f"| {label} | {peak.used / 2**20:,.1f} MiB | {peak.arrays / 2**20:,.1f} MiB | "
            f"{(peak.used - peak.arrays) / 2**20:,.1f} MiB | {peak.seconds:.1f} s | {outcome} |"
        )
    for _, path in rows:
        path.unlink(missing_ok=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--big-bytes", type=int, default=2**30, help="size of the large files (default 1 GiB)"
    )
    parser.add_argument("--memory-only", action="store_true", help="skip the scaling table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if not args.memory_only:
            scaling(Path(folder))
        memory(Path(folder), args.big_bytes)


if __name__ == "__main__":
    main()
