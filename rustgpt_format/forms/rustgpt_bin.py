"""RustGPT's bincode form (``.bin``, contract §11): what ``LLM::save("model.bin")`` writes.

Always RustGPT's dialect (version 0): read and migrated like its JSON, written with
``rustgpt_document`` semantics (caches empty, fresh Adam states where RustGPT's structs
need one, ``training`` and ``metadata`` dropped with a warning). The bytes have no
magic number: the form is told by decoding the vocabulary (see
:func:`rustgpt_format.bincode.looks_like`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rustgpt_format import bincode
from rustgpt_format.dialect import rustgpt_document
from rustgpt_format.forms.base import (
    Decoded,
    Dialect,
    Form,
    ReadOptions,
    Source,
    WriteOptions,
    check_early,
)
from rustgpt_format.limits import Limits
from rustgpt_format.models import Checkpoint


class RustgptBinForm(Form):
    """RustGPT's bincode 2 checkpoint (``config::standard()``), version 0."""

    name: ClassVar[str] = "rustgpt.bin"
    suffixes: ClassVar[tuple[str, ...]] = (".bin",)
    dialects: ClassVar[tuple[Dialect, ...]] = ("rustgpt",)
    description: ClassVar[str] = "RustGPT's bincode (binary)"

    def recognizes(self, source: Source, limits: Limits) -> bool:
        if not bincode.looks_like(source.head, source.size, limits=limits):
            return False  # the first bytes already rule it out: nothing more is read
        # What looks_like reads (the vocab, the first layer's start) is structure, which
        # decode refuses past the caller's max_header_bytes: a prefix past that answers
        # as the whole file would. Growing prefixes: JSON text is told apart in its first
        # few bytes, so a large JSON file is neither read whole nor copied to be told.
        length, enough = 1 << 16, 2 * limits.max_header_bytes
        while True:
            prefix = source.prefix(min(length, enough), limits)
            seen, told = len(prefix), bincode.looks_like(prefix, source.size, limits=limits)
            del prefix  # not held beside the next one (issue 15's memory bound)
            if not told:
                return False
            if seen < length or length >= enough:
                return True
            length *= 16

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        # a large file is mapped, not read (issue 15's memory bound), and a file past
        # 128 MiB validated with stand-ins before its arrays are copied out of the map
        data = source.buffer(options.limits)
        return Decoded(bincode.decode(data, limits=options.limits, check=_refused_early))

    def encode(self, checkpoint: Checkpoint, options: WriteOptions) -> bytes:
        return bincode.encode(rustgpt_document(checkpoint))


def _refused_early(document: Any) -> None:
    """Raise what reading ``document`` would, migrated and validated (as the JSON form's
    check does), before the arrays of a large file are copied."""
    check_early(document, schema_applies=False)


RUSTGPT_BIN = RustgptBinForm()
