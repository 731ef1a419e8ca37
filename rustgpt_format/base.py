"""The base of every model: closed objects, and errors that are CheckpointErrors."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.config import ExtraValues

from rustgpt_format.pydantic_errors import to_checkpoint_error


class FormatModel(BaseModel):
    """A closed JSON object of the format: unknown keys are errors, arrays are ndarrays."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise to_checkpoint_error(error) from None

    # The override only translates errors, which the outermost call does: pydantic may
    # validate nested models without calling it (as it does for BaseModel's own).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a decoded document; problems raise :class:`CheckpointError`."""
        try:
            return super().model_validate(
                obj,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as error:
            raise to_checkpoint_error(error) from None
