"""The .bin against the real RustGPT (the ``oracle`` fixture): its bytes, logits, training."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.bincode import decode, encode
from rustgpt_format.codec import parse
from rustgpt_format.dialect import rustgpt_document, to_rustgpt
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.migrations import migrated_checkpoint
from tests.oracle import Oracle, oracle  # noqa: F401
from tests.rustgpt_format.bincode.handmade import (
    TINY,
    in_id_order,
    rewritten,
    same,
)


def _rustgpt_pairs(oracle: Oracle, folder: Path) -> dict[str, tuple[Path, Path]]:  # noqa: F811
    """RustGPT's .bin and .json of the same models: untrained (tiny, default), trained."""
    pairs = {}
    for name, options in [("tiny", ["--tiny"]), ("default", [])]:
        for suffix in (".bin", ".json"):
            oracle.run("new", folder / f"{name}{suffix}", "5", *options)
        pairs[name] = (folder / f"{name}.bin", folder / f"{name}.json")
    trained = folder / "trained.bin"
    oracle.run("new", trained, "5", "--tiny", "--epochs", "1", "--chat-epochs", "1")
    oracle.run("resave", trained, folder / "trained.json")
    pairs["trained"] = (trained, folder / "trained.json")
    return pairs


@pytest.fixture(scope="module")
def rustgpt_files(oracle: Oracle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    return _rustgpt_pairs(oracle, tmp_path_factory.mktemp("rustgpt"))


@pytest.mark.parametrize("name", ["tiny", "default", "trained"])
def test_rustgpt_bin_decodes_to_what_its_json_parses_to(
    rustgpt_files: dict[str, tuple[Path, Path]], name: str
) -> None:
    binary, text = rustgpt_files[name]
    document = decode(binary.read_bytes())
    same(document, parse(text.read_bytes()))
    layers = [next(iter(layer.items())) for layer in document["network"]]
    caches = [body["cached_input"] for kind, body in layers if kind != "FeedForward"]
    moments = [
        body["optimizer_w_q"]["m"]["data"] for kind, body in layers if kind == "SelfAttention"
    ]
    if name == "trained":  # forward caches full, Adam moments moved
        assert all(cache is not None for cache in caches)
        assert all(np.any(moment != 0) for moment in moments)
    else:
        assert all(cache is None for cache in caches)
        assert not any(np.any(moment != 0) for moment in moments)


@pytest.mark.parametrize("name", ["tiny", "default", "trained"])
def test_encode_gives_rustgpts_bytes(
    rustgpt_files: dict[str, tuple[Path, Path]], name: str
) -> None:
    binary, text = rustgpt_files[name]
    data = binary.read_bytes()
    assert encode(decode(data)) == data
    # and of what the JSON of the same model parses to, once the maps are in one order
    assert encode(in_id_order(parse(text.read_bytes()))) == encode(in_id_order(decode(data)))


@pytest.mark.parametrize("name", ["default", "trained"])
def test_rustgpt_reads_our_bin_of_a_migrated_checkpoint(
    oracle: Oracle,  # noqa: F811
    rustgpt_files: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    name: str,
) -> None:
    theirs = rustgpt_files[name][0]
    document = rewritten(decode(theirs.read_bytes()))
    ours = tmp_path / "ours.bin"
    ours.write_bytes(encode(document))
    if name == "default":  # untrained: no caches to drop, so the same bytes but map order
        assert ours.read_bytes() == encode(in_id_order(decode(theirs.read_bytes())))
    text = "hello world" if name == "trained" else "The sun rises in the east"
    logits = [
        orjson.loads(oracle.run("logits", path, text, "--all", "--json")) for path in (ours, theirs)
    ]
    assert logits[0] == logits[1] and len(logits[0]["logit_bits"]) == len(logits[0]["tokens"])
    again = tmp_path / "again.bin"
    oracle.run("resave", ours, again)
    assert encode(in_id_order(decode(again.read_bytes()))) == ours.read_bytes()


def test_rustgpt_trains_on_from_our_adam_state(oracle: Oracle, tmp_path: Path) -> None:  # noqa: F811
    ours = tmp_path / "ours.bin"
    ours.write_bytes(encode(rustgpt_document(tiny_checkpoint())))
    corpus = tmp_path / "corpus.json"
    corpus.write_bytes(orjson.dumps(["w0 w1 </s>", "w1 w0 </s>"]))
    oracle.run("train", ours, tmp_path / "trained.bin", "--epochs", "2", "--corpus", corpus)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        trained, _ = migrated_checkpoint(decode((tmp_path / "trained.bin").read_bytes()))
    for before, after in zip(tiny_checkpoint().network, trained.network, strict=True):
        for name, parameter in before.OPTIMIZERS.items():
            old, new = getattr(before, name), getattr(after, name)
            assert new.timestep == old.timestep + 4, name  # 2 epochs of 2 texts, batch 1
            assert not np.array_equal(getattr(after, parameter), getattr(before, parameter))


def test_the_fixtures_are_rustgpts_own_bytes(oracle: Oracle, tmp_path: Path) -> None:  # noqa: F811
    # tiny.rustgpt.bin is RustGPT's resave of our tiny checkpoint; the trained one its training.
    ours = tmp_path / "tiny.bin"
    ours.write_bytes(encode(parse(to_rustgpt(tiny_checkpoint()))))
    oracle.run("resave", ours, tmp_path / "resaved.bin")
    resaved = decode((tmp_path / "resaved.bin").read_bytes())
    assert encode(in_id_order(resaved)) == encode(in_id_order(decode(TINY)))
