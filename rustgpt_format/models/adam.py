"""Adam optimizer state of one parameter (contract §5.6)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, StrictInt

from rustgpt_format.float32 import AS_FLOAT32, Float32Array
from rustgpt_format.models.base import FormatModel


class AdamState(FormatModel):
    """Moments and hyper-parameters of Adam for one parameter array.

    The layer that holds the state checks that ``m`` and ``v`` have its parameter's shape.

    >>> state = AdamState.fresh((2, 3))
    >>> state.timestep, state.m.shape, state.beta1
    (0, (2, 3), 0.8999999761581421)
    """

    beta1: Annotated[float, Field(ge=0, lt=1), AS_FLOAT32]
    beta2: Annotated[float, Field(ge=0, lt=1), AS_FLOAT32]
    epsilon: Annotated[float, Field(gt=0), AS_FLOAT32]
    timestep: Annotated[StrictInt, Field(ge=0)]
    m: Float32Array
    v: Float32Array

    @classmethod
    def fresh(
        cls,
        shape: tuple[int, int],
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> AdamState:
        """A new state with zero moments, RustGPT's hyper-parameters by default."""
        return cls(
            beta1=beta1,
            beta2=beta2,
            epsilon=epsilon,
            timestep=0,
            m=np.zeros(shape, np.float32),
            v=np.zeros(shape, np.float32),
        )
