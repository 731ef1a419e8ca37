"""``rustgpt-format diff A B [--json]``: where two checkpoints differ, field by field.

Exit 0 when they hold the same checkpoint (bit for bit, whatever their forms), 1 when
they differ, 2 when a file cannot be read (as ``diff`` and ``cmp`` do).

The comparison walks the models' own fields (``model_fields`` of the checkpoint, its
blocks and each layer class), so a field a later format version adds is compared
without a change here: arrays by their bits (with the largest absolute difference and
the count of values that differ), numeric sequences in one line (how many entries, the
first difference), maps key by key, other values by value. A closing line sums it up.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from pydantic import BaseModel

from rustgpt_format.commands.common import STDIN, add_input_options, count, read_reporting
from rustgpt_format.models import Checkpoint

NAME = "diff"
HELP = (
    "compare two checkpoints in any forms: each differing field and value, per array the "
    "max absolute difference and the count of differing values, and a summary; exit 0 "
    "identical, 1 different, 2 unreadable"
)
_SHOWN = 10
"""Differing entries of a sequence of words (or other non-numbers) shown one by one."""
_ITEMS = {"network": "layers", "words": "words"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", type=Path, metavar="A", help="a checkpoint in any form")
    parser.add_argument("second", type=Path, metavar="B", help="a checkpoint in any form")
    parser.add_argument(
        "--json", action="store_true", help="print the differences and the summary as JSON"
    )
    add_input_options(parser)


@dataclass
class Difference:
    """One difference: where, what kind, and the figures (JSON-ready values)."""

    path: str
    kind: str
    """``value``, ``key`` (of one map only), ``presence``, ``type``, ``length``, ``shape``,
    ``array``, ``entries`` (of a numeric sequence) or ``more`` (words not shown)."""
    a: Any = None
    b: Any = None
    figures: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The line ``diff`` prints."""
        figures = self.figures
        if self.kind == "array":
            zeros = " (signed zeros)" if figures["max_abs_difference"] == 0 else ""
            return (
                f"{self.path}: max abs difference {figures['max_abs_difference']:.9g}{zeros} "
                f"({figures['values_differ']} of {figures['values']} values differ)"
            )
        if self.kind == "shape":
            return f"{self.path}: shape {tuple(self.a)} vs {tuple(self.b)}"
        if self.kind == "length":
            noun = figures["items"]
            first = figures.get("first_difference")
            at = f", first difference at [{first}]" if first is not None else ""
            return f"{self.path}: {self.a} {noun} vs {self.b}{at}"
        if self.kind == "entries":
            return (
                f"{self.path}: {figures['entries_differ']} of {figures['entries']} entries "
                f"differ, first at [{figures['first_difference']}]: "
                f"{_repr(self.a)} vs {_repr(self.b)}"
            )
        if self.kind == "more":
            return f"{self.path}: and {figures['more']} more {figures['items']} differ"
        if self.kind == "key":
            a, b = (_repr(x) if x is not None else "absent" for x in (self.a, self.b))
            return f"{self.path}: {a} vs {b}"
        if self.kind in ("presence", "type"):
            return f"{self.path}: {self.a} vs {self.b}"
        return f"{self.path}: {_repr(self.a)} vs {_repr(self.b)}"

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "a": self.a, "b": self.b, **self.figures}


@dataclass
class Comparison:
    """Every difference between two checkpoints, and the figures of the summary."""

    differences: list[Difference] = field(default_factory=list)
    arrays: int = 0
    arrays_differ: int = 0
    values: int = 0
    values_differ: int = 0
    sections: dict[str, bool] = field(default_factory=dict)
    """Each top-level field of the checkpoint: whether it differs."""

    def summary(self) -> str:
        """The closing line: arrays, values, and which parts are the same.

        >>> Comparison(arrays=9, arrays_differ=1, values=40, values_differ=2,
        ...            sections={"config": False, "vocab": False, "network": True}).summary()
        '1 of 9 arrays differ (2 of 40 values); config and vocab same; network differs'
        """
        same = [name for name, differs in self.sections.items() if not differs]
        differ = [name for name, differs in self.sections.items() if differs]
        parts = [
            f"{count(self.arrays_differ)} of {count(self.arrays)} arrays differ "
            f"({count(self.values_differ)} of {count(self.values)} values)"
        ]
        if same:
            parts.append(f"{_names(same)} same")
        if differ:
            parts.append(f"{_names(differ)} differ" + ("s" if len(differ) == 1 else ""))
        return "; ".join(parts)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if str(args.first) == STDIN and str(args.second) == STDIN:
        stderr.write("rustgpt-format diff: error: - (standard input) can be read once\n")
        return 2
    loaded = [
        read_reporting(
            path, stderr, stdin=args.stdin, special=args.special_files, quiet_migration=True
        )
        for path in (args.first, args.second)
    ]
    if loaded[0] is None or loaded[1] is None:
        return 2
    result = compare(loaded[0].checkpoint, loaded[1].checkpoint)
    same = not result.differences
    if args.json:
        document = {
            "a": str(args.first),
            "b": str(args.second),
            "same": same,
            "differences": [difference.as_json() for difference in result.differences],
            "summary": {
                "arrays": result.arrays,
                "arrays_differ": result.arrays_differ,
                "values": result.values,
                "values_differ": result.values_differ,
                "sections": {
                    name: "differs" if differs else "same"
                    for name, differs in result.sections.items()
                },
                "text": result.summary(),
            },
        }
        stdout.write(json.dumps(document, indent=2) + "\n")
    elif same:
        stdout.write(f"{args.first} and {args.second} hold the same checkpoint\n")
    else:
        stdout.writelines(f"{difference.text()}\n" for difference in result.differences)
        stdout.write(result.summary() + "\n")
    return 0 if same else 1


