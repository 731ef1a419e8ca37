"""RustGPT checkpoints as a versioned, validated file format."""

from rustgpt_format.adam import AdamState
from rustgpt_format.checkpoint import Checkpoint
from rustgpt_format.config import ModelConfig
from rustgpt_format.errors import CheckpointError, FormatWarning, Problem
from rustgpt_format.files import load, save
from rustgpt_format.float32 import Float32, Float32Array
from rustgpt_format.layers import (
    Embeddings,
    FeedForward,
    Layer,
    LayerNorm,
    OutputProjection,
    SelfAttention,
)
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.schema import json_schema
from rustgpt_format.training import TrainingPhase, TrainingState
from rustgpt_format.versions import FORMAT, FORMAT_VERSION
from rustgpt_format.vocab import END_OF_SEQUENCE, Vocab

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
    "Problem",
    "SelfAttention",
    "TrainingPhase",
    "TrainingState",
    "Vocab",
    "json_schema",
    "load",
    "save",
]
