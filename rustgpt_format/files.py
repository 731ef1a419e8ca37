"""Checkpoint files: reading, and writing atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from rustgpt_format.checkpoint import Checkpoint
from rustgpt_format.codec import decode, encode
from rustgpt_format.errors import CheckpointError


def load(path: str | Path) -> Checkpoint:
    """Read the checkpoint at ``path``.

    >>> import tempfile, pathlib
    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model.json"
    >>> save(tiny_checkpoint(), target)
    >>> load(target).vocab.words[-1]
    '</s>'
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror or error}") from None
    return decode(data)


def save(checkpoint: Checkpoint, path: str | Path, *, indent: int | None = None) -> None:
    """Write ``checkpoint`` to ``path`` atomically.

    The bytes go to a temporary file in the same folder, which is flushed, fsynced and
    renamed over ``path``: a reader sees the old file or the new one, never a mixture,
    and a failure leaves the old file as it was and no temporary file behind.
    """
    write_atomically(Path(path), encode(checkpoint, indent=indent))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one rename, or leave it untouched."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".rustgpt-tmp", dir=folder
        )
    except OSError as error:
        raise CheckpointError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise CheckpointError(f"cannot write {path}: {error.strerror or error}") from None
        raise
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
