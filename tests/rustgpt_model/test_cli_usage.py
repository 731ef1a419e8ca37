"""The ``rustgpt`` command line: --version, option values, unknown flags, prompts (issue 10)."""

import io
from importlib import metadata
from pathlib import Path

import pytest

from rustgpt_format import load
from rustgpt_format.cli import run as rustgpt_format_run
from tests.rustgpt_model.cli_run import TINY, rustgpt


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained for two epochs: L = 40."""
    path = tmp_path_factory.mktemp("usage") / "model.json"
    code, _, err = rustgpt("train", "--epochs", "1", "--chat-epochs", "1", *TINY, "--out", path)
    assert (code, err) == (0, "")
    return path


def test_version() -> None:
    code, out, err = rustgpt("--version")
    assert (code, err) == (0, "")
    assert out == f"rustgpt {metadata.version('rustgpt-format')} (rustgpt-checkpoint format 1.0)\n"


# (option, value, the message after 'argument OPTION: '); every one a usage error, exit 2
SAMPLING = [
    ("--temperature", "0", "expected a number > 0, found '0'"),
    ("--temperature", "abc", "expected a number > 0, found 'abc'"),
    ("--temperature", "-1", "expected a number > 0, found '-1'"),
    ("--temperature", "nan", "expected a number > 0, found 'nan'"),  # compares false to all
    ("--temperature", "inf", "expected a number > 0, found 'inf'"),  # would flatten the logits
    ("--top-k", "0", "expected an integer >= 1, found '0'"),
    ("--top-k", "2.5", "expected an integer >= 1, found '2.5'"),
    ("--top-p", "0", "expected a number > 0 and <= 1, found '0'"),
    ("--top-p", "2", "expected a number > 0 and <= 1, found '2'"),
    ("--seed", "-3", "expected an integer >= 0, found '-3'"),  # numpy refuses negative seeds
]


@pytest.mark.parametrize("command", ["generate", "chat"])
@pytest.mark.parametrize(("option", "value", "message"), SAMPLING)
def test_sampling_values_are_usage_errors(
    model: Path, command: str, option: str, value: str, message: str
) -> None:
    argv = [command, model, *(["hi"] if command == "generate" else []), option, value]
    assert rustgpt(*argv) == (
        2,
        "",
        f"rustgpt {command}: error: argument {option}: {message} (see rustgpt {command} --help)\n",
    )


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["train", "--out", "m.json", "--bogus"], "train"),
        (["generate", "m.json", "hi", "--bogus"], "generate"),
        (["generate", "--bogus", "m.json", "hi"], "generate"),
        (["chat", "m.json", "--temprature", "1"], "chat"),
        (["eval", "m.json", "--bogus"], "eval"),
        (["demo", "--bogus"], "demo"),
    ],
)
def test_an_unknown_flag_after_a_subcommand_shows_its_usage(argv: list[str], command: str) -> None:
    code, out, err = rustgpt(*argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"usage: rustgpt {command} [-h] ")
    unknown = " ".join(a for a in argv if a.startswith("--") and a not in ("--out",))
    unknown = unknown.replace("--temprature", "--temprature 1")
    assert err.endswith(
        f"\nrustgpt {command}: error: unrecognized arguments: {unknown} "
        f"(see rustgpt {command} --help)\n"
    )


def test_rustgpt_format_shares_the_subcommand_usage() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert rustgpt_format_run(["validate", "x.json", "--bogus"], out, err) == 2
    assert err.getvalue().startswith("usage: rustgpt-format validate [-h] ")
    assert err.getvalue().endswith(
        "rustgpt-format validate: error: unrecognized arguments: --bogus "
        "(see rustgpt-format validate --help)\n"
    )


def test_generate_with_a_prompt_longer_than_max_seq_len(model: Path) -> None:
    word = next(w for w in load(model).vocab.words if w.isalpha())
    for length in (40, 55):  # L itself leaves no room either
        code, out, err = rustgpt("generate", model, " ".join([word] * length))
        assert (code, out) == (1, "")
        assert err == (
            f"rustgpt: error: the prompt is {length} tokens long, and the model reads at most "
            "max_seq_len = 40 tokens: no room to answer (use at most 39)\n"
        )
    code, out, err = rustgpt("generate", model, " ".join([word] * 39))  # room for one token
    assert (code, err) == (0, "") and out.endswith("\n")


def test_generate_with_no_known_word(model: Path) -> None:
    code, out, err = rustgpt("generate", model, "zzyzx qwxz")
    assert (code, out) == (1, "")
    assert err.startswith(
        "rustgpt: error: the prompt has no word the model knows (2 tokens, none in its vocabulary"
    )
