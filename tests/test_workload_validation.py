"""Every way a workload file can be wrong yields one SpecError naming the file, the line and the text.

Einsum errors quote the Einsum with a caret (U+2038) at the culprit; YAML-level errors name the key.
The same files through ``archmodel analyze`` exit 2 with one line on stderr and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from archmodel.cli import main
from archmodel.errors import SpecError
from archmodel.workload import load_workload, parse_workload
from archmodel.yamlio import UniqueKeySafeLoader, parse_yaml

CARET = "\u2038"

HEAD = """\
workload: bad
ranks:
  M: 4
  N: 4
  K: 3
  M1: 2
  M0: 2
tensors:
  A: [M, N]
  X: {ranks: [M], init: 0}
  I: {ranks: [M, N], pad: {N: 1}}
einsums:
  - OK[m] = sum(n) A[m,n]
"""
# The Einsum under test is the last line of the file.
EINSUM_LINE = HEAD.count("\n") + 1

EINSUM_CASES = {
    "undeclared tensor": ("Y[m] = Z[m,n]", "tensor 'Z' is not declared", "Y[m] = " + CARET + "Z[m,n]"),
    "inconsistent extents": ("Y[m] = A[m,k]", "ranges over K = 3 but dimension 1 of 'A' is N = 4",
                             "Y[m] = " + CARET + "A[m,k]"),
    "inconsistent extents on an unpadded dim of a padded tensor": (
        "Y[k,n] = I[k,n-1]", "ranges over K = 3 but dimension 0 of 'I' is M = 4", None),
    "index out of range": ("Y[m] = A[m+1,n]", "index 'm+1' of 'A' spans 1..4, outside M (0..3)", None),
    "negative index beyond the padding": ("Y[m,n] = I[m,n-2]", "spans -2..1, outside N (-1..4)", None),
    "partitioned index past the rank": ("Y[m1,m0] = A[m1*M0+m0+1,n]", "outside M (0..3)", None),
    "recurrence without init": ("Y[m+1] = A[m,n]", "defined by a recurrence but has no starting value",
                                CARET + "Y[m+1] = A[m,n]"),
    "self-read without init": ("Y[m] = Y[m] + 1", "no starting value", None),
    "cyclic self-dependency": ("X[m] = X[m] + A[m,n]", "cyclic dependency: X -> X", None),
    "unknown function": ("Y[m] = foo(A[m,n])", "unknown function 'foo'", "Y[m] = " + CARET + "foo("),
    "reduction over an absent rank": ("Y[m] = max(k) A[m,n]", "reduction over rank 'k', which does not "
                                      "appear", "max(" + CARET + "k)"),
    "undeclared rank": ("Y[m] = A[m,n] * B9[z]", "rank 'Z', which is not declared", None),
    "wrong number of indices": ("Y[m] = A[m]", "'A' has 2 ranks (M, N) but is indexed with 1", None),
    "redefined tensor": ("OK[m] = A[m,n]", "'OK' is already defined by einsums[0]", None),
    "syntax": ("Y[m] = A[m,n] +", "expected a number", "+" + CARET),
    "repeated output index (a diagonal)": ("Y[m,m] = A[m,n] * A[m,n]", "output index 'm' is repeated",
                                           "Y[m," + CARET + "m]"),
}


@pytest.mark.parametrize("case", list(EINSUM_CASES))
def test_einsum_errors_name_file_line_and_quote_the_einsum(case: str, tmp_path: Path) -> None:
    einsum, message, quoted = EINSUM_CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + f"  - {einsum}\n")
    with pytest.raises(SpecError) as info:
        load_workload(path)
    text = str(info.value)
    assert text.startswith(f"{path}:{EINSUM_LINE}: einsums[1]: "), text
    assert message in text
    assert info.value.text == einsum
    assert f"in '{einsum[:info.value.col] if info.value.col is not None else einsum}" in text
    if quoted is not None:
        assert quoted in text
    assert "\n" not in text


def test_cycle_names_every_einsum_on_it() -> None:
    text = "workload: w\nranks: {M: 4}\neinsums:\n  - P[m] = Q[m] + 1\n  - Q[m] = R[m]\n  - R[m] = P[m]\n"
    with pytest.raises(SpecError) as info:
        parse_workload(text, path="cyc.yaml")
    msg = str(info.value)
    assert msg.startswith("cyc.yaml:4: einsums[0]: cyclic dependency: ")
    assert all(name in msg for name in ("P ->", "Q ->", "R ->"))
    assert "in 'P[m] = Q[m] + 1'" in msg


BASE = "workload: w\nranks: {M: 4}\ntensors:\n  A: [M]\neinsums:\n  - Y[m] = A[m]\n"

YAML_CASES = {
    "not YAML": ("workload: [\n", 2, "not valid YAML"),
    "impossible date": ("workload: 2001-13-45\n", None, "not valid YAML: month must be in 1..12"),
    "self-referencing anchor": ("a: &x [*x]\n", 1, "not valid YAML"),
    "not a mapping": ("- 1\n- 2\n", 1, "wrong type (expected a mapping, found a list)"),
    "unknown top-level key": (BASE + "flavour: 1\n", 7, "unknown key 'flavour'"),
    "missing einsums": ("workload: w\nranks: {M: 4}\n", 1, "missing key 'einsums'"),
    "extent is a string": (BASE.replace("{M: 4}", "{M: four}"), 2,
                           "ranks.M: wrong type (expected an integer, found a string 'four')"),
    "extent is zero": (BASE.replace("{M: 4}", "{M: 0}"), 2, "expected an integer >= 1"),
    "lower-case rank": (BASE.replace("{M: 4}", "{M: 4, Mx: 2}"), 2, "wrong rank name"),
    "rank with neither extent nor parts": (BASE.replace("{M: 4}", "{M: 4, N: {}}"), 2,
                                           "rank 'N' has neither an extent nor parts"),
    "unknown rank key": (BASE.replace("{M: 4}", "{M: {size: 4}}"), 2, "unknown key 'size'"),
    "tensor rank not declared": (BASE.replace("A: [M]", "A: [M, Q]"), 4, "rank 'Q' is not declared"),
    "tensor rank is a list": (BASE.replace("A: [M]", "A: [[M]]"), 4, "expected a rank name, found a list"),
    "tensor name not an identifier": (BASE.replace("A: [M]", "A: [M]\n  3: [M]"), 5, "wrong tensor name"),
    "unknown tensor key": (BASE.replace("A: [M]", "A: {ranks: [M], width: 8}"), 4, "unknown key 'width'"),
    "bits not an integer": (BASE.replace("A: [M]", "A: {ranks: [M], bits: 8.5}"), 4,
                            "tensors.A.bits: wrong type"),
    "init not a number": (BASE.replace("A: [M]", "A: {ranks: [M], init: lots}"), 4,
                          "tensors.A.init: wrong type"),
    "pad on a rank the tensor lacks": (BASE.replace("{M: 4}", "{M: 4, N: 2}").replace(
        "A: [M]", "A: {ranks: [M], pad: {N: 1}}"), 4, "pad names rank 'N'"),
    "einsum not a string": (BASE.replace("- Y[m] = A[m]", "- {Y: 1}"), 6, "expected an Einsum string"),
    "no einsums": (BASE.replace("\n  - Y[m] = A[m]", " []"), 5, "no Einsums"),
    "description not a string": (BASE + "description: [1]\n", 7, "description: wrong type"),
    # A declared tensor no Einsum touches would still be billed as compulsory traffic.
    "declared but unused tensor": (BASE.replace("A: [M]", "A: [M]\n  UNUSED: [M, M]"), 5,
                                   "tensors.UNUSED: tensor 'UNUSED' is declared but no Einsum reads or "
                                   "writes it"),
    # Repeated keys used to be last-wins: the first einsums block was silently dropped.
    "duplicate einsums block": (BASE + "einsums:\n  - Z[m] = A[m]\n", 7,
                                "duplicate key 'einsums' (first at line 5)"),
    "duplicate rank": (BASE.replace("{M: 4}", "{M: 4, M: 8}"), 2, "duplicate key 'M' (first at line 2)"),
    "duplicate tensor": (BASE.replace("A: [M]", "A: [M]\n  A: {ranks: [M], bits: 8}"), 5,
                         "duplicate key 'A' (first at line 4)"),
    "parts cover too little": ("workload: w\nranks:\n  M: {extent: 10, parts: [M1, M0]}\n  M1: 2\n  M0: 4\n"
                               "einsums: ['Y[m1,m0] = 1']\n", 3, "cover 8 of its 10 elements"),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_yaml_errors_name_file_line_and_key(case: str) -> None:
    text, line, message = YAML_CASES[case]
    with pytest.raises(SpecError) as info:
        parse_workload(text, path="w.yaml")
    msg = str(info.value)
    prefix = f"w.yaml:{line}: " if line is not None else "w.yaml: "
    assert msg.startswith(prefix), msg
    assert message in msg
    assert "\n" not in msg


@pytest.mark.parametrize(("overrides", "message"), [
    ({"Q": 3}, "no rank 'Q' in this workload"),
    ({"M": 0}, "extents are positive"),
    ({"M": "8"}, "extents are integers"),
    ({"M": True}, "extents are integers"),
])
def test_bad_overrides(overrides: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_workload(BASE, overrides)


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_workload(tmp_path / "nope.yaml")


# -- expressions deeper than the stack ------------------------------------------------------------
DEEP_HEAD = "workload: w\nranks: {M: 4}\ntensors:\n  B: [M]\neinsums:\n  - OK[m] = B[m]\n"


@pytest.mark.parametrize("expr", ["(" * 3000 + "B[m]" + ")" * 3000, "-" * 3000 + "B[m]",
                                  "exp(" * 3000 + "B[m]" + ")" * 3000],
                         ids=["3000 parentheses", "3000 minuses", "3000 calls"])
def test_deeply_nested_expression_is_one_line(expr: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP_HEAD + f"  - A[m] = {expr}\n")
    with pytest.raises(SpecError) as info:
        load_workload(path)
    assert str(info.value).startswith(f"{path}:7: einsums[1]: expression nested too deeply (at most 128 ")
    assert len(str(info.value)) < 400
    proc = run_cli(capsys, str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_long_sum_is_analysed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A 3000-term sum is a left-deep chain 3000 deep: it loads and analyses (no recursion)."""
    path = tmp_path / "long.yaml"
    path.write_text(DEEP_HEAD + "  - A[m] = " + " + ".join(["B[m]"] * 3000) + "\n")
    cascade = load_workload(path)
    proc = run_cli(capsys, str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    ops = {e["name"]: e["ops"] for e in json.loads(proc.stdout)["einsums"]}
    assert ops["A"]["add"] == 2999 * cascade.ranks["M"]


# -- the same errors through the CLI ---------------------------------------------------------------
CLI_CASES = {
    "undeclared tensor": HEAD + "  - Y[m] = Z[m,n]\n",
    "recurrence without init": HEAD + "  - Y[m+1] = A[m,n]\n",
    "unknown function": HEAD + "  - Y[m] = foo(A[m,n])\n",
    "not YAML": "workload: [\n",
    "impossible date": "workload: 2001-13-45\n",
    "unknown key": BASE + "flavour: 1\n",
    "duplicate key": BASE + "workload: again\n",
}


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """In-process (fast); an exception escaping ``main`` would be the traceback a user sees."""
    rc = main(["analyze", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, rc, out, err)


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_reports_one_line_and_exits_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CLI_CASES[case])
    out = tmp_path / "report.json"
    proc = run_cli(capsys, str(path), "--json", "--output", str(out))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"archmodel analyze: error: {path}")
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind either


