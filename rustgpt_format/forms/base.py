"""What a form is, what it is given and what it returns, and the registry of forms."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from rustgpt_format import buffers
from rustgpt_format.buffers import Buffer, mapped, release
from rustgpt_format.errors import CheckpointError
from rustgpt_format.limits import DEFAULT_LIMITS, Limits
from rustgpt_format.migrations import migrated_checkpoint
from rustgpt_format.models import Checkpoint

Dialect = Literal["rustgpt-checkpoint", "rustgpt"]
DIALECTS: tuple[Dialect, ...] = ("rustgpt-checkpoint", "rustgpt")
HEAD_BYTES = 64
"""How much of a file recognition looks at."""


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """What the caller of a read asked for."""

    optimizer: bool = True
    limits: Limits = DEFAULT_LIMITS
    layers: tuple[int | str, ...] | None = None
    """Only these layers (indices, kinds, ``blocks``; see
    :func:`rustgpt_format.models.select_layers`); None for all. A form that can leave the
    other layers' arrays unread does, and says so in :attr:`Decoded.layers`."""


@dataclass(frozen=True, kw_only=True)
class WriteOptions:
    """What the caller of a write asked for; a form refuses what it cannot honour."""

    indent: int | None = None
    dialect: Dialect = "rustgpt-checkpoint"


@dataclass
class Decoded:
    """A document as a form decoded it, before migration and validation."""

    document: Any
    pretty: bool = False
    context: dict[str, Any] = field(default_factory=dict)
    """Validation context (e.g. arrays a form has already checked finite)."""
    schema_applies: bool = False
    """Whether the published JSON Schema describes ``document`` as decoded."""
    layers: tuple[int, ...] | None = None
    """The only layers whose arrays ``document`` holds (a partial read), or None for all."""


class RefusedEarlyError(CheckpointError):
    """The validator's refusal of a document, made while a form decoded it: a large
    document checked with its arrays as stand-ins of their sizes, before they take
    memory. Its problems are the reader's, not the form's; ``decoded`` is that
    document, for a caller that reports every problem
    (:func:`rustgpt_format.validation.check_source`) to check as it checks any other."""

    def __init__(self, error: CheckpointError, decoded: Decoded) -> None:
        super().__init__(error.message, problems=error.problems)
        self.decoded = decoded


def check_early(document: Any, *, schema_applies: bool) -> None:
    """Raise what reading ``document`` would, migrated and validated, as
    :class:`RefusedEarlyError`: a form's check before a large document's arrays are decoded.

    >>> try:
    ...     check_early({"format": "rustgpt-checkpoint"}, schema_applies=True)
    ... except RefusedEarlyError as error:
    ...     error.decoded.document["format"], error.path
    ('rustgpt-checkpoint', 'format_version')
    """
    try:
        migrated_checkpoint(document, warn=False)
    except CheckpointError as error:
        raise RefusedEarlyError(error, Decoded(document, schema_applies=schema_applies)) from None


