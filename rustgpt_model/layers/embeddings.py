"""Token plus learned positional embeddings (contract §5.1)."""

from __future__ import annotations

import numpy as np

from rustgpt_format import Embeddings
from rustgpt_model.ops import Array

KIND = Embeddings


def forward(layer: Embeddings, token_ids: Array) -> tuple[Array, Array]:
    """Row i = token_embeddings[token_ids[i]] + positional_embeddings[i]; the cache is the ids.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> rows, _ = forward(tiny_checkpoint().network[0], np.array([2, 0]))
    >>> rows.shape
    (2, 4)
    """
    positions = layer.positional_embeddings[: len(token_ids)]  # (T, d)
    rows: Array = layer.token_embeddings[token_ids] + positions  # (T, d)
    return rows, token_ids


def backward(layer: Embeddings, token_ids: Array, grad_output: Array, grad: Embeddings) -> None:
    """Write the gradients of both tables into ``grad`` (dense, as Adam sees them).

    The embeddings are the first layer: there is no input gradient to return.
    """
    grad.token_embeddings.fill(0)  # (V, d)
    if len(set(token_ids.tolist())) == len(token_ids):
        # each token once: its row is 0 + its gradient, as np.add.at would make it (+ 0
        # turns a -0 into +0 as that addition does) at a sixth of add.at's cost
        grad.token_embeddings[token_ids] = grad_output + 0  # (T, d)
    else:
        np.add.at(grad.token_embeddings, token_ids, grad_output)  # a repeated token's sum
    grad.positional_embeddings.fill(0)  # (L, d)
    grad.positional_embeddings[: len(token_ids)] = grad_output  # (T, d)
