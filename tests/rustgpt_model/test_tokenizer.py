import pytest

from rustgpt_format import Vocab
from rustgpt_model.tokenizer import build_vocab, decode, encode, split_tokens

SPLITS = [
    ("", []),  # empty input
    ("   \n\t ", []),  # white space only
    ("hello world", ["hello", "world"]),
    ("Hello, world!", ["Hello", ",", "world", "!"]),  # punctuation splits the word around it
    ("don't", ["don", "'", "t"]),
    ("a.b.c", ["a", ".", "b", ".", "c"]),
    ("27.3 days", ["27", ".", "3", "days"]),
    ("...", [".", ".", "."]),  # each character its own token
    ("</s>", ["</s>"]),  # the end token stays whole
    ("end </s>", ["end", "</s>"]),
    ("end</s>", ["end", "<", "/", "s", ">"]),  # attached, it is ordinary punctuation
    ("User: Hi? Assistant: Yo </s>", ["User", ":", "Hi", "?", "Assistant", ":", "Yo", "</s>"]),
    ("café – naïve", ["café", "–", "naïve"]),  # only ASCII punctuation splits
    ('"(x)"', ['"', "(", "x", ")", '"']),
]


@pytest.mark.parametrize(("text", "tokens"), SPLITS)
def test_split_tokens(text: str, tokens: list[str]) -> None:
    assert split_tokens(text) == tokens


VOCAB = Vocab(words=("!", "</s>", "Hello", "world"))

ENCODINGS = [
    ("Hello world!", [2, 3, 0]),
    ("Hello there world </s>", [2, 3, 1]),  # 'there' is unknown: skipped
    ("hello", []),  # case matters
    ("", []),
]


@pytest.mark.parametrize(("text", "ids"), ENCODINGS)
def test_encode_skips_unknown_words(text: str, ids: list[int]) -> None:
    assert encode(VOCAB, text) == ids


def test_decode_joins_with_spaces() -> None:
    assert decode(VOCAB, [2, 3, 0, 1]) == "Hello world ! </s>"


VOCABULARIES = [
    ([], ["</s>"]),
    (["b a", "a"], ["</s>", "a", "b"]),
    # sorted by code point; as in RustGPT, a text's </s> also adds '/', '<', '>' and 's'
    (["Zebra apple, </s>"], [",", "/", "<", "</s>", ">", "Zebra", "apple", "s"]),
]


@pytest.mark.parametrize(("texts", "words"), VOCABULARIES)
def test_build_vocab(texts: list[str], words: list[str]) -> None:
    assert build_vocab(texts) == words
