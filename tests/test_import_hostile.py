"""Hostile sources for ``archmodel import`` (issue 13): one class of bad input per case family.

The corpus is generated here (a few are megabytes or special files that would not belong in the
repository). Every case runs in one child process under a 1 GB address-space limit and an alarm, as
``tests/test_hostile.py`` isolates its bombs: each must exit 2 with one line naming the file it
blames, no traceback, and write nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The same isolated child as the main corpus (1 GB address space, an alarm per case); tests/ is no
# package, so its module is loaded by path.
_spec = importlib.util.spec_from_file_location("_hostile_corpus", Path(__file__).with_name("test_hostile.py"))
_hostile = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_hostile)  # type: ignore[union-attr]
CHILD, TIME_LIMIT_S, _limit = _hostile.CHILD, _hostile.TIME_LIMIT_S, _hostile._limit

ACCELFORGE = """\
workload:
  iteration_space_shape: {m: 0 <= m < M_, n: 0 <= n < 4, k: 0 <= k < 4}
  bits_per_value: {All: 8, A: BITS_}
  einsums:
    - name: mm
      tensor_accesses:
        - {name: A, projection: [m, k]}
        - {name: B, projection: [k, n]}
        - {name: C, projection: [m, n], output: True}
"""
TIMELOOP = """\
problem:
  shape:
    name: conv
    dimensions: [R, P, C]
    coefficients: [{name: Wstride, default: COEF_}]
    data_spaces:
      - {name: Weights, projection: [[[C]], [[R]]]}
      - {name: Inputs, projection: [[[C]], [[R, Wstride], [P]]]}
      - {name: Outputs, projection: [[[P]]], read_write: True}
  instance: {R: 3, P: 8, C: 4}
"""
GEMM_HEAD = "Layer, M, N, K,\n"
CONV_HEAD = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
             "Num Filter, Strides,\n")
CFG = "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n"
ARCH = """\
architecture:
  version: 0.4
  nodes:
  - !Component {name: DRAM, class: DRAM, attributes: {type: "HBM2", width: WIDTH_}}
  - !Component {name: GLB, class: smartbuffer_SRAM, attributes: {depth: 8192, width: 128}}
  - !Container {name: PE, spatial: {meshX: MESH_, meshY: 8}}
  - !Component {name: mac, class: intmac, attributes: {datawidth: BITS_}}
