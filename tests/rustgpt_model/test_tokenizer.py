import string

import pytest

from rustgpt_format import Vocab
from rustgpt_model.tokenizer import build_vocab, count_unknown, decode, encode, split_tokens

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


def rust_is_ascii_punctuation() -> set[str]:
    """Rust's char::is_ascii_punctuation, from its definition: the four ASCII ranges."""
    ranges = [("!", "/"), (":", "@"), ("[", "`"), ("{", "~")]
    return {chr(c) for low, high in ranges for c in range(ord(low), ord(high) + 1)}


def test_string_punctuation_is_rusts_ascii_punctuation() -> None:
    assert set(string.punctuation) == rust_is_ascii_punctuation()
    assert len(string.punctuation) == 32


@pytest.mark.parametrize("mark", list(string.punctuation))
def test_every_ascii_punctuation_character_splits_a_word(mark: str) -> None:
    """RustGPT's tokenize cuts at every is_ascii_punctuation character, ``_`` included."""
    assert split_tokens(f"ab{mark}cd") == ["ab", mark, "cd"]
    assert split_tokens(f"{mark}{mark}x") == [mark, mark, "x"]
    assert build_vocab([f"ab{mark}cd"]) == sorted({"ab", mark, "cd", "</s>"})


@pytest.mark.parametrize(
    "char",
    [chr(c) for c in range(0x21, 0x7F) if chr(c) not in string.punctuation] + ["é", "–", "\u00bf"],
)
def test_other_characters_stay_inside_the_word(char: str) -> None:
    """Letters, digits and non-ASCII punctuation (¿, –) are word characters to RustGPT."""
    assert split_tokens(f"ab{char}cd") == [f"ab{char}cd"]


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("Hello world!", (0, 3)),
        ("Hello there world </s>", (1, 4)),  # 'there'
        ("hello, you", (3, 3)),  # case matters; ',' is not in the vocabulary
        ("", (0, 0)),
    ],
)
def test_count_unknown_counts_the_tokens_encode_skips(text: str, counted: tuple[int, int]) -> None:
    assert count_unknown(VOCAB, text) == counted
    assert len(encode(VOCAB, text)) == counted[1] - counted[0]
