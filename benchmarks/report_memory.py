"""``rustgpt-format report``: peak memory on a 94 M-float checkpoint, and time at default size.

    python benchmarks/report_memory.py [--repeat 5] [--skip-large]

Memory: a checkpoint of 94 M float32 (V = 8000, d = 512, h = 2048, eight blocks, full
Adam state) saved as safetensors (376 MB). Each side runs in a fresh process and its
peak resident memory (``ru_maxrss``) is read: the report (``report FILE -o page.html``),
against a baseline that only loads the same file with ``rustgpt_format.load``. The
target is a peak within twice the file's size.

Time: the report of a checkpoint of RustGPT's default size (1.4 M floats, full Adam
state, a 200-epoch training block) saved as JSON, end to end in one process (load,
statistics, digest, page, write), best of ``--repeat``, against loading the same file.
The target is at most 2 s.
"""

from __future__ import annotations

import argparse
import gc
import io
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import rustgpt_format as rf
from rustgpt_format.cli import run
from rustgpt_format.examples import random_checkpoint

# VmHWM, the high-water mark of this process's resident memory. Not ru_maxrss, which
# a child inherits from its parent at fork: it would report the parent's peak.
PEAK = (
    "import sys\n{body}\n"
    "status = open('/proc/self/status').read()\n"
    "print(int(status.split('VmHWM:')[1].split()[0]) * 1024)"
)


def peak_bytes(body: str) -> int:
    """Peak resident memory of a fresh Python process running ``body``."""
    program = PEAK.format(body=body)
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


def large(folder: Path) -> Path:
    """The 94 M-float checkpoint, made in another process to keep this one small."""
    path = folder / "large.safetensors"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import rustgpt_format as rf\n"
            "from rustgpt_format.examples import BLOCK, random_checkpoint\n"
            "rf.save(random_checkpoint(vocab_size=8000, embedding_dim=512, hidden_dim=2048, "
            f"middle=BLOCK * 8), {str(path)!r})",
        ],
        check=True,
    )
    return path


def default(folder: Path) -> Path:
    path = folder / "default.json"
    checkpoint = random_checkpoint()
    phases = [
        rf.TrainingPhase(name="pretraining", epochs=100, learning_rate=0.0005),
        rf.TrainingPhase(name="instruction_tuning", epochs=100, learning_rate=0.0001),
    ]
    losses = [5.0 / (1 + epoch) + 0.1 for epoch in range(200)]
    checkpoint.training = rf.TrainingState(
        schedule=phases, epochs_completed=200, steps_completed=7500, loss_history=losses
    )
    rf.save(checkpoint, path)
    return path


def best_of_each(repeat: int, *actions: Callable[[], object]) -> list[float]:
    """Best time of each action over ``repeat`` rounds, the actions taking turns."""
    best = [math.inf] * len(actions)
    for _ in range(repeat):
        for index, action in enumerate(actions):
            gc.collect()
            start = time.perf_counter()
            action()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true", help="only the timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = default(folder)
        page = folder / "page.html"

        def report() -> None:
            code = run(["report", str(path), "-o", str(page)], io.StringIO(), io.StringIO())
            assert code == 0

        report_s, load_s = best_of_each(args.repeat, report, lambda: rf.load(path))
        print(f"default size, {os.path.getsize(path) / 1e6:.1f} MB of JSON, best of {args.repeat}:")
        print(f"  report (load, statistics, digest, page, write): {report_s:.3f} s")
        print(f"  baseline, rustgpt_format.load alone:             {load_s:.3f} s")
        print(
            f"  ratio {report_s / load_s:.2f}x; page {page.stat().st_size / 1024:,.0f} KiB; "
            "target <= 2 s"
        )
        if args.skip_large:
            return
        big = large(folder)
        size = big.stat().st_size
        start = time.perf_counter()
        reported = peak_bytes(
            "from rustgpt_format.cli import run\n"
            f"argv = ['report', {str(big)!r}, '-o', {str(page)!r}]\n"
            "assert run(argv, sys.stdout, sys.stderr) == 0"
        )
        seconds = time.perf_counter() - start
        loaded = peak_bytes(f"import rustgpt_format\nrustgpt_format.load({str(big)!r})")
        empty = peak_bytes("import rustgpt_format.cli")
        mib = 2**20
        print(f"94 M floats, {size / mib:,.0f} MiB of safetensors, peak resident memory:")
        print(
            f"  report:                          {reported / mib:,.0f} MiB "
            f"= {reported / size:.2f}x the file (target <= 2x), {seconds:.1f} s"
        )
        print(
            f"  baseline, load alone:            {loaded / mib:,.0f} MiB "
            f"= {loaded / size:.2f}x the file; report / load = {reported / loaded:.2f}x"
        )
        print(f"  the interpreter and imports:     {empty / mib:,.0f} MiB")


if __name__ == "__main__":
    main()
