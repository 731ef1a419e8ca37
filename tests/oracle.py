"""The real RustGPT as a test oracle (``shared/oracles/rustgpt``, built by ``.ci/run``).

Tests that need it take the ``oracle`` fixture. The binary is found through the
``RUSTGPT_ORACLE`` environment variable (its path) or in ``../oracle-build`` beside the
checkout. A machine without cargo says so with ``RUSTGPT_NO_ORACLE=1``: only then do
these tests skip. Anywhere else a missing oracle fails the test, never skips it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_BUILD = _ROOT.parent / "oracle-build" / "src" / "target" / "release" / "oracle"
DATA = _ROOT.parent / "shared" / "reference" / "rustgpt-data"
"""RustGPT's own corpus (MIT), read from the shared folder, never copied in."""


@dataclass(frozen=True)
class Oracle:
    """The ``oracle`` driver of the real RustGPT."""

    binary: Path

    def run(self, *args: str | Path, timeout: float = 600) -> str:
        """Run ``oracle ARGS``; its stdout, or an assertion naming the failure."""
        done = subprocess.run(
            [str(self.binary), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"oracle {' '.join(map(str, args))}: {done.stderr}"
        return done.stdout


def find_oracle() -> Oracle | None:
    """The oracle binary, or None when ``RUSTGPT_NO_ORACLE`` says there is none."""
    if os.environ.get("RUSTGPT_NO_ORACLE"):
        return None
    binary = Path(os.environ.get("RUSTGPT_ORACLE") or _DEFAULT_BUILD)
    if not binary.is_file():
        pytest.fail(
            f"the RustGPT oracle is not at {binary}: build it with "
            "`../shared/oracles/rustgpt/build.sh ../oracle-build` and/or set RUSTGPT_ORACLE, "
            "or set RUSTGPT_NO_ORACLE=1 on a machine that cannot build it"
        )
    return Oracle(binary)


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """The real RustGPT; skips only when RUSTGPT_NO_ORACLE is set."""
    found = find_oracle()
    if found is None:
        pytest.skip("RUSTGPT_NO_ORACLE is set: no RustGPT oracle on this machine")
    return found
