import math

import numpy as np
import pytest

from rustgpt_model import LLM, build_vocab, perplexity, reproduction
from rustgpt_model.evaluate import split_dialogue

DIALOGUES = [
    "User: Who sat? Assistant: The cat sat </s>",
    "User: Who barks? Assistant: Dogs bark loudly </s>",
]


def uniform(texts: list[str]) -> LLM:
    """A model whose logits are all zero: every next token has probability 1 / V."""
    llm = LLM.new(build_vocab(texts), embedding_dim=8, hidden_dim=16, max_seq_len=12, num_blocks=1)
    output = llm.checkpoint.network[-1]
    output.w_out[...] = 0
    output.b_out[...] = 0
    return llm


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size() -> None:
    llm = uniform(DIALOGUES)
    score = perplexity(llm.checkpoint, [*DIALOGUES, "sat", "unknown words only"])
    vocab_size = len(llm.checkpoint.vocab)
    assert (score.sequences, score.tokens) == (2, 10 + 10)  # texts under two tokens predict nothing
    assert score.loss == pytest.approx(math.log(vocab_size), rel=1e-6)
    assert score.perplexity == pytest.approx(vocab_size, rel=1e-5)


SPLITS = [
    ("User: Hi? Assistant: Hello </s>", ("User: Hi?", "Assistant: Hello </s>")),
    (
        "User: a Assistant: b Assistant: c",
        ("User: a", "Assistant: b Assistant: c"),
    ),  # the first mark
    ("Assistant: only an answer", ("", "Assistant: only an answer")),
]


@pytest.mark.parametrize(("text", "parts"), SPLITS)
def test_split_dialogue(text: str, parts: tuple[str, str]) -> None:
    assert split_dialogue(text) == parts


def test_reproduction_counts_exact_answers() -> None:
    llm = LLM.new(
        build_vocab(DIALOGUES), embedding_dim=16, hidden_dim=32, max_seq_len=12, num_blocks=2
    )
    assert reproduction(llm.checkpoint, DIALOGUES).reproduced == 0
    llm.train(DIALOGUES, epochs=40, lr=0.01)
    score = reproduction(llm.checkpoint, DIALOGUES)
    assert (score.reproduced, score.dialogues, score.share) == (2, 2, 1.0)
    assert llm.predict("User: Who barks?") == "Assistant : Dogs bark loudly"


def test_reproduction_names_a_text_that_is_no_dialogue() -> None:
    llm = uniform(DIALOGUES)
    with pytest.raises(ValueError) as caught:
        reproduction(llm.checkpoint, [DIALOGUES[0], "just a sentence </s>"])
    assert str(caught.value) == (
        "dialogues[1]: expected a dialogue 'User: … Assistant: …', found no 'Assistant:'"
    )


def test_an_empty_corpus() -> None:
    llm = uniform(DIALOGUES)
    assert perplexity(llm.checkpoint, []).tokens == 0
    assert reproduction(llm.checkpoint, []).share == 0.0
    assert np.isfinite(perplexity(llm.checkpoint, []).perplexity)
