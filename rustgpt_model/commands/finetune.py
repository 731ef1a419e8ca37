"""``rustgpt train --from``: fine-tuning a trained checkpoint on new corpora.

A schedule that stopped early ends where it stopped; each corpus given adds one phase after it
(``fine_tuning`` for ``--corpus``, ``chat_fine_tuning`` for ``--chat-corpus``, with the
epochs and learning rates of the schedule options). Words of the corpora that the
vocabulary lacks are added (``--new-words extend``), skipped as RustGPT skips them
(``ignore``) or refused (``error``); ``--freeze`` keeps layers as they are.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from rustgpt_format import TrainingState
from rustgpt_format.models.parts import BLOCKS, LayerSelector
from rustgpt_model.commands.common import CommandError, corpus, load_model
from rustgpt_model.llm import LLM
from rustgpt_model.tokenizer import split_tokens
from rustgpt_model.train import Phase


class PhaseOptions(Protocol):
    """The options of one phase of ``rustgpt train`` (its ``PhaseOptions``)."""

    @property
    def corpus(self) -> str: ...  # the attribute of each option on the parsed arguments
    @property
    def epochs(self) -> str: ...
    @property
    def lr(self) -> str: ...
    @property
    def default_corpus(self) -> str: ...
    @property
    def default_epochs(self) -> int: ...
    @property
    def default_lr(self) -> float: ...


NEW_WORDS = ("extend", "ignore", "error")
"""What ``--new-words`` can do with words the vocabulary lacks; the first is the default."""

PHASE_NAMES = {"corpus": "fine_tuning", "chat_corpus": "chat_fine_tuning"}
"""The name the schedule records for the phase of each corpus option."""

SHOWN = 5
"""How many new words a message lists."""


def configure(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "fine-tuning (--from): new phases on --corpus and/or --chat-corpus, after the "
        "checkpoint's training"
    )
    group.add_argument(
        "--from",
        dest="base",
        type=Path,
        metavar="FILE",
        help="fine-tune this checkpoint (any form: JSON, .safetensors, RustGPT's .json/.bin)",
    )
    group.add_argument(
        "--new-words",
        choices=NEW_WORDS,
        help="words of the corpora the vocabulary lacks: add them (extend, the default), "
        "skip them as RustGPT does (ignore), or stop (error)",
    )
    group.add_argument(
        "--freeze",
        metavar="LAYERS",
        help=f"layers left unchanged, comma-separated: kinds (embeddings, self_attention, "
        f"feed_forward, layer_norm, output_projection), {BLOCKS} (every layer between the "
        "first and the last) or indices (negative from the end)",
    )


def check_options(args: argparse.Namespace, architecture: Iterable[str]) -> None:
    """Refuse, before any work, options that do not go with ``--from`` (or only with it).

    ``architecture``: the attributes of the options that size a new model.
    """
    if args.base is None:
        for name in ("new_words", "freeze"):
            if getattr(args, name) is not None:
                raise CommandError(f"{_flag(name)}: only with --from (fine-tuning)")
        return
    if args.resume is not None:
        raise CommandError("--from: not with --resume (one starts new phases, one continues)")
    if args.max_epochs is not None:
        raise CommandError("--max-epochs: not with --from (a fine-tuning run is not resumable)")
    given = [key for key in architecture if getattr(args, key) is not None]
    if given:
        raise CommandError(
            f"{_flag(given[0])}: not allowed with --from (the checkpoint fixes the model)"
        )
    if args.corpus is None and args.chat_corpus is None:
        raise CommandError("--from needs --corpus and/or --chat-corpus: the texts to fine-tune on")


def _flag(attribute: str) -> str:
    """The flag of an argument attribute: ``new_words`` is ``--new-words``."""
    return "--" + attribute.replace("_", "-")


@dataclass(frozen=True)
class Tuning:
    """A model ready to fine-tune, the phases to run, and what was done to get there."""

    llm: LLM
    phases: list[Phase]
    """The new phases."""
    schedule: list[Phase]
    """The whole schedule (recorded phases without their texts, then the new ones)."""
    notes: tuple[str, ...]


def prepare(
    args: argparse.Namespace, stderr: TextIO, schedule_options: Sequence[PhaseOptions]
) -> Tuning:
    """Load ``--from``, build the new phases, deal with new words, freeze; see the module.

    ``schedule_options``: each phase's options (``rustgpt train``'s ``SCHEDULE``); a
    corpus given for a phase makes a fine-tuning phase with that phase's epochs and rate.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        llm = load_model(args.base)  # RustGPT's own files are migrated, with a warning
    for warning in caught:
        stderr.write(f"rustgpt: warning: {warning.message}\n")
    state = llm.checkpoint.training
    notes = [] if state is None else _end_schedule(state, args.base)
    phases, names = [], []
    for options in schedule_options:
        path = getattr(args, options.corpus)
        if path is None:
            continue
        name, texts = corpus(path, options.default_corpus)
        epochs, lr = getattr(args, options.epochs), getattr(args, options.lr)
        phases.append(
            Phase(
                PHASE_NAMES[options.corpus],
                texts,
                options.default_epochs if epochs is None else epochs,
                options.default_lr if lr is None else lr,
            )
        )
        names.append(name)
    before = len(llm.checkpoint.vocab)
    notes.append(_new_words(args, llm, phases, names))
    if args.freeze is not None:
        notes.append(_freeze(llm, args.freeze))
        added = len(llm.checkpoint.vocab) - before
        held = [
            f"network[{index}]"
            for index in llm.frozen
            if added and index in (0, len(llm.checkpoint.network) - 1)
        ]
        if held:
            stderr.write(
                f"rustgpt: warning: {' and '.join(held)} frozen: the {added} new words keep "
                "the values they were drawn with there (freeze blocks to train them)\n"
            )
    recorded = [] if state is None else state.schedule
    schedule = [Phase(p.name, [], p.epochs, p.learning_rate) for p in recorded] + phases
    return Tuning(llm, phases, schedule, tuple(notes))


