"""The JSON form: the document as UTF-8 JSON text (contract §1), either dialect."""

from __future__ import annotations

import re
from typing import ClassVar

import orjson

from rustgpt_format.buffers import Buffer
from rustgpt_format.codec import encode, parse
from rustgpt_format.dialect import rustgpt_document
from rustgpt_format.forms.base import (
    Decoded,
    Dialect,
    Form,
    ReadOptions,
    Source,
    WriteOptions,
    check_early,
    is_text,
)
from rustgpt_format.limits import Limits
from rustgpt_format.models import Checkpoint

_INDENTED = re.compile(rb"\s*\{[ \t]*[\r\n]")
_JSON_STARTS = frozenset(bytes([char]) for char in b'{["-0123456789tfnNI')
"""First characters of a JSON value (and of NaN and Infinity, which some writers emit)."""


def json_text(checkpoint: Checkpoint, options: WriteOptions) -> bytes:
    """The JSON text of ``checkpoint`` in the options' dialect and indentation."""
    if options.dialect == "rustgpt":
        option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if options.indent else 0)
        return orjson.dumps(rustgpt_document(checkpoint), option=option)
    return encode(checkpoint, indent=options.indent)


def decode_json_text(data: Buffer, options: ReadOptions) -> Decoded:
    """The document of JSON text; the schema describes it unless it is RustGPT's own."""
    document = parse(data, limits=options.limits, check=_refused_early)
    # whether it is indented: a match at the start, not a slice, so no copy of the file
    pretty = _INDENTED.match(data) is not None
    return Decoded(document, pretty=pretty, schema_applies=True)


def _refused_early(document: object) -> None:
    """Raise what reading ``document`` would, migrated and validated; called with its
    arrays as stand-ins of their sizes before a large document's arrays are decoded."""
    check_early(document, schema_applies=True)


class JsonForm(Form):
    """UTF-8 JSON text; format 1.x, or RustGPT's own JSON (version 0) when asked."""

    name: ClassVar[str] = "json"
    suffixes: ClassVar[tuple[str, ...]] = (".json",)
    dialects: ClassVar[tuple[Dialect, ...]] = ("rustgpt-checkpoint", "rustgpt")
    indents: ClassVar[bool] = True
    description: ClassVar[str] = "JSON text"
    checks_values: ClassVar[bool] = True
    """Encoding refuses an array that is not finite with the full check's error
    (``codec.wire_document``, both dialects; see ``writing.save``)."""

    def recognizes(self, source: Source, limits: Limits) -> bool:
        # JSON by its first character, whatever follows (the parser names what is
        # wrong); or any text, so that the parser explains why it is not JSON
        head = source.head
        return head.lstrip(b" \t\r\n")[:1] in _JSON_STARTS or is_text(head)

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        return decode_json_text(source.buffer(options.limits), options)

    def encode(self, checkpoint: Checkpoint, options: WriteOptions) -> bytes:
        return json_text(checkpoint, options)


JSON = JsonForm()
