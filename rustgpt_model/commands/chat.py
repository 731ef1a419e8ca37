"""``rustgpt chat MODEL``: talk to the model, RustGPT-style (``exit`` quits)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from rustgpt_model.commands.common import CommandError, add_sampling_options, answer, load_model

NAME = "chat"
HELP = "talk to the model: each line is sent as 'User: <line>'; 'exit' or Ctrl-D quits"

PROMPT = "You: "

ANSWER_PREFIX = "Assistant :"
"""How a trained model starts its answers (the tokens of 'Assistant:' joined by spaces)."""

_USER_PREFIX = re.compile(r"^(\s*user\s*:)+\s*", re.IGNORECASE)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="checkpoint file")
    add_sampling_options(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    llm = load_model(args.model)
    source: TextIO = getattr(args, "stdin", None) or sys.stdin
    read = _reader(source, stdout)
    stdout.write("Type a question; 'exit' quits.\n")
    try:
        while True:
            line = read()
            if line is None:  # end of input (Ctrl-D)
                stdout.write("\n")
                return 0
            question = question_of(line)
            if question == "exit":
                return 0
            if not question:
                continue
            try:
                text = answer(llm, f"User: {question}", args)
            except CommandError as error:  # one bad question does not end the chat
                stdout.flush()
                stderr.write(f"rustgpt: error: {error}\n")
                stderr.flush()
                continue
            stdout.write(f"Model: {answer_of(text)}\n")
    except KeyboardInterrupt:  # Ctrl-C leaves as cleanly as Ctrl-D
        stdout.write("\n")
        return 0


def question_of(line: str) -> str:
    """The question in a typed line, without a ``User:`` the user typed (chat adds it).

    >>> question_of("  User: Why is the sea salty? "), question_of("user:user: hi")
    ('Why is the sea salty?', 'hi')
    """
    return _USER_PREFIX.sub("", line.strip()).strip()


def answer_of(text: str) -> str:
    """The answer in the model's continuation, after its ``Assistant :``.

    A question typed without its ``?`` is first finished by the model (``? Assistant :
    …``): what comes before the mark belongs to the question, not to the answer.

    >>> answer_of("? Assistant : Bees drink nectar"), answer_of("no mark at all")
    ('Bees drink nectar', 'no mark at all')
    """
    before, mark, after = text.partition(ANSWER_PREFIX)
    return (after if mark else before).strip()


def _reader(source: TextIO, stdout: TextIO) -> Callable[[], str | None]:
    """A function returning the next line typed, or None at end of input.

    On a terminal, lines are read through Python's ``readline``: arrow keys edit the
    line and recall earlier ones, instead of echoing ``^[[A``.
    """
    if source is sys.stdin and stdout is sys.stdout and source.isatty():
        try:
            import readline  # noqa: F401  # input() edits lines and keeps history once loaded
        except ImportError:  # Python built without it (Windows): plain lines
            pass
        else:

            def ask() -> str | None:
                try:
                    return input(PROMPT)
                except EOFError:
                    return None

            return ask

    def read_line() -> str | None:
        stdout.write(PROMPT)
        stdout.flush()
        return source.readline() or None

    return read_line
