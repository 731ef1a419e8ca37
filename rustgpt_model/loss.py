"""RustGPT's training objective: mean cross-entropy and its clipped output gradient."""

from __future__ import annotations

import numpy as np

from rustgpt_model.ops import Array, softmax

GRADIENT_CLIP = 5.0
"""The L2 norm of RustGPT's ``L2GradientClipping::new(5.0)``, its older clipping.

It never acts on this gradient, whose norm is at most √(2/T). The RustGPT the project
follows (ed58706) trains an ``LLM::new`` model with adaptive clipping (which scales
short sequences down, see tests/rustgpt_model/test_oracle.py) and an ``LLM::load``
model without any: training here matches the latter."""

PROBABILITY_FLOOR = 1e-15
"""RustGPT's floor under a probability before its logarithm."""


_MOST_SQUARED_ROW_NORM = 2.0 * (1 + 1e-3)
"""2, the largest ‖softmax − one_hot‖² of a row, with room for float32 rounding."""


def cross_entropy(
    logits: Array, targets: Array, *, clip: float | None = GRADIENT_CLIP
) -> tuple[float, Array]:
    """The mean cross-entropy of ``targets`` under ``logits``, and dL/dlogits.

    The gradient is (softmax − one_hot) / T, scaled down to L2 norm ``clip`` if it is
    longer (None: never). Each row of softmax − one_hot has a squared norm of at most 2
    (Σp² ≤ 1, and the target's entry loses at most 1), so the gradient's norm is at most
    √(2 / T): with RustGPT's clip of 5 it never clips, and its norm is only computed when
    that bound exceeds ``clip``.

    >>> loss, grad = cross_entropy(np.zeros((2, 4), np.float32), np.array([1, 3]))
    >>> round(loss, 6), grad[0].tolist()
    (1.386294, [0.125, -0.375, 0.125, 0.125])
    """
    probabilities = softmax(logits)  # (T, V)
    rows = np.arange(len(targets))
    picked = np.maximum(probabilities[rows, targets], PROBABILITY_FLOOR)  # (T,)
    # mean() without its Python layer, to the bit: the sum in the array's dtype, divided
    # in float64 and rounded back, as np.mean does
    total = np.add.reduce(np.negative(np.log(picked, out=picked), out=picked))
    loss = float(total.dtype.type(float(total) / len(targets)))
    grad = probabilities  # (T, V), reused in place
    grad[rows, targets] -= 1
    grad /= len(targets)
    if clip is not None and clip * clip * len(targets) <= _MOST_SQUARED_ROW_NORM:
        norm = float(np.sqrt(np.sum(grad * grad)))
        if norm > clip:
            grad *= grad.dtype.type(clip / norm)
    return loss, grad
