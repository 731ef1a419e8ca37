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
    logits = _project(x, layer.w_out)  # (T, V)
    logits += layer.b_out
    return logits, x


_COLUMNS = 64
"""Logits are computed in blocks of this many columns (see :func:`_project`)."""


def _project(x: Array, w_out: Array) -> Array:
    """X w_out, each block of 64 columns as the same (T, d) x (d, 64) product.

    BLAS picks its kernel (and so the rounding of a column) by the whole product's
    shape: one product over all V columns would change a word's logit in the last bits
    when the vocabulary grows. With blocks of one fixed shape (the last one padded with
    zeros, a single row doubled so that no block becomes a matrix-vector product) a
    column's logit depends on X and its own column only, so ``extend_vocab`` keeps every
    old logit to the bit. The full blocks are views of w_out and the products are written
    straight into the logits' rows, so only the last block is copied: BLAS takes those
    row strides as its leading dimensions, which pick no kernel and change no rounding
    (OpenBLAS's case; ``test_old_logits_keep_their_bits_when_the_vocabulary_grows``
    checks it, each new V moving every stride).
    """
    d, V = w_out.shape
    count, full = -(-V // _COLUMNS), V // _COLUMNS
    rows = x if x.shape[0] > 1 else np.concatenate([x, x])  # (T', d)
    out = np.empty((len(rows), count * _COLUMNS), w_out.dtype)  # (T', n·64)
    out_blocks = out.reshape(len(rows), count, _COLUMNS).transpose(1, 0, 2)  # (n, T', 64) view
    blocks = w_out[:, : full * _COLUMNS].reshape(d, full, _COLUMNS).transpose(1, 0, 2)  # view
    np.matmul(rows, blocks, out=out_blocks[:full])
    if V % _COLUMNS:
        last = np.zeros((d, _COLUMNS), w_out.dtype)  # (d, 64)
        last[:, : V % _COLUMNS] = w_out[:, full * _COLUMNS :]
        np.matmul(rows, last, out=out_blocks[full])
    return np.ascontiguousarray(out[: len(x), :V])  # (T, V)


def backward(
    layer: OutputProjection, x: Array, grad_output: Array, grad: OutputProjection
) -> Array:
    """Write dL/dw_out and dL/db_out into ``grad``; return dL/dX.

    dL/db_out is the sum over positions (the true gradient), not RustGPT's mean.
    """
    np.matmul(x.T, grad_output, out=grad.w_out)  # (d, V)
    np.add.reduce(grad_output, axis=0, keepdims=True, out=grad.b_out)  # (1, V)
    # G Wᵀ as (W Gᵀ)ᵀ: BLAS computes that faster here, to the same bits
    grad_x: Array = np.ascontiguousarray((layer.w_out @ grad_output.T).T)  # (T, d)
    return grad_x
