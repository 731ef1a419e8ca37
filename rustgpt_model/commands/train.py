"""``rustgpt train``: RustGPT's schedule (pre-training, then instruction tuning), resumable;
or, with ``--from``, fine-tuning a trained checkpoint on new corpora (:mod:`.finetune`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

from rustgpt_format import CheckpointError, TrainingPhase, TrainingState
from rustgpt_format.command_line import count, number
from rustgpt_model.commands import finetune
from rustgpt_model.commands.common import (
    CommandError,
    add_corpus_options,
    check_target,
    corpus,
    human,
    load_model,
)
from rustgpt_model.commands.loss_plot import check_plot_target, save_loss_plot
from rustgpt_model.corpus import CHAT, PRETRAINING
from rustgpt_model.llm import LLM
from rustgpt_model.tokenizer import build_vocab
from rustgpt_model.train import EpochReport, Phase, corpus_sha256

NAME = "train"
HELP = "train a model (RustGPT's schedule on the embedded corpus by default) and save it"

ARCHITECTURE = {"embedding_dim": 128, "hidden_dim": 256, "max_seq_len": 80, "blocks": 3, "seed": 0}


@dataclass(frozen=True)
class PhaseOptions:
    """The options and defaults of one phase of the command's schedule."""

    name: str  # as the checkpoint's training block records it
    corpus: str  # the attribute of each option on the parsed arguments
    epochs: str
    lr: str
    default_corpus: str
    default_epochs: int
    default_lr: float


SCHEDULE = (
    PhaseOptions("pretraining", "corpus", "epochs", "lr", PRETRAINING, 100, 0.0005),
    PhaseOptions("instruction_tuning", "chat_corpus", "chat_epochs", "chat_lr", CHAT, 100, 0.0001),
)
"""RustGPT's schedule: 100 epochs of each phase (``main.rs``)."""

BAR_FORMAT = "{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}"
"""tqdm's layout: the bar keeps at least 12 columns of an 80-column terminal."""


def option(attribute: str) -> str:
    """The flag of an argument attribute: ``chat_epochs`` is ``--chat-epochs``."""
    return "--" + attribute.replace("_", "-")


def configure(parser: argparse.ArgumentParser, *, out_required: bool = True) -> None:
    add_corpus_options(parser)
    schedule = parser.add_argument_group(
        "schedule (RustGPT's by default; with --resume, the checkpoint's)"
    )
    for phase in SCHEDULE:
        schedule.add_argument(
            option(phase.epochs),
            type=count(least=0),
            metavar="N",
            help=f"{human(phase.name)} epochs ({phase.default_epochs})",
        )
        schedule.add_argument(
            option(phase.lr),
            type=number(above=0),
            metavar="RATE",
            help=f"{human(phase.name)} learning rate ({phase.default_lr})",
        )
    model = parser.add_argument_group("a new model (RustGPT's sizes by default; not with --resume)")
    model.add_argument("--embedding-dim", type=count(least=1), metavar="D", help="d (128)")
    model.add_argument("--hidden-dim", type=count(least=1), metavar="H", help="h (256)")
    model.add_argument("--max-seq-len", type=count(least=1), metavar="L", help="L (80)")
    model.add_argument("--blocks", type=count(least=0), metavar="N", help="transformer blocks (3)")
    model.add_argument("--seed", type=count(least=0), help="seed of the initialisation (0)")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        required=out_required,
        default=None if out_required else Path("model.json"),
        metavar="FILE",
        help="where to save the checkpoint" + ("" if out_required else " (model.json)"),
    )
    out.add_argument(
        "--resume",
        type=Path,
        metavar="FILE",
        help="continue the checkpoint's training (its schedule and corpora unless given)",
    )
    out.add_argument(
        "--save-every",
        type=count(least=1),
        metavar="N",
        help="also save to --out after every N epochs (one line on stderr each time)",
    )
    out.add_argument(
        "--max-epochs",
        type=count(least=1),
        metavar="N",
        help="stop after N epochs of this run (continue later with --resume)",
    )
    out.add_argument(
        "--plot", type=Path, metavar="PNG", help="plot the loss per epoch (needs matplotlib)"
    )
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    finetune.configure(parser)


@dataclass(frozen=True)
class Outcome:
    """What a training run did, for the summary lines."""

    llm: LLM
    epochs: int
    tokens: int
    seconds: float
    notes: tuple[str, ...] = ()
    """What was done before training (new words, frozen layers), one line each."""


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    outcome = run_training(args, stderr)
    summarize(args, outcome, stdout)
    return 0


