"""The rustgpt-format command, driven through run() with captured streams."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.cli import run
from rustgpt_format.commands.schema import schema_text
from rustgpt_format.examples import tiny_checkpoint


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.json"
    rf.save(tiny_checkpoint(), good)
    document = orjson.loads(good.read_bytes())
    document["network"][1]["w_q"]["dim"] = [4, 3]
    document["network"][1]["w_q"]["data"] = [0.0] * 12
    shapes = tmp_path / "shapes.json"
    shapes.write_bytes(orjson.dumps(document))
    document = orjson.loads(good.read_bytes())
    document["network"][2]["type"] = "Dropout"
    document["config"]["hidden_dim"] = "8"
    schema = tmp_path / "schema.json"
    schema.write_bytes(orjson.dumps(document))
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"format": ')
    return {"good": good, "shapes": shapes, "schema": schema, "broken": broken}


def test_validate_a_valid_file(files: dict[str, Path]) -> None:
    assert cli("validate", str(files["good"])) == (0, f"{files['good']}: valid\n", "")
    assert cli("validate", "--quiet", str(files["good"])) == (0, "", "")


def test_validate_reports_the_reader_rule(files: dict[str, Path]) -> None:
    code, out, err = cli("validate", str(files["good"]), str(files["shapes"]))
    assert code == 1
    assert out == f"{files['good']}: valid\n"
    assert err == (
        f"{files['shapes']}: network[1].w_q: expected shape (4, 4) (embedding_dim = 4), "
        "found (4, 3) [reader, §6.2 shapes agree along the chain]\n"
    )


def test_validate_reports_every_schema_problem(files: dict[str, Path]) -> None:
    code, _, err = cli("validate", str(files["schema"]))
    assert code == 1
    assert err.splitlines() == [
        f"{files['schema']}: config.hidden_dim: expected an integer, found string '8' [schema, type]",
        f"{files['schema']}: network[2].type: expected a layer type, one of 'Embeddings', "
        "'SelfAttention', 'FeedForward', 'LayerNorm', 'OutputProjection'; found 'Dropout' "
        "[schema, oneOf]",
    ]


def test_validate_unreadable_and_broken_files(files: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    code, _, err = cli("validate", str(files["broken"]), str(missing))
    assert code == 1
    assert err.splitlines() == [
        f"{files['broken']}: expected a JSON document, found invalid JSON: "
        "unexpected end of data: line 1 column 12 (char 11) [json]",
        f"{missing}: cannot read: No such file or directory [file]",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "rustgpt-format: error: the following arguments are required: COMMAND"),
        (
            ["validate"],
            "rustgpt-format validate: error: the following arguments are required: FILE",
        ),
        (["frobnicate"], "rustgpt-format: error: argument COMMAND: invalid choice: 'frobnicate'"),
        (
            ["schema", "--check", "--write"],
            "rustgpt-format schema: error: argument --write: not allowed with argument --check",
        ),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str) -> None:
    code, out, err = cli(*argv)
    assert (code, out) == (2, "")
    assert err.startswith(message)


@pytest.mark.parametrize("argv", [["--help"], ["validate", "--help"], ["schema", "--help"]])
def test_help_everywhere(argv: list[str]) -> None:
    code, out, _ = cli(*argv)
    assert code == 0
    assert "usage: rustgpt-format" in out


def test_schema_print_check_and_write(tmp_path: Path) -> None:
    assert cli("schema") == (0, schema_text(), "")
    target = tmp_path / "s.json"
    assert cli("schema", "--check", "--file", str(target))[0] == 1
    assert cli("schema", "--write", "--file", str(target)) == (0, "", "")
    assert cli("schema", "--check", "--file", str(target)) == (0, f"{target}: up to date\n", "")
    target.write_text(schema_text().replace("RustGPT checkpoint", "drifted"), encoding="utf-8")
    code, _, err = cli("schema", "--check", "--file", str(target))
    assert code == 1
    assert err == (
        f"{target}: differs from the schema the models export; run "
        "`rustgpt-format schema --write` and commit it\n"
    )


def test_the_console_script_runs(files: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rustgpt_format", "validate", str(files["shapes"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"{files['shapes']}: network[1].w_q: expected shape")
    assert "Traceback" not in done.stderr


def test_validate_reads_every_form(tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint()
    names = ["a.json", "a.json.gz", "a.safetensors"]
    for name in names:
        rf.save(checkpoint, tmp_path / name)
    rf.save(checkpoint, tmp_path / "rust.json", dialect="rustgpt")
    paths = [str(tmp_path / name) for name in [*names, "rust.json"]]
    code, out, err = cli("validate", *paths)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{paths[0]}: valid",
        f"{paths[1]}: valid (json.gz)",
        f"{paths[2]}: valid (safetensors)",
        f"{paths[3]}: valid (json, RustGPT's own JSON, version 0)",
    ]


def test_validate_names_the_place_in_rustgpt_s_own_json(tmp_path: Path) -> None:
    rf.save(tiny_checkpoint(), tmp_path / "rust.json", dialect="rustgpt")
    document = orjson.loads((tmp_path / "rust.json").read_bytes())
    document["network"][1]["SelfAttention"]["w_q"]["dim"] = [4, 3]
    document["network"][1]["SelfAttention"]["w_q"]["data"] = [0.0] * 12
    (tmp_path / "rust.json").write_bytes(orjson.dumps(document))
    code, _, err = cli("validate", str(tmp_path / "rust.json"))
    assert code == 1
    assert err.startswith(f"{tmp_path / 'rust.json'}: network[1].SelfAttention.w_q: expected shape (4, 4)")


def test_validate_refuses_a_damaged_safetensors_file(tmp_path: Path) -> None:
    rf.save(tiny_checkpoint(), tmp_path / "a.safetensors")
    data = (tmp_path / "a.safetensors").read_bytes()
    (tmp_path / "a.safetensors").write_bytes(data[: len(data) // 2])
    code, _, err = cli("validate", str(tmp_path / "a.safetensors"))
    assert code == 1
    assert err.startswith(f"{tmp_path / 'a.safetensors'}: not a checkpoint: binary data (looks like safetensors")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_validate_refuses_a_device_of_binary_data_at_once() -> None:
    """/dev/zero is endless: it is told binary by its first bytes, not read to the bound."""
    code, _, err = cli("validate", "--special-files", "/dev/zero")
    assert (code, err) == (1, "/dev/zero: not a checkpoint: binary data [file]\n")


def test_validate_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    code, _, err = cli("validate", str(tmp_path / "empty.json"))
    assert (code, err) == (1, f"{tmp_path / 'empty.json'}: expected a JSON document, found an empty file [json]\n")


# --- issue 10, items 8 and 9; issue 15 (standard input) --------------------------------


def test_version() -> None:
    from importlib import metadata

    expected = f"rustgpt-format {metadata.version('rustgpt-format')} (format 1.0)\n"
    assert cli("--version") == (0, expected, "")


def test_schema_file_without_check_or_write_is_a_usage_error(tmp_path: Path) -> None:
    """Not silently ignored: the user meant to check or write that file."""
    code, out, err = cli("schema", "--file", str(tmp_path / "x.json"))
    assert (code, out) == (2, "")
    assert err.startswith("rustgpt-format schema: error: --file applies to --check and --write")
    assert not (tmp_path / "x.json").exists()


def _mutated(change: object) -> bytes:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    change(document)  # type: ignore[operator]
    return orjson.dumps(document)


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        # a JSON null is "null", not Python's None
        (b"null", ["expected an object, found null [schema, type]"]),
        (
            _mutated(lambda d: d.update(config=None)),
            ["config: expected an object, found null [schema, type]"],
        ),
        (
            _mutated(lambda d: d.pop("vocab")),
            ["vocab: missing required key [schema, required]"],
        ),
        (
            _mutated(lambda d: d["config"].update(colour="red")),
            [
                "config.colour: unknown key (a typo, or a key this format version does not have) "
                "[schema, additionalProperties]"
            ],
        ),
        (
            _mutated(lambda d: d.update(format="other")),
            ["format: expected 'rustgpt-checkpoint', found string 'other' [schema, const]"],
        ),
        (
            _mutated(lambda d: d["config"].update(hidden_dim=0)),
            ["config.hidden_dim: expected a value > 0, found 0 [schema, exclusiveMinimum]"],
        ),
        (
            _mutated(lambda d: d["network"][5]["optimizer"].update(timestep=-1)),
            ["network[5].optimizer.timestep: expected a value >= 0, found -1 [schema, minimum]"],
        ),
        (
            _mutated(lambda d: d["network"][2].update(epsilon=None)),
            ["network[2].epsilon: expected a number, found null [schema, type]"],
        ),
        # a newer major version: who wrote it, not the schema's regular expression; one tag
        (
            _mutated(lambda d: d.update(format_version="2.0")),
            [
                "format_version: written by a newer rustgpt-format (format 2.0); this reader "
                "reads 1.x: upgrade rustgpt-format to read it [reader]"
            ],
        ),
        (
            _mutated(lambda d: d.update(format_version="1.0.0")),
            [
                "format_version: expected a version \"MAJOR.MINOR\" such as '1.0', found "
                "string '1.0.0' [schema, pattern]"
            ],
        ),
    ],
    ids=["null", "null-config", "missing", "unknown-key", "const", "exclusive-minimum",
         "minimum", "null-number", "newer-major", "version-text"],
)
def test_messages_in_the_house_style(data: bytes, lines: list[str], tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(data)
    code, _, err = cli("validate", str(path))
    assert code == 1
    assert err.splitlines() == [f"{path}: {line}" for line in lines]
    assert "None" not in err and "<root>" not in err and "reader, reader" not in err


SETTINGS = '{\n  // editor\n  "editor.tabSize": 2,\n  "files.exclude": {"**/.git": true},\n}\n'
OTHER_JSON = {
    "package.json": b'{"name": "app", "version": "1.0.0", "scripts": {"test": "jest"}}',
    "package-lock.json": b'{"name": "app", "lockfileVersion": 3, "packages": {}}',
    "tsconfig.json": b'{\n  /* comments */\n  "compilerOptions": {"strict": true,},\n}',
    "settings.json": SETTINGS.encode(),
    "person.schema.json": b'{"$schema": "https://json-schema.org/draft/2020-12/schema", '
    b'"type": "object", "format": "uri"}',
    "rustgpt.schema.json": schema_text().encode(),
    "list.json": b"[1, 2]",
    "null.json": b"null",
    "empty.json": b"",
    "image.json": b"\x89PNG\r\n\x1a\n" + bytes(100),
    "other.safetensors": b"\x10\x00\x00\x00\x00\x00\x00\x00" + b'{"__metadata__":{}}',
}


def _broken_checkpoints(tmp_path: Path) -> dict[str, Path]:
    """Files that claim to be checkpoints (by their content) and are not valid ones."""
    checkpoint = tiny_checkpoint()
    made = {}
    for name, form in (("cut.json", "json"), ("cut.json.gz", "json.gz"), ("cut.safetensors", "safetensors")):
        data = rf.dumps(checkpoint, form=form)
        (tmp_path / name).write_bytes(data[: len(data) * 2 // 3])
        made[name] = tmp_path / name
    data = rf.dumps(checkpoint, dialect="rustgpt")
    (tmp_path / "cut-rustgpt.json").write_bytes(data[: len(data) // 2])
    (tmp_path / "minimal.json").write_bytes(b'{"format": "rustgpt-checkpoint"}')
    (tmp_path / "typo.json").write_bytes(b'{"format": "rustgpt-checkpont", "format_version": "1.0"}')
    nan = rf.dumps(checkpoint).replace(b'"data":[', b'"data":[NaN,', 1)
    (tmp_path / "nan.json").write_bytes(nan)
    rust = orjson.loads(rf.dumps(checkpoint, dialect="rustgpt"))
    del rust["network"][0]
    (tmp_path / "rustgpt-short.json").write_bytes(orjson.dumps(rust))
    for name in ("cut-rustgpt.json", "minimal.json", "typo.json", "nan.json", "rustgpt-short.json"):
        made[name] = tmp_path / name
    return made


def test_skip_non_checkpoints(tmp_path: Path) -> None:
    """What the pre-commit hook runs: other JSON files are skipped, broken checkpoints fail."""
    for name, data in OTHER_JSON.items():
        (tmp_path / name).write_bytes(data)
    broken = _broken_checkpoints(tmp_path)
    good = tmp_path / "good.safetensors"
    rf.save(tiny_checkpoint(), good)
    others = [str(tmp_path / name) for name in OTHER_JSON]

    code, out, err = cli("validate", "--skip-non-checkpoints", str(good), *others)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"{good}: valid (safetensors)"
    assert out.splitlines()[1:] == [
        f"{path}: skipped, not a checkpoint: "
        + {
            "empty.json": "an empty file",
            "image.json": "binary data (looks like PNG)",
        }.get(Path(path).name, 'nothing in it says it is one (no "format": "rustgpt-checkpoint")')
        for path in others
    ]
    assert cli("validate", "--skip-non-checkpoints", "--quiet", str(good), *others) == (0, "", "")

    for name, path in broken.items():
        code, out, err = cli("validate", "--skip-non-checkpoints", str(path))
        assert (code, out) == (1, ""), name
        assert err.startswith(f"{path}: "), name
    # without the option, every other file is a problem (the hook's old behaviour)
    assert cli("validate", *others)[0] == 1


def test_validate_reads_standard_input(files: dict[str, Path], tmp_path: Path) -> None:
    with open(files["good"], "rb") as stdin:
        assert run(["validate", "-"], io.StringIO(), io.StringIO(), stdin) == 0
    out, err = io.StringIO(), io.StringIO()
    with open(files["shapes"], "rb") as stdin:
        assert run(["validate", "-", str(files["good"])], out, err, stdin) == 1
    assert err.getvalue().startswith("<stdin>: network[1].w_q: expected shape (4, 4)")
    assert out.getvalue() == f"{files['good']}: valid\n"


def test_standard_input_that_is_a_terminal_is_refused() -> None:
    """Nobody types a checkpoint: refused at once rather than waiting for input."""
    import os

    main, terminal = os.openpty()
    try:
        with open(terminal, "rb", closefd=False) as stdin:
            out, err = io.StringIO(), io.StringIO()
            assert run(["validate", "-"], out, err, stdin) == 1
    finally:
        os.close(main)
        os.close(terminal)
    assert err.getvalue() == (
        "<stdin>: standard input is a terminal: pipe or redirect a checkpoint into it [file]\n"
    )


def test_schema_check_refuses_a_named_pipe(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "schema.json"
    os.mkfifo(fifo)
    assert cli("schema", "--check", "--file", str(fifo)) == (
        1,
        "",
        f"{fifo}: not a regular file (a named pipe), which could wait forever for data\n",
    )
