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


def test_backward_tells_each_layer_done_from_the_last_to_the_first() -> None:
    ckpt = random_checkpoint(vocab_size=7, embedding_dim=8, hidden_dim=16, max_seq_len=6)
    logits, caches = network.forward(ckpt.network, np.array([0, 1, 2]))
    _, grad_logits = cross_entropy(logits, np.array([1, 2, 3]))
    grads = [network.gradient_like(layer) for layer in ckpt.network]
    done: list[int] = []
    network.backward(ckpt.network, caches, grad_logits, grads, layer_done=done.append)
    assert done == list(range(len(ckpt.network) - 1, -1, -1))


def test_a_layer_that_ends_the_backward_pass_early_is_named() -> None:
    ckpt = random_checkpoint(vocab_size=7, embedding_dim=8, hidden_dim=16, max_seq_len=6)
    attention, embeddings = ckpt.network[1], ckpt.network[0]
    rows, cache = network.forward([embeddings], np.array([0, 1, 2]))
    grads = [network.gradient_like(attention), network.gradient_like(embeddings)]
    with pytest.raises(TypeError) as caught:  # the Embeddings at index 1 returns no dL/dX
        network.backward([attention, embeddings], [None, cache[0]], rows, grads)
    assert str(caught.value) == "network[1]: only the first layer may end the backward pass"


def test_a_gradient_has_the_layers_scalars_zero_arrays_and_no_optimizers() -> None:
    ckpt = random_checkpoint(vocab_size=7, embedding_dim=8, hidden_dim=16, max_seq_len=6)
    for layer in ckpt.network:
        for dtype, expected in [(None, np.float32), (np.dtype(np.float64), np.float64)]:
            grad = network.gradient_like(layer, dtype)
            assert type(grad) is type(layer)
            for name, value in layer.parameters().items():
                array = getattr(grad, name)
                assert (array.shape, array.dtype, array.any()) == (value.shape, expected, False)
            for name in layer.OPTIMIZERS:
                assert getattr(layer, name) is not None and getattr(grad, name) is None, name
    attention, norm = ckpt.network[1], ckpt.network[2]
    assert network.gradient_like(attention).embedding_dim == attention.embedding_dim == 8
    assert network.gradient_like(norm).epsilon == norm.epsilon
    assert network.gradient_like(norm).type == "LayerNorm"
