import gc
import math
import weakref

import numpy as np
import pytest

from rustgpt_format import SelfAttention
from rustgpt_format.examples import random_checkpoint
from rustgpt_model.layers import attention
from rustgpt_model.network import gradient_like
from tests.rustgpt_model.reference import RELATIVE_TOLERANCE, float64_layer, layer_gradient_errors


def reference_forward(
    w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Position by position: out_i = Σ_{j≤i} softmax_j(q_i·k_j / √d) v_j + x_i, in float64."""
    x = x.astype(np.float64)
    q, k, v = x @ w_q.astype(np.float64), x @ w_k.astype(np.float64), x @ w_v.astype(np.float64)
    out = np.empty_like(x)
    for i in range(len(x)):
        scores = [float(q[i] @ k[j]) / math.sqrt(x.shape[1]) for j in range(i + 1)]
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        out[i] = sum(w / total * v[j] for j, w in enumerate(weights)) + x[i]
    return out


@pytest.mark.parametrize("length", [1, 2, 7])
def test_forward_matches_the_formula(length: int) -> None:
    layer = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=4, max_seq_len=8).network[1]
    x = np.random.default_rng(length).standard_normal((length, 8), dtype=np.float32)
    y, _ = attention.forward(layer, x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(
        y, reference_forward(layer.w_q, layer.w_k, layer.w_v, x), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("scale", [1.0, 1000.0])  # 1000: scores near 1e5, masked all the same
def test_a_position_does_not_see_later_positions(scale: float) -> None:
    layer = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=4, max_seq_len=8).network[1]
    x = np.random.default_rng(0).standard_normal((5, 8), dtype=np.float32) * np.float32(scale)
    changed = x.copy()
    changed[3:] += 1  # only positions 3 and 4 change
    np.testing.assert_array_equal(
        attention.forward(layer, x)[0][:3], attention.forward(layer, changed)[0][:3]
    )


@pytest.mark.parametrize("length", [1, 3, 6])
def test_backward_is_the_true_gradient(length: int) -> None:
    rng = np.random.default_rng(10 + length)
    layer = float64_layer("SelfAttention", rng)
    errors = layer_gradient_errors(attention, layer, rng.standard_normal((length, 5)), rng)
    assert max(errors.values()) <= RELATIVE_TOLERANCE, errors


# where w_q, w_k, w_v (and their gradients) lie in a buffer of four (8, 8) blocks: (block,
# transposed), and whether the three are then one stacked (3, 8, 8) view
LAYOUTS = [
    (((0, False), (1, False), (2, False)), True),  # as Adam's buffers lay them out
    (((1, False), (2, False), (3, False)), True),  # the same, not at the buffer's start
    (((0, False), (1, False), (3, False)), False),  # w_v not right after w_k
    (((0, False), (2, False), (1, False)), False),  # w_k and w_v swapped
    (((0, False), (1, True), (2, False)), False),  # w_k in its place, but transposed
]


def laid_out(target: SelfAttention, layout: tuple[tuple[int, bool], ...]) -> None:
    """Move ``target``'s three arrays into one buffer, as ``layout`` says (values kept)."""
    buffer = np.zeros(4 * 64, np.float32)
    for (block, transposed), name in zip(layout, ("w_q", "w_k", "w_v"), strict=True):
        view = buffer[64 * block : 64 * (block + 1)].reshape(8, 8)
        view = view.T if transposed else view
        view[...] = getattr(target, name)
        setattr(target, name, view)


@pytest.mark.parametrize(("layout", "stacked"), LAYOUTS)
def test_weights_side_by_side_in_one_buffer_give_the_same_bits(
    layout: tuple[tuple[int, bool], ...], stacked: bool
) -> None:
    """Adam's buffers lay w_q, w_k, w_v one after another: the stacked products are used,
    and only then."""
    layer = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=4, max_seq_len=8).network[1]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 8), dtype=np.float32)
    grad_output = rng.standard_normal((6, 8), dtype=np.float32)
    apart, apart_grad = layer.model_copy(deep=True), gradient_like(layer)
    together, together_grad = layer.model_copy(deep=True), gradient_like(layer)
    for target in (together, together_grad):
        laid_out(target, layout)
    found = attention._stacked(together.w_q, together.w_k, together.w_v)
    assert (found is not None) == stacked
    assert attention._stacked(apart.w_q, apart.w_k, apart.w_v) is None
    y_apart, cache_apart = attention.forward(apart, x)
    y_together, cache_together = attention.forward(together, x)
    np.testing.assert_array_equal(y_together, y_apart)
    dx_apart = attention.backward(apart, cache_apart, grad_output, apart_grad)
    dx_together = attention.backward(together, cache_together, grad_output, together_grad)
    assert dx_together.dtype == dx_apart.dtype == np.float32  # float32 throughout
    np.testing.assert_array_equal(dx_together, dx_apart)
    for name in ("w_q", "w_k", "w_v"):
        np.testing.assert_array_equal(getattr(together_grad, name), getattr(apart_grad, name))


@pytest.mark.parametrize(("name", "by"), [("w_k", "new"), ("w_v", "new"), ("w_k", "w_v")])
def test_a_weight_replaced_after_a_forward_pass_is_the_one_used(name: str, by: str) -> None:
    layer = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=4, max_seq_len=8).network[1]
    x = np.random.default_rng(4).standard_normal((5, 8), dtype=np.float32)
    laid_out(layer, ((0, False), (1, False), (2, False)))
    attention.forward(layer, x)  # the stacked view of the three is known now
    new = np.random.default_rng(5).standard_normal((8, 8), dtype=np.float32)
    setattr(layer, name, new if by == "new" else getattr(layer, by))  # or another of its own
    apart = layer.model_copy(deep=True)
    for field in ("w_q", "w_k", "w_v"):
        setattr(apart, field, getattr(layer, field).copy())
    np.testing.assert_array_equal(attention.forward(layer, x)[0], attention.forward(apart, x)[0])


def test_no_stacked_view_outlives_its_weights() -> None:
    layer = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=4, max_seq_len=8).network[1]
    laid_out(layer, ((0, False), (1, False), (2, False)))
    attention.forward(layer, np.ones((2, 8), np.float32))
    buffer, key = weakref.ref(layer.w_q.base), id(layer.w_q)
    assert key in attention._STACKS
    del layer
    gc.collect()
    assert buffer() is None  # nothing kept the weights' buffer alive
    assert key not in attention._STACKS
