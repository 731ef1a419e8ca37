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

CHUNK = 1 << 20
"""Elements processed at once (8 MiB as float64)."""

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
    flat = array.reshape(-1)
    for start in range(0, flat.size, CHUNK):
        yield flat[start : start + CHUNK].astype(np.float64)


def summarize(array: np.ndarray) -> Summary:
    """Statistics of ``array``, in two chunked passes (moments, then the histogram).

    >>> s = summarize(np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))
    >>> s.mean, s.std ** 2, s.norm ** 2, s.zeros, s.counts[0], s.counts[-1]
    (1.5, 1.25, 14.0, 0.25, 1, 1)
    """
    return _summary(array.shape, lambda: _chunks(array))


def _summary(
    shape: tuple[int, ...], chunks: Callable[[], Iterator[np.ndarray]], undefined: int = 0
) -> Summary:
    """The statistics of the values ``chunks()`` yields (float64); called once per pass."""
    count, mean, m2, squares, zeros = 0, 0.0, 0.0, 0.0, 0
    low, high = math.inf, -math.inf
    for chunk in chunks():
        n = chunk.size
        chunk_mean = float(chunk.mean())
        # Chan et al.'s merge of (count, mean, M2): exact-ish however many chunks.
        chunk_m2 = float(np.square(chunk - chunk_mean).sum())
        delta = chunk_mean - mean
        total = count + n
        mean += delta * n / total
        m2 += chunk_m2 + delta * delta * count * n / total
        count = total
        squares += float(np.dot(chunk, chunk))
        zeros += n - int(np.count_nonzero(chunk))
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    if count == 0:
        return Summary(tuple(shape), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0,) * BINS, undefined)
    counts = np.zeros(BINS, np.int64)
    span = (low, high) if high > low else (low - 0.5, high + 0.5)
    for chunk in chunks():
        counts += np.histogram(chunk, bins=BINS, range=span)[0]
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


def adam_step(
    m: np.ndarray, v: np.ndarray, *, beta1: float, beta2: float, epsilon: float, timestep: int
) -> Summary | None:
    """Statistics of Adam's step ``m_hat / (sqrt(v_hat) + eps)``, per unit learning rate.

    ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)`` with the state's
    timestep ``t``: the update the last step made was ``learning_rate`` times this.
    At ``t = 0`` no step has been taken and the bias correction divides by zero:
    None, the page says so instead of inventing a number.

    >>> m, v = np.full((1, 2), 0.1, np.float32), np.full((1, 2), 0.01, np.float32)
    >>> round(adam_step(m, v, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=1).mean, 6)
    0.031623
    >>> adam_step(m, v, beta1=0.9, beta2=0.999, epsilon=1e-8, timestep=0) is None
    True
    """
    if timestep <= 0:
        return None
    t = min(timestep, 1 << 31)  # beta**t is 0 long before; a larger int would not fit a float
    m_scale = 1.0 / (1.0 - beta1**t)
    v_scale = 1.0 / (1.0 - beta2**t)

    def chunks() -> Iterator[np.ndarray]:
        for m_chunk, v_chunk in zip(_chunks(m), _chunks(v), strict=True):
            # A valid file may hold a negative v (the format asks only for finite
            # floats): the step is undefined there, and those elements are counted.
            defined = v_chunk >= 0
            if not defined.all():
                m_chunk, v_chunk = m_chunk[defined], v_chunk[defined]
            yield (m_chunk * m_scale) / (np.sqrt(v_chunk * v_scale) + epsilon)

    negative = sum(int(np.count_nonzero(c < 0)) for c in _chunks(v))
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
    for b, a in zip(_chunks(before), _chunks(after), strict=True):
        d = a - b
        squares += float(np.dot(b, b))
        differences += float(np.dot(d, d))
        changed += int(np.count_nonzero(d))
    size = max(before.size, 1)
    return Change(math.sqrt(squares), math.sqrt(differences), changed / size)
