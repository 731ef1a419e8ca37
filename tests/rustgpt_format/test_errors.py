"""A table of bad documents: each raises CheckpointError naming the place and the problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

import rustgpt_format as rf
from rustgpt_format.boundary import validated
from rustgpt_format.examples import tiny_checkpoint

BASE = orjson.loads(rf.dumps(tiny_checkpoint()))
Change = Callable[[Any], object]


def doc(change: Change) -> bytes:
    document = copy.deepcopy(BASE)
    change(document)
    return orjson.dumps(document)


def setp(path: list[str | int], value: object) -> Change:
    def change(document: Any) -> None:
        node = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def delp(path: list[str | int]) -> Change:
    def change(document: Any) -> None:
        node = document
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


INPUTS: dict[str, bytes] = {
    "empty file": b"",
    "only white space": b"  \n",
    "not JSON": b"hello",
    "truncated JSON": rf.dumps(tiny_checkpoint())[:500],
    "non-UTF-8 bytes": b'{"format": "\xff\xfe"}',
    "top level is an array": b"[1, 2]",
    "wrong format": doc(setp(["format"], "safetensors")),
    "missing format_version": doc(delp(["format_version"])),
    "format_version not a string": doc(setp(["format_version"], 1.0)),
    "format_version with a patch": doc(setp(["format_version"], "1.0.0")),
    "other major version": doc(setp(["format_version"], "2.0")),
    "unknown top-level key, same minor": doc(setp(["extra"], 1)),
    "unknown layer key, same minor": doc(setp(["network", 1, "w_o"], 1)),
    "unknown layer type": doc(setp(["network", 2, "type"], "Dropout")),
    "layer without type": doc(delp(["network", 2, "type"])),
    "missing field": doc(delp(["network", 1, "w_k"])),
    "missing config": doc(delp(["config"])),
    "data length is not rows*cols": doc(setp(["network", 1, "w_q", "data"], [0.5] * 15)),
    "dim of length 3": doc(setp(["network", 1, "w_q", "dim"], [4, 4, 1])),
    "negative dim": doc(setp(["network", 1, "w_q", "dim"], [-4, -4])),
    "huge dim, three numbers": doc(
        setp(["network", 1, "w_q"], {"v": 1, "dim": [1000000000, 1000000000], "data": [1, 2, 3]})
    ),
    "null element": doc(lambda d: d["network"][1]["w_q"]["data"].__setitem__(5, None)),
    "string element": doc(lambda d: d["network"][1]["w_q"]["data"].__setitem__(5, "0.5")),
    "boolean element": doc(lambda d: d["network"][1]["w_q"]["data"].__setitem__(5, True)),
    "NaN element": rf.dumps(tiny_checkpoint()).replace(b"[0.17291036,", b"[NaN,", 1),
    "Infinity element": rf.dumps(tiny_checkpoint()).replace(b"[0.17291036,", b"[-Infinity,", 1),
    "element beyond float32": doc(lambda d: d["network"][1]["w_q"]["data"].__setitem__(5, 1e39)),
    "array version 2": doc(setp(["network", 1, "w_q", "v"], 2)),
    "vocab with duplicate word": doc(setp(["vocab", "words"], ["w0", "w0", "</s>"])),
    "vocab with empty word": doc(setp(["vocab", "words"], ["w0", "", "</s>"])),
    "vocab word with a space": doc(setp(["vocab", "words"], ["w0", "w 1", "</s>"])),
    "vocab without </s>": doc(setp(["vocab", "words"], ["w0", "w1", "w2"])),
    "vocab_size mismatch": doc(setp(["config", "vocab_size"], 4)),
    "Embeddings not first": doc(lambda d: d["network"].insert(0, d["network"].pop(1))),
    "OutputProjection not last": doc(lambda d: d["network"].insert(1, d["network"].pop())),
    "OutputProjection repeated": doc(
        lambda d: d["network"].insert(1, copy.deepcopy(d["network"][-1]))
    ),
    "Embeddings repeated": doc(lambda d: d["network"].insert(2, copy.deepcopy(d["network"][0]))),
    "empty network": doc(setp(["network"], [])),
    "shapes disagree along the chain": doc(
        lambda d: d["network"][3].update(w1={"v": 1, "dim": [3, 8], "data": [0.0] * 24})
    ),
    "shapes disagree with config": doc(setp(["config", "hidden_dim"], 9)),
    "embedding_dim disagrees with config": doc(setp(["network", 1, "embedding_dim"], 3)),
    "Adam m of the wrong shape": doc(
        setp(["network", 1, "optimizer_w_q", "m"], {"v": 1, "dim": [4, 3], "data": [0.0] * 12})
    ),
    "negative timestep": doc(setp(["network", 1, "optimizer_w_q", "timestep"], -1)),
    "beta1 >= 1": doc(setp(["network", 1, "optimizer_w_q", "beta1"], 1.0)),
    "epsilon zero": doc(setp(["network", 2, "epsilon"], 0)),
    "config dim not positive": doc(setp(["config", "embedding_dim"], 0)),
    "metadata value not a string": doc(setp(["metadata"], {"author": 3})),
    "loss history too short": doc(
        setp(
            ["training"],
            {
                "schedule": [{"name": "p", "epochs": 2, "learning_rate": 0.1}],
                "epochs_completed": 2,
                "loss_history": [1.0],
            },
        )
    ),
}
EXPECTED = [
    ("empty file", "", "expected a JSON document, found an empty file"),
    ("only white space", "", "expected a JSON document, found an empty file"),
    (
        "not JSON",
        "",
        "expected a JSON document, found invalid JSON: unexpected character, expected a JSON value: line 1 column 1 (char 0)",
    ),
    (
        "truncated JSON",
        "",
        "expected a JSON document, found invalid JSON: unexpected end of data: line 1 column 501 (char 500)",
    ),
    (
        "non-UTF-8 bytes",
        "",
        "expected a JSON document, found invalid JSON: str is not valid UTF-8: surrogates not allowed: line 1 column 1 (char 0)",
    ),
    ("top level is an array", "", "expected an object, found an array of 2 items"),
    ("wrong format", "format", "expected 'rustgpt-checkpoint', found string 'safetensors'"),
    ("missing format_version", "format_version", "missing required key (expected '1.0')"),
    (
        "format_version not a string",
        "format_version",
        "expected a version \"MAJOR.MINOR\" such as '1.0', found 1.0",
    ),
    (
        "format_version with a patch",
        "format_version",
        "expected a version \"MAJOR.MINOR\" such as '1.0', found string '1.0.0'",
    ),
    (
        "other major version",
        "format_version",
        "written by a newer rustgpt-format (format 2.0); this reader reads 1.x: upgrade rustgpt-format to read it",
    ),
    (
        "unknown top-level key, same minor",
        "extra",
        "unknown key (a typo, or a key this format version does not have)",
    ),
    (
        "unknown layer key, same minor",
        "network[1].w_o",
        "unknown key (a typo, or a key this format version does not have)",
    ),
    (
        "unknown layer type",
        "network[2].type",
        "unknown layer type 'Dropout', expected one of 'Embeddings', 'SelfAttention', 'FeedForward', 'LayerNorm', 'OutputProjection'",
    ),
    (
        "layer without type",
        "network[2]",
        "missing layer 'type', expected one of 'Embeddings', 'SelfAttention', 'FeedForward', 'LayerNorm', 'OutputProjection'",
    ),
    ("missing field", "network[1].w_k", "missing required key"),
    ("missing config", "config", "missing required key"),
    (
        "data length is not rows*cols",
        "network[1].w_q.data",
        "expected 16 numbers (dim 4x4), found 15",
    ),
    ("dim of length 3", "network[1].w_q.dim", "expected [rows, cols], found an array of 3 items"),
    ("negative dim", "network[1].w_q.dim[0]", "expected a non-negative integer, found -4"),
    (
        "huge dim, three numbers",
        "network[1].w_q.data",
        "expected 1000000000000000000 numbers (dim 1000000000x1000000000), found 3",
    ),
    ("null element", "network[1].w_q.data[5]", "expected a number, found null"),
    ("string element", "network[1].w_q.data[5]", "expected a number, found string '0.5'"),
    ("boolean element", "network[1].w_q.data[5]", "expected a number, found true"),
    (
        "NaN element",
        "network[0].token_embeddings.data[0]",
        "expected a finite float32 (magnitude below 3.4028235e38), found nan",
    ),
    (
        "Infinity element",
        "network[0].token_embeddings.data[0]",
        "expected a finite float32 (magnitude below 3.4028235e38), found -inf",
    ),
    (
        "element beyond float32",
        "network[1].w_q.data[5]",
        "expected a finite float32 (magnitude below 3.4028235e38), found 1e+39",
    ),
    ("array version 2", "network[1].w_q.v", "expected 1 (ndarray-serde version), found 2"),
    (
        "vocab with duplicate word",
        "vocab.words[1]",
        "expected unique words, found 'w0' again (first at words[0])",
    ),
    ("vocab with empty word", "vocab.words[1]", "expected a non-empty word, found ''"),
    (
        "vocab word with a space",
        "vocab.words[1]",
        "expected a word without white space, found 'w 1'",
    ),
    ("vocab without </s>", "vocab.words", "expected the end-of-sequence token '</s>', not found"),
    ("vocab_size mismatch", "vocab.words", "expected config.vocab_size = 4 words, found 3"),
    ("Embeddings not first", "network[0].type", "expected Embeddings first, found SelfAttention"),
    (
        "OutputProjection not last",
        "network[1].type",
        "expected SelfAttention, FeedForward or LayerNorm (OutputProjection is only allowed as the last layer)",
    ),
    (
        "OutputProjection repeated",
        "network[1].type",
        "expected SelfAttention, FeedForward or LayerNorm (OutputProjection is only allowed as the last layer)",
    ),
    (
        "Embeddings repeated",
        "network[2].type",
        "expected SelfAttention, FeedForward or LayerNorm (Embeddings is only allowed as network[0])",
    ),
    (
        "empty network",
        "network",
        "expected at least Embeddings and OutputProjection, found 0 layers",
    ),
    (
        "shapes disagree along the chain",
        "network[3].w2",
        "expected shape (8, 3) (hidden_dim = 8, from w1; embedding_dim = 3, from w1), found (8, 4)",
    ),
    (
        "shapes disagree with config",
        "network[3].w1",
        "expected shape (4, 9) (config.embedding_dim = 4; config.hidden_dim = 9), found (4, 8)",
    ),
    (
        "embedding_dim disagrees with config",
        "network[1].w_q",
        "expected shape (3, 3) (embedding_dim = 3), found (4, 4)",
    ),
    (
        "Adam m of the wrong shape",
        "network[1].optimizer_w_q.m",
        "expected shape (4, 4) (that of w_q), found (4, 3)",
    ),
    ("negative timestep", "network[1].optimizer_w_q.timestep", "expected a value ≥ 0, found -1"),
    ("beta1 >= 1", "network[1].optimizer_w_q.beta1", "expected a value < 1.0, found 1.0"),
    ("epsilon zero", "network[2].epsilon", "expected a value > 0.0, found 0"),
    ("config dim not positive", "config.embedding_dim", "expected a value > 0, found 0"),
    ("metadata value not a string", "metadata.author", "expected a string, found 3"),
    (
        "loss history too short",
        "training.loss_history",
        "expected 2 losses (one per completed epoch), found 1",
    ),
]


def test_the_table_covers_every_input() -> None:
    assert [name for name, _, _ in EXPECTED] == list(INPUTS)
    assert len(INPUTS) >= 25


@pytest.mark.parametrize(("name", "path", "message"), EXPECTED, ids=[row[0] for row in EXPECTED])
def test_bad_input_is_refused_naming_the_place(name: str, path: str, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(INPUTS[name])
    assert (caught.value.path, caught.value.message) == (path, message)
    assert str(caught.value) == (f"{path}: {message}" if path else message)


def test_every_problem_is_reported_not_only_the_first() -> None:
    def two_problems(document: Any) -> None:
        document["network"][1]["w_q"]["data"][0] = None
        document["network"][2]["gamma"]["v"] = 3

    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(doc(two_problems))
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("network[1].w_q.data[0]", "expected a number, found null"),
        ("network[2].gamma.v", "expected 1 (ndarray-serde version), found 3"),
    ]


def test_python_construction_raises_pydantics_error_with_the_same_message() -> None:
    layer = tiny_checkpoint().network[1]
    fields = dict(layer)
    fields["w_k"] = fields["w_k"][:, :3].copy()
    with pytest.raises(rf.CheckpointError) as caught:
        validated(rf.SelfAttention, fields)
    assert caught.value.path == "w_k"
    assert caught.value.message == "expected shape (4, 4) (embedding_dim = 4), found (4, 3)"
    with pytest.raises(ValidationError, match=r"expected shape \(4, 4\) \(embedding_dim = 4\), found \(4, 3\)"):
        rf.SelfAttention(**fields)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "expected a float32 ndarray or an array object, found null"),
        ([[1.0]], "expected a float32 ndarray or an array object, found an array of 1 items"),
    ],
)
def test_arrays_from_python_must_be_arrays(value: object, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        validated(rf.LayerNorm, {"epsilon": 1e-5, "gamma": value, "beta": value})
    assert (caught.value.path, caught.value.message) == ("gamma", message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"a": "\ud800"}', "expected text that UTF-8 can encode, found a lone surrogate at character 7"),
        (12, "expected JSON text as bytes or str, found int"),
        (None, "expected JSON text as bytes or str, found NoneType"),
    ],
)
def test_from_json_takes_text_only(data: object, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(data)  # type: ignore[arg-type]
    assert (caught.value.path, caught.value.message) == ("", message)
