"""``rustgpt-format report``: the page for each form, invalid and hostile files, two files."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.validation import check_file
from tests.rustgpt_format.commands.helpers import cli
from tests.rustgpt_format.report.page_data import stat_rows

FIXTURES = Path(__file__).parents[2] / "fixtures"
INVALID = sorted((FIXTURES / "reader-invalid").glob("*.json")) + sorted(
    (FIXTURES / "schema-invalid").glob("*.json")
)
HOSTILE = sorted(p for p in (FIXTURES / "hostile").iterdir() if p.name != "INDEX.txt")


def report(*argv: str | Path) -> tuple[int, str, str]:
    return cli("report", *(str(a) for a in argv))


@pytest.mark.parametrize(
    ("name", "options", "form", "version"),
    [
        ("model.json", {}, "json", "rustgpt-checkpoint 1.0"),
        ("model.json.gz", {}, "json.gz", "rustgpt-checkpoint 1.0"),
        ("model.safetensors", {}, "safetensors", "rustgpt-checkpoint 1.0"),
        ("rustgpt.json", {"dialect": "rustgpt"}, "json", "RustGPT's own JSON (version 0)"),
    ],
)
def test_each_form(
    name: str, options: dict[str, str], form: str, version: str, tmp_path: Path
) -> None:
    source, out = tmp_path / name, tmp_path / "page.html"
    rf.save(tiny_checkpoint(), source, **options)  # type: ignore[arg-type]
    code, stdout, stderr = report(source, "-o", out)
    assert (code, stderr) == (0, "")
    size = len(out.read_bytes())
    assert stdout == f"wrote {out} ({size / 1024:,.0f} KiB): {source}\n"
    page = out.read_text()
    assert f"<dt>Form</dt><dd>{form}</dd>" in page
    assert escape(version) in page
    _, summary, _ = cli("inspect", "--json", str(source))
    assert f'<code class="digest">{json.loads(summary)["sha256"]}</code>' in page
    assert "<dt>Valid</dt><dd>yes</dd>" in page


@pytest.mark.parametrize("path", INVALID, ids=[f"{p.parent.name}/{p.name}" for p in INVALID])
def test_invalid_files_get_a_page_with_every_problem(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    code, stdout, stderr = report(path, "-o", out)
    problems, _ = check_file(path)
    assert problems
    assert code == 1
    assert stderr == "".join(f"{path}: {problem}\n" for problem in problems)
    assert stdout.startswith(f"wrote {out} ")
    page = out.read_text()
    for problem in problems:
        assert escape(problem.message) in page
        assert f'<span class="rule">[{escape(problem.rule)}]</span>' in page


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_hostile_files_get_a_page(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    code, _, stderr = report(path, "-o", out)
    assert code == 1 and stderr.startswith(f"{path}: ")
    page = out.read_text()
    assert page.endswith("</html>\n") and "<script" not in page


def test_an_invalid_file_shows_the_arrays_it_has(tmp_path: Path) -> None:
    path, out = FIXTURES / "reader-invalid" / "moment-shape-disagrees.json", tmp_path / "p.html"
    assert report(path, "-o", out)[0] == 1
    rows = stat_rows(out.read_text())
    assert ("network[0].token_embeddings", "parameter") in rows


def test_weights_only_leaves_adam_out(tmp_path: Path) -> None:
    source, out = tmp_path / "model.safetensors", tmp_path / "page.html"
    rf.save(tiny_checkpoint(), source)
    assert report(source, "--weights-only", "-o", out)[0] == 0
    page = out.read_text()
    assert "none: inference only" in page
    assert {of for _, of in stat_rows(page)} == {"parameter"}


def test_default_output_is_report_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rf.save(tiny_checkpoint(), tmp_path / "model.json")
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = report("model.json")
    assert code == 0 and stdout.startswith("wrote report.html (")
    assert (tmp_path / "report.html").is_file()


def test_two_checkpoints(tmp_path: Path) -> None:
    before, after, out = tmp_path / "a.json", tmp_path / "b.safetensors", tmp_path / "p.html"
    rf.save(random_checkpoint(seed=1), before)
    rf.save(random_checkpoint(seed=2), after)
    code, stdout, stderr = report(before, after, "-o", out)
    assert (code, stderr) == (0, "")
    assert stdout.endswith(f": {after}, compared with {before}\n")
    assert 'id="changes"' in out.read_text()


def test_different_architectures_are_refused(tmp_path: Path) -> None:
    before, after, out = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "p.html"
    rf.save(random_checkpoint(), before)
    rf.save(random_checkpoint(hidden_dim=64), after)
    code, stdout, stderr = report(before, after, "-o", out)
    assert (code, stdout) == (1, "")
    assert stderr == (
        f"{after}: cannot compare with {before}: different architectures: "
        "network[3].w1: shape (128, 256) vs (128, 64)\n"
    )
    assert not out.exists()


def test_an_invalid_file_of_two_is_listed_and_nothing_compared(tmp_path: Path) -> None:
    after, out = tmp_path / "b.json", tmp_path / "p.html"
    rf.save(tiny_checkpoint(), after)
    invalid = FIXTURES / "schema-invalid" / "vocab-words-not-unique.json"
    code, _, stderr = report(invalid, after, "-o", out)
    assert code == 1 and stderr.startswith(f"{invalid}: ")
    page = out.read_text()
    assert "No comparison: both files must be valid checkpoints" in page
    assert f"<li>{escape(str(invalid))}: " in page


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(32),  # a problem of the whole file: no "<root>"
        b'{"format": "rustgpt-checkpoint", "format_version": "1.0", "x\\u001b[31m": 1}',
    ],
)
def test_problems_on_stderr_are_the_lines_validate_prints(content: bytes, tmp_path: Path) -> None:
    """One shape for every command: ``FILE: PATH: message``, terminal escapes shown
    (validate adds which rule, schema or reader, said so)."""
    path, out = tmp_path / "a.bin", tmp_path / "p.html"
    path.write_bytes(content)
    code, _, stderr = report(path, "-o", out)
    validate_code, _, validate_stderr = cli("validate", str(path))
    assert (code, validate_code) == (1, 1)
    untagged = [line.rsplit(" [", 1)[0] for line in validate_stderr.splitlines()]
    assert stderr.splitlines() == untagged
    assert "<root>" not in stderr and "\x1b" not in stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a", "b", "c"], "unrecognized arguments: c"),
        ([], "the following arguments are required: CHECKPOINT"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    code, stdout, stderr = report(*argv)
    assert (code, stdout) == (2, "")
    assert message in stderr


def test_unwritable_output(tmp_path: Path) -> None:
    rf.save(tiny_checkpoint(), tmp_path / "model.json")
    out = tmp_path / "missing" / "page.html"
    code, _, stderr = report(tmp_path / "model.json", "-o", out)
    assert code == 1
    assert stderr == f"{out}: cannot write: No such file or directory\n"


def test_the_page_never_overwrites_an_input(tmp_path: Path) -> None:
    source = tmp_path / "model.json"
    rf.save(tiny_checkpoint(), source)
    before = source.read_bytes()
    code, stdout, stderr = report(source, "-o", tmp_path / "." / "model.json")
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"{tmp_path / '.' / 'model.json'}: is an input checkpoint; name the page another file (-o)\n"
    )
    assert source.read_bytes() == before
