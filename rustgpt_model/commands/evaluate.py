"""``rustgpt eval MODEL``: loss and perplexity on corpora, dialogues reproduced."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_model.commands.common import CommandError, add_corpus_options, corpus, load_model
from rustgpt_model.corpus import CHAT, PRETRAINING
from rustgpt_model.evaluate import Perplexity, perplexity, reproduction

NAME = "eval"
HELP = (
    "mean loss and perplexity on corpora, with the share of words the model does not know; "
    "share of dialogues answered exactly"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="checkpoint file")
    add_corpus_options(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    llm = load_model(args.model)
    for path, default in ((args.corpus, PRETRAINING), (args.chat_corpus, CHAT)):
        name, texts = corpus(path, default)
        score = perplexity(llm.checkpoint, texts)
        if not texts:
            raise CommandError(f"{name}: nothing to evaluate: the corpus is empty")
        if score.tokens == 0:  # a loss of 0 over nothing would read as a perfect score
            raise CommandError(
                f"{name}: nothing to evaluate: none of its {len(texts)} texts has two tokens "
                f"the model knows ({_unknown(score)})"
            )
        stdout.write(
            f"{name}: loss {score.loss:.4f}, perplexity {score.perplexity:.3f} "
            f"({score.sequences} sequences, {score.tokens} tokens; {_unknown(score)})\n"
        )
        if default == CHAT:
            try:
                answered = reproduction(llm.checkpoint, texts)
            except ValueError as error:
                raise CommandError(f"{name}: {error}") from None
            stdout.write(
                f"{name}: {answered.reproduced} of {answered.dialogues} dialogues reproduced "
                f"({answered.share:.0%})\n"
            )
    return 0


def _unknown(score: Perplexity) -> str:
    return (
        f"{score.unknown_tokens} of {score.text_tokens} tokens unknown to the model, "
        f"{score.unknown_share:.1%}"
    )
