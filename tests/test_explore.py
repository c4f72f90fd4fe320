"""Exploration end to end on the real cost model (a small attention so it runs in seconds):
executors agree, seeds reproduce, the front is the front, best.yaml loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import archmodel
from archmodel.exploration import explore
from archmodel.exploration.results import pareto_mask
from archmodel.templates import load_design
from archmodel.yamlio import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "configs" / "attention.yaml"
#: Attention at toy size: the same cascade, a mapspace of about a thousand mappings per design.
TINY = {"B": 1, "H": 1, "M": 64, "P": 64, "E": 16, "F": 16}

SPACE = """\
objectives: [latency, energy]
constraints:
  area_mm2: {max: 6}
templates:
  systolic:
    rows: [16, 32, 64]
    cols: [16, 64]
    dataflow: [ws, os, is]
    memory.global_buffer.size_kib: [64, 1024]
    pe:
      choices:
        int8: {kind: mac, a_bits: 8, w_bits: 8}
        w4a8: {kind: mixpe, a_bits: 8, w_bits: 4}
"""


@pytest.fixture(scope="module")
def space_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("space") / "space.yaml"
    path.write_text(SPACE)
    return path


def run(space_file: Path, **kw: object) -> archmodel.exploration.ExploreResult:
    kw.setdefault("workers", 1)
    return explore(WORKLOAD, space_file, overrides=TINY, progress=False, **kw)


def metrics(result: archmodel.exploration.ExploreResult) -> pd.DataFrame:
    return result.to_dataframe().sort_values("point_id").reset_index(drop=True)


def test_cli_explores_prints_writes_and_best_yaml_loads(space_file: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from archmodel.cli import main

    out = tmp_path / "run"
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    assert main(["explore", str(WORKLOAD), "--space", str(space_file), "--out", str(out), "--workers", "1",
                 *sets]) == 0
    text = capsys.readouterr().out
    for needle in ("72 designs", "Pareto front", "best (edp): systolic", f"next:  archmodel eval {WORKLOAD}",
                   "--objective edp"):
        assert needle in text, text
    table = pd.read_csv(out / "points.csv")
    assert len(table) == 72 and table["point_id"].is_unique
    assert table["valid"].all() and (table["mappings"] > 0).all()
    assert (table["feasible"] == (table["area_mm2"] <= 6)).all()
    for name in ("pareto.csv", "best.yaml", "summary.md", "space.yaml", "pareto.png", "compare.png",
                 "breakdown.png"):
        assert (out / name).stat().st_size > 0, name
    best = load_design(out / "best.yaml")  # what the design loader accepts
    chosen = table[(table["rows"] == best.rows) & (table["cols"] == best.cols)
                   & (table["dataflow"] == best.dataflow)
                   & (table["memory.global_buffer.size_kib"] == best.glb.size_kib)
                   & (table["pe"] == ("w4a8" if best.pe.kind == "mixpe" else "int8"))]
    assert len(chosen) == 1 and chosen["feasible"].iloc[0]
    # The model agrees with the table about the design best.yaml describes.
    again = archmodel.evaluate(WORKLOAD, best, "edp", overrides=TINY)  # two objectives: mapped for EDP
    assert again.cycles == chosen["cycles"].iloc[0]
    assert again.energy_pj == pytest.approx(chosen["energy_pj"].iloc[0], rel=1e-9)


def test_public_api_returns_front_best_and_plots(space_file: Path) -> None:
    result = archmodel.explore(WORKLOAD, space_file, overrides=TINY, progress=False, workers=1)
    assert result.out is None  # no out=: nothing kept
    assert set(result.pareto["point_id"]) <= set(result.to_dataframe()["point_id"])
    assert result.best["point_id"] in set(result.pareto["point_id"])
    assert result.design_of(result.best)["template"] == "systolic"
    assert result.plot("front").axes and result.plot("compare").axes


def test_front_and_best_follow_their_definitions(space_file: Path) -> None:
    result = run(space_file)
    ok = result.feasible
    pts = ok[["latency_s", "energy_pj"]].to_numpy()
    # Independent reference: a point is on the front when no other point is <= in both and < in one.
    dominated = [((pts <= p).all(1) & (pts < p).any(1)).any() for p in pts]
    on_front = ok[~np.array(dominated)].drop_duplicates(["latency_s", "energy_pj"])
    assert set(result.pareto["point_id"]) == set(on_front["point_id"])
    edp = ok["latency_s"] * ok["energy_pj"]
    assert result.best["point_id"] == ok.loc[edp.idxmin(), "point_id"]
    assert result.best["area_mm2"] <= 6


def test_pareto_mask_matches_brute_force_in_three_objectives() -> None:
    rng = np.random.default_rng(0)
    v = rng.integers(0, 12, size=(600, 3)).astype(float)
    v[5] = np.inf
    keep = pareto_mask(v, block=64)
    for i, p in enumerate(v):
        if not np.isfinite(p).all():
            assert not keep[i]
            continue
        strictly = ((v <= p).all(1) & (v < p).any(1)).any()
        earlier_equal = (v[:i] == p).all(1).any()
        assert keep[i] == (not strictly and not earlier_equal)


def test_executors_give_the_same_table(space_file: Path) -> None:
    opts = {"strategy": "random", "budget": 32, "seed": 0}
    inline = metrics(run(space_file, workers=1, **opts))
    pool = metrics(run(space_file, workers=2, **opts))
    dask = metrics(run(space_file, dask_local=2, **opts))
    assert len(inline) == 32
    pd.testing.assert_frame_equal(inline, pool)
    pd.testing.assert_frame_equal(inline, dask)


def test_same_seed_same_result(space_file: Path) -> None:
    a = run(space_file, strategy="random", budget=20, seed=7).to_dataframe()
    b = run(space_file, strategy="random", budget=20, seed=7).to_dataframe()
    c = run(space_file, strategy="random", budget=20, seed=8).to_dataframe()
    pd.testing.assert_frame_equal(a, b)
    assert set(a["point_id"]) != set(c["point_id"])
    n1 = run(space_file, strategy="nsga2", budget=40, seed=1).to_dataframe()
    n2 = run(space_file, strategy="nsga2", budget=40, seed=1).to_dataframe()
    pd.testing.assert_frame_equal(n1, n2)
    assert len(n1) <= 40


def test_grid_larger_than_budget_is_refused(space_file: Path) -> None:
    with pytest.raises(archmodel.OptionError, match="grid has 72 designs"):
        run(space_file, strategy="grid", budget=10)


@pytest.mark.parametrize(("opts", "needle"), [
    ({"strategy": "nsga2", "budget": 1}, "--budget 1: nsga2 needs at least 2 designs"),
    ({"budget": 1}, "--budget 1: nsga2 needs at least 2 designs"),  # auto picks nsga2 over budget
    ({"strategy": "random", "budget": 4, "scheduler": "bogus"},
     "--scheduler bogus: not a scheduler address"),
    ({"strategy": "random", "budget": 4, "scheduler": "tcp://host:port"},
     "--scheduler tcp://host:port: not a scheduler address"),
])
def test_bad_options_are_refused_before_the_run_directory(space_file: Path, tmp_path: Path,
                                                          opts: dict, needle: str) -> None:
    out = tmp_path / "run"
    with pytest.raises(archmodel.OptionError, match=needle) as info:
        run(space_file, out=out, **opts)
    assert "\n" not in str(info.value)
    assert not out.exists()  # nothing for a --resume to replay


def test_nsga2_budget_in_the_space_file_names_the_file(tmp_path: Path) -> None:
    sp = tmp_path / "s.yaml"
    sp.write_text(SPACE + "strategy: nsga2\nbudget: 1\n")
    with pytest.raises(archmodel.OptionError, match=r"s.yaml: budget 1: nsga2 needs at least 2"):
        run(sp, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_malformed_scheduler_address_is_an_option_error() -> None:
    from archmodel.exploration.executors import Dask

    with pytest.raises(archmodel.OptionError, match="--scheduler bogus: cannot reach"):
        Dask(len, None, scheduler="bogus")


@pytest.mark.parametrize("sub", ["", "sub"])
def test_out_through_a_file_is_one_line_and_writes_nothing(space_file: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           sub: str) -> None:
    from archmodel.cli import main

    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    out = afile / sub if sub else afile
    assert main(["explore", str(WORKLOAD), "--space", str(space_file), "--out", str(out),
                 "--strategy", "random", "--budget", "2", "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--out {out}:" in err[0], err
    assert afile.read_text() == "keep me\n" and sorted(tmp_path.iterdir()) == [afile]


def test_explore_section_of_the_workload_is_used(tmp_path: Path) -> None:
    text = WORKLOAD.read_text() + "explore:\n  templates:\n    systolic:\n      rows: [16, 32]\n"
    wl = tmp_path / "wl.yaml"
    wl.write_text(text)
    result = explore(wl, overrides=TINY, progress=False, workers=1)
    assert result.space.size == 2
    assert result.space.source == str(wl)
    bad = tmp_path / "bad.yaml"
    bad.write_text(WORKLOAD.read_text() + "explore:\n  templates:\n    systolic:\n      rowz: [16]\n")
    with pytest.raises(archmodel.SpecError, match=r"bad.yaml:\d+: explore.templates.systolic.rowz"):
        explore(bad, overrides=TINY, progress=False, workers=1)


def test_space_text_of_a_run_parses(space_file: Path, tmp_path: Path) -> None:
    run(space_file, out=tmp_path / "r", save=False)
    doc = parse_yaml((tmp_path / "r" / "space.yaml").read_text())
    assert doc.data["templates"]["systolic"]["rows"] == [16, 32, 64]


def test_templates_without_a_batch_kernel_explore_beside_systolic(tmp_path: Path) -> None:
    space = tmp_path / "mixed.yaml"
    space.write_text(f"""\
