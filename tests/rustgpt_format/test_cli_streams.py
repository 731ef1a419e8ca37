"""The commands as processes: real pipes, named pipes, odd file names, interrupts (issue 15).

Never a traceback: a reader that goes away, a file name that is not UTF-8 on a strict
UTF-8 terminal, Ctrl-C, a named pipe with no writer. Nothing from a file's name or
content reaches the terminal unescaped (issue 10, item 3).
"""

from __future__ import annotations

import gzip
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.cli import run
from rustgpt_format.examples import tiny_checkpoint

FORMAT = [sys.executable, "-m", "rustgpt_format"]
RUSTGPT = [sys.executable, "-c", "from rustgpt_model.cli import main; main()"]
STRICT = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}


def command(
    argv: list[str | bytes | Path],
    *,
    stdin: bytes = b"",
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv, input=stdin, capture_output=True, env=STRICT, timeout=timeout, check=False, cwd=cwd
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    rf.save(tiny_checkpoint(), path)
    return path


# --- a reader that goes away -----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "codes"),
    [
        ([*FORMAT, "validate", "GOOD", "GOOD", "GOOD"], {141}),
        ([*FORMAT, "schema"], {141}),
        ([*FORMAT, "inspect", "--json", "GOOD"], {141}),
        ([*FORMAT, "diff", "GOOD", "GOOD"], {141}),
        ([*RUSTGPT, "generate", "GOOD", "w0"], {141}),
        # argparse itself ignores a failed write of its help: no traceback, exit 0
        ([*FORMAT, "--help"], {0, 141}),
        ([*RUSTGPT, "--help"], {0, 141}),
    ],
    ids=["validate", "schema", "inspect", "diff", "rustgpt-generate", "help", "rustgpt-help"],
)
def test_a_closed_standard_output_ends_the_run_quietly(
    argv: list[str], codes: set[int], good: Path
) -> None:
    """The reader closes the pipe before the command writes: exit 141, nothing on stderr."""
    argv = [str(good) if a == "GOOD" else a for a in argv]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=STRICT)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the interpreter has even started: every write fails
    err = process.stderr.read()
    assert process.wait(timeout=60) in codes
    assert err == b""


def test_validate_piped_into_head(good: Path, tmp_path: Path) -> None:
    """``rustgpt-format validate a b c ... | head -1``: one line, no traceback."""
    files = " ".join([str(good)] * 400)  # 400 lines: more than head reads, and than a pipe holds
    script = (
        f"{' '.join(FORMAT)} validate {files} 2>{tmp_path / 'err'} | head -1; "
        'echo "status ${PIPESTATUS[0]}"'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, env=STRICT, timeout=120, check=False
    )
    lines = done.stdout.decode().splitlines()
    assert lines[0] == f"{good}: valid"
    assert lines[1] in ("status 141", "status 0")  # 0 only if all was written before head left
    assert (tmp_path / "err").read_bytes() == b""


# --- names and contents that must not reach the terminal as they are -------------------


