"""RustGPT's own JSON (version 0): hand-written fixtures in, serde-shaped text out."""

from __future__ import annotations

import copy
import math
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rustgpt_format as rf
from rustgpt_format.boundary import validated
from rustgpt_format.codec import parse
from rustgpt_format.dialect import RUSTGPT_HIDDEN_DIM, to_rustgpt
from rustgpt_format.examples import random_checkpoint
from rustgpt_format.migrations import upgrade
from rustgpt_format.models import LAYER_KINDS
from rustgpt_format.reading import drop_optimizers
from tests.strategies import checkpoints, float32s

FIXTURES = Path(__file__).parents[1] / "fixtures" / "v0"
VARIANTS = [*sorted(FIXTURES.glob("tiny.*caches-*.json")), FIXTURES / "tiny.handwritten.json"]
MIGRATED = FIXTURES / "tiny.migrated-1.0.json"
ODD = 0x15AE43FD


def load_quietly(path: Path) -> rf.Checkpoint:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        return rf.load(path)


def test_the_fixtures_cover_compact_pretty_caches_and_shuffled_keys() -> None:
    names = {path.name for path in VARIANTS}
    for layout in ("compact", "pretty"):
        for caches in ("null", "present"):
            assert f"tiny.{layout}.caches-{caches}.json" in names
            assert f"tiny.{layout}.shuffled.caches-{caches}.json" in names
    shuffled = orjson.loads((FIXTURES / "tiny.compact.shuffled.caches-present.json").read_bytes())
    assert list(shuffled) == ["vocab", "network"]
    assert list(shuffled["vocab"]) != ["encode", "decode", "words"]
    assert b"\n" in (FIXTURES / "tiny.pretty.caches-null.json").read_bytes()
    assert b'"cached_input":null' in (FIXTURES / "tiny.compact.caches-null.json").read_bytes()


@pytest.mark.parametrize("path", VARIANTS, ids=lambda path: path.name)
def test_every_variant_migrates_to_the_same_checkpoint(path: Path) -> None:
    with pytest.warns(rf.FormatWarning) as caught:
        checkpoint = rf.load(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: migrated from format version 0 -> 1.0 (RustGPT's own JSON: layers "
        "untagged, caches dropped, encode/decode checked against words and dropped, config "
        "inferred from the arrays); save it to keep the migrated form"
    ]
    assert rf.dumps(checkpoint, indent=2) == MIGRATED.read_bytes()


def test_the_migrated_values_are_the_hand_written_ones() -> None:
    checkpoint = load_quietly(FIXTURES / "tiny.handwritten.json")
    assert checkpoint.config == rf.ModelConfig(
        embedding_dim=2, hidden_dim=3, max_seq_len=2, vocab_size=3
    )
    assert checkpoint.vocab.words == ("hello", "world", "</s>")
    assert [layer.type for layer in checkpoint.network] == [
        "Embeddings",
        "SelfAttention",
        "LayerNorm",
        "FeedForward",
        "LayerNorm",
        "OutputProjection",
    ]
    token = checkpoint.network[0].token_embeddings  # type: ignore[union-attr]
    assert token.view(np.uint32)[1, 1] == ODD  # the shortest text 7.038531e-26, exactly
    assert token[2, 0] == 3.0 and math.copysign(1, token[2, 1]) == -1  # integer 3, -0.0
    w_v = checkpoint.network[1].w_v  # type: ignore[union-attr]
    assert w_v.view(np.uint32).tolist() == [[0x95AE43FD, 1], [0x7F7FFFFF, 0xFF7FFFFF]]
    optimizer = checkpoint.network[1].optimizer_w_q  # type: ignore[union-attr]
    assert (optimizer.timestep, optimizer.beta1) == (7, float(np.float32(0.9)))


# --- writing ------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal documents, arrays compared bit for bit."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray) and a.view(np.uint32).tolist() == b.view(np.uint32).tolist()
        )
    return type(a) is type(b) and a == b


def test_writing_gives_back_the_hand_written_document_with_null_caches() -> None:
    checkpoint = load_quietly(MIGRATED)
    written = parse(to_rustgpt(checkpoint))
    hand_written = parse((FIXTURES / "tiny.compact.caches-null.json").read_bytes())
    assert same(written, hand_written)
    assert same(parse(to_rustgpt(checkpoint, indent=2)), hand_written)


def test_written_bytes_are_pinned() -> None:
    assert to_rustgpt(load_quietly(MIGRATED)) == (FIXTURES / "tiny.written.json").read_bytes()


RUSTGPT_SOURCE = Path(
    os.environ.get(
        "RUSTGPT_SOURCE",
        Path(__file__).resolve().parents[3] / "shared" / "oracles" / "rustgpt" / "rustgpt" / "src",
    )
)
"""RustGPT's source, read from the shared folder beside the checkout (or $RUSTGPT_SOURCE)."""


