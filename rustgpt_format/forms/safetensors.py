"""The binary form (contract §10): a ``.safetensors`` file the official library opens.

Each array is a float32 tensor named by its dotted path (``network.3.w_q``,
``network.3.optimizer_w_q.m``). The rest of the document is JSON text under the one
key ``checkpoint`` of the file's ``__metadata__``: the document as in the JSON form
(``format`` and ``format_version`` first) without its arrays; optimizers keep their
scalars, an absent optimizer is ``null``. One key, because the library writes
``__metadata__`` from a hash map in no fixed order: with one key the same checkpoint
gives the same bytes. Reading, the container (header, offsets, bounds) is checked
by the ``safetensors`` library; this module maps checkpoints onto it and refuses files
whose tensors and metadata do not match. Writing lays out the library's own bytes
(a test compares them) with the tensors written from the arrays' memory.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, NoReturn

import numpy as np
import orjson
import safetensors.numpy
from pydantic import TypeAdapter, ValidationError
from safetensors import SafetensorError, safe_open

from rustgpt_format.boundary import all_finite, checked
from rustgpt_format.codec import parse, wire_document
from rustgpt_format.errors import CheckpointError, Problem, join_path
from rustgpt_format.float32 import FINITE_ARRAYS, Float32Array, describe
from rustgpt_format.forms.base import (
    RAISE_HINT,
    Decoded,
    Form,
    ReadOptions,
    Source,
    WriteOptions,
)
from rustgpt_format.limits import Limits
from rustgpt_format.models import LAYER_KINDS, Checkpoint, select_layers
from rustgpt_format.pydantic_errors import problems_of
from rustgpt_format.versions import FORMAT

METADATA_DOCUMENT = "checkpoint"
"""The ``__metadata__`` key that holds the document without its arrays."""

_MOMENTS = ("m", "v")


def tensor_name(layer: int, field: str, moment: str | None = None) -> str:
    """The name of an array's tensor.

    >>> tensor_name(3, "w_q"), tensor_name(3, "optimizer_w_q", "m")
    ('network.3.w_q', 'network.3.optimizer_w_q.m')
    """
    return f"network.{layer}.{field}" + (f".{moment}" if moment else "")


def is_safetensors(head: bytes, size: int | None) -> bool:
    """Whether bytes starting with ``head`` (``size`` in all) look like safetensors.

    The file starts with the header length (8 bytes, little-endian), which must fit in
    the file, and the header's opening brace. JSON text that has a ``{`` at byte 8
    starts with 8 bytes of text, which as a length is at least 2**61 (its top byte a
    printable character): more than any file it could start, and more than the
    2**40 taken as the bound when the size is unknown (a pipe).

    >>> is_safetensors(b'{"abcd":{"x": 1}}', 17), is_safetensors(b"\x02" + bytes(7) + b"{}", 10)
    (False, True)
    """
    if len(head) < 9 or head[8:9] != b"{":
        return False
    length = int.from_bytes(head[:8], "little")
    return length >= 2 and (8 + length <= size if size is not None else length < 2**40)


def _encode_binary(checkpoint: Checkpoint) -> bytes:
    """The ``.safetensors`` bytes of a checkpoint.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> data = _encode_binary(tiny_checkpoint())
    >>> sorted(safetensors.numpy.load(data))[:2]
    ['network.0.positional_embeddings', 'network.0.positional_optimizer.m']
    """
    head, arrays = _container(checkpoint)
    for array in arrays:
        _refuse_non_finite(checkpoint, array)
    return b"".join([head, *(array.tobytes() for array in arrays)])


def _write_binary(checkpoint: Checkpoint, path: Path) -> None:
    """Write the ``.safetensors`` form of a checkpoint straight to ``path``.

    The tensors go from the arrays' own memory to the file, with no copy in between;
    an atomic save calls it on its temporary file. Each array is checked finite just
    before it is written, while the write will find it in cache: a save that leaves
    that check to the writer (``checks_values``) is spared a pass over every array. A
    non-finite value raises the full check's error (the atomic save then removes the
    temporary file: nothing is written at the path).
    """
    head, arrays = _container(checkpoint)
    with open(path, "wb") as stream:
        stream.write(head)
        for array in arrays:
            _refuse_non_finite(checkpoint, array)
            stream.write(array.data)


def _refuse_non_finite(checkpoint: Checkpoint, array: np.ndarray) -> None:
    """Raise the full check's error when ``array`` holds a value that is not finite."""
    if not all_finite(array):
        checked(checkpoint)
        raise AssertionError("a non-finite array passed the check")


