"""The cross-field rules of contract §6: layer order and shapes along the chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rustgpt_format.errors import FieldError
from rustgpt_format.layers import Embeddings, OutputProjection, SelfAttention

if TYPE_CHECKING:
    from rustgpt_format.checkpoint import Checkpoint

ORDER = "§6.1 layer order"
SHAPES = "§6.2 shapes agree with config"


def check_structure(checkpoint: Checkpoint) -> None:
    """Raise FieldError (with a path from the root) at the first rule the checkpoint breaks."""
    network = checkpoint.network
    if len(network) < 2:
        raise FieldError(
            f"expected at least Embeddings and OutputProjection, found {len(network)} layers",
            "network",
            rule=ORDER,
        )
    for index, layer in enumerate(network):
        first, last = index == 0, index == len(network) - 1
        if first and not isinstance(layer, Embeddings):
            raise FieldError(
                f"expected Embeddings first, found {layer.type}", "network", 0, "type", rule=ORDER
            )
        if last and not isinstance(layer, OutputProjection):
            raise FieldError(
                f"expected OutputProjection last, found {layer.type}",
                "network",
                index,
                "type",
                rule=ORDER,
            )
        if (not first and isinstance(layer, Embeddings)) or (
            not last and isinstance(layer, OutputProjection)
        ):
            where = "network[0]" if isinstance(layer, Embeddings) else "the last layer"
            raise FieldError(
                f"expected SelfAttention, LayerNorm or FeedForward ({layer.type} is only "
                f"allowed as {where})",
                "network",
                index,
                "type",
                rule=ORDER,
            )

    config = checkpoint.config
    dims = {
        "d": config.embedding_dim,
        "h": config.hidden_dim,
        "V": config.vocab_size,
        "L": config.max_seq_len,
    }
    words = len(checkpoint.vocab.words)
    if words != config.vocab_size:
        raise FieldError(
            f"expected config.vocab_size = {config.vocab_size} words, found {words}",
            "vocab",
            "words",
            rule=SHAPES,
        )
    for index, layer in enumerate(network):
        if isinstance(layer, SelfAttention) and layer.embedding_dim != config.embedding_dim:
            raise FieldError(
                f"expected {config.embedding_dim} (config.embedding_dim), "
                f"found {layer.embedding_dim}",
                "network",
                index,
                "embedding_dim",
                rule=SHAPES,
            )
        try:
            layer.check_shapes(dims)
        except FieldError as error:
            raise FieldError(error.message, "network", index, *error.parts, rule=SHAPES) from None
