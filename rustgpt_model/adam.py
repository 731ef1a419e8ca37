"""Adam over every parameter at once, on flat buffers that the checkpoint's arrays view.

RustGPT keeps one Adam state per parameter array and steps each array on its own. Here
each parameter array, each moment array and each gradient is a view into one of four
flat float32 buffers, so one step is a dozen vectorised operations over the whole model
instead of a dozen per array. The views *are* the checkpoint's arrays: saving the
checkpoint saves the buffers, and no second copy of the parameters exists.

A step can also be taken layer by layer during the backward pass (:meth:`FusedAdam.begin`,
:meth:`FusedAdam.layer_done`, :meth:`FusedAdam.finish`): a layer's parameters are updated
as soon as its gradient is written and its weights are no longer needed, while both are
still in cache. Each element sees the same operations in the same order either way.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rustgpt_format import AdamState, Layer
from rustgpt_model.network import gradient_like
from rustgpt_model.ops import Array

_BLOCK = 32768
"""Elements updated together: a block of each buffer stays in L2 through all the passes."""

_FLUSH = 16384
"""Gradients ready during the backward pass are updated once at least this many wait."""


@dataclass(frozen=True)
class _Segment:
    """One parameter's place in the flat buffers, and its Adam state."""

    start: int
    stop: int
    state: AdamState


class _Hyper(NamedTuple):
    """The scalars of one step's update, from the learning rate and one state.

    As RustGPT: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and
    p ← p − lr · m̂ / (√v̂ + ε) with m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ), computed in the
    equivalent form p − (lr √(1−β2ᵗ) / (1−β1ᵗ)) · m / (√v + ε √(1−β2ᵗ)), which saves
    two passes over the buffers (PyTorch's Adam does the same). Each is a float32 scalar,
    the value a Python float would be rounded to in the operation, made once per step.
    """

    beta1: np.float32
    beta2: np.float32
    gradient_share: np.float32  # 1 − β1
    square_share: np.float32  # 1 − β2
    epsilon: np.float32  # ε √(1−β2ᵗ)
    step_size: np.float32  # lr √(1−β2ᵗ) / (1−β1ᵗ)

    @classmethod
    def of(cls, lr: float, state: AdamState) -> _Hyper:
        root_correction2 = float(np.sqrt(1.0 - state.beta2**state.timestep))
        f = np.float32
        return cls(
            beta1=f(state.beta1),
            beta2=f(state.beta2),
            gradient_share=f(1.0 - state.beta1),
            square_share=f(1.0 - state.beta2),
            epsilon=f(state.epsilon * root_correction2),
            step_size=f(lr * root_correction2 / (1.0 - state.beta1**state.timestep)),
        )


_Views = tuple[Array, Array, Array, Array, Array]
"""(parameters, gradients, m, v, scratch) of one block."""


class _Group(NamedTuple):
    """Parameters ``[start, stop)`` of the flat buffers, updated together.

    ``grads`` holds their gradients; ``blocks`` are the views one uniform update goes
    through, ``segments`` the parameters (indices into the segments) for an update with
    mixed hyper-parameters.
    """

    start: int
    stop: int
    grads: Array
    blocks: list[_Views]
    segments: list[int]


