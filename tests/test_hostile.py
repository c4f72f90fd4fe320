"""The hostile-input corpus (``tests/data/hostile``, written by its ``generate.py``).

Every file states its expectation on its first line. ``refuse``: the CLI exits 2 with one line on
stderr naming the file, no traceback. ``refuse-eval``: analysis accepts it, evaluation refuses it in
one line. ``valid``: ``eval --json`` exits 0 and every number is finite. Most cases run in-process
through :func:`archmodel.cli.main` (fast); those marked ``# isolate`` (resource bombs, huge extents)
run in one child process under a 1 GB address-space limit, each under a time limit, so a regression
fails the test instead of taking the machine down. (The spaces are refused before any run
directory is written: were one accepted, ``RunDir.create`` fails the test rather than exploring.)
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import warnings
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


#: The child that runs every ``# isolate`` case in turn, each under an alarm, in one process (one
#: interpreter start-up instead of one per case); it prints one JSON result per case.
CHILD = """
import contextlib, io, json, signal, sys
from archmodel.cli import main

def alarm(*_):
    raise TimeoutError

signal.signal(signal.SIGALRM, alarm)
for line in sys.stdin:
    args = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    signal.alarm(LIMIT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(args)
    except BaseException as exc:  # MemoryError, TimeoutError, a traceback: all failures
        rc, err = -1, io.StringIO(f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        signal.alarm(0)
    print(json.dumps([rc, out.getvalue()[-200000:], err.getvalue()]), flush=True)
""".replace("LIMIT", str(TIME_LIMIT_S))


def _limit() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[int, str, str]]:
    """Results of every ``# isolate`` case, run in one child under a 1 GB address-space limit."""
    cases = [p for p in CORPUS if expectation(p)[1]]
    out_dir = tmp_path_factory.mktemp("isolated")
    argv = [command(p, expectation(p)[0], out_dir)[0] for p in cases]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD], input="".join(json.dumps(a) + "\n" for a in argv),
                          capture_output=True, text=True, preexec_fn=_limit, env=env,
                          timeout=TIME_LIMIT_S * len(cases) + 60)
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(cases), f"the child stopped early: {proc.stderr[-2000:]}"
    return {p: tuple(r) for p, r in zip(cases, results, strict=True)}


def run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """In-process; a numpy floating-point warning would have reached the terminal, so it fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = main(args)
    out, err = capsys.readouterr()
    numeric = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not numeric, f"{args}: warnings reached the terminal: {numeric[:3]}"
    return rc, out, err


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
                      monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    # Every space of the corpus is refused before a run directory exists; were one accepted, the
    # test fails here instead of running an exploration.
    monkeypatch.setattr(RunDir, "create", _no_run)
    expect, isolate = expectation(path)
    args, names = command(path, expect, tmp_path)
    if expect == "refuse-eval":  # analysis of these is cheap: in-process
        rc, _, err = run(["analyze", str(path)], capsys)
        assert rc == 0, err
    if isolate:
        rc, out, err = request.getfixturevalue("isolated")[path]
        assert rc != -1, f"{args}: {err}"
    else:
        rc, out, err = run(args, capsys)
    if expect in ("refuse", "refuse-eval"):
        check_refusal(rc, err, names, args)
        return
    assert expect == "valid", expect
    assert rc == 0 and "Traceback" not in err and "Warning" not in err, err[-2000:]
    bad = finite_numbers(json.loads(out))
    assert not bad, f"non-finite numbers at {bad[:5]}"
