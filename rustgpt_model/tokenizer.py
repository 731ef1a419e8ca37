"""RustGPT's tokenizer: white space, then every ASCII punctuation character on its own.

``</s>`` (the end-of-sequence token) stays whole when it stands alone; words the
vocabulary does not have are skipped, as RustGPT does.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from rustgpt_format import END_OF_SEQUENCE, Vocab

_PUNCTUATION = frozenset(string.punctuation)  # Rust's char::is_ascii_punctuation
_WHITE_SPACE = re.compile("[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
"""Rust's char::is_whitespace (Unicode White_Space). Python's str.split() also splits
at U+001C..U+001F, which Rust's split_whitespace keeps inside a word."""


def _words(text: str) -> list[str]:
    r"""The white-space separated words of ``text``, as Rust's ``split_whitespace``.

    >>> _words(" a\tb\x1fc ")
    ['a', 'b\x1fc']
    """
    return [word for word in _WHITE_SPACE.split(text) if word]


def _split_punctuation(word: str) -> list[str]:
    """``word`` cut before and after each ASCII punctuation character."""
    tokens: list[str] = []
    start = 0
    for index, char in enumerate(word):
        if char in _PUNCTUATION:
            if index > start:
                tokens.append(word[start:index])
            tokens.append(char)
            start = index + 1
    if start < len(word):
        tokens.append(word[start:])
    return tokens


def split_tokens(text: str) -> list[str]:
    """The token strings of ``text``, before any vocabulary lookup.

    >>> split_tokens("User: Hi, I'm here </s>")
    ['User', ':', 'Hi', ',', 'I', "'", 'm', 'here', '</s>']
    """
    tokens: list[str] = []
    for word in _words(text):
        if word == END_OF_SEQUENCE:
            tokens.append(word)
        else:
            tokens.extend(_split_punctuation(word))
    return tokens


def encode(vocab: Vocab, text: str) -> list[int]:
    """The token ids of ``text``; tokens missing from ``vocab`` are skipped.

    >>> encode(Vocab(words=("!", "</s>", "hello")), "hello there! </s>")
    [2, 0, 1]
    """
    ids = (vocab.encode(token) for token in split_tokens(text))
    return [token_id for token_id in ids if token_id is not None]


def count_unknown(vocab: Vocab, text: str) -> tuple[int, int]:
    """How many tokens of ``text`` the vocabulary lacks (and :func:`encode` skips), of how many.

    >>> count_unknown(Vocab(words=("!", "</s>", "hello")), "hello there! </s>")
    (1, 4)
    """
    tokens = split_tokens(text)
    return sum(vocab.encode(token) is None for token in tokens), len(tokens)


def decode(vocab: Vocab, token_ids: Iterable[int]) -> str:
    """The words of ``token_ids`` joined by single spaces (RustGPT's output form).

    >>> decode(Vocab(words=("!", "</s>", "hello")), [2, 0])
    'hello !'
    """
    return " ".join(vocab.words[token_id] for token_id in token_ids)


def build_vocab(texts: Iterable[str]) -> list[str]:
    """The vocabulary of ``texts`` as RustGPT's ``Vocab::process_text_for_vocab`` builds it.

    Every word is cut at ASCII punctuation, ``</s>`` included (so a text ending in
    ``</s>`` adds ``<``, ``/``, ``s`` and ``>``); then ``</s>`` is added and the set
    sorted (by code point, which is Rust's byte order of UTF-8).

    >>> build_vocab(["Snow is cold.", "Snow melts </s>"])
    ['.', '/', '<', '</s>', '>', 'Snow', 'cold', 'is', 'melts', 's']
    """
    vocabulary = {END_OF_SEQUENCE}
    for text in texts:
        for word in _words(text):
            vocabulary.update(_split_punctuation(word))
    return sorted(vocabulary)
