"""Where training stands, for exact resumption (contract §7)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictFloat, StrictInt, StrictStr, model_validator

from rustgpt_format.errors import FieldError
from rustgpt_format.models.base import FormatModel

Count = Annotated[StrictInt, Field(ge=0)]
PROGRESS = "§7 progress agrees with the schedule"


class TrainingPhase(FormatModel):
    """One phase of the schedule: a corpus trained for some epochs at one learning rate."""

    name: StrictStr
    epochs: Count
    learning_rate: Annotated[StrictFloat, Field(gt=0, allow_inf_nan=False)]
    corpus_sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


class TrainingState(FormatModel):
    """The schedule and how far along it training is.

    ``epochs_completed`` counts across phases in order; ``loss_history`` holds the mean
    loss of each completed epoch; ``steps_completed`` counts optimizer steps.

    >>> phase = TrainingPhase(name="pretraining", epochs=100, learning_rate=0.0005)
    >>> TrainingState(schedule=[phase], epochs_completed=1, loss_history=[4.2]).epochs_completed
    1
    """

    schedule: list[TrainingPhase]
    epochs_completed: Count
    steps_completed: Count = 0
    loss_history: list[Annotated[StrictFloat, Field(allow_inf_nan=False)]]
    seed: StrictInt | None = None

    @model_validator(mode="after")
    def _history_matches(self) -> TrainingState:
        self._check_progress()
        return self

    # the rule lives outside the decorated validator so that mutation testing reaches
    # it (mutmut leaves decorated functions alone)
    def _check_progress(self) -> None:
        total = sum(phase.epochs for phase in self.schedule)
        if self.epochs_completed > total:
            raise FieldError(
                f"expected at most {total} (the epochs of the schedule), "
                f"found {self.epochs_completed}",
                "epochs_completed",
                rule=PROGRESS,
            )
        if len(self.loss_history) != self.epochs_completed:
            raise FieldError(
                f"expected {self.epochs_completed} losses (one per completed epoch), "
                f"found {len(self.loss_history)}",
                "loss_history",
                rule=PROGRESS,
            )
