"""The table from layer kind to kernel module (issue 9: one table, derived from the union)."""

import sys
import types
from typing import Any, ClassVar, get_args

import numpy as np
import pytest

from rustgpt_format import Layer, LayerNorm, SelfAttention
from rustgpt_format.examples import random_checkpoint
from rustgpt_format.models import LAYER_KINDS
from rustgpt_model import layers, network


def test_every_kind_of_the_union_has_a_kernel_with_both_passes() -> None:
    kinds = get_args(get_args(Layer)[0])  # Annotated[A | B | ..., ...]
    assert layers.layer_kinds() == kinds == tuple(LAYER_KINDS.values())
    assert set(layers.KERNELS) == set(kinds)
    for kind, module in layers.KERNELS.items():
        assert module.KIND is kind
        assert callable(module.forward) and callable(module.backward)


def test_a_layer_of_a_kind_without_a_kernel_is_named() -> None:
    class RMSNorm:  # a kind the union does not have
        pass

    with pytest.raises(TypeError) as caught:
        network.forward([RMSNorm()], np.array([0]))  # type: ignore[list-item]
    assert str(caught.value).startswith("no kernel for layer kind RMSNorm (kernels exist for ")


def test_a_kernel_registered_from_outside_runs_forward_and_backward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A toy kind, its kernel made here: the network runs it with no edit to the package."""

    class Doubling:
        SHAPES: ClassVar[dict[str, Any]] = {}
        OPTIMIZERS: ClassVar[dict[str, Any]] = {}

    toy = types.ModuleType("toy_kernel")
    toy.KIND = Doubling  # type: ignore[attr-defined]
    toy.forward = lambda layer, x: (2 * x, None)  # type: ignore[attr-defined]
    toy.backward = lambda layer, cache, grad, target: 2 * grad  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "toy_kernel", toy)
    monkeypatch.setattr(layers, "KERNELS", dict(layers.KERNELS))
    layers.register(toy)

    ckpt = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=6, max_seq_len=4)
    ids = np.array([1, 2, 1])
    doubled: list[Any] = [*ckpt.network, Doubling()]  # logits doubled at the end
    logits, caches = network.forward(ckpt.network, ids)
    doubled_logits, doubled_caches = network.forward(doubled, ids)
    np.testing.assert_array_equal(doubled_logits, 2 * logits)

    grad_logits = np.random.default_rng(0).standard_normal(logits.shape).astype(np.float32)
    grads = [network.gradient_like(layer) for layer in ckpt.network]
    network.backward(ckpt.network, caches, 2 * grad_logits, grads)
    through = [*(network.gradient_like(layer) for layer in ckpt.network), Doubling()]
    network.backward(doubled, doubled_caches, grad_logits, through)
    for expected, found in zip(grads, through, strict=False):
        for name in expected.SHAPES:
            np.testing.assert_array_equal(getattr(found, name), getattr(expected, name))


def test_gradient_like_takes_the_scalar_fields_from_the_class() -> None:
    ckpt = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=6, max_seq_len=4)
    attention, norm = ckpt.network[1], ckpt.network[2]
    assert isinstance(attention, SelfAttention) and isinstance(norm, LayerNorm)
    grad = network.gradient_like(attention)
    assert (grad.type, grad.embedding_dim, grad.optimizer_w_q) == ("SelfAttention", 4, None)
    assert grad.w_q.shape == (4, 4) and not grad.w_q.any()
    grad = network.gradient_like(norm)
    assert (grad.type, grad.epsilon, grad.optimizer_gamma) == ("LayerNorm", norm.epsilon, None)
    assert set(grad.model_fields_set) == {"type", "epsilon", "gamma", "beta"}