class Source:
    """Bytes to read: a file (path and open stream) or data in memory.

    A form reads the whole of it with :meth:`data`, bounded by ``Limits.max_file_bytes``,
    or, if it can work on a read-only buffer, with :meth:`buffer`, which maps a large
    regular file instead of reading it; a form that can do better with the open file
    (safetensors) uses :attr:`stream`.
    """

    def __init__(
        self,
        *,
        name: str,
        data: bytes | None = None,
        stream: BinaryIO | None = None,
        size: int | None = None,
    ) -> None:
        self.name = name
        self.stream = stream
        self._data = data
        self.size = len(data) if data is not None else size
        """Bytes in the source; None when it cannot be told (a pipe, a device)."""
        self._head = data[:HEAD_BYTES] if data is not None else b""
        self._read_ahead = b""
        self._mapped: Buffer | None = None

    @classmethod
    def of_file(cls, stream: BinaryIO, name: str) -> Source:
        """A source reading an open file (regular or not: pipes and devices too)."""
        stat = os.fstat(stream.fileno())
        regular = stat.st_mode & 0o170000 == 0o100000
        source = cls(name=name, stream=stream, size=stat.st_size if regular else None)
        source._read_ahead = stream.read(HEAD_BYTES)
        source._head = source._read_ahead
        return source

    @property
    def head(self) -> bytes:
        """The first bytes (up to 64), for recognition."""
        return self._head

    @property
    def path(self) -> str | None:
        """A path naming the open file, for libraries that open files by name."""
        if self.stream is None:
            return None
        own = f"/proc/self/fd/{self.stream.fileno()}"
        return own if os.path.exists(own) else self.name

    def buffer(self, limits: Limits) -> Buffer:
        """The whole content, as :meth:`data`, or for a regular file of
        :data:`~rustgpt_format.buffers.MAPPED_FROM` bytes or more a read-only map of it:
        its pages are read when used and can be given back when done
        (:func:`rustgpt_format.buffers.release`), so the file's size is not spent in
        memory at once. Pipes, devices and data in memory are read as :meth:`data`.

        A program that truncates the file while it is mapped makes reading past the
        new end fail with SIGBUS; writers of this package replace files by renaming,
        which leaves a mapped file whole.
        """
        if self._mapped is not None:
            return self._mapped
        big = self.size is not None and self.size >= buffers.MAPPED_FROM
        if self._data is None and self.stream is not None and big:
            assert self.size is not None
            if self.size > limits.max_file_bytes:
                raise too_big(self.size, limits)
            view = mapped(self.stream)
            if view is not None and len(view) <= limits.max_file_bytes:
                self._mapped = view
                return view
        return self.data(limits)

    def prefix(self, count: int, limits: Limits) -> bytes:
        """The first ``count`` bytes (all of a shorter source), as :meth:`buffer` holds
        them: a mapped file gives back the pages it read for them.

        >>> Source(name="<bytes>", data=b"0123456789").prefix(4, Limits())
        b'0123'
        """
        whole = self.buffer(limits)
        if isinstance(whole, bytes):
            return whole[:count]
        part = whole[:count]
        release(whole, 0, count)
        return part

    def data(self, limits: Limits) -> bytes:
        """The whole content, refusing more than ``limits.max_file_bytes`` before reading it."""
        if self._data is not None:
            if len(self._data) > limits.max_file_bytes:
                raise too_big(len(self._data), limits)
            return self._data
        assert self.stream is not None
        if self.size is not None and self.size > limits.max_file_bytes:
            raise too_big(self.size, limits)
        chunks, total = [self._read_ahead], len(self._read_ahead)
        if self.size is not None and self.stream.seekable():
            # one read from the start: one allocation of the file's size, no joined copy
            self.stream.seek(0)
            chunks = [self.stream.read(self.size)]
            total = len(chunks[0])
            if total == self.size and not (more := self.stream.read(1)):
                self._data = chunks[0]
                return self._data
            if total == self.size:  # it grew after fstat: read on, within the bound
                chunks.append(more)
                total += 1
        while chunk := self.stream.read(1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limits.max_file_bytes:
                raise too_big(total, limits, more=self.size is None)
        self._data = b"".join(chunks)
        self.size = len(self._data)
        return self._data


RAISE_HINT = "; to read it anyway, pass limits=Limits(...) with a higher bound"


def too_big(size: int, limits: Limits, *, more: bool = False) -> CheckpointError:
    """``more``: the size is unknown (a pipe) and reading stopped past the bound."""
    found = f"more than {limits.max_file_bytes}" if more else str(size)
    return CheckpointError(
        f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), "
        f"found {found}{RAISE_HINT}"
    )


class Form:
    """One layout of a checkpoint in bytes. Subclasses set the class attributes."""

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()
    """Path endings (lower case) it is written for; the longest match picks the form."""
    dialects: ClassVar[tuple[Dialect, ...]] = ("rustgpt-checkpoint",)
    """The dialects it can write, the first being what it writes by default."""
    indents: ClassVar[bool] = False
    """Whether it honours ``indent``."""
    streams: ClassVar[bool] = False
    """Whether a save calls :meth:`write` on the temporary file (else writes :meth:`encode`)."""
    description: ClassVar[str] = ""

    def recognizes(self, source: Source, limits: Limits) -> bool:
        """Whether the source's bytes are of this form.

        Most forms look at ``source.head`` (and ``source.size``); a form without a
        magic number may read the whole source (``source.data(limits)``, kept for the
        form that then decodes it).
        """
        raise NotImplementedError

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        """The document the source holds; problems raise CheckpointError."""
        raise NotImplementedError

    def encode(self, checkpoint: Checkpoint, options: WriteOptions) -> bytes:
        """The bytes of ``checkpoint`` in this form."""
        raise NotImplementedError

    def write(self, checkpoint: Checkpoint, path: Path, options: WriteOptions) -> None:
        """Write straight to ``path`` (the temporary file of an atomic save), if ``streams``."""
        path.write_bytes(self.encode(checkpoint, options))

    def check_options(self, options: WriteOptions) -> None:
        """Refuse options this form cannot honour, before anything is computed."""
        if options.dialect not in DIALECTS:
            raise ValueError(
                f"dialect: expected one of {', '.join(DIALECTS)}, found {options.dialect!r}"
            )
        if options.dialect not in self.dialects:
            raise ValueError(
                f"dialect: the {self.name} form writes {' or '.join(self.dialects)}, "
                f"not {options.dialect}"
            )
        if options.indent is not None and not self.indents:
            raise ValueError(f"indent: the {self.name} form is binary; indent applies to JSON")
        if options.indent not in (None, 2):
            raise ValueError(f"indent: expected None or 2, found {options.indent!r}")


