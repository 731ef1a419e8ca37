"""The checkpoint document (contract §1) and its version policy (§8)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from rustgpt_format.base import FormatModel
from rustgpt_format.config import ModelConfig
from rustgpt_format.errors import CheckpointError, FieldError, FormatWarning, format_path
from rustgpt_format.layers import Layer
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.pydantic_errors import UNKNOWN_KEY, problems_of
from rustgpt_format.structure import check_structure
from rustgpt_format.training import TrainingState
from rustgpt_format.versions import CURRENT, FORMAT_VERSION, check_version
from rustgpt_format.vocab import Vocab


class Checkpoint(FormatModel):
    """A RustGPT model, its vocabulary and (optionally) its training state.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> ckpt = tiny_checkpoint()
    >>> Checkpoint.from_json(ckpt.to_json()) == ckpt
    True
    """

    format: Literal["rustgpt-checkpoint"] = "rustgpt-checkpoint"
    format_version: Annotated[StrictStr, Field(pattern=r"^1\.(0|[1-9][0-9]*)$")] = FORMAT_VERSION
    config: ModelConfig
    vocab: Vocab
    network: list[Layer]
    training: TrainingState | None = None
    metadata: dict[StrictStr, StrictStr] | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _version_policy(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        version = check_version(data, required=False)
        if version[1] <= CURRENT[1]:
            return handler(data)
        try:
            checkpoint = handler(data)
        except ValidationError as error:
            unknown = sorted(
                (problem for problem in problems_of(error) if problem.rule == UNKNOWN_KEY),
                key=lambda problem: problem.path,
            )
            if not unknown:
                raise
            for problem in unknown:
                data = _without(data, list(problem.parts))
            warnings.warn(
                f"format_version {data['format_version']} is newer than this reader's "
                f"{FORMAT_VERSION}: ignored unknown keys "
                + ", ".join(problem.path for problem in unknown),
                FormatWarning,
                stacklevel=2,
            )
            checkpoint = handler(data)
        checkpoint.format_version = FORMAT_VERSION
        return checkpoint

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Checkpoint:
        """Validate a decoded document: ``format`` and ``format_version`` are required."""
        if isinstance(obj, dict):
            try:
                check_version(obj)
            except FieldError as error:
                path = format_path(error.parts)
                raise CheckpointError(error.message, path=path) from None
        return super().model_validate(obj, **options)

    @model_validator(mode="after")
    def _structure(self) -> Checkpoint:
        check_structure(self)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Checkpoint):
            return NotImplemented
        from rustgpt_format.codec import encode

        return encode(self) == encode(other)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_json(
        cls, data: bytes | bytearray | memoryview | str, *, limits: Limits = DEFAULT_LIMITS
    ) -> Checkpoint:
        """Read a checkpoint from JSON text within ``limits``; problems raise CheckpointError."""
        from rustgpt_format.codec import decode

        return decode(data, limits=limits)

    def to_json(self, *, indent: int | None = None) -> bytes:
        """The checkpoint as canonical JSON bytes (``indent=2`` for a readable file)."""
        from rustgpt_format.codec import encode

        return encode(self, indent=indent)

    @classmethod
    def load(
        cls, path: str | Path, *, optimizer: bool = True, limits: Limits = DEFAULT_LIMITS
    ) -> Checkpoint:
        """Read a checkpoint file of any form; see :func:`rustgpt_format.load`."""
        from rustgpt_format.files import load

        return load(path, optimizer=optimizer, limits=limits)

    def save(
        self,
        path: str | Path,
        *,
        indent: int | None = None,
        dialect: Literal["rustgpt-checkpoint", "rustgpt"] = "rustgpt-checkpoint",
    ) -> None:
        """Write the checkpoint atomically; see :func:`rustgpt_format.save`."""
        from rustgpt_format.files import save

        save(self, path, indent=indent, dialect=dialect)


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
