"""FusedAdam's bookkeeping: which states it kept, the begin/finish protocol, float32 moments.

Found by mutation testing (issue 12): these held whatever the code did.
"""

from __future__ import annotations

import numpy as np
import pytest

from rustgpt_format.examples import random_checkpoint
from rustgpt_model.adam import FusedAdam
from tests.rustgpt_model.test_adam import rustgpt_adam, snapshot


def small() -> object:
    return random_checkpoint(vocab_size=7, embedding_dim=4, hidden_dim=8, max_seq_len=3, seed=5)


def test_kept_counts_the_states_the_checkpoint_had_past_frozen_layers() -> None:
    ckpt = small()
    network = ckpt.network  # type: ignore[attr-defined]
    states = sum(len(layer.OPTIMIZERS) for layer in network)
    network[2].optimizer_gamma = None  # a LayerNorm's
    network[-1].optimizer = None
    adam = FusedAdam(network, frozen={1})  # the SelfAttention of the first block
    assert adam.fresh == ["network[2].optimizer_gamma", f"network[{len(network) - 1}].optimizer"]
    assert adam.kept == states - 3 - 2  # its three states left out, two made fresh


def test_finish_needs_a_step_begun() -> None:
    adam = FusedAdam(small().network)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match=r"^finish\(\) without begin\(\)$"):
        adam.finish()
    adam.begin(0.001)
    adam.finish()
    with pytest.raises(RuntimeError, match=r"^finish\(\) without begin\(\)$"):
        adam.finish()  # one finish per step


def test_moments_are_float32_operation_by_operation_on_many_elements() -> None:
    """Each product rounded to float32 before it is added, as RustGPT does, on 150,000
    elements: a double-precision intermediate differs in the last bit somewhere. The
    output projection (38,400 + 600) is a group of its own, updated in two blocks."""
    ckpt = random_checkpoint(vocab_size=600, embedding_dim=64, hidden_dim=96, max_seq_len=6, seed=3)
    before = snapshot(ckpt)
    adam = FusedAdam(ckpt.network)
    assert adam.grads.size > 150_000
    adam.grads[:] = np.random.default_rng(1).standard_normal(adam.grads.size) * 0.01
    grads = {
        f"network[{i}].{name}": getattr(g, name).copy()
        for i, g in enumerate(adam.gradients)
        for name in ckpt.network[i].OPTIMIZERS.values()
    }
    adam.step(0.001)
    for (path, param, m, v, t), (_, _, new_m, new_v, _) in zip(before, snapshot(ckpt), strict=True):
        _, want_m, want_v = rustgpt_adam(param, grads[path], m, v, t + 1, 0.001)
        assert new_m.view(np.uint32).tolist() == want_m.view(np.uint32).tolist(), path
        assert new_v.view(np.uint32).tolist() == want_v.view(np.uint32).tolist(), path


@pytest.mark.parametrize("streamed", [False, True])
def test_frozen_layers_at_the_end_or_everywhere(streamed: bool) -> None:
    ckpt = small()
    network = ckpt.network  # type: ignore[attr-defined]
    last = len(network) - 1
    output = network[last].w_out.copy()
    adam = FusedAdam(network, streamed=streamed, frozen={last})  # the output projection
    adam.grads[:] = 0.5
    adam.begin(0.01)
    for index in range(last, -1, -1) if streamed else ():
        adam.layer_done(index)
    adam.finish()
    assert network[last].w_out.tolist() == output.tolist()
    everything = FusedAdam(small().network, streamed=streamed, frozen=range(last + 1))  # type: ignore[attr-defined]
    assert everything.parameters.size == 0 and everything.kept == 0
