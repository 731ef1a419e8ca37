"""Save and load of a RustGPT-default-size checkpoint against raw orjson, side by side.

    python benchmarks/format_io.py [--repeat 7]

The baseline is what any program must do at the least to move the same float32
arrays through JSON: ``orjson.dumps`` of the arrays (numpy-native) for saving, and
``orjson.loads`` + ``np.array(..., float32)`` for loading. Times are the best of
``--repeat`` runs; peak memory is tracemalloc's peak during one load, against the
file size.

The binary form is measured the same way against ``safetensors.numpy.save_file`` /
``load_file`` of the same tensors; also against baselines that do what ours must
(``save_file`` + fsync; ``load_file`` + a finite check of every tensor), and as a
fresh process's first load. The weights-only load (``optimizer=False``) is measured
against the full one: time, and bytes of tensors read from the file.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import safetensors.numpy
from safetensors import safe_open

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def first_load(setup: str, statement: str, repeat: int) -> float:
    """Seconds of ``statement`` run once in a fresh process (after ``setup``), best of ``repeat``.

    A process that loads one checkpoint writes the arrays into fresh memory pages; the
    loops above reuse memory the allocator already holds, which favours whichever side
    does the least besides copying bytes.
    """
    program = (
        f"import time\n{setup}\nstart = time.perf_counter()\n{statement}\n"
        "print(time.perf_counter() - start)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", program], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return min(runs)


def peak_memory(action: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def arrays_of(checkpoint: rf.Checkpoint) -> list[np.ndarray]:
    arrays = []
    for layer in checkpoint.network:
        arrays += layer.parameters().values()
        for state in layer.optimizers().values():
            if state is not None:
                arrays += [state.m, state.v]
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    checkpoint = random_checkpoint()
    arrays = arrays_of(checkpoint)
    floats = sum(a.size for a in arrays)
    raw_document = {"arrays": [{"dim": list(a.shape), "data": a.reshape(-1)} for a in arrays]}
    folder = Path(tempfile.mkdtemp())
    ours, raw = folder / "checkpoint.json", folder / "raw.json"

    def raw_save() -> None:
        raw.write_bytes(orjson.dumps(raw_document, option=orjson.OPT_SERIALIZE_NUMPY))

    def raw_load() -> list[np.ndarray]:
        document = orjson.loads(raw.read_bytes())
        return [np.array(a["data"], dtype=np.float32) for a in document["arrays"]]

    raw_save()
    rf.save(checkpoint, ours)
    assert rf.load(ours) == checkpoint
    size = ours.stat().st_size
    print(f"checkpoint: {floats:,} floats in {len(arrays)} arrays, {size / 1e6:.1f} MB of JSON")

    rows = [
        (
            "save",
            best_of(args.repeat, lambda: rf.save(checkpoint, ours)),
            best_of(args.repeat, raw_save),
        ),
        ("load", best_of(args.repeat, lambda: rf.load(ours)), best_of(args.repeat, raw_load)),
    ]
    print(f"{'':6}{'rustgpt_format':>16}{'raw orjson':>14}{'ratio':>9}   target")
    for name, mine, base in rows:
        print(f"{name:6}{mine * 1e3:13.1f} ms{base * 1e3:11.1f} ms{mine / base:8.2f}x   <= 1.30x")
    peak = peak_memory(lambda: rf.load(ours))
    raw_peak = peak_memory(raw_load)
    print(
        f"peak memory during load: {peak / 1e6:.1f} MB = {peak / size:.2f}x the file "
        f"(target <= 3x); raw orjson load: {raw_peak / 1e6:.1f} MB = {raw_peak / size:.2f}x"
    )
    binary(checkpoint, folder, args.repeat)


def binary(checkpoint: rf.Checkpoint, folder: Path, repeat: int) -> None:
    """The .safetensors form against the safetensors library alone, and weights-only load."""
    ours, raw = folder / "checkpoint.safetensors", folder / "raw.safetensors"
    rf.save(checkpoint, ours)
    tensors = safetensors.numpy.load_file(str(ours))
    safetensors.numpy.save_file(tensors, str(raw))
    assert rf.load(ours) == checkpoint
    print(f"\nbinary form: {ours.stat().st_size / 1e6:.1f} MB of safetensors")
    rows = [
        (
            "save",
            best_of(repeat, lambda: rf.save(checkpoint, ours)),
            best_of(repeat, lambda: safetensors.numpy.save_file(tensors, str(raw))),
        ),
        (
            "load",
            best_of(repeat, lambda: rf.load(ours)),
            best_of(repeat, lambda: safetensors.numpy.load_file(str(raw))),
        ),
    ]
    print(f"{'':6}{'rustgpt_format':>16}{'safetensors':>14}{'ratio':>9}   target")
    for name, mine, base in rows:
        print(f"{name:6}{mine * 1e3:13.1f} ms{base * 1e3:11.1f} ms{mine / base:8.2f}x   <= 1.50x")

    def durable_save_file() -> None:  # the same durability as ours: the data reach the disk
        safetensors.numpy.save_file(tensors, str(raw))
        descriptor = os.open(raw, os.O_RDONLY)
        os.fsync(descriptor)
        os.close(descriptor)

    durable = best_of(repeat, durable_save_file)
    mine = rows[0][1]
    print(
        f"save against save_file + fsync (like for like): {mine * 1e3:.1f} ms / "
        f"{durable * 1e3:.1f} ms = {mine / durable:.2f}x"
    )
    def checked_load_file() -> None:  # the least a reader that refuses NaN and inf does
        for tensor in safetensors.numpy.load_file(str(raw)).values():
            if not np.isfinite(tensor).all():
                raise ValueError("a tensor holds NaN or infinity")

    checked = best_of(repeat, checked_load_file)
    mine = rows[1][1]
    print(
        f"load against load_file + a finite check of every tensor: {mine * 1e3:.1f} ms / "
        f"{checked * 1e3:.1f} ms = {mine / checked:.2f}x"
    )
    ours_first = first_load("import rustgpt_format as rf", f"rf.load({str(ours)!r})", repeat)
    raw_first = first_load(
        "import safetensors.numpy", f"safetensors.numpy.load_file({str(raw)!r})", repeat
    )
    print(
        f"load as a fresh process's first: {ours_first * 1e3:.1f} ms / {raw_first * 1e3:.1f} ms "
        f"= {ours_first / raw_first:.2f}x"
    )
    full = rows[1][1]
    weights_time = best_of(repeat, lambda: rf.load(ours, optimizer=False))
    with safe_open(str(ours), framework="np") as handle:
        names = list(handle.keys())  # a safe_open handle is not iterable
        sizes = {name: handle.get_slice(name).get_shape() for name in names}
    nbytes = {name: 4 * int(np.prod(shape)) for name, shape in sizes.items()}
    weight_bytes = sum(size for name, size in nbytes.items() if "optimizer" not in name)
    print(
        f"weights-only load: {weights_time * 1e3:.1f} ms = {weights_time / full:.0%} of the "
        f"full load's time; {weight_bytes / 1e6:.2f} MB of {sum(nbytes.values()) / 1e6:.2f} MB "
        f"of tensors read = {weight_bytes / sum(nbytes.values()):.0%}"
    )


if __name__ == "__main__":
    main()
