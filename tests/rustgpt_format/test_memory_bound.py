"""Issue 15's memory target, measured as the kernel sees it.

"No input, valid or not, makes a load use more than the arrays it returns plus 256 MiB,
or, when it is refused, more than 256 MiB in all." Each case loads a file in a fresh
process and reads the peak resident memory (VmHWM, reset through /proc/self/clear_refs
just before the load, after a warm-up load) above the resident memory before it.

The bound comes from a few sizes, each a constant or a Limits field:

- ``buffers.MAPPED_FROM`` (64 MiB): a smaller file is read whole, a larger one mapped
  and its pages given back as each pass goes;
- ``codec._SCANNED`` (16 MiB): the text one regular-expression call scans before its
  pages are given back;
- ``buffers.CHECKED_FIRST`` (128 MiB): arrays that would take more than this as float32
  are all checked (and the document validated with stand-ins) before any is kept, so a
  refusal never holds more of them; the JSON reader (``codec``) counts it on the arrays,
  RustGPT's ``.bin`` reader (``bincode.reading``) on the file;
- ``Limits.max_header_bytes`` (16 MiB) and ``Limits.max_header_values`` (2^20): the text
  outside the arrays, a few copies of it, and the Python objects parsed from it.

With the defaults these add up to under 256 MiB (``scripts/hardening_report.py`` loads
1 GiB files to show it). The default suite shrinks every one of them by 16 or more
(1 MiB, 1 MiB, 4 MiB, 4 MiB, 1 MiB and 2^14) and loads files of 64 MiB: the same code paths,
with a bound of 16 MiB (plus what a Python process allocates anyway) where reading
the file whole, decoding before checking or parsing the skeleton unchecked costs
the file's size or more.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format import bincode, buffers, codec
from rustgpt_format.bincode import reading as bincode_reading
from rustgpt_format.dialect import rustgpt_document
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.forms.base import RefusedEarlyError
from tests.rustgpt_format.bincode.handmade import varint_bytes

MiB = 2**20

SCALED = {
    "rustgpt_format.buffers.MAPPED_FROM": MiB,
    "rustgpt_format.codec._SCANNED": MiB,
    "rustgpt_format.codec.CHECKED_FIRST": 4 * MiB,
    "rustgpt_format.bincode.reading.CHECKED_FIRST": 4 * MiB,
}
"""The constants of the bound, shrunk for files of tens of MiB (see the module's text)."""

SCALED_LIMITS = {"max_header_bytes": MiB, "max_header_values": 2**14}

PROBE = """
import importlib, json, sys, tempfile, time, warnings
from pathlib import Path
import rustgpt_format as rf
from rustgpt_format import codec, compression
from rustgpt_format.examples import tiny_checkpoint
warnings.simplefilter("ignore")

def status(key):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))

path, step, limits, scaled = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
for name, value in scaled.items():
    module, attribute = name.rsplit(".", 1)
    setattr(importlib.import_module(module), attribute, value)
limits = rf.Limits(**limits)
with tempfile.TemporaryDirectory() as folder:
    warm = Path(folder) / "warm.json"
    rf.save(tiny_checkpoint(), warm)
    rf.load(warm)  # lazy imports and first-use caches are not the load's
data = open(path, "rb").read() if step == "parse" else b""
with open("/proc/self/clear_refs", "w") as stream:
    stream.write("5")  # the high-water mark starts again from the current size
before = status("VmRSS:")
start = time.perf_counter()
arrays = 0
try:
    if step == "parse":  # the file's bytes are in memory: what the JSON reader adds
        codec.parse(compression.inflate(data) if compression.is_gzip(data) else data, limits=limits)
        outcome = "read"
    elif step == "claims":  # what validate --skip-non-checkpoints asks of a broken file
        from rustgpt_format.commands.claims import claims_checkpoint
        from rustgpt_format.forms import Source
        with open(path, "rb") as stream:
            claims = claims_checkpoint(Source.of_file(stream, path), limits)
        outcome = "claims" if claims else "does not claim"
    else:
        if step == "inspect":  # what rustgpt-format inspect computes, the digest included
            from rustgpt_format.commands.inspect import summary
            loaded = rf.reading.read(path, limits=limits)
            summary(loaded, path)
            checkpoint = loaded.checkpoint
        else:
            checkpoint = rf.load(path, limits=limits)
        arrays = sum(
            a.nbytes for layer in checkpoint.network for a in layer.parameters().values()
        ) + sum(
            s.m.nbytes + s.v.nbytes
            for layer in checkpoint.network
            for s in layer.optimizers().values()
            if s is not None
        )
        outcome = "read"
except rf.CheckpointError as error:
    outcome = "refused: " + (error.path + ": " if error.path else "") + error.message
print(json.dumps([status("VmHWM:") - before, time.perf_counter() - start, arrays, outcome]))
"""


@dataclass(frozen=True)
class Peak:
    """A load in a fresh process: peak resident bytes above the start, seconds, the bytes
    of the arrays it returned, and "read" or "refused: path: message"."""

    used: int
    seconds: float
    arrays: int
    outcome: str


def resident_peak(
    path: Path,
    *,
    step: str = "load",
    limits: dict[str, int] | None = None,
    scaled: dict[str, int] | None = None,
) -> Peak:
    """Load ``path`` (``step`` "load"; or "parse": the JSON reader given the file's bytes
    already read; "claims": whether it claims to be a checkpoint; "inspect": what
    ``inspect`` shows) in a fresh process with ``Limits(**limits)`` and the module constants
    ``scaled`` set; its peak resident memory above the start."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(path),
            step,
            json.dumps(limits or {}),
            json.dumps(scaled or {}),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used, seconds, arrays, outcome = json.loads(done.stdout)
    return Peak(used, seconds, arrays, outcome)


# --- the hostile files, written a block at a time ----------------------------------------


def numbers_file(
    path: Path,
    count: int,
    number: bytes = b"0.25",
    *,
    last: bytes | None = None,
    dim: tuple[int, int] | None = None,
    tail: bytes = b"",
) -> Path:
    """The tiny checkpoint whose first array (token_embeddings, dim [3, 4]) holds
    ``count`` numbers: ``number`` repeated, then ``last`` (default ``number``); its
    ``dim`` replaced by ``dim``; ``tail`` after the document."""
    text = codec.encode(tiny_checkpoint())
    if dim is not None:
        text = text.replace(b'"dim":[3,4]', b'"dim":[%d,%d]' % dim, 1)
    start = text.index(b'"data":[') + len(b'"data":[')
    end = text.index(b"]", start)
    block = (number + b",") * (1 << 16)
    with path.open("wb") as stream:
        stream.write(text[:start])
        left = count - 1
        while left >= 1 << 16:
            stream.write(block)
            left -= 1 << 16
        stream.write((number + b",") * left + (number if last is None else last))
        stream.write(text[end:] + tail)
    return path


def bin_file(path: Path, count: int, *, last: float = 0.25, tail: bytes = b"") -> Path:
    """The tiny checkpoint as RustGPT's ``.bin`` whose first array (token_embeddings)
    holds ``count`` float32 (a multiple of 4: dim [count / 4, 4], against a vocab of 3
    words), 0.25 repeated, then ``last``; ``tail`` after the last layer."""
    document = rustgpt_document(tiny_checkpoint())
    embeddings = document["network"][0]["Embeddings"]["token_embeddings"]
    data = bincode.encode(document)
    array = b"\x01\x03\x04\x0c" + embeddings["data"].astype("<f4").tobytes()
    start = data.index(array)
    block = np.full(1 << 20, 0.25, "<f4").tobytes()
    with path.open("wb") as stream:
        stream.write(data[:start] + b"\x01" + varint_bytes(count // 4) + b"\x04")
        stream.write(varint_bytes(count))
        left = count - 1
        while left >= 1 << 20:
            stream.write(block)
            left -= 1 << 20
        stream.write(block[: 4 * left] + np.array([last], "<f4").tobytes())
        stream.write(data[start + len(array) :] + tail)
    return path


def gzipped(source: Path, target: Path) -> Path:
    with source.open("rb") as inp, gzip.open(target, "wb", compresslevel=1) as out:
        while block := inp.read(1 << 24):
            out.write(block)
    return target


def empty_objects(path: Path, size: int) -> Path:
    """A document of ``size`` bytes: an array of ``{}`` (no numeric arrays at all)."""
    count = (size - 2) // 3
    with path.open("wb") as stream:
        stream.write(b"[{}")
        for _ in range(count // (1 << 16)):
            stream.write(b",{}" * (1 << 16))
        stream.write(b",{}" * (count % (1 << 16)) + b"]")
    return path


def hostile_files(folder: Path, size: int) -> dict[str, tuple[Path, str]]:
    """The hostile cases, each file at most ``size`` bytes, and the start of what refuses
    them."""
    room = size - 16_384  # the tiny checkpoint around the array
    floats = room // 5 // 4 * 4  # "0.25," is 5 bytes; a multiple of 4 fits dim [n/4, 4]
    files = {
        "an array past max_elements": (
            numbers_file(folder / "many.json", room // 2, b"0"),
            "refused: network[0].token_embeddings.data: expected at most",
        ),
        "an array with a syntax error after its numbers": (
            numbers_file(folder / "syntax.json", floats, tail=b"x"),
            "refused: expected a JSON document, found invalid JSON: unexpected content after",
        ),
        "an array whose dim disagrees with its numbers": (
            numbers_file(folder / "count.json", floats),
            "refused: network[0].token_embeddings.data: expected 12 numbers",
        ),
        "an array whose dim agrees, against config.vocab_size": (
            numbers_file(folder / "config.json", floats, dim=(floats // 4, 4)),
            "refused: network[0].token_optimizer.m: expected shape (",
        ),
        "an array whose dim agrees, its last number 1e39": (
            numbers_file(folder / "last.json", floats, last=b"1e39", dim=(floats // 4, 4)),
            "refused: network[0].token_embeddings.data[",
        ),
    }
    words = room // 4 // 4 * 4
    files |= {
        "a .bin whose array agrees with its dim, against the vocab": (
            bin_file(folder / "vocab.bin", words),
            "refused: network[0].Embeddings.token_optimizer.m: expected shape (",
        ),
        "a .bin whose last number is NaN": (
            bin_file(folder / "nan.bin", words, last=float("nan")),
            "refused: network[0].Embeddings.token_embeddings.data[",
        ),
        "a .bin with a byte after its last layer": (
            bin_file(folder / "tail.bin", words, tail=b"\0"),
            "refused: expected the end of the file after the last layer, found 1 more byte",
        ),
    }
    files["an array past max_elements, gzipped"] = (
        gzipped(files["an array past max_elements"][0], folder / "many.json.gz"),
        files["an array past max_elements"][1],
    )
    return files


SIZE = 64 * MiB
BOUND = 16 * MiB


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return hostile_files(tmp_path_factory.mktemp("hostile"), SIZE)


@pytest.mark.parametrize(
    "case",
    [
        "an array past max_elements",
        "an array past max_elements, gzipped",
        "an array with a syntax error after its numbers",
        "an array whose dim disagrees with its numbers",
        "an array whose dim agrees, against config.vocab_size",
        "an array whose dim agrees, its last number 1e39",
        "a .bin whose array agrees with its dim, against the vocab",
        "a .bin whose last number is NaN",
        "a .bin with a byte after its last layer",
    ],
)
def test_a_refused_load_stays_under_the_bound(
    case: str, hostile: dict[str, tuple[Path, str]]
) -> None:
    path, refusal = hostile[case]
    limits = {**SCALED_LIMITS, "max_elements": SIZE // 4}
    peak = resident_peak(path, limits=limits, scaled=SCALED)
    assert peak.outcome.startswith(refusal)
    assert peak.used < BOUND, f"{peak.used / MiB:.1f} MiB for a {path.stat().st_size / MiB:.0f} MiB file"


@pytest.mark.parametrize(
    "case", ["an array whose dim disagrees with its numbers", "an array past max_elements, gzipped"]
)
def test_asking_whether_a_broken_file_claims_to_be_a_checkpoint_stays_under_the_bound(
    case: str, hostile: dict[str, tuple[Path, str]]
) -> None:
    """``validate --skip-non-checkpoints`` asks it of each file found broken: JSON is
    parsed by the reader's parser from the map (not read again whole, its numbers not
    built as Python floats), gzip inflated from a prefix."""
    path, _ = hostile[case]
    peak = resident_peak(path, step="claims", limits=SCALED_LIMITS, scaled=SCALED)
    assert peak.outcome == "claims"
    assert peak.used < BOUND, f"{peak.used / MiB:.1f} MiB"


def test_the_objects_of_the_json_outside_the_arrays_are_counted_before_they_are_built(
    tmp_path: Path,
) -> None:
    """16 MiB of ``{}`` (5.6 M empty objects), within the default max_header_bytes: parsed,
    some 380 MiB of dicts; counted first, refused holding the text and its copies."""
    path = empty_objects(tmp_path / "objects.json", 16 * MiB - 1024)
    peak = resident_peak(path)
    assert peak.outcome.startswith(
        "refused: expected at most 1048576 values and keys in the JSON outside the numeric "
        "data arrays (Limits.max_header_values), found 11184129"
    )
    assert peak.used < 4 * 16 * MiB, f"{peak.used / MiB:.1f} MiB"


@pytest.mark.parametrize(
    ("suffix", "d", "h", "step"),
    [(".json", 128, 512, "load"), (".bin", 256, 1024, "load"), (".json", 128, 512, "inspect")],
)
def test_a_valid_large_load_holds_its_arrays_and_the_bound(
    suffix: str, d: int, h: int, step: str, tmp_path: Path
) -> None:
    """A valid checkpoint of 40 MiB of JSON (9.7 M float32, 37 MiB), or of 47 MiB as
    RustGPT's .bin (its file is its arrays: larger than the bound): mapped, checked first
    (past the scaled 4 MiB), read. The peak is its arrays and the bound; ``inspect``
    too, its digest of the canonical JSON hashed a chunk at a time."""
    checkpoint = rf.examples.random_checkpoint(
        vocab_size=2000, embedding_dim=d, hidden_dim=h, middle=rf.examples.BLOCK * 4
    )
    path = tmp_path / f"valid{suffix}"
    rf.save(checkpoint, path)
    peak = resident_peak(path, step=step, limits=SCALED_LIMITS, scaled=SCALED)
    assert peak.outcome == "read"
    assert peak.arrays > 8 * MiB
    assert peak.used < peak.arrays + BOUND, (
        f"{(peak.used - peak.arrays) / MiB:.1f} MiB above {peak.arrays / MiB:.0f} MiB of arrays"
    )


def test_what_the_early_refusals_say_is_what_reading_whole_says(
    hostile: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before decoding gives the validator's own problems: the same as when the
    arrays are decoded first (a checked-first threshold no file reaches)."""
    limits = rf.Limits(**{**SCALED_LIMITS, "max_elements": SIZE // 4})
    outcomes: dict[str, list[Any]] = {}
    for threshold in (4 * MiB, 2**62):
        monkeypatch.setattr(codec, "CHECKED_FIRST", threshold)
        for case in (
            "an array whose dim agrees, against config.vocab_size",
            "an array whose dim agrees, its last number 1e39",
        ):
            with pytest.raises(rf.CheckpointError) as caught:
                rf.load(hostile[case][0], limits=limits)
            outcomes.setdefault(case, []).append(caught.value.problems)
    for case, (early, late) in outcomes.items():
        assert early == late, case


@pytest.mark.filterwarnings("ignore::rustgpt_format.FormatWarning")
def test_what_the_early_refusals_of_a_bin_say_is_what_reading_whole_says(
    hostile: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large .bin's first pass (stand-ins, then the validator) refuses with the
    problems that copying every array first gives."""
    limits = rf.Limits(**{**SCALED_LIMITS, "max_elements": SIZE // 4})
    outcomes: dict[str, list[Any]] = {}
    for threshold in (4 * MiB, 2**62):
        monkeypatch.setattr(bincode_reading, "CHECKED_FIRST", threshold)
        for case in (
            "a .bin whose array agrees with its dim, against the vocab",
            "a .bin whose last number is NaN",
            "a .bin with a byte after its last layer",
        ):
            with pytest.raises(rf.CheckpointError) as caught:
                rf.load(hostile[case][0], limits=limits)
            outcomes.setdefault(case, []).append(caught.value.problems)
    for case, (early, late) in outcomes.items():
        assert early == late, case


@pytest.mark.parametrize(
    "case",
    [
        "an array whose dim agrees, against config.vocab_size",
        "a .bin whose array agrees with its dim, against the vocab",
    ],
)
def test_validate_reports_an_early_refusal_as_reading_whole_does(
    case: str, hostile: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validator's refusal made with stand-ins, before the arrays are decoded, is the
    reader's (schema first, then ``reader, ...``), not the form's (``json``)."""
    limits = rf.Limits(**{**SCALED_LIMITS, "max_elements": SIZE // 4})
    found = []
    for threshold in (4 * MiB, 2**62):
        monkeypatch.setattr(codec, "CHECKED_FIRST", threshold)
        monkeypatch.setattr(bincode_reading, "CHECKED_FIRST", threshold)
        found.append(rf.validate(hostile[case][0], limits=limits))
    early, whole = found
    assert early == whole
    assert early[0].rule.startswith("reader")


@pytest.mark.filterwarnings("ignore::rustgpt_format.FormatWarning")
@pytest.mark.parametrize(
    ("case", "module"),
    [
        ("an array whose dim agrees, against config.vocab_size", codec),
        ("a .bin whose array agrees with its dim, against the vocab", bincode_reading),
    ],
)
def test_past_the_threshold_the_validator_refuses_before_any_array_is_decoded(
    case: str, module: Any, hostile: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same problems either way (above), but past the threshold they come from the
    form's early check, with stand-ins (RefusedEarlyError), not after decoding."""
    limits = rf.Limits(**{**SCALED_LIMITS, "max_elements": SIZE // 4})
    for threshold, early in ((4 * MiB, True), (2**62, False)):
        monkeypatch.setattr(module, "CHECKED_FIRST", threshold)
        with pytest.raises(rf.CheckpointError) as caught:
            rf.load(hostile[case][0], limits=limits)
        assert isinstance(caught.value, RefusedEarlyError) is early, threshold


def test_validate_asks_the_schema_about_an_early_refused_json_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large JSON document refused early is shown to the schema too, as one read whole
    is: a metadata value that is not a string is the schema's problem first."""
    checkpoint = rf.examples.random_checkpoint(vocab_size=600, embedding_dim=128)
    text = rf.dumps(checkpoint).replace(b'"format":', b'"metadata":{"epochs":3},"format":', 1)
    path = tmp_path / "large.json"
    path.write_bytes(text)
    found = []
    for threshold in (1000, 2**62):
        monkeypatch.setattr(codec, "CHECKED_FIRST", threshold)
        found.append(rf.validate(path))
    early, whole = found
    assert early == whole
    assert early[0].rule.startswith("schema")


def test_a_large_bin_reads_as_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read twice (stand-ins first, then copies) it is, to the bit, what one pass reads;
    the check is given the stand-ins, which take no memory."""
    checkpoint = rf.examples.random_checkpoint(vocab_size=600, embedding_dim=128)
    data = bincode.encode(rustgpt_document(checkpoint))
    one_pass = bincode.decode(data, check=_no_check_expected)
    seen: list[Any] = []
    monkeypatch.setattr(bincode_reading, "CHECKED_FIRST", 1000)
    checked_first = bincode.decode(data, check=seen.append)
    assert bincode.encode(checked_first) == bincode.encode(one_pass) == data
    embeddings = seen[0]["network"][0]["Embeddings"]["token_embeddings"]["data"]
    assert embeddings.size == 600 * 128 and embeddings.strides == (0,)


def _no_check_expected(document: object) -> None:
    raise AssertionError("a .bin under the threshold is read in one pass, unchecked")


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "an array past max_elements",
        "an array past max_elements, gzipped",
        "a .bin whose array agrees with its dim, against the vocab",
    ],
)
def test_a_refused_gigabyte_stays_under_256_mib_with_the_defaults(
    case: str, tmp_path: Path
) -> None:
    """Issue 15's own examples at its size, with nothing scaled."""
    path, refusal = hostile_files(tmp_path, 2**30)[case]
    peak = resident_peak(path)
    assert peak.outcome.startswith(refusal)
    assert peak.used < 256 * MiB


def test_the_arrays_of_a_stand_in_take_no_memory() -> None:
    stand_in = buffers.stand_in(2**40)
    assert stand_in.size == 2**40 and stand_in.strides == (0,) and not np.any(stand_in[-3:])


# --- the large path gives what the one-pass path gives ------------------------------------


def signed_checkpoint_text() -> bytes:
    """A random checkpoint with arrays past a chunk, holding -0, 0, -0.0 and 1e-3."""
    checkpoint = rf.examples.random_checkpoint(vocab_size=600, embedding_dim=128)
    embeddings = checkpoint.network[0].token_embeddings
    embeddings.reshape(-1)[:4] = np.array([-0.0, 0.0, -0.0, 1e-3], np.float32)
    return codec.encode(checkpoint).replace(b"-0.0,0.0,-0.0", b"-0,0,-0.0", 1)


@pytest.mark.parametrize("spill", ["a temporary file", "no temporary file", "a full disk"])
def test_a_large_document_reads_as_in_one_pass(
    spill: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the checked-first threshold the arrays are checked, kept in a temporary file
    and read back (or, where no file can be written, decoded again): to the bit what
    one pass decodes, signs of zeros included."""
    text = signed_checkpoint_text()
    assert b'"data":[-0,0,-0.0,' in text
    one_pass = codec.decode(text)
    monkeypatch.setattr(codec, "CHECKED_FIRST", 1000)
    if spill == "no temporary file":
        monkeypatch.setattr(codec.tempfile, "TemporaryFile", _refused)
    if spill == "a full disk":
        monkeypatch.setattr(codec.tempfile, "TemporaryFile", _filling_up)
    checked_first = codec.decode(text)
    assert checked_first == one_pass
    assert np.signbit(checked_first.network[0].token_embeddings.reshape(-1)[:4]).tolist() == [
        True,
        False,
        True,
        False,
    ]


def _refused(*args: object, **kwargs: object) -> Any:
    raise OSError(30, "Read-only file system")


class _filling_up:  # noqa: N801 - stands in for tempfile.TemporaryFile
    """A temporary file that takes 100 KB, then fails as a full disk does."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.written = 0

    def write(self, data: Any) -> int:
        self.written += memoryview(data).nbytes
        if self.written > 100_000:
            raise OSError(28, "No space left on device")
        return memoryview(data).nbytes

    def close(self) -> None:
        pass
