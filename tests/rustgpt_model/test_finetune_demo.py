"""Fine-tuning the demo model (issue 16's figures): slow, about a minute of CPU.

The demo model learns six sentences full of words it has never seen, and still answers
its old dialogues when those are replayed briefly after (``--chat-corpus``): the
README's command, measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rustgpt_model import LLM, default_corpus, load_corpus, reproduction
from scripts.finetune_report import sentences_reproduced
from tests.rustgpt_model.cli_run import rustgpt

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "finetune-corpus.json"
CHAT = ROOT / "rustgpt_model" / "data" / "chat.json"


@pytest.mark.slow
def test_the_demo_model_learns_new_sentences_and_keeps_its_dialogues(tmp_path: Path) -> None:
    demo, tuned = tmp_path / "demo.json", tmp_path / "tuned.json"
    assert rustgpt("demo", "--out", demo, "--quiet")[0] == 0
    code, out, err = rustgpt(
        "train", "--from", demo, "--corpus", EXAMPLE, "--epochs", "20", "--lr", "0.0001",
        "--chat-corpus", CHAT, "--chat-epochs", "3", "--out", tuned, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "29 new words (29 occurrences)" in out
    sentences = load_corpus(EXAMPLE)
    before, after = LLM.load(demo).checkpoint, LLM.load(tuned).checkpoint
    assert sentences_reproduced(before, sentences, 2) == 0  # it could not: the words are new
    assert sentences_reproduced(after, sentences, 2) == len(sentences)
    kept = reproduction(after, default_corpus("chat"))
    assert kept.reproduced >= 45, f"{kept.reproduced} of {kept.dialogues} old dialogues"
