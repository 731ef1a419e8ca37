"""Where the time of a binary load and a binary save goes, phase by phase.

    python benchmarks/breakdown.py [--rounds 200] [--size d,h,blocks,V ...] [--cpu-time]

For a tiny checkpoint (``examples.tiny_checkpoint()``) and RustGPT's default size
(or the sizes asked for), each phase of ``rf.load`` and ``rf.save`` of a
``.safetensors`` file is timed by wrapping the function that does it; the table
gives microseconds per call (best round of ``--rounds`` calls) beside the whole
operation and the library's ``load_file`` / ``save_file`` + fsync. Phases nest
(``decode`` holds ``metadata`` and ``read tensors``), so they do not add up to the
whole; what the wrappers themselves cost is small against each phase. With
``--cpu-time`` every phase is timed by the process's CPU time (other jobs' time
slices not counted; a save's waits on the disk not counted either).
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import safetensors.numpy
from scale import size_of

import rustgpt_format as rf
import rustgpt_format.atomic
import rustgpt_format.boundary
import rustgpt_format.forms.safetensors as binary
import rustgpt_format.migrations
import rustgpt_format.writing
from rustgpt_format.examples import BLOCK, random_checkpoint, tiny_checkpoint

# (label, module, function): the phases of a load, then of a save
LOAD = [
    ("decode (the form's whole read)", binary, "_decode_file"),
    ("  the library's header check (safe_open)", binary, "safe_open"),
    ("  metadata: parse the document JSON (codec)", binary, "_document"),
    ("  tensors named and shaped", binary, "_shapes"),
    ("  claims: the tensors the document asks for", binary, "_claims"),
    ("  names: those the file holds, compared", binary, "_check_names"),
    ("  read tensors, checked per chunk", binary, "_read_all"),
    ("validate (models, §6; finite arrays skipped)", rustgpt_format.migrations, "validated"),
]
SAVE = [
    ("check (boundary.checked)", rustgpt_format.writing, "checked"),
    ("metadata JSON and header", binary, "_container"),
    ("write, each array checked before it", binary, "_write_binary"),
    ("atomic replace (write_atomically)", rustgpt_format.writing, "write_atomically"),
    ("  fsync of the folder", rustgpt_format.atomic, "_sync_folder"),
]


CLOCK: list[Callable[[], float]] = [time.perf_counter]


def timed(phases: list[tuple[str, Any, str]], spent: dict[str, float]) -> Callable[[], None]:
    """Wrap each phase's function to add its time to ``spent``; returns an undo."""
    originals = []
    for label, module, name in phases:
        original = getattr(module, name)
        originals.append((module, name, original))

        def wrapper(*args: Any, _f: Any = original, _l: str = label, **kwargs: Any) -> Any:
            start = CLOCK[0]()
            try:
                return _f(*args, **kwargs)
            finally:
                spent[_l] = spent.get(_l, 0.0) + CLOCK[0]() - start

        setattr(module, name, functools.wraps(original)(wrapper))

    def undo() -> None:
        for module, name, original in originals:
            setattr(module, name, original)

    return undo


def best_round(rounds: int, action: Callable[[], object], phases: list[Any]) -> dict[str, float]:
    """Seconds per call of ``action`` and of each phase, from the fastest of 5 rounds."""
    best: dict[str, float] = {}
    for _ in range(5):
        spent: dict[str, float] = {}
        undo = timed(phases, spent)
        try:
            start = CLOCK[0]()
            for _ in range(rounds):
                action()
            whole = CLOCK[0]() - start
        finally:
            undo()
        if not best or whole < best["whole"] * rounds:
            best = {"whole": whole / rounds} | {k: v / rounds for k, v in spent.items()}
    return best


def plain(rounds: int, action: Callable[[], object]) -> float:
    return min(_clock(rounds, action) for _ in range(5))


def _clock(rounds: int, action: Callable[[], object]) -> float:
    start = CLOCK[0]()
    for _ in range(rounds):
        action()
    return (CLOCK[0]() - start) / rounds


def durable_save_file(tensors: dict[str, Any], path: Path) -> None:
    safetensors.numpy.save_file(tensors, str(path))
    descriptor = os.open(path, os.O_RDONLY)
    os.fsync(descriptor)
    os.close(descriptor)


def report(name: str, checkpoint: rf.Checkpoint, folder: Path, rounds: int) -> None:
    ours, raw = folder / "ours.safetensors", folder / "raw.safetensors"
    rf.save(checkpoint, ours)
    tensors = safetensors.numpy.load_file(str(ours))
    save_rounds = max(3, rounds // 20)
    load = best_round(rounds, lambda: rf.load(ours), LOAD)
    save = best_round(save_rounds, lambda: rf.save(checkpoint, ours), SAVE)
    bare = plain(rounds, lambda: safetensors.numpy.load_file(str(ours)))
    durable = plain(save_rounds, lambda: durable_save_file(tensors, raw))
    print(f"\n{name}: {ours.stat().st_size / 1e6:.2f} MB of safetensors, {len(tensors)} tensors")
    print(f"  rf.load {load['whole'] * 1e6:9.0f} us   (load_file {bare * 1e6:.0f} us)")
    for label, _, _ in LOAD:
        print(f"    {label:48s} {load.get(label, 0.0) * 1e6:9.0f} us")
    print(f"  rf.save {save['whole'] * 1e6:9.0f} us   (save_file + fsync {durable * 1e6:.0f} us)")
    for label, _, _ in SAVE:
        print(f"    {label:48s} {save.get(label, 0.0) * 1e6:9.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--size", action="append", default=[], type=size_of)
    parser.add_argument("--cpu-time", action="store_true", help="time by CPU time")
    args = parser.parse_args()
    if args.cpu_time:
        CLOCK[0] = time.process_time
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        report("tiny checkpoint", tiny_checkpoint(), folder, args.rounds)
        for d, h, blocks, vocab in args.size or [(128, 256, 3, 400)]:
            checkpoint = random_checkpoint(
                embedding_dim=d, hidden_dim=h, middle=BLOCK * blocks, vocab_size=vocab
            )
            layers = checkpoint.network
            floats = sum(a.size for layer in layers for a in layer.parameters().values())
            rounds = max(5, args.rounds * 50_000 // max(floats, 1))
            report(f"{(d, h, blocks, vocab)}", checkpoint, folder, rounds)


if __name__ == "__main__":
    main()
