import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format import Checkpoint
from rustgpt_format.examples import random_checkpoint
from rustgpt_model.adam import FusedAdam


def rustgpt_adam(param, grad, m, v, t, lr):
    """RustGPT's Adam::step for one array, operation by operation in float32.

    Returns (param, m, v).
    """
    f = np.float32
    beta1, beta2, epsilon = f(0.9), f(0.999), f(1e-8)
    m = m * beta1 + grad * (f(1) - beta1)
    v = v * beta2 + (grad * grad) * (f(1) - beta2)
    m_hat = m / (f(1) - beta1**t)
    v_hat = v / (f(1) - beta2**t)
    return param - (m_hat / (np.sqrt(v_hat) + epsilon)) * f(lr), m, v


def snapshot(ckpt: Checkpoint) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, int]]:
    rows = []
    for index, layer in enumerate(ckpt.network):
        for optimizer_name, name in layer.OPTIMIZERS.items():
            state = getattr(layer, optimizer_name)
            rows.append(
                (
                    f"network[{index}].{name}",
                    getattr(layer, name).copy(),
                    state.m.copy(),
                    state.v.copy(),
                    state.timestep,
                )
            )
    return rows


@pytest.mark.parametrize("timesteps", ["equal", "mixed"])
def test_one_step_is_rustgpt_adam_on_every_array(timesteps: str) -> None:
    ckpt = random_checkpoint(vocab_size=11, embedding_dim=8, hidden_dim=12, max_seq_len=6, seed=4)
    if timesteps == "equal":
        for layer in ckpt.network:
            for state in layer.optimizers().values():
                state.timestep = 7
    before = snapshot(ckpt)
    adam = FusedAdam(ckpt.network)
    adam.grads[:] = np.random.default_rng(0).standard_normal(adam.grads.size) * 0.01
    grads = {
        f"network[{i}].{name}": getattr(g, name).copy()
        for i, g in enumerate(adam.gradients)
        for name in ckpt.network[i].OPTIMIZERS.values()
    }
    adam.step(0.001)
    for (path, param, m, v, t), (_, new_param, new_m, new_v, new_t) in zip(
        before, snapshot(ckpt), strict=True
    ):
        want_param, want_m, want_v = rustgpt_adam(param, grads[path], m, v, t + 1, 0.001)
        assert new_t == t + 1, path
        np.testing.assert_array_equal(new_m, want_m, err_msg=path)  # the same float32 operations
        np.testing.assert_array_equal(new_v, want_v, err_msg=path)
        # the update m̂ / (√v̂ + ε) is computed in an equivalent form: equal up to rounding,
        # a relative 1e-5 of the update plus one unit in the last place of the parameter
        bound = 1e-5 * np.abs(want_param - param) + np.spacing(np.abs(want_param))
        assert (np.abs(new_param - want_param) <= bound).all(), path


def test_the_checkpoint_arrays_are_views_of_the_buffers() -> None:
    ckpt = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=8, max_seq_len=3)
    saved = rf.dumps(ckpt)
    adam = FusedAdam(ckpt.network)
    assert rf.dumps(ckpt) == saved  # values unchanged by the rebinding
    for layer in ckpt.network:
        for optimizer_name, name in layer.OPTIMIZERS.items():
            state = getattr(layer, optimizer_name)
            assert np.shares_memory(getattr(layer, name), adam.parameters)
            assert np.shares_memory(state.m, adam.m) and np.shares_memory(state.v, adam.v)
    adam.parameters[:] = 0  # writing the buffer writes the checkpoint
    assert not ckpt.network[1].w_q.any()
    assert rf.loads(rf.dumps(ckpt)) == ckpt


def test_missing_optimizers_start_fresh_and_are_named() -> None:
    ckpt = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=8, max_seq_len=3)
    ckpt.network[1].optimizer_w_k = None
    ckpt.network[-1].optimizer = None
    adam = FusedAdam(ckpt.network)
    assert adam.fresh == ["network[1].optimizer_w_k", "network[13].optimizer"]  # three blocks
    assert ckpt.network[1].optimizer_w_k.timestep == 0
    assert not ckpt.network[-1].optimizer.m.any()
