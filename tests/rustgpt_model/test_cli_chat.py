"""``rustgpt chat``: answers without the model's echo of the question, line editing (issue 10)."""

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rustgpt_model import LLM, build_vocab
from tests.rustgpt_model.cli_run import rustgpt

DIALOGUES = [
    "User: Who sat? Assistant: The cat sat </s>",
    "User: Who barks? Assistant: Dogs bark loudly </s>",
]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model that has learnt both dialogues by heart."""
    llm = LLM.new(
        build_vocab(DIALOGUES), embedding_dim=16, hidden_dim=32, max_seq_len=12, num_blocks=2
    )
    llm.train(DIALOGUES, epochs=40, lr=0.01)
    # without its '?', the model first finishes the question: the defect's precondition
    assert llm.predict("User: Who barks") == "? Assistant : Dogs bark loudly"
    path = tmp_path_factory.mktemp("chat") / "model.json"
    llm.save(path)
    return path


# (the line typed, the answer printed)
QUESTIONS = [
    ("Who barks?", "Dogs bark loudly"),
    ("Who barks", "Dogs bark loudly"),  # the model's '? Assistant :' is not part of the answer
    ("User: Who barks?", "Dogs bark loudly"),  # chat adds 'User: ' itself, once
    ("user:Who sat", "The cat sat"),
]


@pytest.mark.parametrize(("line", "answer"), QUESTIONS)
def test_the_answer_is_only_the_answer(model: Path, line: str, answer: str) -> None:
    code, out, err = rustgpt("chat", model, stdin=f"{line}\n")
    assert (code, err) == (0, "")
    assert out == f"Type a question; 'exit' quits.\nYou: Model: {answer}\nYou: \n"


def test_a_question_too_long_is_one_error_and_the_chat_goes_on(model: Path) -> None:
    code, out, err = rustgpt("chat", model, stdin="Who sat " * 6 + "\nWho sat?\n")
    assert code == 0
    assert err == (
        "rustgpt: error: the prompt is 14 tokens long, and the model reads at most "
        "max_seq_len = 12 tokens: no room to answer (use at most 11)\n"
    )
    assert out.endswith("You: You: Model: The cat sat\nYou: \n")


def read_until(fd: int, seen: bytearray, wanted: bytes, count: int, seconds: float = 20) -> None:
    """Read the terminal into ``seen`` until ``wanted`` occurs ``count`` times."""
    deadline = time.monotonic() + seconds
    while seen.count(wanted) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"waited for {wanted!r} x{count}, got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the other side closed: nothing more will come
                break


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_arrow_up_recalls_the_previous_line_in_a_terminal(model: Path) -> None:
    primary, secondary = os.openpty()
    env = {**os.environ, "TERM": "xterm", "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from rustgpt_model.cli import main; main()", "chat", str(model)],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    seen = bytearray()
    try:
        read_until(primary, seen, b"You: ", 1)
        os.write(primary, b"Who barks?\r")
        read_until(primary, seen, b"You: ", 2)
        os.write(primary, b"\x1b[A")  # arrow up: the line typed before comes back
        read_until(primary, seen, b"Who barks?", 2)
        os.write(primary, b"\r")
        read_until(primary, seen, b"You: ", 3)
        os.write(primary, b"exit\r")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(primary)
    text = bytes(seen).decode("utf-8", "replace")
    assert "^[[A" not in text
    assert text.count("Model: Dogs bark loudly") == 2  # the recalled question, asked again