def test_cli_error_leaves_an_existing_output_untouched(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CLI_CASES["undeclared tensor"])
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    proc = run_cli(capsys, str(path), "--output", str(out))
    assert proc.returncode == 2
    assert out.read_text() == "previous report\n"


@pytest.mark.parametrize("args", [["--set", "M=abc"], ["--set", "Q=3"]])
def test_cli_bad_set_exits_2(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(BASE)
    proc = run_cli(capsys, str(path), *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_cli_error_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    """End to end through the interpreter, with stdout redirected to a file as a shell would."""
    path = tmp_path / "bad.yaml"
    path.write_text(CLI_CASES["recurrence without init"])
    proc = subprocess.run([sys.executable, "-m", "archmodel.cli", "analyze", str(path), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"{path}:{EINSUM_LINE}: einsums[1]: 'Y' is defined by a recurrence" in proc.stderr


def test_undeclared_extent_in_map_expression_is_reported() -> None:
    text = "workload: w\nranks: {N: 4, D: 8}\ntensors: {X: [N, D]}\neinsums:\n  - S[n] = X[n,d] / Q\n"
    with pytest.raises(SpecError) as err:
        parse_workload(text, path="w.yaml")
    msg = str(err.value)
    assert "w.yaml:5" in msg and "'Q' is not a declared rank" in msg and "\u2038Q" in msg


def test_extent_in_map_expression_follows_set() -> None:
    text = "workload: w\nranks: {N: 4, D: 8}\ntensors: {X: [N, D]}\neinsums:\n  - S[n] = sum(d) X[n,d] / D\n"
    c = parse_workload(text, overrides={"D": 16})
    assert c.ranks["D"] == 16


def test_duplicate_key_loader_is_still_the_safe_loader() -> None:
    """Same data as ``yaml.safe_load`` on every shipped config; Python tags stay refused."""
    # the safe constructor (libyaml's parser or PyYAML's, whichever is built in)
    assert issubclass(UniqueKeySafeLoader, yaml.constructor.SafeConstructor)
    assert not issubclass(UniqueKeySafeLoader, yaml.constructor.FullConstructor)
    for path in sorted(Path(__file__).parents[1].glob("configs/**/*.yaml")):
        text = path.read_text()
        assert yaml.load(text, Loader=UniqueKeySafeLoader) == yaml.safe_load(text), path
    merged = "base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  p: 5\n"  # a merge may be overridden
    assert parse_yaml(merged).data == {"base": {"p": 1, "q": 2}, "d": {"p": 5, "q": 2}}
    with pytest.raises(SpecError, match="not valid YAML"):
        parse_yaml("x: !!python/object/apply:os.getcwd []\n")
