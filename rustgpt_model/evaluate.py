"""How good a checkpoint is: loss and perplexity on a corpus, dialogues reproduced."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rustgpt_format import Checkpoint
from rustgpt_model import network
from rustgpt_model.generate import generate
from rustgpt_model.loss import cross_entropy
from rustgpt_model.threads import single_blas_thread
from rustgpt_model.tokenizer import count_unknown, encode

ANSWER_MARK = "Assistant:"
"""Where the prompt of a dialogue ends and the expected answer begins."""


@dataclass(frozen=True)
class Perplexity:
    """Mean next-token loss over every predicted position of a corpus, and exp of it.

    ``tokens`` counts the predicted positions; ``text_tokens`` all the tokens of the
    texts, of which ``unknown_tokens`` are missing from the vocabulary (and skipped,
    as RustGPT does, so they count in neither the loss nor ``tokens``).
    """

    loss: float
    perplexity: float
    sequences: int
    tokens: int
    unknown_tokens: int
    text_tokens: int

    @property
    def unknown_share(self) -> float:
        """The fraction of the texts' tokens the vocabulary lacks (0 for no tokens)."""
        return self.unknown_tokens / self.text_tokens if self.text_tokens else 0.0


@dataclass(frozen=True)
class Reproduction:
    """How many dialogues' greedy answers equal their ``Assistant:`` part exactly."""

    reproduced: int
    dialogues: int

    @property
    def share(self) -> float:
        """The fraction reproduced (0 for an empty corpus)."""
        return self.reproduced / self.dialogues if self.dialogues else 0.0


def perplexity(checkpoint: Checkpoint, texts: Sequence[str]) -> Perplexity:
    """Loss averaged over all predicted tokens (not per sequence), and its exp.

    Texts are cut to L + 1 tokens, as in training; texts of fewer than two tokens
    predict nothing and are left out.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> perplexity(tiny_checkpoint(), ["w0 w1 </s>"]).tokens
    2
    """
    longest = checkpoint.config.max_seq_len + 1
    total, sequences, tokens, unknown, seen = 0.0, 0, 0, 0, 0
    for text in texts:
        missing, all_tokens = count_unknown(checkpoint.vocab, text)
        unknown += missing
        seen += all_tokens
        ids = np.array(encode(checkpoint.vocab, text)[:longest], np.intp)
        if len(ids) < 2:
            continue
        with single_blas_thread():
            logits, _ = network.forward(checkpoint.network, ids[:-1])  # (T, V)
        loss, _ = cross_entropy(logits, ids[1:], clip=None)
        total += loss * (len(ids) - 1)
        sequences += 1
        tokens += len(ids) - 1
    loss = total / tokens if tokens else 0.0
    return Perplexity(loss, math.exp(loss), sequences, tokens, unknown, seen)


def split_dialogue(text: str) -> tuple[str, str]:
    """The ``User: …`` prompt of a dialogue and the ``Assistant: …`` answer.

    >>> split_dialogue("User: Hi? Assistant: Hello </s>")
    ('User: Hi?', 'Assistant: Hello </s>')
    """
    at = text.find(ANSWER_MARK)
    if at < 0:
        raise ValueError(f"expected a dialogue 'User: … {ANSWER_MARK} …', found no {ANSWER_MARK!r}")
    return text[:at].rstrip(), text[at:]


def reproduction(checkpoint: Checkpoint, dialogues: Sequence[str]) -> Reproduction:
    """Count the dialogues whose greedy continuation of the prompt is the answer.

    The answer is compared token for token, ``</s>`` included.
    """
    reproduced = 0
    for index, text in enumerate(dialogues):
        try:
            prompt, answer = split_dialogue(text)
        except ValueError as error:
            raise ValueError(f"dialogues[{index}]: {error}") from None
        expected = encode(checkpoint.vocab, answer)
        if generate(checkpoint, encode(checkpoint.vocab, prompt)) == expected:
            reproduced += 1
    return Reproduction(reproduced, len(dialogues))
