"""RustGPT's training objective: mean cross-entropy and its clipped output gradient."""

from __future__ import annotations

import numpy as np

from rustgpt_model.ops import Array, softmax

GRADIENT_CLIP = 5.0
"""RustGPT clips the gradient of the logits to this L2 norm."""

PROBABILITY_FLOOR = 1e-15
"""RustGPT's floor under a probability before its logarithm."""


def cross_entropy(
    logits: Array, targets: Array, *, clip: float | None = GRADIENT_CLIP
) -> tuple[float, Array]:
    """The mean cross-entropy of ``targets`` under ``logits``, and dL/dlogits.

    The gradient is (softmax − one_hot) / T, scaled down to L2 norm ``clip`` if it is
    longer (None: never).

    >>> loss, grad = cross_entropy(np.zeros((2, 4), np.float32), np.array([1, 3]))
    >>> round(loss, 6), grad[0].tolist()
    (1.386294, [0.125, -0.375, 0.125, 0.125])
    """
    probabilities = softmax(logits)  # (T, V)
    rows = np.arange(len(targets))
    picked = np.maximum(probabilities[rows, targets], PROBABILITY_FLOOR)  # (T,)
    loss = float(-np.log(picked).mean())
    grad = probabilities  # (T, V), reused in place
    grad[rows, targets] -= 1
    grad /= grad.dtype.type(len(targets))
    if clip is not None:
        norm = float(np.sqrt(np.sum(grad * grad)))
        if norm > clip:
            grad *= grad.dtype.type(clip / norm)
    return loss, grad
