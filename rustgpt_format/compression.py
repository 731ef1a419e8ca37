"""Gzip-compressed JSON (``.json.gz``), inflated under a size limit.

A small file can inflate to any size (a "gzip bomb"); the reader inflates in chunks
and stops as soon as the output passes the limit. It inflates twice: a first pass
only counts, so refusing a bomb holds one chunk (6 MB measured for a 1 MB file that
inflates past the default 1 GiB), and only an accepted stream is kept, in one buffer
of the size the first pass counted: the peak is the inflated size plus a chunk, not
twice it. Past :data:`~rustgpt_format.buffers.MAPPED_FROM` (64 MiB) the reader's
buffer (:func:`inflate_to_buffer`) is an unnamed temporary file, mapped, so that the
JSON reader holds only the pages it is reading. Both passes are linear in the
compressed size, however many members the stream has, and give back the pages of a
mapped compressed input as they go.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator

from rustgpt_format import buffers
from rustgpt_format.buffers import Buffer, release, spilled
from rustgpt_format.errors import CheckpointError
from rustgpt_format.limits import DEFAULT_LIMITS

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_INFLATE_LIMIT = DEFAULT_LIMITS.max_file_bytes
"""1 GiB: some 60 times the JSON of RustGPT's default-size model with its optimizer."""

_CHUNK = 1 << 20


def is_gzip(data: bytes) -> bool:
    """Whether ``data`` starts like a gzip stream."""
    return data[:2] == GZIP_MAGIC


def compress(data: bytes) -> bytes:
    """Gzip ``data`` deterministically (no file name, time stamp 0): same input, same bytes.

    >>> inflate(compress(b"{}"))
    b'{}'
    """
    return gzip.compress(data, compresslevel=6, mtime=0)


def inflate_to_buffer(data: Buffer, *, limit: int = DEFAULT_INFLATE_LIMIT) -> Buffer:
    """:func:`inflate`, as bytes below ``MAPPED_FROM`` inflated bytes, else as a read-only
    map of an unnamed temporary file holding them.

    >>> inflate_to_buffer(compress(b"{}"))
    b'{}'
    """
    size = sum(len(chunk) for chunk in _inflated(data, limit))  # refusing holds one chunk
    if size < buffers.MAPPED_FROM:
        return _joined(data, limit, size)
    return spilled(_inflated(data, limit))


def inflate(data: bytes | bytearray | Buffer, *, limit: int = DEFAULT_INFLATE_LIMIT) -> bytes:
    """The bytes a gzip stream (one member or several) inflates to, at most ``limit``.

    >>> inflate(compress(b"{") + compress(b"}"))
    b'{}'
    >>> try:
    ...     inflate(compress(b"x" * 100), limit=10)
    ... except CheckpointError as error:
    ...     print(error.message[:57])
    expected gzip data inflating to at most 10 bytes (Limits.
    """
    size = sum(len(chunk) for chunk in _inflated(data, limit))  # refusing holds one chunk
    return _joined(data, limit, size)


def _joined(data: bytes | bytearray | Buffer, limit: int, size: int) -> bytes:
    """The inflated bytes, ``size`` of them as the first pass counted."""
    # The chunks are written into one buffer of the counted size, which getvalue()
    # hands back without a copy (a BytesIO owning an exact-size bytes shares it).
    out = io.BytesIO(bytes(size))
    for chunk in _inflated(data, limit):
        out.write(chunk)
    return out.getvalue()


def _inflated(data: bytes | bytearray | Buffer, limit: int) -> Iterator[bytes]:
    """The inflated chunks of every gzip member of ``data``, refusing past ``limit``.

    The input is handed to zlib in slices of a memoryview, never as "the rest of the
    data": zlib copies what it leaves unread (``unused_data``, ``unconsumed_tail``),
    and copying the rest at each member would make many small members quadratic. A
    member is fed a small slice first, doubling while it needs more, so the copies
    stay proportional to the member's own size. The pages of a mapped input are given
    back as the position passes them.
    """
    view = memoryview(data)
    total = position = released = 0
    while position < len(view):
        if position and view[position : position + 2] != GZIP_MAGIC:
            raise CheckpointError(
                f"expected gzip data, found {len(view) - position} bytes of garbage after "
                "the stream"
            )
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        feed = _FIRST_FEED
        try:
            while not inflater.eof:
                piece = view[position : position + feed]
                chunk = inflater.decompress(piece, _CHUNK)
                # Not read: after the end, the next member (unused_data); before it,
                # what the output bound left (unconsumed_tail, stale once at the end).
                left = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
                position += len(piece) - len(left)
                total += len(chunk)
                if total > limit:
                    raise CheckpointError(
                        f"expected gzip data inflating to at most {limit} bytes "
                        f"(Limits.max_file_bytes), found more from {len(data)} compressed "
                        "bytes; to read it anyway, pass limits=Limits(...) with a higher bound"
                    )
                if chunk:
                    yield chunk
                elif not piece:
                    break  # input used up before the end of the stream
                feed = min(2 * feed, _CHUNK)
                if position - released >= _CHUNK:
                    release(data, released, position)
                    released = position
        except zlib.error as error:
            raise CheckpointError(f"expected gzip data, found a damaged stream: {error}") from None
        if not inflater.eof:
            raise CheckpointError("expected gzip data, found a truncated stream")


_FIRST_FEED = 64
"""Compressed bytes first given to zlib for a member; an empty member takes 20."""
