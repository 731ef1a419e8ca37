"""Large inputs read through a memory map, with the pages already read given back.

A file of a gigabyte read into memory costs a gigabyte before the first byte is
looked at; a refused file should cost a small bound instead. Large regular files are
therefore mapped read-only (``mmap``) rather than read, and the readers, which go
through their input front to back in chunks, tell the kernel (``madvise``
``MADV_DONTNEED``) when a range is done: its pages leave the process's resident set
and come back from the page cache only if they are read again. The resident memory of
a pass over a mapped input is then a chunk, whatever its size.

Everything here takes a :data:`Buffer`: ``bytes`` (small inputs, pipes, data given in
memory) or a read-only ``mmap.mmap``. On bytes, :func:`release` does nothing.
"""

from __future__ import annotations

import contextlib
import mmap
import tempfile
from collections.abc import Iterable
from typing import BinaryIO

import numpy as np

Buffer = bytes | mmap.mmap
"""Input a reader goes through: bytes in memory, or a read-only map of a file."""

MAPPED_FROM = 64 * 2**20
"""Regular files of this many bytes or more are mapped, not read: below it, one read is
as fast and the file's own bytes stay well inside the memory bound (issue 15)."""

CHECKED_FIRST = 128 * 2**20
"""Bytes of float32 arrays past which a reader checks every array, and validates the
document with :func:`stand_in` arrays, before it keeps any array in memory: a refused
file then costs no array memory, where one pass would hold every array read before
the problem (issue 15's bound); below it one pass is cheaper and within the bound."""


def stand_in(count: int) -> np.ndarray:
    """``count`` float32 zeros as one value repeated: an array's size without its memory.

    >>> stand_in(3).shape, stand_in(3).nbytes, stand_in(3).base.nbytes
    ((3,), 12, 4)
    """
    return np.broadcast_to(np.zeros(1, np.float32), (count,))


_RELEASE = getattr(mmap, "MADV_DONTNEED", None)  # absent off Linux/BSD: pages stay
_COUNTED = 1 << 20


def mapped(stream: BinaryIO) -> mmap.mmap | None:
    """A read-only map of the open regular file ``stream``, or None where none can be made.

    >>> import tempfile
    >>> with tempfile.TemporaryFile() as stream:
    ...     _ = stream.write(b"{}")
    ...     stream.flush()
    ...     mapped(stream)[:2]
    b'{}'
    """
    try:
        return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, AttributeError):  # empty, not mappable, or no descriptor
        return None


def release(buffer: Buffer | bytearray, start: int, end: int) -> None:
    """Give the pages of ``buffer[start:end]`` (mapped) back; they are read again if needed.

    Only for read-only maps: their pages are the file's, so dropping one loses nothing.

    >>> release(b"bytes: nothing to do", 0, 5)
    """
    if _RELEASE is None or not isinstance(buffer, mmap.mmap) or end <= start:
        return
    first = start - start % mmap.PAGESIZE
    last = min(end + (-end) % mmap.PAGESIZE, len(buffer))
    if last > first:
        with contextlib.suppress(OSError, ValueError):
            buffer.madvise(_RELEASE, first, last - first)


class Releaser:
    """Gives back the pages of ``buffer`` behind a pass moving forward, ``every`` bytes
    or more at a time (one system call per step, not per item).

    >>> passing = Releaser(b"bytes: nothing to do", every=4)
    >>> passing.upto(10)
    """

    def __init__(self, buffer: Buffer, *, every: int = 1 << 22) -> None:
        self.buffer = buffer
        self.every = every if isinstance(buffer, mmap.mmap) else -1
        self.done = 0

    def upto(self, position: int) -> None:
        """The pass has read everything before ``position``."""
        if 0 <= self.every <= position - self.done:
            release(self.buffer, self.done, position)
            self.done = position


def count(buffer: Buffer, byte: int, start: int, end: int) -> int:
    """How many times ``byte`` occurs in ``buffer[start:end]``, a MiB at a time (numpy:
    six times as fast as ``bytes.count``), each MiB released once counted.

    >>> count(b"1,2,3", ord(","), 0, 5)
    2
    """
    text = np.frombuffer(buffer, dtype=np.uint8)
    total = 0
    for at in range(start, end, _COUNTED):
        stop = min(at + _COUNTED, end)
        total += int(np.count_nonzero(text[at:stop] == byte))
        release(buffer, at, stop)
    del text  # the map cannot close while numpy holds a view of it
    return total


def spilled(chunks: Iterable[bytes]) -> Buffer:
    """``chunks`` written to an unnamed temporary file (in ``TMPDIR``) and mapped, so
    that only the pages being read are resident; bytes where the file cannot be mapped.

    >>> spilled([b"{", b"}"])[:]
    b'{}'
    """
    with tempfile.TemporaryFile() as spill:  # unlinked already: gone with the map
        for chunk in chunks:
            spill.write(chunk)
        spill.flush()
        view = mapped(spill)
        if view is None:
            spill.seek(0)
            return spill.read()
        return view
