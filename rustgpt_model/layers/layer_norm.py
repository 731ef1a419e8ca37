"""RustGPT's LayerNorm: (x − mean) / (std + ε) · γ + β per row (contract §5.4).

Note ``std + ε`` with the population std, not ``sqrt(var + ε)``: the backward pass
below differentiates that exact formula.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rustgpt_format import LayerNorm
from rustgpt_model.ops import Array


class Cache(NamedTuple):
    """What the backward pass needs from the forward pass."""

    centered: Array  # (T, d) x − mean
    std: Array  # (T, 1) population standard deviation
    normalized: Array  # (T, d) centered / (std + ε)


def forward(layer: LayerNorm, x: Array) -> tuple[Array, Cache]:
    """Normalise each row of ``x`` and apply γ and β.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> y, _ = forward(tiny_checkpoint().network[2], np.arange(8, dtype=np.float32).reshape(2, 4))
    >>> y.shape
    (2, 4)
    """
    centered = x - _row_mean(x)  # (T, d)
    std = np.sqrt(_row_mean(centered * centered))  # (T, 1)
    normalized = centered / (std + x.dtype.type(layer.epsilon))  # (T, d)
    y: Array = layer.gamma * normalized  # (T, d)
    y += layer.beta
    return y, Cache(centered, std, normalized)


def backward(layer: LayerNorm, cache: Cache, grad_output: Array, grad: LayerNorm) -> Array:
    """Write dL/dγ and dL/dβ into ``grad``; return dL/dX.

    With c = x − mean, s = std + ε and g = dL/dy · γ, per row of width d:
    dL/dx = (g − mean(g)) / s − c · mean(g · c) / (s² · std).
    A row with std = 0 has c = 0, and its second term is taken as 0.
    """
    centered, std, normalized = cache
    np.add.reduce(grad_output * normalized, axis=0, keepdims=True, out=grad.gamma)  # (1, d)
    np.add.reduce(grad_output, axis=0, keepdims=True, out=grad.beta)  # (1, d)
    g = grad_output * layer.gamma  # (T, d)
    scale = std + std.dtype.type(layer.epsilon)  # (T, 1)
    safe_std = np.where(std > 0, std, 1)  # (T, 1)
    coupling = _row_mean(g * centered) / (scale * scale * safe_std)  # (T, 1)
    grad_x: Array = g - _row_mean(g)  # (T, d)
    grad_x /= scale
    grad_x -= centered * coupling
    return grad_x


def _row_mean(x: Array) -> Array:
    """x.mean(axis=1, keepdims=True), to the bit, without np.mean's Python overhead."""
    total: Array = np.add.reduce(x, axis=1, keepdims=True)  # (T, 1)
    total /= x.dtype.type(x.shape[1])
    return total
