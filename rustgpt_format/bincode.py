"""RustGPT's bincode ``.bin`` checkpoint (version 0, contract §11) <-> the version-0 document.

For a path not ending in ``.json``, RustGPT's ``LLM::save`` writes
``bincode::serde::encode_to_vec(&llm, bincode::config::standard())``: the structs of the
JSON dialect (§9) in declaration order, with nothing between them — no field names,
no magic number, no version. bincode 2's standard configuration writes:

- an unsigned integer (``usize``: a length, an id, a ``timestep``; ``u32``: an enum's
  variant index) as a varint: one byte up to 250, else a marker byte 251 / 252 / 253
  followed by 2 / 4 / 8 little-endian bytes (254, a ``u128``, and 255 are invalid here);
- a ``u8`` (ndarray's version ``v``) as one byte, an ``f32`` as 4 little-endian bytes;
- a ``String`` as its byte length (varint) and its UTF-8 bytes;
- a ``Vec`` or ``HashMap`` as its length (varint) and its items (a map: key, value, ...);
- an ``Option`` as a tag byte, 0 (``None``) or 1 followed by the value;
- an enum (``LayerEnum``) as its variant index (varint) and the variant's value;
- a struct as its fields in declaration order; an ``Array2<f32>`` (ndarray's serde) as
  the struct ``{v: u8, dim: (usize, usize), data: seq of f32}``.

:func:`decode` gives the dictionary that RustGPT's JSON of the same model decodes to
with :func:`rustgpt_format.codec.parse`, so the same migration reads both. The bytes
are a hostile input: every length is checked against :class:`Limits` and against the
bytes left before anything is allocated, in one pass, and any flaw is a
:class:`CheckpointError` naming its place in the version-0 document.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import orjson

from rustgpt_format.errors import CheckpointError, FieldError
from rustgpt_format.float32 import check_finite, describe, floats_from_numbers, to_float32
from rustgpt_format.limits import DEFAULT_LIMITS, Limits

ARRAY, CACHE, ADAM, F32, USIZE = "array", "cache", "adam", "f32", "usize"
"""The kinds of field: ``Array2<f32>``, ``Option<Array2<f32>>``, ``Adam``, ``f32``, ``usize``."""

LAYER_KINDS = ("Embeddings", "SelfAttention", "FeedForward", "LayerNorm", "OutputProjection")
"""``LayerEnum``'s variants; a layer's position here is its variant index in the file."""

ADAM_FIELDS: tuple[tuple[str, str], ...] = (
    ("beta1", F32),
    ("beta2", F32),
    ("epsilon", F32),
    ("timestep", USIZE),
    ("m", ARRAY),
    ("v", ARRAY),
)
"""RustGPT's ``Adam`` struct (``src/adam.rs``), in declaration order."""

LAYER_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Embeddings": (
        ("token_embeddings", ARRAY),
        ("positional_embeddings", ARRAY),
        ("cached_input", CACHE),
        ("token_optimizer", ADAM),
        ("positional_optimizer", ADAM),
    ),
    "SelfAttention": (
        ("embedding_dim", USIZE),
        ("w_q", ARRAY),
        ("w_k", ARRAY),
        ("w_v", ARRAY),
        ("cached_input", CACHE),
        ("optimizer_w_q", ADAM),
        ("optimizer_w_k", ADAM),
        ("optimizer_w_v", ADAM),
    ),
    "FeedForward": (
        ("w1", ARRAY),
        ("b1", ARRAY),
        ("w2", ARRAY),
        ("b2", ARRAY),
        ("input", CACHE),
        ("hidden_pre_activation", CACHE),
        ("hidden_post_activation", CACHE),
        ("optimizer_w1", ADAM),
        ("optimizer_b1", ADAM),
        ("optimizer_w2", ADAM),
        ("optimizer_b2", ADAM),
    ),
    "LayerNorm": (
        ("epsilon", F32),
        ("gamma", ARRAY),
        ("beta", ARRAY),
        ("cached_input", CACHE),
        ("cached_mean", CACHE),
        ("cached_std", CACHE),
        ("optimizer_gamma", ADAM),
        ("optimizer_beta", ADAM),
    ),
    "OutputProjection": (
        ("w_out", ARRAY),
        ("b_out", ARRAY),
        ("optimizer", ADAM),
        ("cached_input", CACHE),
    ),
}
"""Each layer struct of RustGPT (``src/*.rs``), fields in declaration order."""

