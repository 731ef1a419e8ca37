"""rustgpt_model against the real RustGPT (the ``oracle`` fixture, built from ../shared).

The same tokens, vocabulary, logits and greedy continuations as RustGPT for the same
checkpoint; and training handed across in both directions: one Adam step taken by
RustGPT and by us from the same saved state, compared parameter by parameter.

What can be compared exactly in training, and why: RustGPT's backward is not the true
gradient (``rustgpt_gradients.py`` says where), so after one step only the parameters
whose gradient both compute the same way agree: ``w_out`` and the last LayerNorm's
``gamma`` and ``beta`` (to 1e-4 of the learning rate beyond 2 ulp of the parameter),
and ``b_out`` (RustGPT moves it by the mean over positions, we by the sum). RustGPT's
Adam arithmetic is checked bit for bit, and the gradient it used (recovered from its
first moment) against a float64 model of its backward, which also shows how far the
true gradient is from it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_model import LLM, build_vocab, generate
from rustgpt_model.loss import cross_entropy
from rustgpt_model.network import forward
from rustgpt_model.train import Trainer
from tests.oracle import DATA, Oracle, oracle  # noqa: F401
from tests.rustgpt_model.rustgpt_gradients import gradients

PRETRAINING: list[str] = json.loads((DATA / "pretraining_data.json").read_text())
CHAT: list[str] = json.loads((DATA / "chat_training_data.json").read_text())
PROMPTS = [
    "The sun rises in the",
    "Water flows downhill",
    "Mountains are tall and",
    "User: How do mountains form?",
]
LOGIT_TOLERANCE = 1e-5  # of the largest |logit|
LR = 0.001


def load(path: Path) -> rf.Checkpoint:
    """A RustGPT-dialect file, without its migration warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        return rf.load(path)


def save_rustgpt(checkpoint: rf.Checkpoint, path: Path) -> Path:
    """Save in RustGPT's dialect (dropping our training block, as the dialect must)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        rf.save(checkpoint, path, dialect="rustgpt")
    return path


def rustgpt_logits(oracle: Oracle, path: Path, text: str) -> dict[str, Any]:  # noqa: F811
    """RustGPT's tokens, logits (T, V) and greedy continuation (as words) for ``text``."""
    found = json.loads(oracle.run("logits", path, text, "--all", "--json"))
    bits = np.array(found["logit_bits"], np.uint32)  # (T, V)
    words = found["predict"].split(" ") if found["predict"] else []
    return {"tokens": found["tokens"], "logits": bits.view(np.float32), "words": words}


# --- the files ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("oracle-model")


@pytest.fixture(scope="session")
def rustgpt_untrained(oracle: Oracle, folder: Path) -> Path:  # noqa: F811
    """RustGPT's main.rs network (533 words, 3 blocks), fresh from its seeded RNG."""
    path = folder / "rustgpt-untrained.json"
    oracle.run("new", path, "11", "--compact")
    return path


@pytest.fixture(scope="session")
def rustgpt_trained(oracle: Oracle, folder: Path) -> Path:  # noqa: F811
    """The same network after one epoch of RustGPT's pre-training (batch 4, as main.rs)."""
    path = folder / "rustgpt-trained.json"
    oracle.run("new", path, "11", "--epochs", "1", "--compact")
    return path


@pytest.fixture(scope="session")
def rustgpt_tiny(oracle: Oracle, folder: Path) -> Path:  # noqa: F811
    """``LLM::default()`` (6 words, one block) after one epoch: its Adam moments are set."""
    path = folder / "rustgpt-tiny.json"
    oracle.run("new", path, "3", "--tiny", "--epochs", "1")
    return path


@pytest.fixture(scope="session")
def ours_trained(folder: Path) -> Path:
    """A small model trained here for two epochs, saved in RustGPT's dialect."""
    llm = LLM.new(
        build_vocab(PRETRAINING), embedding_dim=16, hidden_dim=32, max_seq_len=80, num_blocks=1
    )
    llm.train(PRETRAINING, epochs=2, lr=LR)
    return save_rustgpt(llm.checkpoint, folder / "ours-trained.json")


# --- tokens and vocabulary --------------------------------------------------------------

# Python's str.split() also splits at U+001C..U+001F; Rust's split_whitespace does not.
WHITE_SPACE_CANDIDATES = sorted(
    {chr(c) for c in range(0x3001) if chr(c).isspace()} | {"\x85", "\u200b", "\u180e", "\ufeff"}
)


