"""Reading a checkpoint: bytes -> form -> document -> migration -> validated Checkpoint.

Every form is told by content through the registry (:data:`rustgpt_format.forms.FORMS`);
every document is upgraded by :mod:`rustgpt_format.migrations` and validated at the one
boundary (:func:`rustgpt_format.boundary.validated`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, overload

from rustgpt_format.boundary import validated
from rustgpt_format.errors import CheckpointError, FieldError, format_path
from rustgpt_format.forms import FORMS, Decoded, Dialect, Form, ReadOptions, Source
from rustgpt_format.forms.base import too_big
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.migrations import Migration, migrated_checkpoint
from rustgpt_format.models import Checkpoint, Parts
from rustgpt_format.models.parts import LayerSelector
from rustgpt_format.versions import check_version


@dataclass(frozen=True)
class Loaded:
    """A checkpoint and what its file was: form, dialect, version on disk, size."""

    checkpoint: Checkpoint
    form: str
    dialect: Dialect
    version: str
    pretty: bool
    size: int
    migrations: tuple[Migration, ...] = field(default=())


@overload
def load(
    path: str | Path,
    *,
    optimizer: bool = True,
    layers: None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Checkpoint: ...


@overload
def load(
    path: str | Path,
    *,
    optimizer: bool = True,
    layers: Iterable[LayerSelector],
    limits: Limits = DEFAULT_LIMITS,
) -> Parts: ...


def load(
    path: str | Path,
    *,
    optimizer: bool = True,
    layers: Iterable[LayerSelector] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Checkpoint | Parts:
    """Read the checkpoint at ``path``, whatever its form (told by content).

    Every registered form is read (JSON, gzipped JSON, safetensors, ...), within
    ``limits`` (a gzip file inflates to at most ``limits.max_file_bytes``); RustGPT's
    own files (version 0) are migrated, with a FormatWarning. With ``optimizer=False``
    the optimizer states are left out (a safetensors file does not even read their
    bytes): an inference-only checkpoint. With ``layers`` (indices, kinds such as
    ``"SelfAttention"``, or ``"blocks"``; see :func:`rustgpt_format.models.select_layers`)
    only those layers are returned, as :class:`~rustgpt_format.models.Parts` with the
    config and vocabulary: a safetensors file reads no other layer's bytes, other
    forms are read and checked whole first. Every problem raises :class:`CheckpointError`
    (a selector that names no layer or kind: ValueError).

    >>> import tempfile, pathlib, rustgpt_format as rf
    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model.json"
    >>> rf.save(tiny_checkpoint(), target)
    >>> rf.load(target).vocab.words[-1]
    '</s>'
    >>> sorted(rf.load(target, layers=["blocks"]).network)
    [1, 2, 3, 4]
    """
    if layers is None:
        return read(path, optimizer=optimizer, limits=limits).checkpoint
    options = ReadOptions(optimizer=optimizer, limits=limits, layers=_selectors(layers))
    with open_source(path) as stream:
        return read_parts(Source.of_file(stream, str(path)), options)


def _selectors(layers: Iterable[LayerSelector]) -> tuple[LayerSelector, ...]:
    """``layers`` as a tuple (a lone index or name counts as one selector)."""
    if isinstance(layers, (int, str)):
        return (layers,)
    return tuple(layers)


def read_parts(source: Source, options: ReadOptions) -> Parts:
    """The layers ``options.layers`` picks of the checkpoint in ``source``; see :func:`load`."""
    assert options.layers is not None
    _, decoded = decode_source(source, options)
    if decoded.layers is None:  # the form read everything: check it whole, then pick
        checkpoint, _ = migrated_checkpoint(
            decoded.document, origin=source.name, context=decoded.context
        )
        if not options.optimizer:
            drop_optimizers(checkpoint)
        return Parts.of(checkpoint, options.layers)
    document: dict[str, Any] = decoded.document
    try:
        check_version(document)
    except FieldError as error:
        raise CheckpointError(error.message, path=format_path(error.parts)) from None
    network = document.get("network")
    if not isinstance(network, list):
        raise CheckpointError("expected a list of layers", path="network")
    parts = {
        "config": document.get("config"),
        "vocab": document.get("vocab"),
        "network": {index: network[index] for index in decoded.layers},
        "length": len(network),
    }
    return validated(Parts, parts, context=decoded.context)


def loads(
    data: bytes | bytearray | memoryview | str,
    *,
    optimizer: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> Checkpoint:
    """Read a checkpoint from bytes in any form, told by content, as :func:`load` does.

    JSON text may also be given as ``str``.

    >>> import rustgpt_format as rf
    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> rf.loads(rf.dumps(tiny_checkpoint(), form="safetensors")) == tiny_checkpoint()
    True
    """
    if isinstance(data, str):
        if len(data) > limits.max_file_bytes:  # characters: at least as many bytes
            raise too_big(len(data), limits)
        try:
            data = data.encode()
        except UnicodeEncodeError as error:
            raise CheckpointError(
                f"expected text that UTF-8 can encode, found a lone surrogate at "
                f"character {error.start}"
            ) from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CheckpointError(f"expected JSON text as bytes or str, found {type(data).__name__}")
    source = Source(name="<bytes>", data=bytes(data))
    return read_source(source, ReadOptions(optimizer=optimizer, limits=limits)).checkpoint


def read(
    path: str | Path, *, optimizer: bool = True, limits: Limits = DEFAULT_LIMITS
) -> Loaded:
    """:func:`load`, and what the file was (form, dialect, version, size)."""
    options = ReadOptions(optimizer=optimizer, limits=limits)
    with open_source(path) as stream:
        return read_source(Source.of_file(stream, str(path)), options)


def read_stream(stream: BinaryIO, name: str, options: ReadOptions) -> Loaded:
    """Read an open file (standard input, a pipe) as :func:`read` reads a path."""
    try:
        source = Source.of_file(stream, name)
    except OSError as error:
        raise CheckpointError(f"cannot read {name}: {error.strerror or error}") from None
    return read_source(source, options)


class open_source:  # noqa: N801 - used as a context manager, like open()
    """Open ``path`` for reading; file-system problems raise CheckpointError."""

    def __init__(self, path: str | Path, *, named: bool = True) -> None:
        self.path = path
        self.stream: BinaryIO | None = None
        self._what = f"cannot read {path}" if named else "cannot read"

    def __enter__(self) -> BinaryIO:
        try:
            self.stream = open(self.path, "rb")
        except OSError as error:
            raise CheckpointError(f"{self._what}: {error.strerror or error}") from None
        except ValueError as error:  # a path holding a NUL byte
            raise CheckpointError(f"{self._what}: {error}") from None
        return self.stream

    def __exit__(self, *exc: object) -> None:
        if self.stream is not None:
            self.stream.close()


def decode_source(source: Source, options: ReadOptions) -> tuple[Form, Decoded]:
    """The form of the source and the document it holds, not yet migrated or validated."""
    try:
        form = FORMS.recognize(source, options.limits)
        return form, form.decode(source, options)
    except OSError as error:
        raise CheckpointError(f"cannot read {source.name}: {error.strerror or error}") from None


def read_source(source: Source, options: ReadOptions) -> Loaded:
    """Decode, migrate and validate a source; see :func:`load`."""
    form, decoded = decode_source(source, options)
    checkpoint, done = migrated_checkpoint(
        decoded.document, origin=source.name, context=decoded.context
    )
    if not options.optimizer:
        drop_optimizers(checkpoint)
    return Loaded(
        checkpoint,
        form=form.name,
        dialect="rustgpt" if done.source == "0" else "rustgpt-checkpoint",
        version=done.source,
        pretty=decoded.pretty,
        size=source.size or 0,
        migrations=done.steps,
    )


def drop_optimizers(checkpoint: Checkpoint) -> Checkpoint:
    """Make ``checkpoint`` inference-only (every optimizer ``None``), in place."""
    for layer in checkpoint.network:
        for name in layer.OPTIMIZERS:
            setattr(layer, name, None)
    return checkpoint
