"""Check RustGPT's own JSON against Rust's serde_json itself, not a model of it.

    python scripts/check_serde_json.py           # about a minute, most of it building

Needs cargo and Debian's serde crates (``apt-get install librust-serde-json-dev
librust-serde-derive-dev``): ``scripts/serde_json_oracle`` is a small Rust program,
built offline against them, that reads a version-0 document into structs shaped like
RustGPT's (every key required, none unknown) and writes it back with
``serde_json::to_string`` and ``to_string_pretty``.

The checkpoint's arrays are filled with float32 chosen to catch layout mistakes (the
edges of ryu's plain and exponent forms, subnormals, the largest float, ±0, the pair
of contract §2) and 1.3 million random bit patterns over every exponent. Then:

1. serde_json reads our compact and pretty files without complaint;
2. what it writes back from our compact file is our text, byte for byte (the vocab
   maps, whose order in RustGPT is a hash map's, compared as data), but for two
   spellings: the pair of contract §2, which we write in more digits, comes back in
   its shortest form (so serde_json read it to the right float32), and positive
   exponents, which serde_json 1.0.147 and later (Żmij) write as ``1e+13`` like us,
   and Debian's serde_json (Ryū, as in RustGPT's Cargo.lock, 1.0.145) as ``1e13``;
3. it reads our pretty file (whose number arrays stay on one line each) to the same
   values;
4. our reader reads serde_json's compact and pretty texts back to the same bits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import rustgpt_format as rf
from rustgpt_format.dialect import to_rustgpt
from rustgpt_format.examples import random_checkpoint

ORACLE = Path(__file__).parent / "serde_json_oracle"
ODD = np.array([0x15AE43FD], np.uint32).view(np.float32)
ODD_LONG, ODD_SHORT = repr(float(ODD[0])), "7.038531e-26"  # as we write it; as ryu does


def edge_values() -> np.ndarray:
    """Float32 values at the edges of how ryu lays out a number."""
    f32 = np.float32
    decimal = [f32(10.0) ** k for k in range(-45, 39) if np.isfinite(f32(10.0) ** k)]
    neighbours = [np.nextafter(v, f32(np.inf)) for v in decimal]
    neighbours += [np.nextafter(v, f32(0)) for v in decimal]
    special = [
        f32(0.0),
        f32(-0.0),
        f32(1.0),
        f32(0.1),
        f32(1e-8),
        f32(1e-5),
        f32(123456.7),
        f32(16777216.0),
        f32(16777217.0),
        np.finfo(np.float32).max,
        np.finfo(np.float32).tiny,
        f32(1e-45),  # the smallest subnormal
        np.array([0x15AE43FD, 0x95AE43FD], np.uint32).view(np.float32)[0],
        np.array([0x15AE43FD, 0x95AE43FD], np.uint32).view(np.float32)[1],
    ]
    values = np.array(decimal + neighbours + special, dtype=np.float32)
    return np.concatenate([values, -values])


def fill(checkpoint: rf.Checkpoint, seed: int) -> int:
    """Overwrite every array with the edge values, then random finite bit patterns."""
    rng = np.random.default_rng(seed)
    pool = edge_values()
    used = 0
    for layer in checkpoint.network:
        arrays = list(layer.parameters().values())
        for state in layer.optimizers().values():
            if state is not None:
                arrays += [state.m, state.v]
        for array in arrays:
            flat = array.reshape(-1)
            bits = rng.integers(0, 1 << 32, flat.size, dtype=np.uint64).astype(np.uint32)
            bits[(bits & 0x7F800000) == 0x7F800000] &= 0xBFFFFFFF  # no NaN or infinity
            flat[:] = bits.view(np.float32)
            take = min(flat.size, pool.size - used) if used < pool.size else 0
            flat[:take] = pool[used : used + take]
            used += take
    return used


def network_text(text: str) -> str:
    """The text from the network key on (vocab comes first in both writers)."""
    return text[text.index('"network":') :]


def run(oracle: Path, folder: Path, name: str, text: str) -> tuple[str, str]:
    """serde_json's to_string and to_string_pretty of the document ``text``."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([oracle, path], capture_output=True, check=False)
    if done.returncode:
        sys.exit(done.stderr.decode())
    compact, pretty = done.stdout.decode().split("\0")
    return compact, pretty


def build() -> Path:
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("cargo is not installed: this check builds a Rust program")
    done = subprocess.run(
        [cargo, "build", "--release", "--offline", "--quiet"],
        cwd=ORACLE,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(
            f"building {ORACLE.name} failed (are Debian's librust-serde-json-dev and "
            f"librust-serde-derive-dev installed?):\n{done.stderr}"
        )
    return ORACLE / "target" / "release" / "serde-json-oracle"


def main() -> None:
    start = time.perf_counter()
    oracle = build()
    built = time.perf_counter() - start
    checkpoint = random_checkpoint(seed=7)
    edges = fill(checkpoint, seed=7)
    folder = Path(tempfile.mkdtemp())
    floats = 0
    for layer in checkpoint.network:
        floats += sum(a.size for a in layer.parameters().values())
        floats += sum(2 * s.m.size for s in layer.optimizers().values() if s is not None)
    ours = to_rustgpt(checkpoint).decode()
    compact, _ = run(oracle, folder, "ours-compact.json", ours)
    assert json.loads(compact)["vocab"] == json.loads(ours)["vocab"], "the vocab differs"
    expected = network_text(ours).replace(ODD_LONG, ODD_SHORT).replace("e+", "e")
    theirs = network_text(compact)
    if theirs != expected:
        pairs = enumerate(zip(theirs, expected, strict=False))
        where = next((i for i, (a, b) in pairs if a != b), min(len(theirs), len(expected)))
        sys.exit(
            f"serde_json writes {theirs[where - 60 : where + 60]!r}\n"
            f"we wrote          {expected[where - 60 : where + 60]!r}"
        )
    print(
        f"compact: serde_json read our {len(ours) / 1e6:.1f} MB and wrote it back byte for byte "
        "(the network; the vocab as data)"
    )
    pretty = to_rustgpt(checkpoint, indent=2).decode()
    again, serde_pretty = run(oracle, folder, "ours-pretty.json", pretty)
    assert again == compact, "serde_json read our pretty file to other values"
    print(f"pretty: serde_json read our {len(pretty) / 1e6:.1f} MB to the same values")
    for name, text in (("compact", compact), ("pretty", serde_pretty)):
        path = folder / f"serde-{name}.json"
        path.write_text(text, encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rf.FormatWarning)  # version 0 is migrated
            assert rf.load(path) == checkpoint, f"we read serde_json's {name} text to other values"
    print("our reader read serde_json's compact and pretty texts back bit for bit")
    print(
        f"{floats:,} float32 ({edges} chosen at layout edges, the rest random bit patterns), "
        f"serde_json {serde_version()}; {time.perf_counter() - start:.0f} s "
        f"({built:.0f} s building)"
    )


def serde_version() -> str:
    lock = (ORACLE / "Cargo.lock").read_text(encoding="utf-8")
    blocks = lock.split("[[package]]")
    for block in blocks:
        if 'name = "serde_json"' in block:
            return block.split('version = "')[1].split('"')[0]
    return "?"


if __name__ == "__main__":
    main()
