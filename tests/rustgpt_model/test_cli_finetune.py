"""``rustgpt train --from``: fine-tuning from the command line (issue 16), RustGPT's files too."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_model import LLM
from tests.oracle import Oracle, oracle  # noqa: F401
from tests.rustgpt_model.cli_run import TINY, rustgpt

SENTENCES = ["The cat sat on the mat </s>", "Dogs bark at the moon </s>", "Snow is cold </s>"]
DIALOGUES = ["User: Who sat? Assistant: The cat sat </s>", "User: Who barks? Assistant: Dogs </s>"]
NEW = ["Quokkas smile at the moon </s>", "The wombat sat on the mat , Quokkas said </s>"]
NEW_CHAT = ["User: Who smiles? Assistant: Quokkas smile </s>"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained base model (2 + 2 epochs on small corpora) and the corpora to tune on."""
    folder = tmp_path_factory.mktemp("finetune")
    for name, texts in [
        ("facts", SENTENCES),
        ("chat", DIALOGUES),
        ("new", NEW),
        ("new_chat", NEW_CHAT),
    ]:
        (folder / f"{name}.json").write_bytes(orjson.dumps(texts))
    corpora = ["--corpus", folder / "facts.json", "--chat-corpus", folder / "chat.json"]
    schedule = ["--epochs", "2", "--chat-epochs", "2", *TINY, "--quiet"]
    assert rustgpt("train", *corpora, *schedule, "--out", folder / "base.json")[0] == 0
    code, _, err = rustgpt(
        "train", *corpora, *schedule, "--max-epochs", "3", "--out", folder / "part.json"
    )
    assert (code, err) == (0, "")
    return folder


def tune(folder: Path, *flags: str | Path, base: str = "base.json") -> tuple[int, str, str]:
    return rustgpt(
        "train", "--from", folder / base, *flags, "--out", folder / "tuned.json", "--quiet"
    )


def test_new_words_are_added_and_a_phase_is_recorded(folder: Path) -> None:
    base = rf.load(folder / "base.json")
    code, out, err = tune(folder, "--corpus", folder / "new.json", "--epochs", "3")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    V = base.config.vocab_size
    assert lines[0] == (
        f"5 new words (6 occurrences) in {folder / 'new.json'}: 'Quokkas', 'smile', 'wombat', "
        f"',', 'said': added to the vocabulary ({V} -> {V + 5} words)"
    )
    assert lines[1].startswith("trained 3 epochs in ") and lines[1].endswith("; epoch 7 of 7")
    tuned = rf.load(folder / "tuned.json")
    assert tuned.vocab.words == (*base.vocab.words, "Quokkas", "smile", "wombat", ",", "said")
    state = tuned.training
    assert state is not None and base.training is not None
    assert state.schedule[:2] == base.training.schedule
    assert [(p.name, p.epochs, p.learning_rate) for p in state.schedule[2:]] == [
        ("fine_tuning", 3, 0.0005)
    ]
    assert state.epochs_completed == 7 and state.loss_history[:4] == base.training.loss_history
    llm = LLM.from_checkpoint(tuned)
    assert llm.tokenize("Quokkas smile") == [V, V + 1]


def test_new_words_can_be_ignored_as_rustgpt_does(folder: Path) -> None:
    base = rf.load(folder / "base.json")
    code, out, err = tune(folder, "--corpus", folder / "new.json", "--new-words", "ignore")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"5 new words (6 occurrences) in {folder / 'new.json'}: 'Quokkas', 'smile', 'wombat', "
        "',', 'said': ignored (skipped in training and prompts, as RustGPT does)"
    )
    assert rf.load(folder / "tuned.json").vocab == base.vocab


def test_new_words_can_be_refused(folder: Path) -> None:
    (folder / "tuned.json").unlink(missing_ok=True)
    code, out, err = tune(folder, "--corpus", folder / "new.json", "--new-words", "error")
    assert (code, out) == (1, "")
    assert err == (
        f"rustgpt: error: 5 new words (6 occurrences) in {folder / 'new.json'}: 'Quokkas', "
        "'smile', 'wombat', ',', 'said'; --new-words extend adds them to the vocabulary, ignore skips "
        "them\n"
    )
    assert not (folder / "tuned.json").exists()


