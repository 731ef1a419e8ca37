"""Independent references for the model tests: float64 layers and central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rustgpt_format import Embeddings, FeedForward, LayerNorm, OutputProjection, SelfAttention

RELATIVE_TOLERANCE = 1e-5
STEP = 1e-6


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / max(‖a‖, ‖n‖), 0 when both are zero."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    return float(np.linalg.norm(analytic - numeric) / scale) if scale else 0.0


def numeric_gradient(loss: Callable[[], float], array: np.ndarray) -> np.ndarray:
    """Central differences of ``loss()`` with respect to every element of ``array``."""
    grad = np.zeros_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for index in range(flat.size):
        saved = flat[index]
        flat[index] = saved + STEP
        plus = loss()
        flat[index] = saved - STEP
        minus = loss()
        flat[index] = saved
        out[index] = (plus - minus) / (2 * STEP)
    return grad


def float64_layer(
    kind: str, rng: np.random.Generator, d: int = 5, h: int = 7, V: int = 6, L: int = 8
) -> Any:
    """A layer of ``kind`` with random float64 arrays (built without validation)."""

    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape)

    if kind == "Embeddings":
        return Embeddings.model_construct(
            token_embeddings=normal(V, d), positional_embeddings=normal(L, d)
        )
    if kind == "SelfAttention":
        return SelfAttention.model_construct(
            embedding_dim=d, w_q=normal(d, d), w_k=normal(d, d), w_v=normal(d, d)
        )
    if kind == "LayerNorm":
        return LayerNorm.model_construct(
            epsilon=1e-5, gamma=1 + normal(1, d) / 2, beta=normal(1, d)
        )
    if kind == "FeedForward":
        return FeedForward.model_construct(
            w1=normal(d, h), b1=normal(1, h), w2=normal(h, d), b2=normal(1, d)
        )
    if kind == "OutputProjection":
        return OutputProjection.model_construct(w_out=normal(d, V), b_out=normal(1, V))
    raise ValueError(kind)


def layer_gradient_errors(
    module: Any, layer: Any, x: np.ndarray, rng: np.random.Generator
) -> dict[str, float]:
    """Relative error of ``module.backward`` against central differences, per array.

    The scalar checked is sum(forward(x) ⊙ R) for a fixed random R, so dL/dy = R.
    """
    from rustgpt_model.network import gradient_like

    y, cache = module.forward(layer, x)
    projection = rng.standard_normal(y.shape)

    def loss() -> float:
        return float(np.sum(module.forward(layer, x)[0] * projection))

    grad = gradient_like(layer)
    grad_x = module.backward(layer, cache, projection.copy(), grad)
    errors = {
        name: relative_error(getattr(grad, name), numeric_gradient(loss, getattr(layer, name)))
        for name in layer.SHAPES
    }
    errors["x"] = relative_error(grad_x, numeric_gradient(loss, x))
    return errors
