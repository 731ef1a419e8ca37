"""The binary form's writer lays out the container itself (issue 13: no copy of the
tensors before they are written); its bytes must be the safetensors library's, byte for
byte, for every checkpoint."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import safetensors.numpy
from hypothesis import given, settings

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.forms.safetensors import _container, _tensors_and_metadata
from tests.strategies import checkpoints


def library_bytes(checkpoint: rf.Checkpoint) -> bytes:
    tensors, metadata = _tensors_and_metadata(checkpoint)
    return safetensors.numpy.save(tensors, metadata=metadata)


def written(checkpoint: rf.Checkpoint, folder: Path) -> bytes:
    target = folder / "model.safetensors"
    rf.save(checkpoint, target)
    return target.read_bytes()


def test_the_bytes_are_the_librarys(tmp_path: Path) -> None:
    for checkpoint in [
        tiny_checkpoint(),
        random_checkpoint(),
        random_checkpoint(
            vocab_size=13, embedding_dim=3, hidden_dim=2, max_seq_len=1, optimizer=False
        ),
    ]:
        expected = library_bytes(checkpoint)
        assert rf.dumps(checkpoint, form="safetensors") == expected
        assert written(checkpoint, tmp_path) == expected


def test_every_character_in_the_metadata_is_escaped_as_the_library_escapes_it(
    tmp_path: Path,
) -> None:
    """Words and metadata reach the header as JSON text inside a JSON string."""
    checkpoint = tiny_checkpoint()
    characters = "".join(map(chr, range(1, 128))) + "é\u2028\u2029\U0001f600\ufeff"
    checkpoint.metadata = {"all": characters, '"\\': string.whitespace}
    assert written(checkpoint, tmp_path) == library_bytes(checkpoint)


def test_header_lengths_of_every_remainder_are_padded_alike() -> None:
    """The header is padded with spaces to a multiple of 8: try every remainder."""
    for extra in range(8):
        checkpoint = tiny_checkpoint()
        checkpoint.metadata = {"pad": "x" * extra}
        head, _ = _container(checkpoint)
        assert len(head) % 8 == 0
        assert rf.dumps(checkpoint, form="safetensors") == library_bytes(checkpoint)


def test_a_non_contiguous_array_is_written_in_order(tmp_path: Path) -> None:
    """The library writes the memory under a strided view as it lies (0.8 asks for
    contiguous tensors and does not check): the writer writes the view's values."""
    checkpoint = tiny_checkpoint()
    attention = checkpoint.network[1]
    wide = np.arange(32, dtype=np.float32).reshape(4, 8)
    attention.w_q = wide[:, ::2]  # type: ignore[union-attr]
    data = written(checkpoint, tmp_path)
    loaded = rf.load(tmp_path / "model.safetensors").network[1]
    np.testing.assert_array_equal(loaded.w_q, wide[:, ::2])  # type: ignore[union-attr]
    attention.w_q = wide[:, ::2].copy()  # type: ignore[union-attr]
    assert data == library_bytes(checkpoint)


@settings(max_examples=40, deadline=None)
@given(checkpoints())
def test_any_checkpoint_gives_the_librarys_bytes(checkpoint: rf.Checkpoint) -> None:
    assert rf.dumps(checkpoint, form="safetensors") == library_bytes(checkpoint)
