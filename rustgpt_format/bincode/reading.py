"""Reading RustGPT's ``.bin`` as a hostile input: bytes -> the version-0 document.

:func:`decode` gives the dictionary that RustGPT's JSON of the same model decodes to
with :func:`rustgpt_format.codec.parse`, so the same migration reads both. Every
length is checked against :class:`Limits` and against the bytes left before anything
is allocated, in one pass, and any flaw is a :class:`CheckpointError` naming its place
in the version-0 document (``network[3].FeedForward.w1.dim``). :func:`looks_like`
tells a ``.bin`` by its content.

Memory (issue 15: a load holds at most the arrays it returns plus 256 MiB, a refused
one 256 MiB): a large file comes as a read-only map (:meth:`Source.buffer
<rustgpt_format.forms.base.Source.buffer>`), read front to back with the pages behind
the cursor given back (:mod:`rustgpt_format.buffers`), and each array is copied out of
it once checked. A file of more than 128 MiB is read twice: first with every array
checked where it lies and replaced by a stand-in of its size (no memory), the document
so built handed to ``check`` (the validator), and only then again, copying the arrays;
so a refusal, by this reader or the validator, holds none of them.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import Any

import numpy as np

from rustgpt_format.bincode.layout import (
    ADAM,
    ADAM_FIELDS,
    ARRAY,
    ARRAY_VERSION,
    CACHE,
    ENTRY_CHARGE,
    F32,
    F32_LE,
    LAYER_CHARGE,
    LAYER_FIELDS,
    LAYER_KINDS,
    MIN_BYTES,
    MIN_LAYER_BYTES,
    RAISE,
    SINGLE_BYTE_MAX,
    U64,
    U128,
    WIDTH,
    map_key,
)
from rustgpt_format.boundary import all_finite
from rustgpt_format.buffers import CHECKED_FIRST, Buffer, Releaser, release, stand_in
from rustgpt_format.errors import CheckpointError, FieldError
from rustgpt_format.float32 import check_finite
from rustgpt_format.limits import DEFAULT_LIMITS, Limits


def decode(
    data: Buffer | bytearray | memoryview,
    *,
    limits: Limits = DEFAULT_LIMITS,
    check: Callable[[Any], object] | None = None,
) -> dict[str, Any]:
    """RustGPT's ``.bin`` bytes as the version-0 document its serde JSON decodes to.

    Arrays are ``{"v": 1, "dim": [rows, cols], "data": <1-D float32 ndarray>}``, caches
    ``None`` or such an array, the decode map's keys decimal strings (as in JSON).
    ``data`` may be a read-only ``mmap`` of the file: it is not copied, and its pages are
    given back as the reading passes them. Past 128 MiB the arrays are all checked first
    and ``check`` (if given) is called with the document whose arrays are stand-ins of
    their sizes (one value repeated, no memory) before any is copied: a validator raising
    there refuses the file without spending the memory of its arrays.

    >>> from rustgpt_format.bincode import encode
    >>> from rustgpt_format.bincode.layout import EXAMPLE
    >>> document = decode(encode(EXAMPLE))
    >>> document["vocab"]["decode"], document["network"][0]["LayerNorm"]["gamma"]["dim"]
    ({'0': 'hi', '1': '</s>'}, [1, 2])
    >>> try:
    ...     decode(encode(EXAMPLE) + b"\\0")
    ... except CheckpointError as error:
    ...     print(error.message)
    expected the end of the file after the last layer, found 1 more byte
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)  # the caller's may change under the reader; small, in memory
    if not isinstance(data, (bytes, mmap.mmap)):
        raise CheckpointError(f"expected bincode as bytes, found {type(data).__name__}")
    if len(data) > limits.max_file_bytes:
        raise CheckpointError(
            f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), "
            f"found {len(data)}{RAISE}"
        )
    if not data:
        raise CheckpointError("expected RustGPT's bincode (the vocab first), found an empty file")
    if len(data) <= CHECKED_FIRST:
        return _Reader(data, limits).document()
    stand_ins = _Reader(data, limits, keep=False).document()
    if check is not None:
        check(stand_ins)
    del stand_ins
    # every array is finite and the document valid: read again, now copying the arrays
    return _Reader(data, limits, checked=True).document()


