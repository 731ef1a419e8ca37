"""The base of every model: a closed JSON object whose arrays are ndarrays.

Models are pure data: constructing one in Python raises pydantic's ``ValidationError``
like any pydantic model; documents read from files go through
:func:`rustgpt_format.boundary.validated`, the one place that turns it into a
:class:`~rustgpt_format.errors.CheckpointError`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FormatModel(BaseModel):
    """A closed JSON object of the format: unknown keys are errors, arrays are ndarrays."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