def run_training(args: argparse.Namespace, stderr: TextIO) -> Outcome:
    """Build or load the model, train the schedule, save; errors raise CommandError.

    Everything that can be refused is refused before the first step: the options,
    the corpora, the checkpoint to resume, and the files to write.
    """
    _check_options(args)
    notes: tuple[str, ...] = ()
    if args.base is not None:
        tuning = finetune.prepare(args, stderr, SCHEDULE)
        llm, phases, notes = tuning.llm, tuning.schedule, tuning.notes
    elif args.resume is not None:
        llm = load_model(args.resume)
        phases = phases_to_run(args, llm.checkpoint.training)
    else:
        phases = phases_to_run(args, None)
        sizes = {
            key: value if getattr(args, key) is None else getattr(args, key)
            for key, value in ARCHITECTURE.items()
        }
        llm = LLM.new(
            build_vocab([text for phase in phases for text in phase.texts]),
            embedding_dim=sizes["embedding_dim"],
            hidden_dim=sizes["hidden_dim"],
            max_seq_len=sizes["max_seq_len"],
            num_blocks=sizes["blocks"],
            seed=sizes["seed"],
        )
    state = llm.checkpoint.training
    done = state.epochs_completed if state is not None else 0
    total = sum(phase.epochs for phase in phases)
    bar = tqdm(
        desc=_label(_phase_at(phases, done)),
        total=total,
        initial=done,
        unit="epoch",
        file=stderr,
        ncols=_columns(stderr),
        bar_format=BAR_FORMAT,
        disable=args.quiet or not stderr.isatty(),
    )
    counted = {"tokens": 0, "epochs": 0}

    def on_epoch(report: EpochReport) -> None:
        counted["tokens"] += report.tokens
        counted["epochs"] += 1
        rate = report.tokens / report.seconds if report.seconds > 0 else 0.0
        bar.set_description_str(_label(report.phase), refresh=False)
        bar.set_postfix_str(f"loss {report.loss:.4f} · {rate:,.0f} tok/s", refresh=False)
        bar.update(1)
        last = report.epoch == report.total_epochs or counted["epochs"] == args.max_epochs
        if args.save_every and report.epoch % args.save_every == 0 and not last:
            _save_periodically(llm, args.out, report, bar, stderr)  # the last: the final save

    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if args.base is not None:
                llm.fine_tune(tuning.phases, on_epoch=on_epoch)
            else:
                llm.fit(phases, max_epochs=args.max_epochs, on_epoch=on_epoch)
        finally:
            bar.close()
            for warning in caught:
                stderr.write(f"rustgpt: warning: {warning.message}\n")
    seconds = time.perf_counter() - began
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_or_rescue(llm, args.out)  # RustGPT's .bin has no place for the training block
    for warning in caught:
        stderr.write(f"rustgpt: warning: {warning.message}\n")
    if args.plot is not None:
        _plot(llm, args.plot, args.out)
    return Outcome(llm, counted["epochs"], counted["tokens"], seconds, notes)


def summarize(args: argparse.Namespace, outcome: Outcome, stdout: TextIO) -> None:
    state = outcome.llm.checkpoint.training
    assert state is not None
    rate = f" ({outcome.tokens / outcome.seconds:,.0f} tokens/s)" if outcome.seconds > 0 else ""
    final = f"; final loss {state.loss_history[-1]:.4f}" if state.loss_history else ""
    for note in outcome.notes:
        stdout.write(f"{note}\n")
    stdout.write(
        f"trained {outcome.epochs} epochs in {outcome.seconds:.1f} s{rate}{final}; "
        f"epoch {state.epochs_completed} of {sum(p.epochs for p in state.schedule)}\n"
    )
    stdout.write(f"saved {args.out}\n")
    if args.plot is not None:
        stdout.write(f"plotted {args.plot}\n")


def save_or_rescue(llm: LLM, path: Path) -> None:
    """Save to ``path``; if that fails, save where it can and say where in the error.

    The model is the product of the whole run: losing it to a folder removed or a
    disk filled during training is worse than a file in an unexpected place.
    """
    try:
        llm.save(path)
        return
    except CheckpointError as error:
        reason = str(error)
    name = f"rustgpt-rescued-{os.getpid()}{''.join(path.suffixes) or '.json'}"
    folders = []
    with contextlib.suppress(OSError):  # the current folder may have been removed too
        folders.append(Path.cwd())
    folders.append(Path(tempfile.gettempdir()))
    for folder in folders:
        try:
            llm.save(folder / name)
        except CheckpointError:
            continue
        raise CommandError(
            f"{reason}; the trained model was saved to {folder / name} instead"
        ) from None
    tried = " or ".join(str(folder) for folder in folders)
    raise CommandError(f"{reason}; the trained model could not be saved in {tried} either")


