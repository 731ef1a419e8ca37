"""The output projection to vocabulary logits (contract §5.5)."""

from __future__ import annotations

import numpy as np

from rustgpt_format import OutputProjection
from rustgpt_model.ops import Array

KIND = OutputProjection


def forward(layer: OutputProjection, x: Array) -> tuple[Array, Array]:
    """Logits X w_out + b_out; the cache is X.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> logits, _ = forward(tiny_checkpoint().network[-1], np.ones((2, 4), np.float32))
    >>> logits.shape
    (2, 3)
    """
    logits: Array = x @ layer.w_out  # (T, V)
    logits += layer.b_out
    return logits, x


def backward(
    layer: OutputProjection, x: Array, grad_output: Array, grad: OutputProjection
) -> Array:
    """Write dL/dw_out and dL/db_out into ``grad``; return dL/dX.

    dL/db_out is the sum over positions (the true gradient), not RustGPT's mean.
    """
    np.matmul(x.T, grad_output, out=grad.w_out)  # (d, V)
    np.add.reduce(grad_output, axis=0, keepdims=True, out=grad.b_out)  # (1, V)
    grad_x: Array = grad_output @ layer.w_out.T  # (T, d)
    return grad_x
