"""RustGPT's bincode ``.bin`` form against the JSON and safetensors forms, side by side.

    python benchmarks/bin_io.py [--repeat 7]

One RustGPT-default-size checkpoint (``random_checkpoint()``: d = 128, h = 256,
L = 80, three blocks, V = 400, with its Adam states) is written in each form. A load
reads the file and gives a validated ``Checkpoint``: for ``.bin``, telling the form, ``decode``,
the version-0 migration and validation. A save writes the file atomically (temporary
file, fsync, rename): for ``.bin``, the dialect writer's version-0 document and
``encode``. Every form goes through ``rustgpt_format.load`` and ``save`` (the registry of
forms); decode and encode alone are timed too. Times are the best of
``--repeat`` runs; each form's figures are also given per MB of its own file, and as
ratios against the JSON form (format 1.0 and RustGPT's own JSON) and the safetensors
form.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from format_io import best_of, peak_memory

import rustgpt_format as rf
from rustgpt_format.bincode import decode, encode
from rustgpt_format.dialect import rustgpt_document
from rustgpt_format.examples import random_checkpoint


def load_quietly(path: Path) -> rf.Checkpoint:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        return rf.load(path)


def save_quietly(checkpoint: rf.Checkpoint, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)  # a random checkpoint: nothing dropped
        rf.save(checkpoint, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    checkpoint = random_checkpoint()
    folder = Path(tempfile.mkdtemp())
    paths = {
        ".bin": folder / "checkpoint.bin",
        "json": folder / "checkpoint.json",
        "rustgpt json": folder / "rustgpt.json",
        "safetensors": folder / "checkpoint.safetensors",
    }
    saves: dict[str, Callable[[], object]] = {
        ".bin": lambda: save_quietly(checkpoint, paths[".bin"]),
        "json": lambda: rf.save(checkpoint, paths["json"]),
        "rustgpt json": lambda: rf.save(checkpoint, paths["rustgpt json"], dialect="rustgpt"),
        "safetensors": lambda: rf.save(checkpoint, paths["safetensors"]),
    }
    for save in saves.values():
        save()
    loads: dict[str, Callable[[], rf.Checkpoint]] = {
        name: partial(load_quietly, path) for name, path in paths.items()
    }
    for name, load in loads.items():
        assert load() == checkpoint, name
    sizes = {name: path.stat().st_size for name, path in paths.items()}
    floats = sum(a.size for layer in checkpoint.network for a in layer.parameters().values()) + sum(
        s.m.size + s.v.size
        for layer in checkpoint.network
        for s in layer.optimizers().values()
        if s is not None
    )
    print(f"checkpoint: {floats:,} float32 numbers ({4 * floats / 1e6:.2f} MB of them)")

    load_times = {name: best_of(args.repeat, load) for name, load in loads.items()}
    save_times = {name: best_of(args.repeat, save) for name, save in saves.items()}
    data = paths[".bin"].read_bytes()
    decode_time = best_of(args.repeat, lambda: decode(data))
    encode_time = best_of(args.repeat, lambda: encode(rustgpt_document(checkpoint)))

    print(f"{'form':14}{'size':>10}{'load':>10}{'MB/s':>8}{'save':>10}{'MB/s':>8}")
    for name in paths:
        mb = sizes[name] / 1e6
        print(
            f"{name:14}{mb:7.2f} MB{load_times[name] * 1e3:7.1f} ms{mb / load_times[name]:8.0f}"
            f"{save_times[name] * 1e3:7.1f} ms{mb / save_times[name]:8.0f}"
        )
    print("\n.bin against the other forms (time of .bin / time of the other):")
    for name in ("json", "rustgpt json", "safetensors"):
        print(
            f"  {name:14} load {load_times['.bin'] / load_times[name]:5.2f}x   "
            f"save {save_times['.bin'] / save_times[name]:5.2f}x   "
            f"size {sizes['.bin'] / sizes[name]:5.2f}x"
        )
    print(
        f"\n.bin load {load_times['.bin'] * 1e3:.1f} ms, of which decode alone "
        f"{decode_time * 1e3:.1f} ms; .bin save {save_times['.bin'] * 1e3:.1f} ms, of which "
        f"dialect dict + encode {encode_time * 1e3:.1f} ms (the rest: the atomic write)"
    )
    peak = peak_memory(loads[".bin"])
    safetensors_peak = peak_memory(loads["safetensors"])
    print(
        f"peak memory during a .bin load: {peak / 1e6:.1f} MB = {peak / sizes['.bin']:.2f}x "
        f"the file; safetensors: {safetensors_peak / 1e6:.1f} MB = "
        f"{safetensors_peak / sizes['safetensors']:.2f}x"
    )


if __name__ == "__main__":
    main()