def looks_like(
    head: bytes | bytearray | memoryview,
    size: int | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> bool:
    """Whether a file of ``size`` bytes starting with ``head`` reads as RustGPT's bincode.

    A ``.bin`` starts with its vocab: a count N of at least 1, N encode entries (a
    UTF-8 word, its id below N; no word or id twice), the same N and N decode entries,
    the same N and N words; then a layer count of at least 1, a variant index of
    ``LayerEnum`` and, where that layer's first array starts, ndarray's version byte
    1. Every length in the vocab is checked against ``size`` (by default ``len(head)``:
    ``head`` is the whole file). The answer covers the bytes ``head`` holds: given the
    whole file, it is definitive (a file cut after its vocab is a ``.bin``, which
    :func:`decode` calls truncated); given the first 64 bytes, it says they are
    consistent with a ``.bin`` of that size so far, which JSON text can be too. Linear
    in the vocab's size. ``limits``: the caller's, which :func:`decode` will apply (a
    vocab past the default ``max_header_bytes`` is a ``.bin`` when the caller raised it).

    >>> from rustgpt_format.bincode import encode
    >>> from rustgpt_format.bincode.layout import EXAMPLE
    >>> data = encode(EXAMPLE)
    >>> looks_like(data), looks_like(data[:20], len(data)), looks_like(data[:20])
    (True, True, False)
    >>> looks_like(b'{"vocab": {}}'), looks_like(b"\\x1f\\x8b\\x08")
    (False, False)
    """
    raw = head if isinstance(head, bytes) else bytes(head)  # no copy of a whole file
    reader = _Reader(raw, limits, size=len(raw) if size is None else size)
    try:
        _vocab_and_first_layer(reader)
    except _UnseenError:
        return True
    except CheckpointError:
        return False
    return True


class _UnseenError(Exception):
    """A read went past the bytes at hand but not past the file's size."""


def _vocab_and_first_layer(reader: _Reader) -> None:
    """Read what :func:`looks_like` checks; CheckpointError at the first thing amiss."""
    count = reader.count("vocab.encode", "entries", 2, 2 + ENTRY_CHARGE)
    words: set[str] = set()
    ids: set[int] = set()

    def entry(word: str, token_id: int, where: str) -> None:
        if token_id >= count or word in words or token_id in ids:
            raise CheckpointError(f"expected a new word and a new id below {count}", path=where)
        words.add(word)
        ids.add(token_id)

    for _ in range(count):
        word = reader.string("vocab.encode", "a word")
        entry(word, reader.varint("vocab.encode", "an id"), "vocab.encode")
    for where, item_bytes in (("vocab.decode", 2), ("vocab.words", 1)):
        if reader.count(where, "entries", item_bytes, item_bytes + ENTRY_CHARGE) != count:
            raise CheckpointError(f"expected {count} entries", path=where)
        words.clear()
        ids.clear()
        for index in range(count):
            if where == "vocab.decode":
                token_id = reader.varint(where, "an id")
                entry(reader.string(where, "a word"), token_id, where)
            else:
                entry(reader.string(where, "a word"), index, where)
    # A whole vocab tells a .bin: a file cut after it is a .bin that decode calls truncated.
    reader.end = max(reader.end, 1 << 62)
    if count < 1 or reader.varint("network", "the number of layers") < 1:
        raise CheckpointError("expected at least one word and one layer")
    kind = reader.variant("network[0]")
    first = LAYER_FIELDS[kind][0][1]
    if first != ARRAY:
        reader.take(MIN_BYTES[first], "network[0]", "the first field")
    if reader.take(1, "network[0]", "an array's version")[0] != ARRAY_VERSION:
        raise CheckpointError("expected ndarray's version 1", path="network[0]")


class _Reader:
    """A cursor over the file's bytes; each read checks what remains first."""

    __slots__ = (
        "charged",
        "checked",
        "data",
        "elements",
        "end",
        "keep",
        "limits",
        "numbers",
        "passing",
        "pos",
    )

    def __init__(
        self,
        data: Buffer,
        limits: Limits,
        *,
        size: int | None = None,
        keep: bool = True,
        checked: bool = False,
    ) -> None:
        self.data = data
        self.keep = keep  # copy the arrays out; else stand-ins of their sizes
        self.checked = checked  # the arrays were found finite by a first pass
        self.passing = Releaser(data)
        self.end = len(data) if size is None else size  # the file's; data may be its head
        self.limits = limits
        self.pos = 0
        self.elements = 0  # float32 numbers read so far, against Limits.max_elements
        self.numbers = 0  # bytes of them: the rest of the file is structure
        self.charged = 0  # what the structure counts beyond its bytes (LAYER_CHARGE)

    def document(self) -> dict[str, Any]:
        """The whole file as the version-0 document, the end of the file checked."""
        vocab = self.vocab()
        network = self.network()
        release(self.data, 0, len(self.data))  # a second pass reads its pages again
        left = len(self.data) - self.pos
        if left:
            raise CheckpointError(
                f"expected the end of the file after the last layer, found {left} more "
                f"byte{'s' if left > 1 else ''}"
            )
        return {"vocab": vocab, "network": network}

    def take(self, size: int, path: str, what: str) -> bytes:
        start = self.skip(size, path, what)
        return self.data[start : self.pos]

    def skip(self, size: int, path: str, what: str) -> int:
        """Move past ``size`` bytes (refusing to pass the end); where they start."""
        left = self.end - self.pos
        if size > left:
            raise CheckpointError(
                f"expected {what} ({size} byte{'s' if size > 1 else ''}), found "
                f"{left or 'no'} byte{'s' if left != 1 else ''} before the end of the file "
                "(truncated)",
                path=path,
            )
        if self.pos + size > len(self.data):
            raise _UnseenError  # only when reading a head: data ends before the file does
        start = self.pos
        self.pos += size
        return start

    def varint(self, path: str, what: str, *, u32: bool = False) -> int:
        marker = self.take(1, path, what)[0]
        if marker <= SINGLE_BYTE_MAX:
            return marker
        if marker == U128 or marker == 255 or (u32 and marker == U64):
            kind = "a u32" if u32 else "a usize"
            found = (
                "the reserved marker byte 255"
                if marker == 255
                else (f"the marker byte {marker} of a {'u128' if marker == U128 else 'u64'}")
            )
            raise CheckpointError(
                f"expected {what} as a varint of {kind} (a byte up to 250, or 251, 252"
                f"{'' if u32 else ' or 253'} and its little-endian bytes), found {found}",
                path=path,
            )
        return int.from_bytes(self.take(WIDTH[marker], path, what), "little")

    def count(self, path: str, items: str, item_bytes: int, charge: int) -> int:
        """A length prefix, refused unless its items fit in the file and the budget.

        Each item takes at least ``item_bytes`` bytes and counts ``charge`` against
        Limits.max_header_bytes; both are checked before any item is read.
        """
        number = self.varint(path, f"the number of {items}")
        left = self.end - self.pos
        if number * item_bytes > left:
            raise CheckpointError(
                f"expected at most {left // item_bytes} {items} (each takes at least "
                f"{item_bytes} byte{'s' if item_bytes > 1 else ''} and {left} remain), "
                f"found a length of {number} (truncated or damaged file)",
                path=path,
            )
        self.budget(path, number * charge)
        return number

    def budget(self, path: str, coming: int = 0) -> None:
        """Structure (all but float32 data) stays within Limits.max_header_bytes."""
        used = self.pos - self.numbers + self.charged + coming
        if used > self.limits.max_header_bytes:
            raise CheckpointError(
                f"expected at most {self.limits.max_header_bytes} bytes of structure outside "
                f"the float32 data (Limits.max_header_bytes; a layer counts as its JSON "
                f"keys), found at least {used} by here{RAISE}",
                path=path,
            )

    def string(self, path: str, what: str) -> str:
        size = self.varint(path, f"the byte length of {what}")
        if size > 4 * self.limits.max_string_chars:
            raise self._long(path, what, f"{size} bytes")
        if self.pos + size > len(self.data) and size <= self.end - self.pos:
            _partial_utf8(self.data[self.pos :])  # a head cut inside the string
        raw = self.take(size, path, f"the UTF-8 bytes of {what}")
        try:
            text = raw.decode()
        except UnicodeDecodeError as error:
            raise CheckpointError(
                f"expected {what} in UTF-8, found the byte 0x{raw[error.start]:02x} at "
                f"byte {error.start} of its {size} ({error.reason})",
                path=path,
            ) from None
        if len(text) > self.limits.max_string_chars:
            raise self._long(path, what, f"{len(text)} characters")
        return text

    def _long(self, path: str, what: str, found: str) -> CheckpointError:
        return CheckpointError(
            f"expected {what} of at most {self.limits.max_string_chars} characters "
            f"(Limits.max_string_chars), found {found}{RAISE}",
            path=path,
        )

    def vocab(self) -> dict[str, Any]:
        encode: dict[str, int] = {}
        for entry in range(self.count("vocab.encode", "entries", 2, 2 + ENTRY_CHARGE)):
            word = self.string("vocab.encode", f"the word of entry {entry}")
            where = map_key("vocab.encode", word)
            token_id = self.varint(where, "a token id")
            if word in encode:
                raise _twice(where, "word", "vocab.encode")
            encode[word] = token_id
        self.charged += ENTRY_CHARGE * len(encode)
        self.budget("vocab.encode")
        decode: dict[str, str] = {}
        for entry in range(self.count("vocab.decode", "entries", 2, 2 + ENTRY_CHARGE)):
            key = str(self.varint("vocab.decode", f"the token id of entry {entry}"))
            where = map_key("vocab.decode", key)
            if key in decode:
                raise _twice(where, "token id", "vocab.decode")
            decode[key] = self.string(where, "a word")
        self.charged += ENTRY_CHARGE * len(decode)
        self.budget("vocab.decode")
        words = [
            self.string(f"vocab.words[{index}]", "a word")
            for index in range(self.count("vocab.words", "words", 1, 1 + ENTRY_CHARGE))
        ]
        self.charged += ENTRY_CHARGE * len(words)
        self.budget("vocab.words")
        return {"encode": encode, "decode": decode, "words": words}

    def network(self) -> list[dict[str, Any]]:
        network = []
        layers = self.count("network", "layers", MIN_LAYER_BYTES, min(LAYER_CHARGE.values()))
        for index in range(layers):
            where = f"network[{index}]"
            kind = self.variant(where)
            self.charged += LAYER_CHARGE[kind]
            self.budget(where)
            network.append({kind: self.fields(f"{where}.{kind}", LAYER_FIELDS[kind])})
        return network

    def variant(self, path: str) -> str:
        index = self.varint(path, "the layer's variant index", u32=True)
        if index >= len(LAYER_KINDS):
            kinds = ", ".join(f"{number} {kind}" for number, kind in enumerate(LAYER_KINDS))
            raise CheckpointError(
                f"expected a layer's variant index ({kinds}), found {index}", path=path
            )
        return LAYER_KINDS[index]

    def fields(self, path: str, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        return {name: self.value(f"{path}.{name}", kind) for name, kind in fields}

    def value(self, path: str, kind: str) -> Any:
        if kind == ARRAY:
            return self.array(path, finite=True)
        if kind == CACHE:
            tag = self.take(1, path, "an Option tag")[0]
            if tag > 1:
                raise CheckpointError(
                    f"expected an Option tag, 0 (no cache) or 1 (a cached array), found {tag}",
                    path=path,
                )
            return self.array(path, finite=False) if tag else None
        if kind == ADAM:
            return self.fields(path, ADAM_FIELDS)
        if kind == F32:
            return F32_LE.unpack(self.take(4, path, "a float32"))[0]
        return self.varint(path, "an unsigned integer (usize)")

    def array(self, path: str, *, finite: bool) -> dict[str, Any]:
        """An ``Array2<f32>``; a parameter or moment (``finite``) must hold finite numbers.

        The JSON reader hands the validator arrays it found finite, and so does this one;
        a forward cache is not looked into, as the JSON reader drops it unread.
        """
        version = self.take(1, f"{path}.v", "ndarray's array version")[0]
        if version != ARRAY_VERSION:
            raise CheckpointError(
                f"expected ndarray's array version {ARRAY_VERSION}, found {version}",
                path=f"{path}.v",
            )
        rows = self.varint(f"{path}.dim", "the number of rows")
        cols = self.varint(f"{path}.dim", "the number of columns")
        size = self.varint(f"{path}.data", "the number of elements")
        if rows * cols != size:
            raise CheckpointError(
                f"expected dimensions whose product is the {size} elements of data, "
                f"found [{rows}, {cols}] ({rows * cols})",
                path=f"{path}.dim",
            )
        if self.elements + size > self.limits.max_elements:
            raise CheckpointError(
                f"expected at most {self.limits.max_elements} numbers in all arrays "
                f"(Limits.max_elements), found more by this array ({size}){RAISE}",
                path=f"{path}.data",
            )
        start = self.skip(4 * size, f"{path}.data", f"{size} float32 numbers")
        self.elements += size
        self.numbers += 4 * size
        values = np.frombuffer(self.data, dtype="<f4", count=size, offset=start)
        kept = np.empty(size, np.float32) if self.keep else stand_in(size)
        # a chunk at a time, its pages given back once read: of a mapped file, the
        # process holds a chunk, not the array's bytes beside its copy
        chunk = values[:0]
        for at in range(0, size, _CHUNK_FLOATS):
            chunk = values[at : at + _CHUNK_FLOATS]
            if finite and not self.checked and not all_finite(chunk):
                try:
                    check_finite(chunk)
                except FieldError as error:
                    raise CheckpointError(
                        error.message, path=f"{path}.data[{at + int(error.parts[0])}]"
                    ) from None
            if self.keep:
                kept[at : at + chunk.size] = chunk
            self.passing.upto(start + 4 * (at + chunk.size))
        del values, chunk  # a map cannot close while numpy holds a view of it
        return {"v": version, "dim": [rows, cols], "data": kept}


_CHUNK_FLOATS = 1 << 18
"""Floats checked and copied at a time (1 MiB)."""


def _partial_utf8(raw: bytes) -> None:
    """Refuse bytes that no UTF-8 text starts with (a character cut at the end is fine)."""
    try:
        raw.decode()
    except UnicodeDecodeError as error:
        if error.start < len(raw) - 3 or error.reason != "unexpected end of data":
            raise CheckpointError("expected UTF-8") from None


def _twice(path: str, what: str, where: str) -> CheckpointError:
    return CheckpointError(
        f"expected each {what} once in {where}, found this one twice (RustGPT would "
        "silently keep the last)",
        path=path,
    )
