"""Run the long hardening checks and print their figures as Markdown, for the README.

    python scripts/hardening_report.py [--cases 10000] [--damages 3000] [--kills 50]

The same engines the test suite runs in short: the structured fuzzer, the byte-level
fuzzer (every truncation offset of every form, plus damages), the hostile corpus,
the SIGKILL loop, and tracemalloc's peak while refusing oversized claims — with the
default Limits, including a 1 MB gzip file that inflates past the 1 GiB bound; then
the scaling figures of ``scripts/scaling_report.py`` and its resident-memory table:
``load(path)`` of each hostile file of tests/rustgpt_format/test_memory_bound.py at
1 GiB, and of valid checkpoints, in fresh processes, against issue 15's bound (the
arrays returned plus 256 MiB; 256 MiB when refused).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import tempfile
import time
import tracemalloc
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test engines live in the tests package

import rustgpt_format as rf  # noqa: E402
from rustgpt_format import DEFAULT_LIMITS, Limits  # noqa: E402
from rustgpt_format.examples import random_checkpoint  # noqa: E402
from scripts import scaling_report  # noqa: E402
from tests.rustgpt_format.test_crash_save import run_kills  # noqa: E402
from tests.rustgpt_format.test_fuzz_bytes import FORMS, run_bytes  # noqa: E402
from tests.rustgpt_format.test_fuzz_structure import run_structured  # noqa: E402
from tests.rustgpt_format.test_hardening_hostile import EXPECTED, HOSTILE, LOWERED  # noqa: E402


def peak(action: Callable[[], object]) -> tuple[int, float, str]:
    """tracemalloc's peak, the seconds taken, and how ``action`` ended."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        action()
        outcome = "read"
    except rf.CheckpointError as error:
        outcome = f"refused: {error.message[:60]}..."
    seconds = time.perf_counter() - start
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top, seconds, outcome


def gzip_bomb(path: Path) -> None:
    """1 GiB + 1 MiB of zeros, compressed as a stream (a 1 MB file)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"0" * (1 << 20)
    with path.open("wb") as stream:
        for _ in range(1025):
            stream.write(deflate.compress(block))
        stream.write(deflate.flush())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="structured fuzz cases")
    parser.add_argument("--damages", type=int, default=3000, help="byte damages per form")
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs of a saver")
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore", rf.FormatWarning)

    print("### Fuzzing\n")
    print("| run | cases | refused | accepted | escaped | slowest case |")
    print("|---|---:|---:|---:|---:|---:|")
    start = time.perf_counter()
    report = run_structured(args.cases, seed=args.seed)
    print(
        f"| structured (mutated documents) | {report.cases} | {report.outcomes['refused']} | "
        f"{report.outcomes['accepted']} | {len(report.escaped)} | {report.slowest * 1000:.0f} ms |"
    )
    for form, form_report in run_bytes(args.damages, seed=args.seed, every_offset=True).items():
        print(
            f"| bytes, {form} ({len(FORMS[form])} B: every truncation + {args.damages} damages) "
            f"| {form_report.cases} | {form_report.outcomes['refused']} | "
            f"{form_report.outcomes['accepted']} | {len(form_report.escaped)} | "
            f"{form_report.slowest * 1000:.0f} ms |"
        )
    print(f"\n(fuzzing took {time.perf_counter() - start:.0f} s)\n")

    refused = 0
    for name in EXPECTED:
        try:
            rf.load(HOSTILE / name, limits=LOWERED.get(name, Limits()))
        except rf.CheckpointError:
            refused += 1
    print(f"### Hostile files\n\n{refused} of {len(EXPECTED)} refused with CheckpointError.\n")

    with tempfile.TemporaryDirectory() as folder:
        kills = run_kills(args.kills, seed=args.seed, folder=Path(folder))
    print("### Kills\n")
    print(
        f"{kills.kills} SIGKILLs of a saver mid-save (17 MB checkpoints): the target was the "
        f"old version {kills.found['old']} times and the new one {kills.found['new']} times, "
        f"always complete; {kills.strays} temporary files were left by killed writers and all "
        f"removed by the next save; problems: {len(kills.problems)}.\n"
    )

    print("### Peak memory (tracemalloc) with the default limits\n")
    print("| input | file size | peak | time | outcome |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        bomb = Path(folder) / "bomb.json.gz"
        gzip_bomb(bomb)
        valid = Path(folder) / "default.json"
        rf.save(random_checkpoint(), valid)
        rows = [
            ("dim 10^9 x 10^9 over 3 numbers (JSON)", HOSTILE / "dim-claim.json"),
            ("shape 10^9 x 10^9 (safetensors)", HOSTILE / "shape-claim.safetensors"),
            ("header length 2^40 (safetensors)", HOSTILE / "header-claims-more.safetensors"),
            ("100,000 nested arrays", HOSTILE / "nesting-past-parser.json"),
            ("a 100,000-character word", HOSTILE / "long-word.json"),
            ("gzip inflating past 1 GiB", bomb),
            ("for scale: a valid default-size checkpoint", valid),
        ]
        for label, path in rows:
            top, seconds, outcome = peak(lambda path=path: rf.load(path))
            print(
                f"| {label} | {path.stat().st_size:,} B | {top / 2**20:.1f} MiB | "
                f"{seconds * 1000:.0f} ms | {outcome} |"
            )

    print("\n### Limits (rustgpt_format.Limits) and their defaults\n")
    for field in dataclasses.fields(Limits):
        print(f"- `{field.name}` = {getattr(DEFAULT_LIMITS, field.name):,}")
    print()
    with tempfile.TemporaryDirectory() as folder:
        scaling_report.scaling(Path(folder))  # issue 15: linear time, bounded memory
        scaling_report.memory(Path(folder), DEFAULT_LIMITS.max_file_bytes)


if __name__ == "__main__":
    main()
