"""One BLAS thread for the model's small matrix products.

The products of this model are small (T × 128 by 128 × 256 and the like), and a
multi-threaded BLAS spends more on waking and waiting than it gains; when another
process keeps the second core busy, OpenBLAS's spinning threads make a training step
two to three times slower. The model's hot loops therefore run with one BLAS thread,
set through threadpoolctl (when it is installed) and restored afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from typing import Any


@cache
def _controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (a no-op without threadpoolctl).

    >>> import numpy as np
    >>> with single_blas_thread():
    ...     (np.ones((2, 3), np.float32) @ np.ones((3, 2), np.float32)).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    controller = _controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
