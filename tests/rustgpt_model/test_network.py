import numpy as np
import pytest

from rustgpt_format.examples import BLOCK, random_checkpoint
from rustgpt_model import network
from rustgpt_model.loss import cross_entropy
from tests.rustgpt_model.reference import (
    RELATIVE_TOLERANCE,
    float64_layer,
    numeric_gradient,
    relative_error,
)


def float64_network(rng: np.random.Generator, blocks: int) -> list:
    kinds = ["Embeddings", *BLOCK * blocks, "OutputProjection"]
    return [float64_layer(kind, rng, d=4, h=6, V=7, L=6) for kind in kinds]


@pytest.mark.parametrize("blocks", [1, 2])
def test_end_to_end_gradient_of_the_mean_cross_entropy(blocks: int) -> None:
    rng = np.random.default_rng(blocks)
    layers = float64_network(rng, blocks)
    ids = np.array([1, 4, 4, 0, 6, 2])
    inputs, targets = ids[:-1], ids[1:]

    def loss() -> float:
        logits, _ = network.forward(layers, inputs)
        return cross_entropy(logits, targets, clip=None)[0]

    logits, caches = network.forward(layers, inputs)
    _, grad_logits = cross_entropy(logits, targets, clip=None)
    grads = [network.gradient_like(layer) for layer in layers]
    network.backward(layers, caches, grad_logits, grads)
    errors = {
        f"network[{index}].{name}": relative_error(
            getattr(grad, name), numeric_gradient(loss, getattr(layer, name))
        )
        for index, (layer, grad) in enumerate(zip(layers, grads, strict=True))
        for name in layer.SHAPES
    }
    assert len(errors) == 2 + 11 * blocks + 2  # 3 + 2 + 4 + 2 arrays per block
    assert max(errors.values()) <= RELATIVE_TOLERANCE, errors


def test_forward_runs_in_float32_end_to_end() -> None:
    ckpt = random_checkpoint(vocab_size=7, embedding_dim=8, hidden_dim=16, max_seq_len=6)
    logits, caches = network.forward(ckpt.network, np.array([0, 1, 2]))
    assert (logits.shape, logits.dtype, len(caches)) == ((3, 7), np.float32, len(ckpt.network))
