"""The whole network: the layers of a checkpoint run in order, and back again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rustgpt_format import (
    Embeddings,
    FeedForward,
    Layer,
    LayerNorm,
    OutputProjection,
    SelfAttention,
)
from rustgpt_model.layers import attention, embeddings, feed_forward, layer_norm, output
from rustgpt_model.ops import Array


def forward(network: Sequence[Layer], token_ids: Array) -> tuple[Array, list[Any]]:
    """The logits (T, V) of ``token_ids`` and each layer's cache for :func:`backward`.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> logits, caches = forward(tiny_checkpoint().network, np.array([0, 2]))
    >>> logits.shape, len(caches)
    ((2, 3), 6)
    """
    caches: list[Any] = [token_ids]
    x = embeddings.forward(network[0], token_ids)  # type: ignore[arg-type]  # (T, d)
    for layer in network[1:]:
        cache: Any
        if isinstance(layer, SelfAttention):
            x, cache = attention.forward(layer, x)
        elif isinstance(layer, LayerNorm):
            x, cache = layer_norm.forward(layer, x)
        elif isinstance(layer, FeedForward):
            x, cache = feed_forward.forward(layer, x)
        elif isinstance(layer, OutputProjection):
            x, cache = output.forward(layer, x)
        else:
            raise TypeError(f"unexpected layer {type(layer).__name__} after the embeddings")
        caches.append(cache)
    return x, caches


def backward(
    network: Sequence[Layer],
    caches: Sequence[Any],
    grad_logits: Array,
    grads: Sequence[Layer],
) -> None:
    """Write dL/dparameter of every layer into ``grads`` (layers of the same kinds).

    ``grad_logits`` is dL/dlogits (T, V); ``caches`` is what :func:`forward` returned.
    """
    grad = grad_logits
    for index in range(len(network) - 1, 0, -1):
        layer, cache, target = network[index], caches[index], grads[index]
        if isinstance(layer, SelfAttention):
            grad = attention.backward(layer, cache, grad, target)  # type: ignore[arg-type]
        elif isinstance(layer, LayerNorm):
            grad = layer_norm.backward(layer, cache, grad, target)  # type: ignore[arg-type]
        elif isinstance(layer, FeedForward):
            grad = feed_forward.backward(layer, cache, grad, target)  # type: ignore[arg-type]
        elif isinstance(layer, OutputProjection):
            grad = output.backward(layer, cache, grad, target)  # type: ignore[arg-type]
    first = network[0]
    assert isinstance(first, Embeddings)
    embeddings.backward(first, caches[0], grad, grads[0])  # type: ignore[arg-type]


def gradient_like(layer: Layer, dtype: np.dtype[Any] | None = None) -> Layer:
    """A layer of the same kind whose arrays are zeros of its parameters' shapes.

    It holds gradients: :func:`backward` writes into its arrays.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> gradient_like(tiny_checkpoint().network[1]).w_q.any()
    np.False_
    """
    arrays = {
        name: np.zeros(value.shape, dtype or value.dtype)
        for name, value in layer.parameters().items()
    }
    scalars = {name: getattr(layer, name) for name in _SCALARS if name in type(layer).model_fields}
    fields: dict[str, Any] = {**scalars, **arrays}
    return type(layer).model_construct(**fields)


_SCALARS = ("type", "embedding_dim", "epsilon")
