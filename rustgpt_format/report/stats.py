"""The numbers of a report: statistics of an array, Adam's step, a change between two.

Every function walks its arrays in chunks of :data:`CHUNK` elements and keeps only
float64 sums between them, so the extra memory is a few chunks whatever the array's
size: a report of a 94 M-float checkpoint holds the checkpoint and little else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

CHUNK = 1 << 16
"""Elements processed at once: 512 KiB as float64, so the passes over a chunk hit the cache."""

BINS = 24
"""Bars of a histogram."""


@dataclass(frozen=True)
class Summary:
    """Shape and statistics of one array; ``std`` is the population one (NumPy's default)."""

    shape: tuple[int, ...]
    mean: float
    std: float
    min: float
    max: float
    norm: float
    zeros: float
    """Share of elements exactly zero (either sign)."""
    counts: tuple[int, ...]
    """Histogram: ``BINS`` counts of equal bins from ``min`` to ``max``."""
    undefined: int = 0
    """Elements left out because the value is undefined there (Adam's step where v < 0)."""

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _chunks(array: np.ndarray) -> Iterator[np.ndarray]:
    """The array's elements as they are (float32 views), ``CHUNK`` at a time."""
    flat = array.reshape(-1)
    for start in range(0, flat.size, CHUNK):
        yield flat[start : start + CHUNK]


def summarize(array: np.ndarray) -> Summary:
    """Statistics of ``array``, in two chunked passes (range, then moments and histogram).

    >>> s = summarize(np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))
    >>> s.mean, round(s.std**2, 12), s.norm**2, s.zeros, s.counts[0], s.counts[-1]
    (1.5, 1.25, 14.0, 0.25, 1, 1)
    """
    return _summary(array.shape, lambda: _chunks(array))


def _summary(
    shape: tuple[int, ...], chunks: Callable[[], Iterator[np.ndarray]], undefined: int = 0
) -> Summary:
    """The statistics of the values ``chunks()`` yields; it is called once per pass.

    The first pass finds the range and the zeros in the values' own type (cheap); the
    second widens each chunk to float64 once for the sums and the histogram.
    """
    count, zeros, low, high = 0, 0, math.inf, -math.inf
    for chunk in chunks():
        if chunk.size:
            count += chunk.size
            zeros += chunk.size - int(np.count_nonzero(chunk))
            low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    if count == 0:
        return Summary(tuple(shape), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0,) * BINS, undefined)
    # One value: NumPy's range (v - 0.5, v + 0.5); where 0.5 is lost in v, the middle bin.
    span = (low, high) if high > low else (low - 0.5, high + 0.5)
    edges = np.linspace(span[0], span[1], BINS + 1)
    counts = np.zeros(BINS, np.int64)
    if span[1] == span[0]:
        counts[BINS // 2] = count
    seen, mean, m2, squares = 0, 0.0, 0.0, 0.0
    for chunk in chunks():
        wide = chunk.astype(np.float64)
        n = wide.size
        if not n:
            continue
        if span[1] > span[0]:
            counts += _histogram(wide, edges)
        chunk_mean = float(wide.sum()) / n
        centred = wide - chunk_mean
        # Chan et al.'s merge of (count, mean, M2): accurate however many chunks.
        delta, total = chunk_mean - mean, seen + n
        mean += delta * n / total
        m2 += _sum_of_squares(centred) + delta * delta * seen * n / total
        seen = total
        squares += _sum_of_squares(wide)
    return Summary(
        shape=tuple(shape),
        mean=mean,
        std=math.sqrt(m2 / count),
        min=low,
        max=high,
        norm=math.sqrt(squares),
        zeros=zeros / count,
        counts=tuple(int(c) for c in counts),
        undefined=undefined,
    )


def _sum_of_squares(values: np.ndarray) -> float:
    """Σ x², squaring in place (the caller's array is spent).

    Not ``np.dot``: BLAS's dot starts its threads for each call, which on a busy
    machine took ten times as long as the rest of the statistics together.
    """
    np.square(values, out=values)
    return float(values.sum())


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, bins=edges)[0]`` for equal bins, in a few passes.

    NumPy's own takes about three times as long here; this is its method (the bin by
    arithmetic, then the one-off corrections against the edges), without its checks.
    """
    bins = edges.size - 1
    with np.errstate(all="ignore"):  # a span of a few subnormals: the clip below fixes it
        index = ((values - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.intp)
    np.clip(index, 0, bins - 1, out=index)
    index -= values < edges[index]
    index += (values >= edges[index + 1]) & (index != bins - 1)
    return np.bincount(index, minlength=bins)


def adam_step(
    m: np.ndarray, v: np.ndarray, *, beta1: float, beta2: float, epsilon: float, timestep: int
) -> Summary | None:
    """Statistics of Adam's step ``m_hat / (sqrt(v_hat) + eps)``, per unit learning rate.

    ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)`` with the state's
    timestep ``t``: the update the last step made was ``learning_rate`` times this.
    At ``t = 0`` no step has been taken and the bias correction divides by zero:
    None, the page says so instead of inventing a number.

    >>> m, v = np.full((1, 2), 0.1, np.float32), np.full((1, 2), 0.01, np.float32)
    >>> round(adam_step(m, v, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=1).mean, 6)  # 1/√10
    0.316228
    >>> adam_step(m, v, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=0) is None
    True
    """
    if timestep <= 0:
        return None
    t = min(timestep, 1 << 31)  # beta**t is 0 long before; a larger int would not fit a float
    m_scale = 1.0 / (1.0 - beta1**t)
    v_scale = 1.0 / (1.0 - beta2**t)

    def chunks() -> Iterator[np.ndarray]:
        for m32, v32 in zip(_chunks(m), _chunks(v), strict=True):
            m_chunk, v_chunk = m32.astype(np.float64), v32.astype(np.float64)
            # A valid file may hold a negative v (the format asks only for finite
            # floats): the step is undefined there, and those elements are counted.
            defined = v_chunk >= 0
            if not defined.all():
                m_chunk, v_chunk = m_chunk[defined], v_chunk[defined]
            yield (m_chunk * m_scale) / (np.sqrt(v_chunk * v_scale) + epsilon)

    negative = sum(int(np.count_nonzero(chunk < 0)) for chunk in _chunks(v))
    return _summary(m.shape, chunks, negative)


@dataclass(frozen=True)
class Change:
    """What changed in one array between two checkpoints."""

    before_norm: float
    difference_norm: float
    """``||after - before||`` (Frobenius)."""
    changed: float
    """Share of elements whose value differs."""

    @property
    def relative(self) -> float | None:
        """``||after - before|| / ||before||``; None when ``before`` is all zeros."""
        return self.difference_norm / self.before_norm if self.before_norm else None


def change(before: np.ndarray, after: np.ndarray) -> Change:
    """How ``after`` differs from ``before`` (same shape).

    >>> c = change(np.array([[3.0, 4.0]], np.float32), np.array([[3.0, 4.5]], np.float32))
    >>> c.relative, c.changed
    (0.1, 0.5)
    """
    if before.shape != after.shape:
        raise ValueError(f"expected the shape {before.shape}, found {after.shape}")
    squares = differences = changed = 0.0
    for b32, a32 in zip(_chunks(before), _chunks(after), strict=True):
        b, a = b32.astype(np.float64), a32.astype(np.float64)
        d = a - b
        changed += int(np.count_nonzero(d))
        squares += _sum_of_squares(b)
        differences += _sum_of_squares(d)
    size = max(before.size, 1)
    return Change(math.sqrt(squares), math.sqrt(differences), changed / size)