def _container(checkpoint: Checkpoint) -> tuple[bytes, list[np.ndarray]]:
    """The bytes before the tensors (length, header), and the tensors in file order.

    The same bytes as the library's ``safetensors.numpy.save`` (a test compares them):
    tensors sorted by dtype, then name (all F32 here); the header compact JSON with
    ``__metadata__`` first, each tensor's ``dtype``, ``shape`` and ``data_offsets``,
    padded with spaces to a multiple of 8 bytes. Written here rather than by
    ``save_file``, which first copies every tensor into a ``bytes`` object: the
    arrays are written from their own memory instead.
    """
    tensors, metadata = _tensors_and_metadata(checkpoint)
    header: dict[str, Any] = {"__metadata__": metadata}
    arrays = []
    offset = 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        arrays.append(array)
        offset += array.nbytes
    text = orjson.dumps(header)
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, arrays


def _tensors_and_metadata(
    checkpoint: Checkpoint,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    document = wire_document(checkpoint, arrays=False)
    tensors = {}
    for index, (layer, wire) in enumerate(
        zip(checkpoint.network, document["network"], strict=True)
    ):
        for field in layer.SHAPES:
            tensors[tensor_name(index, field)] = getattr(layer, field)
            del wire[field]
        for field, state in layer.optimizers().items():
            if state is not None:
                for moment in _MOMENTS:
                    tensors[tensor_name(index, field, moment)] = getattr(state, moment)
                    del wire[field][moment]
    text = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    return tensors, {METADATA_DOCUMENT: text}


@dataclass(slots=True)
class _Claim:
    """A tensor the metadata asks for, and where in the document it goes."""

    name: str
    container: dict[str, Any]
    key: str

    @property
    def path(self) -> str:
        """Where it goes in the document (asked only for an error)."""
        return _path_of(self.name)


def _path_of(name: str) -> str:
    """The path in the document of a tensor named by :func:`tensor_name`.

    >>> _path_of("network.3.optimizer_w_q.m")
    'network[3].optimizer_w_q.m'
    """
    _, index, rest = name.split(".", 2)
    return f"network[{index}].{rest}"


class SafetensorsForm(Form):
    """The binary form of contract §10: a ``.safetensors`` file the official library opens."""

    name: ClassVar[str] = "safetensors"
    suffixes: ClassVar[tuple[str, ...]] = (".safetensors",)
    streams: ClassVar[bool] = True
    checks_values: ClassVar[bool] = True
    """:meth:`encode` and :meth:`write` check each array finite as they write it, with
    the full check's error (see ``writing.save``)."""
    description: ClassVar[str] = "safetensors (binary)"

    def recognizes(self, source: Source, limits: Limits) -> bool:
        return is_safetensors(source.head, source.size)

    def decode(self, source: Source, options: ReadOptions) -> Decoded:
        """The document with its arrays; a full load reads the tensors into one buffer.

        The library parses and checks the header (offsets in bounds, no gaps, no
        overlaps, the data fully covered). A full load then reads the whole data
        region into one float32 buffer, in the library's offset order, 256 KiB at a
        time, each chunk checked finite while it is in cache; each array is a view of
        that buffer. Past 192 MiB the rest is checked before it is kept (a refused
        load stays within 256 MiB). A weights-only or partial load (``optimizer=False``,
        ``layers=``) reads each wanted tensor alone at its offset, leaving every other
        tensor's bytes on disk.
        """
        if source.stream is None or source.size is None:
            return _decode_bytes(source.data(options.limits), options)
        try:
            return _decode_file(source.stream, source.path or source.name, options)
        except SafetensorError as error:
            raise CheckpointError(
                f"expected a safetensors file, found a damaged one: {error}"
            ) from None

    def encode(self, checkpoint: Checkpoint, options: WriteOptions) -> bytes:
        return _encode_binary(checkpoint)

    def write(self, checkpoint: Checkpoint, path: Path, options: WriteOptions) -> None:
        _write_binary(checkpoint, path)


SAFETENSORS = SafetensorsForm()


def _decode_file(stream: BinaryIO, path: str, options: ReadOptions) -> Decoded:
    limits, optimizer = options.limits, options.optimizer
    stream.seek(0)
    size, data_start = _check_claims(stream, limits)
    with safe_open(path, framework="np") as handle:
        document = _document(handle.metadata(), limits)
        selected = _selected(document, options)
        claims, skipped = _claims(document, optimizer, selected)
        order = handle.offset_keys()
        _check_names(claims, skipped, set(order))
        whole = optimizer and selected is None
        wanted = order if whole else [claim.name for claim in claims]
        shapes = _shapes(handle, wanted, claims, skipped, limits)
    if whole:
        finite = _read_all(stream, order, shapes, claims, size, data_start)
    else:
        finite = _read_some(stream, claims, shapes, data_start, limits)
    return Decoded(document, context={FINITE_ARRAYS: finite}, layers=selected)


def _selected(document: dict[str, Any], options: ReadOptions) -> tuple[int, ...] | None:
    """The indices of the layers ``options.layers`` picks in the document's network."""
    if options.layers is None:
        return None
    network = document.get("network")
    if not isinstance(network, list):
        # the file's fault, not the caller's index; worded as the validator words it
        raise CheckpointError(f"expected an array, found {describe(network)}", path="network")
    types = [str(layer.get("type")) if isinstance(layer, dict) else "" for layer in network]
    return select_layers(types, options.layers)


def _decode_bytes(data: bytes, options: ReadOptions) -> Decoded:
    """The same from bytes in memory: the library checks them, the header is read here."""
    limits = options.limits
    if len(data) < 8:
        raise CheckpointError(f"expected a safetensors file, found {len(data)} bytes")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise CheckpointError(
            f"expected a safetensors header within the file, found a claim of {length} "
            f"bytes in a file of {len(data)}"
        )
    if length > limits.max_header_bytes:
        raise CheckpointError(
            f"expected a safetensors header of at most {limits.max_header_bytes} bytes "
            f"(Limits.max_header_bytes), found {length}{RAISE_HINT}"
        )
    header = parse(data[8 : 8 + length], limits=_header_limits(limits))
    if not isinstance(header, dict):
        raise CheckpointError(f"expected a safetensors header object, found {describe(header)}")
    metadata = header.get("__metadata__")
    document = _document(metadata if isinstance(metadata, dict) else None, limits)
    selected = _selected(document, options)
    claims, skipped = _claims(document, options.optimizer, selected)
    names = [name for name in header if name != "__metadata__"]
    _check_names(claims, skipped, set(names))
    elements = 0
    for name in names:
        entry = header[name]
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape):
            elements += math.prod(shape)
            elements += limits.max_elements if max(shape, default=0) > limits.max_elements else 0
        if elements > limits.max_elements:
            raise CheckpointError(
                f"tensor `{name}`: expected at most {limits.max_elements} numbers "
                f"in all tensors (Limits.max_elements), found more by this one{RAISE_HINT}"
            )
    try:
        tensors = safetensors.numpy.load(data)
    except SafetensorError as error:
        raise CheckpointError(
            f"expected a safetensors file, found a damaged one: {error}"
        ) from None
    where = _places(claims, skipped)
    problems = [
        Problem(
            where[name],
            f"tensor `{name}`: expected a 2-D F32 tensor, found "
            f"{array.ndim}-D {array.dtype} of shape {array.shape}",
        )
        for name, array in tensors.items()
        if name in where and (array.dtype != np.float32 or array.ndim != 2)
    ]
    _raise(problems)
    for claim in claims:
        claim.container[claim.key] = np.array(tensors[claim.name], dtype=np.float32)
    return Decoded(document, layers=selected)


