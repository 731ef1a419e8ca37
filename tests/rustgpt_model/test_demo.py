"""``rustgpt demo`` stops instruction tuning once every dialogue is learned."""

import io
import json
from pathlib import Path

import rustgpt_format as rf
from rustgpt_model.cli import run

SENTENCES = ["the cat sat on the mat </s>", "dogs bark at the moon </s>"]
DIALOGUES = [
    "User: who sat ? Assistant: the cat sat </s>",
    "User: who barks ? Assistant: dogs bark </s>",
]
TINY = ["--embedding-dim", "16", "--hidden-dim", "32", "--max-seq-len", "16", "--blocks", "1"]


def demo(tmp_path: Path, *options: str) -> tuple[int, list[str], rf.Checkpoint]:
    corpus, chat = tmp_path / "corpus.json", tmp_path / "chat.json"
    corpus.write_text(json.dumps(SENTENCES))
    chat.write_text(json.dumps(DIALOGUES))
    out, err = io.StringIO(), io.StringIO()
    argv = ["demo", "--corpus", corpus, "--chat-corpus", chat, *TINY, "--quiet"]
    argv += ["--epochs", "30", "--lr", "0.01", "--chat-epochs", "400", "--chat-lr", "0.01"]
    code = run([str(a) for a in [*argv, *options, "--out", tmp_path / "m.json"]], out, err)
    assert err.getvalue() == ""
    return code, out.getvalue().splitlines(), rf.load(tmp_path / "m.json")


def test_tuning_stops_when_every_dialogue_is_reproduced(tmp_path: Path) -> None:
    code, lines, ckpt = demo(tmp_path)
    assert code == 0
    state = ckpt.training
    assert [phase.epochs for phase in state.schedule] == [30, 400]  # RustGPT's, recorded whole
    tuned = state.epochs_completed - 30
    assert 20 <= tuned < 400 and (tuned - 20) % 5 == 0  # first checked at 20, then every 5
    assert lines[0].endswith(f"; epoch {state.epochs_completed} of 430")
    assert lines[3].endswith(
        f": 2 of 2 dialogues of the {tmp_path / 'chat.json'} reproduced exactly"
    )
    assert lines[-1].endswith(
        f"; instruction tuning stopped at epoch {tuned} of 400, every dialogue learned "
        f"('rustgpt train --resume {tmp_path / 'm.json'} --out FILE' finishes RustGPT's schedule)"
    )


def test_a_run_bounded_by_max_epochs_is_not_cut_short(tmp_path: Path) -> None:
    code, lines, ckpt = demo(tmp_path, "--max-epochs", "60")
    assert code == 0
    assert ckpt.training.epochs_completed == 60
    assert "stopped" not in lines[-1]
