"""The five layer kinds of RustGPT and their union (contract §5).

Each layer lists the shape of each of its arrays in the symbols of the contract
(``d`` embedding_dim, ``h`` hidden_dim, ``V`` vocab_size, ``L`` max_seq_len), and which
optimizer belongs to which array; one function checks both, against the layer's own
arrays or against a checkpoint's config.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, GetCoreSchemaHandler, StrictInt, model_validator
from pydantic_core import core_schema

from rustgpt_format.errors import FieldError
from rustgpt_format.float32 import AS_FLOAT32, Float32Array
from rustgpt_format.models.adam import AdamState
from rustgpt_format.models.base import FormatModel

SHAPES = "§6.2 shapes agree along the chain"
OPTIMIZER_SHAPES = "§6.3 optimizer moments have their parameter's shape"
DIM_NAMES = {"d": "embedding_dim", "h": "hidden_dim", "V": "vocab_size", "L": "max_seq_len"}


OwnChecks = dict[int, tuple["LayerBase", dict[str, int]]]
"""Layers validated in one scope, by id: the layer itself and the dims its own check bound."""

_OWN_CHECKS: ContextVar[OwnChecks | None] = ContextVar("_OWN_CHECKS", default=None)


@contextmanager
def own_checks() -> Iterator[OwnChecks]:
    """A scope in which each layer validated records the dims its own shape check bound.

    A checkpoint's validation opens one around its fields, so that §6's check against
    the config (:func:`rustgpt_format.models.structure.check_shapes`) can tell, from
    those dims alone, that a layer validated there agrees with the config, instead of
    checking every array again. Only layers validated inside the scope are recorded:
    a layer built earlier (and perhaps changed since) is checked in full.

    >>> import numpy as np
    >>> with own_checks() as recorded:
    ...     layer = LayerNorm(epsilon=1e-5, gamma=np.ones((1, 4), np.float32),
    ...                       beta=np.zeros((1, 4), np.float32))
    >>> recorded[id(layer)][1]
    {'d': 4}
    """
    recorded: OwnChecks = {}
    token = _OWN_CHECKS.set(recorded)
    try:
        yield recorded
    finally:
        _OWN_CHECKS.reset(token)


def _origin(symbol: str, size: int, source: str) -> str:
    """Where a dimension's value came from, for an error message."""
    if source == "config":
        return f"config.{DIM_NAMES[symbol]} = {size}"
    return f"{DIM_NAMES[symbol]} = {size}" + (f", from {source}" if source != "" else "")


