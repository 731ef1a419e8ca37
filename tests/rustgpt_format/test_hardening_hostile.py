"""Hand-made attack files (tests/fixtures/hostile/): every one refused, naming the place.

INDEX.txt there says what each file attacks; scripts/make_hostile_fixtures.py made them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.limits import Limits

HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile"


class Start(str):
    """The expected start of a message whose rest quotes the JSON or safetensors library."""


INVALID_JSON = Start("expected a JSON document, found invalid JSON: ")
DAMAGED = Start("expected a safetensors file, found a damaged one: ")
RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"
DEEP = "metadata.a" + "[0]" * 14

# file -> (path of the error, its message, or its Start when it quotes another library)
EXPECTED: dict[str, tuple[str, str]] = {
    "dim-claim.json": (
        "network[1].w_q.data",
        "expected 1000000000000000000 numbers (dim 1000000000x1000000000), found 3",
    ),
    "nesting-past-parser.json": (
        DEEP,
        f"expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 100002{RAISE}",
    ),
    "nesting-under-parser.json": (
        DEEP,
        f"expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 1002{RAISE}",
    ),
    "duplicate-key.json": (
        "network",
        "expected unique keys, found this key twice in one object (JSON readers differ on which of the two values they keep)",
    ),
    "duplicate-data-key.json": (
        "network[0].token_embeddings.data",
        "expected unique keys, found this key twice in one object (JSON readers differ on which of the two values they keep)",
    ),
    "nan-in-ignored-key.json": ("future", "expected a finite number, found nan"),
    "lone-surrogate-in-ignored-key.json": ("future[1]", "expected a finite number, found nan"),
    "utf16.json": ("", "not a checkpoint: binary data"),
    "byte-order-mark.json": ("", "expected UTF-8 JSON without a byte-order mark, found a BOM"),
    "long-word.json": (
        "vocab.words[0]",
        f"expected a string of at most 65536 characters (Limits.max_string_chars), found 100000{RAISE}",
    ),
    "huge-integer.json": ("", Start(INVALID_JSON + "number is infinity when parsed as double")),
    "two-documents.json": ("", Start(INVALID_JSON + "unexpected content after document")),
    "weights-index.json": ("format", "missing required key (expected 'rustgpt-checkpoint')"),
    "layer-type-names-code.json": (
        "network[1].type",
        "unknown layer type 'os.system', expected one of 'Embeddings', 'SelfAttention', 'FeedForward', 'LayerNorm', 'OutputProjection'",
    ),
    "pickle.json": ("", INVALID_JSON),
    "torch-zip.json": ("", "not a checkpoint: binary data (looks like ZIP)"),
    "rustgpt-vocab-maps-disagree.json": (
        'vocab.encode["w0"]',
        "expected 0 (the index of 'w0' in vocab.words), found 2",
    ),
    "gzip-bomb.json.gz": (
        "",
        "expected gzip data inflating to at most 16777216 bytes (Limits.max_file_bytes), found more "
        f"from 32636 compressed bytes{RAISE}",
    ),
    "gzip-truncated.json.gz": ("", "expected gzip data, found a truncated stream"),
    "gzip-trailing-garbage.json.gz": (
        "",
        "expected gzip data, found 7 bytes of garbage after the stream",
    ),
    "header-claims-more.safetensors": (
        "",
        "not a checkpoint: binary data (looks like safetensors, but its header length 1099511627776 does not fit in 7204 bytes)",
    ),
    "offsets-beyond-file.safetensors": ("", DAMAGED),
    "shape-claim.safetensors": ("", DAMAGED),
    "float64-tensor.safetensors": (
        "network[0].positional_embeddings",
        "tensor `network.0.positional_embeddings`: expected a 2-D F32 tensor, found 2-D F64 of shape (1, 4)",
    ),
    "metadata-nesting.safetensors": (
        "__metadata__.checkpoint." + DEEP,
        f"expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 1002{RAISE}",
    ),
    "metadata-duplicate-key.safetensors": (
        "__metadata__.checkpoint.config",
        "expected unique keys, found this key twice in one object (JSON readers differ on which of the two values they keep)",
    ),
    # issue 15: quadratic steps, and documents that are not containers
    "escaped-quotes.json": (
        "",
        "expected a JSON document, found invalid JSON: unexpected end of data: line 1 column 200007 (char 200006)",
    ),
    "metadata-escaped-quotes.safetensors": (
        "__metadata__.checkpoint",
        "expected a JSON document, found invalid JSON: unexpected end of data: line 1 column 200007 (char 200006)",
    ),
    "data-keys.json": (
        "a" + "[0]" * 15,
        f"expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 125000{RAISE}",
    ),
    "gzip-members.json.gz": ("", "expected a JSON document, found an empty file"),
    "bare-nan.json": ("", "expected a finite number, found nan"),
    "bare-negative-infinity.json": ("", "expected a finite number, found -inf"),
    "bare-huge-number.json": (
        "",
        "expected a JSON document, found invalid JSON: number is infinity when parsed as double: line 1 column 1 (char 0)",
    ),
    "bare-401-digit-integer.json": (
        "",
        "expected a JSON document, found invalid JSON: number is infinity when parsed as double: line 1 column 1 (char 0)",
    ),
    "bin-truncated.bin": (
        "network[0].LayerNorm.optimizer_beta.v.data",
        "expected 2 float32 numbers (8 bytes), found 5 bytes before the end of the file (truncated)",
    ),
    "bin-trailing-bytes.bin": (
        "",
        "expected the end of the file after the last layer, found 16 more bytes",
    ),
    "bin-unknown-variant.bin": (
        "",
        "not a checkpoint: binary data",
    ),
    "bin-varint-overflow.bin": (
        "network[0].LayerNorm.gamma.dim",
        "expected the number of rows as a varint of a usize (a byte up to 250, or 251, 252 or 253 and its little-endian bytes), found the marker byte 254 of a u128",
    ),
    "bin-dim-disagrees.bin": (
        "network[0].LayerNorm.gamma.dim",
        "expected dimensions whose product is the 2 elements of data, found [1, 3] (3)",
    ),
    "bin-data-claim.bin": (
        "network[0].LayerNorm.gamma.data",
        "expected at most 268435456 numbers in all arrays (Limits.max_elements), found more by this array (1099511627776); to read it anyway, pass limits=Limits(...) with a higher bound",
    ),
    "bin-layers-claim.bin": (
        "network",
        "expected at most 3 layers (each takes at least 31 bytes and 108 remain), found a length of 16777216 (truncated or damaged file)",
    ),
}

LOWERED = {"gzip-bomb.json.gz": Limits(max_file_bytes=16 * 2**20)}
"""Size attacks kept small in the repository: read with a lower bound than the default."""


def index() -> dict[str, str]:
    lines = (HOSTILE / "INDEX.txt").read_text().splitlines()
    entries = [line.split(": ", 1) for line in lines if line and not line.startswith("#")]
    return {name: attack for name, attack in entries}


def test_every_file_has_one_line_of_what_it_attacks_and_an_expected_error() -> None:
    files = sorted(p.name for p in HOSTILE.iterdir() if p.name != "INDEX.txt")
    assert sorted(index()) == files == sorted(EXPECTED)
    assert all(len(attack) > 20 for attack in index().values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_is_refused_naming_the_place(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the pickle's command would leave its mark
    path, message = EXPECTED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(rf.CheckpointError) as caught:
            rf.load(HOSTILE / name, limits=LOWERED.get(name, Limits()))
    assert caught.value.path == path
    if isinstance(message, Start):
        assert caught.value.message.startswith(message)
    else:
        assert caught.value.message == message
    assert os.listdir(tmp_path) == []


def test_the_gzip_bomb_is_refused_at_the_default_bounds_too() -> None:
    """It inflates to 32 MiB, under the default 1 GiB: the next bound to meet is the JSON's,
    met once the bound and the longest data key are read without an array in them."""
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(HOSTILE / "gzip-bomb.json.gz")
    assert caught.value.message == (
        "expected at most 16777216 bytes of JSON outside the numeric data arrays "
        f"(Limits.max_header_bytes), found more than {16777216 + 64}{RAISE}"
    )
