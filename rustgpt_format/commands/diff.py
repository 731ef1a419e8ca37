"""``rustgpt-format diff A B``: where two checkpoints differ, array by array.

Exit 0 when they hold the same checkpoint (bit for bit, whatever their forms), 1 when
they differ, 2 when a file cannot be read (as ``diff`` and ``cmp`` do).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from rustgpt_format.commands.common import read_reporting
from rustgpt_format.models import AdamState, Checkpoint, LayerBase

NAME = "diff"
HELP = (
    "compare two checkpoints in any forms: per array, shape differences and the max "
    "absolute difference; exit 0 identical, 1 different, 2 unreadable"
)
_SHOWN = 10


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", type=Path, metavar="A", help="a checkpoint in any form")
    parser.add_argument("second", type=Path, metavar="B", help="a checkpoint in any form")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    first = read_reporting(args.first, stderr, quiet_migration=True)
    second = read_reporting(args.second, stderr, quiet_migration=True)
    if first is None or second is None:
        return 2
    lines = list(differences(first.checkpoint, second.checkpoint))
    if not lines:
        stdout.write(f"{args.first} and {args.second} hold the same checkpoint\n")
        return 0
    stdout.writelines(f"{line}\n" for line in lines)
    return 1


def differences(a: Checkpoint, b: Checkpoint) -> Iterator[str]:
    """One line per difference, as ``path: what``, in document order.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> a, b = tiny_checkpoint(), tiny_checkpoint()
    >>> a.network[1].w_q[0, 0], b.network[1].w_q[0, 0] = 0.25, 0.75
    >>> list(differences(a, b))
    ['network[1].w_q: max abs difference 0.5 (1 of 16 values differ)']
    """
    for key, value in a.config.model_dump().items():
        other = getattr(b.config, key)
        if value != other:
            yield f"config.{key}: {value} vs {other}"
    yield from _words(a.vocab.words, b.vocab.words)
    if len(a.network) != len(b.network):
        yield f"network: {len(a.network)} layers vs {len(b.network)}"
    for index, (left, right) in enumerate(zip(a.network, b.network, strict=False)):
        yield from _layers(f"network[{index}]", left, right)
    for key in ("training", "metadata"):
        left, right = _dumped(getattr(a, key)), _dumped(getattr(b, key))
        if left != right:
            yield f"{key}: {_presence(left)} vs {_presence(right)}"


def _words(a: tuple[str, ...], b: tuple[str, ...]) -> Iterator[str]:
    if len(a) != len(b):
        yield f"vocab.words: {len(a)} words vs {len(b)}"
    changed = [index for index, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    for index in changed[:_SHOWN]:
        yield f"vocab.words[{index}]: {a[index]!r} vs {b[index]!r}"
    if len(changed) > _SHOWN:
        yield f"vocab.words: and {len(changed) - _SHOWN} more words differ"


def _layers(where: str, a: LayerBase, b: LayerBase) -> Iterator[str]:
    if type(a) is not type(b):
        yield f"{where}: {type(a).__name__} vs {type(b).__name__}"
        return
    for name in type(a).model_fields:
        left, right = getattr(a, name), getattr(b, name)
        if name in a.SHAPES:
            yield from _arrays(f"{where}.{name}", left, right)
        elif name in a.OPTIMIZERS:
            yield from _optimizers(f"{where}.{name}", left, right)
        elif left != right:
            yield f"{where}.{name}: {left!r} vs {right!r}"


def _optimizers(where: str, a: AdamState | None, b: AdamState | None) -> Iterator[str]:
    if a is None or b is None:
        if a is not b:
            yield f"{where}: {_presence(a)} vs {_presence(b)}"
        return
    for name in ("beta1", "beta2", "epsilon", "timestep"):
        if getattr(a, name) != getattr(b, name):
            yield f"{where}.{name}: {getattr(a, name)!r} vs {getattr(b, name)!r}"
    yield from _arrays(f"{where}.m", a.m, b.m)
    yield from _arrays(f"{where}.v", a.v, b.v)


def _arrays(where: str, a: np.ndarray, b: np.ndarray) -> Iterator[str]:
    if a.shape != b.shape:
        yield f"{where}: shape {a.shape} vs {b.shape}"
        return
    differ = a.view(np.uint32) != b.view(np.uint32)
    changed = int(differ.sum())
    if changed:
        gap = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
        note = " (signed zeros)" if gap == 0 else ""
        yield (f"{where}: max abs difference {gap:.9g}{note} ({changed} of {a.size} values differ)")


def _dumped(value: Any) -> Any:
    return value.model_dump() if hasattr(value, "model_dump") else value


def _presence(value: object) -> str:
    return "absent" if value is None else "present"
