"""Training as RustGPT does it, resumable to the bit from the checkpoint's training block.

One sequence per step, in corpus order; the loss is the mean cross-entropy over the
positions of the sequence; the gradient of the logits is clipped to L2 norm 5; every
parameter with an Adam state takes one Adam step, and ``b_out`` (which has none in the
format) moves by plain gradient descent. Nothing is random, so the training block only
needs the schedule and how far along it training is (``epochs_completed``): resuming
replays the remaining epochs exactly as an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import orjson

from rustgpt_format import (
    Checkpoint,
    OutputProjection,
    TrainingPhase,
    TrainingState,
)
from rustgpt_format.errors import warn
from rustgpt_model import network
from rustgpt_model.adam import FusedAdam
from rustgpt_model.loss import cross_entropy
from rustgpt_model.ops import Array
from rustgpt_model.threads import single_blas_thread
from rustgpt_model.tokenizer import encode


class TrainingError(ValueError):
    """A schedule or corpus that cannot continue the checkpoint's training."""


class TrainingWarning(UserWarning):
    """Training goes on, but not quite from where the checkpoint left it."""


@dataclass(frozen=True)
class Phase:
    """One phase of a schedule: a corpus trained for some epochs at one learning rate."""

    name: str
    texts: Sequence[str]
    epochs: int
    learning_rate: float

    def describe(self) -> TrainingPhase:
        """The phase as the checkpoint's training block records it."""
        return TrainingPhase(
            name=self.name,
            epochs=self.epochs,
            learning_rate=float(self.learning_rate),
            corpus_sha256=corpus_sha256(self.texts),
        )


@dataclass(frozen=True)
class EpochReport:
    """What one finished epoch reports to a progress callback."""

    phase: str
    epoch: int  # 1-based, counted across the schedule
    total_epochs: int
    loss: float
    tokens: int  # input positions trained
    seconds: float


ProgressCallback = Callable[[EpochReport], None]


def corpus_sha256(texts: Sequence[str]) -> str:
    """The SHA-256 of a corpus written as a compact JSON list of strings.

    >>> corpus_sha256(["a </s>"])[:16]
    '7ee9168aa0fa9972'
    """
    return hashlib.sha256(orjson.dumps(list(texts))).hexdigest()


class Trainer:
    """Takes training steps on a checkpoint (its arrays become views into Adam's buffers).

    Optimizer states missing from the checkpoint are started afresh, with a warning.
    The layers ``frozen`` (indices) are not trained: their parameters and Adam states
    keep their bits (``b_out`` too, when the output layer is frozen).
    """

    def __init__(self, checkpoint: Checkpoint, *, frozen: Collection[int] = ()) -> None:
        self.checkpoint = checkpoint
        # updated layer by layer in the backward pass, gradients kept in cache
        self.adam = FusedAdam(checkpoint.network, streamed=True, frozen=frozen)
        self._train_b_out = len(checkpoint.network) - 1 not in self.adam.frozen
        if self.adam.fresh:
            warn(  # pointed at the caller's line: LLM.fit, train, fine_tune or Trainer(...)
                f"the checkpoint has no optimizer state for {len(self.adam.fresh)} of "
                f"{len(self.adam.fresh) + self.adam.kept} parameters (inference only, e.g. "
                f"{self.adam.fresh[0]}): Adam starts afresh for them",
                TrainingWarning,
            )
        self._output = checkpoint.network[-1]
        self._output_grad = self.adam.gradients[-1]
        assert isinstance(self._output, OutputProjection)
        assert isinstance(self._output_grad, OutputProjection)

    def step(self, token_ids: Array, lr: float) -> float:
        """Train on one sequence (predict token i+1 from tokens ≤ i); return its loss."""
        layers = self.checkpoint.network
        adam = self.adam
        logits, caches = network.forward(layers, token_ids[:-1])  # (T, V)
        loss, grad_logits = cross_entropy(logits, token_ids[1:])  # (T, V)
        adam.begin(lr)
        # each layer's Adam update runs as soon as the backward pass is done with it
        network.backward(layers, caches, grad_logits, adam.gradients, layer_done=adam.layer_done)
        adam.finish()
        if not self._train_b_out:
            return loss
        b_out_step = self._output_grad.b_out * np.float32(lr)  # type: ignore[union-attr]  # (1, V)
        self._output.b_out -= b_out_step  # type: ignore[union-attr]
        return loss

    def sequences(self, texts: Sequence[str]) -> list[Array]:
        """The token ids of each text that has at least two tokens, cut to L + 1 tokens."""
        ckpt = self.checkpoint
        longest = ckpt.config.max_seq_len + 1
        encoded = (encode(ckpt.vocab, text)[:longest] for text in texts)
        return [np.array(ids, np.intp) for ids in encoded if len(ids) >= 2]

    def epoch(self, sequences: Sequence[Array], lr: float) -> float:
        """One pass over ``sequences`` in order; the mean of their losses."""
        total = 0.0
        with single_blas_thread():
            for token_ids in sequences:
                total += self.step(token_ids, lr)
        return total / len(sequences) if sequences else 0.0


