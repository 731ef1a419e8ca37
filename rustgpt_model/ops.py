"""Array helpers shared by the layers: the array type and RustGPT's row softmax."""

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