class FusedAdam:
    """Adam (RustGPT's hyper-parameters and update) for all the parameters of a network.

    Building it rebinds every parameter and Adam moment of ``network`` to views into
    flat buffers, the values unchanged. An optimizer that is missing (an inference-only
    checkpoint) is created afresh; :attr:`fresh` names them. ``gradients`` mirrors the
    network: :func:`rustgpt_model.network.backward` writes into it, and :meth:`step`
    reads it.

    ``streamed=True`` is for steps taken layer by layer during the backward pass: the
    gradients then live in two small buffers that the groups of layers take turns in,
    which stay in cache instead of going out to memory and back each step; every layer
    must then be reported done (:meth:`layer_done`) before :meth:`finish`.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> ckpt = tiny_checkpoint()
    >>> adam = FusedAdam(ckpt.network)
    >>> adam.parameters.size, np.shares_memory(adam.parameters, ckpt.network[1].w_q)
    (172, True)
    """

    def __init__(
        self, network: Sequence[Layer], *, streamed: bool = False, frozen: Collection[int] = ()
    ) -> None:
        self.fresh: list[str] = []
        self.frozen = frozenset(frozen)
        """Layers left out: their parameters and states are not bound, and never change."""
        self.kept = 0
        self.streamed = streamed
        pairs: list[tuple[Layer, str, AdamState]] = []
        layer_starts = []  # the index in ``pairs`` of each layer's first parameter
        for index, layer in enumerate(network):
            layer_starts.append(len(pairs))
            if index in self.frozen:
                continue
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
        # one block of scratch, reused by every block: it stays in cache
        self._scratch = np.empty(_BLOCK, np.float32)
        self._segments: list[_Segment] = []
        start = 0
        for layer, name, state in pairs:
            stop = start + getattr(layer, name).size
            setattr(layer, name, _bind(self.parameters, start, stop, getattr(layer, name)))
            state.m = _bind(self.m, start, stop, state.m)
            state.v = _bind(self.v, start, stop, state.v)
            self._segments.append(_Segment(start, stop, state))
            start = stop
        self._states = [segment.state for segment in self._segments]
        starts = [
            self._segments[at].start if at < len(self._segments) else total for at in layer_starts
        ]
        spans = _group_spans(starts, total)
        if streamed:
            longest = max((stop - start for start, stop in spans.values()), default=0)
            self.grads = np.zeros(2 * longest, np.float32)
            turns = itertools.cycle((self.grads[:longest], self.grads[longest:]))
            memory = {index: next(turns) for index in spans}  # in the backward pass's order
        else:
            self.grads = np.zeros(total, np.float32)
            memory = {index: self.grads[start:stop] for index, (start, stop) in spans.items()}
        self._plan: list[_Group | None] = [None] * len(network)
        for index, (start, stop) in spans.items():
            grads = memory[index]
            self._plan[index] = _Group(
                start,
                stop,
                grads,
                self._views(start, stop, grads[: stop - start]),
                [at for at, seg in enumerate(self._segments) if start <= seg.start < stop],
            )
        # the gradient of each parameter: a view into its group's gradient memory
        self.gradients: list[Layer] = [gradient_like(layer) for layer in network]
        groups = [group for group in self._plan if group is not None]
        owners = _owners(network, self.gradients, self.frozen)
        for (layer, name, _), gradient, segment in zip(pairs, owners, self._segments, strict=True):
            group = next(g for g in groups if g.start <= segment.start < g.stop)
            at, until = segment.start - group.start, segment.stop - group.start
            setattr(gradient, name, group.grads[at:until].reshape(getattr(layer, name).shape))
        self._hypers: list[_Hyper] | None = None
        self._hyper: _Hyper | None = None
        self._next = -1
        self._begun = False

    def step(self, lr: float) -> None:
        """One Adam step of every parameter with the gradients in :attr:`gradients`.

        Every state's timestep moves on by one; then, per element, as RustGPT:
        m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and p ← p − lr · m̂ / (√v̂ + ε) with
        m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ) (computed as :class:`_Hyper` says). The work goes
        in blocks that stay in cache through the dozen passes.
        """
        self.begin(lr)
        self.finish()

    def begin(self, lr: float) -> None:
        """Start a step at learning rate ``lr``: every state's timestep moves on by one.

        Then :meth:`layer_done` as the backward pass finishes each layer, from the last
        to the first (or not at all, unless :attr:`streamed`), and :meth:`finish`.
        """
        states = self._states
        for state in states:
            # the field itself, without pydantic's __setattr__ (a plain int field with no
            # validation on assignment): a dozen times cheaper, and this runs every step
            state.__dict__["timestep"] += 1
        first = states[0] if states else None
        uniform = first is not None and all(
            (s.timestep, s.beta1, s.beta2, s.epsilon)
            == (first.timestep, first.beta1, first.beta2, first.epsilon)
            for s in states
        )
        if uniform and first is not None:
            self._hyper, self._hypers = _Hyper.of(lr, first), None
        else:
            self._hyper, self._hypers = None, [_Hyper.of(lr, state) for state in states]
        self._next = len(self._plan) - 1  # the layer whose gradient is due next
        self._begun = True

    def layer_done(self, index: int) -> None:
        """Layer ``index``'s gradient is written and its weights are no longer needed.

        Its parameters (with those of the layers done before it, in blocks of useful
        size) are updated now, while they are in cache. Layers must be done from the
        last to the first, as the backward pass finishes them.
        """
        if not self._begun:
            raise RuntimeError(f"layer_done({index}): no step begun (begin() first)")
        if index != self._next:
            raise RuntimeError(f"layer_done({index}): expected layer {self._next} (last to first)")
        self._next -= 1
        group = self._plan[index]
        if group is not None:
            self._update(group)

    def finish(self) -> None:
        """Update every parameter :meth:`layer_done` has not updated: the step is complete."""
        if not self._begun:
            raise RuntimeError("finish() without begin()")
        if self.streamed and self._next != -1:
            raise RuntimeError(
                f"finish(): layers 0 to {self._next} are not done; a streamed step needs "
                "every layer's gradient reported as the backward pass writes it"
            )
        self._begun = False
        for index in range(self._next, -1, -1):
            group = self._plan[index]
            if group is not None:
                self._update(group)

    def _update(self, group: _Group) -> None:
        if self._hyper is not None:
            for views in group.blocks:
                _adam(*views, self._hyper)
            return
        assert self._hypers is not None
        for number in group.segments:  # mixed hyper-parameters: each parameter on its own
            segment, hyper = self._segments[number], self._hypers[number]
            at, until = segment.start - group.start, segment.stop - group.start
            for views in self._views(segment.start, segment.stop, group.grads[at:until]):
                _adam(*views, hyper)

    def _views(self, start: int, stop: int, grads: Array) -> list[_Views]:
        """The views of ``[start, stop)`` (gradients ``grads``) in equal blocks of at most
        :data:`_BLOCK`."""
        count = -(-(stop - start) // _BLOCK)
        edges = [start + (stop - start) * i // count for i in range(count + 1)]
        return [
            (
                self.parameters[lo:hi],
                grads[lo - start : hi - start],
                self.m[lo:hi],
                self.v[lo:hi],
                self._scratch[: hi - lo],
            )
            for lo, hi in itertools.pairwise(edges)
        ]


def _group_spans(starts: list[int], total: int) -> dict[int, tuple[int, int]]:
    """Which layer's completion updates which span of the flat buffers.

    ``starts[i]`` is where layer i's parameters begin. The backward pass finishes
    layers from the last to the first, so the parameters ready to update are a growing
    tail of the buffers; a layer's completion updates what has gathered since the last
    update once it is at least :data:`_FLUSH` elements (the first layer's, everything
    left). The spans cover every element once; keys are in the backward pass's order.

    >>> _group_spans([0, 10, 20000, 20100], 40000)
    {3: (20100, 40000), 1: (10, 20100), 0: (0, 10)}
    """
    spans: dict[int, tuple[int, int]] = {}
    pending_stop = total
    for index in range(len(starts) - 1, -1, -1):
        start = starts[index]
        if (pending_stop - start >= _FLUSH or index == 0) and pending_stop > start:
            spans[index] = (start, pending_stop)
            pending_stop = start
    return spans


def _adam(p: Array, g: Array, m: Array, v: Array, u: Array, hyper: _Hyper) -> None:
    """One Adam update of a block (see :class:`_Hyper`); ``u`` is scratch.

    In-place and one-input operations where the arithmetic allows: on NumPy they run
    about twice as fast as an operation writing a third array.
    """
    beta1, beta2, gradient_share, square_share, epsilon, step_size = hyper
    m *= beta1
    np.multiply(g, gradient_share, out=u)
    m += u  # (n,) first moment: β1·m + (1−β1)·g, each product rounded as RustGPT's
    v *= beta2
    np.square(g, out=u)  # g·g, the same rounding
    u *= square_share
    v += u  # (n,) second moment
    np.sqrt(v, out=u)
    u += epsilon
    np.divide(m, u, out=u)
    u *= step_size
    p -= u


def _bind(buffer: Array, start: int, stop: int, values: Array) -> Array:
    """Copy ``values`` into ``buffer[start:stop]`` and return that span as their view."""
    view = buffer[start:stop].reshape(values.shape)
    view[...] = values
    return view


def _owners(
    network: Sequence[Layer], gradients: Sequence[Layer], frozen: frozenset[int]
) -> list[Layer]:
    """For each Adam-managed parameter, in the order of __init__, its gradient layer."""
    return [
        gradient
        for index, (layer, gradient) in enumerate(zip(network, gradients, strict=True))
        if index not in frozen
        for _ in layer.OPTIMIZERS
    ]
