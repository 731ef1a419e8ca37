"""AdamState.fresh: the state RustGPT's ``Adam::new`` starts a parameter with."""

from __future__ import annotations

import numpy as np

import rustgpt_format as rf


def test_a_fresh_state_is_rustgpts_adam_new() -> None:
    # Adam::new(shape): beta1 0.9, beta2 0.999, epsilon 1e-8 (f32), timestep 0, zero moments
    state = rf.AdamState.fresh((2, 3))
    assert (state.beta1, state.beta2, state.epsilon, state.timestep) == (
        float(np.float32(0.9)),
        float(np.float32(0.999)),
        float(np.float32(1e-8)),
        0,
    )
    for moment in (state.m, state.v):
        assert moment.shape == (2, 3) and moment.dtype == np.float32
        assert not moment.any()


def test_a_fresh_state_takes_other_hyper_parameters() -> None:
    state = rf.AdamState.fresh((1, 4), beta1=0.5, beta2=0.75, epsilon=0.25)
    assert (state.beta1, state.beta2, state.epsilon, state.timestep) == (0.5, 0.75, 0.25, 0)
    assert state.m.shape == state.v.shape == (1, 4)
