"""Corpora: JSON lists of strings, as RustGPT reads them, and the embedded default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import orjson

PRETRAINING = "pretraining.json"
"""The embedded factual sentences, each ending in ``</s>``."""

CHAT = "chat.json"
"""The embedded ``User: … Assistant: … </s>`` dialogues."""


EMBEDDED = {"pretraining": PRETRAINING, "chat": CHAT}
"""The embedded corpora by name, and their files in the package's ``data`` folder."""


class CorpusError(ValueError):
    """A corpus file that cannot be read as a JSON list of strings."""


def parse_corpus(data: bytes, source: str) -> list[str]:
    """The texts of a corpus given as JSON bytes; ``source`` names it in errors.

    >>> parse_corpus(b'["a </s>", "b </s>"]', "corpus.json")
    ['a </s>', 'b </s>']
    >>> parse_corpus(b'{"a": 1}', "corpus.json")
    Traceback (most recent call last):
    ...
    rustgpt_model.corpus.CorpusError: corpus.json: expected a JSON list of strings, found an object
    """
    try:
        texts = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise CorpusError(
            f"{source}: expected a JSON list of strings, found invalid JSON: {error}"
        ) from None
    if not isinstance(texts, list):
        found = "an object" if isinstance(texts, dict) else type(texts).__name__
        raise CorpusError(f"{source}: expected a JSON list of strings, found {found}")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise CorpusError(
                f"{source}[{index}]: expected a string, found {orjson.dumps(text).decode()[:40]}"
            )
    return texts


def load_corpus(path: str | Path) -> list[str]:
    """The texts of the corpus file at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_corpus(data, str(path))


def default_corpus(name: str) -> list[str]:
    """An embedded corpus: ``"pretraining"`` or ``"chat"`` (or :data:`PRETRAINING`, :data:`CHAT`).

    >>> len(default_corpus("pretraining")), len(default_corpus("chat"))
    (25, 50)
    >>> default_corpus("poems")
    Traceback (most recent call last):
    ...
    rustgpt_model.corpus.CorpusError: no embedded corpus 'poems': expected 'pretraining' or 'chat'
    """
    file = EMBEDDED.get(name, name if name in EMBEDDED.values() else None)
    if file is None:
        raise CorpusError(
            f"no embedded corpus {name!r}: expected {' or '.join(map(repr, EMBEDDED))}"
        )
    data = resources.files("rustgpt_model").joinpath("data", file).read_bytes()
    return parse_corpus(data, file)