def test_no_new_words_is_said_too(folder: Path) -> None:
    code, out, _ = tune(folder, "--chat-corpus", folder / "chat.json", "--chat-epochs", "1")
    assert code == 0
    assert out.splitlines()[0] == (
        f"no new words: every word of {folder / 'chat.json'} is in the vocabulary"
    )
    state = rf.load(folder / "tuned.json").training
    assert state is not None
    assert [(p.name, p.epochs, p.learning_rate) for p in state.schedule[2:]] == [
        ("chat_fine_tuning", 1, 0.0001)
    ]


def arrays(layer: rf.Layer) -> list[bytes]:
    """A layer's parameters and Adam moments as bytes."""
    out = [np.ascontiguousarray(a).tobytes() for a in layer.parameters().values()]
    for state in layer.optimizers().values():
        assert state is not None
        out += [state.m.tobytes(), state.v.tobytes()]
    return out


@pytest.mark.parametrize(
    ("freeze", "frozen", "line"),
    [
        (
            "blocks",
            [1, 2, 3, 4],
            "froze 4 of 6 layers: 1 SelfAttention, 2 LayerNorm, 3 FeedForward, 4 LayerNorm",
        ),
        ("feed_forward,-1", [3, 5], "froze 2 of 6 layers: 3 FeedForward, 5 OutputProjection"),
        ("0, SelfAttention", [0, 1], "froze 2 of 6 layers: 0 Embeddings, 1 SelfAttention"),
    ],
)
def test_frozen_layers_are_saved_bit_for_bit(
    folder: Path, freeze: str, frozen: list[int], line: str
) -> None:
    base = rf.load(folder / "base.json")
    flags = ["--chat-corpus", folder / "new_chat.json", "--chat-epochs", "2"]
    # new words ignored: the vocabulary keeps its size, so every layer compares whole
    code, out, err = tune(folder, *flags, "--new-words", "ignore", "--freeze", freeze)
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == line
    tuned = rf.load(folder / "tuned.json")
    for index, (old, new) in enumerate(zip(base.network, tuned.network, strict=True)):
        if index in frozen:
            assert arrays(old) == arrays(new), f"network[{index}] changed"
        else:
            assert all(a != b for a, b in zip(arrays(old), arrays(new), strict=True))


def test_new_words_in_a_frozen_layer_are_warned_about(folder: Path) -> None:
    flags = ["--corpus", folder / "new.json", "--epochs", "1"]
    code, _, err = tune(folder, *flags, "--freeze", "embeddings,blocks")
    assert code == 0
    assert err == (
        "rustgpt: warning: network[0] frozen: the 5 new words keep the values they were "
        "drawn with there (freeze blocks to train them)\n"
    )
    assert tune(folder, *flags, "--freeze", "blocks")[2] == ""


def test_a_schedule_that_stopped_early_ends_where_it_stopped(folder: Path) -> None:
    code, out, err = tune(
        folder, "--corpus", folder / "facts.json", "--epochs", "1", base="part.json"
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"{folder / 'part.json'}: training stopped after 3 of the 4 epochs of its schedule: "
        "the schedule now ends there, and fine-tuning follows"
    )
    state = rf.load(folder / "tuned.json").training
    assert state is not None
    assert [(p.name, p.epochs) for p in state.schedule] == [
        ("pretraining", 2),
        ("instruction_tuning", 1),
        ("fine_tuning", 1),
    ]
    assert state.epochs_completed == 4 and len(state.loss_history) == 4


