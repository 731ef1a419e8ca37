"""A new model with RustGPT's initial distributions, seeded: same seed, same bytes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from rustgpt_format import (
    AdamState,
    Checkpoint,
    Embeddings,
    FeedForward,
    Layer,
    LayerNorm,
    ModelConfig,
    OutputProjection,
    SelfAttention,
    Vocab,
)
from rustgpt_model.ops import Array

LAYER_NORM_EPSILON = 1e-5
"""RustGPT's ε of every LayerNorm."""


def new_checkpoint(
    vocab_words: Sequence[str],
    *,
    embedding_dim: int = 128,
    hidden_dim: int = 256,
    max_seq_len: int = 80,
    num_blocks: int = 3,
    seed: int = 0,
) -> Checkpoint:
    """A freshly initialised checkpoint with zeroed Adam state.

    Embeddings are N(0, 0.02); weight matrices He-normal, N(0, √(2 / fan_in)); biases
    and β zero; γ one. Arrays are drawn in network order from one seeded generator.

    >>> ckpt = new_checkpoint(["a", "</s>"], embedding_dim=4, hidden_dim=8, num_blocks=1)
    >>> [layer.type for layer in ckpt.network]
    ['Embeddings', 'SelfAttention', 'LayerNorm', 'FeedForward', 'LayerNorm', 'OutputProjection']
    """
    if num_blocks < 0:
        raise ValueError(f"num_blocks: expected a count >= 0, found {num_blocks}")
    rng = np.random.default_rng(seed)
    d, h, L, V = embedding_dim, hidden_dim, max_seq_len, len(vocab_words)

    def normal(shape: tuple[int, int], std: float) -> Array:
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    def zeros(shape: tuple[int, int]) -> Array:
        return np.zeros(shape, np.float32)

    he_d, he_h = math.sqrt(2.0 / d), math.sqrt(2.0 / h)
    token, position = normal((V, d), 0.02), normal((L, d), 0.02)
    network: list[Layer] = [
        Embeddings(
            token_embeddings=token,
            positional_embeddings=position,
            token_optimizer=AdamState.fresh(token.shape),
            positional_optimizer=AdamState.fresh(position.shape),
        )
    ]
    for _ in range(num_blocks):
        w_q, w_k, w_v = normal((d, d), he_d), normal((d, d), he_d), normal((d, d), he_d)
        network.append(
            SelfAttention(
                embedding_dim=d,
                w_q=w_q,
                w_k=w_k,
                w_v=w_v,
                optimizer_w_q=AdamState.fresh((d, d)),
                optimizer_w_k=AdamState.fresh((d, d)),
                optimizer_w_v=AdamState.fresh((d, d)),
            )
        )
        network.append(_layer_norm(d))
        network.append(
            FeedForward(
                w1=normal((d, h), he_d),
                b1=zeros((1, h)),
                w2=normal((h, d), he_h),
                b2=zeros((1, d)),
                optimizer_w1=AdamState.fresh((d, h)),
                optimizer_b1=AdamState.fresh((1, h)),
                optimizer_w2=AdamState.fresh((h, d)),
                optimizer_b2=AdamState.fresh((1, d)),
            )
        )
        network.append(_layer_norm(d))
    network.append(
        OutputProjection(
            w_out=normal((d, V), he_d), b_out=zeros((1, V)), optimizer=AdamState.fresh((d, V))
        )
    )
    return Checkpoint(
        config=ModelConfig(embedding_dim=d, hidden_dim=h, max_seq_len=L, vocab_size=V),
        vocab=Vocab(words=tuple(vocab_words)),
        network=network,
    )


def vocab_init(embedding_dim: int, *, seed: int = 0) -> Callable[[str, tuple[int, int]], Array]:
    """New vocabulary rows and columns drawn as :func:`new_checkpoint` draws the arrays.

    For :func:`rustgpt_format.edit.extend_vocab`: ``token_embeddings`` rows N(0, 0.02),
    ``w_out`` columns He-normal N(0, √(2 / d)), anything else (``b_out``) zero; from one
    generator seeded with ``seed``, in the order asked (same seed, same bytes).

    >>> init = vocab_init(4, seed=1)
    >>> init("token_embeddings", (2, 4)).shape, init("b_out", (1, 2)).any()
    ((2, 4), np.False_)
    """
    rng = np.random.default_rng(seed)
    stds = {"token_embeddings": 0.02, "w_out": math.sqrt(2.0 / embedding_dim)}

    def init(name: str, shape: tuple[int, int]) -> Array:
        if name not in stds:
            return np.zeros(shape, np.float32)
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(stds[name])

    return init


def _layer_norm(d: int) -> LayerNorm:
    return LayerNorm(
        epsilon=LAYER_NORM_EPSILON,
        gamma=np.ones((1, d), np.float32),
        beta=np.zeros((1, d), np.float32),
        optimizer_gamma=AdamState.fresh((1, d)),
        optimizer_beta=AdamState.fresh((1, d)),
    )
