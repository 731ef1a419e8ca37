"""Text generation: RustGPT's greedy decoding, or sampling with a seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rustgpt_format import END_OF_SEQUENCE, Checkpoint, OutputProjection
from rustgpt_model import network
from rustgpt_model.ops import Array
from rustgpt_model.threads import single_blas_thread


def next_logits(checkpoint: Checkpoint, token_ids: Sequence[int]) -> Array:
    """The logits (V,) of the token that follows ``token_ids``."""
    hidden, _ = network.forward(checkpoint.network[:-1], np.asarray(token_ids, np.intp))  # (T, d)
    output = checkpoint.network[-1]
    assert isinstance(output, OutputProjection)
    return hidden[-1] @ output.w_out + output.b_out[0]  # type: ignore[no-any-return]  # (V,)


def generate(
    checkpoint: Checkpoint,
    prompt_ids: Sequence[int],
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
) -> list[int]:
    """The tokens that continue ``prompt_ids``, up to ``</s>`` (included) or L in all.

    Greedy (RustGPT's argmax, the last of equal maxima) unless ``temperature``,
    ``top_k`` or ``top_p`` is given; then tokens are sampled from
    softmax(logits / temperature) (temperature 1 by default) restricted to the
    ``top_k`` most likely and to the smallest set whose probability reaches ``top_p``,
    from a generator seeded with ``seed``. A prompt that is empty, or already L tokens
    long, has no continuation.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> len(generate(tiny_checkpoint(), [0])) <= 1  # L = 2: one token at most
    True
    """
    _check_sampling(temperature, top_k, top_p)
    sampling = temperature is not None or top_k is not None or top_p is not None
    rng = np.random.default_rng(seed)
    end = checkpoint.vocab.encode(END_OF_SEQUENCE)
    tokens = list(prompt_ids)
    produced: list[int] = []
    while tokens and len(tokens) < checkpoint.config.max_seq_len:
        with single_blas_thread():
            logits = next_logits(checkpoint, tokens)  # (V,)
        if sampling:
            token = _sample(logits, rng, temperature or 1.0, top_k, top_p)
        else:
            token = last_argmax(logits)
        produced.append(token)
        tokens.append(token)
        if token == end:
            break
    return produced


def last_argmax(logits: Array) -> int:
    """The index of the largest logit, the last one among equals (RustGPT's greedy pick).

    RustGPT picks with Rust's ``Iterator::max_by``, which returns the last of several
    equal maxima, where ``np.argmax`` returns the first.

    >>> last_argmax(np.array([0.5, 2.0, 2.0, 1.0], np.float32))
    2
    """
    return len(logits) - 1 - int(np.argmax(logits[::-1]))


def _check_sampling(temperature: float | None, top_k: int | None, top_p: float | None) -> None:
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature: expected a number > 0, found {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k: expected an integer >= 1, found {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p: expected a number in (0, 1], found {top_p}")


def _sample(
    logits: Array,
    rng: np.random.Generator,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
) -> int:
    scaled = logits.astype(np.float64) / temperature  # (V,)
    probabilities = np.exp(scaled - scaled.max())
    probabilities /= probabilities.sum()
    order = np.argsort(-probabilities, kind="stable")  # most likely first
    keep = len(order) if top_k is None else min(top_k, len(order))
    if top_p is not None:
        cumulative = np.cumsum(probabilities[order])
        keep = min(keep, int(np.searchsorted(cumulative, top_p)) + 1)
    chosen = order[:keep]
    weights = probabilities[chosen] / probabilities[chosen].sum()
    return int(chosen[rng.choice(keep, p=weights)])