def _check_claims(stream: BinaryIO, limits: Limits) -> tuple[int, int]:
    """The file size and where the data start, checked before the library reads the file."""
    size = os.fstat(stream.fileno()).st_size
    head = stream.read(8)
    if size > limits.max_file_bytes:
        raise CheckpointError(
            f"expected at most {limits.max_file_bytes} bytes (Limits.max_file_bytes), "
            f"found {size}{RAISE_HINT}"
        )
    if len(head) < 8:
        raise CheckpointError(f"expected a safetensors file, found {len(head)} bytes")
    (length,) = struct.unpack("<Q", head)
    if length > size - 8:
        raise CheckpointError(
            f"expected a safetensors header within the file, found a claim of {length} "
            f"bytes in a file of {size}"
        )
    if length > limits.max_header_bytes:
        raise CheckpointError(
            f"expected a safetensors header of at most {limits.max_header_bytes} bytes "
            f"(Limits.max_header_bytes), found {length}{RAISE_HINT}"
        )
    return size, 8 + length


def _shapes(
    handle: Any,
    names: list[str],
    claims: list[_Claim],
    skipped: dict[str, str],
    limits: Limits,
) -> dict[str, tuple[int, int]]:
    """The shapes of the tensors ``names``, each checked to be a 2-D F32 array.

    ``Limits.max_elements`` bounds the numbers of all of them and each side of each:
    checked on the sum and the largest side, and only when one is past it are the
    tensors summed in order, for the error to name the first past the bound (a
    refusal always names that one). Where a tensor goes in the document is looked up
    only for an error: a load that passes spends nothing on either.
    """
    views = map(handle.get_slice, names)
    described = [(view.get_dtype(), tuple(view.get_shape())) for view in views]
    found = [shape for _, shape in described]
    bound = limits.max_elements
    if sum(map(math.prod, found)) > bound or max(itertools.chain(*found), default=0) > bound:
        elements = 0
        for name, shape in zip(names, found, strict=True):  # the first tensor past the bound
            elements += math.prod(shape)
            if elements > bound or max(shape, default=0) > bound:
                raise CheckpointError(
                    f"tensor `{name}`: expected at most {bound} numbers in all tensors "
                    f"(Limits.max_elements), found more by this one{RAISE_HINT}",
                    path=_places(claims, skipped)[name],
                )
    shapes = {
        name: shape
        for name, (dtype, shape) in zip(names, described, strict=True)
        if dtype == "F32" and len(shape) == 2
    }
    if len(shapes) < len(names):
        where = _places(claims, skipped)
        _raise(
            [
                Problem(
                    where[name],
                    f"tensor `{name}`: expected a 2-D F32 tensor, found "
                    f"{len(shape)}-D {dtype} of shape {shape}",
                )
                for name, (dtype, shape) in zip(names, described, strict=True)
                if name not in shapes
            ]
        )
    return shapes


