"""``extend_vocab`` on the format's objects (issue 16): ids kept, arrays grown, file valid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.edit import extend_vocab
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.validation import check_bytes


def ones(name: str, shape: tuple[int, int]) -> np.ndarray:
    return np.full(shape, {"token_embeddings": 1, "w_out": 2, "b_out": 3}[name], np.float32)


def test_new_words_go_at_the_end_and_old_ids_stay() -> None:
    base = random_checkpoint(vocab_size=6, embedding_dim=4, hidden_dim=8, max_seq_len=3)
    bigger = extend_vocab(base, ["moon", "w2", "sun", "moon", "</s>"], init=ones)
    assert bigger.vocab.words == (*base.vocab.words, "moon", "sun")
    assert bigger.vocab.encode("</s>") == base.vocab.encode("</s>") == 5
    assert bigger.config.vocab_size == 8
    assert bigger.config.model_copy(update={"vocab_size": 6}) == base.config


def test_arrays_grow_along_the_vocabulary_and_keep_their_old_part() -> None:
    base = random_checkpoint(vocab_size=6, embedding_dim=4, hidden_dim=8, max_seq_len=3)
    bigger = extend_vocab(base, ["moon", "sun"], init=ones)
    old_embed, new_embed = base.network[0], bigger.network[0]
    old_out, new_out = base.network[-1], bigger.network[-1]
    assert new_embed.token_embeddings.shape == (8, 4)  # type: ignore[union-attr]
    assert new_out.w_out.shape == (4, 8) and new_out.b_out.shape == (1, 8)  # type: ignore[union-attr]
    # the old part bit for bit, the new one from init
    pairs = [
        (
            old_embed.token_embeddings,
            new_embed.token_embeddings[:6],
            new_embed.token_embeddings[6:],
            1,
        ),  # type: ignore[union-attr]
        (old_out.w_out, new_out.w_out[:, :6], new_out.w_out[:, 6:], 2),  # type: ignore[union-attr]
        (old_out.b_out, new_out.b_out[:, :6], new_out.b_out[:, 6:], 3),  # type: ignore[union-attr]
    ]
    for old, kept, added, value in pairs:
        assert kept.tobytes() == old.tobytes()
        assert (added == value).all()
    # Adam moments: old part kept, new part zero; timestep and the rest untouched
    for old_state, new_state, axis in [
        (old_embed.token_optimizer, new_embed.token_optimizer, 0),  # type: ignore[union-attr]
        (old_out.optimizer, new_out.optimizer, 1),  # type: ignore[union-attr]
    ]:
        for moment in ("m", "v"):
            old, new = getattr(old_state, moment), getattr(new_state, moment)
            kept, added = np.split(new, [6], axis=axis)
            assert kept.tobytes() == old.tobytes() and added.shape[axis] == 2
            assert not added.any()
        assert new_state.timestep == old_state.timestep
    # what has no vocabulary axis is unchanged (the positional embeddings, every block)
    assert new_embed.positional_embeddings.tobytes() == old_embed.positional_embeddings.tobytes()  # type: ignore[union-attr]
    assert all(
        np.array_equal(getattr(a, name), getattr(b, name))
        for a, b in zip(base.network[1:-1], bigger.network[1:-1], strict=True)
        for name in a.SHAPES
    )


def test_the_input_is_left_as_it_was() -> None:
    base = tiny_checkpoint()
    before = rf.dumps(base)
    extend_vocab(base, ["moon"], init=ones)
    assert rf.dumps(base) == before


def test_no_new_word_gives_an_equal_copy() -> None:
    base = tiny_checkpoint()
    same = extend_vocab(base, ["w0", "</s>"])
    assert same == base and same is not base


@pytest.mark.parametrize("suffix", [".json", ".safetensors", ".json.gz"])
def test_the_extended_checkpoint_is_a_valid_file(tmp_path: Path, suffix: str) -> None:
    bigger = extend_vocab(tiny_checkpoint(), ["moon", "sun"])  # zeros by default
    path = tmp_path / f"bigger{suffix}"
    rf.save(bigger, path)
    assert check_bytes(path.read_bytes()) == []
    assert rf.load(path) == bigger


def test_inference_only_checkpoints_grow_without_optimizers() -> None:
    base = random_checkpoint(
        vocab_size=4, embedding_dim=4, hidden_dim=8, max_seq_len=2, optimizer=False
    )
    bigger = extend_vocab(base, ["moon"])
    assert bigger.network[0].token_optimizer is None  # type: ignore[union-attr]
    assert bigger.network[-1].w_out.shape == (4, 5)  # type: ignore[union-attr]


# (words, the error)
BAD_WORDS = [
    (["a b"], "vocab.words[3]: expected a word without white space, found 'a b'"),
    ([""], "vocab.words[3]: expected a non-empty word, found ''"),
]


@pytest.mark.parametrize(("words", "message"), BAD_WORDS)
def test_a_word_the_vocabulary_cannot_hold_is_named(words: list[str], message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        extend_vocab(tiny_checkpoint(), words)
    assert str(caught.value) == message


def test_init_values_of_the_wrong_shape_are_refused() -> None:
    def wrong(name: str, shape: tuple[int, int]) -> np.ndarray:
        return np.zeros((shape[1], shape[0]), np.float32)

    with pytest.raises(ValueError) as caught:
        extend_vocab(tiny_checkpoint(), ["moon", "sun"], init=wrong)
    assert str(caught.value) == (
        "init: expected finite float32 values of shape (2, 4) for the new part of "
        "token_embeddings, found float32 of shape (4, 2)"
    )
