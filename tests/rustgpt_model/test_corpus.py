from pathlib import Path

import pytest

from rustgpt_model import CorpusError, default_corpus, load_corpus
from rustgpt_model.corpus import CHAT, PRETRAINING
from rustgpt_model.evaluate import split_dialogue

# (file content, error), each naming the file
BAD = [
    (
        b"",
        "c.json: expected a JSON list of strings, found invalid JSON: Input is a zero-length, empty document: line 1 column 1 (char 0)",
    ),
    (b'{"a": "b"}', "c.json: expected a JSON list of strings, found an object"),
    (b'"text"', "c.json: expected a JSON list of strings, found str"),
    (b'["ok", 3]', "c.json[1]: expected a string, found 3"),
    (b'["ok", ["nested"]]', 'c.json[1]: expected a string, found ["nested"]'),
]


@pytest.mark.parametrize(("content", "message"), BAD)
def test_bad_corpus_files(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "c.json").write_bytes(content)
    with pytest.raises(CorpusError) as caught:
        load_corpus(tmp_path / "c.json")
    assert str(caught.value) == message.replace("c.json", str(tmp_path / "c.json"))


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as caught:
        load_corpus(tmp_path / "none.json")
    assert str(caught.value) == f"cannot read {tmp_path / 'none.json'}: No such file or directory"


def test_the_embedded_corpus() -> None:
    sentences, dialogues = default_corpus(PRETRAINING), default_corpus(CHAT)
    assert (len(sentences), len(dialogues)) == (25, 50)
    assert all(text.endswith(" </s>") for text in sentences + dialogues)
    for text in dialogues:
        prompt, answer = split_dialogue(text)
        assert prompt.startswith("User: ") and answer.startswith("Assistant: ")
    assert len(set(sentences + dialogues)) == 75