ARRAY_VERSION = 1
"""ndarray's ``ARRAY_FORMAT_VERSION``, the ``v`` of every array."""

_SINGLE_BYTE_MAX, _U16, _U32, _U64, _U128 = 250, 251, 252, 253, 254
_WIDTH = {_U16: 2, _U32: 4, _U64: 8}
_MIN_BYTES = {ARRAY: 4, CACHE: 1, ADAM: 3 * 4 + 1 + 2 * 4, F32: 4, USIZE: 1}
_MIN_LAYER_BYTES = 1 + min(
    sum(_MIN_BYTES[kind] for _, kind in fields) for fields in LAYER_FIELDS.values()
)


def _skeleton(fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    empty = {"v": 1, "dim": [0, 0], "data": []}
    values = {ARRAY: empty, CACHE: None, F32: 0, USIZE: 0}
    return {name: _skeleton(ADAM_FIELDS) if kind == ADAM else values[kind] for name, kind in fields}


_LAYER_CHARGE = {
    kind: len(orjson.dumps({kind: _skeleton(fields)})) for kind, fields in LAYER_FIELDS.items()
}
"""What a layer counts against Limits.max_header_bytes: its JSON without numbers.

A layer takes 31 bytes or more in bincode but some 2 KB of Python objects once decoded;
counting it as its JSON keeps the memory a file can claim per byte close to the JSON
form's, whose text outside the arrays the same limit bounds.
"""
_ENTRY_CHARGE = 4
"""What a vocab entry counts beyond its bytes: JSON's quotes, colon and comma."""
_RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"
_F32 = struct.Struct("<f")


def map_key(prefix: str, key: str) -> str:
    """The path of a map entry, as the JSON dialect names it: ``vocab.encode["cat"]``."""
    return f"{prefix}[{orjson.dumps(key).decode()}]"


# --- reading ------------------------------------------------------------------------


def decode(
    data: bytes | bytearray | memoryview, *, limits: Limits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """RustGPT's ``.bin`` bytes as the version-0 document its serde JSON decodes to.

    Arrays are ``{"v": 1, "dim": [rows, cols], "data": <1-D float32 ndarray>}``, caches
    ``None`` or such an array, the decode map's keys decimal strings (as in JSON).

    >>> document = decode(encode(_EXAMPLE))
    >>> document["vocab"]["decode"], document["network"][0]["LayerNorm"]["gamma"]["dim"]
    ({'0': 'hi', '1': '</s>'}, [1, 2])
    >>> try:
    ...     decode(encode(_EXAMPLE) + b"\\0")
    ... except CheckpointError as error:
    ...     print(error.message)
    expected the end of the file after the last layer, found 1 more byte
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CheckpointError(f"expected bincode as bytes, found {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > limits.max_file_bytes:
        raise CheckpointError(
            f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), "
            f"found {len(raw)}{_RAISE}"
        )
    if not raw:
        raise CheckpointError("expected RustGPT's bincode (the vocab first), found an empty file")
    reader = _Reader(raw, limits)
    vocab = reader.vocab()
    network = reader.network()
    left = len(raw) - reader.pos
    if left:
        raise CheckpointError(
            f"expected the end of the file after the last layer, found {left} more "
            f"byte{'s' if left > 1 else ''}"
        )
    return {"vocab": vocab, "network": network}


def looks_like(head: bytes | bytearray | memoryview, size: int | None = None) -> bool:
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
    in the vocab's size.

    >>> data = encode(_EXAMPLE)
    >>> looks_like(data), looks_like(data[:20], len(data)), looks_like(data[:20])
    (True, True, False)
    >>> looks_like(b'{"vocab": {}}'), looks_like(b"\\x1f\\x8b\\x08")
    (False, False)
    """
    raw = bytes(head)
    reader = _Reader(raw, DEFAULT_LIMITS, size=len(raw) if size is None else size)
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
    count = reader.count("vocab.encode", "entries", 2, 2 + _ENTRY_CHARGE)
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
        if reader.count(where, "entries", item_bytes, item_bytes + _ENTRY_CHARGE) != count:
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
        reader.take(_MIN_BYTES[first], "network[0]", "the first field")
    if reader.take(1, "network[0]", "an array's version")[0] != ARRAY_VERSION:
        raise CheckpointError("expected ndarray's version 1", path="network[0]")


class _Reader:
    """A cursor over the file's bytes; each read checks what remains first."""

    __slots__ = ("charged", "data", "elements", "end", "limits", "numbers", "pos")

    def __init__(self, data: bytes, limits: Limits, *, size: int | None = None) -> None:
        self.data = data
        self.end = len(data) if size is None else size  # the file's; data may be its head
        self.limits = limits
        self.pos = 0
        self.elements = 0  # float32 numbers read so far, against Limits.max_elements
        self.numbers = 0  # bytes of them: the rest of the file is structure
        self.charged = 0  # what the structure counts beyond its bytes (_LAYER_CHARGE)

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
        if marker <= _SINGLE_BYTE_MAX:
            return marker
        if marker == _U128 or marker == 255 or (u32 and marker == _U64):
            kind = "a u32" if u32 else "a usize"
            found = (
                "the reserved marker byte 255"
                if marker == 255
                else (f"the marker byte {marker} of a {'u128' if marker == _U128 else 'u64'}")
            )
            raise CheckpointError(
                f"expected {what} as a varint of {kind} (a byte up to 250, or 251, 252"
                f"{'' if u32 else ' or 253'} and its little-endian bytes), found {found}",
                path=path,
            )
        return int.from_bytes(self.take(_WIDTH[marker], path, what), "little")

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
                f"keys), found at least {used} by here{_RAISE}",
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
            f"(Limits.max_string_chars), found {found}{_RAISE}",
            path=path,
        )

    def vocab(self) -> dict[str, Any]:
        encode: dict[str, int] = {}
        for entry in range(self.count("vocab.encode", "entries", 2, 2 + _ENTRY_CHARGE)):
            word = self.string("vocab.encode", f"the word of entry {entry}")
            where = map_key("vocab.encode", word)
            token_id = self.varint(where, "a token id")
            if word in encode:
                raise _twice(where, "word", "vocab.encode")
            encode[word] = token_id
        self.charged += _ENTRY_CHARGE * len(encode)
        self.budget("vocab.encode")
        decode: dict[str, str] = {}
        for entry in range(self.count("vocab.decode", "entries", 2, 2 + _ENTRY_CHARGE)):
            key = str(self.varint("vocab.decode", f"the token id of entry {entry}"))
            where = map_key("vocab.decode", key)
            if key in decode:
                raise _twice(where, "token id", "vocab.decode")
            decode[key] = self.string(where, "a word")
        self.charged += _ENTRY_CHARGE * len(decode)
        self.budget("vocab.decode")
        words = [
            self.string(f"vocab.words[{index}]", "a word")
            for index in range(self.count("vocab.words", "words", 1, 1 + _ENTRY_CHARGE))
        ]
        self.charged += _ENTRY_CHARGE * len(words)
        self.budget("vocab.words")
        return {"encode": encode, "decode": decode, "words": words}

    def network(self) -> list[dict[str, Any]]:
        network = []
        layers = self.count("network", "layers", _MIN_LAYER_BYTES, min(_LAYER_CHARGE.values()))
        for index in range(layers):
            where = f"network[{index}]"
            kind = self.variant(where)
            self.charged += _LAYER_CHARGE[kind]
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
            return _F32.unpack(self.take(4, path, "a float32"))[0]
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
                f"(Limits.max_elements), found more by this array ({size}){_RAISE}",
                path=f"{path}.data",
            )
        start = self.skip(4 * size, f"{path}.data", f"{size} float32 numbers")
        self.elements += size
        self.numbers += 4 * size
        values = np.frombuffer(self.data, dtype="<f4", count=size, offset=start)
        if finite:
            try:
                check_finite(values)
            except FieldError as error:
                raise CheckpointError(
                    error.message, path=f"{path}.data[{error.parts[0]}]"
                ) from None
        return {"v": version, "dim": [rows, cols], "data": values.astype(np.float32)}


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


