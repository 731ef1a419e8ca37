"""Array helpers shared by the layers: the array type, RustGPT's row softmax, and A Bᵀ."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

Array: TypeAlias = npt.NDArray[Any]
"""A 2-D float array: float32 in the model, float64 in the gradient checks."""


def softmax(x: Array, *, out: Array | None = None) -> Array:
    """Row-wise softmax as RustGPT computes it: subtract the row maximum, exp, normalise.

    ``out=x`` computes it in place.

    >>> softmax(np.array([[0.0, 0.0], [0.0, -np.inf]], np.float32)).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    # the ufuncs' own reductions: x.max() and x.sum() add a Python layer on each call
    shifted: Array = np.subtract(x, np.maximum.reduce(x, axis=1, keepdims=True), out=out)
    np.exp(shifted, out=shifted)
    shifted /= np.add.reduce(shifted, axis=1, keepdims=True)
    return shifted


def times_transposed(a: Array, b: Array) -> Array:
    """A Bᵀ (rows of ``a`` by rows of ``b``), as a transposed view of B Aᵀ.

    The backward passes multiply a gradient (T, n) by a weight matrix's transpose. One
    thread of OpenBLAS computes B (m, n) times a contiguous copy of Aᵀ (n, T) up to twice
    as fast as A times Bᵀ, or B times Aᵀ as a view: copying the small Aᵀ costs a
    microsecond. Each entry is the same dot product, summed by BLAS in its own order.
    Stacks of matrices (..., T, n) and (..., m, n) multiply pairwise.

    >>> a, b = np.arange(6.0).reshape(2, 3), np.ones((4, 3))
    >>> times_transposed(a, b).tolist() == (a @ b.T).tolist()
    True
    """
    a_transposed = np.ascontiguousarray(np.swapaxes(a, -1, -2))  # (..., n, T)
    product: Array = np.swapaxes(b @ a_transposed, -1, -2)  # (..., T, m)
    return product
