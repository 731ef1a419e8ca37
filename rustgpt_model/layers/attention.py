"""Single-head causal self-attention with the residual (contract §5.2)."""

from __future__ import annotations

import math
import weakref
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from rustgpt_format import SelfAttention
from rustgpt_model.ops import Array, softmax, times_transposed

KIND = SelfAttention


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


@cache
def _scale(embedding_dim: int, dtype: np.dtype[Any]) -> Any:
    """sqrt(d) in ``dtype``, as RustGPT's ``(d as f32).sqrt()``."""
    return dtype.type(math.sqrt(embedding_dim))


def forward(layer: SelfAttention, x: Array) -> tuple[Array, Cache]:
    """softmax(mask(Q Kᵀ / √d)) V + X with Q = X w_q, K = X w_k, V = X w_v.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> y, _ = forward(tiny_checkpoint().network[1], np.ones((2, 4), np.float32))
    >>> y.shape, y.dtype
    ((2, 4), dtype('float32'))
    """
    stacked = _stacked(layer.w_q, layer.w_k, layer.w_v)
    if stacked is not None:
        q, k, v = np.matmul(x, stacked)  # (3, T, d): one call for the three products
    else:
        q, k, v = x @ layer.w_q, x @ layer.w_k, x @ layer.w_v  # (T, d) each
    scores = q @ k.T  # (T, T)
    scores /= _scale(layer.embedding_dim, x.dtype)
    scores += _causal_mask(len(x), x.dtype)
    weights = softmax(scores, out=scores)  # (T, T)
    y: Array = weights @ v  # (T, d)
    y += x
    return y, Cache(x, q, k, v, weights)


def backward(layer: SelfAttention, cache: Cache, grad_output: Array, grad: SelfAttention) -> Array:
    """Write dL/dw_q, dL/dw_k, dL/dw_v into ``grad``; return dL/dX.

    The true gradient of :func:`forward`, the 1/√d of the scores included.
    """
    x, q, k, v, weights = cache
    grads = np.empty((3, *x.shape), x.dtype)  # dL/dQ, dL/dK, dL/dV, (T, d) each
    np.matmul(weights.T, grad_output, out=grads[2])
    grad_weights = grad_output @ v.T  # (T, T)
    # softmax: dS = A ⊙ (dA − rowsum(dA ⊙ A)); masked entries have A = 0, so dS = 0 there
    row = np.einsum("ij,ij->i", grad_weights, weights)[:, None]  # (T, 1)
    grad_weights -= row
    grad_weights *= weights
    grad_weights /= _scale(layer.embedding_dim, x.dtype)  # now dL/d(Q Kᵀ)
    np.matmul(grad_weights, k, out=grads[0])
    np.matmul(grad_weights.T, q, out=grads[1])
    into = _stacked(grad.w_q, grad.w_k, grad.w_v)
    if into is not None:
        np.matmul(x.T, grads, out=into)  # (3, d, d)
    else:
        for index, name in enumerate(("w_q", "w_k", "w_v")):
            np.matmul(x.T, grads[index], out=getattr(grad, name))  # (d, d)
    stacked = _stacked(layer.w_q, layer.w_k, layer.w_v)
    if stacked is None:
        stacked = np.stack((layer.w_q, layer.w_k, layer.w_v))
    # Σ_i grads[i] @ w_iᵀ, summed in that order
    products = times_transposed(grads, stacked)  # (3, T, d)
    grad_x: Array = np.add(np.add.reduce(products, axis=0), grad_output)  # + the residual
    return grad_x


_STACKS: dict[int, tuple[weakref.ref[Array], Array, Array, Array | None]] = {}
"""id(first array) → (first, second, third, their stacked view or None), see :func:`_stacked`.

An entry goes when its first array does (the weak reference's callback); it holds the
other two and the view, none of which keep the first array alive."""


def _stacked(first: Array, second: Array, third: Array) -> Array | None:
    """The (3, n, m) view of three (n, m) arrays that lie one after another in memory.

    Adam's flat buffers lay w_q, w_k and w_v (and their gradients) out so; then one
    stacked product does the work of three. None when they lie apart (a checkpoint
    straight from a file, the float64 layers of the gradient checks).
    """
    key = id(first)
    known = _STACKS.get(key)
    if known is not None and known[0]() is first and known[1] is second and known[2] is third:
        return known[3]
    stacked = _stack_view(first, second, third)
    _STACKS[key] = (
        weakref.ref(first, lambda _, key=key: _STACKS.pop(key, None)),  # type: ignore[misc]
        second,
        third,
        stacked,
    )
    return stacked


def _stack_view(first: Array, second: Array, third: Array) -> Array | None:
    base = first.base
    if not (
        isinstance(base, np.ndarray)
        and base.flags.c_contiguous
        and second.base is base
        and third.base is base
        and all(
            a.flags.c_contiguous and a.shape == first.shape and a.dtype == first.dtype
            for a in (first, second, third)
        )
    ):
        return None
    at = first.__array_interface__["data"][0]
    if (
        second.__array_interface__["data"][0] != at + first.nbytes
        or third.__array_interface__["data"][0] != at + 2 * first.nbytes
    ):
        return None
    # a view of the buffer itself, not of ``first``: it must not keep ``first`` alive
    offset = at - base.__array_interface__["data"][0]
    return np.ndarray(
        (3, *first.shape),
        first.dtype,
        buffer=base,
        offset=offset,
        strides=(first.nbytes, *first.strides),
    )
