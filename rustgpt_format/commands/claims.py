"""Whether a file claims to be a checkpoint: what ``validate --skip-non-checkpoints`` asks.

A repository holds many JSON files that are not checkpoints (``package.json``,
``tsconfig.json``, schemas, editor settings). A file claims to be a checkpoint when
its content says so, whether or not it is valid:

- a JSON document (or gzipped JSON) whose top-level ``format`` is a string starting
  with ``rustgpt`` (``rustgpt-checkpoint``, or a damaged spelling of it), or that has
  RustGPT's own shape: no ``format``, and both ``vocab`` and ``network``;
- JSON text that does not parse (cut short, damaged) whose first 64 KiB hold
  ``"format": "rustgpt...`` or that opens with ``{"vocab":`` or ``{"network":``;
- a safetensors file (a cut one too) whose header mentions ``rustgpt-checkpoint``;
- a file of any other registered form (RustGPT's bincode is told by its content).

Nothing else claims: binary data of another kind, text that is not JSON, JSON with
comments, an empty file.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from rustgpt_format.buffers import Buffer
from rustgpt_format.codec import parse
from rustgpt_format.errors import CheckpointError
from rustgpt_format.forms import FORMS, Source
from rustgpt_format.forms.base import is_text
from rustgpt_format.limits import DEFAULT_LIMITS, Limits

_PREFIX = 1 << 16
_FORMAT_KEY = re.compile(rb'"format"\s*:\s*"rustgpt')
_RUSTGPT_OPENING = re.compile(rb'\s*\{\s*"(vocab|network)"\s*:')
_BOM = b"\xef\xbb\xbf"


def document_claims(document: Any) -> bool:
    """Whether a decoded JSON document claims to be a checkpoint.

    >>> document_claims({"format": "rustgpt-checkpoint"}), document_claims({"name": "app"})
    (True, False)
    >>> document_claims({"vocab": {}, "network": []}), document_claims({"format": "uri"})
    (True, False)
    """
    if not isinstance(document, dict):
        return False
    claimed = document.get("format")
    if isinstance(claimed, str):
        return claimed.startswith("rustgpt")
    return "format" not in document and "vocab" in document and "network" in document


def text_claims(prefix: bytes) -> bool:
    """Whether the start of JSON text that does not parse claims to be a checkpoint.

    >>> text_claims(b'{"format":"rustgpt-checkpoint","format_v'), text_claims(b'{"a": // x')
    (True, False)
    """
    prefix = prefix[:_PREFIX].removeprefix(_BOM)
    return _FORMAT_KEY.search(prefix) is not None or _RUSTGPT_OPENING.match(prefix) is not None


def claims_checkpoint(source: Source, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether the content of ``source`` says it is a checkpoint (see the module's rules).

    ``source`` should be fresh (nothing read past its head) unless its data are held
    in memory (standard input that was read whole).
    """
    try:
        try:
            form = FORMS.recognize(source, limits)
        except CheckpointError:
            # a safetensors file cut short: its header length no longer fits the file
            cut = source.head[8:9] == b"{" and not is_text(source.head[:8])
            return cut and b"rustgpt-checkpoint" in _safetensors_header(source, limits)
        # the buffer (a large file mapped, as the read before mapped it) or a prefix:
        # never the whole file read again, nor its numbers built as Python floats
        if form.name == "json":
            return _json_claims(source.buffer(limits), limits)
        if form.name == "json.gz":
            return text_claims(_inflated_prefix(source.prefix(1 << 20, limits)))
        if form.name == "safetensors":
            return b"rustgpt-checkpoint" in _safetensors_header(source, limits)
    except (CheckpointError, OSError):
        return False
    return True  # a form told by its own content: RustGPT's bincode, forms registered later


def _json_claims(data: Buffer, limits: Limits) -> bool:
    """Parsed by the reader's parser, whose memory is bounded (issue 15): its arrays as
    float32, not (as a general JSON parser would build them) Python floats."""
    try:
        document = parse(data, limits=limits)
    except CheckpointError:  # not JSON, or past a limit: what its first bytes say
        return text_claims(data[:_PREFIX])
    return document_claims(document)


def _inflated_prefix(data: bytes) -> bytes:
    """The first 64 KiB of gzip data, as far as they inflate (a cut file too)."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        return inflater.decompress(data[: 1 << 20], _PREFIX)
    except zlib.error:
        return b""


def _safetensors_header(source: Source, limits: Limits) -> bytes:
    length = min(int.from_bytes(source.head[:8], "little"), limits.max_header_bytes)
    stream = source.stream
    if stream is not None and stream.seekable():
        stream.seek(8)
        return stream.read(length)
    return source.prefix(8 + length, limits)[8:]
