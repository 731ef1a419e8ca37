import math

import numpy as np
import pytest

from rustgpt_model.loss import cross_entropy

# (logits, targets, expected mean loss), by hand
KNOWN = [
    ([[0.0, 0.0, 0.0, 0.0]], [2], math.log(4)),  # uniform over four
    ([[math.log(3), 0.0], [0.0, 0.0]], [0, 1], (math.log(4 / 3) + math.log(2)) / 2),
    ([[0.0, 100.0]], [0], -math.log(1e-15)),  # probability floored at 1e-15 as RustGPT does
]


@pytest.mark.parametrize(("logits", "targets", "expected"), KNOWN)
def test_known_losses(logits: list[list[float]], targets: list[int], expected: float) -> None:
    loss, _ = cross_entropy(np.array(logits, np.float32), np.array(targets))
    assert loss == pytest.approx(expected, rel=1e-6)


def test_gradient_is_softmax_minus_one_hot_over_length() -> None:
    logits = np.array([[math.log(3), 0.0], [0.0, 0.0]], np.float32)
    _, grad = cross_entropy(logits, np.array([0, 1]))
    np.testing.assert_allclose(
        grad, [[(0.75 - 1) / 2, 0.25 / 2], [0.5 / 2, (0.5 - 1) / 2]], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("clip", "expected_norm"),
    [(None, math.sqrt(3 * 0.25**2 + 0.75**2)), (0.1, 0.1), (5.0, math.sqrt(3 * 0.25**2 + 0.75**2))],
)
def test_gradient_is_clipped_to_the_norm(clip: float | None, expected_norm: float) -> None:
    logits = np.array([[0.0, 0.0, 0.0, 0.0]], np.float32)
    _, grad = cross_entropy(logits, np.array([1]), clip=clip)
    assert float(np.linalg.norm(grad)) == pytest.approx(expected_norm, rel=1e-6)
    assert np.argmin(grad) == 1  # scaling keeps the direction


@pytest.mark.parametrize("length", [1, 2, 5])
def test_a_clip_above_the_largest_possible_norm_never_changes_the_gradient(length: int) -> None:
    """‖softmax − one_hot‖² ≤ 2 per row, so the mean's gradient has norm ≤ √(2/T)."""
    rng = np.random.default_rng(length)
    for _ in range(200):
        logits = (rng.standard_normal((length, 6)) * rng.choice([0.1, 10, 1000])).astype(np.float32)
        targets = rng.integers(0, 6, length)
        _, grad = cross_entropy(logits, targets, clip=None)
        assert float(np.linalg.norm(grad.astype(np.float64))) <= math.sqrt(2 / length) * (1 + 1e-6)
        clip = math.sqrt(2 / length) * 1.01
        _, clipped = cross_entropy(logits, targets, clip=clip)
        np.testing.assert_array_equal(clipped, grad)
        _, tighter = cross_entropy(logits, targets, clip=clip / 2)  # below the bound: checked
        assert float(np.linalg.norm(tighter.astype(np.float64))) <= clip / 2 * (1 + 1e-6)


def reference_gradient(logits: list[list[float]], targets: list[int]) -> np.ndarray:
    """(softmax − one_hot) / T in float64 by log-sum-exp, from the formula, not the code."""
    rows = []
    for row, target in zip(logits, targets, strict=True):
        top = max(row)
        log_total = top + math.log(sum(math.exp(x - top) for x in row))
        probabilities = [math.exp(x - log_total) for x in row]
        probabilities[target] -= 1
        rows.append([p / len(targets) for p in probabilities])
    return np.array(rows)


# (logits, targets): rows whose exp overflows or underflows unless the maximum is subtracted
EXTREME = [
    ([[0.0, 100.0]], [0]),  # exp(100) overflows float32: the loss is floored, the gradient is not
    ([[0.0, 100.0]], [1]),
    ([[100.0, 0.0, -100.0], [0.0, 0.0, 0.0]], [2, 0]),
    ([[1000.0, 1001.0], [-1000.0, -1001.0]], [0, 1]),  # exp(±1000) overflows/underflows float64
    ([[88.0, 89.0, 90.0]], [1]),  # around float32's exp limit (88.7)
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("logits", "targets"), EXTREME)
def test_the_gradient_at_large_logits_is_finite_and_right(
    logits: list[list[float]], targets: list[int], dtype: type
) -> None:
    loss, grad = cross_entropy(np.array(logits, dtype), np.array(targets), clip=None)
    assert math.isfinite(loss)
    assert np.isfinite(grad).all(), grad
    np.testing.assert_allclose(grad, reference_gradient(logits, targets), rtol=1e-6, atol=1e-7)
