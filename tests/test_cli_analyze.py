"""``archmodel analyze``: the table, the JSON schema of docs/formats.md, --set, --symbolic, --output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archmodel.analysis import analyze
from archmodel.cli import main
from archmodel.workload import load_workload

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ATTENTION = str(CONFIGS / "attention.yaml")


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    rc = main(["analyze", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_table_names_einsums_traffic_and_passes(capsys: pytest.CaptureFixture) -> None:
    rc, out, err = run(capsys, ATTENTION)
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "workload attention-3pass"
    assert lines[1].startswith("ranks    B=64  H=12  M=1,024")
    for name in ("QK", "GM", "SN", "SD", "A", "AV"):
        assert any(line.split()[:1] == [name] for line in lines)
    assert any(line.startswith("compulsory traffic   402,653,184 B") for line in lines)
    m_row = next(line for line in lines if line.split()[:2] == ["M", "3"])
    assert "2,048 B per fiber (QK)" in m_row
    assert lines[3].split()[-1] == "ops/B"
    a_row = next(line for line in lines if line.split()[:1] == ["A"])
    assert a_row.split()[-1] == "0.2499"  # one divide per 4 bytes (SN in, A out) plus SD's share


def test_json_schema(capsys: pytest.CaptureFixture) -> None:
    rc, out, _ = run(capsys, ATTENTION, "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["workload"] == "attention-3pass" and d["symbolic"] is False
    assert d["ranks"] == {"B": 64, "H": 12, "M": 1024, "P": 1024, "E": 64, "F": 64}
    assert [e["name"] for e in d["einsums"]] == ["QK", "GM", "SN", "SD", "A", "AV"]
    qk = d["einsums"][0]
    assert qk["iterations"] == qk["macs"] == 64 * 12 * 1024 * 1024 * 64
    assert qk["text"] == "QK[b,h,m,p] = Q[b,h,e,p] * K[b,h,e,m]"
    assert set(qk["footprint_bytes"]) == {"QK", "Q", "K"}
    assert qk["total_ops"] == 64 * 12 * 1024 * 1024 * (2 * 64 - 1)  # E multiplies, E - 1 adds
    # footprint: Q (B*H*E*P), K (B*H*E*M) and QK (B*H*M*P), two bytes each
    assert qk["intensity"] == pytest.approx(qk["total_ops"] / (2 * 64 * 12 * (2 * 64 * 1024 + 1024 * 1024)))
    assert d["passes"]["M"] == 3
    assert d["traffic"]["compulsory_bytes"] == 4 * 64 * 12 * 1024 * 64 * 2
    assert d["traffic"]["intensity_compulsory"] == pytest.approx(
        d["totals"]["total_ops"] / d["traffic"]["compulsory_bytes"])
    assert d["tensors"]["QK"] == {"ranks": ["B", "H", "M", "P"], "bits": 16, "role": "intermediate",
                                  "bytes": 64 * 12 * 1024 * 1024 * 2}
    assert d["pass_capacity"]["M"]["tensors"] == ["QK"]


def test_json_matches_the_python_api(capsys: pytest.CaptureFixture) -> None:
    _, out, _ = run(capsys, str(CONFIGS / "attention-1pass.yaml"), "--json", "--set", "M=2048")
    api = analyze(load_workload(CONFIGS / "attention-1pass.yaml", {"M": 2048})).to_dict()
    assert json.loads(out) == json.loads(json.dumps(api))


def test_set_overrides_extents(capsys: pytest.CaptureFixture) -> None:
    _, out, _ = run(capsys, ATTENTION, "--json", "--set", "M=4096", "--set", "B=1")
    d = json.loads(out)
    assert (d["ranks"]["M"], d["ranks"]["B"]) == (4096, 1)
    assert d["einsums"][0]["iterations"] == 1 * 12 * 4096 * 1024 * 64


def test_symbolic_json_gives_formulas(capsys: pytest.CaptureFixture) -> None:
    _, out, _ = run(capsys, str(CONFIGS / "gemm.yaml"), "--json", "--symbolic")
    d = json.loads(out)
    assert d["symbolic"] is True
    assert d["ranks"] == {"M": "M", "N": "N", "K": "K"}
    assert d["einsums"][0]["macs"] == "K*M*N"
    assert d["traffic"]["compulsory_bytes"] == "K*M + K*N + 4*M*N"
    assert d["passes"] == {"M": 1, "N": 1, "K": 1}


def test_symbolic_table(capsys: pytest.CaptureFixture) -> None:
    rc, out, _ = run(capsys, ATTENTION, "--symbolic")
    assert rc == 0
    assert out.splitlines()[0] == "workload attention-3pass  (symbolic)"
    assert "2*M B per fiber (QK)" in out


def test_rank_that_needs_no_holding_says_so(capsys: pytest.CaptureFixture) -> None:
    _, out, _ = run(capsys, str(CONFIGS / "moe-ffn.yaml"))
    d_row = next(line for line in out.splitlines() if line.split()[:2] == ["D", "2"])
    assert "nothing" in d_row


def test_output_file_holds_what_stdout_would(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _, printed, _ = run(capsys, ATTENTION, "--json")
    target = tmp_path / "sub" / "report.json"
    rc, out, err = run(capsys, ATTENTION, "--json", "--output", str(target))
    assert (rc, out, err) == (0, "", "")
    assert target.read_text() == printed
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_unwritable_output_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    rc, out, err = run(capsys, ATTENTION, "--output", str(blocker / "report.txt"))
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("archmodel analyze: error: --output ")


def test_help_ends_with_an_example(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "archmodel analyze configs/attention.yaml" in out
    assert "--symbolic" in out and "--output" in out


def test_option_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["analyze", "configs/attention.yaml", "--bogus"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --bogus" in err and "Traceback" not in err
