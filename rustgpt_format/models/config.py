"""The architecture in numbers (contract §3)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from rustgpt_format.models.base import FormatModel

Positive = Annotated[StrictInt, Field(gt=0)]


class ModelConfig(FormatModel):
    """Sizes of the model; the reader checks each against the arrays that carry it.

    >>> ModelConfig(embedding_dim=128, hidden_dim=256, max_seq_len=80, vocab_size=400)
    ModelConfig(embedding_dim=128, hidden_dim=256, max_seq_len=80, vocab_size=400)
    """

    embedding_dim: Positive
    hidden_dim: Positive
    max_seq_len: Positive
    vocab_size: Positive