def test_tokens_split_where_rustgpt_splits(oracle: Oracle, rustgpt_untrained: Path) -> None:  # noqa: F811
    """Each candidate white-space character between two known words: split or not."""
    text = " ".join(f"The{char}sun" for char in WHITE_SPACE_CANDIDATES) + " it's. </s> x</s>"
    expected = rustgpt_logits(oracle, rustgpt_untrained, text)["tokens"]
    assert LLM(load(rustgpt_untrained)).tokenize(text) == expected


TRICKY_TEXTS = [
    "sun\x1fmoon rises, it's </s>",  # U+001F is not white space to Rust
    "end</s> x",  # attached, </s> is punctuation and letters
    "café – naïve \u3000 wide",  # non-ASCII: only white space and ASCII punctuation split
]


@pytest.fixture(scope="session")
def rustgpt_tricky_vocab(oracle: Oracle, folder: Path) -> list[str]:  # noqa: F811
    """The vocabulary RustGPT's main.rs builds from TRICKY_TEXTS."""
    data = folder / "tricky-data"
    data.mkdir()
    (data / "pretraining_data.json").write_text(json.dumps(TRICKY_TEXTS[:2]))
    (data / "chat_training_data.json").write_text(json.dumps(TRICKY_TEXTS[2:]))
    path = folder / "rustgpt-tricky.json"
    oracle.run("new", path, "1", "--data", data, "--compact")
    words: list[str] = json.loads(path.read_text(encoding="utf-8"))["vocab"]["words"]
    return words


def test_vocabulary_is_rustgpts(rustgpt_untrained: Path, rustgpt_tricky_vocab: list[str]) -> None:
    """build_vocab gives the words main.rs gives: '</s>' in a text adds '<', '/', 's', '>'."""
    words = json.loads(rustgpt_untrained.read_text())["vocab"]["words"]
    assert build_vocab(PRETRAINING + CHAT) == words
    assert len(words) == 533
    assert build_vocab(TRICKY_TEXTS) == rustgpt_tricky_vocab


# --- logits and greedy continuations --------------------------------------------------------


@pytest.mark.parametrize("model", ["rustgpt_untrained", "rustgpt_trained", "ours_trained"])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_logits_and_greedy_continuation_as_rustgpt(
    oracle: Oracle,  # noqa: F811
    request: pytest.FixtureRequest,
    model: str,
    prompt: str,
) -> None:
    path: Path = request.getfixturevalue(model)
    theirs = rustgpt_logits(oracle, path, prompt)
    llm = LLM(load(path))
    tokens = llm.tokenize(prompt)
    assert tokens == theirs["tokens"]
    ours = llm.logits(tokens)  # (T, V)
    assert ours.shape == theirs["logits"].shape
    scale = float(np.abs(theirs["logits"]).max())
    assert float(np.abs(ours - theirs["logits"]).max()) <= LOGIT_TOLERANCE * scale
    assert ours.argmax(axis=1).tolist() == theirs["logits"].argmax(axis=1).tolist()
    words = llm.checkpoint.vocab.words
    assert [words[t] for t in generate(llm.checkpoint, tokens)] == theirs["words"]
    ended = theirs["words"][-1:] == ["</s>"]  # RustGPT's predict keeps the final </s>
    assert llm.predict(prompt).split() == theirs["words"][: len(theirs["words"]) - ended]


def test_greedy_ties_go_to_the_last_word(oracle: Oracle, ours_trained: Path, folder: Path) -> None:  # noqa: F811
    """With every logit equal RustGPT picks the last word (Rust's max_by), and so do we."""
    checkpoint = load(ours_trained)
    output = checkpoint.network[-1]
    assert isinstance(output, rf.OutputProjection)
    output.w_out[...] = 0
    output.b_out[...] = 0
    path = save_rustgpt(checkpoint, folder / "ties.json")
    theirs = rustgpt_logits(oracle, path, PROMPTS[0])["words"]
    words = checkpoint.vocab.words
    assert theirs[0] == words[-1]
    assert [words[t] for t in generate(checkpoint, LLM(checkpoint).tokenize(PROMPTS[0]))] == theirs


# --- training across languages ----------------------------------------------------------------


def _powi(base: np.float32, exponent: int) -> np.float32:
    """Rust's f32::powi as compiled (compiler-rt's __powisf2: square and multiply)."""
    result = np.float32(1)
    while True:
        if exponent & 1:
            result = np.float32(result * base)
        exponent >>= 1
        if not exponent:
            return result
        base = np.float32(base * base)


