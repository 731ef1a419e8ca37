"""Scaling and memory of the readers on hostile input (issue 15), printed as Markdown.

    python scripts/scaling_report.py [--big-bytes 1073741824]

Scaling: each construction of tests/rustgpt_format/test_scaling.py at the size issue
15 reported and at 10 times that size, read by ``rustgpt_format.load`` from a file
(best of 3 when a load takes under a second); a linear reader takes about 10 times as
long. Memory: the peak resident memory of a
fresh process loading each file (Linux: VmHWM after resetting it through
/proc/self/clear_refs), above what the process held before: for ``load(path)``, and
for the JSON reader alone given the file's bytes already read (inflated, for gzip),
against the file size and, when the load succeeds, the bytes of the arrays it returns.
``scripts/hardening_report.py`` prints both sections after its own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the constructions live in the tests package

import rustgpt_format as rf  # noqa: E402
from rustgpt_format import codec  # noqa: E402
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint  # noqa: E402
from tests.rustgpt_format.test_scaling import (  # noqa: E402
    data_keys,
    escaped_quotes,
    gzip_members,
    metadata_file,
)


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


_PROBE = """
import re, sys, time, warnings
import rustgpt_format as rf
from rustgpt_format import codec, compression
warnings.simplefilter("ignore")
def status(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
path, step = sys.argv[1], sys.argv[2]
data = open(path, "rb").read() if step == "parse" else b""
with open("/proc/self/clear_refs", "w") as stream:
    stream.write("5")  # the high-water mark starts again from the current size
before = status("VmRSS")
start = time.perf_counter()
try:
    if step == "parse":  # the file's bytes are in memory: what the JSON reader adds
        codec.parse(compression.inflate(data) if compression.is_gzip(data) else data)
        outcome = "read"
    else:
        checkpoint = rf.load(path)
        arrays = sum(
            a.nbytes for layer in checkpoint.network for a in layer.parameters().values()
        ) + sum(
            s.m.nbytes + s.v.nbytes
            for layer in checkpoint.network
            for s in layer.optimizers().values()
            if s is not None
        )
        outcome = f"read ({arrays:,} B of arrays)"
except rf.CheckpointError as error:
    outcome = "refused: " + error.message[:60] + "..."
print(status("VmHWM") - before, time.perf_counter() - start, outcome, sep="\\t")
"""


def resident_peak(path: Path, step: str) -> tuple[int, float, str]:
    """Peak resident bytes above the start of ``step`` ("load" the file, or "parse" its
    bytes already read), seconds, outcome; in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), step], capture_output=True, text=True, check=True
    )
    used, seconds, outcome = done.stdout.strip().split("\t")
    return int(used), float(seconds), outcome


def numbers_file(path: Path, count: int, number: bytes, *, tail: bytes = b"") -> Path:
    """The tiny checkpoint whose first array holds ``count`` copies of ``number``, streamed."""
    text = codec.encode(tiny_checkpoint())
    start = text.index(b'"data":[') + len(b'"data":[')
    end = text.index(b"]", start)
    block = (number + b",") * (1 << 16)
    with path.open("wb") as stream:
        stream.write(text[:start])
        left = count - 1
        while left >= 1 << 16:
            stream.write(block)
            left -= 1 << 16
        stream.write((number + b",") * left + number + text[end:] + tail)
    return path


def gzipped(source: Path, target: Path) -> Path:
    deflate = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with source.open("rb") as inp, target.open("wb") as out:
        while block := inp.read(1 << 24):
            out.write(deflate.compress(block))
        out.write(deflate.flush())
    return target


def memory(folder: Path, big: int) -> None:
    """Peak resident memory of loads of large files (each file is ``big`` bytes or less)."""
    count = (big - 16_384) // 2  # "0," per number: a file just under ``big`` bytes
    rows: list[tuple[str, Path]] = []
    rows.append(
        (
            f"{count:,} numbers in one array (`0,`), over max_elements",
            numbers_file(folder / "many.json", count, b"0"),
        )
    )
    rows.append(
        (
            "the same, gzipped (inflates to the file above)",
            gzipped(rows[0][1], folder / "many.json.gz"),
        )
    )
    floats = big // 12
    rows.append(
        (
            f"{floats:,} numbers (`0.25,`+6 spaces), a syntax error after them",
            numbers_file(folder / "invalid.json", floats, b"0.25      ", tail=b"x"),
        )
    )
    rows.append(
        (
            f"{floats:,} numbers, valid JSON, wrong dim (refused by validation)",
            numbers_file(folder / "shape.json", floats, b"0.25      "),
        )
    )
    default = folder / "default.json"
    default.write_bytes(codec.encode(random_checkpoint()))
    rows.append(("for scale: a valid default-size checkpoint", default))
    print("### Memory: peak resident memory, above the process before the step\n")
    print("| input | file size | `load(path)` | time | parse of the bytes read | time | outcome |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, path in rows:
        loaded, load_seconds, outcome = resident_peak(path, "load")
        parsed, parse_seconds, _ = resident_peak(path, "parse")
        print(
            f"| {label} | {path.stat().st_size / 2**20:,.1f} MiB | {loaded / 2**20:,.1f} MiB | "
            f"{load_seconds:.1f} s | {parsed / 2**20:,.1f} MiB | {parse_seconds:.1f} s | "
            f"{outcome} |"
        )
    for _, path in rows:
        path.unlink(missing_ok=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--big-bytes", type=int, default=2**30, help="size of the large files (default 1 GiB)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scaling(Path(folder))
        memory(Path(folder), args.big_bytes)


if __name__ == "__main__":
    main()
