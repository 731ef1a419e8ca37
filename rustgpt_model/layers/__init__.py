"""The forward and backward pass of each layer kind, one module per kind, and the table of them.

Each kernel module names the layer class it computes (``KIND``) and has

- ``forward(layer, x) -> (y, cache)``: ``x`` is the previous layer's output (the token
  ids for the embeddings);
- ``backward(layer, cache, grad_output, grad) -> grad_x``: writes dL/dparameter into the
  arrays of ``grad`` (a layer of the same kind) and returns dL/dx (None for the
  embeddings, which have no input to differentiate).

:data:`KERNELS` maps each layer kind of ``rustgpt_format`` (its registry of kinds, which
makes the ``Layer`` union) to its module; the kinds are read from that registry, so a kind
added there needs only its kernel module here (:func:`register` adds one from outside
the package).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Protocol, cast

from rustgpt_format.models import LAYER_KINDS
from rustgpt_model.layers import attention, embeddings, feed_forward, layer_norm, output
from rustgpt_model.ops import Array

__all__ = [
    "KERNELS",
    "Kernel",
    "attention",
    "embeddings",
    "feed_forward",
    "kernel",
    "layer_kinds",
    "layer_norm",
    "output",
    "register",
]


class Kernel(Protocol):
    """What a kernel module provides (the modules of this package are kernels)."""

    KIND: type[Any]

    def forward(self, layer: Any, x: Array, /) -> tuple[Array, Any]: ...

    def backward(
        self, layer: Any, cache: Any, grad_output: Array, grad: Any, /
    ) -> Array | None: ...


def layer_kinds() -> tuple[type[Any], ...]:
    """The layer classes ``rustgpt_format`` knows (those of its ``Layer`` union), in order.

    >>> [kind.__name__ for kind in layer_kinds()][:2]
    ['Embeddings', 'SelfAttention']
    """
    return tuple(LAYER_KINDS.values())


KERNELS: dict[type[Any], Kernel] = {}
"""Layer class → its kernel module, for every kind of the union that has one."""


def register(module: ModuleType | Kernel) -> None:
    """Make ``module`` the kernel of the layer class it names as ``KIND``.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> register(attention)  # already there: registering again changes nothing
    >>> kernel(tiny_checkpoint().network[1]).__name__
    'rustgpt_model.layers.attention'
    """
    kernel_module = cast(Kernel, module)
    KERNELS[kernel_module.KIND] = kernel_module


def kernel(layer: object) -> Kernel:
    """The kernel module of ``layer``'s kind; TypeError naming the kind if it has none."""
    try:
        return KERNELS[type(layer)]
    except KeyError:
        known = ", ".join(kind.__name__ for kind in KERNELS)
        raise TypeError(
            f"no kernel for layer kind {type(layer).__name__} (kernels exist for {known})"
        ) from None


def _table() -> dict[type[Any], Kernel]:
    """Each kind of the union that one of this package's modules computes, to that module."""
    modules = (attention, embeddings, feed_forward, layer_norm, output)
    by_kind: dict[type[Any], Kernel] = {module.KIND: cast(Kernel, module) for module in modules}
    return {kind: by_kind[kind] for kind in layer_kinds() if kind in by_kind}


KERNELS.update(_table())
