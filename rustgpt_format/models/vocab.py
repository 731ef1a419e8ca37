"""The vocabulary: words in id order; the encode and decode maps are derived."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated

from pydantic import ConfigDict, Field, StrictStr, field_validator

from rustgpt_format.errors import FieldError
from rustgpt_format.models.base import FormatModel

END_OF_SEQUENCE = "</s>"
WHITE_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Unicode's White_Space, as the body of a regular-expression class that Python and
ECMAScript (JSON Schema validators) read alike: what Rust's ``split_whitespace``
(RustGPT's tokenizer) splits at. Python's ``str.isspace`` also counts U+001C..U+001F,
which RustGPT keeps inside words."""
_WHITE_SPACE = re.compile(f"[{WHITE_SPACE}]")
_WORDS_SCHEMA = {
    "items": {"type": "string", "minLength": 1, "pattern": f"^[^{WHITE_SPACE}]+$"},
    "uniqueItems": True,
    "contains": {"const": "</s>"},
}


class Vocab(FormatModel):
    """Tokens of the model; a token's id is its index in ``words``.

    >>> vocab = Vocab(words=["hello", "world", "</s>"])
    >>> vocab.encode("world"), vocab.decode(2), vocab.encode("moon")
    (1, '</s>', None)
    """

    model_config = ConfigDict(frozen=True)

    words: Annotated[tuple[StrictStr, ...], Field(json_schema_extra=_WORDS_SCHEMA)]

    @field_validator("words")
    @classmethod
    def _check_words(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        return _checked_words(words)

    @cached_property
    def _ids(self) -> dict[str, int]:
        return {word: index for index, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, word: str) -> int | None:
        """The id of ``word``, or None when the vocabulary does not have it."""
        return self._ids.get(word)

    def decode(self, token_id: int) -> str | None:
        """The word of ``token_id``, or None when no word has that id."""
        return self.words[token_id] if 0 <= token_id < len(self.words) else None


def _checked_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` if they are a vocabulary, else a FieldError naming the first culprit.

    Outside the decorated validator so that mutation testing reaches it (mutmut leaves
    decorated functions alone).
    """
    # The usual case in a few C-speed passes; the loop below names the culprit.
    if (
        all(words)
        and len(set(words)) == len(words)
        and END_OF_SEQUENCE in words
        and not _WHITE_SPACE.search("".join(words))
    ):
        return words
    seen: dict[str, int] = {}
    for index, word in enumerate(words):
        if not word:
            raise FieldError("expected a non-empty word, found ''", index)
        if _WHITE_SPACE.search(word):
            raise FieldError(f"expected a word without white space, found {word!r}", index)
        if word in seen:
            raise FieldError(
                f"expected unique words, found {word!r} again (first at words[{seen[word]}])",
                index,
            )
        seen[word] = index
    if END_OF_SEQUENCE not in seen:
        raise FieldError(f"expected the end-of-sequence token {END_OF_SEQUENCE!r}, not found")
    return words
