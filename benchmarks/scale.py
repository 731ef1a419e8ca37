"""Save and load at several checkpoint sizes, each against its baseline in the same run.

    python benchmarks/scale.py                      # the three sizes of issue 13 (minutes)
    python benchmarks/scale.py --quick              # RustGPT's default size only
    python benchmarks/scale.py --size 64,128,2,300 --repeat 5   # any size: d,h,blocks,V
    python benchmarks/scale.py --quick --loads --cpu-time   # binary loads only (seconds)

Checkpoints come from ``rustgpt_format.examples.random_checkpoint``. Times are the best
of ``--repeat`` runs, ours and its baselines taking turns (``side_by_side``); with
``--cpu-time`` loads are timed by the process's CPU time, which other jobs' time
slices do not inflate (reading a file the page cache holds is CPU work, the kernel's
copy included). Baselines: the bare
``safetensors.numpy.load_file``, ``load_file`` + ``np.isfinite(t).all()`` of every tensor
(what a reader refusing NaN and inf must do), ``save_file`` + fsync (a durable save),
and raw orjson as in ``format_io.py`` (``orjson.loads`` + ``np.array`` per array;
``orjson.dumps`` + write + fsync). JSON is skipped from 50 M floats up.

Peak memory of each of our operations is measured in a fresh process: after a warm-up
on a tiny checkpoint (so lazy imports are not counted) the kernel's peak RSS is reset
(``/proc/self/clear_refs``), the operation runs, and VmHWM minus the RSS before it is
divided by the file's size. A load's peak includes the checkpoint it returns; a save's
excludes the checkpoint it was given (already resident).

After the table: the load of a tiny checkpoint (``examples.tiny_checkpoint()``, target
under 1 ms) against ``load_file``, and, at the largest size, the peak memory of a binary
load of the valid file (the arrays it returns + at most 256 MiB) and of the same file
with a NaN as the first or the last float of its tensors (refused: at most 256 MiB in
all), in fresh processes.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import safetensors.numpy
from format_io import arrays_of

import rustgpt_format as rf
from rustgpt_format.examples import BLOCK, random_checkpoint, tiny_checkpoint

Row = tuple[str, float, str, float, float | None]
SIZES: list[tuple[int, ...]] = [(128, 256, 3, 400), (256, 1024, 6, 2000), (512, 2048, 8, 8000)]
JSON_LIMIT = 50_000_000  # floats; past this a JSON round takes minutes per repeat

PEAK_PROGRAM = """
import sys, tempfile
from pathlib import Path
import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint

operation, path, source = sys.argv[1], sys.argv[2], sys.argv[3]
checkpoint = rf.load(source) if operation == "save" else None
refused = operation == "refused load"
warm = Path(tempfile.mkdtemp()) / ("warm" + Path(path).suffix)
rf.save(tiny_checkpoint(), warm)
rf.load(warm)
warm.unlink()
warm.parent.rmdir()

def status(key):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # resets VmHWM to the current RSS
before = status("VmRSS:")
try:
    result = rf.save(checkpoint, path) if operation == "save" else rf.load(path)
except rf.CheckpointError:
    if not refused:
        raise
else:
    assert not refused, "the file was not refused"
print(status("VmHWM:") - before)
"""


def peak_bytes(operation: str, path: Path, source: Path) -> int:
    """Peak memory (bytes) of ``rf.<operation>`` in a fresh process ("refused load": one
    that must raise CheckpointError)."""
    run = subprocess.run(
        [sys.executable, "-c", PEAK_PROGRAM, operation, str(path), str(source)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(run.stdout)


def peak_ratio(operation: str, path: Path, source: Path) -> float:
    """Peak memory of ``rf.<operation>`` in a fresh process, as a multiple of ``path``'s size."""
    return peak_bytes(operation, path, source) / path.stat().st_size


def with_nan(source: Path, target: Path, *, last: bool) -> None:
    """A copy of a safetensors file with a NaN as the first or the last float of its data."""
    data = bytearray(source.read_bytes())
    at = len(data) - 4 if last else 8 + int.from_bytes(data[:8], "little")
    data[at : at + 4] = np.float32(np.nan).tobytes()
    target.write_bytes(bytes(data))


