"""What a report shows, gathered from a checkpoint, or from what parses of an invalid file.

A valid checkpoint is read through its models. An invalid file's document (when its
JSON parses) is read leniently: every value is checked for its type here before it is
used, and what does not fit is left out, so a hostile document shows what it can and
never raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rustgpt_format import (
    Checkpoint,
    Embeddings,
    FeedForward,
    LayerNorm,
    OutputProjection,
    SelfAttention,
)
from rustgpt_format.errors import Problem
from rustgpt_format.report.stats import Change, Summary, adam_step, change, summarize

_KINDS = {
    kind.__name__: kind
    for kind in (Embeddings, SelfAttention, FeedForward, LayerNorm, OutputProjection)
}


@dataclass(frozen=True)
class Subject:
    """A file to report on: its checkpoint when valid, else its problems and document."""

    name: str
    checkpoint: Checkpoint | None = None
    document: Any = None
    """The parsed JSON of an invalid file, when it parses (shown as far as it goes)."""
    problems: tuple[Problem, ...] = ()
    form: str = ""
    version: str = ""
    size: int | None = None
    notes: tuple[str, ...] = ()
    """Warnings of the reader (a migration, ignored keys of a newer version)."""


@dataclass(frozen=True)
class Moments:
    """An Adam state: its hyper-parameters, its moments and the step they make."""

    name: str
    m: Summary
    v: Summary
    step: Summary | None
    """None: no step taken yet (timestep 0), or hyper-parameters unreadable."""
    beta1: float | None
    beta2: float | None
    epsilon: float | None
    timestep: int | None


@dataclass(frozen=True)
class ArrayView:
    """One parameter array, its Adam state, and its change from the earlier checkpoint."""

    path: str
    name: str
    summary: Summary
    adam: Moments | None = None
    change: Change | None = None


@dataclass(frozen=True)
class LayerView:
    """One layer in forward order."""

    index: int
    kind: str
    arrays: tuple[ArrayView, ...]
    scalars: tuple[tuple[str, str], ...] = ()

    @property
    def parameters(self) -> int:
        return sum(array.summary.size for array in self.arrays)


@dataclass(frozen=True)
class Phase:
    name: str
    epochs: int
    learning_rate: float | None


@dataclass(frozen=True)
class Training:
    schedule: tuple[Phase, ...]
    losses: tuple[float, ...]
    epochs_completed: int | None
    steps_completed: int | None
    seed: int | None


@dataclass(frozen=True)
class Content:
    """Everything the page shows about one file."""

    subject: Subject
    config: dict[str, object]
    words: tuple[str, ...] | None
    layers: tuple[LayerView, ...]
    training: Training | None
    metadata: dict[str, str]
    version: str = ""
    digest: str | None = None
    skipped: tuple[str, ...] = field(default=())
    """Parts of an invalid document that could not be shown, by path."""


def from_checkpoint(
    subject: Subject, *, digest: str | None = None, changes: dict[str, Change] | None = None
) -> Content:
    """The content of a valid checkpoint (``subject.checkpoint``)."""
    checkpoint = subject.checkpoint
    assert checkpoint is not None
    changes = changes or {}
    layers = []
    for index, layer in enumerate(checkpoint.network):
        states = {parameter: name for name, parameter in layer.OPTIMIZERS.items()}
        arrays = []
        for name, array in layer.parameters().items():
            path = f"network[{index}].{name}"
            state_name = states.get(name)
            state = getattr(layer, state_name) if state_name else None
            adam = None
            if state is not None and state_name is not None:
                adam = _moments(
                    state_name, state.m, state.v, state.beta1, state.beta2, state.epsilon,
                    state.timestep,
                )  # fmt: skip
            arrays.append(ArrayView(path, name, summarize(array), adam, changes.get(path)))
        scalars = tuple(
            (key, _scalar(getattr(layer, key)))
            for key in type(layer).model_fields
            if key != "type" and key not in layer.SHAPES and key not in layer.OPTIMIZERS
        )
        layers.append(LayerView(index, layer.type, tuple(arrays), scalars))
    training = None
    if checkpoint.training is not None:
        state = checkpoint.training
        training = Training(
            tuple(Phase(p.name, p.epochs, p.learning_rate) for p in state.schedule),
            tuple(state.loss_history),
            state.epochs_completed,
            state.steps_completed,
            state.seed,
        )
    return Content(
        subject=subject,
        config=checkpoint.config.model_dump(),
        words=checkpoint.vocab.words,
        layers=tuple(layers),
        training=training,
        metadata=dict(checkpoint.metadata or {}),
        version=subject.version or f"{checkpoint.format} {checkpoint.format_version}",
        digest=digest,
    )


def _moments(
    name: str, m: np.ndarray, v: np.ndarray, beta1: Any, beta2: Any, epsilon: Any, timestep: Any
) -> Moments:
    readable = (
        all(_is_number(x) for x in (beta1, beta2, epsilon))
        and _is_int(timestep)
        and m.shape == v.shape
        and 0 <= beta1 < 1
        and 0 <= beta2 < 1
        and epsilon > 0
    )
    step = (
        adam_step(m, v, beta1=beta1, beta2=beta2, epsilon=epsilon, timestep=timestep)
        if readable
        else None
    )
    return Moments(
        name,
        summarize(m),
        summarize(v),
        step,
        float(beta1) if _is_number(beta1) else None,
        float(beta2) if _is_number(beta2) else None,
        float(epsilon) if _is_number(epsilon) else None,
        int(timestep) if _is_int(timestep) else None,
    )


def from_document(subject: Subject) -> Content:
    """The content of an invalid file's parsed document, as far as it can be shown."""
    document = subject.document if isinstance(subject.document, dict) else {}
    skipped: list[str] = []
    config = document.get("config")
    vocab = document.get("vocab")
    words = vocab.get("words") if isinstance(vocab, dict) else None
    network = document.get("network")
    layers = []
    if isinstance(network, list):
        for index, layer in enumerate(network):
            view = _layer(index, layer, skipped)
            if view is not None:
                layers.append(view)
    elif network is not None:
        skipped.append("network")
    metadata = document.get("metadata")
    version = " ".join(
        value
        for value in (document.get("format"), document.get("format_version"))
        if isinstance(value, str)
    )
    return Content(
        subject=subject,
        config=dict(config) if isinstance(config, dict) else {},
        words=tuple(w for w in words if isinstance(w, str)) if isinstance(words, list) else None,
        layers=tuple(layers),
        training=_training(document.get("training")),
        version=version or subject.version,
        metadata={str(k): _scalar(v) for k, v in metadata.items()}
        if isinstance(metadata, dict)
        else {},
        skipped=tuple(skipped),
    )


