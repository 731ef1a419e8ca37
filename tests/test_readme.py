"""Every ```python and ```sh block of README.md runs as written (issue 10, defect 12).

The blocks run in order in one temporary folder, the Python ones in one namespace, the
shell ones with ``bash -e`` (a command that fails fails the test), the installed
``rustgpt`` and ``rustgpt-format`` first on the PATH. What they need that a user has
after the README's first command, the demo's ``model.json``, is made by running that
very command (``rustgpt demo ...``) for real, once.

Two blocks are heavy, and run for real under ``-m slow`` (as the fuzzing runs do):
the first (fresh virtual environments, ``pip install``, ``npm ci``, the whole suite)
and the long fuzzing runs. ``HEAVY`` names them by their first line; every other
block runs in the default suite, whatever the README says.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rustgpt_model import default_corpus
from rustgpt_model.evaluate import split_dialogue
from rustgpt_model.tokenizer import split_tokens

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

HEAVY = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && rustgpt demo": (
        "makes virtual environments, installs from PyPI and npm, and runs the whole suite"
    ),
    "python -m pytest -m slow": "the long fuzzing and crash runs, then the hardening report",
}
"""First lines (their start) of the blocks that run only under ``-m slow``, and why."""


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # where the block's first line is in README.md

    @property
    def heavy(self) -> bool:
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        return any(first.startswith(start) for start in HEAVY)


def blocks(language: str | None = None) -> list[Block]:
    """The fenced blocks of README.md (of one language when given), in order."""
    found = []
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = re.fullmatch(r"```(\w*)\s*", lines[index])
        if fence is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        found.append(Block(fence[1], "\n".join(lines[index + 1 : end]) + "\n", index + 2))
        index = end + 1
    return [block for block in found if language is None or block.language == language]


def environment() -> dict[str, str]:
    """The user's shell after the README's first command: the package's commands on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}


def demo_command() -> str:
    """The ``rustgpt demo ...`` command of the README's first block."""
    for block in blocks("sh"):
        for line in block.text.splitlines():
            for command in line.split("&&"):
                if command.strip().startswith("rustgpt demo"):
                    return command.strip()
    raise AssertionError("README.md: no 'rustgpt demo' command in a ```sh block")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding what the README's first command leaves: the demo's model."""
    here = tmp_path_factory.mktemp("readme")
    # the user follows the README in a clone: its example files are at hand
    for part in ("examples", "scripts", "rustgpt_model/data"):
        shutil.copytree(ROOT / part, here / part)
    done = subprocess.run(
        ["bash", "-e", "-c", demo_command()],
        cwd=here,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return here


def run_shell(block: Block, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.text],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, (
        f"README.md:{block.line}: the ```sh block exits {done.returncode}\n"
        f"{block.text}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done.stdout


def test_every_block_runs_as_written(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python and shell blocks, in README order, as a user would paste them."""
    monkeypatch.chdir(folder)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    ran = 0
    for block in blocks():
        if block.heavy or block.language not in ("python", "sh"):
            continue
        if block.language == "python":
            code = compile(block.text, f"README.md:{block.line}", "exec")
            exec(code, namespace)
        else:
            run_shell(block, folder)
        ran += 1
    assert ran == sum(
        1 for block in blocks() if block.language in ("python", "sh") and not block.heavy
    )
    assert ran >= 4


def test_the_generate_example_asks_what_the_demo_answers(folder: Path) -> None:
    """The prompt is a question of the embedded dialogues, and the demo's answer is theirs."""
    examples = [
        shlex.split(line.split("#")[0])
        for block in blocks("sh")
        for line in block.text.splitlines()
        if line.startswith("rustgpt generate ")
    ]
    assert examples, "README.md: no 'rustgpt generate' example"
    answers = dict(split_dialogue(text) for text in default_corpus("chat"))
    for argv in examples:
        prompt = argv[3]
        assert prompt in answers, f"{prompt!r} is not a question of the embedded chat corpus"
        done = subprocess.run(
            argv, cwd=folder, env=environment(), capture_output=True, text=True, timeout=120
        )
        assert (done.returncode, done.stderr) == (0, "")
        assert split_tokens(done.stdout) == split_tokens(answers[prompt])[:-1]  # all but </s>


def test_the_heavy_blocks_are_still_there() -> None:
    """Each HEAVY entry names a block of the README (no stale exemption)."""
    firsts = [block.text.lstrip().splitlines()[0] for block in blocks() if block.text.strip()]
    for start in HEAVY:
        assert any(first.startswith(start) for first in firsts), start


@pytest.mark.slow
@pytest.mark.parametrize("start", list(HEAVY))
def test_the_heavy_blocks_run_as_written(start: str, tmp_path: Path) -> None:
    """In a fresh copy of the working tree, as in a fresh clone."""
    (block,) = [b for b in blocks("sh") if b.text.lstrip().startswith(start)]
    clone = tmp_path / "clone"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    env = {key: value for key, value in environment().items() if key != "VIRTUAL_ENV"}
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.text],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=4 * 3600,
    )
    assert done.returncode == 0, f"{block.text}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