def differences(a: Checkpoint, b: Checkpoint) -> Iterator[str]:
    """One line per difference, as ``path: what``, in document order.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> a, b = tiny_checkpoint(), tiny_checkpoint()
    >>> a.network[1].w_q[0, 0], b.network[1].w_q[0, 0] = 0.25, 0.75
    >>> b.metadata = {"author": "b"}
    >>> for line in differences(a, b):
    ...     print(line)
    network[1].w_q: max abs difference 0.5 (1 of 16 values differ)
    metadata: absent vs present
    """
    for difference in compare(a, b).differences:
        yield difference.text()


def compare(a: Checkpoint, b: Checkpoint) -> Comparison:
    """Every difference of ``a`` and ``b``, walking the checkpoint model's fields."""
    result = Comparison()
    for name in type(a).model_fields:
        before = len(result.differences)
        _walk(name, getattr(a, name), getattr(b, name), result)
        if name != "format":
            result.sections[name] = len(result.differences) > before
    if not result.sections.get("format_version", True):
        del result.sections["format_version"]  # the same version is not worth a word
    return result


def _walk(where: str, a: Any, b: Any, result: Comparison) -> None:
    found = result.differences
    if a is None or b is None:
        if a is not b:
            found.append(Difference(where, "presence", _presence(a), _presence(b)))
        return
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        _arrays(where, a, b, result)
    elif isinstance(a, BaseModel) and isinstance(b, BaseModel):
        if type(a) is not type(b):
            found.append(Difference(where, "type", type(a).__name__, type(b).__name__))
            return
        for name in type(a).model_fields:
            _walk(f"{where}.{name}", getattr(a, name), getattr(b, name), result)
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(key for key in b if key not in a)]:
            if key in a and key in b:
                _walk(_key(where, key), a[key], b[key], result)
            else:  # a key of one map only: its value, and "absent"
                value = _plain(a.get(key, b.get(key)))
                pair = (value, None) if key in a else (None, value)
                found.append(Difference(_key(where, key), "key", *pair))
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        _sequences(where, a, b, result)
    elif _plain(a) != _plain(b) or type(a) is not type(b):
        found.append(Difference(where, "value", _plain(a), _plain(b)))


def _sequences(where: str, a: Sequence[Any], b: Sequence[Any], result: Comparison) -> None:
    items = _ITEMS.get(where.rsplit(".", 1)[-1], "entries")
    numbers = all(_is_number(x) for x in (*a, *b))
    if numbers:  # a history of losses: one line
        changed = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
        if len(a) != len(b):
            first = changed[0] if changed else min(len(a), len(b))
            result.differences.append(
                Difference(
                    where, "length", len(a), len(b), {"items": items, "first_difference": first}
                )
            )
        elif changed:
            first = changed[0]
            figures = {"entries": len(a), "entries_differ": len(changed), "first_difference": first}
            result.differences.append(Difference(where, "entries", a[first], b[first], figures))
        return
    if len(a) != len(b):
        result.differences.append(Difference(where, "length", len(a), len(b), {"items": items}))
    differing = 0
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if not (_scalar(x) and _scalar(y)):
            _walk(f"{where}[{index}]", x, y, result)  # layers, phases: field by field
        elif x != y or type(x) is not type(y):
            differing += 1
            if differing <= _SHOWN:
                result.differences.append(Difference(f"{where}[{index}]", "value", x, y))
    if differing > _SHOWN:
        result.differences.append(
            Difference(where, "more", figures={"more": differing - _SHOWN, "items": items})
        )


def _arrays(where: str, a: np.ndarray, b: np.ndarray, result: Comparison) -> None:
    result.arrays += 1
    if a.shape != b.shape:
        result.arrays_differ += 1
        result.differences.append(Difference(where, "shape", list(a.shape), list(b.shape)))
        return
    result.values += a.size
    differ = a.view(np.uint32) != b.view(np.uint32)
    changed = int(differ.sum())
    if changed:
        result.arrays_differ += 1
        result.values_differ += changed
        gap = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
        figures = {"max_abs_difference": gap, "values_differ": changed, "values": int(a.size)}
        result.differences.append(Difference(where, "array", figures=figures))


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if _IDENTIFIER.match(key) else f"{where}[{json.dumps(key)}]"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


def _plain(value: Any) -> Any:
    """A JSON-ready value (NumPy scalars as Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def _repr(value: Any) -> str:
    return repr(value)


def _presence(value: object) -> str:
    return "absent" if value is None else "present"
