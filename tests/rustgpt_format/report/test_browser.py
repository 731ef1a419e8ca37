"""Each kind of report opened in a real headless Chromium: it renders, quietly, offline.

Chromium comes from Debian's packages (``apt-get install -y chromium``, in ``.ci/run``);
without it these tests fail rather than skip. For each page the browser takes a
screenshot (not one colour), writes its console (no message: a blocked load or a
script error would log one) and its network log (no request made for the page).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

import rustgpt_format as rf
from tests.rustgpt_format.commands.helpers import cli
from tests.rustgpt_format.report.test_page import small, trained

FIXTURES = Path(__file__).parents[2] / "fixtures"
QUIET = [  # keep the browser's own traffic (updates, sync) out of the network log
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
]


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium not found: install it with apt-get install -y chromium")
    return found


@dataclass(frozen=True)
class Visit:
    pixels: np.ndarray
    console: str
    urls: list[str]
    dom: str


def browse(page: Path, tmp_path: Path, *, width: int, height: int) -> Visit:
    """Screenshot, console lines, page-initiated URLs and final DOM of ``page`` in Chromium."""
    shot, net = tmp_path / f"{page.stem}-{width}.png", tmp_path / f"{page.stem}-{width}.net.json"
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            *QUIET,
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={net}",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Visit(imread(shot), "\n".join(console), requests(net), done.stdout)


def requests(net_log: Path) -> list[str]:
    """URLs the page asked for (not the browser's own: those have no initiator)."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start and "url" in event.get("params", {})
        if event["params"].get("initiator") != "not an origin"
        if not event["params"]["url"].startswith(("file:", "data:"))
    ]


def colours(pixels: np.ndarray) -> int:
    return len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    rf.save(trained(seed=1), folder / "before.json")
    rf.save(trained(seed=2), folder / "model.safetensors")
    rf.save(small(optimizer=False), folder / "inference.json.gz")
    cases = {
        "valid": ["model.safetensors"],
        "inference-only": ["inference.json.gz"],
        "invalid": [str(FIXTURES / "reader-invalid" / "moment-shape-disagrees.json")],
        "two": ["before.json", "model.safetensors"],
    }
    pages = {}
    for name, files in cases.items():
        out = folder / f"{name}.html"
        code, _, err = cli("report", *(str(folder / f) for f in files), "-o", str(out))
        assert code == (1 if name == "invalid" else 0), err
        pages[name] = out
    return pages


HEADINGS = {
    "valid": ["At a glance", "Training", "Network", "Arrays", "Adam"],
    "inference-only": ["At a glance", "Network", "Arrays", "Adam"],
    "invalid": ["Problems", "At a glance", "Network", "Arrays", "Adam"],
    "two": ["At a glance", "Changes", "Training", "Network", "Arrays", "Adam"],
}


@pytest.mark.parametrize("name", list(HEADINGS))
def test_report_renders_in_chromium(name: str, reports: dict[str, Path], tmp_path: Path) -> None:
    visit = browse(reports[name], tmp_path, width=1366, height=900)
    assert visit.pixels.shape[:2] == (900, 1366)
    assert colours(visit.pixels) > 100, "the screenshot is (nearly) blank"
    assert visit.console == "", visit.console
    assert visit.urls == []
    found = [part.split(">", 1)[1].split("<", 1)[0] for part in visit.dom.split('<h2 id="')[1:]]
    assert found == HEADINGS[name]


def test_report_renders_on_a_phone(reports: dict[str, Path], tmp_path: Path) -> None:
    visit = browse(reports["two"], tmp_path, width=390, height=844)
    assert colours(visit.pixels) > 100 and visit.console == "" and visit.urls == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A page that loads from the network and logs is caught; a blank page is blank."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><title>bad</title><body style="background:#fff">'
        '<img src="https://example.invalid/x.png" alt=""><script>console.error("boom")</script>'
    )
    visit = browse(bad, tmp_path, width=400, height=300)
    assert visit.urls == ["https://example.invalid/x.png"]
    assert '"boom"' in visit.console
    assert colours(visit.pixels) == 1
    assert '<h2 id="' not in visit.dom
