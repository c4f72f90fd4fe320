"""report.html: written by explore and by ``archmodel report``, self-contained, and working in a real
headless browser (Debian's chromium through playwright) where one is installed."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.exploration import explore
from archmodel.exploration.html import load_run

pytest.importorskip("plotly", reason="report.html needs plotly (a core dependency: pip install -e .)")
ROOT = Path(__file__).resolve().parents[1]
TINY = {"B": 1, "H": 1, "M": 64, "P": 64, "E": 16, "F": 16}
SPACE = """\
constraints:
  area_mm2: {{max: 6}}
templates:
  systolic:
    rows: [16, 32]
    cols: [16, 64]
    dataflow: [ws, os]
    pe:
      choices:
        int8: {{kind: mac, a_bits: 8, w_bits: 8}}
        w4a8: {{kind: mixpe, a_bits: 8, w_bits: 4}}
  fused:
    template: spatial
    base: {base}
    rows: [16, 32]
    cols: [16, 32]
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "space.yaml").write_text(SPACE.format(base=ROOT / "configs" / "archs" / "spatial-fusemax.yaml"))
    explore(
        ROOT / "configs" / "attention.yaml",
        tmp / "space.yaml",
        overrides=TINY,
        progress=False,
        workers=1,
        out=tmp / "run",
        strategy="grid",
    )
    return tmp / "run"


def test_explore_writes_a_self_contained_report(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js is inlined: nothing to fetch
    assert "Plotly.newPlot" in page and "Best design of each template" in page
    assert "archmodel rtl" in page and "archmodel verify" in page
    assert "report.html" in (run_dir / "summary.md").read_text()


def test_cli_report_rewrites_it_and_refuses_other_directories(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "-o", str(out)]) == 0
    assert re.search(r"wrote .*r\.html \([\d.]+ MB", capsys.readouterr().out)
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_in_a_headless_browser(run_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed ([test] extra)")
    exe = _browser()
    if exe is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's chromium)")
    result = load_run(run_dir)
    templates = result.feasible["template"].nunique()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"] if os.geteuid() == 0 else [])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((run_dir / "report.html").as_uri())
            page.wait_for_function("document.getElementById('front').data !== undefined", timeout=60_000)
            # One trace of front points and one of the others per template, and the best design's star.
            assert page.evaluate("document.getElementById('front').data.length") == 2 * templates + 1
            before = int(page.inner_text("#shown").split()[0].replace(",", ""))
            assert before == len(result.feasible)
            # Hovering a front point shows its template and cycles.
            page.evaluate("Plotly.Fx.hover('front', [{curveNumber: 1, pointNumber: 0}])")
            hover = page.evaluate("document.querySelector('#front .hoverlayer').textContent")
            assert "cycles" in hover and "systolic" in hover
            # The area filter keeps fewer points.
            cut = float(result.feasible["area_mm2"].median())
            page.fill("#amax", str(cut))
            page.dispatch_event("#amax", "change")
            after = int(page.inner_text("#shown").split()[0].replace(",", ""))
            assert after == int((result.feasible["area_mm2"].round(5) <= cut).sum()) < before
            assert errors == []
        finally:
            browser.close()