"""


def _cases(d: Path) -> list[tuple[str, list[str], str]]:
    """(case id, import arguments, the file its error line must name)."""
    out: list[tuple[str, list[str], str]] = []

    def write(name: str, text: str) -> str:
        (d / name).write_text(text)
        return str(d / name)

    # bounds and sizes with more digits than int() takes, or past 2^53 (A1, A4)
    for n, digits in (("17", 17), ("401", 401), ("5000", 5000)):
        f = write(f"bound{n}.yaml", ACCELFORGE.replace("M_", "9" * digits).replace("BITS_", "8"))
        out.append((f"accelforge-bound-{n}", [f], f))
        f = write(f"gemm{n}.csv", GEMM_HEAD + f"l1, 4, 4, {'9' * digits},\n")
        out.append((f"scalesim-gemm-{n}", [f], f))
        f = write(f"conv{n}.csv", CONV_HEAD + f"l1, {'9' * digits}, 8, 3, 3, 4, 4, 1,\n")
        out.append((f"scalesim-conv-{n}", [f], f))
    # widths and coefficients that are no number in their domain (A2, A3)
    for tag, value in (("nan", ".nan"), ("inf", ".inf"), ("abc", "abc"), ("list", "[1]"), ("frac", "1.9"),
                       ("zero", "0"), ("huge", "9" * 30)):
        f = write(f"bits-{tag}.yaml", ACCELFORGE.replace("M_", "4").replace("BITS_", value))
        out.append((f"accelforge-bits-{tag}", [f], f))
        f = write(f"coef-{tag}.yaml", TIMELOOP.replace("COEF_", value))
        out.append((f"timeloop-coef-{tag}", [f], f))
    # keys naming nothing: a width for no tensor, an instance key for no dimension, sparse densities
    for tag, bpv in (("group", "{All: 8, Inputs: 4}"), ("case", "{All: 8, a: 1}")):
        f = write(f"bpv-{tag}.yaml", ACCELFORGE.replace("M_", "4").replace("{All: 8, A: BITS_}", bpv))
        out.append((f"accelforge-bits-key-{tag}", [f], f))
    for tag, inst in (("dim", "{R: 3, P: 8, C: 4, Q: 9}"),
                      ("densities", "{R: 3, P: 8, C: 4, densities: {}}")):
        f = write(f"inst-{tag}.yaml", TIMELOOP.replace("COEF_", "1").replace("{R: 3, P: 8, C: 4}", inst))
        out.append((f"timeloop-instance-{tag}", [f], f))
    # CSV cells: not numbers, a 200,000-character name (A4, A5)
    for tag, cell in (("neg", "-4"), ("float", "4.5"), ("word", "four"), ("exp", "1e9")):
        f = write(f"cell-{tag}.csv", GEMM_HEAD + f"l1, 4, {cell}, 4,\n")
        out.append((f"scalesim-cell-{tag}", [f], f))
    f = write("longname.csv", GEMM_HEAD + "x" * 200_000 + ", 4, 4, 4,\n")
    out.append(("scalesim-long-name", [f], f))
    f = write("nul.csv", GEMM_HEAD + "l1, 4, 4\x00, 4,\n")
    out.append(("scalesim-nul", [f], f))
    # sources that are no regular file or too big to read (A6)
    fifo = d / "fifo.csv"
    os.mkfifo(fifo)
    for fmt in ("scalesim", "timeloop", "onnx"):
        out.append((f"dev-zero-{fmt}", ["/dev/zero", "--format", fmt], "/dev/zero"))
    out.append(("fifo", [str(fifo)], str(fifo)))
    out.append(("directory-yaml", [str(d / "dir.yaml")], str(d / "dir.yaml")))
    (d / "dir.yaml").mkdir()
    big = d / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(64 * 2**20)  # sparse: 64 MiB of NULs
    out.append(("huge-csv", [str(big)], str(big)))
    # a Timeloop architecture whose numbers are none, or whose design would not load
    for tag, mesh, width, bits in (("mesh-word", "abc", "256", "8"), ("mesh-huge", "9" * 30, "256", "8"),
                                   ("mesh-5000", "9" * 5000, "256", "8"), ("width-inf", "16", ".inf", "8"),
                                   ("bits-nan", "16", "256", ".nan"), ("bits-list", "16", "256", "[8]")):
        text = ARCH.replace("MESH_", mesh).replace("WIDTH_", width).replace("BITS_", bits)
        f = write(f"arch-{tag}.yaml", text)
        out.append((f"arch-{tag}", [f], f))
    bomb = "architecture:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  {c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefghijkl", "bcdefghijklm"))
    f = write("arch-bomb.yaml", bomb)
    out.append(("arch-alias-bomb", [f], f))
    # a .cfg whose design would not load (A7)
    gemm = write("ok.csv", GEMM_HEAD + "l1, 4, 4, 4,\n")
    for tag, line in (("height", "ArrayHeight: 1099511627776"), ("bandwidth", "Bandwidth: 2^60"),
                      ("bandwidth-big", "Bandwidth: 99999999999999"),
                      ("sram", "IfmapSramSzkB: 2199023255552"),
                      ("width-word", "ArrayWidth: wide")):
        key = line.split(":")[0]
        text = CFG.replace(f"{key}: 8\n", "") + line + "\n"
        f = write(f"{tag}.cfg", text)
        out.append((f"cfg-{tag}", [gemm, "--config", f, "--design-output", str(d / f"{tag}-d.yaml")], f))
    cfg = write("zero.cfg", CFG)
    out.append(("cfg-dev-zero-topology", ["/dev/zero", "--format", "scalesim", "--config", cfg,
                                          "--design-output", str(d / "zero-d.yaml")], "/dev/zero"))
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], str, int, str, Path]]:
    d = tmp_path_factory.mktemp("imports")
    cases = _cases(d)
    argv = [["import", *args, "-o", str(d / f"{cid}-w.yaml")] for cid, args, _ in cases]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD], input="".join(json.dumps(a) + "\n" for a in argv),
                          capture_output=True, text=True, preexec_fn=_limit, env=env,
                          timeout=TIME_LIMIT_S * len(cases) + 60)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == len(cases), f"the child stopped early: {proc.stderr[-2000:]}"
    return {cid: (args, names, rc, err, d)
            for (cid, args, names), (rc, _, err) in zip(cases, rows, strict=True)}


def _ids() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return [cid for cid, _, _ in _cases(Path(tmp))]


@pytest.mark.parametrize("cid", _ids())
def test_hostile_import(cid: str, results: dict) -> None:
    args, names, rc, err, d = results[cid]
    assert rc == 2, f"{args}: exit {rc}, stderr {err[-2000:]!r}"
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1, err[-2000:]
    assert names in err, f"the error line does not name {names}: {err!r}"
    assert len(err) < 1200, f"error line of {len(err)} characters"
    assert not (d / f"{cid}-w.yaml").exists(), "a refused import wrote its workload"
    assert not list(d.glob(f"{cid.removeprefix('cfg-')}-d.yaml")), "a refused import wrote its design"


def test_generated_text_lines_are_not_cited(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An error found in the workload an importer generated names the source file, but no line of
    the generated text (a line the source may not even have): "in the workload made from it"."""
    from archmodel.cli import main

    src = tmp_path / "t.yaml"  # each size is in range; the sliding window 1024*r + p is not
    src.write_text(TIMELOOP.replace("COEF_", "1024").replace("R: 3", f"R: {2**52}"))
    rc = main(["import", str(src), "-o", str(tmp_path / "w.yaml")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert f"{src}: in the workload made from it" in err, err
    assert not (tmp_path / "w.yaml").exists()