def _layer(index: int, layer: Any, skipped: list[str]) -> LayerView | None:
    where = f"network[{index}]"
    if not isinstance(layer, dict):
        skipped.append(where)
        return None
    kind = layer.get("type")
    if kind is None and len(layer) == 1:  # RustGPT's own JSON: {"SelfAttention": {...}}
        kind, inner = next(iter(layer.items()))
        layer = inner if isinstance(inner, dict) else {}
    kind = kind if isinstance(kind, str) else "(no type)"
    known = _KINDS.get(kind)
    names = list(known.SHAPES) if known else [k for k in layer if _array(layer[k]) is not None]
    optimizers = {p: o for o, p in known.OPTIMIZERS.items()} if known else {}
    arrays = []
    for name in names:
        array = _array(layer.get(name))
        if array is None:
            skipped.append(f"{where}.{name}")
            continue
        adam = None
        state = layer.get(optimizers.get(name, ""))
        if isinstance(state, dict):
            m, v = _array(state.get("m")), _array(state.get("v"))
            if m is not None and v is not None:
                adam = _moments(
                    optimizers[name], m, v, state.get("beta1"), state.get("beta2"),
                    state.get("epsilon"), state.get("timestep"),
                )  # fmt: skip
            else:
                skipped.append(f"{where}.{optimizers[name]}")
        arrays.append(ArrayView(f"{where}.{name}", name, summarize(array), adam))
    scalars = tuple(
        (str(k), _scalar(v))
        for k, v in layer.items()
        if k != "type" and (_is_number(v) or isinstance(v, str))
    )
    return LayerView(index, kind, tuple(arrays), scalars)


def _training(value: Any) -> Training | None:
    if not isinstance(value, dict):
        return None
    schedule = value.get("schedule")
    phases = []
    for phase in schedule if isinstance(schedule, list) else []:
        if isinstance(phase, dict) and _is_int(phase.get("epochs")):
            rate = phase.get("learning_rate")
            phases.append(
                Phase(
                    str(phase.get("name", "")), phase["epochs"], rate if _is_number(rate) else None
                )
            )
    history = value.get("loss_history")
    losses = tuple(
        float(x)
        for x in (history if isinstance(history, list) else [])
        if _is_number(x) and math.isfinite(x)
    )
    completed, steps, seed = (value.get(k) for k in ("epochs_completed", "steps_completed", "seed"))
    return Training(
        tuple(phases),
        losses,
        completed if _is_int(completed) else None,
        steps if _is_int(steps) else None,
        seed if _is_int(seed) else None,
    )


def _array(value: Any) -> np.ndarray | None:
    """A decoded ``{"v": 1, "dim": [r, c], "data": [...]}`` as an ndarray, or None."""
    if not isinstance(value, dict):
        return None
    dim, data = value.get("dim"), value.get("data")
    if not (isinstance(dim, list) and len(dim) == 2 and all(_is_int(n) and n >= 0 for n in dim)):
        return None
    if not isinstance(data, np.ndarray) or data.dtype != np.float32 or data.size != dim[0] * dim[1]:
        return None
    return data.reshape(dim[0], dim[1])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A finite number that fits a float (a JSON integer may have any number of digits)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _scalar(value: Any) -> str:
    """A scalar as text; a float32 value by its shortest float32 text (1e-05, not 9.99e-06)."""
    if isinstance(value, float) and math.isfinite(value) and float(np.float32(value)) == value:
        return str(np.float32(value))
    return str(value)


def architecture_difference(before: Checkpoint, after: Checkpoint) -> str | None:
    """The first way two checkpoints' architectures differ, or None when they agree.

    >>> from rustgpt_format.examples import random_checkpoint
    >>> architecture_difference(random_checkpoint(), random_checkpoint(hidden_dim=64))
    'network[3].w1: shape (128, 256) vs (128, 64)'
    """
    if len(before.network) != len(after.network):
        return f"network: {len(before.network)} layers vs {len(after.network)}"
    for index, (b, a) in enumerate(zip(before.network, after.network, strict=True)):
        if b.type != a.type:
            return f"network[{index}]: {b.type} vs {a.type}"
        for name, array in b.parameters().items():
            other = getattr(a, name)
            if array.shape != other.shape:
                return f"network[{index}].{name}: shape {array.shape} vs {other.shape}"
    return None


def array_changes(before: Checkpoint, after: Checkpoint) -> dict[str, Change]:
    """Per parameter array (by path), how ``after`` differs from ``before``."""
    found = {}
    for index, (b, a) in enumerate(zip(before.network, after.network, strict=True)):
        for name, array in b.parameters().items():
            found[f"network[{index}].{name}"] = change(array, getattr(a, name))
    return found
