"""What each layer kind says about itself: its tag, scalars, parameters and defaults."""

from __future__ import annotations

import copy
from typing import ClassVar, Literal

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.float32 import Float32Array
from rustgpt_format.models import LAYER_KINDS, LayerBase


def test_each_kind_is_tagged_by_its_type() -> None:
    assert {tag: kind.tag() for tag, kind in LAYER_KINDS.items()} == {
        tag: tag
        for tag in ("Embeddings", "SelfAttention", "FeedForward", "LayerNorm", "OutputProjection")
    }


def test_a_kind_is_tagged_by_its_type_default_or_else_its_class_name() -> None:
    class PluginHead(LayerBase):
        SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"w": ("d", "V")}
        type: Literal["Head"] = "Head"
        w: Float32Array

    class Untagged(LayerBase):
        pass

    assert (PluginHead.tag(), Untagged.tag()) == ("Head", "Untagged")


@pytest.mark.parametrize(
    ("kind", "scalars"),
    [
        (rf.Embeddings, ("type",)),
        (rf.SelfAttention, ("type", "embedding_dim")),
        (rf.FeedForward, ("type",)),
        (rf.LayerNorm, ("type", "epsilon")),
        (rf.OutputProjection, ("type",)),
    ],
)
def test_scalars_are_the_fields_that_are_neither_arrays_nor_optimizers(
    kind: type[LayerBase], scalars: tuple[str, ...]
) -> None:
    assert kind.scalars() == scalars


def test_parameters_are_the_arrays_themselves_in_wire_order() -> None:
    layer = tiny_checkpoint().network[3]
    assert isinstance(layer, rf.FeedForward)
    parameters = layer.parameters()
    assert list(parameters) == ["w1", "b1", "w2", "b2"]
    assert all(parameters[name] is getattr(layer, name) for name in parameters)


def test_a_new_layer_norm_has_rustgpts_epsilon() -> None:
    assert rf.LayerNorm.scalar_defaults({"d": 4}) == {"epsilon": 1e-5}
    norm = random_checkpoint(vocab_size=3, embedding_dim=2, hidden_dim=2, max_seq_len=2).network[2]
    assert isinstance(norm, rf.LayerNorm) and norm.epsilon == float(np.float32(1e-5))


def test_a_layer_inconsistent_in_itself_cites_the_chain_rule() -> None:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    changed = copy.deepcopy(document)
    changed["network"][1]["w_k"] = {"v": 1, "dim": [4, 3], "data": [0.5] * 12}
    changed["network"][1]["optimizer_w_k"] = None
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(changed))
    assert (caught.value.path, caught.value.message) == (
        "network[1].w_k",
        "expected shape (4, 4) (embedding_dim = 4), found (4, 3)",
    )
    assert [problem.rule for problem in caught.value.problems] == [
        "§6.2 shapes agree along the chain"
    ]
