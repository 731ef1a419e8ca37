"""``rustgpt generate MODEL PROMPT``: print the model's continuation of a prompt."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rustgpt_model.commands.common import add_sampling_options, answer, load_model

NAME = "generate"
HELP = "print the model's continuation of a prompt"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="checkpoint file")
    parser.add_argument("prompt", help='the text to continue, e.g. "User: How do bees make honey?"')
    add_sampling_options(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    llm = load_model(args.model)
    stdout.write(answer(llm, args.prompt, args) + "\n")
    return 0
