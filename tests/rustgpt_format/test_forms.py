"""Every form to every form: the same checkpoint comes out, bit for bit."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

import rustgpt_format as rf
from rustgpt_format.dialect import RUSTGPT_HIDDEN_DIM
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.forms import FORMS as REGISTRY
from rustgpt_format.reading import read
from tests.rustgpt_format.test_dialect import expected_after_v0
from tests.strategies import checkpoints

FORMS: dict[str, dict[str, Any]] = {
    "json": {"name": "model.json"},
    "pretty": {"name": "model.json", "indent": 2},
    "gzip": {"name": "model.json.gz"},
    "safetensors": {"name": "model.safetensors"},
    "rustgpt": {"name": "model.json", "dialect": "rustgpt"},
    "rustgpt-gzip": {"name": "model.json.gz", "dialect": "rustgpt", "indent": 2},
}
PAIRS = [(a, b) for a in FORMS for b in FORMS]


def through(checkpoint: rf.Checkpoint, form: str, folder: Path) -> rf.Checkpoint:
    options = dict(FORMS[form])
    target = folder / f"{form}-{options.pop('name')}"
    with warnings.catch_warnings():  # the dialect's warnings are tested in test_dialect
        warnings.simplefilter("ignore", rf.FormatWarning)
        rf.save(checkpoint, target, **options)
        return rf.load(target)


def representable_in_v0(checkpoint: rf.Checkpoint) -> bool:
    has_feed_forward = any(layer.type == "FeedForward" for layer in checkpoint.network)
    return has_feed_forward or checkpoint.config.hidden_dim == RUSTGPT_HIDDEN_DIM


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
@settings(max_examples=8, deadline=None)
@given(checkpoint=checkpoints())
def test_round_trip_between_every_pair_of_forms(
    first: str, second: str, checkpoint: rf.Checkpoint
) -> None:
    dialect = "rustgpt" in first or "rustgpt" in second
    if dialect and not representable_in_v0(checkpoint):
        return  # refused by the writer, tested in test_dialect
    expected = expected_after_v0(checkpoint) if dialect else checkpoint
    with tempfile.TemporaryDirectory() as folder:
        back = through(through(checkpoint, first, Path(folder)), second, Path(folder))
    assert rf.dumps(back) == rf.dumps(expected)


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("model.json", "json"),
        ("model.JSON.GZ", "json.gz"),
        ("model.gz", "json.gz"),
        ("model.safetensors", "safetensors"),
        ("model", "json"),
        ("model.safetensors.json", "json"),
    ],
)
def test_the_form_written_follows_the_extension(name: str, form: str) -> None:
    assert REGISTRY.for_path(name).name == form


@pytest.mark.parametrize("form", ["json", "json.gz", "safetensors"])
def test_the_form_read_follows_the_content_whatever_the_name(form: str, tmp_path: Path) -> None:
    target = tmp_path / "misnamed.txt"
    target.write_bytes(rf.dumps(tiny_checkpoint(), form=form))  # type: ignore[arg-type]
    loaded = read(target)
    assert (loaded.form, loaded.dialect, loaded.version) == (form, "rustgpt-checkpoint", "1.0")
    assert loaded.checkpoint == tiny_checkpoint()


def test_what_read_reports_about_the_file(tmp_path: Path) -> None:
    pretty = tmp_path / "pretty.json"
    rf.save(tiny_checkpoint(), pretty, indent=2)
    loaded = read(pretty)
    assert (loaded.pretty, loaded.size, loaded.migrations) == (True, pretty.stat().st_size, ())
    old = tmp_path / "old.json.gz"
    rf.save(tiny_checkpoint(), old, dialect="rustgpt")
    with pytest.warns(rf.FormatWarning):
        loaded = read(old)
    assert (loaded.form, loaded.dialect, loaded.version, loaded.pretty) == (
        "json.gz",
        "rustgpt",
        "0",
        False,
    )
    assert [step.target for step in loaded.migrations] == ["1.0"]


@pytest.mark.parametrize("name", ["model.json", "model.json.gz", "model.safetensors"])
def test_weights_only_from_every_form(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    rf.save(tiny_checkpoint(), target)
    weights = rf.load(target, optimizer=False)
    expected = tiny_checkpoint()
    for layer in expected.network:
        for optimizer in layer.OPTIMIZERS:
            setattr(layer, optimizer, None)
    assert weights == expected


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        (
            "model.safetensors",
            {"dialect": "rustgpt"},
            "dialect: the safetensors form writes rustgpt-checkpoint, not rustgpt",
        ),
        (
            "model.safetensors",
            {"indent": 2},
            "indent: the safetensors form is binary; indent applies to JSON",
        ),
        (
            "model.json",
            {"dialect": "serde"},
            "dialect: expected one of rustgpt-checkpoint, rustgpt, found 'serde'",
        ),
        ("model.json", {"indent": 4}, "indent: expected None or 2, found 4"),
    ],
)
def test_options_a_form_cannot_honour(
    name: str, options: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError) as caught:
        rf.save(tiny_checkpoint(), tmp_path / name, **options)
    assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []
