"""The forms a checkpoint file can take, and how to tell them apart.

| form          | written for a path ending | told by content                    |
|---------------|---------------------------|------------------------------------|
| ``json``      | anything else (``.json``) | JSON text                          |
| ``json.gz``   | ``.gz`` (``.json.gz``)    | the gzip magic bytes               |
| ``safetensors``| ``.safetensors``         | a safetensors header               |

Orthogonal to the form is the dialect of the JSON inside: format 1.0
(``rustgpt-checkpoint``) or RustGPT's own (``rustgpt``, version 0, migrated on
reading). Saving picks the form by the path's extension; loading by the content.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from rustgpt_format.binary import encode_binary, is_safetensors, read_binary
from rustgpt_format.checkpoint import Checkpoint
from rustgpt_format.codec import encode, parse
from rustgpt_format.compression import compress, inflate, is_gzip
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.errors import CheckpointError
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.migrations import Migration, migrated_checkpoint

Form = Literal["json", "json.gz", "safetensors"]
Dialect = Literal["rustgpt-checkpoint", "rustgpt"]
FORMS: tuple[Form, ...] = ("json", "json.gz", "safetensors")
DIALECTS: tuple[Dialect, ...] = ("rustgpt-checkpoint", "rustgpt")


def form_for_path(path: str | Path) -> Form:
    """The form :func:`save` writes for ``path``.

    >>> form_for_path("a.safetensors"), form_for_path("a.json.gz"), form_for_path("a.json")
    ('safetensors', 'json.gz', 'json')
    """
    name = Path(path).name.lower()
    if name.endswith(".safetensors"):
        return "safetensors"
    if name.endswith(".gz"):
        return "json.gz"
    return "json"


def encode_form(
    checkpoint: Checkpoint,
    form: Form,
    *,
    indent: int | None = None,
    dialect: Dialect = "rustgpt-checkpoint",
) -> bytes:
    """The bytes of ``checkpoint`` in ``form`` (and, for JSON forms, ``dialect``)."""
    check_options(form, indent=indent, dialect=dialect)
    if form == "safetensors":
        return encode_binary(checkpoint)
    text = (
        to_rustgpt(checkpoint, indent=indent)
        if dialect == "rustgpt"
        else encode(checkpoint, indent=indent)
    )
    return compress(text) if form == "json.gz" else text


def check_options(form: Form, *, indent: int | None, dialect: Dialect) -> None:
    """Refuse options that do not apply to ``form``."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect: expected one of {', '.join(DIALECTS)}, found {dialect!r}")
    if form == "safetensors":
        if dialect != "rustgpt-checkpoint":
            raise ValueError("dialect: RustGPT's own form is JSON; save it as .json or .json.gz")
        if indent is not None:
            raise ValueError("indent: the safetensors form is binary; indent applies to JSON")


@dataclass(frozen=True)
class Loaded:
    """A checkpoint and what its file was: form, dialect, version on disk, size."""

    checkpoint: Checkpoint
    form: Form
    dialect: Dialect
    version: str
    pretty: bool
    size: int
    migrations: tuple[Migration, ...] = field(default=())


def read(
    path: str | Path,
    *,
    optimizer: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Read a checkpoint file of any form and dialect, telling the form by content.

    ``limits.max_file_bytes`` bounds the file and, for gzip, what it inflates to.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            head = stream.read(16)
            if is_safetensors(head, size):
                checkpoint, version = read_binary(path, optimizer=optimizer, limits=limits)
                return Loaded(checkpoint, "safetensors", "rustgpt-checkpoint", version, False, size)
            data = read_bounded(stream, limits)
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror or error}") from None
    form: Form = "json"
    if is_gzip(data):
        form, data = "json.gz", inflate(data, limit=limits.max_file_bytes)
    checkpoint, done = migrated_checkpoint(parse(data, limits=limits), origin=str(path))
    if not optimizer:
        drop_optimizers(checkpoint)
    dialect: Dialect = "rustgpt" if done.source == "0" else "rustgpt-checkpoint"
    return Loaded(checkpoint, form, dialect, done.source, _pretty(data), size, done.steps)


def read_bounded(stream: BinaryIO, limits: Limits) -> bytes:
    """The whole of an open file, refusing one larger than ``limits.max_file_bytes``."""
    size = os.fstat(stream.fileno()).st_size
    if size > limits.max_file_bytes:
        raise _too_big(size, limits)
    stream.seek(0)
    data = stream.read() if size else _read_unsized(stream, limits)
    if len(data) > limits.max_file_bytes:  # it grew after fstat
        raise _too_big(len(data), limits)
    return data


def _read_unsized(stream: BinaryIO, limits: Limits) -> bytes:
    """Read a file whose size fstat cannot tell (a device, a pipe), stopping past the bound.

    ``stream.read(n)`` would allocate ``n`` bytes at once, so this reads in chunks.
    """
    chunks, total = [], 0
    while chunk := stream.read(1 << 20):
        chunks.append(chunk)
        total += len(chunk)
        if total > limits.max_file_bytes:
            raise _too_big(total, limits, more=True)
    return b"".join(chunks)


def _too_big(size: int, limits: Limits, *, more: bool = False) -> CheckpointError:
    """``more``: the file's size is unknown (a device, a pipe) and reading stopped at the bound."""
    found = f"more than {limits.max_file_bytes}" if more else str(size)
    return CheckpointError(
        f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), found {found}; "
        "to read it anyway, pass limits=Limits(...) with a higher bound"
    )


def drop_optimizers(checkpoint: Checkpoint) -> Checkpoint:
    """Make ``checkpoint`` inference-only (every optimizer ``None``), in place."""
    for layer in checkpoint.network:
        for name in layer.OPTIMIZERS:
            setattr(layer, name, None)
    return checkpoint


def _pretty(data: bytes) -> bool:
    """Whether JSON text is indented: a line break right after the opening brace."""
    return _INDENTED.match(data) is not None  # a match, not a slice: no copy of the file


_INDENTED = re.compile(rb"\s*\{[ \t]*[\r\n]")
