"""``rustgpt demo``: train the default model, save, validate, reload and answer a prompt."""

from __future__ import annotations

import argparse
import time
from typing import TextIO

from rustgpt_format.validation import check_bytes
from rustgpt_format.versions import FORMAT_VERSION
from rustgpt_model.commands import train
from rustgpt_model.commands.common import CommandError, corpus, load_model
from rustgpt_model.corpus import CHAT
from rustgpt_model.evaluate import reproduction

NAME = "demo"
HELP = (
    "the whole job in one command: train (as 'train'), save, validate the file against the "
    "JSON Schema and the reader, reload it and answer a prompt"
)

PROMPT = "User: How do bees make honey?"


def configure(parser: argparse.ArgumentParser) -> None:
    train.configure(parser, out_required=False)
    parser.add_argument(
        "--prompt", default=PROMPT, help=f"what to ask the reloaded model ({PROMPT!r})"
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    began = time.perf_counter()
    outcome = train.run_training(args, stderr)
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
    name, dialogues = corpus(args.chat_corpus, CHAT)
    try:
        answered = reproduction(reloaded.checkpoint, dialogues)
    except ValueError as error:
        raise CommandError(f"{name}: {error}") from None
    stdout.write(
        f"reloaded {args.out}: {answered.reproduced} of {answered.dialogues} dialogues of the "
        f"{name} reproduced exactly\n"
    )
    stdout.write(f"{args.prompt}\n{reloaded.predict(args.prompt)}\n")
    stdout.write(f"done in {time.perf_counter() - began:.1f} s\n")
    return 0
