"""``rustgpt train``: RustGPT's schedule (pre-training, then instruction tuning), resumable."""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

from rustgpt_model.commands.common import CommandError, add_corpus_options, corpus, load_model
from rustgpt_model.corpus import CHAT, PRETRAINING
from rustgpt_model.llm import LLM
from rustgpt_model.tokenizer import build_vocab
from rustgpt_model.train import EpochReport, Phase

NAME = "train"
HELP = "train a model (RustGPT's schedule on the embedded corpus by default) and save it"

ARCHITECTURE = {"embedding_dim": 128, "hidden_dim": 256, "max_seq_len": 80, "blocks": 3, "seed": 0}


def configure(parser: argparse.ArgumentParser, *, out_required: bool = True) -> None:
    add_corpus_options(parser)
    schedule = parser.add_argument_group("schedule (RustGPT's by default)")
    schedule.add_argument("--epochs", type=int, default=100, help="pre-training epochs (100)")
    schedule.add_argument(
        "--lr", type=float, default=0.0005, help="pre-training learning rate (0.0005)"
    )
    schedule.add_argument(
        "--chat-epochs", type=int, default=100, help="instruction-tuning epochs (100)"
    )
    schedule.add_argument(
        "--chat-lr", type=float, default=0.0001, help="instruction-tuning learning rate (0.0001)"
    )
    model = parser.add_argument_group("a new model (RustGPT's sizes by default; not with --resume)")
    model.add_argument("--embedding-dim", type=int, help="d (128)")
    model.add_argument("--hidden-dim", type=int, help="h (256)")
    model.add_argument("--max-seq-len", type=int, help="L (80)")
    model.add_argument("--blocks", type=int, help="transformer blocks (3)")
    model.add_argument("--seed", type=int, help="seed of the initialisation (0)")
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
        help="continue the checkpoint's training (same schedule and corpora as its first run)",
    )
    out.add_argument("--save-every", type=int, metavar="N", help="also save after every N epochs")
    out.add_argument(
        "--max-epochs",
        type=int,
        metavar="N",
        help="stop after N epochs of this run (continue later with --resume)",
    )
    out.add_argument(
        "--plot", type=Path, metavar="PNG", help="plot the loss per epoch (needs matplotlib)"
    )
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


@dataclass(frozen=True)
class Outcome:
    """What a training run did, for the summary lines."""

    llm: LLM
    epochs: int
    tokens: int
    seconds: float


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    outcome = run_training(args, stderr)
    summarize(args, outcome, stdout)
    return 0


def run_training(args: argparse.Namespace, stderr: TextIO) -> Outcome:
    """Build or load the model, train the schedule, save; errors raise CommandError."""
    _check_options(args)
    _, pretraining = corpus(args.corpus, PRETRAINING)
    _, chat = corpus(args.chat_corpus, CHAT)
    phases = [
        Phase("pretraining", pretraining, args.epochs, args.lr),
        Phase("instruction_tuning", chat, args.chat_epochs, args.chat_lr),
    ]
    if args.resume is not None:
        llm = load_model(args.resume)
    else:
        sizes = {
            key: value if getattr(args, key) is None else getattr(args, key)
            for key, value in ARCHITECTURE.items()
        }
        llm = LLM.new(
            build_vocab(pretraining + chat),
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
        total=total,
        initial=done,
        unit="epoch",
        file=stderr,
        dynamic_ncols=True,
        disable=args.quiet or not stderr.isatty(),
    )
    counted = {"tokens": 0, "epochs": 0}

    def on_epoch(report: EpochReport) -> None:
        counted["tokens"] += report.tokens
        counted["epochs"] += 1
        bar.set_postfix_str(
            f"{report.phase} loss {report.loss:.4f} {report.tokens / report.seconds:,.0f} tok/s"
        )
        bar.update(1)
        if args.save_every and report.epoch % args.save_every == 0:
            llm.save(args.out)

    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            llm.fit(phases, max_epochs=args.max_epochs, on_epoch=on_epoch)
        finally:
            bar.close()
            for warning in caught:
                stderr.write(f"rustgpt: warning: {warning.message}\n")
    seconds = time.perf_counter() - began
    llm.save(args.out)
    if args.plot is not None:
        _plot(llm, args.plot)
    return Outcome(llm, counted["epochs"], counted["tokens"], seconds)


def summarize(args: argparse.Namespace, outcome: Outcome, stdout: TextIO) -> None:
    state = outcome.llm.checkpoint.training
    assert state is not None
    rate = f" ({outcome.tokens / outcome.seconds:,.0f} tokens/s)" if outcome.seconds > 0 else ""
    final = f"; final loss {state.loss_history[-1]:.4f}" if state.loss_history else ""
    stdout.write(
        f"trained {outcome.epochs} epochs in {outcome.seconds:.1f} s{rate}{final}; "
        f"epoch {state.epochs_completed} of {sum(p.epochs for p in state.schedule)}\n"
    )
    stdout.write(f"saved {args.out}\n")
    if args.plot is not None:
        stdout.write(f"plotted {args.plot}\n")


def _check_options(args: argparse.Namespace) -> None:
    for name, least in (("epochs", 0), ("chat_epochs", 0), ("save_every", 1), ("max_epochs", 1)):
        value = getattr(args, name)
        if value is not None and value < least:
            option = "--" + name.replace("_", "-")
            raise CommandError(f"{option}: expected a count >= {least}, found {value}")
    for name in ("lr", "chat_lr"):
        if not getattr(args, name) > 0:
            raise CommandError(
                f"--{name.replace('_', '-')}: expected a number > 0, found {getattr(args, name)}"
            )
    for name in ("embedding_dim", "hidden_dim", "max_seq_len"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CommandError(
                f"--{name.replace('_', '-')}: expected an integer >= 1, found {value}"
            )
    if args.blocks is not None and args.blocks < 0:
        raise CommandError(f"--blocks: expected a count >= 0, found {args.blocks}")
    if args.resume is not None:
        given = [key for key in ARCHITECTURE if getattr(args, key) is not None]
        if given:
            option = "--" + given[0].replace("_", "-")
            raise CommandError(
                f"{option}: not allowed with --resume (the checkpoint fixes the model)"
            )
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError(
                "--plot needs matplotlib: pip install 'rustgpt-format[plot]'"
            ) from None


def _plot(llm: LLM, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    state = llm.checkpoint.training
    assert state is not None
    figure, axes = plt.subplots(figsize=(7, 4))
    epochs = range(1, len(state.loss_history) + 1)
    axes.plot(epochs, state.loss_history, color="tab:blue")
    start = 0
    for phase in state.schedule:
        if 0 < start < len(state.loss_history):
            axes.axvline(start + 0.5, color="gray", linestyle=":")
        axes.annotate(
            phase.name, (start + 1, 0.98), xycoords=("data", "axes fraction"), va="top", fontsize=8
        )
        start += phase.epochs
    axes.set(
        xlabel="epoch", ylabel="mean cross-entropy", yscale="log", title="RustGPT training loss"
    )
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
