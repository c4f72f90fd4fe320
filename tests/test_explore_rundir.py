"""The run directory under concurrency and damage: one writer at a time (an OS lock that dies with its
holder), workers that die with their parent, a resume that refuses another workload or space, and
damaged metadata or parts reported in one line (damaged rows evaluated again), never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import archmodel
from archmodel.exploration import explore
from archmodel.exploration.results import PARTS, RunDir, read_points, to_parquet
from archmodel.templates import TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "configs" / "attention.yaml"
TINY = {"B": 1, "H": 1, "M": 32, "P": 32, "E": 16, "F": 16}
SPACE = """\
templates:
  systolic:
    rows: [8, 16]
    cols: [8, 16]
    dataflow: [ws, os]
    memory.global_buffer.size_kib: [64, 256]
"""


def _space(tmp_path: Path, text: str = SPACE) -> Path:
    p = tmp_path / "space.yaml"
    p.write_text(text)
    return p


def _run(tmp_path: Path, name: str = "run") -> tuple[Path, pd.DataFrame]:
    out = tmp_path / name
    r = explore(WORKLOAD, _space(tmp_path), out=out, overrides=TINY, workers=1, progress=False, save=False)
    return out, r.to_dataframe()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archmodel.cli", "explore", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _one_line_refusal(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_a_second_writer_or_resumer_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    out, _ = _run(tmp_path)
    with RunDir.open(out):
        with pytest.raises(archmodel.OptionError, match=rf"another archmodel explore \(pid {os.getpid()}\)"):
            RunDir.open(out)
        _one_line_refusal(_cli("--resume", str(out)), "another archmodel explore", f"pid {os.getpid()}")
    with RunDir.open(out):  # released on close
        pass
    fresh = tmp_path / "fresh"
    with RunDir.create(fresh, {"archmodel_explore": 1}, SPACE), \
            pytest.raises(archmodel.OptionError, match="another archmodel explore"):
        RunDir.create(fresh, {"archmodel_explore": 1}, SPACE)


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    out, _ = _run(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, signal, sys
        from archmodel.exploration.results import RunDir
        RunDir.open({str(out)!r})
        print("locked", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.wait(timeout=60)
    assert holder.returncode == -signal.SIGKILL
    with RunDir.open(out):  # the kernel released the dead process's lock
        pass


def test_workers_die_with_their_parent() -> None:
    psutil = pytest.importorskip("psutil")
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from archmodel.exploration.executors import LocalPool
        pool = LocalPool(max, 0, 2)
        list(pool.run([1, 2, 3, 4]))
        print(*pool._pool._processes, flush=True)
        time.sleep(600)
        """)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(x) for x in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(psutil.pid_exists(w) for w in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=60)
    deadline = time.monotonic() + 30
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [w for w in alive
                 if psutil.pid_exists(w) and psutil.Process(w).status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    assert not alive, f"workers {alive} outlived their parent"


def test_resume_refuses_another_workload_space_or_overrides(tmp_path: Path) -> None:
    out, _ = _run(tmp_path)
    with pytest.raises(archmodel.OptionError, match=r"the run explores .*attention.yaml, not .*gemm.yaml"):
        explore(ROOT / "configs" / "gemm.yaml", resume=out, progress=False, save=False)
    other = tmp_path / "other.yaml"
    other.write_text(SPACE.replace("[8, 16]", "[8, 32]", 1))
    with pytest.raises(archmodel.OptionError, match="the run explores the space in"):
        explore(WORKLOAD, other, resume=out, progress=False, save=False)
    with pytest.raises(archmodel.OptionError, match="rank overrides"):
        explore(WORKLOAD, resume=out, overrides={"M": 64}, progress=False, save=False)
    _one_line_refusal(_cli(str(ROOT / "configs" / "gemm.yaml"), "--resume", str(out)), "the run explores")
    # Its own workload and space (the file it was started with) are accepted.
    r = explore(WORKLOAD, _space(tmp_path), resume=out, overrides=TINY, progress=False, save=False)
    assert r.stats.evaluated == 0


@pytest.mark.parametrize("damage", ["truncated", "not json", "no workload", "binary", "workload 5",
                                    "deep", "5000 digits", "ranks a list", "override a float",
                                    "digest not hex"])
def test_damaged_run_json_is_one_line(tmp_path: Path, damage: str) -> None:
    """Every key of run.json is type-checked where it is read, for --resume and report alike."""
    out, _ = _run(tmp_path)
    manifest = out / "run.json"
    text = manifest.read_text()
    data = json.loads(text)
    if damage == "truncated":
        manifest.write_text(text[: len(text) // 2])
    elif damage == "not json":
        manifest.write_text("[1, 2")
    elif damage == "no workload":
        manifest.write_text(json.dumps({k: v for k, v in data.items() if k != "workload"}))
    elif damage == "binary":
        manifest.write_bytes(b"\xff\xfe\x00garbage")
    elif damage == "workload 5":
        manifest.write_text(json.dumps({**data, "workload": 5}))
    elif damage == "deep":
        manifest.write_text("[" * 100_000)
    elif damage == "5000 digits":
        manifest.write_text(text.replace('"M": 32', '"M": ' + "9" * 5000, 1))
    elif damage == "ranks a list":
        manifest.write_text(json.dumps({**data, "ranks": [1, 2]}))
    elif damage == "override a float":
        manifest.write_text(json.dumps({**data, "overrides": {**data["overrides"], "M": 32.5}}))
    else:
        manifest.write_text(json.dumps({**data, "workload_sha256": 7}))
    _one_line_refusal(_cli("--resume", str(out)), str(manifest), "damaged")
    report = subprocess.run([sys.executable, "-m", "archmodel.cli", "report", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    _one_line_refusal(report, str(manifest), "damaged")


def test_damaged_parts_are_reported_and_their_rows_evaluated_again(tmp_path: Path) -> None:
    out, ref = _run(tmp_path)
    parts = sorted((out / PARTS).glob("*.parquet"))
    assert len(parts) >= 1
    # An older run's CSV part with its last line cut in half, and a truncated Parquet part.
    first = pd.read_parquet(parts[0])
    csv_text = first.to_csv(index=False, float_format="%.17g")
    cut = csv_text.rstrip("\n")
    (out / PARTS / "000100.csv").write_text(cut[: len(cut) - 40])
    parts[0].unlink()
    if len(parts) > 1:
        parts[1].write_bytes(parts[1].read_bytes()[:100])
    res = _cli("--resume", str(out), "--workers", "1", "--no-progress", "--json")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "000100.csv: 1 damaged row (line" in res.stderr
    resumed = read_points(out).sort_values("trial").reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed[ref.columns], ref.reset_index(drop=True), check_dtype=False)
    assert json.loads(res.stdout)["evaluated_this_session"] >= 1


@pytest.mark.parametrize(("column", "value"), [("latency_s", -1.0), ("energy_pj", float("inf")),
                                             ("cycles", float("nan")), ("point_id", -7), ("point_id", 10**15),
                                             ("trial", 10**15), ("mappings", -3)])
def test_a_well_formed_part_with_values_no_run_writes_is_damage(tmp_path: Path, column: str,
                                                                 value: float) -> None:
    """A readable Parquet part is not trusted for its values: a negative or non-finite metric of a
    valid design, or a point id outside the space, is a damaged row, reported naming the part and
    evaluated again, so the resumed run's table is the clean run's."""
    out, ref = _run(tmp_path)
    part = sorted((out / PARTS).glob("*.parquet"))[0]
    df = pd.read_parquet(part)
    row = int(np.flatnonzero(df["valid"].to_numpy())[0])
    if column in ("point_id", "trial", "mappings"):
        df[column] = df[column].astype(np.int64)
        df.loc[row, column] = int(value)
    else:
        df.loc[row, column] = value
    part.write_bytes(to_parquet(df))
    res = _cli("--resume", str(out), "--workers", "1", "--no-progress", "--json")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert f"{part.name}: 1 damaged row" in res.stderr, res.stderr
    assert json.loads(res.stdout)["evaluated_this_session"] == 1
    resumed = read_points(out).sort_values("trial").reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed[ref.columns], ref.reset_index(drop=True), check_dtype=False)


def test_points_come_as_parquet_and_csv_with_the_same_values(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = explore(WORKLOAD, _space(tmp_path), out=out, overrides=TINY, workers=1, progress=False)
    pq_points, csv_points = read_points(out / "points.parquet"), read_points(out / "points.csv")
    assert len(pq_points) == len(r.to_dataframe()) == 16
    for c in ("latency_s", "energy_pj", "area_mm2", "edp_pj_s"):  # exact floats both ways
        assert (pq_points[c].to_numpy() == csv_points[c].to_numpy()).all()
    assert pq_points["trial"].is_monotonic_increasing
    assert (pq_points["valid_mappings"] <= pq_points["mappings"]).all()


def test_a_run_from_before_the_valid_count_resumes_without_evaluating_again(tmp_path: Path) -> None:
    out, ref = _run(tmp_path)
    for part in (out / PARTS).glob("*.parquet"):  # parts as an older archmodel wrote them
        old = pd.read_parquet(part).drop(columns="valid_mappings")
        (out / PARTS / f"{part.stem}.csv").write_text(old.to_csv(index=False, float_format="%.17g"))
        part.unlink()
    r = explore(None, resume=out, workers=1, progress=False, save=False)
    assert r.stats.evaluated == 0
    table = r.to_dataframe()
    assert len(table) == len(ref) and table["valid_mappings"].isna().all()


def _resume_cli(out: Path) -> subprocess.CompletedProcess:
    return _cli("--resume", str(out), "--workers", "1", "--no-progress", "--json")


def _report_cli(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archmodel.cli", "report", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


OTHER_SPACE = SPACE.replace("rows: [8, 16]", "rows: [64]").replace("cols: [8, 16]", "cols: [64]")


def test_a_space_yaml_changed_since_the_run_started_is_refused_or_its_rows_evaluated_again(
        tmp_path: Path) -> None:
    """Point ids mean designs of the run's own space: with space.yaml overwritten, reusing the old
    rows by id would report the old designs' numbers under the new parameters (exit 0)."""
    out, _ = _run(tmp_path)
    manifest = json.loads((out / "run.json").read_text())
    assert len(manifest["space_sha256"]) == 64
    (out / "space.yaml").write_text(OTHER_SPACE)
    for res in (_resume_cli(out), _report_cli(out)):
        _one_line_refusal(res, str(out / "space.yaml"), "changed since the run started")
    # A run from before space_sha256: each reused row must be the design its id decodes to.
    (out / "run.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "space_sha256"}))
    res = _resume_cli(out)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "damaged row" in res.stderr and json.loads(res.stdout)["evaluated_this_session"] == 4
    fresh = explore(WORKLOAD, _space(tmp_path, OTHER_SPACE),
                    out=tmp_path / "fresh", overrides=TINY, workers=1, progress=False, save=False)
    ref = fresh.to_dataframe().reset_index(drop=True)
    resumed = read_points(out).sort_values("trial").reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed[ref.columns], ref, check_dtype=False)
    assert (pd.read_csv(out / "pareto.csv")["rows"] == 64).all()
    assert "rows: 64" in (out / "best.yaml").read_text()


@pytest.mark.parametrize("damage", ["rows nan", "rows 999", "rows as text", "dataflow xx", "template",
                                    "no column"])
def test_a_part_row_whose_parameters_are_not_its_point_ids_design_is_damage(tmp_path: Path,
                                                                             damage: str) -> None:
    """NaN, another value or another type in a swept parameter column would land in pareto.csv as
    an empty or wrong value: such rows are damaged rows, reported and evaluated again."""
    out, ref = _run(tmp_path)
    part = sorted((out / PARTS).glob("*.parquet"))[0]
    df = pd.read_parquet(part)
    changed = 1
    if damage == "rows nan":
        df["rows"] = df["rows"].astype(float)
        df.loc[0, "rows"] = float("nan")
    elif damage == "rows 999":
        df.loc[0, "rows"] = 999
    elif damage == "rows as text":
        df["rows"] = df["rows"].astype(str)
        changed = len(df)
    elif damage == "dataflow xx":
        df.loc[0, "dataflow"] = "xx"
    elif damage == "template":
        df.loc[0, "template"] = "pim"
    else:
        df = df.drop(columns="cols")
        changed = len(df)
    part.write_bytes(to_parquet(df))
    res = _resume_cli(out)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    if damage == "no column":
        assert f"{part.name}: damaged (no column cols)" in res.stderr, res.stderr
    else:
        assert f"{part.name}: {changed} damaged row" in res.stderr, res.stderr
    assert json.loads(res.stdout)["evaluated_this_session"] == changed
    resumed = read_points(out).sort_values("trial").reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed[ref.columns], ref.reset_index(drop=True), check_dtype=False)
    assert pd.read_csv(out / "pareto.csv")[["rows", "cols", "dataflow"]].notna().all().all()


def test_a_metric_stored_as_text_is_read_as_a_number_or_is_damage(tmp_path: Path) -> None:
    """A part whose latency column holds text (a hand-edited or foreign file): numbers written as text
    are read as those numbers, anything else is a damaged row; --resume and report never crash."""
    out, ref = _run(tmp_path)
    part = sorted((out / PARTS).glob("*.parquet"))[0]
    df = pd.read_parquet(part)
    df["latency_s"] = df["latency_s"].map(lambda v: None if np.isnan(v) else repr(float(v)))
    df.loc[int(np.flatnonzero(df["valid"].to_numpy())[0]), "latency_s"] = "fast"
    part.write_bytes(to_parquet(df))
    report = _report_cli(out)
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    res = _resume_cli(out)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert f"{part.name}: 1 damaged row" in res.stderr, res.stderr
    assert json.loads(res.stdout)["evaluated_this_session"] == 1
    resumed = read_points(out).sort_values("trial").reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed[ref.columns], ref.reset_index(drop=True), check_dtype=False)


def test_a_clean_default_run_has_no_damaged_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Every template's rows, as the runner writes them, pass the part checks (a spatial flag column
    shared with other templates' NaN is stored as 1.0 / 0.0 and is not damage)."""
    first = explore(WORKLOAD, overrides=TINY, out=tmp_path / "run", progress=False)
    with caplog.at_level("WARNING", logger="archmodel"):
        again = explore(None, resume=tmp_path / "run", progress=False)
    assert not [r for r in caplog.records if "damaged" in r.getMessage()]
    assert len(again.table) == len(first.table) and set(again.table["template"]) == set(TEMPLATES)
