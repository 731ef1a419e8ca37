"""RustGPT's row softmax: subtract the row maximum, exp, normalise; in place on request."""

import math

import numpy as np
import pytest

from rustgpt_model.ops import softmax, times_transposed


def test_rows_are_the_softmax_of_each_row() -> None:
    x = np.array([[0.0, 1.0, 2.0], [5.0, 5.0, 5.0], [0.0, -np.inf, 1.0]], np.float32)
    expected = [
        [math.exp(v - 2) / sum(math.exp(w - 2) for w in (0, 1, 2)) for v in (0, 1, 2)],
        [1 / 3] * 3,
        [1 / (1 + math.e), 0.0, math.e / (1 + math.e)],
    ]
    np.testing.assert_allclose(softmax(x), expected, rtol=1e-6)


def test_large_logits_do_not_overflow() -> None:
    # exp(1000) overflows float32: only the shift by the row maximum keeps this finite
    y = softmax(np.array([[1000.0, 999.0]], np.float32))
    np.testing.assert_allclose(y, [[1 / (1 + math.exp(-1)), 1 / (1 + math.e)]], rtol=1e-6)


def test_out_computes_in_place_and_leaves_the_input_otherwise() -> None:
    x = np.array([[0.0, math.log(3.0)]], np.float32)
    kept = x.copy()
    y = softmax(x)
    assert y is not x and np.array_equal(x, kept)  # the input untouched
    z = softmax(x, out=x)
    assert z is x  # the result is written into x
    np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(x, [[0.25, 0.75]], rtol=1e-6)


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((5, 3), (4, 3)),  # a gradient (T, n) by a weight matrix (m, n)
        ((1, 3), (4, 3)),  # a single row
        ((2, 5, 3), (2, 4, 3)),  # stacks multiply pairwise (the attention's three weights)
    ],
)
def test_times_transposed_is_a_times_b_transposed(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(len(a_shape))
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    found = times_transposed(a, b)
    expected = np.matmul(a.astype(np.float64), np.swapaxes(b.astype(np.float64), -1, -2))
    assert (found.shape, found.dtype) == (expected.shape, np.float32)
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6)