class Registry:
    """The forms known, by name; recognition tries them in registration order."""

    def __init__(self, forms: Iterable[Form]) -> None:
        self._forms: dict[str, Form] = {}
        for form in forms:
            self.register(form, first=False)

    def register(self, form: Form, *, first: bool = True) -> None:
        """Add ``form``; ``first`` puts it before the others in recognition order."""
        if form.name in self._forms and self._forms[form.name] is not form:
            raise ValueError(f"a form named {form.name!r} is registered already")
        others = {name: f for name, f in self._forms.items() if name != form.name}
        self._forms = {form.name: form, **others} if first else {**others, form.name: form}

    def unregister(self, name: str) -> None:
        """Remove the form called ``name`` (for tests and plugins that unload)."""
        self._forms.pop(name, None)

    def __iter__(self) -> Iterator[Form]:
        return iter(list(self._forms.values()))

    def names(self) -> tuple[str, ...]:
        """Every form's name, in recognition order."""
        return tuple(self._forms)

    def named(self, name: str) -> Form:
        """The form called ``name``; ValueError listing the names otherwise."""
        try:
            return self._forms[name]
        except KeyError:
            raise ValueError(
                f"form: expected one of {', '.join(sorted(self._forms))}, found {name!r}"
            ) from None

    def for_path(self, path: str | Path) -> Form:
        """The form a path's ending asks for (``json`` when nothing else matches).

        >>> from rustgpt_format.forms import FORMS
        >>> [FORMS.for_path(p).name for p in ("a.safetensors", "a.json.gz", "a.JSON", "a")]
        ['safetensors', 'json.gz', 'json', 'json']
        """
        name = Path(path).name.lower()
        matches = [
            (len(suffix), form)
            for form in self._forms.values()
            for suffix in form.suffixes
            if name.endswith(suffix)
        ]
        if not matches:
            return self.named("json")
        return max(matches, key=lambda match: match[0])[1]

    def recognize(self, source: Source, limits: Limits = DEFAULT_LIMITS) -> Form:
        """The form the source's content is in, or CheckpointError saying what it looks like."""
        for form in self._forms.values():
            if form.recognizes(source, limits):
                return form
        raise CheckpointError(f"not a checkpoint: {describe_content(source.head, source.size)}")


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"\x7fELF", "ELF"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"(\xb5/\xfd", "zstd"),
    (b"\x80\x02", "a Python pickle"),
    (b"\x80\x04", "a Python pickle"),
    (b"\x93NUMPY", "NumPy .npy"),
    (b"SQLite format 3", "SQLite"),
)


def describe_content(head: bytes, size: int | None = None) -> str:
    """What bytes no form recognised look like, without echoing them.

    >>> describe_content(b"\\x89PNG\\r\\n\\x1a\\n...")
    'binary data (looks like PNG)'
    >>> describe_content(bytes([200, 1, 0, 0, 0, 0, 0, 0]) + b"{", 9)
    'binary data (looks like safetensors, but its header length 456 does not fit in 9 bytes)'
    """
    if not head.strip():
        return "an empty file" if not head else "only white space"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return f"binary data (looks like {name})"
    if head[8:9] == b"{" and not is_text(head[:8]):
        length = int.from_bytes(head[:8], "little")
        room = f"{size} bytes" if size is not None else "a file of unknown size"
        return (
            f"binary data (looks like safetensors, but its header length {length} "
            f"does not fit in {room})"
        )
    return "text that is not JSON" if is_text(head) else "binary data"


def is_text(head: bytes) -> bool:
    """Whether ``head`` reads as UTF-8 text without control characters (white space aside).

    A multi-byte character cut at the end of ``head`` still counts as text.

    >>> is_text(b'{"a": 1}'), is_text(bytes([0]) + b"ELF"), is_text("é".encode()[:1])
    (True, False, True)
    """
    try:
        text = head.decode()
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3 or error.reason != "unexpected end of data":
            return False
        text = head[: error.start].decode()
    return not any(ord(char) < 32 and char not in "\t\r\n" for char in text)
