"""Atomic replacement of a file: a temporary file beside it, fsynced, renamed over it.

A reader sees the old file or the new one, never a mixture; a failure (a full disk,
an I/O error, a kill) leaves the old file as it was. The new file gets the mode the
old one had, or, when there was none, the mode ``open()`` would give it (0666 less the
umask), not the owner-only mode of a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rustgpt_format.errors import CheckpointError

TEMPORARY_SUFFIX = ".rustgpt-tmp"
"""Temporary files are ``.<name>.<writer pid>.<random><TEMPORARY_SUFFIX>`` beside the target."""

STALE_AFTER_SECONDS = 24 * 3600
"""A temporary file untouched this long is stale even if a process has its writer's pid."""


def write_atomically(path: Path, data: bytes | Callable[[Path], None]) -> None:
    """Replace ``path`` by ``data`` in one rename, or leave it untouched.

    ``data`` is the bytes, or a function that writes the temporary file by its path
    (a library that streams to a file, as safetensors does).

    First removes the temporary files of earlier saves to the folder whose writer
    is gone (killed mid-save); a live writer's temporary file is left alone.
    """
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_temporaries(folder)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=TEMPORARY_SUFFIX, dir=folder
        )
    except (OSError, ValueError) as error:
        raise CheckpointError(f"cannot write {path}: {_reason(error)}") from None
    try:
        mode = _mode_for(path)
        os.fchmod(handle, mode)
        if callable(data):
            os.close(handle)
            data(Path(temporary))
            os.chmod(temporary, mode)  # a library may create the file anew
            handle = os.open(temporary, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)
        else:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise CheckpointError(f"cannot write {path}: {_reason(error)}") from None
        raise
    _sync_folder(folder)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` left by saves that cannot finish.

    A temporary file is stale when the process named in it no longer runs on this
    machine, or (a reused pid, another machine's writer, an older name without a pid)
    when it has not been modified for :data:`STALE_AFTER_SECONDS`. Returns what was
    removed; errors (a file gone meanwhile, no permission) leave the file alone.
    """
    removed = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not (entry.name.startswith(".") and entry.name.endswith(TEMPORARY_SUFFIX)):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    continue
                old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_SECONDS
                if old or _writer_is_gone(entry.name):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except OSError:
                continue
    return removed


def _writer_is_gone(name: str) -> bool:
    """Whether the pid in a temporary file's name is no process of this machine."""
    parts = name.removesuffix(TEMPORARY_SUFFIX).rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit() or os.name != "posix":
        return False  # no pid to check (or no safe way to check it): left to age
    pid = int(parts[1])
    if not 0 < pid < 2**31 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, owned by someone else
    return False


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def _mode_for(path: Path) -> int:
    """The permission bits the saved file should have (see the module's docstring)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except (OSError, ValueError):
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask
