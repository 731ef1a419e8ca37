"""The pre-commit hook runs the validate command on the files pre-commit passes it."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import orjson

from rustgpt_format.cli import run

ROOT = Path(__file__).parents[2]
HOOKS = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")


def field(name: str) -> str:
    match = re.search(rf"^[- ] {name}: (.+)$", HOOKS, re.MULTILINE)
    assert match is not None, name
    return match[1]


def test_the_hook_validates_matching_files_and_fails_on_invalid_ones() -> None:
    assert field("id") == "rustgpt-format-validate"
    assert field("language") == "python"
    program, *arguments = shlex.split(field("entry"))
    assert program == "rustgpt-format"  # the console script pyproject.toml installs
    pattern = re.compile(field("files"))
    valid = sorted((ROOT / "tests" / "fixtures" / "valid").glob("*"))
    invalid = sorted((ROOT / "tests" / "fixtures" / "reader-invalid").glob("*"))
    assert all(pattern.search(str(path)) for path in valid + invalid)
    assert all(pattern.search(name) for name in ("m.safetensors", "m.json.gz", "m.json"))
    assert not pattern.search("notes.txt")

    out, err = io.StringIO(), io.StringIO()
    assert run([*arguments, *map(str, valid)], out, err) == 0
    assert (out.getvalue(), err.getvalue()) == ("", "")
    assert run([*arguments, *map(str, valid + invalid)], out, err) == 1
    assert err.getvalue().count("\n") == len(invalid)


# --- the real pre-commit, in a repository of ordinary JSON files (issue 10, item 2) ----

ORDINARY = {
    "package.json": '{"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}}',
    "package-lock.json": '{"name": "app", "lockfileVersion": 3, "requires": true, '
    '"packages": {"": {"name": "app"}, "node_modules/left-pad": {"version": "1.3.0"}}}',
    # JSON with comments and a trailing comma, as TypeScript and VS Code read it
    "tsconfig.json": '{\n  // strict mode\n  "compilerOptions": {"strict": true, "target": "es2022",},\n}\n',
    ".vscode/settings.json": '{\n  /* editor */ "editor.tabSize": 2,\n  "files.exclude": {"**/.git": true},\n}\n',
    "schema/person.schema.json": '{"$schema": "https://json-schema.org/draft/2020-12/schema", '
    '"title": "Person", "type": "object", "format": "person", '
    '"properties": {"name": {"type": "string"}}}',
    "data/empty.json": "",
    "data/list.json": "[1, 2, 3]",
}


def _git(repo: Path, *argv: str) -> None:
    subprocess.run(["git", *argv], cwd=repo, check=True, capture_output=True, env=_GIT_ENV)


_GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def _pre_commit(repo: Path, hooks: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**_GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "rustgpt-format-validate",
         "--all-files", "--verbose"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def test_the_real_pre_commit_passes_ordinary_json_and_fails_a_damaged_checkpoint(
    tmp_path: Path,
) -> None:
    """The hook as offered, installed by pre-commit from a clone of this repository's HEAD.

    pre-commit builds the hook's environment from the committed hook repository (pip
    install of the clone), so this checks what a user gets, not the working tree.
    """
    import importlib.util

    import rustgpt_format as rf
    from rustgpt_format.commands.schema import schema_text
    from rustgpt_format.examples import tiny_checkpoint

    # a test dependency ([test] extras), never a reason to skip: the hook must be tried
    assert importlib.util.find_spec("pre_commit") is not None, "pip install pre-commit"
    hooks = tmp_path / "hooks"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(hooks)], check=True)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet")
    for name, text in ORDINARY.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    (repo / "schema" / "rustgpt-checkpoint.schema.json").write_text(schema_text())
    (repo / "models").mkdir()
    for name in ("model.json", "model.json.gz", "model.safetensors"):
        rf.save(tiny_checkpoint(), repo / "models" / name)
    rf.save(tiny_checkpoint(), repo / "models" / "rustgpt.json", dialect="rustgpt")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "files")

    home = tmp_path / "pre-commit-home"
    passed = _pre_commit(repo, hooks, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "validate RustGPT checkpoints" in passed.stdout and "Passed" in passed.stdout

    # a checkpoint cut short, one with a wrong value, and a damaged gzip one: each fails
    data = (repo / "models" / "model.json").read_bytes()
    (repo / "models" / "model.json").write_bytes(data[: len(data) // 2])
    document = orjson.loads(data)
    document["config"]["hidden_dim"] = "8"
    (repo / "models" / "wrong.json").write_bytes(orjson.dumps(document))
    gz = (repo / "models" / "model.json.gz").read_bytes()
    (repo / "models" / "model.json.gz").write_bytes(gz[: len(gz) - 20])
    _git(repo, "add", "-A")
    failed = _pre_commit(repo, hooks, home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    problems = [line for line in failed.stdout.splitlines() if line.startswith("models/")]
    assert sorted(line.split(":")[0] for line in problems) == [
        "models/model.json",
        "models/model.json.gz",
        "models/wrong.json",
    ], failed.stdout
    assert "models/wrong.json: config.hidden_dim: expected an integer, found string '8'" in (
        failed.stdout
    )
    assert "package.json" not in failed.stdout and "tsconfig" not in failed.stdout
