"""What several subcommands share: loading models and corpora, sampling options."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rustgpt_format import CheckpointError
from rustgpt_format.command_line import count, number
from rustgpt_model.corpus import CHAT, PRETRAINING, default_corpus, load_corpus
from rustgpt_model.llm import LLM
from rustgpt_model.tokenizer import split_tokens


class CommandError(Exception):
    """A problem to report in one line, exit status 1."""


PHASE_NAMES = {"pretraining": "pre-training", "instruction_tuning": "instruction tuning"}
"""How the command line names the phases the training block records."""


def human(name: str) -> str:
    """A phase's name for people: ``instruction_tuning`` is "instruction tuning".

    >>> human("pretraining"), human("instruction_tuning"), human("my_phase")
    ('pre-training', 'instruction tuning', 'my phase')
    """
    return PHASE_NAMES.get(name, name.replace("_", " "))


def load_model(path: Path) -> LLM:
    """The model in ``path``; a CommandError naming the file and the place otherwise."""
    try:
        return LLM.load(path)
    except CheckpointError as error:
        message = str(error) if error.path else error.message
        raise CommandError(
            message if message.startswith("cannot read") else f"{path}: {message}"
        ) from None


def check_target(path: Path, option: str) -> None:
    """Refuse, before any work, a file path that cannot be written.

    Writing is tried for real (a temporary file in the folder, removed at once), so a
    read-only file system or a folder of another user is caught too.

    >>> try:
    ...     check_target(Path("/no/such/folder/model.json"), "--out")
    ... except CommandError as error:
    ...     print(error)
    --out /no/such/folder/model.json: the folder /no/such/folder does not exist
    """
    folder = path.parent
    if path.is_dir():
        raise CommandError(f"{option} {path}: expected a file name, found a folder")
    if not folder.exists():
        raise CommandError(f"{option} {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise CommandError(
            f"{option} {path}: cannot write in the folder {folder}: {error.strerror or error}"
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
    group.add_argument(
        "--temperature", type=number(above=0), help="divide the logits by this (> 0)"
    )
    group.add_argument(
        "--top-k", type=count(least=1), metavar="K", help="sample among the K most likely tokens"
    )
    group.add_argument(
        "--top-p",
        type=number(above=0, most=1),
        metavar="P",
        help="sample among the most likely tokens up to this probability (0 < P <= 1)",
    )
    group.add_argument("--seed", type=count(least=0), help="seed of the sampler")


def sampling(args: argparse.Namespace) -> dict[str, float | int | None]:
    return {
        "temperature": args.temperature,
        "top_k": args.top_k,
        "top_p": args.top_p,
        "seed": args.seed,
    }


def answer(llm: LLM, prompt: str, args: argparse.Namespace) -> str:
    """The model's continuation of ``prompt``; a CommandError when it has none to give.

    A prompt of ``max_seq_len`` tokens or more leaves no room for a single new token,
    and a prompt with no word of the vocabulary gives the model nothing to start from:
    both would print an empty answer that looks like the model's.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> llm = LLM.from_checkpoint(tiny_checkpoint())  # L = 2
    >>> greedy = argparse.Namespace(temperature=None, top_k=None, top_p=None, seed=None)
    >>> try:
    ...     answer(llm, "w0 w1 w0", greedy)
    ... except CommandError as error:
    ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
    the prompt is 3 tokens long, and the model reads at most max_seq_len = 2 tokens:
    no room to answer (use at most 1)
    """
    tokens = split_tokens(prompt)
    known = llm.tokenize(prompt)
    longest = llm.checkpoint.config.max_seq_len
    if len(known) >= longest:
        raise CommandError(
            f"the prompt is {len(known)} tokens long, and the model reads at most "
            f"max_seq_len = {longest} tokens: no room to answer (use at most {longest - 1})"
        )
    if not known:
        raise CommandError(
            f"the prompt has no word the model knows ({len(tokens)} tokens, none in its "
            f"vocabulary of {len(llm.checkpoint.vocab)})"
        )
    return llm.predict(prompt, **sampling(args))  # type: ignore[arg-type]
