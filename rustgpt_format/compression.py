"""Gzip-compressed JSON (``.json.gz``), inflated under a size limit.

A small file can inflate to any size (a "gzip bomb"); the reader inflates in chunks
and stops as soon as the output passes the limit. It inflates twice: a first pass
only counts, so refusing a bomb holds one chunk (6 MB measured for a 1 MB file that
inflates past the default 1 GiB), and only an accepted stream is kept in memory.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

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


def inflate(data: bytes, *, limit: int = DEFAULT_INFLATE_LIMIT) -> bytes:
    """The bytes a gzip stream (one member or several) inflates to, at most ``limit``.

    >>> try:
    ...     inflate(compress(b"x" * 100), limit=10)
    ... except CheckpointError as error:
    ...     print(error.message[:57])
    expected gzip data inflating to at most 10 bytes (Limits.
    """
    for _ in _inflated(data, limit):
        pass  # a first pass only counts: refusing a bomb holds one chunk, not the limit
    return b"".join(_inflated(data, limit))


def _inflated(data: bytes, limit: int) -> Iterator[bytes]:
    """The inflated chunks of every gzip member of ``data``, refusing past ``limit``."""
    total = 0
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while not inflater.eof:
                chunk = inflater.decompress(pending, _CHUNK)
                total += len(chunk)
                if total > limit:
                    raise CheckpointError(
                        f"expected gzip data inflating to at most {limit} bytes "
                        f"(Limits.max_file_bytes), found more from {len(data)} compressed "
                        "bytes; to read it anyway, pass limits=Limits(...) with a higher bound"
                    )
                yield chunk
                pending = inflater.unconsumed_tail
                if not pending and not chunk:
                    break  # input used up before the end of the stream
        except zlib.error as error:
            raise CheckpointError(f"expected gzip data, found a damaged stream: {error}") from None
        if not inflater.eof:
            raise CheckpointError("expected gzip data, found a truncated stream")
        rest = inflater.unused_data
        if rest and not is_gzip(rest):
            raise CheckpointError(
                f"expected gzip data, found {len(rest)} bytes of garbage after the stream"
            )
