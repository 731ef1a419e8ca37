"""``rustgpt eval``: nothing evaluated is an error; unknown words are counted (issue 10)."""

from pathlib import Path

import orjson
import pytest

from rustgpt_model import CorpusError, default_corpus
from tests.rustgpt_model.cli_run import TINY, rustgpt


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "model.json"
    code, _, err = rustgpt("train", "--epochs", "1", "--chat-epochs", "1", *TINY, "--out", path)
    assert (code, err) == (0, "")
    return path


def corpus(folder: Path, texts: list[str]) -> Path:
    (folder / "c.json").write_bytes(orjson.dumps(texts))
    return folder / "c.json"


# (the corpus given as --corpus, the error)
NOTHING = [
    ([], "{c}: nothing to evaluate: the corpus is empty"),
    (
        ["zzyzx qwxz blorf", "plugh xyzzy"],
        "{c}: nothing to evaluate: none of its 2 texts has two tokens the model knows "
        "(5 of 5 tokens unknown to the model, 100.0%)",
    ),
    (  # one known token predicts nothing
        ["cold zzyzx", "</s>"],
        "{c}: nothing to evaluate: none of its 2 texts has two tokens the model knows "
        "(1 of 3 tokens unknown to the model, 33.3%)",
    ),
]


@pytest.mark.parametrize(("texts", "message"), NOTHING)
def test_nothing_to_evaluate_is_an_error(
    model: Path, tmp_path: Path, texts: list[str], message: str
) -> None:
    path = corpus(tmp_path, texts)
    assert rustgpt("eval", model, "--corpus", path) == (
        1,
        "",
        f"rustgpt: error: {message.format(c=path)}\n",
    )


def test_every_report_gives_the_unknown_words(model: Path, tmp_path: Path) -> None:
    path = corpus(tmp_path, ["The sun is cold zzyzx </s>", "Water zzyzx qwxz boils </s>"])
    code, out, err = rustgpt("eval", model, "--corpus", path)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(f"{path}: loss ")
    assert lines[0].endswith("(2 sequences, 5 tokens; 4 of 11 tokens unknown to the model, 36.4%)")
    assert lines[1].startswith("embedded chat.json: loss ")
    assert lines[1].endswith("tokens; 0 of 1319 tokens unknown to the model, 0.0%)")


@pytest.mark.parametrize("name", ["pretraining", "chat", "pretraining.json", "chat.json"])
def test_the_embedded_corpora_by_name(name: str) -> None:
    texts = default_corpus(name)
    assert len(texts) == (50 if name.startswith("chat") else 25)


def test_an_unknown_embedded_corpus_is_a_corpus_error() -> None:
    with pytest.raises(CorpusError) as caught:
        default_corpus("poems")
    assert str(caught.value) == "no embedded corpus 'poems': expected 'pretraining' or 'chat'"
