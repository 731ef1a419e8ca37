"""Every reader step is linear in its input, and memory is checked before it is spent.

Scaling: each hostile construction is read at n and at 8n; a linear step takes about
8 times as long, a quadratic one 64 times. n is chosen so that the quadratic readers
this replaced took seconds at 8n (issue 15), while the linear ones take milliseconds;
the test fails at 20x, leaving room for noise. Each timing is the best of 3 runs on
this machine, of batches of calls of equal length at both sizes, timed in turns; a
ratio past the bound is measured once more before the test fails.

Memory: tracemalloc's peak while a step runs, against what it must hold.
"""

from __future__ import annotations

import gc
import gzip
import io
import math
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pytest
import safetensors.numpy

import rustgpt_format as rf
from rustgpt_format import codec, compression, json_scan
from rustgpt_format.cli import run
from rustgpt_format.examples import tiny_checkpoint

RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"


def escaped_quotes(count: int) -> bytes:
    """An unterminated string of escaped quotes: a string pattern that needs its closing
    quote rescans the rest from every quote (10/20/40 KB took 0.6/2.4/9.6 s)."""
    return b'{"a":"' + b'\\"' * count


def data_keys(count: int) -> bytes:
    """Array keys with no numbers after them: a search for each one's "]" read to the end
    (80/160/320 KB took 0.4/1.6/6.4 s)."""
    return b'{"a":' + b'"data":[' * count + b"]}"


def gzip_members(count: int) -> bytes:
    """Empty gzip members: handing zlib "the rest" copied it at each member
    (0.5/1/2 MB took 0.5/1.9/7.1 s)."""
    return gzip.compress(b"", mtime=0) * count


def outcome(action: Callable[[], object]) -> str:
    """How ``action`` ended: "read" or the CheckpointError's message (nothing else may escape)."""
    try:
        action()
    except rf.CheckpointError as error:
        return error.message
    return "read"


def batch(action: Callable[[], object], number: int) -> float:
    """Seconds taken by ``number`` calls of ``action`` (the collector paused: its passes
    come at moments unrelated to the step measured)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            outcome(action)
        return time.perf_counter() - start
    finally:
        gc.enable()


def assert_linear(make: Callable[[int], Callable[[], object]], n: int) -> None:
    """``make(size)`` gives the action reading the construction of that size.

    The two sizes are timed in turns, best of 3 each, in batches of equal length (8
    calls at n for each call at 8n), so that the other work of a busy machine cuts
    into both alike; a ratio past the bound is measured once more before it fails (a
    quadratic step is past it every time).
    """
    small, large = make(n), make(8 * n)
    assert outcome(small) != "read" or outcome(large) == "read"
    number = max(1, math.ceil(0.003 / max(batch(small, 1), 1e-9)))  # 3 ms or more at n
    for _ in range(2):
        at_n = at_8n = math.inf
        for _ in range(3):
            at_n = min(at_n, batch(small, 8 * number) / 8)
            at_8n = min(at_8n, batch(large, number))
        if at_8n < 20 * at_n:
            return
    raise AssertionError(
        f"{at_n / number * 1000:.2f} ms at n, {at_8n / number * 1000:.2f} ms at 8n: "
        f"{at_8n / at_n:.0f}x (a linear step takes about 8x)"
    )


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def metadata_file(folder: Path, name: str, text: bytes) -> Path:
    """A safetensors file whose checkpoint document (``__metadata__``) is ``text``."""
    path = folder / name
    tensors = {"network.0.token_embeddings": np.zeros((3, 4), np.float32)}
    safetensors.numpy.save_file(tensors, str(path), metadata={"checkpoint": text.decode()})
    return path


def command(argv: list[str]) -> int:
    return run(argv, io.StringIO(), io.StringIO())


# step -> how it reads a JSON text, given a folder for the files it needs
TextStep = Callable[[Path, str, bytes], Callable[[], object]]
TEXT_STEPS: dict[str, TextStep] = {
    "codec.parse": lambda folder, name, text: lambda: codec.parse(text),
    "json_scan.without_strings": lambda folder, name, text: lambda: json_scan.without_strings(text),
    "json_scan.path_at offset": lambda folder, name, text: (
        lambda: json_scan.path_at(text, offset=len(text))
    ),
    "json_scan.path_at depth": lambda folder, name, text: (
        lambda: json_scan.path_at(
            text,
            depth=len(text),  # never reached: the whole text is walked
        )
    ),
    "json_scan.duplicate_key": lambda folder, name, text: lambda: json_scan.duplicate_key(text),
    "load .json": lambda folder, name, text: (lambda path: lambda: rf.load(path))(
        write(folder, f"{name}.json", text)
    ),
    "load .json.gz": lambda folder, name, text: (lambda path: lambda: rf.load(path))(
        write(folder, f"{name}.json.gz", gzip.compress(text, mtime=0))
    ),
    "load .safetensors metadata": lambda folder, name, text: (lambda path: lambda: rf.load(path))(
        metadata_file(folder, f"{name}.safetensors", text)
    ),
    "inspect": lambda folder, name, text: (lambda path: lambda: command(["inspect", str(path)]))(
        write(folder, f"{name}-inspect.json", text)
    ),
    "validate": lambda folder, name, text: (lambda path: lambda: command(["validate", str(path)]))(
        write(folder, f"{name}-validate.json", text)
    ),
}

TEXT_FAMILIES: dict[str, tuple[Callable[[int], bytes], int]] = {
    "escaped quotes": (escaped_quotes, 2_500),  # 5 KB; the quadratic reader took 5 s at 8n
    "data keys": (data_keys, 4_000),  # 32 KB; the quadratic reader took some 4 s at 8n
}


@pytest.mark.parametrize("step", sorted(TEXT_STEPS))
@pytest.mark.parametrize("family", sorted(TEXT_FAMILIES))
def test_each_reader_step_is_linear_in_each_hostile_text(
    family: str, step: str, tmp_path: Path
) -> None:
    construct, n = TEXT_FAMILIES[family]
    assert_linear(lambda size: TEXT_STEPS[step](tmp_path, str(size), construct(size)), n)


@pytest.mark.parametrize(
    "step",
    [
        lambda folder, data: lambda: compression.inflate(data),
        lambda folder, data: (lambda path: lambda: rf.load(path))(
            write(folder, f"{len(data)}.json.gz", data)
        ),
    ],
    ids=["compression.inflate", "load .json.gz"],
)
def test_many_gzip_members_are_inflated_in_linear_time(
    step: Callable[[Path, bytes], Callable[[], object]], tmp_path: Path
) -> None:
    assert_linear(lambda size: step(tmp_path, gzip_members(size)), 4_000)  # 80 KB


def test_the_hostile_texts_are_refused_as_invalid_json() -> None:
    """What the scaling tests time is a refusal with the parser's message, not a crash."""
    for text, message in [
        (escaped_quotes(3), "unexpected end of data: line 1 column 13 (char 12)"),
        # the last key's "[]" was read as an array: the place is still the file's
        (data_keys(3), "unexpected character, expected ',' or '}': line 1 column 12 (char 11)"),
    ]:
        assert outcome(lambda text=text: codec.parse(text)) == (
            f"expected a JSON document, found invalid JSON: {message}"
        )
    assert compression.inflate(gzip_members(1000)) == b""