def start(checkpoint: Checkpoint, seed: int | None = None) -> TrainingState:
    """The checkpoint's training block, created empty if it has none."""
    if checkpoint.training is None:
        checkpoint.training = TrainingState(
            schedule=[], epochs_completed=0, steps_completed=0, loss_history=[], seed=seed
        )
    return checkpoint.training


def extend(state: TrainingState, phases: Sequence[Phase]) -> None:
    """Check that ``phases`` continue the recorded schedule, and record the new ones.

    Every recorded phase must be repeated, in order, with the same name, epochs,
    learning rate and corpus; phases beyond those are appended.
    """
    for index, (recorded, phase) in enumerate(zip(state.schedule, phases, strict=False)):
        given = phase.describe()
        for field in ("name", "epochs", "learning_rate", "corpus_sha256"):
            want, found = getattr(recorded, field), getattr(given, field)
            if want != found:
                hint = (
                    " (train on the corpus the checkpoint was trained on)"
                    if field == "corpus_sha256"
                    else ""
                )
                raise TrainingError(
                    f"training.schedule[{index}].{field}: the checkpoint has {want!r}, "
                    f"found {found!r}{hint}"
                )
    if len(phases) < len(state.schedule):
        raise TrainingError(
            f"training.schedule: the checkpoint has {len(state.schedule)} phases, "
            f"found {len(phases)}"
        )
    state.schedule.extend(phase.describe() for phase in phases[len(state.schedule) :])


def run(
    trainer: Trainer,
    corpora: Mapping[int, Sequence[str]],
    *,
    max_epochs: int | None = None,
    on_epoch: ProgressCallback | None = None,
) -> None:
    """Train the epochs of the recorded schedule that are not done yet.

    ``corpora`` maps a phase's index in the schedule to its texts (only the phases still
    to run are needed); ``max_epochs`` stops early, at an epoch boundary, from where a
    later call resumes.
    """
    state = start(trainer.checkpoint)
    total = sum(phase.epochs for phase in state.schedule)
    done = 0
    prepared: dict[int, list[Array]] = {}
    while state.epochs_completed < total and (max_epochs is None or done < max_epochs):
        index = _phase_of(state.schedule, state.epochs_completed)
        phase = state.schedule[index]
        if index not in prepared:
            if index not in corpora:
                raise TrainingError(
                    f"training.schedule[{index}]: no corpus given for {phase.name!r}"
                )
            prepared[index] = trainer.sequences(corpora[index])
        sequences = prepared[index]
        began = time.perf_counter()
        loss = trainer.epoch(sequences, phase.learning_rate)
        seconds = time.perf_counter() - began
        state.epochs_completed += 1
        state.steps_completed += len(sequences)
        state.loss_history.append(loss)
        done += 1
        if on_epoch is not None:
            tokens = sum(len(ids) - 1 for ids in sequences)
            on_epoch(EpochReport(phase.name, state.epochs_completed, total, loss, tokens, seconds))


def _phase_of(schedule: Sequence[TrainingPhase], epoch: int) -> int:
    """The index of the phase that epoch number ``epoch`` (0-based) belongs to."""
    for index, phase in enumerate(schedule):
        if epoch < phase.epochs:
            return index
        epoch -= phase.epochs
    raise IndexError(epoch)
