"""The format's data: Pydantic models that read and write no files."""

from rustgpt_format.models.adam import AdamState
from rustgpt_format.models.checkpoint import (
    Checkpoint,
    is_rustgpt,
    register_layer_kind,
    unregister_layer_kind,
)
from rustgpt_format.models.config import ModelConfig
from rustgpt_format.models.layers import (
    LAYER_KINDS,
    Embeddings,
    FeedForward,
    Layer,
    LayerBase,
    LayerNorm,
    OutputProjection,
    SelfAttention,
)
from rustgpt_format.models.parts import Parts, select_layers
from rustgpt_format.models.training import TrainingPhase, TrainingState
from rustgpt_format.models.vocab import END_OF_SEQUENCE, Vocab

__all__ = [
    "END_OF_SEQUENCE",
    "LAYER_KINDS",
    "AdamState",
    "Checkpoint",
    "Embeddings",
    "FeedForward",
    "Layer",
    "LayerBase",
    "LayerNorm",
    "ModelConfig",
    "OutputProjection",
    "Parts",
    "SelfAttention",
    "TrainingPhase",
    "TrainingState",
    "Vocab",
    "is_rustgpt",
    "register_layer_kind",
    "select_layers",
    "unregister_layer_kind",
]