class LayerBase(FormatModel):
    """What every layer kind says about itself; nothing about a kind is written elsewhere.

    - ``SHAPES``: each array's shape in the contract's symbols, in wire order;
    - ``OPTIMIZERS``: each optimizer field and the array it belongs to;
    - ``POSITION``: ``"first"``, ``"last"`` or ``"middle"`` of the network (§6.1);
    - ``RUST_FIELDS``: every field of RustGPT's struct in declaration order (§9), and
      ``CACHES``: which of them are forward caches (transient, null when written).
    """

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {}
    OPTIMIZERS: ClassVar[dict[str, str]] = {}
    POSITION: ClassVar[Literal["first", "middle", "last"]] = "middle"
    RUST_FIELDS: ClassVar[tuple[str, ...]] = ()
    CACHES: ClassVar[tuple[str, ...]] = ()
    DIM_FIELDS: ClassVar[dict[str, str]] = {}
    """Scalar fields that state a dimension, and its symbol (``embedding_dim`` -> ``d``)."""

    type: str

    @classmethod
    def tag(cls) -> str:
        """The kind's ``type`` tag (its Rust ``LayerEnum`` variant).

        >>> SelfAttention.tag()
        'SelfAttention'
        """
        default = cls.model_fields["type"].default
        return default if isinstance(default, str) else cls.__name__

    @classmethod
    def scalars(cls) -> tuple[str, ...]:
        """Fields that are neither arrays nor optimizers (``type`` included), in order."""
        arrays = {**cls.SHAPES, **cls.OPTIMIZERS}
        return tuple(name for name in cls.model_fields if name not in arrays)

    @classmethod
    def scalar_defaults(cls, dims: Mapping[str, int]) -> dict[str, Any]:
        """Values of the kind's own scalars for a new layer of sizes ``dims`` (d, h, V, L)."""
        return {field: dims[symbol] for field, symbol in cls.DIM_FIELDS.items()}

    @model_validator(mode="after")
    def _shapes_agree(self) -> LayerBase:
        self._record(self.check_shapes({}))
        return self

    def _record(self, bound: dict[str, int]) -> None:
        """Remember what this layer's own check bound, within :func:`own_checks`."""
        recorded = _OWN_CHECKS.get()
        if recorded is not None:
            recorded[id(self)] = (self, bound)

    def bound_dims(self) -> dict[str, int]:
        """Dimensions fixed by scalar fields of the layer itself (``DIM_FIELDS``)."""
        return {symbol: getattr(self, field) for field, symbol in self.DIM_FIELDS.items()}

    def check_shapes(self, dims: Mapping[str, int]) -> dict[str, int]:
        """Check every array against ``dims``, binding the symbols they fix first.

        Returns the dims with every symbol of this layer bound; raises FieldError naming
        the array whose shape disagrees.
        """
        bound = {"1": 1, **self.bound_dims(), **dims}  # "1": a size of 1, bound to itself
        taken: dict[str, str] = {}  # symbols bound from an array, and which
        for name, symbols in self.SHAPES.items():
            shape = getattr(self, name).shape
            for axis, symbol in enumerate(symbols):
                if symbol not in bound:
                    bound[symbol], taken[symbol] = shape[axis], name
            expected = tuple(map(bound.__getitem__, symbols))
            if shape != expected:
                why = "; ".join(
                    _origin(s, bound[s], "config" if s in dims else taken.get(s, ""))
                    for s in dict.fromkeys(symbols)
                    if s != "1"
                )
                raise FieldError(
                    f"expected shape {expected} ({why}), found {shape}", name, rule=SHAPES
                )
        for optimizer_name, parameter_name in self.OPTIMIZERS.items():
            state: AdamState | None = getattr(self, optimizer_name)
            if state is None:
                continue
            expected_shape = getattr(self, parameter_name).shape
            for moment in ("m", "v"):
                if getattr(state, moment).shape != expected_shape:
                    raise FieldError(
                        f"expected shape {expected_shape} (that of {parameter_name}), "
                        f"found {getattr(state, moment).shape}",
                        optimizer_name,
                        moment,
                        rule=OPTIMIZER_SHAPES,
                    )
        del bound["1"]
        return bound

    def parameters(self) -> dict[str, Float32Array]:
        """The layer's parameter arrays by name, in wire order."""
        return {name: getattr(self, name) for name in self.SHAPES}

    def optimizers(self) -> dict[str, AdamState | None]:
        """The layer's optimizer states by field name (None: inference only)."""
        return {name: getattr(self, name) for name in self.OPTIMIZERS}


class Embeddings(LayerBase):
    """Token and learned positional embeddings; row i = token[t_i] + position[i]."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {
        "token_embeddings": ("V", "d"),
        "positional_embeddings": ("L", "d"),
    }
    OPTIMIZERS: ClassVar[dict[str, str]] = {
        "token_optimizer": "token_embeddings",
        "positional_optimizer": "positional_embeddings",
    }
    POSITION: ClassVar[Literal["first", "middle", "last"]] = "first"
    RUST_FIELDS: ClassVar[tuple[str, ...]] = (
        "token_embeddings",
        "positional_embeddings",
        "cached_input",
        "token_optimizer",
        "positional_optimizer",
    )
    CACHES: ClassVar[tuple[str, ...]] = ("cached_input",)

    type: Literal["Embeddings"] = "Embeddings"
    token_embeddings: Float32Array
    positional_embeddings: Float32Array
    token_optimizer: AdamState | None = None
    positional_optimizer: AdamState | None = None


class SelfAttention(LayerBase):
    """Single-head causal self-attention with the residual."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {
        "w_q": ("d", "d"),
        "w_k": ("d", "d"),
        "w_v": ("d", "d"),
    }
    OPTIMIZERS: ClassVar[dict[str, str]] = {
        "optimizer_w_q": "w_q",
        "optimizer_w_k": "w_k",
        "optimizer_w_v": "w_v",
    }
    RUST_FIELDS: ClassVar[tuple[str, ...]] = (
        "embedding_dim",
        "w_q",
        "w_k",
        "w_v",
        "cached_input",
        "optimizer_w_q",
        "optimizer_w_k",
        "optimizer_w_v",
    )
    CACHES: ClassVar[tuple[str, ...]] = ("cached_input",)

    type: Literal["SelfAttention"] = "SelfAttention"
    embedding_dim: Annotated[StrictInt, Field(gt=0)]
    w_q: Float32Array
    w_k: Float32Array
    w_v: Float32Array
    optimizer_w_q: AdamState | None = None
    optimizer_w_k: AdamState | None = None
    optimizer_w_v: AdamState | None = None

    DIM_FIELDS: ClassVar[dict[str, str]] = {"embedding_dim": "d"}


