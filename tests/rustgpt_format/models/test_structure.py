"""§6.2 and §6.3 from a document: which rule fires, at which path, with which message.

Each row breaks exactly one rule and keeps every other array consistent, so that the
rule named is the one that fires (a broken array that also disagrees with its own
layer would be caught by another rule, and the row would prove nothing).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.float32 import Float32Array
from rustgpt_format.models import LayerBase, register_layer_kind, unregister_layer_kind

BASE: dict[str, Any] = orjson.loads(rf.dumps(tiny_checkpoint()))  # d = 4, h = 8, V = 3, L = 2


def array(rows: int, cols: int, value: float = 0.25) -> dict[str, Any]:
    return {"v": 1, "dim": [rows, cols], "data": [value] * (rows * cols)}


def adam(rows: int, cols: int) -> dict[str, Any]:
    return {
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "timestep": 3,
        "m": array(rows, cols, 0.01),
        "v": array(rows, cols, 0.001),
    }


def attention_of_width(width: int) -> Callable[[dict[str, Any]], None]:
    """network[1] a SelfAttention of width ``width`` in itself: embedding_dim and every array."""

    def change(document: dict[str, Any]) -> None:
        layer = document["network"][1]
        layer["embedding_dim"] = width
        for name in ("w_q", "w_k", "w_v"):
            layer[name] = array(width, width)
            layer[f"optimizer_{name}"] = adam(width, width)

    return change


def moment(layer: int, optimizer: str, which: str, rows: int, cols: int) -> Callable[[Any], None]:
    def change(document: dict[str, Any]) -> None:
        document["network"][layer][optimizer][which] = array(rows, cols, 0.001)

    return change


ORDER, SHAPES = "§6.1 layer order", "§6.2 shapes agree with config"
OPTIMIZER = "§6.3 optimizer moments have their parameter's shape"


def embeddings_rows(name: str, rows: int) -> Callable[[dict[str, Any]], None]:
    """network[0]'s ``name`` with ``rows`` rows (its optimizer dropped: nothing else changes)."""

    def change(document: dict[str, Any]) -> None:
        layer = document["network"][0]
        layer[name] = array(rows, 4)
        layer["token_optimizer" if name == "token_embeddings" else "positional_optimizer"] = None

    return change


def output_columns(columns: int) -> Callable[[dict[str, Any]], None]:
    """The output projection ``columns`` wide, w_out and b_out agreeing with each other."""

    def change(document: dict[str, Any]) -> None:
        layer = document["network"][5]
        layer["w_out"], layer["b_out"], layer["optimizer"] = (
            array(4, columns),
            array(1, columns),
            None,
        )

    return change


def swap_first_and_last(document: dict[str, Any]) -> None:
    network = document["network"]
    network[0], network[-1] = network[-1], network[0]


RULES: list[tuple[str, Callable[[dict[str, Any]], None], str, str, str]] = [
    # (why it is invalid, change, path, message, rule)
    (
        "a SelfAttention consistent in itself but 5 wide in a 4-wide model",
        attention_of_width(5),
        "network[1].embedding_dim",
        "expected 4 (config.embedding_dim), found 5",
        SHAPES,
    ),
    (
        "the same, 3 wide",
        attention_of_width(3),
        "network[1].embedding_dim",
        "expected 4 (config.embedding_dim), found 3",
        SHAPES,
    ),
    (
        "only v of an Adam state has another shape than its parameter (m is right)",
        moment(1, "optimizer_w_q", "v", 4, 3),
        "network[1].optimizer_w_q.v",
        "expected shape (4, 4) (that of w_q), found (4, 3)",
        OPTIMIZER,
    ),
    (
        "v transposed beside a right m, in FeedForward",
        moment(3, "optimizer_w1", "v", 8, 4),
        "network[3].optimizer_w1.v",
        "expected shape (4, 8) (that of w1), found (8, 4)",
        OPTIMIZER,
    ),
    (
        "v of the output projection's optimizer one column short",
        moment(5, "optimizer", "v", 4, 2),
        "network[5].optimizer.v",
        "expected shape (4, 3) (that of w_out), found (4, 2)",
        OPTIMIZER,
    ),
    (
        "m wrong, v right",
        moment(1, "optimizer_w_k", "m", 3, 4),
        "network[1].optimizer_w_k.m",
        "expected shape (4, 4) (that of w_k), found (3, 4)",
        OPTIMIZER,
    ),
    (
        "v of a LayerNorm's beta a column instead of a row",
        moment(2, "optimizer_beta", "v", 4, 1),
        "network[2].optimizer_beta.v",
        "expected shape (1, 4) (that of beta), found (4, 1)",
        OPTIMIZER,
    ),
    (
        "token embeddings for 4 words, consistent in themselves, in a 3-word model",
        embeddings_rows("token_embeddings", 4),
        "network[0].token_embeddings",
        "expected shape (3, 4) (config.vocab_size = 3; config.embedding_dim = 4), found (4, 4)",
        SHAPES,
    ),
    (
        "positions for 3 tokens where max_seq_len is 2",
        embeddings_rows("positional_embeddings", 3),
        "network[0].positional_embeddings",
        "expected shape (2, 4) (config.max_seq_len = 2; config.embedding_dim = 4), found (3, 4)",
        SHAPES,
    ),
    (
        "an output projection for 5 words, w_out and b_out agreeing, in a 3-word model",
        output_columns(5),
        "network[5].w_out",
        "expected shape (4, 3) (config.embedding_dim = 4; config.vocab_size = 3), found (4, 5)",
        SHAPES,
    ),
    (
        "a network of one layer",
        lambda d: d.update(network=d["network"][:1]),
        "network",
        "expected at least Embeddings and OutputProjection, found 1 layers",
        ORDER,
    ),
    (
        "Embeddings in the middle",
        lambda d: d["network"].insert(2, copy.deepcopy(d["network"][0])),
        "network[2].type",
        "expected SelfAttention, FeedForward or LayerNorm (Embeddings is only allowed as network[0])",
        ORDER,
    ),
    (
        "the output projection in the middle",
        lambda d: d["network"].insert(1, copy.deepcopy(d["network"][-1])),
        "network[1].type",
        "expected SelfAttention, FeedForward or LayerNorm (OutputProjection is only allowed as the last layer)",
        ORDER,
    ),
    (
        "four words where config says three",
        lambda d: d["vocab"].update(words=[*d["vocab"]["words"], "extra"]),
        "vocab.words",
        "expected config.vocab_size = 3 words, found 4",
        SHAPES,
    ),
    (
        "the output projection first",
        swap_first_and_last,
        "network[0].type",
        "expected Embeddings first, found OutputProjection",
        ORDER,
    ),
]


@pytest.mark.parametrize(
    ("why", "change", "path", "message", "rule"), RULES, ids=[r[0] for r in RULES]
)
def test_the_rule_broken_is_the_one_named(
    why: str, change: Callable[[dict[str, Any]], None], path: str, message: str, rule: str
) -> None:
    document = copy.deepcopy(BASE)
    change(document)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document))
    assert (caught.value.path, caught.value.message) == (path, message)
    assert [problem.rule for problem in caught.value.problems] == [rule]


def test_the_attention_rows_are_otherwise_valid() -> None:
    """A model whose config is 5 wide takes the 5-wide attention of the first row whole."""
    document = copy.deepcopy(BASE)
    attention_of_width(5)(document)
    layer = document["network"][1]
    with pytest.raises(rf.CheckpointError):
        rf.loads(orjson.dumps(document))
    alone = rf.SelfAttention.model_validate(layer)  # consistent in itself
    assert alone.embedding_dim == 5 and alone.w_q.shape == (5, 5)


def test_a_wrong_v_is_refused_when_built_in_python_too() -> None:
    checkpoint = tiny_checkpoint()
    attention = checkpoint.network[1]
    assert isinstance(attention, rf.SelfAttention) and attention.optimizer_w_q is not None
    state = attention.optimizer_w_q.model_copy()
    state.v = np.zeros((4, 3), np.float32)
    fields = {**dict(attention), "optimizer_w_q": state}
    with pytest.raises(
        ValueError, match=r"expected shape \(4, 4\) \(that of w_q\), found \(4, 3\)"
    ):
        rf.SelfAttention(**fields)


class Head(LayerBase):
    """A second kind allowed last, as a plugin could register."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"w": ("d", "V")}
    POSITION: ClassVar[Literal["first", "middle", "last"]] = "last"
    type: Literal["Head"] = "Head"
    w: Float32Array


class Stem(LayerBase):
    """A second kind allowed first."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"table": ("V", "d")}
    POSITION: ClassVar[Literal["first", "middle", "last"]] = "first"
    type: Literal["Stem"] = "Stem"
    table: Float32Array


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda d: d["network"].pop(),
            "network[4].type",
            "expected OutputProjection or Head last, found LayerNorm",
        ),
        (
            lambda d: d["network"].pop(0),
            "network[0].type",
            "expected Embeddings or Stem first, found SelfAttention",
        ),
    ],
)
def test_the_order_rule_names_every_kind_allowed_at_the_place(
    change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    register_layer_kind(Head)
    register_layer_kind(Stem)
    try:
        document = copy.deepcopy(BASE)
        change(document)
        with pytest.raises(rf.CheckpointError) as caught:
            rf.loads(orjson.dumps(document))
    finally:
        unregister_layer_kind(Head)
        unregister_layer_kind(Stem)
    assert (caught.value.path, caught.value.message) == (path, message)
