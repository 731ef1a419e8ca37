import numpy as np

from rustgpt_format.examples import random_checkpoint
from rustgpt_model.layers import embeddings
from rustgpt_model.network import gradient_like
from tests.rustgpt_model.reference import (
    RELATIVE_TOLERANCE,
    float64_layer,
    numeric_gradient,
    relative_error,
)


def test_forward_adds_token_and_position_rows() -> None:
    layer = random_checkpoint(vocab_size=6, embedding_dim=4, hidden_dim=4, max_seq_len=5).network[0]
    ids = np.array([3, 0, 3])
    y, cache = embeddings.forward(layer, ids)
    assert cache is ids  # the backward pass needs the ids
    for i, token in enumerate(ids):
        np.testing.assert_array_equal(
            y[i], layer.token_embeddings[token] + layer.positional_embeddings[i]
        )


def test_backward_is_the_true_gradient_with_a_repeated_token() -> None:
    rng = np.random.default_rng(7)
    layer = float64_layer("Embeddings", rng)
    ids = np.array([2, 5, 2, 0])  # token 2 twice: its row gathers both gradients
    projection = rng.standard_normal((4, 5))

    def loss() -> float:
        return float(np.sum(embeddings.forward(layer, ids)[0] * projection))

    grad = gradient_like(layer)
    grad.token_embeddings += 1  # stale values must be overwritten, not accumulated
    assert embeddings.backward(layer, ids, projection, grad) is None  # the first layer
    for name in ("token_embeddings", "positional_embeddings"):
        error = relative_error(getattr(grad, name), numeric_gradient(loss, getattr(layer, name)))
        assert error <= RELATIVE_TOLERANCE, (name, error)


def test_backward_with_each_token_once_writes_the_bits_add_at_writes() -> None:
    """Distinct tokens take a plain assignment: the bits of adding to a zero row, -0 included."""
    layer = random_checkpoint(vocab_size=6, embedding_dim=4, hidden_dim=4, max_seq_len=5).network[0]
    ids = np.array([4, 1, 3])
    grad_output = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    grad_output[1, 2] = -0.0  # 0 + (-0) is +0
    grad = gradient_like(layer)
    grad.token_embeddings += 1  # stale values must be overwritten
    embeddings.backward(layer, ids, grad_output, grad)
    expected = np.zeros_like(layer.token_embeddings)
    np.add.at(expected, ids, grad_output)
    assert grad.token_embeddings.tobytes() == expected.tobytes()
    assert not np.signbit(grad.token_embeddings[1, 2])
