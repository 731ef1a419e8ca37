"""What several subcommands share: loading models and corpora, sampling options."""

from __future__ import annotations

import argparse
from pathlib import Path

from rustgpt_format import CheckpointError
from rustgpt_model.corpus import CHAT, PRETRAINING, default_corpus, load_corpus
from rustgpt_model.llm import LLM


class CommandError(Exception):
    """A problem to report in one line, exit status 1."""


def load_model(path: Path) -> LLM:
    """The model in ``path``; a CommandError naming the file and the place otherwise."""
    try:
        return LLM.load(path)
    except CheckpointError as error:
        message = str(error) if error.path else error.message
        raise CommandError(
            message if message.startswith("cannot read") else f"{path}: {message}"
        ) from None


def corpus(path: Path | None, default: str) -> tuple[str, list[str]]:
    """A corpus file's name and texts, or the embedded one named ``default``."""
    if path is None:
        return f"embedded {default}", default_corpus(default)
    return str(path), load_corpus(path)


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="FILE",
        help=f"factual sentences, a JSON list of strings (default: the embedded {PRETRAINING})",
    )
    parser.add_argument(
        "--chat-corpus",
        type=Path,
        metavar="FILE",
        help=(
            "'User: ... Assistant: ... </s>' dialogues, a JSON list of strings "
            f"(default: the embedded {CHAT})"
        ),
    )


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sampling (greedy, as RustGPT, unless one is given)")
    group.add_argument("--temperature", type=float, help="divide the logits by this (> 0)")
    group.add_argument("--top-k", type=int, help="sample among the K most likely tokens")
    group.add_argument(
        "--top-p", type=float, help="sample among the most likely tokens up to this probability"
    )
    group.add_argument("--seed", type=int, help="seed of the sampler")


def sampling(args: argparse.Namespace) -> dict[str, float | int | None]:
    return {
        "temperature": args.temperature,
        "top_k": args.top_k,
        "top_p": args.top_p,
        "seed": args.seed,
    }