# --- writing ------------------------------------------------------------------------


def encode(document: Mapping[str, Any]) -> bytes:
    """The bincode bytes RustGPT's ``LLM::save("x.bin")`` writes for a version-0 document.

    ``document`` has the shape :func:`decode` returns (``data`` may be a float32 ndarray
    of any shape or a list; caches ``None`` or an array), or is the dialect writer's
    ``rustgpt_document(checkpoint)`` (numpy scalars, ``orjson.Fragment`` numbers).
    Numbers given as Python floats or JSON fragments are read as the JSON reader reads
    them, each as its float32, so the document that :func:`rustgpt_format.codec.parse`
    makes of RustGPT's JSON is written as RustGPT's bincode of the same model. Maps are
    written in the order the dicts give (RustGPT writes its HashMaps in a random order).

    >>> encode(_EXAMPLE)[:9]
    b'\\x02\\x02hi\\x00\\x04</s'
    """
    out: list[bytes] = []
    vocab = _item(document, "vocab", "", dict)
    encode_map = _item(vocab, "encode", "vocab", dict)
    out.append(_varint(len(encode_map)))
    for word, token_id in encode_map.items():
        out += [_string(word, "vocab.encode"), _usize(token_id, map_key("vocab.encode", word))]
    decode_map = _item(vocab, "decode", "vocab", dict)
    out.append(_varint(len(decode_map)))
    for key, word in decode_map.items():
        where = map_key("vocab.decode", str(key))
        out += [_usize(_token_id(key, where), where), _string(word, where)]
    words = _item(vocab, "words", "vocab", list)
    out.append(_varint(len(words)))
    out += [_string(word, f"vocab.words[{index}]") for index, word in enumerate(words)]
    network = _item(document, "network", "", list)
    out.append(_varint(len(network)))
    for index, layer in enumerate(network):
        where = f"network[{index}]"
        if not (isinstance(layer, dict) and len(layer) == 1 and next(iter(layer)) in LAYER_KINDS):
            raise CheckpointError(
                f"expected a layer tagged by its kind ({', '.join(LAYER_KINDS)}), "
                f"found {describe(layer)}",
                path=where,
            )
        kind, body = next(iter(layer.items()))
        out.append(_varint(LAYER_KINDS.index(kind)))
        _write_fields(out, body, f"{where}.{kind}", LAYER_FIELDS[kind])
    return b"".join(out)


