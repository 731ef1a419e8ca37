"""Changing a checkpoint's shape as data: a network put together from parts, a larger vocabulary.

Pure functions: each returns a new, checked :class:`Checkpoint` and leaves its inputs
as they were. They know the format's rules, not how a model initialises its numbers:
:func:`extend_vocab` asks its caller for the new rows and columns (the model package
passes its own initialisation, ``rustgpt_model.init.vocab_init``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from rustgpt_format.boundary import validated
from rustgpt_format.models import (
    Checkpoint,
    Layer,
    ModelConfig,
    TrainingState,
    Vocab,
)

Init = Callable[[str, tuple[int, int]], np.ndarray]
"""New values for part of an array: ``init(name, shape)`` (``name`` as ``w_out``)."""

VOCAB_AXIS = "V"
"""The symbol of the vocabulary's dimension in the kinds' ``SHAPES``."""


def assemble(
    config: ModelConfig,
    vocab: Vocab,
    network: Sequence[Layer],
    *,
    training: TrainingState | None = None,
    metadata: dict[str, str] | None = None,
) -> Checkpoint:
    """A checkpoint of ``network`` (copies of the layers), checked as a file would be.

    The layers may come from different checkpoints (:class:`~rustgpt_format.models.Parts`
    of a partial load, a fresh model): the order (§6.1) and every shape (§6.2, §6.3)
    are checked against ``config`` and ``vocab``, and a mismatch raises
    :class:`CheckpointError` naming the layer and array, e.g.
    ``network[1].w_q: expected shape (64, 64) ..., found (128, 128)``.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> from rustgpt_format.models import Parts
    >>> base = tiny_checkpoint()
    >>> blocks = Parts.of(base, ["blocks"]).layers()
    >>> ckpt = assemble(base.config, base.vocab, [base.network[0], *blocks, base.network[-1]])
    >>> ckpt == base, ckpt.network[1] is base.network[1]
    (True, False)
    """
    document: dict[str, Any] = {
        "format": "rustgpt-checkpoint",
        "format_version": Checkpoint.model_fields["format_version"].default,
        "config": config.model_copy(),
        "vocab": vocab,
        "network": [layer.model_copy(deep=True) for layer in network],
    }
    if training is not None:
        document["training"] = training.model_copy(deep=True)
    if metadata is not None:
        document["metadata"] = dict(metadata)
    return validated(Checkpoint, document)


def extend_vocab(
    checkpoint: Checkpoint, words: Iterable[str], *, init: Init | None = None
) -> Checkpoint:
    """A copy of ``checkpoint`` whose vocabulary has ``words`` appended at the end.

    Words it has already are left where they are (so are repeats), so no word changes
    its id, ``</s>`` included. Every array with a vocabulary axis grows along it
    (``token_embeddings`` by rows, ``w_out`` and ``b_out`` by columns) with values from
    ``init(name, shape)`` (zeros when None), and their Adam moments grow by zeros;
    ``config.vocab_size`` follows. The old columns are untouched, so a prompt of old
    words gets the same old logits, bit for bit. A word the vocabulary cannot hold
    (empty, with white space) raises :class:`~rustgpt_format.CheckpointError` naming
    it; values from ``init`` of another shape or not finite float32, ValueError.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> bigger = extend_vocab(tiny_checkpoint(), ["moon", "w0", "moon"])
    >>> bigger.vocab.words, bigger.network[-1].w_out.shape
    (('w0', 'w1', '</s>', 'moon'), (4, 4))
    """
    known = set(checkpoint.vocab.words)
    added = [word for word in dict.fromkeys(words) if word not in known]
    new = checkpoint.model_copy(deep=True)
    if not added:
        return new
    count = len(added)
    vocab = checkpoint.vocab.words + tuple(added)
    for layer in new.network:
        for name, symbols in layer.SHAPES.items():
            if VOCAB_AXIS not in symbols:
                continue
            axis = symbols.index(VOCAB_AXIS)
            old = getattr(layer, name)
            shape = (count, old.shape[1]) if axis == 0 else (old.shape[0], count)
            values = np.zeros(shape, np.float32) if init is None else init(name, shape)
            values = np.asarray(values)
            if values.shape != shape or values.dtype != np.float32 or not np.isfinite(values).all():
                raise ValueError(
                    f"init: expected finite float32 values of shape {shape} for the new "
                    f"part of {name}, found {values.dtype} of shape {values.shape}"
                )
            setattr(layer, name, np.concatenate([old, values], axis=axis))
            for optimizer, parameter in layer.OPTIMIZERS.items():
                state = getattr(layer, optimizer)
                if parameter == name and state is not None:
                    zeros = np.zeros(shape, np.float32)
                    state.m = np.concatenate([state.m, zeros], axis=axis)
                    state.v = np.concatenate([state.v, zeros], axis=axis)
    try:
        words_checked = Vocab(words=vocab)
    except ValueError:
        words_checked = None  # the boundary below names the bad word and its place
    return validated(
        Checkpoint,
        {
            **{key: getattr(new, key) for key in type(new).model_fields},
            "config": new.config.model_copy(update={"vocab_size": len(vocab)}),
            "vocab": words_checked if words_checked is not None else {"words": list(vocab)},
        },
    )
