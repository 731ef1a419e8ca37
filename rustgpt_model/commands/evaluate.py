"""``rustgpt eval MODEL``: loss and perplexity on corpora, dialogues reproduced."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_model.commands.common import add_corpus_options, corpus, load_model
from rustgpt_model.corpus import CHAT, PRETRAINING
from rustgpt_model.evaluate import perplexity, reproduction

NAME = "eval"
HELP = "mean loss and perplexity on corpora; share of dialogues answered exactly"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="checkpoint file")
    add_corpus_options(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    llm = load_model(args.model)
    for path, default in ((args.corpus, PRETRAINING), (args.chat_corpus, CHAT)):
        name, texts = corpus(path, default)
        score = perplexity(llm.checkpoint, texts)
        stdout.write(
            f"{name}: loss {score.loss:.4f}, perplexity {score.perplexity:.3f} "
            f"({score.sequences} sequences, {score.tokens} tokens)\n"
        )
        if default == CHAT:
            try:
                answered = reproduction(llm.checkpoint, texts)
            except ValueError as error:
                stderr.write(f"rustgpt: error: {name}: {error}\n")
                return 1
            stdout.write(
                f"{name}: {answered.reproduced} of {answered.dialogues} dialogues reproduced "
                f"({answered.share:.0%})\n"
            )
    return 0
