"""§7 from a document: the training block's progress agrees with its schedule."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.models.training import PROGRESS

SCHEDULE = [
    {"name": "pretraining", "epochs": 2, "learning_rate": 0.005},
    {"name": "instruction_tuning", "epochs": 1, "learning_rate": 0.001},
]


def with_training(**training: Any) -> bytes:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["training"] = {"schedule": SCHEDULE, **training}
    return orjson.dumps(document)


# (why it is invalid, training block, path, message)
PROGRESS_ROWS = [
    (
        "more epochs done than the schedule has",
        {"epochs_completed": 4, "loss_history": [4.0, 3.0, 2.0, 1.0]},
        "training.epochs_completed",
        "expected at most 3 (the epochs of the schedule), found 4",
    ),
    (
        "a loss short",
        {"epochs_completed": 2, "loss_history": [4.0]},
        "training.loss_history",
        "expected 2 losses (one per completed epoch), found 1",
    ),
    (
        "a loss too many",
        {"epochs_completed": 0, "loss_history": [4.0]},
        "training.loss_history",
        "expected 0 losses (one per completed epoch), found 1",
    ),
]


@pytest.mark.parametrize(
    ("why", "training", "path", "message"), PROGRESS_ROWS, ids=[r[0] for r in PROGRESS_ROWS]
)
def test_progress_that_disagrees_with_the_schedule_is_named(
    why: str, training: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(with_training(**training))
    assert (caught.value.path, caught.value.message) == (path, message)
    assert [problem.rule for problem in caught.value.problems] == [PROGRESS]


@pytest.mark.parametrize("done", [0, 2, 3])
def test_progress_up_to_the_end_of_the_schedule_is_read(done: int) -> None:
    ckpt = rf.loads(with_training(epochs_completed=done, loss_history=[1.5] * done))
    assert ckpt.training is not None
    assert (ckpt.training.epochs_completed, ckpt.training.loss_history) == (done, [1.5] * done)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_learning_rate_or_loss_that_is_not_finite_is_refused(value: float) -> None:
    # a document cannot hold these (the JSON reader refuses them): Python can
    with pytest.raises(ValidationError, match=r"learning_rate\n  Input should be a finite"):
        rf.TrainingPhase(name="pretraining", epochs=1, learning_rate=value)
    phase = rf.TrainingPhase(name="pretraining", epochs=1, learning_rate=0.01)
    with pytest.raises(ValidationError, match=r"loss_history\.0\n  Input should be a finite"):
        rf.TrainingState(schedule=[phase], epochs_completed=1, loss_history=[value])


def phase(**change: Any) -> Any:
    return lambda t: t["schedule"][0].update(change)


# (a change to a valid training block, path, message)
FIELDS = [
    (
        lambda t: t.update(epochs_completed=-1),
        "training.epochs_completed",
        "expected a value ≥ 0, found -1",
    ),
    (
        lambda t: t.update(steps_completed=-1),
        "training.steps_completed",
        "expected a value ≥ 0, found -1",
    ),
    (phase(epochs=-1), "training.schedule[0].epochs", "expected a value ≥ 0, found -1"),
    (
        phase(corpus_sha256="a" * 63),  # a hex digit short
        "training.schedule[0].corpus_sha256",
        "expected a string matching ^[0-9a-f]{64}$, found string '" + "a" * 37 + "...'",
    ),
    (
        phase(corpus_sha256="A" * 64),  # hex, but upper case
        "training.schedule[0].corpus_sha256",
        "expected a string matching ^[0-9a-f]{64}$, found string '" + "A" * 37 + "...'",
    ),
]


@pytest.mark.parametrize(("change", "path", "message"), FIELDS)
def test_a_count_below_zero_or_a_digest_not_64_hex_digits_is_named(
    change: Any, path: str, message: str
) -> None:
    document = orjson.loads(with_training(epochs_completed=1, loss_history=[2.0]))
    change(document["training"])
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document))
    assert (caught.value.path, caught.value.message) == (path, message)


def test_a_digest_of_64_lower_case_hex_digits_is_read() -> None:
    document = orjson.loads(with_training(epochs_completed=1, loss_history=[2.0]))
    document["training"]["schedule"][0]["corpus_sha256"] = "0123456789abcdef" * 4
    assert rf.loads(orjson.dumps(document)).training.schedule[0].corpus_sha256[:4] == "0123"  # type: ignore[union-attr]
