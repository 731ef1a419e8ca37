"""Version policy (contract §8): 1.x reads 1.y; another major version is refused."""

from __future__ import annotations

import warnings

import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.boundary import validated
from rustgpt_format.examples import tiny_checkpoint


def document(version: str, **extra: object) -> dict[str, object]:
    base = orjson.loads(rf.dumps(tiny_checkpoint()))
    base["format_version"] = version
    base.update(extra)
    return base


def with_layer_key(version: str) -> bytes:
    base = document(version, future={"a": 1})
    base["network"][1]["dropout"] = 0.1  # type: ignore[index]
    return orjson.dumps(base)


def test_unknown_keys_of_a_newer_minor_are_ignored_with_a_warning() -> None:
    with pytest.warns(rf.FormatWarning) as caught:
        checkpoint = rf.loads(with_layer_key("1.3"))
    assert [str(w.message) for w in caught] == [
        "<bytes>: format_version 1.3 is newer than this reader's 1.0: ignored unknown keys "
        "future, network[1].dropout"
    ]
    assert checkpoint.format_version == "1.0"  # it is written back as what it now is
    assert checkpoint == tiny_checkpoint()


def test_unknown_keys_of_the_same_minor_are_errors() -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(with_layer_key("1.0"))
    assert {p.path for p in caught.value.problems} == {"future", "network[1].dropout"}


def test_a_newer_minor_without_unknown_keys_reads_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rf.loads(orjson.dumps(document("1.7"))) == tiny_checkpoint()


def test_a_newer_minor_with_real_errors_still_reports_them() -> None:
    base = document("1.2", future=1)
    base["config"]["vocab_size"] = 9  # type: ignore[index]
    with pytest.warns(rf.FormatWarning), pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(base))
    assert caught.value.path == "vocab.words"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (
            "2.0",
            "written by a newer rustgpt-format (format 2.0); this reader reads 1.x: upgrade rustgpt-format to read it",
        ),
        ("0.9", "this reader reads format 1.x (it writes 1.0), found version 0.9; migrate it"),
        ("1", "expected a version \"MAJOR.MINOR\" such as '1.0', found string '1'"),
        ("01.0", "expected a version \"MAJOR.MINOR\" such as '1.0', found string '01.0'"),
    ],
)
def test_versions_this_reader_cannot_read(version: str, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document(version)))
    assert (caught.value.path, caught.value.message) == ("format_version", message)


def test_rustgpt_dialect_is_recognised_and_named() -> None:
    dialect = {"vocab": {"words": ["</s>"]}, "network": []}
    with pytest.raises(rf.CheckpointError) as caught:
        validated(rf.Checkpoint, dialect)
    assert caught.value.path == "format"
    assert "RustGPT's own JSON (version 0)" in caught.value.message


@pytest.mark.parametrize("ours", ["format_version", "config", "training", "metadata"])
def test_a_document_of_ours_without_its_format_key_is_named_as_that(ours: str) -> None:
    """RustGPT's LLM has only a vocab and a network: a key of ours means the document is
    one of ours that lost ``format``, not RustGPT's (whose layers would be blamed)."""
    written = orjson.loads(rf.dumps(tiny_checkpoint()))
    written.setdefault(ours, {} if ours != "format_version" else "1.0")
    del written["format"]
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(written))
    assert (caught.value.path, caught.value.message) == (
        "format",
        "missing required key (expected 'rustgpt-checkpoint')",
    )


def test_python_construction_defaults_to_the_current_version() -> None:
    checkpoint = tiny_checkpoint()
    assert (checkpoint.format, checkpoint.format_version) == ("rustgpt-checkpoint", "1.0")
    assert rf.FORMAT_VERSION == "1.0"
