"""§6.2 and §6.3 from a document: which rule fires, at which path, with which message.

Each row breaks exactly one rule and keeps every other array consistent, so that the
rule named is the one that fires (a broken array that also disagrees with its own
layer would be caught by another rule, and the row would prove nothing).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint

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


RULES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # (why it is invalid, change, path, message)
    (
        "a SelfAttention consistent in itself but 5 wide in a 4-wide model",
        attention_of_width(5),
        "network[1].embedding_dim",
        "expected 4 (config.embedding_dim), found 5",
    ),
    (
        "the same, 3 wide",
        attention_of_width(3),
        "network[1].embedding_dim",
        "expected 4 (config.embedding_dim), found 3",
    ),
    (
        "only v of an Adam state has another shape than its parameter (m is right)",
        moment(1, "optimizer_w_q", "v", 4, 3),
        "network[1].optimizer_w_q.v",
        "expected shape (4, 4) (that of w_q), found (4, 3)",
    ),
    (
        "v transposed beside a right m, in FeedForward",
        moment(3, "optimizer_w1", "v", 8, 4),
        "network[3].optimizer_w1.v",
        "expected shape (4, 8) (that of w1), found (8, 4)",
    ),
    (
        "v of the output projection's optimizer one column short",
        moment(5, "optimizer", "v", 4, 2),
        "network[5].optimizer.v",
        "expected shape (4, 3) (that of w_out), found (4, 2)",
    ),
    (
        "m wrong, v right",
        moment(1, "optimizer_w_k", "m", 3, 4),
        "network[1].optimizer_w_k.m",
        "expected shape (4, 4) (that of w_k), found (3, 4)",
    ),
    (
        "v of a LayerNorm's beta a column instead of a row",
        moment(2, "optimizer_beta", "v", 4, 1),
        "network[2].optimizer_beta.v",
        "expected shape (1, 4) (that of beta), found (4, 1)",
    ),
]


@pytest.mark.parametrize(("why", "change", "path", "message"), RULES, ids=[r[0] for r in RULES])
def test_the_rule_broken_is_the_one_named(
    why: str, change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    document = copy.deepcopy(BASE)
    change(document)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document))
    assert (caught.value.path, caught.value.message) == (path, message)


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
