"""RustGPT's tokenizer: white space, then every ASCII punctuation character on its own.

``</s>`` (the end-of-sequence token) stays whole when it stands alone; words the
vocabulary does not have are skipped, as RustGPT does.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from rustgpt_format import END_OF_SEQUENCE, Vocab

_PUNCTUATION = frozenset(string.punctuation)  # Rust's char::is_ascii_punctuation


def split_tokens(text: str) -> list[str]:
    """The token strings of ``text``, before any vocabulary lookup.

    >>> split_tokens("User: Hi, I'm here </s>")
    ['User', ':', 'Hi', ',', 'I', "'", 'm', 'here', '</s>']
    """
    tokens: list[str] = []
    for word in text.split():
        if word == END_OF_SEQUENCE:
            tokens.append(word)
            continue
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
    """The vocabulary of ``texts``: the sorted set of their tokens plus ``</s>``.

    >>> build_vocab(["Snow is cold.", "Snow melts </s>"])
    ['.', '</s>', 'Snow', 'cold', 'is', 'melts']
    """
    words = {END_OF_SEQUENCE}
    for text in texts:
        words.update(split_tokens(text))
    return sorted(words)