# (flags, the error on stderr; {folder} is the test's folder)
REFUSED = [
    (
        ["--from", "{folder}/base.json"],
        "--from needs --corpus and/or --chat-corpus: the texts to fine-tune on",
    ),
    (
        [
            "--from",
            "{folder}/base.json",
            "--corpus",
            "{folder}/new.json",
            "--resume",
            "{folder}/part.json",
        ],
        "--from: not with --resume (one starts new phases, one continues)",
    ),
    (
        ["--from", "{folder}/base.json", "--corpus", "{folder}/new.json", "--max-epochs", "1"],
        "--max-epochs: not with --from (a fine-tuning run is not resumable)",
    ),
    (
        ["--from", "{folder}/base.json", "--corpus", "{folder}/new.json", "--blocks", "2"],
        "--blocks: not allowed with --from (the checkpoint fixes the model)",
    ),
    (["--new-words", "ignore"], "--new-words: only with --from (fine-tuning)"),
    (["--freeze", "blocks"], "--freeze: only with --from (fine-tuning)"),
    (
        ["--from", "{folder}/base.json", "--corpus", "{folder}/new.json", "--freeze", "attention"],
        "--freeze attention: expected an index, blocks or a kind (Embeddings, SelfAttention, "
        "FeedForward, LayerNorm, OutputProjection), found 'attention'",
    ),
    (
        ["--from", "{folder}/base.json", "--corpus", "{folder}/new.json", "--freeze", "9"],
        "--freeze 9: expected an index in [-6, 6) (the network has 6 layers), found 9",
    ),
    (
        ["--from", "{folder}/base.json", "--corpus", "{folder}/new.json", "--freeze", "blocks,"],
        "--freeze 'blocks,': expected comma-separated names, found an empty one",
    ),
    (
        ["--from", "{folder}/missing.json", "--corpus", "{folder}/new.json"],
        "cannot read {folder}/missing.json: No such file or directory",
    ),
]


@pytest.mark.parametrize(("flags", "message"), REFUSED, ids=[m[:40] for _, m in REFUSED])
def test_refused_before_any_work(folder: Path, flags: list[str], message: str) -> None:
    argv = [flag.format(folder=folder) for flag in flags]
    code, out, err = rustgpt("train", *argv, "--out", folder / "refused.json", "--quiet")
    assert (code, out) == (1, "")
    assert err == f"rustgpt: error: {message.format(folder=folder)}\n"
    assert not (folder / "refused.json").exists()


def test_a_checkpoint_rustgpt_trained_is_fine_tuned_and_handed_back(
    tmp_path: Path,
    oracle: Oracle,  # noqa: F811
) -> None:
    """RustGPT's .bin in, new words learned, RustGPT's .bin out: RustGPT reads it and its
    logits are ours (to 1e-5 of the largest)."""
    oracle.run("new", tmp_path / "rust.bin", "7", "--tiny", "--epochs", "1")
    corpus = tmp_path / "mine.json"
    corpus.write_bytes(orjson.dumps(["hello rust world </s>", "hello quokka world </s>"]))
    out = tmp_path / "tuned.bin"
    code, stdout, stderr = rustgpt(
        "train", "--from", tmp_path / "rust.bin", "--corpus", corpus, "--epochs", "3",
        "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert stdout.splitlines()[0] == (
        f"1 new words (1 occurrences) in {corpus}: 'quokka': added to the vocabulary (6 -> 7 words)"
    )
    assert "migrated from format version 0 -> 1.0" in stderr  # RustGPT's file, read
    assert "have no place for training" in stderr  # and its form cannot keep our training block
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        base, tuned = rf.load(tmp_path / "rust.bin"), rf.load(out)
    assert tuned.vocab.words == (*base.vocab.words, "quokka")
    assert not np.array_equal(tuned.network[1].w_q, base.network[1].w_q)  # type: ignore[union-attr]
    found = json.loads(oracle.run("logits", out, "hello quokka", "--json"))
    ours = LLM.from_checkpoint(tuned).logits([0, 6])[-1]
    assert found["tokens"] == [0, 6] and found["vocab_size"] == 7
    theirs = np.array(found["logit_bits"], np.uint32).view(np.float32)
    assert np.abs(theirs - ours).max() <= 1e-5 * np.abs(ours).max()
