"""Adam over every parameter at once, on flat buffers that the checkpoint's arrays view.

RustGPT keeps one Adam state per parameter array and steps each array on its own. Here
each parameter array, each moment array and each gradient is a view into one of four
flat float32 buffers, so one step is a dozen vectorised operations over the whole model
instead of a dozen per array. The views *are* the checkpoint's arrays: saving the
checkpoint saves the buffers, and no second copy of the parameters exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rustgpt_format import AdamState, Layer
from rustgpt_model.network import gradient_like
from rustgpt_model.ops import Array

_BLOCK = 32768
"""Elements updated together: a block of each buffer fits in L2 for all the passes."""


@dataclass(frozen=True)
class _Segment:
    """One parameter's place in the flat buffers, and its Adam state."""

    start: int
    stop: int
    state: AdamState


class FusedAdam:
    """Adam (RustGPT's hyper-parameters and update) for all the parameters of a network.

    Building it rebinds every parameter and Adam moment of ``network`` to views into
    flat buffers, the values unchanged. An optimizer that is missing (an inference-only
    checkpoint) is created afresh; :attr:`fresh` names them. ``gradients`` mirrors the
    network: :func:`rustgpt_model.network.backward` writes into it, and :meth:`step`
    reads it.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> ckpt = tiny_checkpoint()
    >>> adam = FusedAdam(ckpt.network)
    >>> adam.parameters.size, np.shares_memory(adam.parameters, ckpt.network[1].w_q)
    (172, True)
    """

    def __init__(self, network: Sequence[Layer]) -> None:
        self.fresh: list[str] = []
        self.kept = 0
        pairs = []
        for index, layer in enumerate(network):
            for optimizer_name, parameter_name in layer.OPTIMIZERS.items():
                parameter = getattr(layer, parameter_name)
                if getattr(layer, optimizer_name) is None:
                    setattr(layer, optimizer_name, AdamState.fresh(parameter.shape))
                    self.fresh.append(f"network[{index}].{optimizer_name}")
                else:
                    self.kept += 1
                pairs.append((layer, parameter_name, getattr(layer, optimizer_name)))
        total = sum(getattr(layer, name).size for layer, name, _ in pairs)
        self.parameters = np.empty(total, np.float32)
        self.m = np.empty(total, np.float32)
        self.v = np.empty(total, np.float32)
        self.grads = np.zeros(total, np.float32)
        self._scratch = (np.empty(total, np.float32), np.empty(total, np.float32))
        self.gradients: list[Layer] = [gradient_like(layer) for layer in network]
        self._segments: list[_Segment] = []
        start = 0
        owners = _owners(network, self.gradients)
        for (layer, name, state), gradient in zip(pairs, owners, strict=True):
            shape = getattr(layer, name).shape
            stop = start + getattr(layer, name).size
            setattr(layer, name, _bind(self.parameters, start, stop, getattr(layer, name)))
            state.m = _bind(self.m, start, stop, state.m)
            state.v = _bind(self.v, start, stop, state.v)
            setattr(gradient, name, self.grads[start:stop].reshape(shape))
            self._segments.append(_Segment(start, stop, state))
            start = stop
        self._runs: list[tuple[int, int, _Hyper]] = []

    def step(self, lr: float) -> None:
        """One Adam step of every parameter with the gradients in :attr:`grads`.

        The same as :meth:`begin` followed by :meth:`update` over the whole buffer.
        """
        self.begin()
        self.update(lr, 0, self.parameters.size)

    def begin(self) -> None:
        """Start a step: every state's timestep moves on by one.

        Then :meth:`update` must cover every element once, in any order (disjoint spans
        touch disjoint memory).
        """
        runs: list[tuple[int, int, _Hyper]] = []
        for segment in self._segments:
            state = segment.state
            state.timestep += 1
            hyper = (state.timestep, state.beta1, state.beta2, state.epsilon)
            if runs and runs[-1][2] == hyper and runs[-1][1] == segment.start:
                runs[-1] = (runs[-1][0], segment.stop, hyper)
            else:
                runs.append((segment.start, segment.stop, hyper))
        self._runs = runs

    def update(self, lr: float, start: int, stop: int) -> None:
        """Update the elements in ``[start, stop)`` of the flat buffers.

        Per element, as RustGPT: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², then
        p ← p − lr · m̂ / (√v̂ + ε) with m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ), computed in
        the equivalent form p − (lr √(1−β2ᵗ) / (1−β1ᵗ)) · m / (√v + ε √(1−β2ᵗ)), which
        saves two passes over the buffers (PyTorch's Adam does the same). The work goes
        in blocks that stay in cache through the dozen passes.
        """
        for run_start, run_stop, (timestep, beta1, beta2, epsilon) in self._runs:
            lo, hi = max(start, run_start), min(stop, run_stop)
            for at in range(lo, hi, _BLOCK):
                span = slice(at, min(at + _BLOCK, hi))
                _adam(
                    self.parameters[span],
                    self.grads[span],
                    self.m[span],
                    self.v[span],
                    self._scratch[0][span],
                    self._scratch[1][span],
                    lr=lr,
                    timestep=timestep,
                    beta1=beta1,
                    beta2=beta2,
                    epsilon=epsilon,
                )


_Hyper = tuple[int, float, float, float]
"""(timestep, beta1, beta2, epsilon): what one vectorised update needs to agree on."""


def _adam(
    p: Array,
    g: Array,
    m: Array,
    v: Array,
    denominator: Array,
    update: Array,
    *,
    lr: float,
    timestep: int,
    beta1: float,
    beta2: float,
    epsilon: float,
) -> None:
    correction1 = 1.0 - beta1**timestep
    root_correction2 = float(np.sqrt(1.0 - beta2**timestep))
    m *= beta1
    np.multiply(g, 1.0 - beta1, out=update)
    m += update  # (n,) first moment
    v *= beta2
    np.multiply(g, g, out=update)
    update *= 1.0 - beta2
    v += update  # (n,) second moment
    np.sqrt(v, out=denominator)
    denominator += epsilon * root_correction2
    np.divide(m, denominator, out=update)
    update *= lr * root_correction2 / correction1
    p -= update


def _bind(buffer: Array, start: int, stop: int, values: Array) -> Array:
    """Copy ``values`` into ``buffer[start:stop]`` and return that span as their view."""
    view = buffer[start:stop].reshape(values.shape)
    view[...] = values
    return view


def _owners(network: Sequence[Layer], gradients: Sequence[Layer]) -> list[Layer]:
    """For each Adam-managed parameter, in the order of __init__, its gradient layer."""
    return [
        gradient
        for layer, gradient in zip(network, gradients, strict=True)
        for _ in layer.OPTIMIZERS
    ]
