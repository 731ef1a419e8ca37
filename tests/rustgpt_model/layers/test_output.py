import numpy as np

from rustgpt_format.examples import random_checkpoint
from rustgpt_model.layers import output
from tests.rustgpt_model.reference import RELATIVE_TOLERANCE, float64_layer, layer_gradient_errors


def test_forward_matches_the_formula() -> None:
    layer = random_checkpoint(vocab_size=9, embedding_dim=8, hidden_dim=4, max_seq_len=8).network[
        -1
    ]
    x = np.random.default_rng(0).standard_normal((3, 8), dtype=np.float32)
    logits, _ = output.forward(layer, x)
    expected = [
        [
            sum(float(x[t, k]) * float(layer.w_out[k, v]) for k in range(8))
            + float(layer.b_out[0, v])
            for v in range(9)
        ]
        for t in range(3)
    ]
    assert logits.dtype == np.float32
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_backward_is_the_true_gradient() -> None:
    rng = np.random.default_rng(5)
    layer = float64_layer("OutputProjection", rng)
    errors = layer_gradient_errors(output, layer, rng.standard_normal((4, 5)), rng)
    assert max(errors.values()) <= RELATIVE_TOLERANCE, errors


def test_the_bias_gradient_is_the_sum_over_positions() -> None:
    rng = np.random.default_rng(6)
    layer = float64_layer("OutputProjection", rng)
    grad = float64_layer("OutputProjection", rng)
    grad_output = rng.standard_normal((4, 6))
    output.backward(layer, rng.standard_normal((4, 5)), grad_output, grad)
    np.testing.assert_allclose(grad.b_out[0], grad_output.sum(axis=0), rtol=1e-12)
