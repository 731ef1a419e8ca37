"""The output projection in blocks of 64 columns: right for every V, and column by column.

Vocabularies of 64 words or more (the other layer tests use a few words) go through
the full blocks and the exact-multiple case (mutation survivors of layers/output.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from rustgpt_format import OutputProjection
from rustgpt_model.layers.output import forward


def projection(V: int, d: int = 8, seed: int = 0) -> OutputProjection:
    rng = np.random.default_rng(seed)
    return OutputProjection(
        w_out=rng.standard_normal((d, V), dtype=np.float32),
        b_out=rng.standard_normal((1, V), dtype=np.float32),
    )


@pytest.mark.parametrize("V", [3, 63, 64, 65, 128, 130])
@pytest.mark.parametrize("T", [1, 2, 5])
def test_logits_are_x_w_out_plus_b_out(V: int, T: int) -> None:
    layer = projection(V)
    x = np.random.default_rng(1).standard_normal((T, 8), dtype=np.float32)
    logits, cache = forward(layer, x)
    expected = x.astype(np.float64) @ layer.w_out.astype(np.float64) + layer.b_out
    assert logits.shape == (T, V) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    assert cache is x


@pytest.mark.parametrize("T", [1, 4])
def test_a_words_logit_does_not_depend_on_the_other_words(T: int) -> None:
    """Adding words (columns) leaves every old logit to the bit (extend_vocab relies on it)."""
    large = projection(130)
    small = OutputProjection(w_out=large.w_out[:, :70].copy(), b_out=large.b_out[:, :70].copy())
    x = np.random.default_rng(2).standard_normal((T, 8), dtype=np.float32)
    assert forward(small, x)[0].view(np.uint32).tolist() == (
        forward(large, x)[0][:, :70].view(np.uint32).tolist()
    )
