"""The I/O layer: atomic writes with normal permissions, one cache root, ``archmodel cache``, the
``archmodel`` logger, and imports that leave sympy and matplotlib alone until they are needed."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.io import atomic_write_bytes, atomic_write_text, cache_clean, cache_info, cache_root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_writes_get_the_mode_a_plain_open_would(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a" / "t.txt", "hello")
        atomic_write_bytes(tmp_path / "b.png", b"\x89PNG")
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "t.txt").read_text() == "hello"
    assert _mode(tmp_path / "a" / "t.txt") == _mode(tmp_path / "b.png") == _mode(tmp_path / "plain.txt")
    assert _mode(tmp_path / "b.png") == 0o666 & ~umask
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_cache_root_is_the_variable_else_the_user_cache(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setenv("ARCHMODEL_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root() == (tmp_path / "c").resolve()
    monkeypatch.delenv("ARCHMODEL_CACHE_DIR")
    assert cache_root() == Path(platformdirs.user_cache_dir("archmodel", appauthor=False))


def test_verilator_builds_live_under_the_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Where a build goes and that it is reused (the compiler itself stubbed: no Verilator run)."""
    from archmodel.verif import runner

    class FakeVerilator:
        def build(self, *, build_dir: Path, hdl_toplevel: str, **_: object) -> None:
            (build_dir / hdl_toplevel).write_text("")

    monkeypatch.setattr(runner, "_make_runner", FakeVerilator)
    monkeypatch.setenv("ARCHMODEL_CACHE_DIR", str(tmp_path / "root"))
    (tmp_path / "a.v").write_text("module a; endmodule\n")
    first = runner.build([tmp_path / "a.v"], "a")
    again = runner.build([tmp_path / "a.v"], "a")
    assert first.build_dir.parent == (tmp_path / "root").resolve() / "verilator"
    assert (first.reused, again.reused) == (False, True)


def test_yosys_runs_live_under_the_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A result filed under ``<root>/synth`` is what ``synthesize`` finds (no Yosys run)."""
    from archmodel.synth import flow
    from archmodel.synth.targets import TARGETS

    monkeypatch.setenv("ARCHMODEL_CACHE_DIR", str(tmp_path / "root"))
    src = tmp_path / "pe.v"
    src.write_text("module pe; endmodule\n")
    key = flow._cache_key([src.read_bytes()], TARGETS["ice40"].script([f"src0_{src.name}"], None), "ice40")
    entry = tmp_path / "root" / "synth" / f"pe-ice40-{key}"
    entry.mkdir(parents=True)
    (entry / "result.json").write_text(json.dumps({"top": "pe", "target": "ice40", "cells": {"SB_LUT4": 3},
                                                   "resources": {"LUT": 3}}))
    got = flow.synthesize(src, "ice40")
    assert got.cached and got.cells == {"SB_LUT4": 3}


def _fill(root: Path) -> None:
    for kind, names in {"verilator": ["a", "b"], "synth": ["x"]}.items():
        for n in names:
            (root / kind / n).mkdir(parents=True)
            (root / kind / n / "f.bin").write_bytes(b"0" * 1000)


def test_cache_info_and_clean(tmp_path: Path) -> None:
    _fill(tmp_path)
    info = {k.kind: (k.entries, k.bytes) for k in cache_info(tmp_path)}
    assert info == {"synth": (1, 1000), "verilator": (2, 2000)}
    removed = cache_clean(["synth"], tmp_path)
    assert [(k.kind, k.entries) for k in removed] == [("synth", 1)]
    assert [k.kind for k in cache_info(tmp_path)] == ["verilator"]
    cache_clean(None, tmp_path)
    assert cache_info(tmp_path) == []


def test_cache_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("ARCHMODEL_CACHE_DIR", str(tmp_path))
    _fill(tmp_path)
    assert main(["cache", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {k["kind"]: k["entries"] for k in info["kinds"]} == {"synth": 1, "verilator": 2}
    assert main(["cache", "clean", "--kind", "nonsense"]) == 2
    assert "--kind nonsense" in capsys.readouterr().err
    assert main(["-v", "cache", "clean"]) == 0
    out = capsys.readouterr()
    assert "3 entries" in out.out and "removed" in out.out
    assert "archmodel: cache: removed 2 verilator entries" in out.err  # the -v log line
    assert cache_info(tmp_path) == []


def test_the_library_logs_to_the_archmodel_logger_silently() -> None:
    from archmodel.synth import flow
    from archmodel.verif import runner

    root = logging.getLogger("archmodel")
    assert any(isinstance(h, logging.NullHandler) for h in root.handlers)
    for module in (flow, runner):
        assert module.log.name == module.__name__ and module.log.name.startswith("archmodel.")


@pytest.mark.parametrize("module", ["archmodel", "archmodel.evaluation", "archmodel.exploration",
                                    "archmodel.cli"])
def test_importing_leaves_sympy_and_matplotlib_unloaded(module: str) -> None:
    code = (f"import sys, {module}; "
            "print(','.join(m for m in ('sympy', 'matplotlib', 'amaranth', 'cocotb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_symbolic_analysis_still_loads_sympy() -> None:
    code = ("import sys; from archmodel import analyze, load_workload; "
            "a = analyze(load_workload('configs/gemm.yaml'), symbolic=True); "
            "print('sympy' in sys.modules, a.to_dict()['totals']['total_ops'])")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    loaded, formula = out.stdout.split(" ", 1)
    assert loaded == "True" and any(c.isalpha() for c in formula)
