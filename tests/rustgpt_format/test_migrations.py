"""The upgrade registry: steps in order, problems mapped back through every step."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import pytest

import rustgpt_format as rf
from rustgpt_format.boundary import validated
from rustgpt_format.cli import run
from rustgpt_format.codec import parse
from rustgpt_format.dialect import Upgraded
from rustgpt_format.errors import Problem
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.migrations import MIGRATIONS, Migration, document_version, upgrade

V0 = Path(__file__).parents[1] / "fixtures" / "v0"


def test_the_registry_is_a_chain_ending_at_the_current_version() -> None:
    assert [(step.source, step.target) for step in MIGRATIONS] == [("0", "1.0")]
    for earlier, later in itertools.pairwise(MIGRATIONS):
        assert earlier.target == later.source
    assert MIGRATIONS[-1].target == rf.FORMAT_VERSION


@pytest.mark.parametrize(
    ("document", "version"),
    [
        ({"vocab": {}, "network": []}, "0"),  # RustGPT's dialect: no format key
        ({"format": "rustgpt-checkpoint", "format_version": "1.0"}, "1.0"),
        ({"format": "rustgpt-checkpoint", "format_version": "1.7"}, "1.7"),
        ({"format": "rustgpt-checkpoint"}, "1.0"),  # the validator reports the missing key
        ([], "1.0"),  # not an object: left to the validator
    ],
)
def test_document_version(document: Any, version: str) -> None:
    assert document_version(document) == version


@pytest.mark.parametrize("path", sorted(V0.glob("tiny.*.json")), ids=lambda path: path.name)
def test_the_v0_step_on_every_stored_fixture(path: Path) -> None:
    if path.name in ("tiny.migrated-1.0.json",):
        assert upgrade(parse(path.read_bytes())).steps == ()
        return
    done = upgrade(parse(path.read_bytes()))
    assert done.steps == MIGRATIONS[:1]
    assert done.source == "0"
    assert document_version(done.document) == "1.0"
    assert (
        rf.dumps(validated(rf.Checkpoint, done.document), indent=2)
        == (V0 / "tiny.migrated-1.0.json").read_bytes()
    )


# A made-up history, to test the mechanism beyond the one real step: version "0.1"
# named the vocab "tokens", version "0.2" called the network "layers".


def _rename(old: str, new: str, version: str) -> Any:
    def step(document: dict[str, Any]) -> Upgraded:
        upgraded = {key: value for key, value in document.items() if key != old}
        upgraded[new] = document.get(old)
        upgraded["format_version"] = version

        def old_problem(problem: Problem) -> Problem:
            path = old + problem.path[len(new) :] if problem.path.startswith(new) else problem.path
            return Problem(path, problem.message, problem.rule)

        return Upgraded(upgraded, old_problem)

    return step


HISTORY = (
    Migration("0.1", "0.2", "tokens became vocab", _rename("tokens", "vocab", "0.2")),
    Migration("0.2", "1.0", "layers became network", _rename("layers", "network", "1.0")),
)


def test_steps_run_in_order_and_errors_map_back_through_each() -> None:
    document = tiny_checkpoint().model_dump(context={"wire": True})
    document["format_version"] = "0.1"
    document["tokens"] = document.pop("vocab")
    document["layers"] = document.pop("network")
    document["layers"][1]["w_q"] = {"v": 1, "dim": [4, 3], "data": [0.0] * 12}
    done = upgrade(document, migrations=HISTORY)
    assert [step.target for step in done.steps] == ["0.2", "1.0"]
    assert done.source == "0.1"
    with pytest.raises(rf.CheckpointError) as caught:
        validated(rf.Checkpoint, done.document)
    assert caught.value.path == "network[1].w_q"
    assert done.old_error(caught.value).path == "layers[1].w_q"
    assert done.old_error(caught.value).message == caught.value.message


def test_an_error_raised_by_a_later_step_is_mapped_through_the_earlier_ones() -> None:
    def refuse(document: dict[str, Any]) -> Upgraded:
        raise rf.CheckpointError("expected something else", path="vocab.words")

    history = (HISTORY[0], Migration("0.2", "1.0", "refuses", refuse))
    with pytest.raises(rf.CheckpointError) as caught:
        upgrade({"format_version": "0.1", "tokens": {}}, migrations=history)
    assert caught.value.path == "tokens.words"


def test_a_loop_in_the_registry_is_a_bug_not_a_hang() -> None:
    def back_to_start(document: dict[str, Any]) -> Upgraded:
        return Upgraded({**document, "format_version": "0.1"}, lambda problem: problem)

    history = (Migration("0.1", "0.1", "loops", back_to_start),)
    with pytest.raises(ValueError, match=r"migrations loop at version 0\.1"):
        upgrade({"format_version": "0.1"}, migrations=history)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_migrate_command(tmp_path: Path) -> None:
    source, target = V0 / "tiny.pretty.shuffled.caches-present.json", tmp_path / "new.json"
    assert cli("migrate", str(source), str(target), "--pretty") == (
        0,
        f"{source}: migrated 0 -> 1.0; wrote {target}\n",
        "",
    )
    assert target.read_bytes() == (V0 / "tiny.migrated-1.0.json").read_bytes()
    again = tmp_path / "again.safetensors"
    assert cli("migrate", str(target), str(again)) == (
        0,
        f"{target}: already at version 1.0; wrote {again}\n",
        "",
    )
    assert rf.dumps(rf.load(again), indent=2) == target.read_bytes()


def test_migrate_reports_problems_at_old_paths(tmp_path: Path) -> None:
    source = tmp_path / "old.json"
    source.write_bytes(
        (V0 / "tiny.compact.caches-null.json").read_bytes().replace(b'"world":1', b'"world":0')
    )
    code, out, err = cli("migrate", str(source), str(tmp_path / "new.json"))
    assert (code, out) == (1, "")
    assert err == (
        f"{source}: vocab.encode[\"world\"]: expected 1 (the index of 'world' in "
        "vocab.words), found 0\n"
    )
    assert not (tmp_path / "new.json").exists()


def test_migrate_usage_errors(tmp_path: Path) -> None:
    code, out, err = cli("migrate", "a.json", str(tmp_path / "b.safetensors"), "--pretty")
    assert (code, out) == (2, "")
    assert err == (
        "rustgpt-format migrate: error: --pretty applies to JSON; the safetensors form is binary\n"
    )
    assert cli("migrate", "a.json")[0] == 2