def test_a_file_name_that_is_not_utf8_on_a_strict_utf8_terminal(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    valid, broken = folder + b"/caf\xe9.json", folder + b"/caf\xe9-broken.json"
    with open(valid, "wb") as stream:
        stream.write(rf.dumps(tiny_checkpoint()))
    with open(broken, "wb") as stream:
        stream.write(b"{")
    done = command([*FORMAT, "validate", valid, broken])
    assert done.returncode == 1
    assert done.stdout == folder + b"/caf\\xe9.json: valid\n"
    assert done.stderr == folder + (
        b"/caf\\xe9-broken.json: expected a JSON document, found invalid JSON: "
        b"unexpected end of data: line 1 column 2 (char 1) [json]\n"
    )


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_png(), "not a checkpoint: binary data (looks like PNG) [file]"),
        (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, "not a checkpoint: binary data (looks like ELF) [file]"),
        (b"\x1b[2J\x1b[31mred\x07\r" + bytes(range(32)), "not a checkpoint: binary data [file]"),
        (b"{" + bytes(range(128, 256)) * 3, "expected a JSON document, found invalid JSON: "),
        (b'{"format": "rustgpt-checkpoint\x1b[31m\x07"}', "expected a JSON document, found invalid JSON: "),
        (b"[" * 40 + os.urandom(64), "expected nesting at most 16 deep"),
    ],
    ids=["png", "elf", "escape-sequences", "invalid-utf8", "control-in-string", "deep-then-binary"],
)
def test_nothing_from_a_file_s_content_reaches_the_terminal(
    content: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(content)
    report = ["report", str(path), "-o", str(tmp_path / "r.html")]
    runs = [["validate", str(path)], ["inspect", str(path)], ["diff", str(path), str(path)],
            ["convert", str(path), str(tmp_path / "o.json")], report]
    for argv in runs:  # in-process: what each command writes, before any encoding
        out, err = io.StringIO(), io.StringIO()
        code = run(argv, out, err)
        text = out.getvalue() + err.getvalue()
        assert not any(_control(char) for char in text), (argv, text)
        assert "Traceback" not in text and "\ufffd" not in text  # no U+FFFD either
        if argv[0] != "report":  # another command's own words
            assert code in (1, 2), argv
            assert "Limits(" not in text, text  # raising a limit would not help
    done = command([*FORMAT, "validate", str(path)])  # and as bytes on a strict terminal
    assert done.returncode == 1 and done.stdout == b""
    assert not any((byte < 32 and byte != 10) or 127 <= byte < 160 for byte in done.stderr)
    first = done.stderr.decode()
    assert first.startswith(f"{path}: ") and message in first, first


def _control(char: str) -> bool:
    return (ord(char) < 32 and char != "\n") or 127 <= ord(char) < 160 or not (
        char.isprintable() or char == "\n"
    )


def test_random_bytes_from_dev_urandom(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    with open("/dev/urandom", "rb") as stream:
        path.write_bytes(stream.read(4096))
    for argv in (["validate"], ["inspect"]):
        done = command([*FORMAT, *argv, str(path)])
        assert done.returncode == 1
        text = done.stdout + done.stderr
        assert not any((byte < 32 and byte != 10) or 127 <= byte < 160 for byte in text), text
        assert text.count(b"\n") == 1 and b"Traceback" not in text


def test_a_file_name_with_control_characters_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[31m\rname\n.json"
    path.write_bytes(b"")
    done = command([*FORMAT, "validate", str(path)])
    assert done.returncode == 1
    assert done.stderr.decode() == (
        f"{tmp_path}/evil\\x1b[31m\\rname\\n.json: expected a JSON document, found an empty "
        "file [json]\n"
    )


# --- standard input and named pipes ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options"),
    [("json", {}), ("json.gz", {}), ("safetensors", {}), ("json", {"dialect": "rustgpt"})],
)
def test_validate_dash_reads_standard_input(name: str, options: dict[str, str]) -> None:
    data = rf.dumps(tiny_checkpoint(), form=name, **options)  # type: ignore[arg-type]
    done = command([*FORMAT, "validate", "-"], stdin=data)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.startswith(b"<stdin>: valid")


def test_standard_input_in_the_other_commands(good: Path, tmp_path: Path) -> None:
    data = good.read_bytes()
    inspected = command([*FORMAT, "inspect", "--json", "-"], stdin=data)
    assert inspected.returncode == 0 and orjson.loads(inspected.stdout)["file"] == "<stdin>"
    assert command([*FORMAT, "diff", "-", str(good)], stdin=data).returncode == 0
    out = tmp_path / "out.json.gz"
    assert command([*FORMAT, "convert", "-", str(out)], stdin=data).returncode == 0
    assert rf.load(out) == tiny_checkpoint()
    broken = command([*FORMAT, "validate", "-"], stdin=gzip.compress(b"{")[:-4])
    assert broken.returncode == 1 and broken.stderr.startswith(b"<stdin>: ")


def test_validate_dash_twice_is_a_usage_error() -> None:
    done = command([*FORMAT, "validate", "-", "-"])
    assert (done.returncode, done.stdout) == (2, b"")


def _feed(fifo: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(fifo, "wb") as stream:
            stream.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("form", ["json", "safetensors", "json.gz"])
def test_a_named_pipe_reads_like_a_file_when_asked(form: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = _feed(fifo, rf.dumps(tiny_checkpoint(), form=form))
    done = command([*FORMAT, "validate", "--special-files", str(fifo)], timeout=60)
    writer.join(timeout=10)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert done.stdout.startswith(f"{fifo}: valid".encode())


@pytest.mark.parametrize("argv", [["validate"], ["inspect"], ["diff", "GOOD"], ["convert", "OUT"]])
def test_a_named_pipe_with_no_writer_is_refused_at_once(
    argv: list[str], good: Path, tmp_path: Path
) -> None:
    """Not read unless asked: a CI job must not wait forever (the timeout would fail it)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    argv = [str(good) if a == "GOOD" else str(tmp_path / "o.json") if a == "OUT" else a for a in argv]
    argv = [argv[0], str(fifo), *argv[1:]] if argv[0] != "diff" else ["diff", argv[1], str(fifo)]
    done = command([*FORMAT, *argv], timeout=30)
    assert done.returncode in (1, 2)
    assert done.stderr.decode() == (
        f"{fifo}: not a regular file (a named pipe), which could wait forever for data; "
        "pass --special-files to read it, or - to read standard input"
        + (" [file]" if argv[0] == "validate" else "")
        + "\n"
    )


def test_a_device_is_refused_unless_asked() -> None:
    done = command([*FORMAT, "validate", "/dev/zero"], timeout=30)
    assert done.returncode == 1 and b"not a regular file (a character device)" in done.stderr
    asked = command([*FORMAT, "validate", "--special-files", "/dev/zero"], timeout=30)
    assert asked.stderr == b"/dev/zero: not a checkpoint: binary data [file]\n"


# --- Ctrl-C ------------------------------------------------------------------------------


def _waiting_on_a_pipe(pid: int, seconds: float = 30) -> None:
    """Wait until the process is blocked reading (its imports done)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        if "pipe" in wchan:
            return
        time.sleep(0.05)
    raise AssertionError(f"the process never waited on its pipe (wchan {wchan!r})")


def test_ctrl_c_is_one_line_and_exit_130() -> None:
    process = subprocess.Popen(
        [*FORMAT, "validate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=STRICT,
    )
    try:
        _waiting_on_a_pipe(process.pid)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert (process.returncode, out, err) == (130, b"", b"rustgpt-format: interrupted\n")


# --- warnings ----------------------------------------------------------------------------


def test_warnings_are_one_line_in_both_commands(tmp_path: Path) -> None:
    """Never Python's ``.../reading.py:167: FormatWarning:`` lines."""
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["format_version"], document["later_key"] = "1.3", 1
    newer = tmp_path / "newer.json"
    newer.write_bytes(orjson.dumps(document))
    done = command([*FORMAT, "inspect", str(newer)])
    assert done.returncode == 0
    assert done.stderr.decode() == (
        f"{newer}: warning: format_version 1.3 is newer than this reader's 1.0: ignored "
        "unknown keys later_key\n"
    )
    rust = tmp_path / "rust.json"
    rf.save(tiny_checkpoint(), rust, dialect="rustgpt")
    done = command([*RUSTGPT, "generate", str(rust), "</s>"])
    lines = done.stderr.decode().splitlines()
    assert lines[0].startswith(f"{rust}: warning: migrated from format version 0 -> 1.0 ("), lines
    assert not any("FormatWarning" in line or ".py:" in line for line in lines), lines


def test_a_bug_is_one_line_not_a_traceback() -> None:
    """Whatever escapes a command (here a ZeroDivisionError) is named in one line, exit 1."""
    script = (
        "import sys; from rustgpt_format.command_line import console_main; "
        "sys.argv = ['tool']; console_main(lambda argv, out, err: 1 // 0, 'tool')"
    )
    done = command([sys.executable, "-c", script])
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr == (
        b"tool: internal error: ZeroDivisionError: integer division or modulo by zero "
        b"(a bug in tool: please report it with the command line)\n"
    )
