import numpy as np
import pytest

from rustgpt_format.examples import random_checkpoint
from rustgpt_model.layers import feed_forward
from tests.rustgpt_model.reference import RELATIVE_TOLERANCE, float64_layer, layer_gradient_errors


def reference_forward(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> np.ndarray:
    """Element by element: out[t, j] = Σ_i max(0, Σ_k x[t,k] w1[k,i] + b1[i]) w2[i,j] + b2[j] + x[t,j]."""
    x, w1, b1, w2, b2 = (a.astype(np.float64) for a in (x, w1, b1, w2, b2))
    hidden = np.einsum("tk,ki->ti", x, w1) + b1[0]
    hidden[hidden < 0] = 0
    return np.einsum("ti,ij->tj", hidden, w2) + b2[0] + x


@pytest.mark.parametrize("length", [1, 5])
def test_forward_matches_the_formula(length: int) -> None:
    layer = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=12, max_seq_len=8).network[
        3
    ]
    x = np.random.default_rng(length).standard_normal((length, 8), dtype=np.float32)
    y, _ = feed_forward.forward(layer, x)
    assert y.dtype == np.float32
    expected = reference_forward(x, layer.w1, layer.b1, layer.w2, layer.b2)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("length", [1, 4])
def test_backward_is_the_true_gradient(length: int) -> None:
    rng = np.random.default_rng(20 + length)
    layer = float64_layer("FeedForward", rng)
    errors = layer_gradient_errors(feed_forward, layer, rng.standard_normal((length, 5)), rng)
    assert max(errors.values()) <= RELATIVE_TOLERANCE, errors
