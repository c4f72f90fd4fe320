"""The spatial ``rtl`` convention and the template's ``buildable`` rule: the cost model gives the
generated engine's exact cycles on the attention cascades, and refuses, with the reason, what the
generator does not build."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archmodel.dataflow.spatial_rtl_schedule import attention_dims, engine_cycles
from archmodel.errors import OptionError, SpecError
from archmodel.evaluation import evaluate
from archmodel.pe.vector_spec import lane_cycles
from archmodel.rtl.spatial.config import buildable, engine_config
from archmodel.templates import load_design
from archmodel.workload import load_workload

INT_DESIGN = "configs/archs/spatial-fusemax-int.yaml"
SMALL = {"B": 2, "H": 3, "M": 40, "P": 24, "E": 8, "F": 8}


@pytest.mark.parametrize("workload", ["attention", "attention-2pass", "attention-1pass"])
def test_rtl_convention_is_engine_cycles(workload: str) -> None:
    sets = dict(SMALL, M0=8) if workload != "attention" else SMALL
    cascade = load_workload(f"configs/{workload}.yaml", sets)
    design = load_design(INT_DESIGN)
    ev = evaluate(cascade, design, convention="rtl")
    cfg = engine_config(design)
    assert attention_dims(cascade) == (6, 24, 40, 8)
    assert ev.cycles == 6 * engine_cycles(24, 40, 8, cfg.shape)
    assert sum(e.cycles for e in ev.einsums) == ev.cycles
    # The search convention keeps its own (idealised, overlapped) count.
    assert evaluate(cascade, design).cycles != ev.cycles


def test_rtl_convention_prices_lane_ops_from_vector_spec() -> None:
    cascade = load_workload("configs/attention-1pass.yaml", dict(SMALL, M0=8))
    design = load_design(INT_DESIGN)
    ev = {e.name: e for e in evaluate(cascade, design, convention="rtl").einsums}
    fmt = engine_config(design).fmt
    # AV = RNV / RD on the 1-D array: one div per element at the generated lane's div cycles.
    assert ev["AV"].unit == "vector"
    elems = SMALL["B"] * SMALL["H"] * SMALL["F"] * SMALL["P"]
    assert ev["AV"].compute_cycles == -(-elems * lane_cycles("div", fmt) // design.array.vector.lanes)
    search = {e.name: e for e in evaluate(cascade, design).einsums}
    assert search["AV"].compute_cycles != ev["AV"].compute_cycles  # the design's own costs: div = 6


def test_rtl_convention_refuses_with_reason() -> None:
    cascade = load_workload("configs/attention.yaml", SMALL)
    # a design the generator cannot build is the design file's problem: named, with its key
    with pytest.raises(SpecError, match=r"spatial-fusemax\.yaml: vector\.format.*FP16/BF16"):
        evaluate(cascade, load_design("configs/archs/spatial-fusemax.yaml"), convention="rtl")
    with pytest.raises(OptionError, match="softmax attention"):
        evaluate(load_workload("configs/layernorm-onepass.yaml"), load_design(INT_DESIGN), convention="rtl")


def test_buildable_reasons() -> None:
    d = load_design(INT_DESIGN)
    assert buildable(d) is None
    cases = {
        "fusion": replace(d, fusion=False),
        "array_ops": replace(d, array_ops="mac"),
        "fuse_contractions": replace(d, fuse_contractions=False),
        "vector_pipelined": replace(d, vector_pipelined=True),
        "binding": replace(d, binding={"QK": "2d"}),
        "rows": replace(d, array=replace(d.array, rows=256)),
        "vector.format": replace(d, array=replace(d.array, vector=replace(d.array.vector,
                                                                         number_format="fp"))),
        "pe": replace(d, array=replace(d.array, pe=d.array.pe.with_(a_bits=8, w_bits=8))),
    }
    for key, design in cases.items():
        reason = buildable(design)
        assert reason is not None and key in reason, (key, reason)
    assert "FP16/BF16" in buildable(load_design("configs/archs/spatial-fusemax.yaml"))
    assert "array_ops" in buildable(load_design("configs/archs/spatial-flat.yaml"))