def _save_periodically(
    llm: LLM, path: Path, report: EpochReport, bar: tqdm[Any], stderr: TextIO
) -> None:
    try:
        llm.save(path)
    except CheckpointError as error:  # the final save still rescues the model
        bar.write(f"rustgpt: warning: {error} (training goes on)", file=stderr)
        return
    bar.write(f"saved {path} (epoch {report.epoch} of {report.total_epochs})", file=stderr)


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` draws on (``COLUMNS`` first, 80 if unknown)."""
    if "COLUMNS" not in os.environ:
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a terminal, or no file at all
            pass
    return shutil.get_terminal_size((80, 24)).columns


def _label(phase_name: str) -> str:
    width = max(len(human(phase.name)) for phase in SCHEDULE)
    return f"{human(phase_name):<{width}}"


def _phase_at(phases: Sequence[Phase], epoch: int) -> str:
    """The name of the phase that 0-based ``epoch`` falls in (the last when all are done)."""
    for phase in phases:
        if epoch < phase.epochs:
            return phase.name
        epoch -= phase.epochs
    return phases[-1].name


def phases_to_run(args: argparse.Namespace, state: TrainingState | None) -> list[Phase]:
    """The schedule to run: the checkpoint's recorded phases, then the options' defaults.

    An option given with ``--resume`` must agree with what the checkpoint recorded; a
    corpus left out must be the embedded one the checkpoint was trained on.
    """
    recorded = state.schedule if state is not None else []
    if len(recorded) > len(SCHEDULE):
        raise CommandError(
            f"{args.resume}: training.schedule has {len(recorded)} phases; rustgpt train runs "
            f"{len(SCHEDULE)} (pre-training, instruction tuning): continue it with LLM.fit"
        )
    phases = []
    for index, options in enumerate(SCHEDULE):
        name, texts = corpus(getattr(args, options.corpus), options.default_corpus)
        epochs, lr = getattr(args, options.epochs), getattr(args, options.lr)
        if index < len(recorded):
            stored = recorded[index]
            _agree(args, index, stored, options, epochs, lr, name, texts)
            phases.append(Phase(stored.name, texts, stored.epochs, stored.learning_rate))
        else:
            phases.append(
                Phase(
                    options.name,
                    texts,
                    options.default_epochs if epochs is None else epochs,
                    options.default_lr if lr is None else lr,
                )
            )
    return phases


def _agree(
    args: argparse.Namespace,
    index: int,
    stored: TrainingPhase,
    options: PhaseOptions,
    epochs: int | None,
    lr: float | None,
    corpus_name: str,
    texts: Sequence[str],
) -> None:
    """Refuse an option that contradicts the recorded phase, naming both values."""
    place = f"training.schedule[{index}]"
    schedule = f"the schedule of {args.resume} has"
    if epochs is not None and epochs != stored.epochs:
        raise CommandError(
            f"{option(options.epochs)} {epochs} conflicts with the checkpoint: {schedule} "
            f"{stored.epochs} epochs of {human(stored.name)} ({place}.epochs); leave out "
            f"{option(options.epochs)} to continue it"
        )
    if lr is not None and lr != stored.learning_rate:
        raise CommandError(
            f"{option(options.lr)} {lr:g} conflicts with the checkpoint: {schedule} a "
            f"learning rate of {stored.learning_rate:g} for {human(stored.name)} "
            f"({place}.learning_rate); leave out {option(options.lr)} to continue it"
        )
    found = corpus_sha256(texts)
    if stored.corpus_sha256 is not None and found != stored.corpus_sha256:
        given = getattr(args, options.corpus)
        if given is not None:
            raise CommandError(
                f"{option(options.corpus)} {given} conflicts with the checkpoint: {schedule} "
                f"another {human(stored.name)} corpus ({place}.corpus_sha256 is "
                f"{stored.corpus_sha256[:12]}…, the file's {found[:12]}…)"
            )
        raise CommandError(
            f"{args.resume} was not trained on the {corpus_name} for {human(stored.name)} "
            f"({place}.corpus_sha256 is {stored.corpus_sha256[:12]}…): give its corpus "
            f"with {option(options.corpus)} FILE"
        )


def _check_options(args: argparse.Namespace) -> None:
    finetune.check_options(args, ARCHITECTURE)
    if args.resume is not None:
        given = [key for key in ARCHITECTURE if getattr(args, key) is not None]
        if given:
            raise CommandError(
                f"{option(given[0])}: not allowed with --resume (the checkpoint fixes the model)"
            )
    check_target(args.out, "--out")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError(
                "--plot needs matplotlib: pip install 'rustgpt-format[plot]'"
            ) from None
        check_plot_target(args.plot, args.out)


def _plot(llm: LLM, path: Path, out: Path) -> None:
    state = llm.checkpoint.training
    assert state is not None
    try:
        save_loss_plot(state, path)
    except OSError as error:
        raise CommandError(
            f"cannot write {path}: {error.strerror or error} (the model is saved in {out})"
        ) from None
