"""The gzip form: the JSON form compressed (``.json.gz``), inflated under a size limit."""

from __future__ import annotations

from typing import ClassVar

from rustgpt_format.compression import compress, inflate_to_buffer, is_gzip
from rustgpt_format.forms.base import Decoded, Dialect, Form, ReadOptions, Source, WriteOptions
from rustgpt_format.forms.json import decode_json_text, json_text
from rustgpt_format.limits import Limits
from rustgpt_format.models import Checkpoint


class GzipForm(Form):
    """Gzip-compressed JSON text of either dialect; deterministic bytes (no name, no time)."""

    name: ClassVar[str] = "json.gz"
    suffixes: ClassVar[tuple[str, ...]] = (".gz",)
    dialects: ClassVar[tuple[Dialect, ...]] = ("rustgpt-checkpoint", "rustgpt")
    indents: ClassVar[bool] = True
    description: ClassVar[str] = "gzip-compressed JSON text"

    def recognizes(self, source: Source, limits: Limits) -> bool:
        return is_gzip(source.head)

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        data = inflate_to_buffer(
            source.buffer(options.limits), limit=options.limits.max_file_bytes
        )
        return decode_json_text(data, options)

    def encode(self, checkpoint: Checkpoint, options: WriteOptions) -> bytes:
        return compress(json_text(checkpoint, options))


GZIP = GzipForm()
