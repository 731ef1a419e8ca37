"""Partial loading (issue 16): ``load(path, layers=...)`` -> Parts; ``assemble``.

A partial safetensors load reads no byte of any other tensor: every read of the file
goes through a stream that records where it read, and none may touch the byte range of
a tensor that was not asked for.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.edit import assemble
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.forms import ReadOptions, Source
from rustgpt_format.models import Parts, select_layers
from rustgpt_format.models.checkpoint import _same as same
from rustgpt_format.models.structure import ORDER, SHAPES
from rustgpt_format.reading import read_parts

TYPES = ["Embeddings", "SelfAttention", "LayerNorm", "FeedForward", "LayerNorm", "OutputProjection"]

# (selectors, the indices they pick in TYPES)
SELECTIONS = [
    ([0], (0,)),
    ([-1], (5,)),
    ([-6], (0,)),  # as far from the end as there are layers
    (["blocks"], (1, 2, 3, 4)),
    (["Blocks"], (1, 2, 3, 4)),  # case is ignored
    (["LayerNorm"], (2, 4)),
    (["layer_norm", "self_attention"], (1, 2, 4)),  # snake case names the kind too
    (["embeddings", "output_projection"], (0, 5)),
    (["output-projection", "Feed-Forward"], (3, 5)),  # and with hyphens
    ([3, "feed_forward", -3], (3,)),  # each index once
    ([], ()),
    ("embeddings", (0,)),  # a lone name is one selector, not its letters
]


@pytest.mark.parametrize(("selectors", "expected"), SELECTIONS)
def test_selectors_pick_layers(selectors: Any, expected: tuple[int, ...]) -> None:
    assert select_layers(TYPES, selectors) == expected


# (selectors, the error)
BAD_SELECTIONS = [
    ([6], "layers: expected an index in [-6, 6) (the network has 6 layers), found 6"),
    ([-7], "layers: expected an index in [-6, 6) (the network has 6 layers), found -7"),
    (
        ["attention"],  # not a kind's name: SelfAttention is
        "layers: expected an index, blocks or a kind (Embeddings, SelfAttention, FeedForward, "
        "LayerNorm, OutputProjection), found 'attention'",
    ),
    ([True], "layers: expected indices and names of kinds, found True"),  # bool is no index
    ([1.0], "layers: expected indices and names of kinds, found 1.0"),
]


@pytest.mark.parametrize(("selectors", "message"), BAD_SELECTIONS)
def test_bad_selectors_are_named(selectors: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        select_layers(TYPES, selectors)
    assert str(caught.value) == message


class RecordingStream(io.FileIO):
    """A file that records the byte range of every read made through it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self.ranges: list[tuple[int, int]] = []

    def read(self, size: int | None = -1) -> bytes:
        at = self.tell()
        data = super().read(size)
        self.ranges.append((at, at + len(data)))
        return data

    def readinto(self, buffer: Any) -> int:
        at = self.tell()
        count = super().readinto(buffer)
        self.ranges.append((at, at + (count or 0)))
        return count or 0