def rust_struct_fields() -> dict[str, list[str]]:
    """Each ``pub struct X { ... }`` of RustGPT's source: its serialized fields, in order.

    Read from the Rust files, not from our writer: the writer's own list (RUST_FIELDS)
    cannot be the reference it is checked against. ``#[serde(skip)]`` fields are left out.
    """
    structs: dict[str, list[str]] = {}
    for source in sorted(RUSTGPT_SOURCE.glob("*.rs")):
        text = re.sub(r"//[^\n]*", "", source.read_text(encoding="utf-8"))
        for name, body in re.findall(r"pub struct (\w+) \{(.*?)\n\}", text, re.DOTALL):
            fields, skip = [], False
            for line in body.splitlines():
                line = line.strip()
                if line.startswith("#[serde(skip"):
                    skip = True
                    continue
                declared = re.match(r"(?:pub(?:\([^)]*\))? )?(\w+):", line)
                if declared:
                    if not skip:
                        fields.append(declared[1])
                    skip = False
            structs[name] = fields
    return structs


def test_written_keys_are_rustgpts_struct_fields_in_declaration_order() -> None:
    assert RUSTGPT_SOURCE.is_dir(), (
        f"RustGPT's source is not at {RUSTGPT_SOURCE}: set RUSTGPT_SOURCE"
    )
    structs = rust_struct_fields()
    assert structs["LLM"] == ["vocab", "network"]  # gradient_clipper is #[serde(skip)]
    assert structs["Adam"] == ["beta1", "beta2", "epsilon", "timestep", "m", "v"]
    document = orjson.loads(to_rustgpt(load_quietly(MIGRATED)))
    assert list(document) == structs["LLM"]
    assert list(document["vocab"]) == structs["Vocab"]
    tags = set()
    for item in document["network"]:
        [(tag, body)] = item.items()
        tags.add(tag)
        assert list(body) == structs[tag], tag
        for key in structs[tag]:
            if key.startswith("optimizer"):
                assert list(body[key]) == structs["Adam"], f"{tag}.{key}"
        assert all(body[cache] is None for cache in LAYER_KINDS[tag].CACHES)
    assert tags == set(LAYER_KINDS)  # every kind was checked


def test_an_inference_only_checkpoint_is_written_with_fresh_adam_states() -> None:
    checkpoint = load_quietly(MIGRATED)
    drop_optimizers(checkpoint)
    with pytest.warns(rf.FormatWarning) as caught:
        text = to_rustgpt(checkpoint)
    assert str(caught[0].message) == (
        "RustGPT's layers need an optimizer state: wrote fresh Adam states for 14 missing "
        "ones (network[0].token_optimizer, ...)"
    )
    back = validated(rf.Checkpoint, parse_v0(text))
    for layer in back.network:
        for name, state in layer.optimizers().items():
            parameter = getattr(layer, layer.OPTIMIZERS[name])
            assert state is not None, name
            fresh = rf.AdamState.fresh(parameter.shape)
            assert state.model_dump(exclude={"m", "v"}) == fresh.model_dump(exclude={"m", "v"})
            assert state.m.shape == state.v.shape == parameter.shape
            assert not state.m.any() and not state.v.any()


def parse_v0(text: bytes) -> Any:
    return upgrade(parse(text)).document


def test_training_and_metadata_are_dropped_with_a_warning() -> None:
    checkpoint = load_quietly(MIGRATED)
    checkpoint.metadata = {"author": "me"}
    phase = rf.TrainingPhase(name="pretraining", epochs=3, learning_rate=0.0005)
    checkpoint.training = rf.TrainingState(
        schedule=[phase], epochs_completed=1, steps_completed=7, loss_history=[4.25], seed=11
    )
    with pytest.warns(rf.FormatWarning) as caught:
        text = to_rustgpt(checkpoint)
    assert [str(w.message) for w in caught] == [
        "RustGPT's own files have no place for training and metadata: not written"
    ]
    document = orjson.loads(text)
    assert list(document) == ["vocab", "network"]
    for absent in (b"training", b"metadata", b"author", b"pretraining", b"loss_history", b"4.25"):
        assert absent not in text
    checkpoint.training = checkpoint.metadata = None
    assert to_rustgpt(checkpoint) == text  # what is written is the rest, unchanged


