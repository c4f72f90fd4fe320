"""What the blanket ``-Wno-WIDTHTRUNC`` waiver (``rtl/lint.md``) would hide, checked.

Small bit-serial and MixPE arrays are linted with every waiver except WIDTHTRUNC, and each
truncation Verilator reports must be one of the generated constructs on :data:`ALLOWED`, none of
which drops information. (Review finding #1, the 8-bit weight cut to a 4-bit Booth register, was
not among them: Amaranth writes a truncating ``.eq()`` as an explicit slice, ``ext = w[3:0]``,
which no width warning sees; ``ArrayConfig`` now rejects that design instead.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archmodel.pe.spec import PESpec
from archmodel.rtl.config import ArrayConfig
from archmodel.rtl.emit import LINT_WAIVERS, generate_rtl, run_verilator_lint

WAIVERS = tuple(w for w in LINT_WAIVERS if w != "-Wno-WIDTHTRUNC")
WARNING = re.compile(r"%Warning-WIDTHTRUNC: (?P<file>[^:]+):(?P<line>\d+):\d+: (?P<what>.*)")

#: (Verilator's message, the Verilog line, the module) patterns of each allowed truncation -> why it
#: drops nothing. Module names are Amaranth's hierarchy (``\\top.ctrl``, ``\\top.dequant_0``).
ALLOWED: dict[tuple[str, str, str], str] = {
    (r"Logical operator LOGNOT", r"= ! (digit|cnt|fsm_state|\\bit |\\\$\d+ );", r"\\\S+"):
        "Amaranth writes `x == 0` as `!x` (the controller's step/row counters and FSM state, the "
        "dequantiser's bit counter): a logical not of a vector, nothing is truncated",
    (r"Logical operator LOGNOT", r"= ! a\[\d+:\d+\];", r"\\\S+\.aligner"):
        "the FP16 aligner's `exponent == 0` (subnormal) test on a 5-bit exponent field",
    (r"Operator ASSIGNW expects 1 bits on the Assign RHS, but Assign RHS's SHIFTR",
     r"= (s|\\port\$\d+\$\d+ \[\d+:0\]) >> \\bit ;", r"\\\S+\.dequant_\d+"):
        "the bit-serial dequantiser's scale bit s[bit] (MSB first): a variable bit select written as a "
        "shift, of which only bit 0 is wanted",
}


def _module_of(lines: list[str], line: int) -> str:
    for text in reversed(lines[:line]):
        if text.startswith("module "):
            return text.split()[1]
    return ""


def _unexplained(verilog: Path, top: str) -> list[str]:
    """Verilator's WIDTHTRUNC warnings on ``verilog`` that :data:`ALLOWED` does not explain."""
    proc = run_verilator_lint(verilog, top, WAIVERS)
    lines = verilog.read_text().splitlines()
    bad = []
    for m in map(WARNING.match, proc.stderr.splitlines()):
        if m is None:
            continue
        n = int(m["line"])
        text, module = lines[n - 1], _module_of(lines, n)
        if not any(re.search(w, m["what"]) and re.search(v, text) and re.fullmatch(mod, module)
                   for w, v, mod in ALLOWED):
            bad.append(f"{module}:{n}: {text.strip()}  ({m['what']})")
    other = [ln for ln in proc.stderr.splitlines() if ln.startswith("%Warning-") and "WIDTHTRUNC" not in ln]
    assert not other, other  # everything else stays clean under the remaining waivers
    return bad


CONFIGS = [
    ArrayConfig(pe=PESpec(kind="bitserial", group_size=4, zero_point=True), rows=2, cols=2, dataflow="ws",
                m_tile=4, name="bs_ws"),
    ArrayConfig(pe=PESpec(kind="bitserial", group_size=4, lanes=2), rows=2, cols=2, dataflow="os",
                name="bs_os"),
    ArrayConfig(pe=PESpec(kind="mixpe", w_bits=4, group_size=4, zero_point=True), rows=2, cols=2,
                dataflow="os", name="mix_os"),
    ArrayConfig(pe=PESpec(kind="mixpe", a_bits=16, a_format="fp16", w_bits=4, group_size=4, acc_bits=64),
                rows=2, cols=2, dataflow="ws", m_tile=4, name="mix_fp16"),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_truncations_are_only_the_allowed_ones(cfg: ArrayConfig, tmp_path: Path) -> None:
    verilog = generate_rtl(cfg, tmp_path) / f"{cfg.name}.v"
    assert _unexplained(verilog, cfg.name) == []


def test_the_check_catches_an_implicit_truncation(tmp_path: Path) -> None:
    """An assignment that silently drops the high half of a value is reported, not allowed."""
    bad = tmp_path / "cut.v"
    bad.write_text("module cut(input [7:0] w, output [3:0] q);\n  assign q = w;\nendmodule\n")
    assert len(_unexplained(bad, "cut")) == 1
