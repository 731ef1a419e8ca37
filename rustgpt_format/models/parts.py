"""Some layers of a checkpoint (a partial load), and how layers are named when picked.

A :class:`Checkpoint` is a whole network (§6.1: Embeddings first, OutputProjection
last). What a partial load returns is not one: it is :class:`Parts`, the config and
vocabulary of the checkpoint it came from and the layers asked for, each under its
index in that checkpoint's network, each checked against the config as a layer in
that place would be.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

from pydantic import Field, StrictInt, model_validator

from rustgpt_format.errors import FieldError
from rustgpt_format.models.base import FormatModel
from rustgpt_format.models.checkpoint import LAYER_HOLDERS, Checkpoint, _same
from rustgpt_format.models.config import ModelConfig
from rustgpt_format.models.layers import LAYER_KINDS, Layer
from rustgpt_format.models.structure import ORDER, check_shapes
from rustgpt_format.models.vocab import Vocab

BLOCKS = "blocks"
"""The name of every middle layer (the transformer blocks) in a selection."""

LayerSelector = int | str
"""A layer by index (negative from the end), kind (``SelfAttention``, ``self_attention``,
``embeddings``) or ``blocks``."""


def _plain(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def select_layers(types: Sequence[str], selectors: Iterable[LayerSelector]) -> tuple[int, ...]:
    """The indices (sorted, each once) that ``selectors`` pick in a network of ``types``.

    A selector is an index (negative counts from the end), a kind named as its
    ``type`` tag or in snake case, case ignored (``FeedForward``, ``feed_forward``),
    or ``blocks``: every layer between the first and the last. A name that matches no
    layer of the network is still allowed (a network without FeedForward layers has
    none to pick); a name that is no kind, or an index outside, is a ValueError.

    >>> types = ["Embeddings", "SelfAttention", "LayerNorm", "OutputProjection"]
    >>> select_layers(types, ["embeddings", -1]), select_layers(types, ["blocks"])
    ((0, 3), (1, 2))
    """
    if isinstance(selectors, (str, int)):
        selectors = [selectors]
    kinds = {_plain(tag): tag for tag in LAYER_KINDS}
    chosen: set[int] = set()
    for selector in selectors:
        if isinstance(selector, bool) or not isinstance(selector, (int, str)):
            raise ValueError(f"layers: expected indices and names of kinds, found {selector!r}")
        if isinstance(selector, int):
            if not -len(types) <= selector < len(types):
                raise ValueError(
                    f"layers: expected an index in [-{len(types)}, {len(types)}) (the "
                    f"network has {len(types)} layers), found {selector}"
                )
            chosen.add(selector % len(types))
        elif _plain(selector) == BLOCKS:
            chosen.update(range(1, len(types) - 1))
        elif _plain(selector) in kinds:
            tag = kinds[_plain(selector)]
            chosen.update(index for index, found in enumerate(types) if found == tag)
        else:
            raise ValueError(
                f"layers: expected an index, {BLOCKS} or a kind ({', '.join(LAYER_KINDS)}), "
                f"found {selector!r}"
            )
    return tuple(sorted(chosen))


class Parts(FormatModel):
    """Layers of a checkpoint by their index in its network, with its config and vocabulary.

    What :func:`rustgpt_format.load` returns when given ``layers=``. Each layer is
    checked against ``config`` (shapes, §6.2 and §6.3) and against its place
    (§6.1: the first kind only at index 0, the last kind only at ``length - 1``).
    Put layers back into a whole model with :func:`rustgpt_format.assemble`.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> ckpt = tiny_checkpoint()
    >>> parts = Parts.of(ckpt, ["blocks"])
    >>> sorted(parts.network), parts.length, parts.network[1].type
    ([1, 2, 3, 4], 6, 'SelfAttention')
    """

    config: ModelConfig
    vocab: Vocab
    network: dict[int, Layer]
    length: Annotated[StrictInt, Field(ge=2)]
    """How many layers the whole network has."""

    @model_validator(mode="after")
    def _places(self) -> Parts:
        self._check_places()
        return self

    # the rules live outside the decorated validator so that mutation testing reaches
    # them (mutmut leaves decorated functions alone)
    def _check_places(self) -> None:
        for index, layer in self.network.items():
            if not 0 <= index < self.length:
                raise FieldError(
                    f"expected an index in [0, {self.length}) (length), found {index}",
                    "network",
                    index,
                    rule=ORDER,
                )
            place = "first" if index == 0 else "last" if index == self.length - 1 else "middle"
            if place != layer.POSITION:
                kinds = [tag for tag, kind in LAYER_KINDS.items() if place == kind.POSITION]
                raise FieldError(
                    f"expected {' or '.join(kinds)} at index {index} of {self.length}, "
                    f"found {layer.type}",
                    "network",
                    index,
                    "type",
                    rule=ORDER,
                )
        try:
            check_shapes(self.config, self.vocab, list(self.network.values()))
        except FieldError as error:
            # check_shapes numbers the layers it was given; name them by their own index
            parts = list(error.parts)
            if parts[:1] == ["network"] and len(parts) > 1 and isinstance(parts[1], int):
                parts[1] = list(self.network)[parts[1]]
            raise FieldError(error.message, *parts, rule=error.rule) from None

    @classmethod
    def of(cls, checkpoint: Checkpoint, layers: Iterable[LayerSelector]) -> Parts:
        """The layers ``layers`` picks (see :func:`select_layers`) of a checkpoint (not copies)."""
        indices = select_layers([layer.type for layer in checkpoint.network], layers)
        return cls.model_construct(
            config=checkpoint.config,
            vocab=checkpoint.vocab,
            network={index: checkpoint.network[index] for index in indices},
            length=len(checkpoint.network),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Parts):
            return NotImplemented
        return (
            self.length == other.length
            and self.network.keys() == other.network.keys()
            and _same(self.config, other.config)
            and _same(self.vocab, other.vocab)
            and all(_same(layer, other.network[index]) for index, layer in self.network.items())
        )

    __hash__ = None  # type: ignore[assignment]

    def layers(self) -> list[Layer]:
        """The layers in network order."""
        return [self.network[index] for index in sorted(self.network)]


LAYER_HOLDERS.append(Parts)
