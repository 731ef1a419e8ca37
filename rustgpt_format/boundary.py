"""The one validation boundary: documents become models, ValidationError a CheckpointError.

Models are plain pydantic models (building one by keywords in Python raises pydantic's
own ``ValidationError``). Whatever enters from outside, a decoded file or a document in
memory, goes through :func:`validated`: the only place that raises pydantic's errors
as one :class:`CheckpointError` naming each problem's path from the document root.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from rustgpt_format.errors import CheckpointError, FieldError, format_path, warn
from rustgpt_format.float32 import FINITE_ARRAYS
from rustgpt_format.models import AdamState, Checkpoint, LayerBase, is_rustgpt
from rustgpt_format.pydantic_errors import UNKNOWN_KEY, problems_of
from rustgpt_format.versions import CURRENT, FORMAT_VERSION, check_version

M = TypeVar("M", bound=BaseModel)


def validated(
    model: type[M], document: Any, *, context: dict[str, Any] | None = None, origin: str = ""
) -> M:
    """``document`` as a ``model``, or :class:`CheckpointError` naming every problem.

    A checkpoint document's ``format`` and ``format_version`` are required (Python
    callers who build a :class:`Checkpoint` by keywords may leave them to default),
    and the version policy of contract §8 applies: keys unknown to this reader are
    errors at its minor version or below, and are dropped with a :class:`FormatWarning`
    in a document of a newer minor version, which then reads as the current version
    (the warning names ``origin``, the file, when given).

    >>> from rustgpt_format.models import ModelConfig
    >>> try:
    ...     validated(ModelConfig, {"embedding_dim": 0})
    ... except CheckpointError as error:
    ...     print(error)
    embedding_dim: expected a value > 0, found 0
    """
    newer = False
    if issubclass(model, Checkpoint) and isinstance(document, dict):
        try:
            newer = check_version(document)[1] > CURRENT[1]
        except FieldError as error:
            message = error.message
            if error.parts == ("format",) and is_rustgpt(document):
                message = (
                    "missing required key; this looks like RustGPT's own JSON (version 0), "
                    "which rustgpt_format.load migrates"
                )
            raise CheckpointError(message, path=format_path(error.parts)) from None
    try:
        try:
            result = model.model_validate(document, context=context)
        except ValidationError as error:
            if not newer:
                raise
            result = model.model_validate(_known_keys(document, error, origin), context=context)
    except ValidationError as error:
        problems = problems_of(error)
        raise CheckpointError(
            problems[0].message, path=problems[0].path, problems=problems
        ) from None
    if isinstance(result, Checkpoint):
        result.format_version = FORMAT_VERSION
    return result


def _known_keys(document: dict[str, Any], error: ValidationError, origin: str) -> dict[str, Any]:
    """The document without the keys a newer minor version added, with a warning naming them.

    Raises ``error`` again when it has problems other than unknown keys.
    """
    unknown = sorted(
        (problem for problem in problems_of(error) if problem.rule == UNKNOWN_KEY),
        key=lambda problem: problem.path,
    )
    if not unknown:
        raise error
    for problem in unknown:
        document = _without(document, list(problem.parts))
    warn(
        f"{origin + ': ' if origin else ''}format_version {document['format_version']} is "
        f"newer than this reader's {FORMAT_VERSION}: ignored unknown keys "
        + ", ".join(problem.path for problem in unknown)
    )
    return document


def _without(data: Any, path: list[str | int]) -> Any:
    """A copy of ``data`` without the key at ``path``, copying only along the path."""
    head, *rest = path
    if isinstance(data, dict):
        copy = dict(data)
        if not rest:
            copy.pop(head, None)
        elif head in copy:
            copy[head] = _without(copy[head], rest)
        return copy
    if isinstance(data, list) and isinstance(head, int) and rest and 0 <= head < len(data):
        items = list(data)
        items[head] = _without(items[head], rest)
        return items
    return data


def checked(checkpoint: Checkpoint, *, values: bool = True) -> Checkpoint:
    """Check a checkpoint built or changed in Python against every rule a reader applies.

    Fields assigned after construction are not validated by pydantic (a layer
    replaced, a NaN written into a weight, an array of another shape): writers call
    this first, so that nothing is written that :func:`rustgpt_format.load` would
    refuse. The checkpoint is validated again as a reader validates a document (every
    type, bound, shape, the §6 rules, the vocabulary), except that the arrays
    :func:`all_finite` clears (its largest and smallest value) are not checked element by element
    a second time; an array it does not clear is, and the validator names the first
    value at fault. Arrays are checked in place, not copied.

    ``values=False`` leaves out whether the arrays' values are finite, for a writer
    that checks each array as it writes it (while it is in cache) and calls this
    again, in full, when one is not. A checkpoint refused either way is refused with
    the full check's error, so both name the same first problem.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> broken = tiny_checkpoint()
    >>> broken.network[0].token_embeddings[1, 0] = float("nan")
    >>> checked(broken, values=False) is not None
    True
    >>> try:
    ...     checked(broken)
    ... except CheckpointError as error:
    ...     print(error.path)
    network[0].token_embeddings
    """
    arrays = _arrays(checkpoint)
    finite = frozenset(id(array) for array in arrays if not values or all_finite(array))
    try:
        return validated(Checkpoint, checkpoint.model_dump(), context={FINITE_ARRAYS: finite})
    except CheckpointError:
        if not values:
            checked(checkpoint)  # the full check's error: a NaN may come first
        raise


_BLOCK = 1 << 16
"""Floats reduced at a time (256 KiB): the second reduction finds them in cache."""


def all_finite(values: np.ndarray) -> bool:
    """Whether every element of a float32 array is finite: no temporary array, exact.

    A float32 is not finite exactly when its exponent bits are all ones. Read as
    int32, a float of sign 0 is then at or above +inf's bits (0x7F800000), and every
    float of sign 1 is negative; read as uint32, a float of sign 1 is then at or above
    -inf's bits (0xFF800000), above every float of sign 0. So the two integer maxima of
    a block say whether it holds a NaN or an infinity; they cost two thirds of the
    floats' largest and smallest value, which must treat NaN apart. Other dtypes take
    the floats' reductions. NumPy's own reductions run on the calling thread (a BLAS
    dot product, as fast, wakes BLAS's threads, which then spin on the other core).

    >>> all_finite(np.ones((2, 3), np.float32)), all_finite(np.array([1e30, -np.inf], np.float32))
    (True, False)
    >>> all_finite(np.array([-0.0, -np.nan], np.float32)), all_finite(np.array([-3e38], np.float32))
    (False, True)
    """
    flat = values.reshape(-1)
    if flat.dtype != np.float32:
        return all(
            np.isfinite(np.maximum.reduce(block)) and np.isfinite(np.minimum.reduce(block))
            for block in _blocks(flat)
        )
    signed, unsigned = flat.view(np.int32), flat.view(np.uint32)
    return not any(
        np.maximum.reduce(signed[start : start + _BLOCK]) >= _POSITIVE_INFINITY
        or np.maximum.reduce(unsigned[start : start + _BLOCK]) >= _NEGATIVE_INFINITY
        for start in range(0, flat.size, _BLOCK)
    )


_POSITIVE_INFINITY = 0x7F800000
"""+inf's bits: a float32 of sign 0 at or above them, read as int32, is not finite."""
_NEGATIVE_INFINITY = 0xFF800000
"""-inf's bits: a float32 of sign 1 at or above them, read as uint32, is not finite."""


def _blocks(flat: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, flat.size, _BLOCK):
        yield flat[start : start + _BLOCK]


def _arrays(checkpoint: Checkpoint) -> Iterator[np.ndarray]:
    """The float32 arrays of the layers, wherever they are what they should be.

    Anything else (a layer or array replaced by something of the wrong type) is left
    to the validator, which names it.
    """
    network = checkpoint.network if isinstance(checkpoint.network, list) else []
    for layer in network:
        if not isinstance(layer, LayerBase):
            continue
        found = [getattr(layer, name, None) for name in layer.SHAPES]
        for name in layer.OPTIMIZERS:
            state = getattr(layer, name, None)
            if isinstance(state, AdamState):
                found += [state.m, state.v]
        for array in found:
            if isinstance(array, np.ndarray) and array.dtype == np.float32:
                yield array
