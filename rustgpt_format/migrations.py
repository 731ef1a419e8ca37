"""Step-wise upgrades of older documents to the current format version (contract §8).

Each :class:`Migration` reads one version and writes the next; :func:`upgrade` applies
them in order until the document is at a version no step starts from (the current
one, or a 1.y the version policy reads as it is). A problem found in the upgraded
document is reported at its path in the document as it was on disk: each step hands
back a function that maps a problem one version down, and they are applied in reverse.

Adding a version means appending a step here and a stored fixture of the older
version in ``tests/fixtures/``; nothing else in the reader changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rustgpt_format import errors
from rustgpt_format.boundary import validated
from rustgpt_format.dialect import Upgraded, from_rustgpt
from rustgpt_format.errors import CheckpointError, Problem
from rustgpt_format.models import Checkpoint, is_rustgpt
from rustgpt_format.versions import FORMAT_VERSION


@dataclass(frozen=True)
class Migration:
    """One upgrade: documents of version ``source`` become documents of ``target``."""

    source: str
    target: str
    summary: str
    step: Callable[[dict[str, Any]], Upgraded]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        source="0",
        target="1.0",
        summary=(
            "RustGPT's own JSON: layers untagged, caches dropped, encode/decode checked "
            "against words and dropped, config inferred from the arrays"
        ),
        step=from_rustgpt,
    ),
)
"""Every upgrade this reader knows, oldest first."""


def document_version(document: object) -> str:
    """The version a decoded document is at: ``"0"`` for RustGPT's dialect.

    >>> document_version({"vocab": {}, "network": []}), document_version({"format_version": "1.0"})
    ('0', '1.0')
    """
    if is_rustgpt(document):
        return "0"
    if isinstance(document, dict) and isinstance(document.get("format_version"), str):
        return str(document["format_version"])
    return FORMAT_VERSION


@dataclass(frozen=True)
class Upgrade:
    """The result of :func:`upgrade`: the document, the steps taken, and the way back."""

    document: Any
    steps: tuple[Migration, ...]
    back: tuple[Callable[[Problem], Problem], ...]

    @property
    def source(self) -> str:
        """The version the document was at before any step."""
        return self.steps[0].source if self.steps else document_version(self.document)

    def old_error(self, error: CheckpointError) -> CheckpointError:
        """``error`` (about the upgraded document) with paths in the original document."""
        return _mapped(error, self.back)


def upgrade(document: Any, *, migrations: Sequence[Migration] = MIGRATIONS) -> Upgrade:
    """Apply every step that starts at the document's version, in order.

    >>> upgrade({"format": "rustgpt-checkpoint", "format_version": "1.0"}).steps
    ()
    """
    by_source = {migration.source: migration for migration in migrations}
    steps: list[Migration] = []
    back: list[Callable[[Problem], Problem]] = []
    while (migration := by_source.get(document_version(document))) is not None:
        if migration in steps:
            raise ValueError(f"migrations loop at version {migration.source}")
        try:
            upgraded = migration.step(document)
        except CheckpointError as error:
            raise _mapped(error, tuple(back)) from None
        steps.append(migration)
        back.append(upgraded.old_problem)
        document = upgraded.document
    return Upgrade(document, tuple(steps), tuple(back))


def _mapped(
    error: CheckpointError, back: tuple[Callable[[Problem], Problem], ...]
) -> CheckpointError:
    if not back:
        return error
    problems = list(error.problems)
    for old_problem in reversed(back):
        problems = [old_problem(problem) for problem in problems]
    return CheckpointError(problems[0].message, path=problems[0].path, problems=problems)


def migrated_checkpoint(
    document: Any,
    *,
    origin: str = "",
    context: dict[str, Any] | None = None,
    warn: bool = True,
) -> tuple[Checkpoint, Upgrade]:
    """Upgrade a decoded document and validate it; problems name paths in the original.

    A :class:`FormatWarning` says which steps were taken (``origin`` names the file),
    unless ``warn`` is false (a check before the real read, which warns).
    """
    done = upgrade(document)
    if done.steps and warn:
        chain = " -> ".join([done.steps[0].source, *(step.target for step in done.steps)])
        errors.warn(
            f"{origin + ': ' if origin else ''}migrated from format version {chain} "
            f"({done.steps[0].summary if len(done.steps) == 1 else 'several steps'}); "
            "save it to keep the migrated form"
        )
    try:
        checkpoint = validated(Checkpoint, done.document, context=context, origin=origin)
    except CheckpointError as error:
        raise done.old_error(error) from None
    return checkpoint, done
