"""``rustgpt-format convert``: every form to every form through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint
from tests.rustgpt_format.commands.helpers import cli

OUTPUTS = {
    "json": ("out.json", []),
    "pretty": ("out.json", ["--pretty"]),
    "gzip": ("out.json.gz", []),
    "safetensors": ("out.safetensors", []),
    "rustgpt": ("out.json", ["--to", "rustgpt"]),
}
INPUTS = {
    "json": ("in.json", {}),
    "pretty": ("in.json", {"indent": 2}),
    "gzip": ("in.json.gz", {}),
    "safetensors": ("in.safetensors", {}),
    "rustgpt": ("in.json", {"dialect": "rustgpt"}),
}


@pytest.mark.parametrize("source", INPUTS)
@pytest.mark.parametrize("target", OUTPUTS)
def test_every_pair(source: str, target: str, tmp_path: Path) -> None:
    name, options = INPUTS[source]
    given = tmp_path / name
    rf.save(tiny_checkpoint(), given, **options)  # type: ignore[arg-type]
    out_name, flags = OUTPUTS[target]
    out = tmp_path / out_name
    code, stdout, stderr = cli("convert", str(given), str(out), *flags)
    assert (code, stderr) == (0, "")
    dialect = "rustgpt" if target == "rustgpt" else "rustgpt-checkpoint"
    form = {"gzip": "json.gz", "safetensors": "safetensors"}.get(target, "json")
    assert stdout == f"{given} -> {out} ({form}, {dialect}, {out.stat().st_size:,} bytes)\n"
    with pytest.warns(rf.FormatWarning) if target == "rustgpt" else _nothing():
        assert rf.load(out) == tiny_checkpoint()


class _nothing:  # noqa: N801 - a context manager used like pytest.warns
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_weights_only(tmp_path: Path) -> None:
    given, out = tmp_path / "in.json", tmp_path / "out.safetensors"
    rf.save(tiny_checkpoint(), given)
    assert cli("convert", "--weights-only", str(given), str(out))[0] == 0
    assert all(
        state is None for layer in rf.load(out).network for state in layer.optimizers().values()
    )


def test_weights_only_to_rustgpt_writes_fresh_states_and_says_so(tmp_path: Path) -> None:
    given, out = tmp_path / "in.safetensors", tmp_path / "out.json"
    rf.save(tiny_checkpoint(), given)
    code, _, stderr = cli("convert", "--weights-only", "--to", "rustgpt", str(given), str(out))
    assert (code, stderr) == (
        0,
        f"{out}: warning: RustGPT's layers need an optimizer state: wrote fresh Adam states "
        "for 14 missing ones (network[0].token_optimizer, ...)\n",
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--to", "rustgpt"], "--to rustgpt: the safetensors form cannot write it; name OUT .bin or .gz or .json"),
        (["--pretty"], "--pretty applies to JSON; the safetensors form is binary"),
    ],
)
def test_usage_errors(flags: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "out.safetensors"
    assert cli("convert", "in.json", str(out), *flags) == (
        2,
        "",
        f"rustgpt-format convert: error: {message}\n",
    )
    assert cli("convert", "in.json", str(out), "--to", "serde")[0] == 2
    assert not out.exists()


def test_an_unreadable_input_leaves_no_output(tmp_path: Path) -> None:
    given, out = tmp_path / "in.json", tmp_path / "out.json"
    given.write_bytes(b'{"format": "rustgpt-checkpoint"')
    code, stdout, stderr = cli("convert", str(given), str(out))
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"{given}: expected a JSON document, found invalid JSON")
    assert stderr.count("\n") == 1
    assert not out.exists()