class FeedForward(LayerBase):
    """ReLU feed-forward with the residual."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {
        "w1": ("d", "h"),
        "b1": ("1", "h"),
        "w2": ("h", "d"),
        "b2": ("1", "d"),
    }
    OPTIMIZERS: ClassVar[dict[str, str]] = {
        "optimizer_w1": "w1",
        "optimizer_b1": "b1",
        "optimizer_w2": "w2",
        "optimizer_b2": "b2",
    }
    RUST_FIELDS: ClassVar[tuple[str, ...]] = (
        "w1",
        "b1",
        "w2",
        "b2",
        "input",
        "hidden_pre_activation",
        "hidden_post_activation",
        "optimizer_w1",
        "optimizer_b1",
        "optimizer_w2",
        "optimizer_b2",
    )
    CACHES: ClassVar[tuple[str, ...]] = ("input", "hidden_pre_activation", "hidden_post_activation")

    type: Literal["FeedForward"] = "FeedForward"
    w1: Float32Array
    b1: Float32Array
    w2: Float32Array
    b2: Float32Array
    optimizer_w1: AdamState | None = None
    optimizer_b1: AdamState | None = None
    optimizer_w2: AdamState | None = None
    optimizer_b2: AdamState | None = None


class LayerNorm(LayerBase):
    """(x - mean) / (std + epsilon) * gamma + beta, per row, population std."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"gamma": ("1", "d"), "beta": ("1", "d")}
    OPTIMIZERS: ClassVar[dict[str, str]] = {"optimizer_gamma": "gamma", "optimizer_beta": "beta"}
    RUST_FIELDS: ClassVar[tuple[str, ...]] = (
        "epsilon",
        "gamma",
        "beta",
        "cached_input",
        "cached_mean",
        "cached_std",
        "optimizer_gamma",
        "optimizer_beta",
    )
    CACHES: ClassVar[tuple[str, ...]] = ("cached_input", "cached_mean", "cached_std")

    type: Literal["LayerNorm"] = "LayerNorm"
    epsilon: Annotated[float, Field(gt=0), AS_FLOAT32]
    gamma: Float32Array
    beta: Float32Array
    optimizer_gamma: AdamState | None = None
    optimizer_beta: AdamState | None = None

    @classmethod
    def scalar_defaults(cls, dims: Mapping[str, int]) -> dict[str, Any]:
        return {"epsilon": 1e-5}


class OutputProjection(LayerBase):
    """Logits = X w_out + b_out; ``optimizer`` is for w_out (b_out moves by plain SGD)."""

    SHAPES: ClassVar[dict[str, tuple[str, str]]] = {"w_out": ("d", "V"), "b_out": ("1", "V")}
    OPTIMIZERS: ClassVar[dict[str, str]] = {"optimizer": "w_out"}
    POSITION: ClassVar[Literal["first", "middle", "last"]] = "last"
    RUST_FIELDS: ClassVar[tuple[str, ...]] = ("w_out", "b_out", "optimizer", "cached_input")
    CACHES: ClassVar[tuple[str, ...]] = ("cached_input",)

    type: Literal["OutputProjection"] = "OutputProjection"
    w_out: Float32Array
    b_out: Float32Array
    optimizer: AdamState | None = None


KnownLayer = Embeddings | SelfAttention | FeedForward | LayerNorm | OutputProjection
"""The layer kinds of RustGPT (Rust's ``LayerEnum``): the one list of them."""

LAYER_KINDS: dict[str, type[LayerBase]] = {kind.tag(): kind for kind in get_args(KnownLayer)}
"""Every layer kind by its tag: those of :data:`KnownLayer`, then any registered later."""


class _LayerUnion:
    """Pydantic glue: the union of the kinds in :data:`LAYER_KINDS`, told by ``type``.

    Built when the model that holds it is built (or rebuilt, after a kind is
    registered), so the registry, not a hand-kept list, says which kinds exist.
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.tagged_union_schema(
            {tag: handler.generate_schema(kind) for tag, kind in LAYER_KINDS.items()},
            discriminator="type",
        )


Layer = Annotated[KnownLayer, _LayerUnion()]
"""Any layer; the ``type`` key picks the kind (Rust's ``LayerEnum``)."""
