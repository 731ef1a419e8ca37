"""Checkpoint equality (field by field, arrays by bits) and the registry of layer kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.float32 import Float32Array
from rustgpt_format.models import (
    LAYER_KINDS,
    LayerBase,
    register_layer_kind,
    unregister_layer_kind,
)


def zero_first_embedding(ckpt: rf.Checkpoint) -> None:
    ckpt.network[0].token_embeddings[0, 0] = 0.0  # type: ignore[union-attr]


def trained(loss: float) -> Callable[[rf.Checkpoint], None]:
    def change(ckpt: rf.Checkpoint) -> None:
        phase = rf.TrainingPhase(name="pretraining", epochs=2, learning_rate=0.01)
        ckpt.training = rf.TrainingState(schedule=[phase], epochs_completed=1, loss_history=[loss])

    return change


# (change made to the second of two tiny checkpoints, whether they are still equal);
# both start from zero_first_embedding
EQUALITY: list[tuple[Callable[[rf.Checkpoint], None], bool]] = [
    (lambda c: None, True),
    (trained(4.5), False),  # a training block on one side only
    (lambda c: c.network[1].w_q.__setitem__((3, 2), np.float32(1e-30)), False),  # one value
    (lambda c: c.network[0].token_embeddings.__setitem__((0, 0), -0.0), False),  # -0.0 vs 0.0
    (lambda c: setattr(c, "vocab", rf.Vocab(words=("w0", "w9", "</s>"))), False),  # a word
    (lambda c: setattr(c.network[1], "optimizer_w_q", None), False),  # a state on one side
    (lambda c: setattr(c.network[1].optimizer_w_k, "timestep", 7), False),  # a state's scalar
    (lambda c: setattr(c, "metadata", {"note": "x"}), False),
    # an array swapped for a list of its values (assignment is not validated): not
    # equal, and no "truth value of an array is ambiguous" from the comparison
    (lambda c: setattr(c.network[1], "w_q", c.network[1].w_q.tolist()), False),
]


@pytest.mark.parametrize(("change", "equal"), EQUALITY)
def test_checkpoints_are_equal_field_by_field_and_arrays_bit_for_bit(
    change: Callable[[rf.Checkpoint], None], equal: bool
) -> None:
    a, b = tiny_checkpoint(), tiny_checkpoint()
    zero_first_embedding(a)
    zero_first_embedding(b)
    change(b)
    assert (a == b, b == a) == (equal, equal)


def test_a_list_is_compared_item_by_item() -> None:
    a, b = tiny_checkpoint(), tiny_checkpoint()
    trained(4.5)(a)
    trained(4.25)(b)  # the same schedule, another loss
    assert a != b
    trained(4.5)(b)
    assert a == b


def test_a_checkpoint_is_not_equal_to_anything_else() -> None:
    ckpt = tiny_checkpoint()
    assert ckpt != ckpt.network and ckpt != rf.dumps(ckpt)
    assert ckpt.__eq__(ckpt.network) is NotImplemented


class Gate(LayerBase):
    """A middle kind a plugin could register: each feature times a factor."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"g": ("1", "d")}
    type: Literal["Gate"] = "Gate"
    g: Float32Array


class OtherGate(Gate):
    """Another class with the same tag."""


def gated() -> rf.Checkpoint:
    return random_checkpoint(
        vocab_size=3, embedding_dim=4, hidden_dim=8, max_seq_len=2, middle=["Gate"]
    )


def test_a_registered_kind_is_read_and_once_unregistered_is_refused_again() -> None:
    register_layer_kind(Gate)
    try:
        ckpt = gated()  # a Checkpoint holding a Gate: the union was rebuilt with it
        text = rf.dumps(ckpt)
        assert rf.loads(text) == ckpt
    finally:
        unregister_layer_kind(Gate)
    assert "Gate" not in LAYER_KINDS
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(text)
    assert caught.value.path == "network[1].type"
    assert "unknown layer type 'Gate'" in caught.value.message


def test_unregistering_a_class_not_registered_leaves_the_one_that_is() -> None:
    register_layer_kind(Gate)
    try:
        unregister_layer_kind(OtherGate)  # same tag, but not the registered class
        assert LAYER_KINDS["Gate"] is Gate
    finally:
        unregister_layer_kind(Gate)
    assert "Gate" not in LAYER_KINDS