def _places(claims: list[_Claim], skipped: dict[str, str]) -> dict[str, str]:
    """Each tensor the document asks for, and its path in the document."""
    return {claim.name: claim.path for claim in claims} | skipped


_CHUNK_FLOATS = 1 << 16
"""Floats read at a time (256 KiB): each chunk is checked while it is still in cache."""

_KEPT_UNCHECKED = 192 * 2**20
"""Bytes of tensors a full load keeps before every value is known to be finite. The
tensors beyond are checked first, a chunk at a time in one reused buffer, and a file
this large stops reading at its first non-finite value: a refused load has not spent
the memory of its arrays (issue 15: a refused load uses at most 256 MiB)."""


def _read_all(
    stream: BinaryIO,
    order: list[str],
    shapes: dict[str, tuple[int, int]],
    claims: list[_Claim],
    size: int,
    data_start: int,
) -> frozenset[int]:
    """Read every tensor into views of one buffer, checked as it is read; ids of finite ones.

    The library has checked that the tensors, in offset order, cover the data region
    without gaps: so each tensor starts where the one before it ends.
    """
    counts = [math.prod(shapes[name]) for name in order]
    total = sum(counts)
    if data_start + 4 * total != size:
        raise CheckpointError(
            f"expected the tensors to fill the {size - data_start} bytes after the header, "
            f"found {4 * total} bytes of tensors"
        )
    kept = _KEPT_UNCHECKED // 4
    large = total > kept

    def refuse(found: int) -> NoReturn:
        where = {claim.name: claim.path for claim in claims}
        _refuse_at(stream, data_start, found, order, counts, shapes, where)

    if large:
        stream.seek(data_start + 4 * kept)
        found = _first_non_finite(stream, np.empty(_CHUNK_FLOATS, np.float32), total - kept)
        if found is not None:
            refuse(kept + found)
    buffer = np.empty(total, dtype=np.float32)
    stream.seek(data_start)
    found = _read_checked(stream, buffer, stop=large)
    if found is not None and large:
        refuse(found)
    arrays = {}
    offset = 0
    for name, count in zip(order, counts, strict=True):
        arrays[name] = buffer[offset : offset + count].reshape(shapes[name])
        offset += count
    for claim in claims:
        claim.container[claim.key] = arrays[claim.name]
    if found is not None:
        return frozenset()  # the validator names the first array holding one
    return frozenset(map(id, arrays.values()))


