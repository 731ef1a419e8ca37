import math

import numpy as np
import pytest

from rustgpt_format import LayerNorm
from rustgpt_model.layers import layer_norm
from tests.rustgpt_model.reference import RELATIVE_TOLERANCE, float64_layer, layer_gradient_errors


def reference_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float
) -> np.ndarray:
    """Row by row in Python floats: (x − mean) / (population std + ε) · γ + β."""
    out = []
    for row in x.tolist():
        mean = sum(row) / len(row)
        std = math.sqrt(sum((value - mean) ** 2 for value in row) / len(row))
        out.append(
            [
                (v - mean) / (std + epsilon) * g + b
                for v, g, b in zip(row, gamma[0], beta[0], strict=True)
            ]
        )
    return np.array(out)


def make(d: int, epsilon: float, seed: int = 0) -> LayerNorm:
    rng = np.random.default_rng(seed)
    return LayerNorm(
        epsilon=epsilon,
        gamma=(1 + rng.standard_normal((1, d)) / 4).astype(np.float32),
        beta=rng.standard_normal((1, d)).astype(np.float32),
    )


# (row, epsilon, expected with γ = 1, β = 0), worked out by hand: std of [1, 2, 3, 4] is √1.25
KNOWN = [
    (
        [1.0, 2.0, 3.0, 4.0],
        1.0,
        [-0.70820393, -0.23606798, 0.23606798, 0.70820393],
    ),  # std + 1, not √(var + 1)
    ([2.0, 2.0, 2.0, 2.0], 1e-5, [0.0, 0.0, 0.0, 0.0]),  # a constant row: 0 / ε
    ([0.0, 10.0], 1e-5, [-0.99999899, 0.99999899]),  # std 5
]


@pytest.mark.parametrize(("row", "epsilon", "expected"), KNOWN)
def test_known_rows(row: list[float], epsilon: float, expected: list[float]) -> None:
    layer = LayerNorm(
        epsilon=epsilon,
        gamma=np.ones((1, len(row)), np.float32),
        beta=np.zeros((1, len(row)), np.float32),
    )
    y, _ = layer_norm.forward(layer, np.array([row], np.float32))
    np.testing.assert_allclose(y[0], expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("length", "d"), [(1, 4), (3, 16), (6, 128)])
def test_forward_matches_the_formula(length: int, d: int) -> None:
    layer = make(d, 1e-5)
    x = (np.random.default_rng(d).standard_normal((length, d)) * 3 + 1).astype(np.float32)
    y, _ = layer_norm.forward(layer, x)
    assert y.dtype == np.float32
    expected = reference_forward(
        x.astype(np.float64),
        layer.gamma.astype(np.float64),
        layer.beta.astype(np.float64),
        layer.epsilon,
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("epsilon", [1e-5, 0.5])
def test_backward_is_the_true_gradient(epsilon: float) -> None:
    rng = np.random.default_rng(3)
    layer = float64_layer("LayerNorm", rng)
    layer.epsilon = epsilon  # a large ε tells std + ε from √(var + ε) apart
    errors = layer_gradient_errors(layer_norm, layer, rng.standard_normal((4, 5)) * 2, rng)
    assert max(errors.values()) <= RELATIVE_TOLERANCE, errors


def test_backward_of_a_constant_row_is_finite() -> None:
    layer = make(4, 1e-5)
    x = np.full((1, 4), 3.0, np.float32)
    grad = LayerNorm.model_construct(
        gamma=np.zeros((1, 4), np.float32), beta=np.zeros((1, 4), np.float32)
    )
    _, cache = layer_norm.forward(layer, x)
    grad_x = layer_norm.backward(layer, cache, np.ones((1, 4), np.float32), grad)
    assert np.isfinite(grad_x).all()


def test_backward_of_a_constant_row_is_the_first_term_alone_to_the_bit() -> None:
    """std = 0: dL/dx = (g − mean(g)) / ε, the second term exactly +0 (zero signs kept)."""
    layer = LayerNorm(
        epsilon=1e-5,
        gamma=np.array([[-1.0, 1.0, 1.0, 1.0]], np.float32),
        beta=np.zeros((1, 4), np.float32),
    )
    x = np.full((2, 4), 3.0, np.float32)
    grad_output = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    grad = LayerNorm.model_construct(
        gamma=np.zeros((1, 4), np.float32), beta=np.zeros((1, 4), np.float32)
    )
    _, cache = layer_norm.forward(layer, x)
    grad_x = layer_norm.backward(layer, cache, grad_output, grad)
    g = grad_output * layer.gamma  # row 2 is [-0.0, 0, 0, 0]
    expected = (g - g.sum(axis=1, keepdims=True) / 4) / np.float32(1e-5)
    assert grad_x.dtype == np.float32
    assert grad_x.view(np.uint32).tolist() == expected.view(np.uint32).tolist()
    assert math.copysign(1, grad_x[1, 0]) == -1  # the -0.0 of g survives
