"""The whole network: the layers of a checkpoint run in order, and back again.

Each layer runs through the kernel of its kind (:data:`rustgpt_model.layers.KERNELS`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rustgpt_format import Layer
from rustgpt_model.layers import kernel
from rustgpt_model.ops import Array


def forward(network: Sequence[Layer], token_ids: Array) -> tuple[Array, list[Any]]:
    """The output of the last layer for ``token_ids`` (the logits (T, V) for a whole
    network) and each layer's cache for :func:`backward`.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> logits, caches = forward(tiny_checkpoint().network, np.array([0, 2]))
    >>> logits.shape, len(caches)
    ((2, 3), 6)
    """
    caches: list[Any] = []
    x = token_ids
    for layer in network:
        x, cache = kernel(layer).forward(layer, x)
        caches.append(cache)
    return x, caches


def backward(
    network: Sequence[Layer],
    caches: Sequence[Any],
    grad_logits: Array,
    grads: Sequence[Layer],
    *,
    layer_done: Callable[[int], None] | None = None,
) -> None:
    """Write dL/dparameter of every layer into ``grads`` (layers of the same kinds).

    ``grad_logits`` is dL/dlogits (T, V); ``caches`` is what :func:`forward` returned.
    ``layer_done(index)`` is called as soon as layer ``index``'s gradient is written, from
    the last layer to the first; the pass no longer reads that layer's parameters then,
    so it may update them (:meth:`rustgpt_model.adam.FusedAdam.layer_done`).
    """
    grad: Array | None = grad_logits
    for index in range(len(network) - 1, -1, -1):
        if grad is None:
            raise TypeError(f"network[{index + 1}]: only the first layer may end the backward pass")
        layer = network[index]
        grad = kernel(layer).backward(layer, caches[index], grad, grads[index])
        if layer_done is not None:
            layer_done(index)


def gradient_like(layer: Layer, dtype: np.dtype[Any] | None = None) -> Layer:
    """A layer of the same kind whose arrays are zeros of its parameters' shapes.

    It holds gradients: :func:`backward` writes into its arrays. Its scalar fields
    (``type``, ``embedding_dim``, ``epsilon``, ...: every field that is neither an array
    nor an optimizer) are the layer's; its optimizers are left unset.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> gradient_like(tiny_checkpoint().network[1]).w_q.any()
    np.False_
    """
    kind = type(layer)
    arrays = {
        name: np.zeros(value.shape, dtype or value.dtype)
        for name, value in layer.parameters().items()
    }
    scalars = {
        name: getattr(layer, name)
        for name in kind.model_fields
        if name not in kind.SHAPES and name not in kind.OPTIMIZERS
    }
    fields: dict[str, Any] = {**scalars, **arrays}
    return kind.model_construct(**fields)
