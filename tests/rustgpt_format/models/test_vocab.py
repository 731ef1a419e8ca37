"""Vocab: a word's id is its index; encode and decode are each other's inverse."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import rustgpt_format as rf

WORDS = ("hello", "world", "</s>", "!")


def test_every_word_encodes_to_its_index_and_decodes_back() -> None:
    vocab = rf.Vocab(words=WORDS)
    assert [vocab.encode(word) for word in WORDS] == [0, 1, 2, 3]
    assert [vocab.decode(index) for index in range(len(WORDS))] == list(WORDS)
    assert len(vocab) == 4


@pytest.mark.parametrize("token_id", [-1, -4, 4, 5])
def test_an_id_outside_the_vocabulary_decodes_to_none(token_id: int) -> None:
    # -1 would index the last word from the end: an id is never negative
    assert rf.Vocab(words=WORDS).decode(token_id) is None


def test_a_word_outside_the_vocabulary_encodes_to_none() -> None:
    assert rf.Vocab(words=WORDS).encode("moon") is None


def test_a_vocabulary_cannot_change_after_it_is_made() -> None:
    # encode's map is computed once: changed words would leave it stale
    vocab = rf.Vocab(words=WORDS)
    assert vocab.encode("world") == 1
    with pytest.raises(ValidationError, match="Instance is frozen"):
        vocab.words = ("world", "</s>")
    assert hash(vocab) == hash(rf.Vocab(words=WORDS))