def _write_fields(
    out: list[bytes], body: object, path: str, fields: tuple[tuple[str, str], ...]
) -> None:
    if not isinstance(body, dict):
        raise CheckpointError(f"expected an object, found {describe(body)}", path=path)
    for name, kind in fields:
        value = _item(body, name, path, object)
        where = f"{path}.{name}"
        if kind == ARRAY or (kind == CACHE and value is not None):
            out += [b"\x01"] if kind == CACHE else []
            _write_array(out, value, where)
        elif kind == CACHE:
            out.append(b"\x00")
        elif kind == ADAM:
            _write_fields(out, value, where, ADAM_FIELDS)
        elif kind == F32:
            out.append(_f32(value, where))
        else:
            out.append(_usize(value, where))


def _write_array(out: list[bytes], array: object, path: str) -> None:
    if not isinstance(array, dict):
        raise CheckpointError(f"expected an array object, found {describe(array)}", path=path)
    dim = _item(array, "dim", path, list)
    if len(dim) != 2:
        raise CheckpointError(f"expected [rows, cols], found {describe(dim)}", path=f"{path}.dim")
    for number in dim:
        _usize(number, f"{path}.dim")
    rows, cols = int(dim[0]), int(dim[1])
    data = _item(array, "data", path, object)
    if isinstance(data, orjson.Fragment):
        data = _unfragment(data)
    if isinstance(data, list):
        try:  # as the JSON reader reads them: each to its float32, finite
            data = floats_from_numbers(data)
        except FieldError as error:
            raise CheckpointError(error.message, path=f"{path}.data[{error.parts[0]}]") from None
    if not (isinstance(data, np.ndarray) and data.dtype == np.float32):
        raise CheckpointError(
            f"expected a float32 ndarray or a list of numbers, found {describe(data)}",
            path=f"{path}.data",
        )
    numbers = data.astype("<f4", order="C", copy=False)
    if numbers.size != rows * cols:
        raise CheckpointError(
            f"expected {rows * cols} numbers (dim [{rows}, {cols}]), found {numbers.size}",
            path=f"{path}.data",
        )
    out += [b"\x01", _varint(rows), _varint(cols), _varint(numbers.size), numbers.tobytes()]


