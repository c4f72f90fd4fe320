"""The PIM slice (one near-bank unit and its command sequencer) in Amaranth's simulator: the RTL against
its behavioural model and the model's closed form (values bit-exact, commands and cycles exact), its
command stream against the DRAM channel model's timing rules (and a slice built one cycle too eager
caught by them), the ``buildable`` rule, the ``rtl`` convention and explore's best-rtl. Verilator runs
are in ``tests/verif/test_pim.py``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from archmodel import evaluate
from archmodel.cli import main
from archmodel.dataflow.gemm import gemm_of
from archmodel.dataflow.pim_rtl_schedule import (
    check_pim,
    pim_buildable,
    plan_gemv,
    rtl_gemm_cycles,
    tile_cycles,
    tile_period,
    tiles_cycles,
)
from archmodel.errors import OptionError, SpecError
from archmodel.rtl.pim.config import SliceConfig, slice_config
from archmodel.rtl.pim.model import TilePlacement, bank_columns, gemv_reference, grf_columns, run_tile
from archmodel.rtl.pim.sim import simulate
from archmodel.rtl.pim.slice import PIMSlice
from archmodel.templates import TEMPLATES, load_design, parse_design
from archmodel.verif.dram import ACT, MAC, PRE, DRAMChannel, DRAMTiming, TimingViolation
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"
INT8 = "{kind: mac, a_bits: 8, w_bits: 8}"
W4A8 = "{kind: mixpe, a_bits: 8, w_bits: 4}"
BITSERIAL = "{kind: bitserial, a_bits: 8, w_bits: 8}"


def pim_design(preset: str, pe: str | None, **timing: int):
    """A preset with a ``pe:`` and some timing fields replaced (text edits keep the loader in the loop)."""
    text = (ARCHS / f"{preset}.yaml").read_text()
    for key, value in timing.items():
        text = text.replace(f"{key}: ", f"{key}: {value}  # was ", 1)
    return parse_design(text + (f"pe: {pe}\n" if pe else ""), f"{preset}.yaml")


def run_both(design, grf: int, tiles: list[tuple[int, int, int, int]], seed: int):
    """Tiles ``(n_out, K, row0, seed)`` of random GEMVs through the RTL and the model; both traces."""
    cfg = slice_config(design, grf)
    s = cfg.shape
    rng = np.random.default_rng(seed)
    columns, sim_tiles, placed = {}, [], []
    for n_out, K, row0, _ in tiles:
        W = rng.integers(-(1 << (s.pe.w_bits - 1)), 1 << (s.pe.w_bits - 1), size=(K, n_out))
        x = rng.integers(-128, 128, size=K)
        tp = TilePlacement(0, n_out, 0, K, row0)
        columns.update(bank_columns(W, tp, s))
        sim_tiles.append((tp.k_cols(s), tp.n_pb(s), row0, grf_columns(x, tp, s)))
        placed.append((W, x, tp))
    traces = simulate(PIMSlice(cfg), sim_tiles, lambda b, r, c: columns[b, r, c])
    return cfg, sim_tiles, placed, traces, columns


CONFIGS = [
    ("pim-neupims-hbm2", INT8, {}),                       # 1 bank per unit, tCCD_L-bound
    ("pim-samsung-hbm", W4A8, {}),                        # 2 banks per unit, 300 MHz lanes: compute-bound
    ("pim-attacc-hbm3", BITSERIAL, {}),                   # Booth digits, the power-capped MAC interval
    # 8 ACT groups tFAW apart, the guard on and binding (a row's columns take less than tFAW):
    ("pim-neupims-hbm2", INT8, {"activates_per_faw": 4, "t_faw": 100}),
    # one ACT group, two fit a window, but rows come faster than tFAW / 2: the guard on
    ("pim-neupims-hbm2", INT8, {"activates_per_faw": 64, "t_faw": 100}),
]


@pytest.mark.parametrize("preset,pe,timing", CONFIGS)
def test_rtl_equals_model_and_closed_form(preset: str, pe: str, timing: dict) -> None:
    design = pim_design(preset, pe, **timing)
    # Outputs neither a multiple of the banks nor the lanes; reductions cross columns and rows.
    tiles = [(7, 70, 0, 0), (3, 9, 40, 1), (2 * 16 + 1, 37, 60, 2)]
    cfg, sim_tiles, placed, traces, columns = run_both(design, 4, tiles, seed=5)
    s = cfg.shape
    for (k_cols, n_pb, row0, x_cols), (W, x, tp), tr in zip(sim_tiles, placed, traces, strict=True):
        model = run_tile(s, k_cols, n_pb, row0, x_cols, lambda b, r, c: columns[b, r, c])
        assert tr.commands == model.commands
        assert tr.results == model.results
        assert [v for _, v in tr.results] == gemv_reference(W, x, tp, s)
        got = np.array([v for _, v in tr.results]).reshape(-1)[:tp.n_hi]
        assert (got == x.astype(np.int64) @ W.astype(np.int64)).all()  # numpy: independent of both
        assert tr.cycles == model.cycles == tile_cycles(k_cols, n_pb, s)
        assert tr.period == model.period == tile_period(k_cols, n_pb, s)
    starts = [tr.start for tr in traces]
    assert traces[-1].start + traces[-1].cycles - starts[0] == tiles_cycles([t[:2] for t in sim_tiles], s)
    if timing:
        assert s.faw_guard and s.act_groups == (8 if timing["activates_per_faw"] == 4 else 1)


@pytest.mark.parametrize("preset,pe,timing", CONFIGS)
def test_command_stream_keeps_the_dram_rules(preset: str, pe: str, timing: dict) -> None:
    design = pim_design(preset, pe, **timing)
    _, sim_tiles, _, traces, columns = run_both(design, 4, [(9, 80, 0, 0), (5, 20, 30, 1)], seed=2)
    channel = DRAMChannel(DRAMTiming.of_design(design), columns, design.banks_per_unit)
    for tr in traces:
        for cycle, op, group, row, col in tr.commands:
            channel.command(tr.start + cycle, op, group, row, col)  # raises on any broken rule
    ops = [c[1] for c in channel.log]
    assert ops.count(MAC) == sum(k_cols * n_pb for k_cols, n_pb, _, _ in sim_tiles)
    assert ops.count(ACT) == ops.count(PRE) * check_pim(design).act_groups


@pytest.mark.parametrize("field,rule", [("t_rcd", "tRCD"), ("t_rp", "tRP"), ("t_ccd", "tCCD_L"),
                                        ("faw_guard", "tFAW"), ("t_faw", "tFAW")])
def test_a_slice_that_breaks_a_rule_is_caught(field: str, rule: str) -> None:
    """The same slice generated with one gap a cycle short (or the tFAW guard off) breaks exactly the
    rule that gap keeps: the DRAM model is not a rubber stamp."""
    timing = {"activates_per_faw": 4, "t_faw": 100} if field in ("faw_guard", "t_faw") else \
        {"t_ccd_l": 4} if field == "t_ccd" else {}  # tCCD_L above the unit's 2 cycles, so it binds
    design = pim_design("pim-neupims-hbm2", INT8, **timing)
    good = check_pim(design, 4)
    bad_value = False if field == "faw_guard" else getattr(good, field) - 1
    bad = SliceConfig(replace(good, **{field: bad_value}), "eager")
    rng = np.random.default_rng(0)
    W, x = rng.integers(-128, 128, size=(64, 20)), rng.integers(-128, 128, size=64)
    tp = TilePlacement(0, 20, 0, 64)  # 40 columns: a row switch
    columns = bank_columns(W, tp, good)
    tr = simulate(PIMSlice(bad), [(tp.k_cols(good), tp.n_pb(good), 0, grf_columns(x, tp, good))],
                  lambda b, r, c: columns[b, r, c])[0]
    channel = DRAMChannel(DRAMTiming.of_design(design), columns)
    with pytest.raises(TimingViolation, match=rule):
        for cmd in tr.commands:
            channel.command(*cmd)


def test_dram_model_rules_directly() -> None:
    t = DRAMTiming(banks=8, activates_per_faw=4, t_rcd=3, t_rp=2, t_faw=10, t_ccd_l=2, burst_cycles=2,
                   mac_interval=0)
    data = {(0, 5, c): [c] for c in range(4)}

    def after(*commands: tuple[int, int, int, int, int]) -> DRAMChannel:
        ch = DRAMChannel(t, data)
        for c in commands:
            ch.command(*c)
        return ch

    opened = [(0, ACT, 0, 5, 0), (10, ACT, 1, 5, 0)]        # both groups, tFAW apart
    with pytest.raises(TimingViolation, match="tFAW"):
        after(opened[0]).command(9, ACT, 1, 5, 0)
    with pytest.raises(TimingViolation, match="tRCD"):
        after(*opened).command(12, MAC, 0, 5, 0)
    assert after(*opened).command(13, MAC, 0, 5, 1) == [[1]]
    with pytest.raises(TimingViolation, match="tCCD_L"):
        after(*opened, (13, MAC, 0, 5, 1)).command(14, MAC, 0, 5, 2)
    with pytest.raises(TimingViolation, match="nothing stored"):
        after(*opened).command(15, MAC, 0, 5, 9)
    with pytest.raises(TimingViolation, match="row 5 open"):
        after(*opened).command(15, MAC, 0, 6, 0)
    closed = [*opened, (16, PRE, 0, 0, 0)]
    with pytest.raises(TimingViolation, match="tRP"):
        after(*closed).command(17, ACT, 0, 6, 0)
    with pytest.raises(TimingViolation, match="still open"):
        after(*opened).command(30, ACT, 0, 6, 0)
    after(*closed, (20, ACT, 0, 6, 0))                      # tRP and tFAW both kept: accepted


def test_buildable_rule() -> None:
    for path in sorted(ARCHS.glob("pim-*.yaml")):  # every preset: FP16 lanes, refused with the reason
        reason = pim_buildable(load_design(path))
        assert reason is not None and reason.startswith("pe: FP16 MAC lanes") and "\n" not in reason
    assert pim_buildable(pim_design("pim-neupims-hbm2", INT8)) is None
    assert pim_buildable(pim_design("pim-samsung-hbm", W4A8)) is None
    fp16 = "{kind: mac, a_bits: 16, w_bits: 16, a_format: fp16, w_format: fp16}"
    assert "FP16 operands" in pim_buildable(pim_design("pim-neupims-hbm2", fp16))
    assert pim_buildable(pim_design("pim-neupims-hbm2", "{kind: mixpe, a_bits: 8, w_bits: 5}")).startswith(
        "pe.w_bits")  # a 256-bit column does not hold whole 5-bit weights
    twelve = parse_design((ARCHS / "pim-neupims-hbm2.yaml").read_text().replace("lanes_per_unit: 16",
                                                                                "lanes_per_unit: 12")
                          + f"pe: {INT8}\n")
    assert pim_buildable(twelve).startswith("lanes_per_unit")  # 12 lanes do not divide 32 weights
    assert TEMPLATES["pim"].rtl_problem(pim_design("pim-neupims-hbm2", INT8)) is None
    with pytest.raises(SpecError, match="pe"):
        slice_config(load_design(ARCHS / "pim-neupims-hbm2.yaml"))


def test_archmodel_rtl_on_pim(tmp_path: Path, capsys) -> None:
    good = tmp_path / "pim-int8.yaml"
    good.write_text((ARCHS / "pim-neupims-hbm2.yaml").read_text() + f"pe: {INT8}\n")
    assert main(["rtl", str(good), "-o", str(tmp_path / "rtl")]) == 0
    out = capsys.readouterr().out
    assert "PIM slice, 16-lane mac unit" in out and "cmd_op" in out
    assert (tmp_path / "rtl" / "manifest.json").exists()
    assert main(["rtl", str(ARCHS / "pim-neupims-hbm2.yaml"), "-o", str(tmp_path / "no")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pim-neupims-hbm2.yaml" in err and "pe: FP16" in err


def test_rtl_convention_is_the_closed_form_and_search_is_unchanged() -> None:
    workload = load_workload(ROOT / "configs" / "llm-decoder-decode.yaml")
    plain = load_design(ARCHS / "pim-neupims-hbm2.yaml")
    design = pim_design("pim-neupims-hbm2", INT8)
    search = evaluate(workload, design)
    assert [e.cycles for e in search.einsums] == [e.cycles for e in evaluate(workload, plain).einsums]
    rtl = evaluate(workload, design, convention="rtl")
    for e, r in zip(workload.einsums, rtl.einsums, strict=True):
        g = gemm_of(workload, e)
        if g is not None:
            assert r.cycles == r.compute_cycles == rtl_gemm_cycles(g, design)
            assert isinstance(r.cycles, int)
    with pytest.raises(OptionError, match="no generated RTL"):
        evaluate(workload, plain, convention="rtl")


def test_closed_form_at_gpt3_size_is_exact_python_int() -> None:
    """A GPT-3 175B projection (12288 x 12288) on every unit: the plan's sum of tile periods equals
    the tiles walked one by one, in Python ints."""
    design = pim_design("pim-neupims-hbm2", INT8)
    s = check_pim(design)
    plan = plan_gemv(1, 12288, 12288, design.units, s)
    walked = tiles_cycles(list(plan.tiles) * plan.gemvs_per_slice, s)
    assert plan.cycles(s) == walked and isinstance(walked, int)
    many = plan_gemv(96 * 10**6, 128, 2048, design.units, s)  # a batch beyond 2^53 MACs' worth
    assert isinstance(many.cycles(s), int) and many.cycles(s) > 2**20


def test_explore_best_rtl_can_be_a_pim_design(tmp_path: Path) -> None:
    """A space of PIM designs with INT8 lanes: the best design is buildable, so explore writes it as
    best.yaml, and ``archmodel rtl`` builds that file."""
    from archmodel.exploration import explore

    base = tmp_path / "pim-int8.yaml"
    base.write_text((ARCHS / "pim-neupims-hbm2.yaml").read_text() + f"pe: {INT8}\n")
    space = tmp_path / "space.yaml"
    space.write_text(f"templates:\n  pim:\n    base: {base}\n    lanes_per_unit: [8, 16]\n")
    run = tmp_path / "run"
    result = explore(ROOT / "configs" / "llm-decoder-decode.yaml", space, progress=False, workers=1, out=run)
    assert result.best_buildable is not None and result.best_buildable["template"] == "pim"
    assert result.best_is_buildable
    best = next(run.rglob("best.yaml"))
    assert main(["rtl", str(best), "-o", str(tmp_path / "rtl")]) == 0
