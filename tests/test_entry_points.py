"""The entry points people reach for: ``python -m archmodel``, ``--version``, ``archmodel templates``,
``dir(archmodel)`` and notebook displays of evaluations and explore results."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import archmodel
from archmodel.cli import main
from archmodel.templates import TEMPLATES

ROOT = Path(__file__).resolve().parents[1]


def test_python_dash_m_is_the_cli_with_the_package_version() -> None:
    out = subprocess.run([sys.executable, "-m", "archmodel", "--version"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == f"archmodel {metadata.version('archmodel')}"
    assert archmodel.__version__ == metadata.version("archmodel")
    bad = subprocess.run([sys.executable, "-m", "archmodel", "eval"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_templates_lists_the_registry(capsys) -> None:
    assert main(["templates", "--json"]) == 0
    rows = {r["template"]: r for r in json.loads(capsys.readouterr().out)}
    assert list(rows) == list(TEMPLATES)
    assert rows["systolic"]["rtl"] and rows["systolic"]["default_designs"] == 512
    assert rows["pim"]["rtl"] and rows["pim"]["rtl_convention"]
    assert rows["pim"]["default_design"] == "pim-attacc-hbm3"
    assert not rows["npu-pim"]["rtl"]
    assert main(["templates"]) == 0
    text = capsys.readouterr().out
    assert all(f"{name}:" in text for name in TEMPLATES) and "RTL: none" in text


def test_dir_lists_the_public_functions() -> None:
    names = dir(archmodel)
    for name in ("evaluate", "explore", "load_workload", "load_design", "generate_rtl", "verify",
                 "synthesize", "__version__"):
        assert name in names and name in archmodel.__all__
    assert callable(archmodel.load_design) and callable(archmodel.evaluate_batch)
    assert not {"Any", "annotations", "importlib", "logging", "metadata"} & set(names)


def test_evaluations_and_explore_results_show_in_a_notebook() -> None:
    from archmodel.exploration import explore
    from archmodel.exploration.parse import parse_space
    from archmodel.yamlio import parse_yaml

    ev = archmodel.evaluate(ROOT / "configs" / "gemm.yaml", ROOT / "configs" / "archs" / "tpu-like.yaml")
    page = ev._repr_html_()
    assert page.startswith("<p>") and "<table" in page and f"{ev.cycles:,} cycles" in page
    assert all(e.name in page for e in ev.einsums)
    space = ("objectives: [latency, energy]\ntemplates:\n  systolic:\n    rows: [8, 16]\n"
             "    dataflow: [ws, os]\n")
    res = explore(ROOT / "configs" / "gemm.yaml", parse_space(parse_yaml(space, "<space>")),
                  overrides={"M": 64, "N": 64, "K": 64}, save=False)
    page = res._repr_html_()
    assert "4 designs" in page and "Pareto front" in page and "<pre>" in page
