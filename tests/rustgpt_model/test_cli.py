import io
import sys
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_model import LLM
from rustgpt_model.cli import run

TINY = ["--embedding-dim", "8", "--hidden-dim", "16", "--max-seq-len", "40", "--blocks", "1"]


def rustgpt(*argv: str | Path, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run([str(a) for a in argv], out, err, io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "model.json"
    code, out, err = rustgpt("train", "--epochs", "2", "--chat-epochs", "1", *TINY, "--out", path)
    assert (code, err) == (0, "")
    assert out.endswith(f"; epoch 3 of 3\nsaved {path}\n")
    return path


def test_train_saves_a_checkpoint_and_says_so(model: Path) -> None:
    ckpt = rf.load(model)
    assert ckpt.training.epochs_completed == 3
    assert [phase.name for phase in ckpt.training.schedule] == ["pretraining", "instruction_tuning"]
    assert ckpt.config.embedding_dim == 8


def test_train_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    schedule = ["--epochs", "2", "--chat-epochs", "2", "--quiet"]
    assert rustgpt("train", *schedule, *TINY, "--out", tmp_path / "whole.json")[0] == 0
    assert (
        rustgpt("train", *schedule, *TINY, "--max-epochs", "3", "--out", tmp_path / "part.json")[0]
        == 0
    )
    code, out, err = rustgpt(
        "train", *schedule, "--resume", tmp_path / "part.json", "--out", tmp_path / "rest.json"
    )
    assert (code, err) == (0, "")
    assert out.startswith("trained 1 epochs in ")
    assert "; epoch 4 of 4\n" in out
    assert (tmp_path / "rest.json").read_bytes() == (tmp_path / "whole.json").read_bytes()


def greedy(model: Path, prompt: str) -> str:
    """The model's greedy continuation, decoded here from its logits, not by generate.

    RustGPT's pick is the last of equal maxima; the text stops before </s> or at L tokens.
    """
    llm = LLM.load(model)
    words = llm.checkpoint.vocab.words
    tokens = llm.tokenize(prompt)
    produced: list[str] = []
    while len(tokens) < llm.checkpoint.config.max_seq_len:
        logits = llm.logits(tokens)[-1]
        token = max(range(len(logits)), key=lambda i: (logits[i], i))
        if words[token] == rf.END_OF_SEQUENCE:
            break
        produced.append(words[token])
        tokens.append(token)
    return " ".join(produced)


def test_generate_eval_and_chat(model: Path) -> None:
    prompt = "User: How do bees make honey?"
    expected = greedy(model, prompt)
    assert expected  # the model says something: the comparison below can fail
    assert rustgpt("generate", model, prompt) == (0, expected + "\n", "")
    code, out, err = rustgpt("generate", model, prompt, "--seed", "1", "--top-k", "3")
    sampled = LLM.load(model).predict(prompt, top_k=3, seed=1)
    assert (code, out, err) == (0, sampled + "\n", "")
    code, out, err = rustgpt("eval", model)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "embedded pretraining.json",
        "embedded chat.json",
        "embedded chat.json",
    ]
    assert lines[2].endswith("of 50 dialogues reproduced (0%)")
    code, out, err = rustgpt("chat", model, stdin="Hello!\n\nexit\nnever read\n")
    assert (code, err) == (0, "")
    reply = greedy(model, "User: Hello!")
    _, mark, after = reply.partition("Assistant :")  # chat prints only the answer
    answer = (after if mark else reply).strip()
    assert out == f"Type a question; 'exit' quits.\nYou: Model: {answer}\nYou: You: "


def test_chat_ends_cleanly_at_end_of_input(model: Path) -> None:
    code, out, err = rustgpt("chat", model, stdin="")
    assert (code, out, err) == (0, "Type a question; 'exit' quits.\nYou: \n", "")


def test_demo_trains_validates_reloads_and_answers(tmp_path: Path) -> None:
    code, out, err = rustgpt(
        "demo",
        "--epochs",
        "1",
        "--chat-epochs",
        "1",
        *TINY,
        "--quiet",
        "--out",
        tmp_path / "m.json",
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1] == f"saved {tmp_path / 'm.json'}"
    assert lines[2].startswith(
        f"validated {tmp_path / 'm.json'}: rustgpt-checkpoint 1.0, JSON Schema and reader rules ("
    )
    assert lines[3].startswith(f"reloaded {tmp_path / 'm.json'}: ") and lines[3].endswith(
        " of 50 dialogues of the embedded chat.json reproduced exactly"
    )
    assert lines[4] == "User: How do bees make honey?"
    assert lines[6].startswith("done in ")


def test_plot_without_matplotlib_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    code, out, err = rustgpt(
        "train", *TINY, "--out", tmp_path / "m.json", "--plot", tmp_path / "loss.png"
    )
    assert (code, out, err) == (
        1,
        "",
        "rustgpt: error: --plot needs matplotlib: pip install 'rustgpt-format[plot]'\n",
    )
    assert not (tmp_path / "m.json").exists()  # refused before training


def bad_corpus(tmp_path: Path) -> Path:
    (tmp_path / "bad.json").write_text('{"not": "a list"}')
    return tmp_path / "bad.json"


# (arguments, exit code, the one line on stderr); {tmp} is a temporary folder
ERRORS = [
    ([], 2, "rustgpt: error: the following arguments are required: COMMAND (see rustgpt --help)"),
    (
        ["train"],
        2,
        "rustgpt train: error: the following arguments are required: --out (see rustgpt train --help)",
    ),
    (
        ["train", "--out", "x", "--epochs", "many"],
        2,
        "rustgpt train: error: argument --epochs: expected an integer >= 0, found 'many' (see rustgpt train --help)",
    ),
    (
        ["fly"],
        2,
        "rustgpt: error: argument COMMAND: invalid choice: 'fly' (choose from 'train', 'demo', 'generate', 'chat', 'eval') (see rustgpt --help)",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--epochs", "-1"],
        2,
        "rustgpt train: error: argument --epochs: expected an integer >= 0, found '-1' (see rustgpt train --help)",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--lr", "0"],
        2,
        "rustgpt train: error: argument --lr: expected a number > 0, found '0' (see rustgpt train --help)",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--chat-lr", "nan"],
        2,
        "rustgpt train: error: argument --chat-lr: expected a number > 0, found 'nan' (see rustgpt train --help)",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--save-every", "0"],
        2,
        "rustgpt train: error: argument --save-every: expected an integer >= 1, found '0' (see rustgpt train --help)",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--corpus", "{tmp}/none.json"],
        1,
        "rustgpt: error: cannot read {tmp}/none.json: No such file or directory",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--chat-corpus", "{tmp}/bad.json"],
        1,
        "rustgpt: error: {tmp}/bad.json: expected a JSON list of strings, found an object",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--resume", "{tmp}/none.json"],
        1,
        "rustgpt: error: cannot read {tmp}/none.json: No such file or directory",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--resume", "{tmp}/bad.json"],
        1,
        "rustgpt: error: {tmp}/bad.json: format: missing required key (expected 'rustgpt-checkpoint')",
    ),
    (
        ["train", "--out", "{tmp}/m.json", "--resume", "{tmp}/bad.json", "--blocks", "2"],
        1,
        "rustgpt: error: --blocks: not allowed with --resume (the checkpoint fixes the model)",
    ),
    (
        ["generate", "{tmp}/none.json", "hi"],
        1,
        "rustgpt: error: cannot read {tmp}/none.json: No such file or directory",
    ),
    (
        ["eval", "{tmp}/none.json"],
        1,
        "rustgpt: error: cannot read {tmp}/none.json: No such file or directory",
    ),
    (
        ["chat", "{tmp}/none.json"],
        1,
        "rustgpt: error: cannot read {tmp}/none.json: No such file or directory",
    ),
]


@pytest.mark.parametrize(("argv", "code", "line"), ERRORS)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, argv: list[str], code: int, line: str
) -> None:
    bad_corpus(tmp_path)
    result = rustgpt(*(a.format(tmp=tmp_path) for a in argv))
    assert result == (code, "", line.format(tmp=tmp_path) + "\n")


def test_generate_with_bad_sampling_options(model: Path) -> None:
    assert rustgpt("generate", model, "hi", "--top-p", "2") == (
        2,
        "",
        "rustgpt generate: error: argument --top-p: expected a number > 0 and <= 1, found '2' "
        "(see rustgpt generate --help)\n",
    )


def test_plot_writes_a_png(tmp_path: Path) -> None:
    argv = ["--epochs", "2", "--chat-epochs", "1", *TINY, "--quiet"]
    code, out, err = rustgpt(
        "train", *argv, "--out", tmp_path / "m.json", "--plot", tmp_path / "loss.png"
    )
    assert (code, err) == (0, "")
    assert out.endswith(f"plotted {tmp_path / 'loss.png'}\n")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
