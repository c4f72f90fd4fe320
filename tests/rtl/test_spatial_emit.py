"""``archmodel rtl`` on spatial designs: a buildable one gives the engine's Verilog and a manifest
naming its schedule; an unbuildable one is refused in one line (exit 2) with the field and reason,
the same reason explore's ``buildable`` gives."""

from __future__ import annotations

import json
from pathlib import Path

from archmodel.cli import main
from archmodel.templates import TEMPLATES, load_design

ROOT = Path(__file__).resolve().parents[2]


def small_design(tmp_path: Path, **changes: str) -> Path:
    text = (ROOT / "configs/archs/spatial-fusemax-int.yaml").read_text()
    text = text.replace("rows: 16", "rows: 2").replace("cols: 16", "cols: 2").replace("lanes: 16", "lanes: 2")
    for old, new in changes.items():
        text = text.replace(old, new)
    path = tmp_path / "small.yaml"
    path.write_text(text)
    return path


def test_rtl_writes_the_engine(tmp_path: Path, capsys) -> None:
    path = small_design(tmp_path)
    assert TEMPLATES["spatial"].rtl_problem(load_design(path)) is None
    assert main(["rtl", str(path), "-o", str(tmp_path / "out"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["template"] == "spatial" and m["parameters"]["rows"] == 2 and m["parameters"]["lanes"] == 2
    assert m["schedule"]["cycles_function"].endswith("engine_cycles")
    verilog = (tmp_path / "out" / f"{m['top']}.v").read_text()
    assert f"module {m['top']}" in verilog and "/work/" not in verilog


def test_rtl_refuses_what_buildable_refuses(tmp_path: Path, capsys) -> None:
    for change, key in (({"array_ops: all": "array_ops: mac"}, "array_ops"),
                        ({"format: int": "format: fp"}, "vector.format"),
                        ({"fusion: true": "fusion: false"}, "fusion")):
        path = small_design(tmp_path, **change)
        reason = TEMPLATES["spatial"].rtl_problem(load_design(path))
        assert reason is not None and key in reason
        assert main(["rtl", str(path), "-o", str(tmp_path / "refused")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and key in err, err
