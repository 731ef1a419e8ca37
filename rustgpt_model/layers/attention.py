"""Single-head causal self-attention with the residual (contract §5.2)."""

from __future__ import annotations

import math
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from rustgpt_format import SelfAttention
from rustgpt_model.ops import Array, softmax


class Cache(NamedTuple):
    """What the backward pass needs from the forward pass."""

    x: Array  # (T, d)
    q: Array  # (T, d)
    k: Array  # (T, d)
    v: Array  # (T, d)
    weights: Array  # (T, T) attention probabilities, zero above the diagonal


@cache
def _causal_mask(length: int, dtype: np.dtype[Any]) -> Array:
    """0 where position i may see position j (j <= i), -inf elsewhere."""
    mask = np.zeros((length, length), dtype)  # (T, T)
    mask[np.triu_indices(length, 1)] = -np.inf
    mask.flags.writeable = False
    return mask


def _scale(layer: SelfAttention, x: Array) -> Array:
    """sqrt(d) in the dtype of ``x``, as RustGPT's ``(d as f32).sqrt()``."""
    return x.dtype.type(math.sqrt(layer.embedding_dim))  # type: ignore[no-any-return]


def forward(layer: SelfAttention, x: Array) -> tuple[Array, Cache]:
    """softmax(mask(Q Kᵀ / √d)) V + X with Q = X w_q, K = X w_k, V = X w_v.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> y, _ = forward(tiny_checkpoint().network[1], np.ones((2, 4), np.float32))
    >>> y.shape, y.dtype
    ((2, 4), dtype('float32'))
    """
    q = x @ layer.w_q  # (T, d)
    k = x @ layer.w_k  # (T, d)
    v = x @ layer.w_v  # (T, d)
    scores = q @ k.T  # (T, T)
    scores /= _scale(layer, x)
    scores += _causal_mask(len(x), x.dtype)
    weights = softmax(scores)  # (T, T)
    y: Array = weights @ v  # (T, d)
    y += x
    return y, Cache(x, q, k, v, weights)


def backward(layer: SelfAttention, cache: Cache, grad_output: Array, grad: SelfAttention) -> Array:
    """Write dL/dw_q, dL/dw_k, dL/dw_v into ``grad``; return dL/dX.

    The true gradient of :func:`forward`, the 1/√d of the scores included.
    """
    x, q, k, v, weights = cache
    grad_v = weights.T @ grad_output  # (T, d)
    grad_weights = grad_output @ v.T  # (T, T)
    # softmax: dS = A ⊙ (dA − rowsum(dA ⊙ A)); masked entries have A = 0, so dS = 0 there
    row = np.einsum("ij,ij->i", grad_weights, weights)[:, None]  # (T, 1)
    grad_weights -= row
    grad_weights *= weights
    grad_weights /= _scale(layer, x)  # now dL/d(Q Kᵀ)
    grad_q = grad_weights @ k  # (T, d)
    grad_k = grad_weights.T @ q  # (T, d)
    np.matmul(x.T, grad_q, out=grad.w_q)  # (d, d)
    np.matmul(x.T, grad_k, out=grad.w_k)  # (d, d)
    np.matmul(x.T, grad_v, out=grad.w_v)  # (d, d)
    grad_x: Array = grad_q @ layer.w_q.T  # (T, d)
    grad_x += grad_k @ layer.w_k.T
    grad_x += grad_v @ layer.w_v.T
    grad_x += grad_output  # the residual
    return grad_x