def _end_schedule(state: TrainingState, base: Path) -> list[str]:
    """End a schedule that stopped early where it stopped; a note saying so, if it did.

    ``rustgpt demo`` stops instruction tuning once every dialogue is answered, and
    ``--max-epochs`` stops anywhere: the phase in progress is recorded with the epochs
    it ran (later phases, not begun, are dropped), so that the fine-tuning phases come
    after what was trained, and ``epochs_completed`` still counts every epoch.
    """
    total = sum(phase.epochs for phase in state.schedule)
    if state.epochs_completed == total:
        return []
    kept, left = [], state.epochs_completed
    for phase in state.schedule:
        if left >= phase.epochs:
            kept.append(phase)
            left -= phase.epochs
            continue
        if left:
            kept.append(phase.model_copy(update={"epochs": left}))
        break
    state.schedule = kept
    return [
        f"{base}: training stopped after {state.epochs_completed} of the {total} epochs of "
        "its schedule: the schedule now ends there, and fine-tuning follows"
    ]


def _new_words(
    args: argparse.Namespace, llm: LLM, phases: Sequence[Phase], names: Sequence[str]
) -> str:
    """Deal with the corpora's words the vocabulary lacks; one line saying what was done."""
    vocab = llm.checkpoint.vocab
    counts: dict[str, int] = {}
    for phase in phases:
        for text in phase.texts:
            for token in split_tokens(text):
                if vocab.encode(token) is None:
                    counts[token] = counts.get(token, 0) + 1
    corpora = " and ".join(names)
    if not counts:
        return f"no new words: every word of {corpora} is in the vocabulary"
    shown = ", ".join(map(repr, list(counts)[:SHOWN])) + (", ..." if len(counts) > SHOWN else "")
    found = f"{len(counts)} new words ({sum(counts.values())} occurrences) in {corpora}: {shown}"
    action = args.new_words or NEW_WORDS[0]
    if action == "error":
        raise CommandError(
            f"{found}; --new-words extend adds them to the vocabulary, ignore skips them"
        )
    if action == "ignore":
        return f"{found}: ignored (skipped in training and prompts, as RustGPT does)"
    before = len(vocab)
    llm.extend_vocab(counts)
    return f"{found}: added to the vocabulary ({before} -> {len(llm.checkpoint.vocab)} words)"


def _freeze(llm: LLM, text: str) -> str:
    """Freeze the layers ``--freeze`` names; one line naming them."""
    selectors: list[LayerSelector] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            raise CommandError(
                f"--freeze {text!r}: expected comma-separated names, found an empty one"
            )
        try:
            selectors.append(int(item))
        except ValueError:
            selectors.append(item)
    try:
        frozen = llm.freeze(selectors)
    except ValueError as error:
        raise CommandError(f"--freeze {text}: {str(error).removeprefix('layers: ')}") from None
    network = llm.checkpoint.network
    if not frozen:
        return f"froze no layer (--freeze {text} names none of this network)"
    listed = ", ".join(f"{index} {network[index].type}" for index in frozen)
    return f"froze {len(frozen)} of {len(network)} layers: {listed}"