def _rustgpt_adam(before: np.ndarray, state: Any, lr: float) -> np.ndarray:
    """RustGPT's Adam::step, float32 operation by operation, from the moments it wrote."""
    beta1, beta2 = np.float32(state.beta1), np.float32(state.beta2)
    m_hat = state.m / (np.float32(1) - _powi(beta1, state.timestep))
    v_hat = state.v / (np.float32(1) - _powi(beta2, state.timestep))
    update = m_hat / (np.sqrt(v_hat) + np.float32(state.epsilon))
    return before - update * np.float32(lr)  # type: ignore[no-any-return]


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


ONE_STEP_TEXTS = {
    "ours_trained": PRETRAINING[3],
    "rustgpt_tiny": "hello world this is rust </s>",
}


@pytest.mark.parametrize("model", list(ONE_STEP_TEXTS))
def test_one_step_from_a_saved_state_as_rustgpt_takes_it(
    oracle: Oracle,  # noqa: F811
    request: pytest.FixtureRequest,
    folder: Path,
    model: str,
) -> None:
    """RustGPT and we each take one step from the same file, on the same sequence."""
    start: Path = request.getfixturevalue(model)
    text = ONE_STEP_TEXTS[model]
    corpus = folder / f"{model}-one-text.json"
    corpus.write_text(json.dumps([text]))
    stepped = folder / f"{model}-rustgpt-step.json"
    oracle.run(
        "train", start, stepped, "--epochs", "1", "--lr", str(LR), "--clip", "none",
        "--corpus", corpus, "--compact",
    )  # fmt: skip
    before, theirs, ours = load(start), load(stepped), load(start)
    token_ids = np.array(LLM(before).tokenize(text))
    assert len(token_ids) >= 3
    Trainer(ours).step(token_ids, LR)  # RustGPT's --clip none: ours clips at 5, never reached
    rustgpt_grads = gradients(before.network, token_ids, rustgpt=True)
    true_grads = gradients(before.network, token_ids, rustgpt=False)
    last_norm = max(i for i, layer in enumerate(before.network) if layer.type == "LayerNorm")
    for index, (old, new, mine) in enumerate(
        zip(before.network, theirs.network, ours.network, strict=True)
    ):
        for optimizer, name in old.OPTIMIZERS.items():
            where = f"network[{index}].{name}"
            state_before, state = getattr(old, optimizer), getattr(new, optimizer)
            assert state.timestep == state_before.timestep + 1, where
            # RustGPT's Adam arithmetic, to the bit, from the moments it saved
            expected = _rustgpt_adam(getattr(old, name), state, LR)
            assert np.array_equal(expected.view(np.uint32), getattr(new, name).view(np.uint32)), (
                where
            )
            # the gradient it used, recovered from m = β1·m_before + (1 − β1)·g
            beta1 = float(np.float32(state.beta1))
            used = (state.m.astype(np.float64) - beta1 * state_before.m) / (1 - beta1)
            assert _relative(used, rustgpt_grads[index, name]) < 1e-4, where
            if index >= last_norm:
                # the gradient formulas coincide: our step lands where RustGPT's does
                assert _relative(used, true_grads[index, name]) < 1e-4, where
                apart = np.abs(getattr(mine, name).astype(np.float64) - getattr(new, name))
                resolution = 2 * np.spacing(np.abs(getattr(new, name)))  # of the parameter
                assert float((apart - resolution).max()) <= 1e-4 * LR, where
            else:
                # upstream of the last LayerNorm RustGPT's backward is not the gradient
                assert _relative(used, true_grads[index, name]) > 1e-2, where
    b_before = before.network[-1].b_out  # type: ignore[union-attr]
    logits, _ = forward(before.network, token_ids[:-1])
    _, grad_logits = cross_entropy(logits, token_ids[1:])  # (T, V)
    rust_moved = theirs.network[-1].b_out.astype(np.float64) - b_before  # type: ignore[union-attr]
    our_moved = ours.network[-1].b_out.astype(np.float64) - b_before  # type: ignore[union-attr]
    slack = 2 * float(np.spacing(np.abs(b_before).max() + LR))  # what the subtraction rounds
    mean, total = grad_logits.mean(axis=0), grad_logits.sum(axis=0)  # T apart, T >= 2
    np.testing.assert_allclose(rust_moved[0], -LR * mean, rtol=1e-4, atol=slack)
    np.testing.assert_allclose(our_moved[0], -LR * total, rtol=1e-4, atol=slack)


def _corpus_loss(checkpoint: rf.Checkpoint, texts: list[str]) -> float:
    llm = LLM(checkpoint)
    losses = []
    for text in texts:
        ids = np.array(llm.tokenize(text))
        if len(ids) >= 2:
            logits, _ = forward(checkpoint.network, ids[:-1])
            losses.append(cross_entropy(logits, ids[1:])[0])
    return float(np.mean(losses))


