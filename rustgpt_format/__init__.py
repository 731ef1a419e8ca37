"""RustGPT checkpoints as a versioned, validated file format."""

from rustgpt_format.edit import assemble, extend_vocab
from rustgpt_format.errors import CheckpointError, FormatWarning, Problem
from rustgpt_format.float32 import Float32, Float32Array
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.models import (
    END_OF_SEQUENCE,
    AdamState,
    Checkpoint,
    Embeddings,
    FeedForward,
    Layer,
    LayerNorm,
    ModelConfig,
    OutputProjection,
    Parts,
    SelfAttention,
    TrainingPhase,
    TrainingState,
    Vocab,
    select_layers,
)
from rustgpt_format.reading import load, loads
from rustgpt_format.schema import json_schema
from rustgpt_format.validation import validate
from rustgpt_format.versions import FORMAT, FORMAT_VERSION
from rustgpt_format.writing import dumps, save

__all__ = [
    "DEFAULT_LIMITS",
    "END_OF_SEQUENCE",
    "FORMAT",
    "FORMAT_VERSION",
    "AdamState",
    "Checkpoint",
    "CheckpointError",
    "Embeddings",
    "FeedForward",
    "Float32",
    "Float32Array",
    "FormatWarning",
    "Layer",
    "LayerNorm",
    "Limits",
    "ModelConfig",
    "OutputProjection",
    "Parts",
    "Problem",
    "SelfAttention",
    "TrainingPhase",
    "TrainingState",
    "Vocab",
    "assemble",
    "dumps",
    "extend_vocab",
    "json_schema",
    "load",
    "loads",
    "save",
    "select_layers",
    "validate",
]
