"""The hostile-input corpus (``tests/data/hostile``, written by its ``generate.py``).

Every file states its expectation on its first line. ``refuse``: the CLI exits 2 with one line on
stderr naming the file, no traceback. ``refuse-eval``: analysis accepts it, evaluation refuses it in
one line. ``valid``: ``eval --json`` exits 0 and every number is finite. Most cases run in-process
through :func:`archmodel.cli.main` (fast); those marked ``# isolate`` (resource bombs, huge extents)
run in a subprocess under a 1 GB address-space limit and a time limit, so a regression fails the
test instead of taking the machine down.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.exploration.results import RunDir

HOSTILE = Path(__file__).parent / "data" / "hostile"
ROOT = Path(__file__).resolve().parents[1]
BASE_WORKLOAD = HOSTILE / "base-gemm.yaml"
BASE_DESIGN = ROOT / "configs" / "archs" / "tpu-like.yaml"
CORPUS = sorted(HOSTILE.glob("*/*.yaml"))
#: Memory and time a resource-bomb case may use before the test calls it a failure.
MEMORY_LIMIT = 2**30
TIME_LIMIT_S = 60


def expectation(path: Path) -> tuple[str, bool]:
    head = path.read_bytes()[:200].split(b"\n")
    assert head[0].startswith(b"# expect: "), path
    return head[0][len(b"# expect: "):].decode(), head[1:2] == [b"# isolate"]


def command(path: Path, expect: str, out_dir: Path) -> tuple[list[str], str]:
    """The CLI arguments that exercise ``path``, and the file its error line must name."""
    kind = path.parent.name
    if kind == "workloads":
        if expect == "refuse":
            return ["analyze", str(path)], str(path)
        return ["eval", str(path), str(BASE_DESIGN), "--json"], str(BASE_DESIGN)
    if kind == "designs":
        return ["eval", str(BASE_WORKLOAD), str(path), "--json"], str(path)
    return ["explore", str(BASE_WORKLOAD), "--space", str(path), "--out", str(out_dir / "run")], str(path)


def finite_numbers(report: object) -> list[str]:
    """Paths of the numbers in an ``eval --json`` report that are not finite (spelled as strings)."""
    bad: list[str] = []
    stack: list[tuple[str, object]] = [("", report)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{where}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        elif (isinstance(value, float) and not math.isfinite(value)) or value in ("inf", "-inf", "nan"):
            bad.append(where)
    return bad


def _limit() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(args: list[str], isolate: bool, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    if not isolate:
        rc = main(args)
        out, err = capsys.readouterr()
        return rc, out, err
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    code = "import sys; from archmodel.cli import main; sys.exit(main(sys.argv[1:]))"
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=TIME_LIMIT_S, preexec_fn=_limit, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args}: still running after {TIME_LIMIT_S} s")
    return proc.returncode, proc.stdout, proc.stderr


def check_refusal(rc: int, err: str, names: str, args: list[str]) -> None:
    assert rc == 2, f"{args}: exit {rc}, stderr {err[-2000:]!r}"
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1, err[-2000:]
    assert names in err, f"the error line does not name {names}: {err!r}"
    assert len(err) < 1200, f"error line of {len(err)} characters"


def test_corpus_is_big_enough() -> None:
    kinds = {p.parent.name for p in CORPUS}
    assert len(CORPUS) >= 200 and kinds == {"workloads", "designs", "spaces"}


def _no_run(*args: object, **kw: object) -> None:
    raise AssertionError("the space was accepted: an exploration would start")


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.stem}" for p in CORPUS])
def test_hostile_file(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Every space of the corpus is refused before a run directory exists; were one accepted, the
    # test fails here instead of running an exploration.
    monkeypatch.setattr(RunDir, "create", _no_run)
    expect, isolate = expectation(path)
    args, names = command(path, expect, tmp_path)
    if expect == "refuse-eval":  # analysis of these is cheap: in-process
        rc, _, err = run(["analyze", str(path)], False, capsys)
        assert rc == 0, err
    rc, out, err = run(args, isolate, capsys)
    if expect in ("refuse", "refuse-eval"):
        check_refusal(rc, err, names, args)
        return
    assert expect == "valid", expect
    assert rc == 0 and "Traceback" not in err and "Warning" not in err, err[-2000:]
    bad = finite_numbers(json.loads(out))
    assert not bad, f"non-finite numbers at {bad[:5]}"
