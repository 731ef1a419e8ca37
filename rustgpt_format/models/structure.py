"""The cross-field rules of contract §6: layer order and shapes along the chain."""

from __future__ import annotations

from collections.abc import Sequence

from rustgpt_format.errors import FieldError
from rustgpt_format.models.config import ModelConfig
from rustgpt_format.models.layers import DIM_NAMES, LAYER_KINDS, LayerBase, OwnChecks
from rustgpt_format.models.vocab import Vocab

ORDER = "§6.1 layer order"
SHAPES = "§6.2 shapes agree with config"


def _kinds(position: str) -> list[str]:
    return [tag for tag, kind in LAYER_KINDS.items() if position == kind.POSITION]


def check_order(network: Sequence[LayerBase]) -> None:
    """§6.1: the first kind first, the last kind last, middle kinds between."""
    first, last = " or ".join(_kinds("first")), " or ".join(_kinds("last"))
    if len(network) < 2:
        raise FieldError(
            f"expected at least {first} and {last}, found {len(network)} layers",
            "network",
            rule=ORDER,
        )
    for index, layer in enumerate(network):
        position = "first" if index == 0 else "last" if index == len(network) - 1 else "middle"
        if position == layer.POSITION:
            continue
        if position != "middle":
            expected = first if position == "first" else last
            raise FieldError(
                f"expected {expected} {position}, found {layer.type}",
                "network",
                index,
                "type",
                rule=ORDER,
            )
        middle = _kinds("middle")
        where = "network[0]" if layer.POSITION == "first" else "the last layer"
        raise FieldError(
            f"expected {', '.join(middle[:-1])} or {middle[-1]} ({layer.type} is only "
            f"allowed as {where})",
            "network",
            index,
            "type",
            rule=ORDER,
        )


def check_shapes(
    config: ModelConfig,
    vocab: Vocab,
    network: Sequence[LayerBase],
    own: OwnChecks | None = None,
) -> None:
    """§6.2 and §6.3: every array's shape agrees with ``config``, moments with parameters.

    ``own``: the layers whose own shape check just passed (see
    :func:`~rustgpt_format.models.layers.own_checks`) and the dims it bound. Such a
    layer agrees with the config when each of those dims is the config's: its arrays
    are not checked a second time. Any other layer is checked in full, and so is one
    that disagrees, for the error naming its first array at fault.
    """
    dims = {
        "d": config.embedding_dim,
        "h": config.hidden_dim,
        "V": config.vocab_size,
        "L": config.max_seq_len,
    }
    words = len(vocab.words)
    if words != config.vocab_size:
        raise FieldError(
            f"expected config.vocab_size = {config.vocab_size} words, found {words}",
            "vocab",
            "words",
            rule=SHAPES,
        )
    for index, layer in enumerate(network):
        for field, symbol in layer.DIM_FIELDS.items():
            if getattr(layer, field) != dims[symbol]:
                raise FieldError(
                    f"expected {dims[symbol]} (config.{DIM_NAMES[symbol]}), "
                    f"found {getattr(layer, field)}",
                    "network",
                    index,
                    field,
                    rule=SHAPES,
                )
        if _agrees(layer, own, dims):
            continue
        try:
            layer.check_shapes(dims)
        except FieldError as error:
            raise FieldError(
                error.message, "network", index, *error.parts, rule=SHAPES
            ) from None


def _agrees(layer: LayerBase, own: OwnChecks | None, dims: dict[str, int]) -> bool:
    """Whether ``layer``'s own check, recorded in ``own``, bound each symbol as ``dims`` do.

    That check passed with every array's shape given by the dims it bound: with the
    same dims, the check against the config passes too.
    """
    recorded = own.get(id(layer)) if own else None
    if recorded is None or recorded[0] is not layer:
        return False
    return all(dims.get(symbol) == size for symbol, size in recorded[1].items())


def check_structure(
    config: ModelConfig,
    vocab: Vocab,
    network: Sequence[LayerBase],
    own: OwnChecks | None = None,
) -> None:
    """Raise FieldError (with a path from the root) at the first §6 rule broken.

    ``own``: as for :func:`check_shapes`.
    """
    check_order(network)
    check_shapes(config, vocab, network, own)
