"""RustGPT's LayerNorm: (x − mean) / (std + ε) · γ + β per row (contract §5.4).

Note ``std + ε`` with the population std, not ``sqrt(var + ε)``: the backward pass
below differentiates that exact formula.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rustgpt_format import LayerNorm
from rustgpt_model.ops import Array

KIND = LayerNorm


class Cache(NamedTuple):
    """What the backward pass needs from the forward pass."""

    centered: Array  # (T, d) x − mean
    std: Array  # (T, 1) population standard deviation
    scale: Array  # (T, 1) std + ε
    normalized: Array  # (T, d) centered / (std + ε)


def forward(layer: LayerNorm, x: Array) -> tuple[Array, Cache]:
    """Normalise each row of ``x`` and apply γ and β.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> y, _ = forward(tiny_checkpoint().network[2], np.arange(8, dtype=np.float32).reshape(2, 4))
    >>> y.shape
    (2, 4)
    """
    width = x.shape[1]  # a Python int: each division rounds it to x's dtype, as before
    mean = np.add.reduce(x, axis=1, keepdims=True)  # (T, 1)
    mean /= width
    centered = x - mean  # (T, d)
    work = centered * centered  # (T, d), then reused for y
    std = np.add.reduce(work, axis=1, keepdims=True)  # (T, 1)
    std /= width
    np.sqrt(std, out=std)
    scale = std + layer.epsilon  # (T, 1); ε a Python float, rounded to x's dtype
    normalized = centered / scale  # (T, d)
    y: Array = np.multiply(normalized, layer.gamma, out=work)  # (T, d)
    y += layer.beta
    return y, Cache(centered, std, scale, normalized)


def backward(layer: LayerNorm, cache: Cache, grad_output: Array, grad: LayerNorm) -> Array:
    """Write dL/dγ and dL/dβ into ``grad``; return dL/dX.

    With c = x − mean, s = std + ε and g = dL/dy · γ, per row of width d:
    dL/dx = (g − mean(g)) / s − c · mean(g · c) / (s² · std).
    A row with std = 0 has c = 0, and its second term is taken as 0.
    """
    centered, std, scale, normalized = cache
    width = grad_output.shape[1]
    work = grad_output * normalized  # (T, d), reused below
    np.add.reduce(work, axis=0, keepdims=True, out=grad.gamma)  # (1, d)
    np.add.reduce(grad_output, axis=0, keepdims=True, out=grad.beta)  # (1, d)
    g: Array = grad_output * layer.gamma  # (T, d), becomes dL/dx
    safe_std = std + (std == 0)  # (T, 1): std, or 1 where it is 0 (adding 0 changes no bit)
    np.multiply(g, centered, out=work)
    coupling = np.add.reduce(work, axis=1, keepdims=True)  # (T, 1)
    coupling /= width
    coupling /= scale * scale * safe_std  # mean(g · c) / (s² · std)
    mean_g = np.add.reduce(g, axis=1, keepdims=True)  # (T, 1)
    mean_g /= width
    g -= mean_g
    g /= scale
    np.multiply(centered, coupling, out=work)
    g -= work
    return g
