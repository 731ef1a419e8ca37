"""``rustgpt demo``: train the default model, save, validate, reload and answer a prompt.

The demo trains as ``rustgpt train`` does, with one difference: instruction tuning
stops as soon as the model reproduces every dialogue of the chat corpus (checked after
:data:`FIRST_CHECK` epochs of it, then every :data:`CHECK_EVERY`). The checkpoint records
RustGPT's whole schedule and where training stopped, so ``rustgpt train --resume``
finishes it. ``rustgpt train`` itself always runs the whole schedule.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import TextIO

from rustgpt_format.validation import check_bytes
from rustgpt_format.versions import FORMAT_VERSION
from rustgpt_model.commands import train
from rustgpt_model.commands.common import CommandError, corpus, load_model
from rustgpt_model.corpus import CHAT
from rustgpt_model.evaluate import reproduction
from rustgpt_model.train import EpochReport

NAME = "demo"
HELP = (
    "the whole job in one command: train (as 'train', instruction tuning ending once every "
    "dialogue is reproduced), save, validate the file against the JSON Schema and the "
    "reader, reload it and answer a prompt"
)

PROMPT = "User: How do bees make honey?"

FIRST_CHECK = 20
"""Instruction-tuning epochs before the dialogues are first checked."""

CHECK_EVERY = 5
"""Instruction-tuning epochs between two checks after that."""


def configure(parser: argparse.ArgumentParser) -> None:
    train.configure(parser, out_required=False)
    parser.add_argument(
        "--prompt", default=PROMPT, help=f"what to ask the reloaded model ({PROMPT!r})"
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    began = time.perf_counter()
    name, dialogues = corpus(args.chat_corpus, CHAT)
    early = _stops_early(args)
    if early:
        args.max_epochs = _pretraining_epochs(args) + FIRST_CHECK
    outcome = train.run_training(args, stderr)
    stopped = None
    if early:
        try:
            outcome, stopped = _tune_until_learned(args, outcome, dialogues)
        except ValueError as error:
            raise CommandError(f"{name}: {error}") from None
    train.summarize(args, outcome, stdout)
    try:
        data = args.out.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {args.out}: {error.strerror or error}") from None
    problems = check_bytes(data)
    for problem in problems:
        stderr.write(f"{args.out}: {problem} [{problem.rule}]\n")
    if problems:
        return 1
    stdout.write(
        f"validated {args.out}: rustgpt-checkpoint {FORMAT_VERSION}, JSON Schema and reader rules "
        f"({len(data) / 2**20:.1f} MiB)\n"
    )
    reloaded = load_model(args.out)
    try:
        answered = reproduction(reloaded.checkpoint, dialogues)
    except ValueError as error:
        raise CommandError(f"{name}: {error}") from None
    stdout.write(
        f"reloaded {args.out}: {answered.reproduced} of {answered.dialogues} dialogues of the "
        f"{name} reproduced exactly\n"
    )
    stdout.write(f"{args.prompt}\n{reloaded.predict(args.prompt)}\n")
    note = ""
    if stopped is not None:
        note = (
            f"; instruction tuning stopped at epoch {stopped.epoch} of {stopped.epochs}, every "
            f"dialogue learned ('rustgpt train --resume {args.out} --out FILE' finishes "
            "RustGPT's schedule)"
        )
    stdout.write(f"done in {time.perf_counter() - began:.1f} s{note}\n")
    return 0


@dataclass(frozen=True)
class Stop:
    """Where instruction tuning stopped: at ``epoch`` of its ``epochs``."""

    epoch: int
    epochs: int


def _stops_early(args: argparse.Namespace) -> bool:
    """Only a fresh run of the whole schedule stops early; a run the user bounded does not."""
    return (
        args.max_epochs is None
        and args.resume is None
        and getattr(args, "base", None) is None
        and _tuning_epochs(args) > FIRST_CHECK
    )


def _pretraining_epochs(args: argparse.Namespace) -> int:
    first = train.SCHEDULE[0]
    given: int | None = getattr(args, first.epochs)
    return first.default_epochs if given is None else given


def _tuning_epochs(args: argparse.Namespace) -> int:
    last = train.SCHEDULE[-1]
    given: int | None = getattr(args, last.epochs)
    return last.default_epochs if given is None else given


def _tune_until_learned(
    args: argparse.Namespace, outcome: train.Outcome, dialogues: list[str]
) -> tuple[train.Outcome, Stop | None]:
    """Go on with instruction tuning, :data:`CHECK_EVERY` epochs at a time, until the
    model reproduces every dialogue or the schedule ends; save if it trained more.

    Returns the outcome of the whole run and where tuning stopped (None: it ran out).
    """
    llm = outcome.llm
    state = llm.checkpoint.training
    assert state is not None
    phases = train.phases_to_run(args, None)  # what a fresh run records (fit checks it)
    total = sum(phase.epochs for phase in state.schedule)
    tuning_starts = total - state.schedule[-1].epochs
    epochs, tokens, seconds = outcome.epochs, outcome.tokens, outcome.seconds
    while state.epochs_completed < total:
        answered = reproduction(llm.checkpoint, dialogues)
        if answered.reproduced == answered.dialogues:
            break
        reports: list[EpochReport] = []
        began = time.perf_counter()
        llm.fit(phases, max_epochs=CHECK_EVERY, on_epoch=reports.append)
        seconds += time.perf_counter() - began
        epochs += len(reports)
        tokens += sum(report.tokens for report in reports)
    if epochs > outcome.epochs:
        train.save_or_rescue(llm, args.out)
    whole = train.Outcome(llm, epochs, tokens, seconds)
    if state.epochs_completed >= total:
        return whole, None
    return whole, Stop(state.epochs_completed - tuning_starts, total - tuning_starts)
