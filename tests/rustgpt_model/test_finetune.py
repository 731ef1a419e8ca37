"""Fine-tuning (issue 16): a vocabulary that grows, frozen layers, new phases.

Old logits keep their bits when the vocabulary grows; frozen layers keep theirs (and
their Adam moments) through training; a fine-tuning phase is appended to the schedule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.validation import check_bytes
from rustgpt_model import LLM, Phase, TrainingError, build_vocab

SENTENCES = ["The cat sat on the mat </s>", "Dogs bark at the moon </s>", "Snow is cold </s>"]
NEW = ["Quokkas smile at the moon </s>", "The wombat sat on the mat </s>"]


def small(vocab: list[str] | None = None, *, blocks: int = 2, d: int = 16) -> LLM:
    words = vocab if vocab is not None else build_vocab(SENTENCES)
    return LLM.new(words, embedding_dim=d, hidden_dim=2 * d, max_seq_len=24, num_blocks=blocks)


def bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("vocab_size", [61, 200, 495])
@pytest.mark.parametrize("added", [1, 7, 64, 300])
def test_old_logits_keep_their_bits_when_the_vocabulary_grows(vocab_size: int, added: int) -> None:
    words = [f"w{index}" for index in range(vocab_size - 1)] + ["</s>"]
    llm = small(words, d=32)
    rng = np.random.default_rng(vocab_size + added)
    prompts = [rng.integers(0, vocab_size, length) for length in (1, 2, 3, 5, 17, 24)]
    before = [llm.logits(ids) for ids in prompts]
    assert llm.extend_vocab([f"new{index}" for index in range(added)]) == [
        f"new{index}" for index in range(added)
    ]
    for ids, old in zip(prompts, before, strict=True):
        now = llm.logits(ids)
        assert now.shape == (len(ids), vocab_size + added)
        assert bits(now[:, :vocab_size]) == bits(old), f"{len(ids)} tokens"


def test_new_words_are_drawn_as_a_new_model_draws_them() -> None:
    llm = small(d=64)
    added = llm.extend_vocab([f"new{index}" for index in range(400)], seed=3)
    assert len(added) == 400
    embeddings, output = llm.checkpoint.network[0], llm.checkpoint.network[-1]
    rows = embeddings.token_embeddings[-400:]  # type: ignore[union-attr]
    columns = output.w_out[:, -400:]  # type: ignore[union-attr]
    # 25 600 draws each: the standard deviations are within 2 % of N(0, 0.02), N(0, √(2/64))
    assert abs(rows.std() / 0.02 - 1) < 0.02
    assert abs(columns.std() / np.sqrt(2 / 64) - 1) < 0.02
    assert not output.b_out[:, -400:].any()  # type: ignore[union-attr]
    again = small(d=64)
    again.extend_vocab([f"new{index}" for index in range(400)], seed=3)
    assert rf.dumps(again.checkpoint) == rf.dumps(llm.checkpoint)  # same seed, same bytes


def test_an_extended_model_trains_saves_and_reloads(tmp_path: Path) -> None:
    llm = small()
    llm.train(SENTENCES, epochs=2)
    eos = llm.checkpoint.vocab.encode("</s>")
    added = llm.extend_vocab(word for text in NEW for word in text.split())
    assert added == ["Quokkas", "smile", "wombat"]
    assert llm.checkpoint.vocab.encode("</s>") == eos
    llm.train(NEW, epochs=2, name="fine_tuning")
    path = tmp_path / "tuned.json"
    llm.save(path)
    assert check_bytes(path.read_bytes()) == []
    assert rf.load(path) == llm.checkpoint
    assert [p.name for p in llm.checkpoint.training.schedule] == ["training", "fine_tuning"]  # type: ignore[union-attr]


def layer_bits(layer: rf.Layer) -> list[bytes]:
    """A layer's parameters and Adam moments, as bytes."""
    out = [bits(array) for array in layer.parameters().values()]
    for state in layer.optimizers().values():
        assert state is not None
        out += [bits(state.m), bits(state.v)]
    return out


# (what --freeze names, the indices frozen in a network of two blocks)
FREEZES = [
    (["embeddings"], (0,)),
    (["blocks"], tuple(range(1, 9))),
    (["output_projection"], (9,)),  # b_out too, though it moves by plain descent
    (["embeddings", "SelfAttention", -1], (0, 1, 5, 9)),
    ([], ()),
]


@pytest.mark.parametrize(("layers", "frozen"), FREEZES)
def test_frozen_layers_keep_their_bits(layers: list[int | str], frozen: tuple[int, ...]) -> None:
    llm = small()
    llm.train(SENTENCES, epochs=2)  # moments that are not zero
    before = [layer_bits(layer) for layer in llm.checkpoint.network]
    assert llm.freeze(layers) == frozen
    llm.extend_vocab([])  # nothing new: the freeze stays
    llm.fine_tune([Phase("fine_tuning", NEW, 3, 0.001)])
    for index, layer in enumerate(llm.checkpoint.network):
        if index in frozen:
            assert layer_bits(layer) == before[index], f"network[{index}] changed"
        else:
            assert all(
                now != then for now, then in zip(layer_bits(layer), before[index], strict=True)
            ), f"network[{index}] did not train"


def test_fine_tune_appends_phases_after_a_finished_schedule() -> None:
    llm = small()
    llm.train(SENTENCES, epochs=2)
    llm.fine_tune([Phase("fine_tuning", NEW, 2, 0.001), Phase("chat", SENTENCES, 1, 0.0001)])
    state = llm.checkpoint.training
    assert state is not None
    assert [(p.name, p.epochs) for p in state.schedule] == [
        ("training", 2),
        ("fine_tuning", 2),
        ("chat", 1),
    ]
    assert state.epochs_completed == 5 and len(state.loss_history) == 5
    assert state.schedule[1].corpus_sha256 == Phase("x", NEW, 1, 1.0).describe().corpus_sha256


def test_fine_tune_refuses_an_unfinished_schedule() -> None:
    llm = small()
    llm.fit([Phase("pretraining", SENTENCES, 3, 0.001)], max_epochs=1)
    with pytest.raises(TrainingError) as caught:
        llm.fine_tune([Phase("fine_tuning", NEW, 1, 0.001)])
    assert str(caught.value) == (
        "training: the checkpoint's schedule has 2 epochs left; finish it with fit(phases) first"
    )


def test_a_checkpoint_without_training_block_can_be_fine_tuned() -> None:
    llm = small()
    llm.checkpoint.training = None  # as RustGPT's own files are
    llm.fine_tune([Phase("fine_tuning", SENTENCES, 1, 0.001)])
    assert llm.checkpoint.training is not None
    assert llm.checkpoint.training.epochs_completed == 1
