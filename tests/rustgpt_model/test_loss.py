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
