"""``rustgpt-format inspect``: one digest per checkpoint, whatever the form."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from tests.rustgpt_format.commands.helpers import cli

V0 = Path(__file__).parents[2] / "fixtures" / "v0"


@pytest.fixture
def forms(tmp_path: Path) -> dict[str, Path]:
    checkpoint = tiny_checkpoint()
    paths = {
        "json": tmp_path / "model.json",
        "pretty": tmp_path / "pretty.json",
        "gzip": tmp_path / "model.json.gz",
        "safetensors": tmp_path / "model.safetensors",
        "rustgpt": tmp_path / "rustgpt.json",
    }
    rf.save(checkpoint, paths["json"])
    rf.save(checkpoint, paths["pretty"], indent=2)
    rf.save(checkpoint, paths["gzip"])
    rf.save(checkpoint, paths["safetensors"])
    rf.save(checkpoint, paths["rustgpt"], dialect="rustgpt")
    return paths


def summary(path: Path) -> dict[str, object]:
    code, out, err = cli("inspect", "--json", str(path))
    assert (code, err) == (0, "")
    result: dict[str, object] = json.loads(out)
    return result


def test_the_same_checkpoint_has_the_same_digest_in_every_form(forms: dict[str, Path]) -> None:
    digest = hashlib.sha256(rf.dumps(tiny_checkpoint())).hexdigest()
    seen = {name: summary(path) for name, path in forms.items()}
    assert {info["sha256"] for info in seen.values()} == {digest}
    assert {
        name: (info["form"], info["dialect"], info["version"], info["pretty"])
        for name, info in seen.items()
    } == {
        "json": ("json", "rustgpt-checkpoint", "1.0", False),
        "pretty": ("json", "rustgpt-checkpoint", "1.0", True),
        "gzip": ("json.gz", "rustgpt-checkpoint", "1.0", False),
        "safetensors": ("safetensors", "rustgpt-checkpoint", "1.0", False),
        "rustgpt": ("json", "rustgpt", "0", False),
    }
    assert {info["size"] for info in seen.values()} == {
        path.stat().st_size for path in forms.values()
    }


def test_the_summary_counts_layers_weights_and_optimizer_state(tmp_path: Path) -> None:
    checkpoint = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=6, max_seq_len=3)
    target = tmp_path / "model.safetensors"
    rf.save(checkpoint, target)
    info = summary(target)
    assert info["config"] == {
        "embedding_dim": 4,
        "hidden_dim": 6,
        "max_seq_len": 3,
        "vocab_size": 5,
    }
    layers = info["layers"]
    assert isinstance(layers, list) and len(layers) == 14
    assert layers[0] == {
        "index": 0,
        "type": "Embeddings",
        "parameters": {"token_embeddings": [5, 4], "positional_embeddings": [3, 4]},
        "parameter_count": 32,
        "optimizer": {"present": 2, "expected": 2},  # numbers, not the text "2/2"
    }
    assert layers[3]["parameter_count"] == 4 * 6 + 6 + 6 * 4 + 4
    weights = sum(
        array.size for layer in checkpoint.network for array in layer.parameters().values()
    )
    assert info["weights"] == {"arrays": 37, "values": weights, "bytes": 4 * weights}
    assert info["optimizer"] == {
        "states": 36,
        "values": 2 * weights - 2 * 5,
        "bytes": 4 * (2 * weights - 10),
    }
    assert (info["training"], info["metadata"]) == (None, None)


def test_the_text_table(forms: dict[str, Path]) -> None:
    code, out, err = cli("inspect", str(forms["rustgpt"]))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1] == "format      RustGPT's own JSON (version 0), read as format 1.0"
    assert lines[2] == "config      embedding_dim 4, hidden_dim 8, max_seq_len 2, vocab_size 3"
    assert lines[5].split() == ["index", "type", "parameter", "shapes", "count", "optimizer"]
    assert lines[6].split() == [
        "0",
        "Embeddings",
        "token_embeddings",
        "(3,",
        "4),",
        "positional_embeddings",
        "(2,",
        "4)",
        "20",
        "2/2",
    ]
    assert lines[-3:] == [
        "weights     175 values in 15 arrays (700 bytes as float32)",
        "optimizer   344 values in 14 Adam states (1,376 bytes as float32)",
        "training    none",
    ]


def test_an_invalid_file_is_one_line_per_problem(tmp_path: Path) -> None:
    target = tmp_path / "old.json"
    target.write_bytes(
        (V0 / "tiny.compact.caches-null.json").read_bytes().replace(b'"1":"world"', b'"1":"moon"')
    )
    assert cli("inspect", str(target)) == (
        1,
        "",
        f"{target}: vocab.decode[\"1\"]: expected 'world' (vocab.words[1]), found string 'moon'\n",
    )
    assert cli("inspect", str(tmp_path / "missing.json"))[0] == 1
    assert cli("inspect")[0] == 2
