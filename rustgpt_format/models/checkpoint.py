"""The checkpoint document (contract §1) and its version policy (§8); pure data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, StrictStr, model_validator
from pydantic.functional_validators import ModelWrapValidatorHandler  # not top-level before 2.10

from rustgpt_format.models.base import FormatModel
from rustgpt_format.models.config import ModelConfig
from rustgpt_format.models.layers import LAYER_KINDS, Layer, LayerBase, own_checks
from rustgpt_format.models.structure import check_structure
from rustgpt_format.models.training import TrainingState
from rustgpt_format.models.vocab import Vocab
from rustgpt_format.versions import FORMAT_VERSION, VERSION_PATTERN


class Checkpoint(FormatModel):
    """A RustGPT model, its vocabulary and (optionally) its training state.

    Pure data: reading and writing files is :func:`rustgpt_format.load` and
    :func:`rustgpt_format.save`. Two checkpoints are equal when every field is, arrays
    bit for bit.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> tiny_checkpoint() == tiny_checkpoint(), tiny_checkpoint().config.vocab_size
    (True, 3)
    """

    format: Literal["rustgpt-checkpoint"] = "rustgpt-checkpoint"
    format_version: Annotated[StrictStr, Field(pattern=VERSION_PATTERN)] = FORMAT_VERSION
    config: ModelConfig
    vocab: Vocab
    network: list[Layer]
    training: TrainingState | None = None
    metadata: dict[StrictStr, StrictStr] | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _structure(cls, data: Any, handler: ModelWrapValidatorHandler[Checkpoint]) -> Checkpoint:
        # the layers validated here record what their own shape check bound: §6 then
        # checks each layer's arrays against the config once, not a second time
        with own_checks() as own:
            checkpoint = handler(data)
        check_structure(checkpoint.config, checkpoint.vocab, checkpoint.network, own)
        return checkpoint

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Checkpoint):
            return NotImplemented
        return _same(self, other)

    __hash__ = None  # type: ignore[assignment]


def is_rustgpt(document: object) -> bool:
    """A decoded document in RustGPT's own dialect (version 0): a vocab and a network,
    and none of the keys only this format has (``format``, ``format_version``, ``config``...).

    RustGPT's ``LLM`` has two fields, so a document carrying a key of ours is one of
    ours that lost its ``format`` key, and is reported as that.

    >>> is_rustgpt({"vocab": {}, "network": []})
    True
    >>> is_rustgpt({"format_version": "1.0", "vocab": {}, "network": []})
    False
    """
    return (
        isinstance(document, dict)
        and "vocab" in document
        and "network" in document
        and not any(key in document for key in _OURS_ONLY)
    )


_OURS_ONLY = tuple(key for key in Checkpoint.model_fields if key not in ("vocab", "network"))


LAYER_HOLDERS: list[type[FormatModel]] = [Checkpoint]
"""Models whose fields hold the union of layer kinds: rebuilt when a kind is registered
(a model defined elsewhere, such as ``Parts``, adds itself)."""


def _same(a: object, b: object) -> bool:
    """Field by field; arrays by shape and bits (so -0.0 != 0.0, and a NaN equals itself)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a.view(np.uint8), b.view(np.uint8)))
        )
    if isinstance(a, FormatModel):
        return type(a) is type(b) and all(
            _same(getattr(a, name), getattr(b, name)) for name in type(a).model_fields
        )
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    return bool(a == b)


def register_layer_kind(kind: type[LayerBase]) -> None:
    """Add a layer kind to the union: documents may then hold layers of its ``type``.

    The kind says everything about itself on its class (see :class:`LayerBase`); the
    checkpoint model is rebuilt so that its ``network`` accepts the new tag.
    """
    LAYER_KINDS[kind.tag()] = kind
    _rebuild()


def unregister_layer_kind(kind: type[LayerBase]) -> None:
    """Undo :func:`register_layer_kind` (for tests and plugins that unload)."""
    if LAYER_KINDS.get(kind.tag()) is kind:
        del LAYER_KINDS[kind.tag()]
        _rebuild()


def _rebuild() -> None:
    """Rebuild every model that holds the union of layer kinds."""
    for model in LAYER_HOLDERS:
        model.model_rebuild(force=True)
