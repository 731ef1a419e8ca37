"""AdamState.fresh: the state RustGPT's ``Adam::new`` starts a parameter with."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint


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


# (field of network[1].optimizer_w_q, value, message): RustGPT's Adam divides by
# 1 − beta^t and by sqrt(v) + epsilon
STATE_FIELDS = [
    ("epsilon", 0.0, "expected a value > 0.0, found 0.0"),
    ("epsilon", -1e-8, "expected a value > 0.0, found -1e-08"),
    ("beta1", 1.0, "expected a value < 1.0, found 1.0"),
    ("beta2", 1.0, "expected a value < 1.0, found 1.0"),
    ("beta2", -0.5, "expected a value ≥ 0.0, found -0.5"),
    ("timestep", -1, "expected a value ≥ 0, found -1"),
]


@pytest.mark.parametrize(("field", "value", "message"), STATE_FIELDS)
def test_hyper_parameters_out_of_range_are_named(field: str, value: object, message: str) -> None:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["network"][1]["optimizer_w_q"][field] = value
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document))
    path = f"network[1].optimizer_w_q.{field}"
    assert (caught.value.path, caught.value.message) == (path, message)
