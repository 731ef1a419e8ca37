"""``rustgpt-format inspect FILE [--json]``: what a checkpoint file holds, in any form."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from rustgpt_format.commands.common import add_input_options, count, name_of, read_reporting
from rustgpt_format.reading import Loaded
from rustgpt_format.report.digest import canonical_sha256  # hashed a chunk at a time

NAME = "inspect"
HELP = (
    "show a checkpoint's form, version, config, layers, sizes and the SHA-256 of its "
    "canonical JSON (the same for the same checkpoint in any form)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", type=Path, metavar="FILE", help="a checkpoint in any form (- for standard input)"
    )
    add_input_options(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    loaded = read_reporting(
        args.file, stderr, stdin=args.stdin, special=args.special_files, quiet_migration=True
    )
    if loaded is None:
        return 1
    info = summary(loaded, name_of(args.file))
    if args.json:
        # ASCII: every character a file brings is a JSON escape, none reaches the terminal
        stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        stdout.write(_text(info))
    return 0


def summary(loaded: Loaded, name: str) -> dict[str, Any]:
    """Everything ``inspect`` shows, as JSON-ready values."""
    checkpoint = loaded.checkpoint
    layers = []
    weights = optimizer_values = states = arrays = 0
    for index, layer in enumerate(checkpoint.network):
        parameters = layer.parameters()
        present = [state for state in layer.optimizers().values() if state is not None]
        parameter_count = sum(array.size for array in parameters.values())
        moments = sum(state.m.size + state.v.size for state in present)
        layers.append(
            {
                "index": index,
                "type": layer.type,
                "parameters": {name: list(array.shape) for name, array in parameters.items()},
                "parameter_count": parameter_count,
                "optimizer": {"present": len(present), "expected": len(layer.OPTIMIZERS)},
            }
        )
        weights += parameter_count
        arrays += len(parameters)
        optimizer_values += moments
        states += len(present)
    training = checkpoint.training
    return {
        "file": name,
        "size": loaded.size,
        "form": loaded.form,
        "pretty": loaded.pretty,
        "format": "rustgpt-checkpoint",
        "version": loaded.version,
        "dialect": loaded.dialect,
        "config": checkpoint.config.model_dump(),
        "layers": layers,
        "weights": {"arrays": arrays, "values": weights, "bytes": 4 * weights},
        "optimizer": {"states": states, "values": optimizer_values, "bytes": 4 * optimizer_values},
        "training": None
        if training is None
        else {
            "epochs_completed": training.epochs_completed,
            "steps_completed": training.steps_completed,
            "epochs_scheduled": sum(phase.epochs for phase in training.schedule),
        },
        "metadata": checkpoint.metadata,
        "sha256": canonical_sha256(checkpoint),
    }


def _text(info: dict[str, Any]) -> str:
    form = info["form"] + (" (pretty)" if info["pretty"] else "")
    own = "RustGPT's own bincode" if info["form"] == "rustgpt.bin" else "RustGPT's own JSON"
    version = (
        f"{own} (version 0), read as format 1.0"
        if info["dialect"] == "rustgpt"
        else f"{info['format']} {info['version']}"
    )
    config = ", ".join(f"{key} {value}" for key, value in info["config"].items())
    lines = [
        f"file        {info['file']} ({count(info['size'])} bytes, {form})",
        f"format      {version}",
        f"config      {config}",
        f"sha256      {info['sha256']} (canonical JSON)",
        "",
        f"{'index':>5}  {'type':<16}  {'parameter shapes':<60}  {'count':>9}  optimizer",
    ]
    for layer in info["layers"]:
        shapes = ", ".join(
            f"{name} ({rows}, {cols})" for name, (rows, cols) in layer["parameters"].items()
        )
        lines.append(
            f"{layer['index']:>5}  {layer['type']:<16}  {shapes:<60}  "
            f"{count(layer['parameter_count']):>9}  "
            f"{layer['optimizer']['present']}/{layer['optimizer']['expected']}"
        )
    weights, optimizer = info["weights"], info["optimizer"]
    training = info["training"]
    lines += [
        "",
        f"weights     {count(weights['values'])} values in {weights['arrays']} arrays "
        f"({count(weights['bytes'])} bytes as float32)",
        f"optimizer   {count(optimizer['values'])} values in {optimizer['states']} Adam states "
        f"({count(optimizer['bytes'])} bytes as float32)",
        "training    none"
        if training is None
        else f"training    {training['epochs_completed']} of {training['epochs_scheduled']} "
        f"epochs, {count(training['steps_completed'])} steps",
    ]
    if info["metadata"]:
        lines.append(
            "metadata    "
            + ", ".join(
                f"{key}: {json.dumps(value, ensure_ascii=False)}"
                for key, value in info["metadata"].items()
            )
        )
    return "\n".join(lines) + "\n"
