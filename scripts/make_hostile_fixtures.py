"""Write the attack files of tests/fixtures/hostile/, one per threat, and their INDEX.

    python scripts/make_hostile_fixtures.py

Each file starts from the tiny valid checkpoint (or its binary and gzip forms) and
breaks it the way an attacker or a damaged disk would; INDEX.txt says, one line per
file, what it attacks. The files are committed; this script is how they were made.
"""

from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import rustgpt_format as rf
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import tiny_checkpoint

HOSTILE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hostile"


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(rf.dumps(tiny_checkpoint()))
    return loaded


def dumps(value: object) -> bytes:
    return orjson.dumps(value)


def with_metadata_value(raw_value: bytes) -> bytes:
    """The tiny checkpoint with ``metadata.a`` set to raw JSON text."""
    text = rf.dumps(tiny_checkpoint())
    return text[:-1] + b',"metadata":{"a":' + raw_value + b"}}"


def safetensors_parts() -> tuple[dict[str, Any], bytes]:
    """The header (as a dict) and the tensor bytes of the tiny checkpoint's binary form."""
    data = rf.dumps(form="safetensors", checkpoint=tiny_checkpoint())
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def safetensors_with(header: dict[str, Any], body: bytes) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def metadata_document(change: str) -> bytes:
    """The binary form with its ``__metadata__.checkpoint`` text changed."""
    header, body = safetensors_parts()
    rest = header["__metadata__"]["checkpoint"]
    if change == "deep":
        rest = rest[:-1] + ',"metadata":{"a":' + "[" * 1000 + "]" * 1000 + "}}"
    elif change == "escaped quotes":
        rest = '{"a":"' + '\\"' * 100_000
    elif change == "duplicate":
        rest = rest[:-1] + ',"config":' + json.dumps(json.loads(rest)["config"]) + "}"
    header["__metadata__"]["checkpoint"] = rest
    return safetensors_with(header, body)