def tensor_ranges(path: Path) -> dict[str, tuple[int, int]]:
    """Each tensor's byte range in the file, from its header."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    return {
        name: (start + entry["data_offsets"][0], start + entry["data_offsets"][1])
        for name, entry in header.items()
        if name != "__metadata__"
    }


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def partial_read(path: Path, layers: Any, *, optimizer: bool = True) -> tuple[Parts, list[Any]]:
    with RecordingStream(path) as stream:
        source = Source.of_file(stream, str(path))  # type: ignore[arg-type]
        parts = read_parts(source, ReadOptions(layers=tuple(layers), optimizer=optimizer))
        return parts, stream.ranges


@pytest.mark.parametrize(
    ("layers", "optimizer"), [(["blocks"], True), ([1], True), ([0, -1], False), ([], True)]
)
def test_a_partial_safetensors_load_reads_only_the_requested_bytes(
    tmp_path: Path, layers: list[Any], optimizer: bool
) -> None:
    checkpoint = random_checkpoint(vocab_size=50, embedding_dim=16, hidden_dim=32, max_seq_len=8)
    path = tmp_path / "model.safetensors"
    rf.save(checkpoint, path)
    parts, reads = partial_read(path, layers, optimizer=optimizer)
    wanted = set(select_layers([layer.type for layer in checkpoint.network], layers))
    assert set(parts.network) == wanted
    read_tensors = 0
    for name, where in tensor_ranges(path).items():
        index = int(name.split(".")[1])
        asked = index in wanted and (optimizer or name.count(".") == 2)
        touched = [r for r in reads if overlaps(r, where)]
        if asked:
            assert touched == [where], name  # read once, exactly its bytes
            read_tensors += 1
        else:
            assert touched == [], f"{name} was read"
    assert read_tensors == sum(
        len(checkpoint.network[i].SHAPES) * (1 if not optimizer else 3) for i in wanted
    )
    assert parts == Parts.of(rf.load(path, optimizer=optimizer), layers)


def test_other_tensors_damaged_on_disk_do_not_stop_a_partial_load(tmp_path: Path) -> None:
    """NaN in every byte of the layers not asked for: the whole file is refused, the
    blocks are not, and they are the blocks of the original."""
    checkpoint = tiny_checkpoint()
    path = tmp_path / "model.safetensors"
    rf.save(checkpoint, path)
    data = bytearray(path.read_bytes())
    nan = np.array([np.nan], np.float32).tobytes()
    for name, (start, stop) in tensor_ranges(path).items():
        if name.split(".")[1] in ("0", "5"):
            data[start:stop] = nan * ((stop - start) // 4)
    path.write_bytes(bytes(data))
    with pytest.raises(rf.CheckpointError, match="finite"):
        rf.load(path)
    parts = rf.load(path, layers=["blocks"])
    assert parts == Parts.of(checkpoint, ["blocks"])


@pytest.mark.parametrize("suffix", [".json", ".json.gz", ".safetensors"])
def test_every_form_gives_the_same_parts(tmp_path: Path, suffix: str) -> None:
    checkpoint = tiny_checkpoint()
    path = tmp_path / f"model{suffix}"
    rf.save(checkpoint, path)
    parts = rf.load(path, layers=["embeddings", "LayerNorm"])
    assert isinstance(parts, Parts)
    assert (sorted(parts.network), parts.length) == ([0, 2, 4], 6)
    assert parts == Parts.of(checkpoint, [0, 2, 4])
    assert parts.config == checkpoint.config and parts.vocab == checkpoint.vocab
    inference = rf.load(path, layers=[1], optimizer=False)
    assert inference.network[1].optimizer_w_q is None  # type: ignore[union-attr]
    np.testing.assert_array_equal(inference.network[1].w_q, checkpoint.network[1].w_q)  # type: ignore[union-attr]


def test_a_damaged_requested_layer_is_named_by_its_index(tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint()
    path = tmp_path / "model.safetensors"
    rf.save(checkpoint, path)
    data = bytearray(path.read_bytes())
    start, _ = tensor_ranges(path)["network.3.w1"]
    data[start : start + 4] = np.array([np.inf], np.float32).tobytes()
    path.write_bytes(bytes(data))
    assert sorted(rf.load(path, layers=[1, 2]).network) == [1, 2]  # layer 3 not read
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(path, layers=[3])
    assert str(caught.value) == (
        "network[3].w1: expected a finite float32 (magnitude below 3.4028235e38) at [0, 0], "
        "found inf"
    )


# (what is wrong, the parts' network, the error)
PLACES = [
    (
        "an Embeddings layer away from index 0",
        lambda c: {2: c.network[0]},
        "network[2].type: expected SelfAttention or FeedForward or LayerNorm at index 2 of 6, "
        "found Embeddings",
    ),
    (
        "a block at the last index",
        lambda c: {5: c.network[1]},
        "network[5].type: expected OutputProjection at index 5 of 6, found SelfAttention",
    ),
    (
        "an index past the end",
        lambda c: {9: c.network[1]},
        "network[9]: expected an index in [0, 6) (length), found 9",
    ),
    (
        "the index just past the end",
        lambda c: {6: c.network[1]},
        "network[6]: expected an index in [0, 6) (length), found 6",
    ),
    (
        "a negative index",
        lambda c: {-1: c.network[5]},
        "network[-1]: expected an index in [0, 6) (length), found -1",
    ),
]


@pytest.mark.parametrize(("why", "network", "message"), PLACES, ids=[p[0] for p in PLACES])
def test_parts_check_each_layer_against_its_place(why: str, network: Any, message: str) -> None:
    checkpoint = tiny_checkpoint()
    document = {
        "config": checkpoint.config,
        "vocab": checkpoint.vocab,
        "network": network(checkpoint),
        "length": 6,
    }
    from rustgpt_format.boundary import validated

    with pytest.raises(rf.CheckpointError) as caught:
        validated(Parts, document)
    assert str(caught.value) == message
    assert [problem.rule for problem in caught.value.problems] == [ORDER]


def test_parts_check_shapes_against_the_config_by_index() -> None:
    small = tiny_checkpoint()
    other = random_checkpoint(vocab_size=3, embedding_dim=8, hidden_dim=8, max_seq_len=2)
    from rustgpt_format.boundary import validated

    with pytest.raises(rf.CheckpointError) as caught:
        validated(
            Parts,
            {
                "config": small.config,
                "vocab": small.vocab,
                "network": {3: other.network[3]},
                "length": 6,
            },
        )
    assert str(caught.value) == (
        "network[3].w1: expected shape (4, 8) (config.embedding_dim = 4; "
        "config.hidden_dim = 8), found (8, 8)"
    )
    assert [problem.rule for problem in caught.value.problems] == [SHAPES]


def test_parts_check_the_vocabulary_against_the_config() -> None:
    small = tiny_checkpoint()
    from rustgpt_format.boundary import validated

    with pytest.raises(rf.CheckpointError) as caught:
        validated(
            Parts,
            {
                "config": small.config,
                "vocab": rf.Vocab(words=("a", "b", "c", "</s>")),
                "network": {1: small.network[1]},
                "length": 6,
            },
        )
    assert str(caught.value) == "vocab.words: expected config.vocab_size = 3 words, found 4"
    assert [problem.rule for problem in caught.value.problems] == [SHAPES]


def other_block(parts: Parts) -> None:
    parts.network[1].w_q[0, 0] += 1  # type: ignore[union-attr]


# (a change to the second of two equal Parts); each makes them unequal
PARTS_CHANGES = [
    ("another layer's values", other_block),
    ("another layer picked", lambda p: p.network.update({2: p.network.pop(4)})),
    ("fewer layers", lambda p: p.network.pop(4)),
    ("a longer network", lambda p: setattr(p, "length", 7)),
    (
        "another config",
        lambda p: setattr(p, "config", p.config.model_copy(update={"max_seq_len": 3})),
    ),
    ("another vocabulary", lambda p: setattr(p, "vocab", rf.Vocab(words=("x", "y", "</s>")))),
]


@pytest.mark.parametrize(("why", "change"), PARTS_CHANGES, ids=[c[0] for c in PARTS_CHANGES])
def test_parts_are_equal_only_when_everything_is(why: str, change: Any) -> None:
    a = Parts.of(tiny_checkpoint(), ["blocks"])
    b = Parts.of(tiny_checkpoint(), ["blocks"])
    assert a == b
    change(b)
    assert (a == b, b == a) == (False, False)


def test_blocks_of_one_checkpoint_under_fresh_embeddings(tmp_path: Path) -> None:
    trained = random_checkpoint(
        vocab_size=20, embedding_dim=8, hidden_dim=16, max_seq_len=4, seed=1
    )
    path = tmp_path / "trained.safetensors"
    rf.save(trained, path)
    fresh = random_checkpoint(vocab_size=7, embedding_dim=8, hidden_dim=16, max_seq_len=4, seed=2)
    blocks = rf.load(path, layers=["blocks"])
    model = assemble(
        fresh.config, fresh.vocab, [fresh.network[0], *blocks.layers(), fresh.network[-1]]
    )
    assert same(model.network[1:-1], trained.network[1:-1])
    assert same(model.network[0], fresh.network[0]) and model.vocab == fresh.vocab
    rf.save(model, tmp_path / "assembled.json")
    assert rf.load(tmp_path / "assembled.json") == model
    model.network[1].w_q[0, 0] += 1  # type: ignore[union-attr]  # a copy, not the parts' arrays
    assert not same(model.network[1], blocks.network[1])


def test_assemble_names_the_layer_whose_shape_does_not_fit() -> None:
    wide = random_checkpoint(vocab_size=5, embedding_dim=8, hidden_dim=16, max_seq_len=4)
    narrow = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=16, max_seq_len=4)
    network = [narrow.network[0], *wide.network[1:5], narrow.network[-1]]
    with pytest.raises(rf.CheckpointError) as caught:
        assemble(narrow.config, narrow.vocab, network)
    assert (
        str(caught.value) == "network[1].embedding_dim: expected 4 (config.embedding_dim), found 8"
    )
    network = [
        narrow.network[0],
        narrow.network[1],
        narrow.network[2],
        wide.network[3],
        *narrow.network[4:],
    ]
    with pytest.raises(rf.CheckpointError) as caught:
        assemble(narrow.config, narrow.vocab, network)
    assert str(caught.value) == (
        "network[3].w1: expected shape (4, 16) (config.embedding_dim = 4; "
        "config.hidden_dim = 16), found (8, 16)"
    )
    with pytest.raises(rf.CheckpointError) as caught:
        assemble(narrow.config, narrow.vocab, narrow.network[1:])
    assert str(caught.value) == "network[0].type: expected Embeddings first, found SelfAttention"
