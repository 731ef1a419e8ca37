"""``rustgpt chat MODEL``: talk to the model, RustGPT-style (``exit`` quits)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from rustgpt_model.commands.common import add_sampling_options, load_model, sampling

NAME = "chat"
HELP = "talk to the model: each line is sent as 'User: <line>'; 'exit' or Ctrl-D quits"

ANSWER_PREFIX = "Assistant :"
"""How a trained model starts its answers (the tokens of 'Assistant:' joined by spaces)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="checkpoint file")
    add_sampling_options(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    llm = load_model(args.model)
    source: TextIO = getattr(args, "stdin", None) or sys.stdin
    stdout.write("Type a question; 'exit' quits.\n")
    try:
        while True:
            stdout.write("You: ")
            stdout.flush()
            line = source.readline()
            if not line:  # end of input (Ctrl-D)
                stdout.write("\n")
                return 0
            question = line.strip()
            if question == "exit":
                return 0
            if not question:
                continue
            answer = llm.predict(f"User: {question}", **sampling(args))  # type: ignore[arg-type]
            answer = answer.removeprefix(ANSWER_PREFIX).strip()
            stdout.write(f"Model: {answer}\n")
    except KeyboardInterrupt:  # Ctrl-C leaves as cleanly as Ctrl-D
        stdout.write("\n")
        return 0
