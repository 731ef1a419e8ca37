"""A layer kind and a form added from outside the package, and every path handling them.

This is the example of docs/architecture.md: a kind is one class, a form is one object,
each registered once; load, save, validate, convert and diff then handle them with no
other change to the package.
"""

from __future__ import annotations

import bz2
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.cli import run
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.forms import FORMS, Decoded, Form, ReadOptions, Source, WriteOptions
from rustgpt_format.forms.json import decode_json_text, json_text
from rustgpt_format.limits import Limits
from rustgpt_format.models import (
    LAYER_KINDS,
    LayerBase,
    register_layer_kind,
    unregister_layer_kind,
)


class Scale(LayerBase):
    """A toy kind: each feature multiplied by its own factor (an RMSNorm without the norm)."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"alpha": ("1", "d")}
    OPTIMIZERS: ClassVar[dict[str, str]] = {"optimizer_alpha": "alpha"}
    RUST_FIELDS: ClassVar[tuple[str, ...]] = ("alpha", "cached_input", "optimizer_alpha")
    CACHES: ClassVar[tuple[str, ...]] = ("cached_input",)

    type: Literal["Scale"] = "Scale"
    alpha: rf.Float32Array
    optimizer_alpha: rf.AdamState | None = None


class Bzip2Form(Form):
    """A toy form: the JSON form compressed with bzip2."""

    name: ClassVar[str] = "json.bz2"
    suffixes: ClassVar[tuple[str, ...]] = (".bz2",)
    dialects = ("rustgpt-checkpoint", "rustgpt")
    indents: ClassVar[bool] = True

    def recognizes(self, source: Source, limits: Limits) -> bool:
        return source.head.startswith(b"BZh")

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        return decode_json_text(bz2.decompress(source.data(options.limits)), options)

    def encode(self, checkpoint: rf.Checkpoint, options: WriteOptions) -> bytes:
        return bz2.compress(json_text(checkpoint, options))


@pytest.fixture
def extended() -> Iterator[None]:
    register_layer_kind(Scale)
    FORMS.register(Bzip2Form())
    try:
        yield
    finally:
        FORMS.unregister("json.bz2")
        unregister_layer_kind(Scale)


def with_scale(factor: float = 2.0) -> rf.Checkpoint:
    base = tiny_checkpoint()
    d = base.config.embedding_dim
    scale = Scale(
        alpha=np.full((1, d), factor, np.float32),
        optimizer_alpha=rf.AdamState.fresh((1, d)),
    )
    return rf.Checkpoint(
        config=base.config,
        vocab=base.vocab,
        network=[*base.network[:-1], scale, base.network[-1]],
    )


def test_without_registration_the_kind_is_unknown(tmp_path: Path) -> None:
    assert "Scale" not in LAYER_KINDS
    text = rf.dumps(tiny_checkpoint()).replace(b'"type":"LayerNorm"', b'"type":"Scale"', 1)
    with pytest.raises(rf.CheckpointError, match="unknown layer type 'Scale'"):
        rf.loads(text)


@pytest.mark.usefixtures("extended")
def test_load_save_and_validate_handle_a_registered_kind_and_form(tmp_path: Path) -> None:
    checkpoint = with_scale()
    for name in ("model.json", "model.safetensors", "model.json.gz", "model.json.bz2"):
        rf.save(checkpoint, tmp_path / name)
        assert rf.load(tmp_path / name) == checkpoint
        assert rf.validate(tmp_path / name) == []
    assert (tmp_path / "model.json.bz2").read_bytes().startswith(b"BZh")
    assert rf.loads(rf.dumps(checkpoint, form="json.bz2")) == checkpoint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)  # RustGPT's own JSON: migrated
        rf.save(checkpoint, tmp_path / "rust.json", dialect="rustgpt")
        assert rf.load(tmp_path / "rust.json") == checkpoint


@pytest.mark.usefixtures("extended")
def test_the_kinds_rules_and_the_schema_follow_the_registration(tmp_path: Path) -> None:
    schema = rf.json_schema()
    assert "Scale" in schema["$defs"]
    bad = rf.dumps(with_scale()).replace(
        b'"alpha":{"v":1,"dim":[1,4]', b'"alpha":{"v":1,"dim":[4,1]'
    )
    (tmp_path / "bad.json").write_bytes(bad)
    problems = rf.validate(tmp_path / "bad.json")
    assert [(p.path, p.message) for p in problems] == [
        ("network[5].alpha", "expected shape (1, 1) (embedding_dim = 1, from alpha), found (4, 1)")
    ]


@pytest.mark.usefixtures("extended")
def test_convert_and_diff_handle_them(tmp_path: Path) -> None:
    rf.save(with_scale(2.0), tmp_path / "a.json")
    rf.save(with_scale(3.0), tmp_path / "b.json")
    convert = ["convert", str(tmp_path / "a.json"), str(tmp_path / "a.json.bz2")]
    assert run(convert, io.StringIO(), io.StringIO()) == 0
    assert rf.load(tmp_path / "a.json.bz2") == with_scale(2.0)
    out, err = io.StringIO(), io.StringIO()
    assert run(["diff", str(tmp_path / "a.json.bz2"), str(tmp_path / "b.json")], out, err) == 1
    assert "network[5].alpha: max abs difference 1 (4 of 4 values differ)" in out.getvalue()