# --- memory -----------------------------------------------------------------------------


def peak(action: Callable[[], object]) -> tuple[int, str]:
    """tracemalloc's peak (bytes) while ``action`` runs, and how it ended."""
    gc.collect()
    tracemalloc.start()
    try:
        ended = outcome(action)
        return tracemalloc.get_traced_memory()[1], ended
    finally:
        tracemalloc.stop()


def one_array(numbers: bytes) -> bytes:
    """The tiny checkpoint whose first array holds ``numbers`` (JSON text, no brackets)."""
    text = codec.encode(tiny_checkpoint())
    start = text.index(b'"data":[') + len(b'"data":[')
    return text[:start] + numbers + text[text.index(b"]", start) :]


def test_an_array_past_max_elements_is_counted_before_it_is_decoded() -> None:
    """Two million numbers at a bound of 1,000: refused holding less than half the text.

    Decoding first held the array as float32 (8 MB) and a copy of its text (4 MB).
    """
    text = one_array(b"0," * 1_999_999 + b"0")
    limits = rf.Limits(max_elements=1000)
    used, ended = peak(lambda: codec.parse(text, limits=limits))
    assert ended == (
        "expected at most 1000 numbers in all arrays (Limits.max_elements), "
        f"found more by this array{RAISE}"
    )
    assert used < len(text) // 2


def test_an_array_whose_dim_disagrees_with_its_count_is_not_decoded(tmp_path: Path) -> None:
    """Two million numbers under ``dim`` [3, 4]: the validator refuses the array for its
    size alone, so reading it holds no float32 array (decoding it held 8 MB)."""
    text = one_array(b"0.5," * 1_999_999 + b"0.5")
    used, ended = peak(lambda: codec.parse(text))
    assert ended == "read"
    assert used < len(text) // 4
    path = write(tmp_path, "claims.json", text)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(path)
    assert (caught.value.path, caught.value.message) == (
        "network[0].token_embeddings.data",
        "expected 12 numbers (dim 3x4), found 2000000",
    )


def test_reading_a_large_array_holds_the_array_and_a_chunk_not_a_copy_of_its_text() -> None:
    """500,000 numbers, one per indented line: 32 MB of text for a 2 MB float32 array.

    Reading the array from a copy of its text held those 32 MB again.
    """
    values = np.random.default_rng(0).standard_normal(500_000).astype(np.float32)
    numbers = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
    text = one_array(numbers.replace(b",", b",\n" + b" " * 50))
    used, ended = peak(lambda: codec.parse(text))
    assert ended == "read"
    assert used < values.nbytes + 8 * 2**20 < len(text) // 2


def test_inflating_holds_the_inflated_bytes_once() -> None:
    """32 MiB inflated: one buffer of 32 MiB and a chunk, not the chunks and their join."""
    inflated = 32 * 2**20
    data = gzip.compress(b"0" * inflated, compresslevel=1, mtime=0)
    used, ended = peak(lambda: compression.inflate(data))
    assert ended == "read"
    assert used < inflated + 4 * 2**20