def binary_peaks(size: tuple[int, ...], folder: Path) -> tuple[int, int, int, int]:
    """Bytes of the arrays, and peak memory of a valid binary load and of two refused ones
    (a NaN as the first float of the data, and as the last)."""
    d, h, blocks, vocab = size
    checkpoint = random_checkpoint(
        embedding_dim=d, hidden_dim=h, middle=BLOCK * blocks, vocab_size=vocab
    )
    arrays = sum(a.nbytes for a in arrays_of(checkpoint))
    valid, refused = folder / "valid.safetensors", folder / "refused.safetensors"
    rf.save(checkpoint, valid)
    del checkpoint
    peaks = [peak_bytes("load", valid, valid)]
    for last in (False, True):
        with_nan(valid, refused, last=last)
        peaks.append(peak_bytes("refused load", refused, valid))
    valid.unlink()
    refused.unlink()
    return arrays, peaks[0], peaks[1], peaks[2]


def tiny_load(folder: Path, repeat: int, clock: Callable[[], float]) -> tuple[float, float]:
    """Seconds of ``rf.load`` and of ``load_file`` of the tiny checkpoint, best of many."""
    path = folder / "tiny.safetensors"
    rf.save(tiny_checkpoint(), path)
    ours, theirs = side_by_side(
        max(repeat, 3) * 100,
        lambda: rf.load(path),
        lambda: safetensors.numpy.load_file(str(path)),
        clock=clock,
    )
    path.unlink()
    return ours, theirs


def side_by_side(
    repeat: int, *actions: Callable[[], object], clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """The best time of each action over ``repeat`` rounds, the actions taking turns.

    Taking turns, rather than running one action ``repeat`` times and then the next,
    exposes every side alike to a change in the machine's load (other jobs on the cores).
    """
    best = [math.inf] * len(actions)
    for _ in range(repeat):
        for index, action in enumerate(actions):
            gc.collect()
            start = clock()
            action()
            best[index] = min(best[index], clock() - start)
    return best


def fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    os.fsync(descriptor)
    os.close(descriptor)


def measure(
    size: tuple[int, ...],
    folder: Path,
    repeat: int,
    clock: Callable[[], float] = time.perf_counter,
    *,
    loads_only: bool = False,
) -> tuple[int, list[Row]]:
    """Floats, and rows (operation, ours s, baseline name, baseline s, our peak / file).

    ``loads_only``: the binary load's two rows, without its peak memory (each peak is
    a fresh process): a quick comparison of two versions of the reader.
    """
    d, h, blocks, vocab = size
    checkpoint = random_checkpoint(
        embedding_dim=d, hidden_dim=h, middle=BLOCK * blocks, vocab_size=vocab
    )
    arrays = arrays_of(checkpoint)
    ours, raw = folder / "ours.safetensors", folder / "raw.safetensors"
    rf.save(checkpoint, ours)
    tensors = safetensors.numpy.load_file(str(ours))

    def durable_save_file() -> None:
        safetensors.numpy.save_file(tensors, str(raw))
        fsync(raw)

    def checked_load_file() -> None:
        for tensor in safetensors.numpy.load_file(str(raw)).values():
            if not np.isfinite(tensor).all():
                raise ValueError("a tensor holds NaN or infinity")

    durable_save_file()
    load, bare, finite = side_by_side(
        repeat,
        lambda: rf.load(ours),
        lambda: safetensors.numpy.load_file(str(raw)),
        checked_load_file,
        clock=clock,
    )
    floats = sum(a.size for a in arrays)
    if loads_only:
        return floats, [
            ("binary load", load, "load_file", bare, None),
            ("binary load", load, "load_file + finite", finite, None),
        ]
    save, durable = side_by_side(repeat, lambda: rf.save(checkpoint, ours), durable_save_file)
    rows: list[Row] = [
        ("binary load", load, "load_file", bare, peak_ratio("load", ours, ours)),
        ("binary load", load, "load_file + finite", finite, None),
        ("binary save", save, "save_file + fsync", durable, peak_ratio("save", ours, ours)),
    ]
    if floats < JSON_LIMIT:
        document = {"arrays": [{"dim": list(a.shape), "data": a.reshape(-1)} for a in arrays]}
        json_ours, json_raw = folder / "ours.json", folder / "raw.json"

        def raw_save() -> None:
            json_raw.write_bytes(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY))
            fsync(json_raw)

        def raw_load() -> list[np.ndarray]:
            loaded = orjson.loads(json_raw.read_bytes())
            return [np.array(a["data"], dtype=np.float32) for a in loaded["arrays"]]

        rf.save(checkpoint, json_ours)
        raw_save()
        json_load, json_raw_load = side_by_side(
            repeat, lambda: rf.load(json_ours), raw_load, clock=clock
        )
        json_save, json_raw_save = side_by_side(
            repeat, lambda: rf.save(checkpoint, json_ours), raw_save
        )
        rows += [
            (
                "JSON load",
                json_load,
                "orjson.loads + np.array",
                json_raw_load,
                peak_ratio("load", json_ours, ours),
            ),
            (
                "JSON save",
                json_save,
                "orjson.dumps + write + fsync",
                json_raw_save,
                peak_ratio("save", json_ours, ours),
            ),
        ]
    for path in folder.iterdir():
        path.unlink()  # the 94 M files are ~380 MB each
    return floats, rows


