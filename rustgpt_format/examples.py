"""Checkpoints with random values, for examples, tests and benchmarks (no training)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rustgpt_format.models import (
    END_OF_SEQUENCE,
    LAYER_KINDS,
    AdamState,
    Checkpoint,
    LayerBase,
    ModelConfig,
    Vocab,
)

BLOCK = ("SelfAttention", "LayerNorm", "FeedForward", "LayerNorm")
"""RustGPT's transformer block, as layer kinds in forward order."""


def random_checkpoint(
    *,
    vocab_size: int = 400,
    embedding_dim: int = 128,
    hidden_dim: int = 256,
    max_seq_len: int = 80,
    middle: Sequence[str] = BLOCK * 3,
    optimizer: bool = True,
    seed: int = 0,
) -> Checkpoint:
    """A valid checkpoint of the given sizes filled with random normal values.

    The defaults are RustGPT's: d = 128, h = 256, L = 80, three blocks, V = 400.

    >>> random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=8, max_seq_len=3).config
    ModelConfig(embedding_dim=4, hidden_dim=8, max_seq_len=3, vocab_size=5)
    """
    rng = np.random.default_rng(seed)
    d, h, V, L = embedding_dim, hidden_dim, vocab_size, max_seq_len
    shapes = {"d": d, "h": h, "V": V, "L": L, "1": 1}

    def array(shape: tuple[int, int]) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.1)

    def adam(shape: tuple[int, int]) -> AdamState | None:
        if not optimizer:
            return None
        state = AdamState.fresh(shape)
        state.timestep = int(rng.integers(0, 1000))
        state.m, state.v = array(shape), np.abs(array(shape)) * np.float32(0.01)
        return state

    def layer(kind: type[LayerBase]) -> LayerBase:
        fields: dict[str, object] = kind.scalar_defaults(shapes)
        for name, symbols in kind.SHAPES.items():
            fields[name] = array((shapes[symbols[0]], shapes[symbols[1]]))
        for optimizer_name, parameter in kind.OPTIMIZERS.items():
            fields[optimizer_name] = adam(fields[parameter].shape)  # type: ignore[attr-defined]
        return kind(**fields)

    def kind_named(position: str, name: str | None = None) -> type[LayerBase]:
        kinds = [
            kind
            for tag, kind in LAYER_KINDS.items()
            if position == kind.POSITION and name in (None, tag)
        ]
        if not kinds:
            known = [tag for tag, k in LAYER_KINDS.items() if k.POSITION == "middle"]
            raise ValueError(
                f"middle: expected {', '.join(known[:-1])} or {known[-1]}, found {name!r}"
            )
        return kinds[0]

    network = [
        layer(kind_named("first")),
        *(layer(kind_named("middle", name)) for name in middle),
        layer(kind_named("last")),
    ]
    words = [f"w{index}" for index in range(V - 1)] + [END_OF_SEQUENCE]
    return Checkpoint(
        config=ModelConfig(embedding_dim=d, hidden_dim=h, max_seq_len=L, vocab_size=V),
        vocab=Vocab(words=tuple(words)),
        network=network,
    )


def tiny_checkpoint() -> Checkpoint:
    """A complete checkpoint small enough to read: V = 3, d = 4, h = 8, L = 2, one block."""
    return random_checkpoint(
        vocab_size=3, embedding_dim=4, hidden_dim=8, max_seq_len=2, middle=BLOCK, seed=1
    )