def _read_checked(stream: BinaryIO, buffer: np.ndarray, *, stop: bool) -> int | None:
    """Fill ``buffer`` (1-D) from the stream a chunk at a time, each checked as it comes;
    the index of the first non-finite value, or None. With ``stop``, the reading
    stops there.

    Checking each chunk right after its read costs a pass over cache, not over memory.
    """
    raw = buffer.data.cast("B")
    found = None
    for begin in range(0, buffer.size, _CHUNK_FLOATS):
        end = min(begin + _CHUNK_FLOATS, buffer.size)
        _read_exactly(stream, raw[4 * begin : 4 * end], expected=raw.nbytes, done=4 * begin)
        if found is None and not all_finite(buffer[begin:end]):
            found = begin + _first_bad(buffer[begin:end])
            if stop:
                break
    return found


def _first_non_finite(stream: BinaryIO, scratch: np.ndarray, count: int) -> int | None:
    """Read ``count`` floats from the stream into ``scratch``, a chunk at a time, keeping
    none; the index of the first that is not finite, or None."""
    raw = scratch.data.cast("B")
    for begin in range(0, count, scratch.size):
        size = min(scratch.size, count - begin)
        _read_exactly(stream, raw[: 4 * size], expected=4 * count, done=4 * begin)
        if not all_finite(scratch[:size]):
            return begin + _first_bad(scratch[:size])
    return None


def _first_bad(values: np.ndarray) -> int:
    return int(np.flatnonzero(~np.isfinite(values))[0])


def _refuse_at(
    stream: BinaryIO,
    data_start: int,
    found: int,
    order: list[str],
    counts: list[int],
    shapes: dict[str, tuple[int, int]],
    where: dict[str, str],
) -> NoReturn:
    """Refuse the file for the non-finite float at index ``found`` of the data region.

    The tensor holding it is checked by the validator itself, given only its rows up to
    the first one at fault (those before it as zeros, which take no memory until
    touched), so the error is the one a full read would give for that tensor.
    """
    starts = np.cumsum([0, *counts])
    index = int(np.searchsorted(starts, found, side="right")) - 1
    name, cols = order[index], shapes[order[index]][1]
    tensor_start = int(starts[index])
    stream.seek(data_start + 4 * tensor_start)
    scratch = np.empty(_CHUNK_FLOATS, np.float32)
    first = _first_non_finite(stream, scratch, found - tensor_start + 1)
    row = (found - tensor_start if first is None else first) // cols
    values = np.zeros((row + 1, cols), dtype=np.float32)
    stream.seek(data_start + 4 * (tensor_start + row * cols))
    _read_exactly(stream, values[row].data.cast("B"))
    try:
        _float32_arrays().validate_python(values)
    except ValidationError as error:
        problem = problems_of(error)[0]
        raise CheckpointError(problem.message, path=where[name]) from None
    raise AssertionError("a row holding a non-finite value passed the validator")


@functools.cache
def _float32_arrays() -> TypeAdapter[np.ndarray]:
    """The validator of one array, for a value refused before the document is validated."""
    return TypeAdapter(Float32Array)


def _read_some(
    stream: BinaryIO,
    claims: list[_Claim],
    shapes: dict[str, tuple[int, int]],
    data_start: int,
    limits: Limits,
) -> frozenset[int]:
    """Read only the claimed tensors, each at its offset; ids of the finite ones.

    The other tensors' bytes are not read (a weights-only or partial load). The
    offsets are the header's, which the library has checked (in bounds, no overlaps,
    each the size its shape and dtype say).
    """
    stream.seek(8)
    header = parse(stream.read(data_start - 8), limits=_header_limits(limits))
    finite = set()
    for claim in claims:
        begin = header[claim.name]["data_offsets"][0]
        array = np.empty(shapes[claim.name], dtype=np.float32)
        stream.seek(data_start + begin)
        _read_exactly(stream, array.data.cast("B"))
        claim.container[claim.key] = array
        if all_finite(array):
            finite.add(id(array))
    return frozenset(finite)