def size_of(text: str) -> tuple[int, ...]:
    parts = text.split(",")
    if len(parts) != 4 or not all(part.strip().isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"expected four integers d,h,blocks,V, found {text!r}")
    return tuple(int(part) for part in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="RustGPT's default size only")
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        type=size_of,
        metavar="d,h,blocks,V",
        help="a size to measure instead of the defaults (repeatable)",
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time loads by the process's CPU time (for a busy machine); saves, which "
        "wait on the disk, stay on the wall clock",
    )
    parser.add_argument(
        "--loads",
        action="store_true",
        help="binary loads only (and the tiny checkpoint's): no saves, JSON or peak memory",
    )
    args = parser.parse_args()
    sizes = args.size or (SIZES[:1] if args.quick else SIZES)
    clock = time.process_time if args.cpu_time else time.perf_counter

    print(
        "loads timed by "
        + ("CPU time" if args.cpu_time else "the wall clock")
        + f", saves by the wall clock; best of {args.repeat}, sides taking turns\n"
    )
    print(
        "| floats (d, h, blocks, V) | operation | ours ms | against | baseline ms | ratio "
        "| our peak / file |"
    )
    print("|---|---|--:|---|--:|--:|--:|")
    with tempfile.TemporaryDirectory() as name:
        for size in sizes:
            floats, rows = measure(size, Path(name), args.repeat, clock, loads_only=args.loads)
            label = f"{floats / 1e6:.1f} M {size}"
            for operation, mine, against, base, peak in rows:
                shown = "" if peak is None else f"{peak:.2f}x"
                print(
                    f"| {label} | {operation} | {mine * 1e3:.1f} | {against} "
                    f"| {base * 1e3:.1f} | {mine / base:.2f}x | {shown} |",
                    flush=True,
                )
        ours, theirs = tiny_load(Path(name), args.repeat, clock)
        print(
            f"\ntiny checkpoint (examples.tiny_checkpoint()): binary load {ours * 1e3:.3f} ms "
            f"(target < 1 ms); load_file {theirs * 1e3:.3f} ms = {ours / theirs:.2f}x"
        )
        if args.loads:
            return
        largest = max(sizes, key=math.prod)
        arrays, valid, first, last = binary_peaks(largest, Path(name))
        mib = 2**20
        print(
            f"binary load peak memory at {largest} (fresh process): valid file "
            f"{valid / mib:.0f} MiB = the arrays ({arrays / mib:.0f} MiB) + "
            f"{(valid - arrays) / mib:.0f} MiB (bound: + 256 MiB); refused, a NaN as the "
            f"first float: {first / mib:.0f} MiB, as the last: {last / mib:.0f} MiB "
            "(bound: 256 MiB)",
            flush=True,
        )


if __name__ == "__main__":
    main()
