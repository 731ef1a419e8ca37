"""Print pip constraints pinning every runtime dependency to the floor pyproject.toml declares.

``.ci/run`` installs the project with them and runs the suite again, so a floor that
the code has outgrown fails CI instead of a user's install.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)")


def floors(pyproject: Path = PYPROJECT) -> list[str]:
    """``name==floor`` for each runtime dependency declared as ``name>=floor``."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins = []
    for requirement in dependencies:
        match = _FLOOR.match(requirement)
        if match is None:
            sys.exit(f"{requirement!r}: no floor (name>=version) to pin")
        pins.append(f"{match[1]}=={match[2]}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors()))