def test_no_feed_forward_and_a_hidden_dim_that_would_not_read_back_is_refused() -> None:
    checkpoint = random_checkpoint(
        vocab_size=3, embedding_dim=2, hidden_dim=5, max_seq_len=2, middle=["SelfAttention"]
    )
    with pytest.raises(rf.CheckpointError) as caught:
        to_rustgpt(checkpoint)
    assert str(caught.value) == (
        "config.hidden_dim: RustGPT's files have no config: without a FeedForward layer, "
        "hidden_dim 5 would read back as 256"
    )
    checkpoint.config.hidden_dim = RUSTGPT_HIDDEN_DIM
    assert validated(rf.Checkpoint, parse_v0(to_rustgpt(checkpoint))) == checkpoint


def expected_after_v0(checkpoint: rf.Checkpoint) -> rf.Checkpoint:
    """What the dialect keeps: no training or metadata; fresh states for missing ones."""
    kept = checkpoint.model_copy(deep=True)
    kept.training, kept.metadata = None, None
    for layer in kept.network:
        for name, parameter in layer.OPTIMIZERS.items():
            if getattr(layer, name) is None:
                setattr(layer, name, rf.AdamState.fresh(getattr(layer, parameter).shape))
    return kept


@settings(max_examples=60, deadline=None)
@given(checkpoints())
def test_v1_to_v0_to_v1_is_bit_exact(checkpoint: rf.Checkpoint) -> None:
    has_feed_forward = any(layer.type == "FeedForward" for layer in checkpoint.network)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        if not has_feed_forward and checkpoint.config.hidden_dim != RUSTGPT_HIDDEN_DIM:
            with pytest.raises(rf.CheckpointError, match="would read back as 256"):
                to_rustgpt(checkpoint)
            return
        for indent in (None, 2):
            back = validated(rf.Checkpoint, parse_v0(to_rustgpt(checkpoint, indent=indent)))
            assert back == expected_after_v0(checkpoint)


# --- numbers as Rust's serde_json writes f32 ---------------------------------------


def serde_f32(value: np.float32) -> str:
    """An independent reference: ryu's f32 layout over the shortest digits (numpy's Dragon4).

    ryu writes d.ddd at decimal exponents -5 ≤ e < 13 (with ".0" for integers) and
    scientific notation otherwise; the exponent carries a "+" as in current releases.
    """
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, exponent = np.format_float_scientific(abs(value), unique=True).split("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    point = int(exponent) + 1  # digits d1 d2 ... with the decimal point after `point` of them
    if 0 < point <= 13 and len(digits) <= point:
        return f"{sign}{digits}{'0' * (point - len(digits))}.0"
    if 0 < point <= 13:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    rest = f".{digits[1:]}" if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{rest}e{'+' if point - 1 > 0 else '-'}{abs(point - 1)}"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1e-8, "1e-8"),
        (1e-5, "0.00001"),
        (1e-7, "1e-7"),
        (3.0, "3.0"),
        (123456789.0, "123456790.0"),
        (1e13, "1e+13"),
        (1e20, "1e+20"),
        (-0.0, "-0.0"),
        (3.4028235e38, "3.4028235e+38"),
    ],
)
def test_the_reference_layout(value: float, text: str) -> None:
    assert serde_f32(np.float32(value)) == text


def numbers_written(values: np.ndarray) -> list[str]:
    checkpoint = random_checkpoint(
        vocab_size=3, embedding_dim=values.size, hidden_dim=1, max_seq_len=1, middle=["FeedForward"]
    )
    checkpoint.network[1].b2[0, :] = values  # type: ignore[union-attr]
    text = to_rustgpt(checkpoint).decode()
    match = re.search(r'"b2":\{"v":1,"dim":\[1,\d+\],"data":\[([^\]]*)\]', text)
    assert match is not None
    return match[1].split(",")


@settings(max_examples=200, deadline=None)
@given(st.lists(float32s, min_size=1, max_size=8))
def test_numbers_are_written_as_serde_json_writes_f32(values: list[float]) -> None:
    array = np.array(values, dtype=np.float32)
    odd = (array.view(np.uint32) & 0x7FFFFFFF) == ODD
    texts = numbers_written(array)
    for value, text, is_odd in zip(array, texts, odd, strict=True):
        if is_odd:  # the long form, which a float64-then-float32 reader gets right
            assert np.float32(float(text)).view(np.uint32) == value.view(np.uint32)
        else:
            assert text == serde_f32(value)


# --- errors name the path in the old document --------------------------------------

BASE = parse((FIXTURES / "tiny.compact.caches-present.json").read_bytes())


def changed(change: Callable[[Any], object]) -> Any:
    document = copy.deepcopy(BASE)
    change(document)
    return document


def layer(index: int) -> Callable[[Any], Any]:
    return lambda document: next(iter(document["network"][index].values()))


def setting(getter: Callable[[Any], Any], key: str, value: object) -> Callable[[Any], object]:
    return lambda document: getter(document).__setitem__(key, value)


