"""Hierarchical synthesis: module classes, instance counts, and the composed figure against a flat run.

Tolerance: the composed figure keeps every module boundary, as a flow that keeps the array hierarchy
does, so it cannot use what a flat run learns across them. The largest such loss is the partial-sum
path: each PE's sum register and adder are as wide as the port (``acc_bits``), where a flat run
merges the sign-extension bits of the narrower sums that actually arrive (row ``i`` carries at most
``product_bits + log2(i + 1)`` significant bits). Measured at 4x4, ``m_tile`` 4: INT8 MAC +23.8 %
area, +18.6 % flip-flops, +26.0 % transistors; MixPE W4A8 -0.7 % area (its PE sums are narrow
already; ABC's mapping of each partition differs by a little either way). The check: at most 30 %
above the flat figure (the sign-extension loss, bounded by the PE's share of the design) and at most
5 % below it (partition noise).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from archmodel.pe.spec import PESpec
from archmodel.rtl import ArrayConfig, generate_rtl
from archmodel.synth import synthesize
from archmodel.synth.hier import compose, instances, split_modules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def cache_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(ROOT)
    path = Path(".archmodel-cache") / "pytest-synth" / uuid.uuid4().hex[:12]
    yield path / "synth"
    shutil.rmtree(path, ignore_errors=True)


def _rtl(cache_dir: Path, rows: int, cols: int) -> Path:
    cfg = ArrayConfig(pe=PESpec(kind="mac", a_bits=8, w_bits=8), rows=rows, cols=cols, dataflow="ws",
                      name=f"hier{rows}x{cols}", m_tile=4)
    return generate_rtl(cfg, cache_dir.parent / "rtl" / cfg.name)


def test_modules_and_instance_counts(cache_dir: Path) -> None:
    rtl = _rtl(cache_dir, 3, 2)
    modules = split_modules((rtl / "hier3x2.v").read_text())
    count = instances(modules, "hier3x2")
    pes = [m for m in modules if ".array.pe_" in m]
    assert len(pes) == 6 and all(count[m] == 1 for m in modules)
    # PEs below the first row are the same module up to their names: one class, synthesised once
    assert len({modules[m].shape for m in pes if not m.endswith(("pe_0_0", "pe_0_1"))}) == 1
    assert all(text.strip().endswith("endmodule") for text in (m.text for m in modules.values()))


def test_composed_matches_flat_at_4x4(cache_dir: Path) -> None:
    rtl = _rtl(cache_dir, 4, 4)
    flat = synthesize(rtl, "generic", cache_dir=cache_dir)
    hier = compose(rtl, "generic", cache_dir=cache_dir)
    assert hier.flow == "hierarchical" and flat.flow == "flat"
    for composed, whole in ((hier.area_um2, flat.area_um2), (hier.resources["ffs"], flat.resources["ffs"]),
                            (hier.transistors, flat.transistors)):
        assert 0.95 * whole <= composed <= 1.30 * whole, (composed, whole)
    again = compose(rtl, "generic", cache_dir=cache_dir)
    assert again.cached and again.area_um2 == hier.area_um2