templates:
  systolic:
    rows: [16, 32]
    dataflow: [ws, is]
  spatial:
    array_ops: [mac, all]
  pim:
    base: {ROOT / "configs" / "archs" / "pim-attacc-hbm3.yaml"}
    level: [bank, buffer_die]
""")
    result = explore(WORKLOAD, space, overrides=TINY, progress=False, workers=2)
    table = result.to_dataframe()
    assert table.groupby("template").size().to_dict() == {"systolic": 4, "spatial": 2, "pim": 2}
    assert table["valid"].all()
    assert (table.loc[table["template"] == "systolic", "array_ops"].isna()).all()
    # best-rtl.yaml: the best design the RTL generator builds (systolic, WS or OS).
    assert result.best_buildable["template"] == "systolic"
    assert result.best_buildable["dataflow"] == "ws"
    assert result.best_is_buildable == (result.best["point_id"] == result.best_buildable["point_id"])


def test_best_yaml_suggests_a_verify_that_runs(tmp_path: Path) -> None:
    """The commands best.yaml suggests carry the run's --set overrides, and ask verify for the
    workload only where the generated RTL runs it (a spatial engine runs softmax attention only)."""
    space = ROOT / "configs" / "spaces" / "attention-spatial-rtl.yaml"
    sets = {"B": 1, "H": 1, "M": 16, "P": 16, "E": 8, "F": 8}
    archmodel.explore(ROOT / "configs" / "attention.yaml", space, overrides=sets, out=tmp_path / "att",
                      progress=False)
    head = (tmp_path / "att" / "best.yaml").read_text()
    assert "--workload" in head and " --set B=1 --set H=1 --set M=16" in head, head[:600]
    archmodel.explore(ROOT / "configs" / "layernorm-onepass.yaml", space, out=tmp_path / "ln",
                      progress=False)
    head = (tmp_path / "ln" / "best.yaml").read_text()
    assert "archmodel verify best.yaml (random shapes: the RTL does not run this workload" in head, head[:600]
    assert "--workload" not in head.split("archmodel rtl", 1)[1].splitlines()[0]