def build() -> dict[str, tuple[str, bytes]]:
    files: dict[str, tuple[str, bytes]] = {}

    def add(name: str, attack: str, data: bytes) -> None:
        files[name] = (attack, data)

    doc = document()
    claim = json.loads(json.dumps(doc))
    claim["network"][1]["w_q"] = {"v": 1, "dim": [1_000_000_000, 1_000_000_000], "data": [1, 2, 3]}
    add(
        "dim-claim.json",
        "a dim of 10^9 x 10^9 over three numbers: allocation by claim",
        dumps(claim),
    )
    add(
        "nesting-past-parser.json",
        "100,000 nested arrays: the parser's recursion limit and the stack",
        with_metadata_value(b"[" * 100_000 + b"]" * 100_000),
    )
    add(
        "nesting-under-parser.json",
        "1,000 nested arrays, under orjson's limit: recursion in Python walks",
        with_metadata_value(b"[" * 1000 + b"]" * 1000),
    )
    text = rf.dumps(tiny_checkpoint())
    add(
        "duplicate-key.json",
        "network given twice: readers that keep the first and the last value disagree",
        text[:-1] + b',"network":[]}',
    )
    two_data = text.replace(b'"data":[', b'"data":[1,2,3],"data":[', 1)
    add(
        "duplicate-data-key.json",
        "an array object with two data keys: the fast array reader against the parser",
        two_data,
    )
    newer = dict(doc, format_version="1.1")
    add(
        "nan-in-ignored-key.json",
        "NaN in a key a newer minor version may have: the standard-library fallback",
        dumps(newer)[:-1] + b',"future":NaN}',
    )
    add(
        "lone-surrogate-in-ignored-key.json",
        "a lone surrogate and a NaN in an ignored key: text only lenient parsers read",
        dumps(newer)[:-1] + b',"future":["\\ud800",NaN]}',
    )
    add(
        "utf16.json",
        "the checkpoint in UTF-16, which the standard library detects and decodes",
        text.decode().encode("utf-16"),
    )
    add(
        "byte-order-mark.json",
        "a UTF-8 byte-order mark before the document",
        b"\xef\xbb\xbf" + text,
    )
    long_word = json.loads(json.dumps(doc))
    long_word["vocab"]["words"][0] = "w" * 100_000
    add("long-word.json", "a 100,000-character word: string length", dumps(long_word))
    add(
        "huge-integer.json",
        "a 400-digit timestep: integers beyond 64 bits",
        text.replace(b'"timestep":', b'"timestep":1' + b"0" * 400 + b',"x":', 1),
    )
    add(
        "two-documents.json",
        "a second document after the first: readers that stop early accept it",
        text + b"\n" + text,
    )
    add(
        "weights-index.json",
        "a safetensors index file (weight_map) given as a checkpoint",
        dumps({"metadata": {"total_size": 4}, "weight_map": {"w": "model-00001.safetensors"}}),
    )
    code = json.loads(json.dumps(doc))
    code["network"][1]["type"] = "os.system"
    add(
        "layer-type-names-code.json",
        "a layer type naming a Python callable: dynamic import or lookup by name",
        dumps(code),
    )
    add(
        "pickle.json",
        "a pickle that runs a shell command when unpickled, named like a checkpoint",
        b"cos\nsystem\n(S'touch pwned-by-pickle'\ntR.",
    )
    add(
        "torch-zip.json",
        "a zip archive as torch.save writes (data.pkl inside), named like a checkpoint",
        b"PK\x03\x04" + b"\x00" * 26 + b"archive/data.pkl" + b"\x80\x02}q\x00." + b"\x00" * 16,
    )
    v0 = orjson.loads(to_rustgpt(tiny_checkpoint()))
    v0["vocab"]["encode"]["w0"] = 2
    add(
        "rustgpt-vocab-maps-disagree.json",
        "RustGPT's own JSON whose encode map contradicts words: migration trusts the maps",
        dumps(v0),
    )

    add(
        "gzip-bomb.json.gz",
        "32 MiB of zeros in 32 KiB of gzip: inflation without a bound (read at 16 MiB)",
        gzip.compress(b"0" * (32 * 2**20), compresslevel=9, mtime=0),
    )
    add(
        "gzip-truncated.json.gz",
        "a gzip stream cut in the middle: a reader that takes what it inflated",
        gzip.compress(text, mtime=0)[:-40],
    )
    add(
        "gzip-trailing-garbage.json.gz",
        "bytes after the gzip stream: data a reader would silently drop",
        gzip.compress(text, mtime=0) + b"garbage",
    )

    binary = rf.dumps(form="safetensors", checkpoint=tiny_checkpoint())
    add(
        "header-claims-more.safetensors",
        "a header length of 2^40 in a small file: reading what the header claims",
        struct.pack("<Q", 2**40) + binary[8:],
    )
    header, body = safetensors_parts()
    first = next(name for name in header if name != "__metadata__")
    beyond = json.loads(json.dumps(header))
    beyond[first]["data_offsets"] = [0, len(body) + 4096]
    add(
        "offsets-beyond-file.safetensors",
        "a tensor whose data_offsets run past the end of the file",
        safetensors_with(beyond, body),
    )
    shape = json.loads(json.dumps(header))
    shape[first]["shape"] = [1_000_000_000, 1_000_000_000]
    add(
        "shape-claim.safetensors",
        "a tensor of shape 10^9 x 10^9 over a few bytes: allocation by claim",
        safetensors_with(shape, body),
    )
    wide = json.loads(json.dumps(header))
    begin, end = wide[first]["data_offsets"]
    wide[first]["dtype"] = "F64"
    wide[first]["shape"] = [1, (end - begin) // 8]
    add(
        "float64-tensor.safetensors",
        "an F64 tensor where float32 is due: a silent cast would change the values",
        safetensors_with(wide, body),
    )
    add(
        "metadata-nesting.safetensors",
        "1,000 nested arrays inside __metadata__.checkpoint: nesting in the binary form",
        metadata_document("deep"),
    )
    add(
        "metadata-duplicate-key.safetensors",
        "config twice inside __metadata__.checkpoint: duplicate keys in the binary form",
        metadata_document("duplicate"),
    )
    add_scaling(add)
    return files


def add_scaling(add: Callable[[str, str, bytes], None]) -> None:
    """Issue 15: text that made a reader step quadratic, and documents that are not
    containers. Each is refused in linear time; tests/rustgpt_format/test_scaling.py
    times the same constructions at n and 8n."""
    add(
        "escaped-quotes.json",
        "an unterminated string of 100,000 escaped quotes: a string pattern rescanning "
        "the rest from every quote (quadratic: some 4 minutes, extrapolated from 40 KB)",
        b'{"a":"' + b'\\"' * 100_000,
    )
    add(
        "metadata-escaped-quotes.safetensors",
        "the same unterminated string as __metadata__.checkpoint: the binary form's "
        "document goes through the same scans",
        metadata_document("escaped quotes"),
    )
    add(
        "data-keys.json",
        '125,000 "data":[ keys with no numbers after them: a search for each one\'s "]" '
        "reading to the end (quadratic: about a minute, extrapolated from 320 KB)",
        b'{"a":' + b'"data":[' * 125_000 + b"]}",
    )
    add(
        "gzip-members.json.gz",
        "50,000 empty gzip members: handing zlib the rest of the stream at each member "
        "(quadratic copies)",
        gzip.compress(b"", mtime=0) * 50_000,
    )
    add(
        "bare-nan.json",
        "a document that is NaN: the fallback naming NaN walked a container",
        b"NaN",
    )
    add(
        "bare-negative-infinity.json",
        "a document that is -Infinity: the fallback naming it walked a container",
        b"-Infinity",
    )
    add(
        "bare-huge-number.json",
        "a document that is 1e999: the standard library reads it as inf, not a constant",
        b"1e999",
    )
    add(
        "bare-401-digit-integer.json",
        "a document that is a 401-digit integer: the standard library reads it as an int",
        b"1" + b"0" * 400,
    )


def main() -> None:
    HOSTILE.mkdir(parents=True, exist_ok=True)
    files = build()
    for name, (_, data) in files.items():
        (HOSTILE / name).write_bytes(data)
    lines = [f"{name}: {attack}" for name, (attack, _) in files.items()]
    (HOSTILE / "INDEX.txt").write_text(
        "# One attack file per line: name, then what it attacks. Made by\n"
        "# scripts/make_hostile_fixtures.py; tests/rustgpt_format/test_hardening_hostile.py\n"
        "# checks that each is refused with CheckpointError.\n" + "\n".join(lines) + "\n"
    )
    print(f"wrote {len(files)} files to {HOSTILE}")


if __name__ == "__main__":
    main()
