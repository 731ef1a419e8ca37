"""Adam updated layer by layer in the backward pass gives the bits of one step after it."""

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format import Checkpoint
from rustgpt_format.examples import random_checkpoint
from rustgpt_model import network
from rustgpt_model.adam import FusedAdam
from rustgpt_model.loss import cross_entropy

IDS = [np.array([1, 4, 4, 0, 6, 2]), np.array([3, 3, 5]), np.array([6, 0, 1, 2, 5])]


def checkpoint(mixed: bool) -> Checkpoint:
    # large enough that the backward pass updates several groups of layers
    ckpt = random_checkpoint(vocab_size=60, embedding_dim=64, hidden_dim=96, max_seq_len=6, seed=2)
    if mixed:  # one state behind the others: an update with mixed hyper-parameters
        ckpt.network[3].optimizer_w1.timestep = 5
    return ckpt


def train(ckpt: Checkpoint, streamed: bool) -> None:
    adam = FusedAdam(ckpt.network, streamed=streamed)
    for ids in IDS:
        logits, caches = network.forward(ckpt.network, ids[:-1])
        _, grad_logits = cross_entropy(logits, ids[1:])
        if streamed:
            adam.begin(0.01)
            network.backward(
                ckpt.network, caches, grad_logits, adam.gradients, layer_done=adam.layer_done
            )
            adam.finish()
        else:
            network.backward(ckpt.network, caches, grad_logits, adam.gradients)
            adam.step(0.01)


@pytest.mark.parametrize("mixed", [False, True])
def test_streamed_steps_are_the_steps_after_the_backward_pass_to_the_bit(mixed: bool) -> None:
    after, streamed = checkpoint(mixed), checkpoint(mixed)
    train(after, streamed=False)
    train(streamed, streamed=True)
    assert rf.dumps(streamed) == rf.dumps(after)


def test_streamed_gradients_take_turns_in_two_small_buffers() -> None:
    ckpt = random_checkpoint(vocab_size=50, embedding_dim=64, hidden_dim=128, max_seq_len=8)
    adam = FusedAdam(ckpt.network, streamed=True)
    assert adam.grads.size < adam.parameters.size
    assert all(
        np.shares_memory(getattr(gradient, name), adam.grads)
        for gradient in adam.gradients
        for name in gradient.OPTIMIZERS.values()
    )


def test_a_streamed_step_needs_every_layer_in_the_backward_pass_order() -> None:
    adam = FusedAdam(checkpoint(False).network, streamed=True)
    last = len(adam.gradients) - 1
    with pytest.raises(RuntimeError, match="layer_done\\(0\\): no step begun"):
        adam.layer_done(0)
    adam.begin(0.01)
    with pytest.raises(RuntimeError, match=f"expected layer {last}"):
        adam.layer_done(0)  # out of order
    adam.layer_done(last)
    with pytest.raises(RuntimeError, match=f"finish\\(\\): layers 0 to {last - 1} are not done"):
        adam.finish()
    with pytest.raises(RuntimeError, match="a streamed step needs every layer"):
        FusedAdam(checkpoint(False).network, streamed=True).step(0.01)