def _timesteps(checkpoint: rf.Checkpoint) -> list[int]:
    return [
        state.timestep
        for layer in checkpoint.network
        for state in layer.optimizers().values()
        if state is not None
    ]


def test_rustgpt_trains_on_from_our_adam_state(
    oracle: Oracle,  # noqa: F811
    ours_trained: Path,
    folder: Path,
) -> None:
    """A model trained here, trained one more epoch by RustGPT, read back here."""
    carried = folder / "ours-then-rustgpt.json"
    oracle.run("train", ours_trained, carried, "--epochs", "1", "--lr", str(LR), "--clip", "none")
    before, after = load(ours_trained), load(carried)
    steps = sum(len(LLM(before).tokenize(text)) >= 2 for text in PRETRAINING)  # batch 1
    assert steps == len(PRETRAINING)
    assert _timesteps(after) == [t + steps for t in _timesteps(before)]
    assert set(_timesteps(before)) == {2 * steps}  # our two epochs, one Adam step per text
    assert _corpus_loss(after, PRETRAINING) < _corpus_loss(before, PRETRAINING)


def test_we_train_on_from_rustgpts_adam_state(
    oracle: Oracle,  # noqa: F811
    rustgpt_tiny: Path,
    folder: Path,
) -> None:
    """RustGPT's trained LLM::default(), trained one more epoch here, run again by RustGPT."""
    llm = LLM(load(rustgpt_tiny))
    before = _timesteps(llm.checkpoint)
    assert min(before) > 0
    start_loss = _corpus_loss(llm.checkpoint, PRETRAINING)
    steps = sum(len(llm.tokenize(text)) >= 2 for text in PRETRAINING)
    assert steps > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer states are all there: no fresh start
        llm.train(PRETRAINING, epochs=1, lr=0.0005)
    assert _timesteps(llm.checkpoint) == [t + steps for t in before]
    assert _corpus_loss(llm.checkpoint, PRETRAINING) < start_loss
    path = save_rustgpt(llm.checkpoint, folder / "rustgpt-then-ours.json")
    theirs = rustgpt_logits(oracle, path, "hello world this is")
    ours = llm.logits(theirs["tokens"])
    scale = float(np.abs(theirs["logits"]).max())
    assert float(np.abs(ours - theirs["logits"]).max()) <= LOGIT_TOLERANCE * scale


def test_rustgpt_scales_short_sequences_when_it_made_the_model(
    oracle: Oracle,  # noqa: F811
    ours_trained: Path,
    folder: Path,
) -> None:
    """RustGPT's training differs from ours when the LLM was built by ``LLM::new``.

    ``LLM::new`` (main.rs, ``oracle new --epochs``) installs AdaptiveGradientClipping:
    each row of dL/dlogits centred (already zero-mean: a no-op but for rounding), then
    the whole scaled by min(1, 0.01 / (‖G‖ / √(T·V))). ``LLM::load`` installs none, and
    our L2 clip at 5 never acts (‖G‖ ≤ √(2/T)), so we train as RustGPT does after a load.
    """
    text = "Snow is cold and white </s>"  # short: its gradient is scaled
    corpus = folder / "short-text.json"
    corpus.write_text(json.dumps([text]))
    stepped = folder / "ours-adaptive-step.json"
    oracle.run(
        "train", ours_trained, stepped, "--epochs", "1", "--lr", str(LR), "--clip", "adaptive",
        "--corpus", corpus, "--compact",
    )  # fmt: skip
    before, after = load(ours_trained), load(stepped)
    token_ids = np.array(LLM(before).tokenize(text))
    logits, _ = forward(before.network, token_ids[:-1])
    _, grad_logits = cross_entropy(logits, token_ids[1:], clip=None)  # (T, V)
    norm = float(np.linalg.norm(grad_logits.astype(np.float64)))
    assert norm <= np.sqrt(2 / len(grad_logits)) < 5
    scale = min(1.0, 0.01 / (norm / np.sqrt(grad_logits.size)))
    assert scale < 0.9
    old, new = before.network[-1], after.network[-1]
    assert isinstance(old, rf.OutputProjection) and isinstance(new, rf.OutputProjection)
    assert old.optimizer is not None and new.optimizer is not None
    beta1 = float(np.float32(new.optimizer.beta1))
    used = (new.optimizer.m.astype(np.float64) - beta1 * old.optimizer.m) / (1 - beta1)
    true_w_out = gradients(before.network, token_ids, rustgpt=True)[
        len(before.network) - 1, "w_out"
    ]
    assert _relative(used, scale * true_w_out) < 1e-4
    assert _relative(used, true_w_out) > 0.1