def _read_exactly(
    stream: Any, target: memoryview, *, expected: int | None = None, done: int = 0
) -> None:
    """Fill ``target``; ``expected`` and ``done``: the bytes of the whole read and before it."""
    filled = 0
    while filled < len(target):
        count = stream.readinto(target[filled:])
        if not count:
            expected = len(target) if expected is None else expected
            raise CheckpointError(
                f"expected {expected} bytes of tensors, found {done + filled}: the file got "
                "shorter while it was read"
            )
        filled += count


def _header_limits(limits: Limits) -> Limits:
    """``limits`` for the safetensors header itself: its metadata document is one JSON
    string, bounded by ``max_header_bytes`` with the header, not by ``max_string_chars``
    (a vocabulary of some 9,000 words passes 65,536 characters); the document's own
    strings are held to ``max_string_chars`` when it is parsed (:func:`_document`)."""
    return replace(limits, max_string_chars=max(limits.max_string_chars, limits.max_header_bytes))


def _document(metadata: dict[str, str] | None, limits: Limits) -> dict[str, Any]:
    """The document in ``__metadata__``, arrays still missing, read within ``limits``."""
    metadata = metadata or {}
    if METADATA_DOCUMENT not in metadata:
        raise CheckpointError(
            f"expected a RustGPT checkpoint as JSON under the key {METADATA_DOCUMENT!r}, "
            f"found {'keys ' + ', '.join(map(repr, metadata)) if metadata else 'none'}",
            path="__metadata__",
        )
    try:
        rest = parse(metadata[METADATA_DOCUMENT], limits=limits)
    except CheckpointError as error:
        raise CheckpointError(
            error.message, path=join_path(f"__metadata__.{METADATA_DOCUMENT}", error.path)
        ) from None
    if not isinstance(rest, dict):
        raise CheckpointError(
            f"expected a JSON object, found {describe(rest)}",
            path=f"__metadata__.{METADATA_DOCUMENT}",
        )
    if rest.get("format") != FORMAT:
        found = describe(rest["format"]) if "format" in rest else "no format key"
        raise CheckpointError(
            f"expected a RustGPT checkpoint (format {FORMAT!r}), found {found}",
            path=f"__metadata__.{METADATA_DOCUMENT}.format",
        )
    return rest


def _claims(
    document: dict[str, Any], optimizer: bool, selected: tuple[int, ...] | None = None
) -> tuple[list[_Claim], dict[str, str]]:
    """Tensors to read, and tensors that must exist but are left unread.

    Left unread: the optimizer moments when ``optimizer`` is false (the optimizers
    become ``null``), and every tensor of a layer not in ``selected`` (None: all).
    """
    claims: list[_Claim] = []
    skipped: dict[str, str] = {}
    problems: list[Problem] = []
    network = document.get("network")
    for index, layer in enumerate(network if isinstance(network, list) else []):
        tag = layer.get("type") if isinstance(layer, dict) else None
        kind = LAYER_KINDS.get(tag) if isinstance(tag, str) else None
        if kind is None or not isinstance(layer, dict):
            continue  # the validator names what is wrong with the layer
        wanted = selected is None or index in selected
        for field in kind.SHAPES:
            name = tensor_name(index, field)
            if wanted:
                claims.append(_Claim(name, layer, field))
            else:
                skipped[name] = _path_of(name)
        for field in kind.OPTIMIZERS:
            state = layer.get(field)
            if not isinstance(state, dict):
                continue
            for moment in _MOMENTS:
                name = tensor_name(index, field, moment)
                if optimizer and wanted:
                    claims.append(_Claim(name, state, moment))
                else:
                    skipped[name] = _path_of(name)
            if not optimizer:
                layer[field] = None
    for claim in claims:
        if claim.key in claim.container:
            problems.append(
                Problem(
                    claim.path,
                    f"expected the array only as tensor `{claim.name}`, "
                    "found it in __metadata__ too",
                )
            )
    _raise(problems)
    return claims, skipped


def _check_names(claims: list[_Claim], skipped: dict[str, str], names: set[str]) -> None:
    wanted = {claim.name for claim in claims}.union(skipped)
    if wanted == names:
        return
    problems = [
        Problem(where, f"tensor `{name}` not found in the file")
        for name, where in _places(claims, skipped).items()
        if name not in names
    ]
    problems += [
        Problem(
            "", f"unexpected tensor `{name}`: the checkpoint in __metadata__ has no place for it"
        )
        for name in sorted(names - wanted)
    ]
    _raise(problems)


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise CheckpointError(problems[0].message, path=problems[0].path, problems=problems)
