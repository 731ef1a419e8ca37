from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_model import LLM, build_vocab

TEXTS = ["Snow is cold </s>", "Fire is hot </s>"]


def test_new_has_rustgpt_defaults() -> None:
    ckpt = LLM.new(build_vocab(TEXTS)).checkpoint
    kinds = [layer.type for layer in ckpt.network]
    assert kinds == [
        "Embeddings",
        *["SelfAttention", "LayerNorm", "FeedForward", "LayerNorm"] * 3,
        "OutputProjection",
    ]
    config = ckpt.config
    assert (config.embedding_dim, config.hidden_dim, config.max_seq_len, config.vocab_size) == (
        128,
        256,
        80,
        10,  # RustGPT's vocabulary: the 5 words, '</s>', and '<', '/', 's', '>' from it
    )
    assert ckpt.training.seed == 0 and ckpt.training.schedule == []


def test_initial_distributions() -> None:
    ckpt = LLM.new([f"w{i}" for i in range(999)] + ["</s>"], seed=5).checkpoint
    embeddings, attention, norm, feed_forward = ckpt.network[:4]
    assert np.std(embeddings.token_embeddings) == pytest.approx(0.02, rel=0.02)
    assert np.std(attention.w_q) == pytest.approx(np.sqrt(2 / 128), rel=0.02)
    assert np.std(feed_forward.w2) == pytest.approx(np.sqrt(2 / 256), rel=0.02)
    assert not feed_forward.b1.any() and not norm.beta.any() and (norm.gamma == 1).all()
    assert attention.optimizer_w_q.timestep == 0 and not attention.optimizer_w_q.m.any()


def test_from_checkpoint_uses_the_object_itself() -> None:
    ckpt = tiny_checkpoint()
    assert LLM.from_checkpoint(ckpt).checkpoint is ckpt


def test_save_and_load_give_the_same_model(tmp_path: Path) -> None:
    llm = LLM.new(build_vocab(TEXTS), embedding_dim=8, hidden_dim=16, max_seq_len=6, num_blocks=1)
    llm.train(TEXTS, epochs=2, lr=0.01)
    llm.save(tmp_path / "model.json")
    loaded = LLM.load(tmp_path / "model.json")
    assert loaded.checkpoint == llm.checkpoint
    np.testing.assert_array_equal(loaded.logits([0, 1, 2]), llm.logits([0, 1, 2]))
    assert rf.load(tmp_path / "model.json").training.epochs_completed == 2


def test_predict_returns_only_the_continuation() -> None:
    llm = LLM.new(build_vocab(TEXTS), embedding_dim=16, hidden_dim=32, max_seq_len=8, num_blocks=2)
    llm.train(TEXTS, epochs=40, lr=0.01)
    assert llm.predict("Snow") == "is cold"
    assert llm.predict("Fire is") == "hot"
    assert llm.predict("nothing known") == ""  # no known token: no prompt, no continuation


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "token_ids: expected 1 to 3 ids, found shape (0,)"),
        ([0, 1, 2, 0], "token_ids: expected 1 to 3 ids, found shape (4,)"),
        ([0, 3], "token_ids: expected ids in [0, 3), found 0 to 3"),
        ([-1], "token_ids: expected ids in [0, 3), found -1 to -1"),
    ],
)
def test_logits_refuses_bad_ids(ids: list[int], message: str) -> None:
    llm = LLM.new(["a", "b", "</s>"], embedding_dim=4, hidden_dim=4, max_seq_len=3, num_blocks=1)
    with pytest.raises(ValueError) as caught:
        llm.logits(ids)
    assert str(caught.value) == message


def test_logits_shape_and_dtype() -> None:
    llm = LLM.new(["a", "b", "</s>"], embedding_dim=4, hidden_dim=4, max_seq_len=3, num_blocks=1)
    logits = llm.logits([0, 2])
    assert (logits.shape, logits.dtype) == ((2, 3), np.float32)
