"""RustGPT's own backward pass in float64, written from its source, for the oracle tests.

``rustgpt_model`` computes the true gradients of RustGPT's forward. RustGPT's backward
(``compute_gradients`` of each layer, ed58706) is not that gradient, in three places:

- SelfAttention: the softmax backward is not divided by √d (the forward divides the
  scores by it);
- LayerNorm: with x̂ = (x − μ)/(σ + ε) and g = γ·dL/dy, RustGPT computes
  dL/dx = g/(σ+ε) + (2/n)(x − μ)·V − (Σg)/(n(σ+ε)) with V = −½·Σ(g·x̂)/(σ²+ε)^{3/2}
  (plus a term in Σ(x − μ), zero but for rounding). The derivative of
  (x − μ)/√(σ²+ε) has Σ(g·(x − μ)) in V, and the derivative of the forward actually
  run, (x − μ)/(σ+ε), has −Σ(g·(x − μ))/(n(σ+ε)²σ) as the whole variance term: RustGPT's
  variance term is about 1/σ times either;
- OutputProjection: dL/db_out is the mean over positions, not the sum (and b_out moves
  by plain gradient descent, w_out by Adam).

:func:`gradients` gives both: RustGPT's (``rustgpt=True``) or the true ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Gradients = dict[tuple[int, str], np.ndarray]


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def _f64(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float64)


def _attention_scores(layer: Any, x: np.ndarray) -> tuple[np.ndarray, ...]:
    q, k, v = x @ _f64(layer.w_q), x @ _f64(layer.w_k), x @ _f64(layer.w_v)  # (T, d)
    scores = q @ k.T / np.sqrt(layer.embedding_dim)  # (T, T)
    scores[np.triu_indices(len(x), 1)] = -np.inf
    return q, k, v, _softmax(scores)


def gradients(network: Sequence[Any], token_ids: np.ndarray, *, rustgpt: bool) -> Gradients:
    """dL/dparameter for one training sequence, keyed by (layer index, parameter name).

    The loss is RustGPT's: mean cross-entropy of token i+1 given tokens ≤ i, no clipping.
    """
    inputs, targets = token_ids[:-1], token_ids[1:]
    embeddings = network[0]
    x = (
        _f64(embeddings.token_embeddings)[inputs]
        + _f64(embeddings.positional_embeddings)[: len(inputs)]
    )  # (T, d)
    seen: list[np.ndarray] = []  # the input of each layer after the embeddings
    for layer in network[1:]:
        seen.append(x)
        if layer.type == "SelfAttention":
            _, _, v, weights = _attention_scores(layer, x)
            x = weights @ v + x
        elif layer.type == "LayerNorm":
            centered = x - x.mean(axis=1, keepdims=True)
            std = x.std(axis=1, keepdims=True)
            x = _f64(layer.gamma) * centered / (std + layer.epsilon) + _f64(layer.beta)
        elif layer.type == "FeedForward":
            hidden = np.maximum(x @ _f64(layer.w1) + _f64(layer.b1), 0)  # (T, h)
            x = hidden @ _f64(layer.w2) + _f64(layer.b2) + x
        else:
            x = x @ _f64(layer.w_out) + _f64(layer.b_out)  # (T, V)
    grad = _softmax(x)
    grad[np.arange(len(targets)), targets] -= 1
    grad /= len(targets)  # dL/dlogits (T, V)
    out: Gradients = {}
    for index in range(len(network) - 1, 0, -1):
        layer, x = network[index], seen[index - 1]
        if layer.type == "OutputProjection":
            out[index, "w_out"] = x.T @ grad
            out[index, "b_out"] = (grad.mean if rustgpt else grad.sum)(axis=0, keepdims=True)
            grad = grad @ _f64(layer.w_out).T
        elif layer.type == "LayerNorm":
            grad = _layer_norm(layer, x, grad, out, index, rustgpt=rustgpt)
        elif layer.type == "FeedForward":
            pre = x @ _f64(layer.w1) + _f64(layer.b1)  # (T, h)
            out[index, "w2"] = np.maximum(pre, 0).T @ grad
            out[index, "b2"] = grad.sum(axis=0, keepdims=True)
            grad_pre = (grad @ _f64(layer.w2).T) * (pre > 0)
            out[index, "w1"] = x.T @ grad_pre
            out[index, "b1"] = grad_pre.sum(axis=0, keepdims=True)
            grad = grad_pre @ _f64(layer.w1).T + grad
        else:
            q, k, v, weights = _attention_scores(layer, x)
            grad_weights = grad @ v.T  # (T, T)
            grad_v = weights.T @ grad
            row = (weights * grad_weights).sum(axis=1, keepdims=True)
            grad_scores = weights * (grad_weights - row)
            if not rustgpt:
                grad_scores /= np.sqrt(layer.embedding_dim)
            grad_q, grad_k = grad_scores @ k, grad_scores.T @ q
            out[index, "w_q"], out[index, "w_k"] = x.T @ grad_q, x.T @ grad_k
            out[index, "w_v"] = x.T @ grad_v
            grad = (
                grad_q @ _f64(layer.w_q).T
                + grad_k @ _f64(layer.w_k).T
                + grad_v @ _f64(layer.w_v).T
                + grad
            )
    token = np.zeros(embeddings.token_embeddings.shape)
    np.add.at(token, inputs, grad)
    position = np.zeros(embeddings.positional_embeddings.shape)
    position[: len(inputs)] = grad
    out[0, "token_embeddings"], out[0, "positional_embeddings"] = token, position
    return out


def _layer_norm(
    layer: Any, x: np.ndarray, grad: np.ndarray, out: Gradients, index: int, *, rustgpt: bool
) -> np.ndarray:
    n, epsilon = x.shape[1], layer.epsilon
    centered = x - x.mean(axis=1, keepdims=True)  # (T, d)
    std = x.std(axis=1, keepdims=True)  # (T, 1)
    normalized = centered / (std + epsilon)
    out[index, "gamma"] = (normalized * grad).sum(axis=0, keepdims=True)
    out[index, "beta"] = grad.sum(axis=0, keepdims=True)
    g = _f64(layer.gamma) * grad  # dL/d(normalized)
    if not rustgpt:
        scale = std + epsilon
        coupling = (g * centered).mean(axis=1, keepdims=True) / (scale * scale * std)
        return (g - g.mean(axis=1, keepdims=True)) / scale - centered * coupling  # type: ignore[no-any-return]
    grad_var = (g * normalized).sum(axis=1, keepdims=True) * -0.5 / (std * std + epsilon) ** 1.5
    grad_mean = (
        -g.sum(axis=1, keepdims=True) / (std + epsilon)
        + grad_var * centered.sum(axis=1, keepdims=True) * -2 / n
    )
    return g / (std + epsilon) + grad_var * 2 * centered / n + grad_mean / n  # type: ignore[no-any-return]
