"""A FormatWarning points at the user's line, not into the package, and names the file.

A Python user sees ``script.py:12: FormatWarning: a.json: migrated ...``; before, every
such warning was attributed to a line of ``rustgpt_format/reading.py`` or ``writing.py``,
whatever the caller, and the newer-version one did not say which file it was about.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format import errors
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_model import LLM


def caught_at(action: Callable[[], object]) -> list[tuple[str, int, str]]:
    """Run ``action``; each warning as (file, line, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [(w.filename, w.lineno, str(w.message)) for w in caught]


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# marker``."""
    lines = Path(__file__).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.endswith(f"# {marker}"))


@pytest.fixture
def rustgpt_json(tmp_path: Path) -> Path:
    path = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), path, dialect="rustgpt")
    return path


@pytest.fixture
def newer(tmp_path: Path) -> Path:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["format_version"] = "1.4"
    document["future"] = True
    path = tmp_path / "newer.json"
    path.write_bytes(orjson.dumps(document))
    return path


def test_a_migration_warning_points_at_the_load(rustgpt_json: Path) -> None:
    [(file, line, message)] = caught_at(lambda: rf.load(rustgpt_json))  # load-rustgpt
    assert (file, line) == (__file__, line_of("load-rustgpt"))
    assert message.startswith(f"{rustgpt_json}: migrated from format version 0 -> 1.0")


def test_a_newer_version_warning_points_at_the_load_and_names_the_file(newer: Path) -> None:
    [(file, line, message)] = caught_at(lambda: rf.load(newer))  # read-newer
    assert (file, line) == (__file__, line_of("read-newer"))
    assert message == (
        f"{newer}: format_version 1.4 is newer than this reader's 1.0: ignored unknown keys future"
    )


def test_bytes_are_named_as_bytes(newer: Path) -> None:
    [(file, line, message)] = caught_at(lambda: rf.loads(newer.read_bytes()))  # loads-newer
    assert (file, line) == (__file__, line_of("loads-newer"))
    assert message.startswith("<bytes>: format_version 1.4 is newer")


def test_through_the_model_package_it_still_points_at_the_user(rustgpt_json: Path) -> None:
    """``LLM.load`` calls ``rf.load``: both packages' frames are skipped."""
    [(file, line, _)] = caught_at(lambda: LLM.load(rustgpt_json))  # llm-load
    assert (file, line) == (__file__, line_of("llm-load"))


def test_the_dialect_writers_warnings_point_at_the_save(tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint().model_copy(update={"metadata": {"run": "a"}})
    for layer in checkpoint.network:
        for name in layer.OPTIMIZERS:
            setattr(layer, name, None)
    target = tmp_path / "out.json"
    warned = caught_at(lambda: rf.save(checkpoint, target, dialect="rustgpt"))  # save-dialect
    assert [(file, line) for file, line, _ in warned] == [(__file__, line_of("save-dialect"))] * 2
    assert "no place for metadata" in warned[0][2]
    assert "wrote fresh Adam states" in warned[1][2]
    dumped = caught_at(lambda: rf.dumps(checkpoint, dialect="rustgpt"))  # dumps-dialect
    assert {(file, line) for file, line, _ in dumped} == {(__file__, line_of("dumps-dialect"))}


def test_a_warning_from_a_caller_outside_the_packages_is_not_walked_past() -> None:
    """The walk stops at the first frame outside: a helper of the user's own is named."""

    def users_helper() -> None:
        errors.warn("a.json: something")  # users-helper

    [(file, line, _)] = caught_at(users_helper)
    assert (file, line) == (__file__, line_of("users-helper"))
    assert inspect.getsourcefile(errors) != __file__
