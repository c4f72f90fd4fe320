"""Installed from a wheel (not editable, outside the checkout), archmodel explores what a checkout does:
the default space's starting designs and sweeps are package data, not files of the repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from archmodel.exploration import explore
from archmodel.exploration.parse import default_space
from archmodel.templates import TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "configs" / "attention.yaml"
#: Attention at toy size: the same cascade and the same designs, each mapped in milliseconds.
TINY = {"B": 1, "H": 1, "M": 64, "P": 64, "E": 16, "F": 16}
#: What the wheel is built from: the source tree without build outputs and caches.
IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".archmodel-cache",
                                ".hypothesis", ".pytest_cache", ".ruff_cache", "results", "sim_build")


def _run(*cmd: str | Path, cwd: Path) -> str:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600)
    what = " ".join(map(str, cmd))
    assert out.returncode == 0, f"{what} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    return out.stdout


def test_wheel_install_explores_every_template(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    shutil.rmtree(src / "rtl" / "gen", ignore_errors=True)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", src, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("archmodel-*.whl"))
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=tmp_path)
    py = venv / "bin" / "python"
    _run(py, "-m", "pip", "install", "--no-deps", "-q", wheel, cwd=tmp_path)
    run_dir = tmp_path / "run"  # away from the checkout: nothing can be read from it by relative path
    run_dir.mkdir()
    where = _run(py, "-c", "import archmodel; print(archmodel.__file__)", cwd=run_dir).strip()
    assert Path(where).is_relative_to(venv), f"the wheel's archmodel was not the one imported: {where}"

    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    out = json.loads(_run(venv / "bin" / "archmodel", "explore", WORKLOAD, *sets, "--json", cwd=run_dir))

    checkout = explore(WORKLOAD, overrides=TINY, save=False)
    assert out["designs"] == len(checkout.table) == default_space().size
    assert out["space"] == "default"


def test_every_template_with_a_default_entry_is_in_the_default_space() -> None:
    sp = default_space()
    assert [t.template for t in sp.templates] == [t.name for t in TEMPLATES.values() if t.defaults]
    assert {"systolic", "spatial", "pim", "npu-pim"} <= {t.template for t in sp.templates}
    assert not sp.notes


def test_shipped_default_bases_match_their_configs() -> None:
    """The PIM entries embed a design of ``configs/archs``; they must not drift apart."""
    pairs = {"pim.yaml": "pim-attacc-hbm3.yaml", "npu-pim.yaml": "npu-pim-blocked.yaml"}
    for preset, config in pairs.items():
        base = yaml.safe_load((ROOT / "archmodel" / "presets" / preset).read_text())["base"]
        assert base == yaml.safe_load((ROOT / "configs" / "archs" / config).read_text()), preset
