"""ReLU feed-forward with the residual (contract §5.3)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rustgpt_format import FeedForward
from rustgpt_model.ops import Array, times_transposed

KIND = FeedForward


class Cache(NamedTuple):
    """What the backward pass needs from the forward pass."""

    x: Array  # (T, d)
    hidden: Array  # (T, h) after the ReLU


def forward(layer: FeedForward, x: Array) -> tuple[Array, Cache]:
    """ReLU(X w1 + b1) w2 + b2 + X.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> y, cache = forward(tiny_checkpoint().network[3], np.ones((2, 4), np.float32))
    >>> y.shape, cache.hidden.shape
    ((2, 4), (2, 8))
    """
    hidden = x @ layer.w1  # (T, h)
    hidden += layer.b1
    np.maximum(hidden, 0, out=hidden)
    y: Array = hidden @ layer.w2  # (T, d)
    y += layer.b2
    y += x  # the residual
    return y, Cache(x, hidden)


def backward(layer: FeedForward, cache: Cache, grad_output: Array, grad: FeedForward) -> Array:
    """Write dL/dw1, dL/db1, dL/dw2, dL/db2 into ``grad``; return dL/dX."""
    x, hidden = cache
    np.matmul(hidden.T, grad_output, out=grad.w2)  # (h, d)
    np.add.reduce(grad_output, axis=0, keepdims=True, out=grad.b2)  # (1, d)
    grad_hidden = np.ascontiguousarray(times_transposed(grad_output, layer.w2))  # (T, h)
    grad_hidden *= hidden > 0  # ReLU'(z) = 1 where z > 0, and ReLU(z) > 0 exactly there
    np.matmul(x.T, grad_hidden, out=grad.w1)  # (d, h)
    np.add.reduce(grad_hidden, axis=0, keepdims=True, out=grad.b1)  # (1, h)
    # (T, d), + the residual
    grad_x: Array = np.add(times_transposed(grad_hidden, layer.w1), grad_output)
    return grad_x