vocab = lambda key: lambda document: document["vocab"][key]  # noqa: E731


BAD = [
    # encode must give each word its index in words
    (
        setting(vocab("encode"), "world", 2),
        'vocab.encode["world"]',
        "expected 1 (the index of 'world' in vocab.words), found 2",
    ),
    (
        setting(vocab("encode"), "moon", 3),
        'vocab.encode["moon"]',
        "the word 'moon' is not in vocab.words",
    ),
    (
        lambda d: d["vocab"]["encode"].pop("hello"),
        "vocab.encode",
        "missing the word 'hello' (vocab.words[0])",
    ),
    (
        setting(vocab("encode"), "world", "1"),
        'vocab.encode["world"]',
        "expected 1 (the index of 'world' in vocab.words), found string '1'",
    ),
    # decode maps decimal ids to the same words
    (
        setting(vocab("decode"), "1", "hello"),
        'vocab.decode["1"]',
        "expected 'world' (vocab.words[1]), found string 'hello'",
    ),
    (
        setting(vocab("decode"), "01", "hello"),
        'vocab.decode["01"]',
        "expected a decimal token id as key",
    ),
    (
        setting(vocab("decode"), "3", "moon"),
        'vocab.decode["3"]',
        "expected an id below 3 (the number of words), found 3",
    ),
    (lambda d: d["vocab"].pop("decode"), "vocab.decode", "missing required key"),
    (
        lambda d: d["vocab"].__setitem__("size", 3),
        "vocab.size",
        "unknown key (RustGPT's vocab has encode, decode, words)",
    ),
    # layers are externally tagged, one kind each
    (
        lambda d: d["network"].__setitem__(1, {"Dropout": {}}),
        "network[1]",
        "expected a layer tagged by its kind (Embeddings, SelfAttention, FeedForward, LayerNorm, "
        "OutputProjection), found an object with keys 'Dropout'",
    ),
    (
        lambda d: d["network"][1].update({"LayerNorm": {}}),
        "network[1]",
        "expected a layer tagged by its kind (Embeddings, SelfAttention, FeedForward, LayerNorm, "
        "OutputProjection), found an object with keys 'SelfAttention', 'LayerNorm'",
    ),
    (
        lambda d: d["network"].__setitem__(1, {"SelfAttention": 3}),
        "network[1].SelfAttention",
        "expected an object, found 3",
    ),
    # caches are null or arrays
    (
        setting(layer(1), "cached_input", 3),
        "network[1].SelfAttention.cached_input",
        "expected null or an array (a forward cache), found 3",
    ),
    # problems the 1.0 reader finds, at their old paths
    (
        setting(layer(1), "w_q", {"v": 1, "dim": [2, 3], "data": [0.0] * 6}),
        "network[1].SelfAttention.w_q",
        "expected shape (2, 2) (embedding_dim = 2), found (2, 3)",
    ),
    (
        setting(layer(1), "w_k", {"v": 1, "dim": [2, 2], "data": [0.0, 0.0, "x", 0.0]}),
        "network[1].SelfAttention.w_k.data[2]",
        "expected a number, found string 'x'",
    ),
    (
        setting(layer(2), "gama", 1.0),
        "network[2].LayerNorm.gama",
        "unknown key (a typo, or a key this format version does not have)",
    ),
    (
        lambda d: d["network"].reverse(),
        "network[0]",
        "expected Embeddings first, found OutputProjection",
    ),
    (
        setting(layer(5), "b_out", {"v": 1, "dim": [1, 4], "data": [0.0] * 4}),
        "network[5].OutputProjection.b_out",
        "expected shape (1, 3) (vocab_size = 3, from w_out), found (1, 4)",
    ),
    (
        lambda d: layer(0)(d).update(
            token_embeddings={"v": 1, "dim": [4, 2], "data": [0.0] * 8}, token_optimizer=None
        ),
        "network[0].Embeddings.token_embeddings",
        "expected shape (3, 2) (vocab_size = 3, inferred from the number of words in vocab; "
        "embedding_dim = 2, inferred from network[0].Embeddings.token_embeddings), found (4, 2)",
    ),
]


@pytest.mark.filterwarnings("ignore::rustgpt_format.FormatWarning")
@pytest.mark.parametrize(("change", "path", "message"), BAD)
def test_problems_are_named_at_their_path_in_the_old_document(
    change: Callable[[Any], object], path: str, message: str, tmp_path: Path
) -> None:
    target = tmp_path / "old.json"
    target.write_bytes(orjson.dumps(changed(change), option=orjson.OPT_SERIALIZE_NUMPY))
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target)
    assert (caught.value.path, caught.value.message) == (path, message)