def _item(container: Mapping[str, Any], key: str, path: str, kind: type) -> Any:
    where = f"{path}.{key}" if path else key
    if key not in container:
        raise CheckpointError("missing required key", path=where)
    value = container[key]
    if not isinstance(value, kind):
        raise CheckpointError(
            f"expected {'an object' if kind is dict else 'an array'}, found {describe(value)}",
            path=where,
        )
    return value


def _varint(number: int) -> bytes:
    if number <= _SINGLE_BYTE_MAX:
        return bytes((number,))
    for marker, width in _WIDTH.items():
        if number < 1 << (8 * width):
            return bytes((marker,)) + number.to_bytes(width, "little")
    raise AssertionError("callers check the range")  # pragma: no cover


def _usize(value: object, path: str) -> bytes:
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not (0 <= value < 1 << 64)
    ):
        raise CheckpointError(
            f"expected an unsigned 64-bit integer, found {describe(value)}", path=path
        )
    return _varint(int(value))


def _token_id(key: object, path: str) -> int:
    if isinstance(key, str) and key.isdecimal() and key.isascii():
        return int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    raise CheckpointError(f"expected a decimal token id as key, found {describe(key)}", path=path)


def _f32(value: object, path: str) -> bytes:
    """A scalar as the JSON reader reads a number: its float32 (``0.9`` is float32 0.9)."""
    if isinstance(value, orjson.Fragment):
        value = _unfragment(value)
    if not isinstance(value, (float, int, np.floating)) or isinstance(value, bool):
        raise CheckpointError(f"expected a float32, found {describe(value)}", path=path)
    try:
        return _F32.pack(to_float32(float(value)))
    except FieldError as error:
        raise CheckpointError(error.message, path=path) from None


def _unfragment(fragment: orjson.Fragment) -> Any:
    """The numbers of a JSON fragment, as the JSON reader reads them.

    The dialect writer's document holds the float32 pair whose shortest text
    double-rounds (contract §2) as a fragment of longer text; read back through
    float64, that text gives the exact float32.
    """
    try:
        return orjson.loads(orjson.dumps(fragment))
    except orjson.JSONDecodeError as error:
        raise CheckpointError(f"expected JSON numbers in a fragment, found {error}") from None


def _string(text: object, path: str) -> bytes:
    if not isinstance(text, str):
        raise CheckpointError(f"expected a string, found {describe(text)}", path=path)
    try:
        raw = text.encode()
    except UnicodeEncodeError as error:
        raise CheckpointError(
            f"expected text that UTF-8 can encode, found a lone surrogate at character "
            f"{error.start}",
            path=path,
        ) from None
    return _varint(len(raw)) + raw


def _example() -> dict[str, Any]:
    adam: Callable[[], dict[str, Any]] = lambda: {  # noqa: E731
        "beta1": 0.8999999761581421,
        "beta2": 0.9990000128746033,
        "epsilon": 9.99999993922529e-09,
        "timestep": 0,
        "m": {"v": 1, "dim": [1, 2], "data": [0.0, 0.0]},
        "v": {"v": 1, "dim": [1, 2], "data": [0.0, 0.0]},
    }
    norm = {
        "epsilon": 9.999999747378752e-06,
        "gamma": {"v": 1, "dim": [1, 2], "data": [1.0, 1.0]},
        "beta": {"v": 1, "dim": [1, 2], "data": [0.0, 0.0]},
        "cached_input": None,
        "cached_mean": None,
        "cached_std": None,
        "optimizer_gamma": adam(),
        "optimizer_beta": adam(),
    }
    vocab = {"encode": {"hi": 0, "</s>": 1}, "decode": {"0": "hi", "1": "</s>"}}
    return {"vocab": {**vocab, "words": ["hi", "</s>"]}, "network": [{"LayerNorm": norm}]}


_EXAMPLE = _example()
"""A small version-0 document (one LayerNorm; not a valid model), for the examples."""
