"""The report's statistics against NumPy's own, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest

from rustgpt_format.report import stats
from rustgpt_format.report.stats import adam_step, change, summarize

RNG = np.random.default_rng(7)

ARRAYS = [
    # (array, why)
    (RNG.standard_normal((64, 48), dtype=np.float32), "normal values"),
    (np.zeros((3, 5), np.float32), "all zeros: one value, a degenerate histogram range"),
    (np.array([[-0.0, 0.0, 1.5, -2.25]], np.float32), "signed zeros are exact zeros"),
    (RNG.standard_normal((1, 1), dtype=np.float32), "a single element"),
    (
        (RNG.standard_normal((50, 50)) * 1e30).astype(np.float32),
        "large values: squares need float64",
    ),
    (np.full((7, 9), 3.0e-39, np.float32), "subnormal float32"),
]


@pytest.mark.parametrize("chunk", [1 << 20, 7])  # one chunk, and many chunks that do not align
@pytest.mark.parametrize(("array", "why"), ARRAYS, ids=[why for _, why in ARRAYS])
def test_summary_is_numpy_s(
    array: np.ndarray, why: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats, "CHUNK", chunk)
    s = summarize(array)
    wide = array.astype(np.float64)
    assert s.shape == array.shape
    assert s.mean == pytest.approx(np.mean(wide), rel=1e-12, abs=1e-300)
    assert s.std == pytest.approx(np.std(wide), rel=1e-9, abs=1e-300)
    assert (s.min, s.max) == (float(array.min()), float(array.max()))
    assert s.norm == pytest.approx(np.linalg.norm(wide), rel=1e-12)
    assert s.zeros == np.count_nonzero(array == 0) / array.size
    low, high = float(array.min()), float(array.max())
    span = (low, high) if high > low else (low - 0.5, high + 0.5)
    expected = np.histogram(wide, bins=stats.BINS, range=span)[0]
    assert s.counts == tuple(int(c) for c in expected)
    assert sum(s.counts) == array.size


def numpy_step(
    m: np.ndarray, v: np.ndarray, beta1: float, beta2: float, eps: float, t: int
) -> np.ndarray:
    m_hat = m.astype(np.float64) / (1 - beta1**t)
    v_hat = v.astype(np.float64) / (1 - beta2**t)
    return m_hat / (np.sqrt(v_hat) + eps)


@pytest.mark.parametrize("timestep", [1, 2, 37, 10_000, 10**400])
def test_adam_step_is_the_bias_corrected_update(
    timestep: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats, "CHUNK", 13)
    m = RNG.standard_normal((20, 30), dtype=np.float32) * np.float32(0.01)
    v = np.abs(RNG.standard_normal((20, 30), dtype=np.float32)) * np.float32(1e-4)
    s = adam_step(m, v, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=timestep)
    assert s is not None
    expected = numpy_step(m, v, 0.9, 0.999, 1e-8, min(timestep, 10**6))
    assert s.mean == pytest.approx(expected.mean(), rel=1e-9)
    assert s.std == pytest.approx(expected.std(), rel=1e-9)
    assert s.min == pytest.approx(expected.min(), rel=1e-12)
    assert s.max == pytest.approx(expected.max(), rel=1e-12)
    assert s.norm == pytest.approx(np.linalg.norm(expected), rel=1e-12)
    assert s.undefined == 0


def test_adam_step_at_timestep_zero_is_none() -> None:
    zeros = np.zeros((2, 2), np.float32)
    assert adam_step(zeros, zeros, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=0) is None


def test_adam_step_leaves_out_and_counts_negative_v() -> None:
    m = np.array([[0.1, 0.2, 0.3]], np.float32)
    v = np.array([[0.01, -0.5, 0.04]], np.float32)  # finite, so a valid file may hold it
    s = adam_step(m, v, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=3)
    assert s is not None and s.undefined == 1
    defined = numpy_step(m[:, [0, 2]], v[:, [0, 2]], 0.9, 0.999, 1e-8, 3)
    assert s.mean == pytest.approx(defined.mean(), rel=1e-12)
    assert sum(s.counts) == 2


@pytest.mark.parametrize("chunk", [1 << 20, 5])
def test_change_is_numpy_s(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "CHUNK", chunk)
    before = RNG.standard_normal((30, 20), dtype=np.float32)
    after = before.copy()
    after[::3] += np.float32(0.125)
    c = change(before, after)
    wide_before, wide_after = before.astype(np.float64), after.astype(np.float64)
    assert c.relative == pytest.approx(
        np.linalg.norm(wide_after - wide_before) / np.linalg.norm(wide_before), rel=1e-12
    )
    assert c.changed == np.count_nonzero(after != before) / before.size == 10 / 30


def test_change_from_all_zeros_has_no_relative_value() -> None:
    c = change(np.zeros((1, 4), np.float32), np.ones((1, 4), np.float32))
    assert (c.relative, c.difference_norm, c.changed) == (None, 2.0, 1.0)


def test_change_refuses_different_shapes() -> None:
    with pytest.raises(ValueError, match=r"expected the shape \(1, 4\), found \(4, 1\)"):
        change(np.zeros((1, 4), np.float32), np.zeros((4, 1), np.float32))


def test_histogram_is_numpy_s_on_any_scale() -> None:
    rng = np.random.default_rng(11)
    for case in range(300):
        scale = 10 ** rng.uniform(-40, 38)
        values = (rng.standard_normal(int(rng.integers(1, 400))) * scale).astype(np.float32)
        if case % 3 == 0:  # values on bin edges
            values = np.round(values.astype(np.float64) * 4 / scale) * scale / 4
        s = summarize(values.astype(np.float32).reshape(1, -1))
        wide = values.astype(np.float32).astype(np.float64)
        low, high = wide.min(), wide.max()
        span = (low, high) if high > low else (low - 0.5, high + 0.5)
        assert sum(s.counts) == values.size
        try:
            expected = np.histogram(wide, bins=stats.BINS, range=span)[0]
        except ValueError:  # NumPy's own refuses ranges of a few subnormals
            continue
        assert s.counts == tuple(expected), case
