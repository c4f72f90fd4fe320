"""SCALE-Sim v3 topology CSV -> workload, and its ``.cfg`` -> a systolic design file.

A topology row is a GEMM (``Layer, M, N, K,``) or an unpadded convolution with one stride for both
axes (``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
Strides,``). The Einsums are those of :mod:`archmodel.dataflow.scalesim` (8-bit operands, SCALE-Sim's
word size; a convolution's output is ``ceil((H - R + s) / s)`` as SCALE-Sim computes it and the input
is declared just large enough for those windows), so ``eval --convention scalesim`` reproduces
SCALE-Sim's cycles for an imported file as it does for the recorded cases. Layers are independent in
SCALE-Sim, so each gets its own ranks (suffixed by the layer's row when there are several).
"""

from __future__ import annotations

import configparser
import csv
import math
from pathlib import Path

from ..errors import SpecError, shorten
from ..yamlio import BANDWIDTH_GB_PER_S, MAX_INT, SIDE, SIZE_KIB, Domain, check_number, read_text

GEMM_COLS = ("layer", "m", "n", "k")
CONV_COLS = (
    "layer name",
    "ifmap height",
    "ifmap width",
    "filter height",
    "filter width",
    "channels",
    "num filter",
    "strides",
)


def _read(path: str | Path, what: str) -> str:
    # the bounded reader: /dev/zero, a FIFO or a 10 GB file is refused, not read forever
    return read_text(path, what)


def import_scalesim(
    path: str | Path, *, name: str | None = None, bits: int | None = None
) -> tuple[str, dict[str, int]]:
    """A topology file -> (workload text, counts)."""
    rows, lines = [], []
    reader = csv.reader(_read(path, "topology file").splitlines())
    try:
        for r in reader:
            if any(c.strip() for c in r):
                rows.append(r)
                lines.append(reader.line_num)
    except csv.Error as err:  # a field over the csv module's 131,072 characters, a NUL byte
        raise SpecError(f"not a CSV topology: {shorten(str(err))}", file=path, line=reader.line_num) from None
    if not rows:
        raise SpecError("empty topology file", file=path, expected="a header row and one row per layer")
    header = tuple(c.strip().lower() for c in rows[0] if c.strip())
    if header[:4] == GEMM_COLS:
        kind, ncols = "gemm", 4
    elif header[:8] == CONV_COLS:
        kind, ncols = "conv", 8
    else:
        raise SpecError(
            "unknown topology header",
            file=path,
            line=1,
            expected="'Layer, M, N, K,' or 'Layer name, IFMAP Height, IFMAP Width, Filter Height, "
            "Filter Width, Channels, Num Filter, Strides,'",
            found=repr(",".join(rows[0])[:80]),
        )
    bits = bits or 8
    ranks: list[str] = []
    tensors: list[str] = []
    einsums: list[str] = []
    layers = rows[1:]
    for n, row in enumerate(layers, start=2):
        i = lines[n - 1]  # the file's own line (blank lines are skipped, not counted out)
        cells = [c.strip() for c in row]
        cells = cells[:ncols] if len(cells) >= ncols else cells
        if len(cells) < ncols or not all(cells[1:ncols]):
            raise SpecError(
                f"row has {len([c for c in cells if c])} fields",
                file=path,
                line=i,
                expected=f"{ncols}: {', '.join(header[:ncols])}",
            )
        values = []
        for col, cell in zip(header[1:ncols], cells[1:ncols]):
            values.append(_cell(cell, col, path, i))
        sfx = str(n - 1) if len(layers) > 1 else ""
        layer = shorten(cells[0]) or f"layer{n - 1}"
        if kind == "gemm":
            m, n, k = values
            ranks.append(f"  M{sfx}: {m}\n  N{sfx}: {n}\n  K{sfx}: {k}")
            tensors.append(f"  A{sfx}: [M{sfx}, K{sfx}]\n  B{sfx}: [K{sfx}, N{sfx}]")
            einsums.append(
                f"  # {layer}: GEMM M={m} N={n} K={k}\n"
                f"  - C{sfx}[m{sfx},n{sfx}] = A{sfx}[m{sfx},k{sfx}] * B{sfx}[k{sfx},n{sfx}]"
            )
            continue
        h, w, r, t, c, f, s = values
        if r > h or t > w:
            raise SpecError(f"filter {r}x{t} is larger than the input {h}x{w}", file=path, line=i)
        p, q = math.ceil((h - r + s) / s), math.ceil((w - t + s) / s)
        hh, ww = (p - 1) * s + r, (q - 1) * s + t
        row_ix = f"{s}*p{sfx}+r{sfx}" if s > 1 else f"p{sfx}+r{sfx}"
        col_ix = f"{s}*q{sfx}+t{sfx}" if s > 1 else f"q{sfx}+t{sfx}"
        ranks.append(
            "\n".join(
                f"  {k}{sfx}: {v}"
                for k, v in (("C", c), ("F", f), ("P", p), ("Q", q), ("R", r), ("T", t), ("H", hh), ("W", ww))
            )
        )
        tensors.append(f"  I{sfx}: [C{sfx}, H{sfx}, W{sfx}]\n  W8{sfx}: [F{sfx}, C{sfx}, R{sfx}, T{sfx}]")
        einsums.append(
            f"  # {layer}: {h}x{w}x{c} input, {r}x{t}x{f} filters, stride {s}"
            + (f" (input read as {hh}x{ww}: the windows SCALE-Sim slides)" if (hh, ww) != (h, w) else "")
            + f"\n  - O{sfx}[f{sfx},p{sfx},q{sfx}] = I{sfx}[c{sfx},{row_ix},{col_ix}] * "
            f"W8{sfx}[f{sfx},c{sfx},r{sfx},t{sfx}]"
        )
    if not layers:
        raise SpecError("no layers", file=path, expected="one row per layer after the header")
    stem = Path(path).stem
    text = (
        f"# Imported from the SCALE-Sim topology {Path(path).name} by `archmodel import`: {len(layers)} "
        f"{'GEMM' if kind == 'gemm' else 'convolution'} layer(s), {bits}-bit operands.\n"
        "# Evaluate with --convention scalesim to count cycles as SCALE-Sim v3 does.\n"
        f"workload: {name or stem}\n"
        f'description: "SCALE-Sim topology {Path(path).name}"\n'
        f"bits: {bits}\n"
        "ranks:\n"
        + "\n".join(ranks)
        + "\ntensors:\n"
        + "\n".join(tensors)
        + "\neinsums:\n"
        + "\n".join(einsums)
        + "\n"
    )
    return text, {"layers": len(layers), "einsums": len(layers)}


def _cell(cell: str, col: str, path: str | Path, line: int) -> int:
    """One number of the CSV, within 1..2^53 before any arithmetic (a 401-digit height would
    overflow the float the output size is computed in)."""
    value: object = cell
    if cell.isdigit() and len(cell) <= len(str(MAX_INT)):
        value = int(cell)
    elif cell.isdigit():
        raise SpecError(f"column '{col}'", file=path, line=line, expected="an integer >= 1 and <= 2^53",
                        found=f"an integer of {len(cell)} digits")
    checked, problem, expected = check_number(value, lo=1, hi=MAX_INT, integer=True)
    if problem is not None:
        expected = "a positive integer" if problem == "wrong type" else expected
        raise SpecError(f"column '{col}'", file=path, line=line, expected=expected,
                        found=repr(shorten(cell, 40)))
    return int(checked)  # type: ignore[arg-type]


_CFG_KEYS = {"arrayheight": "ArrayHeight", "arraywidth": "ArrayWidth", "dataflow": "Dataflow"}


def scalesim_design(path: str | Path) -> str:
    """A SCALE-Sim ``.cfg`` -> a systolic design file of the same array, dataflow and SRAM."""
    parser = configparser.ConfigParser(delimiters=(":", "="), inline_comment_prefixes=("#", ";"))
    try:
        parser.read_string(_read(path, "SCALE-Sim config"), source=str(path))
    except configparser.Error as err:
        raise SpecError(f"not a SCALE-Sim config: {str(err).splitlines()[0]}", file=path) from None
    if not parser.has_section("architecture_presets"):
        raise SpecError(
            "no [architecture_presets] section", file=path, expected="SCALE-Sim v3's config layout"
        )
    arch = parser["architecture_presets"]

    def integer(key: str, domain: Domain, default: int | None = None) -> int:
        if key.lower() not in arch:
            if default is not None:
                return default
            raise SpecError(f"[architecture_presets] {key} is missing", file=path, expected="an integer")
        raw = arch[key.lower()].strip()
        value: object = int(raw) if raw.isdigit() and len(raw) <= len(str(MAX_INT)) else raw
        # the design file's own domain (docs/formats.md, "Limits"), so what is written loads
        checked, problem, expected = check_number(value, lo=max(1, domain.lo), hi=domain.hi, integer=True)
        if problem is not None:
            raise SpecError(f"[architecture_presets] {key}: {problem}", file=path, expected=expected,
                            found=repr(shorten(raw, 40)))
        return int(checked)  # type: ignore[arg-type]

    rows, cols = integer("ArrayHeight", SIDE), integer("ArrayWidth", SIDE)
    dataflow = arch.get("dataflow", "ws").strip().lower()
    if dataflow not in ("ws", "os", "is"):
        raise SpecError(
            "[architecture_presets] Dataflow", file=path, expected="ws, os or is", found=repr(dataflow)
        )
    sram_kib = sum(integer(k, SIZE_KIB, 1) for k in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"))
    words = integer("Bandwidth", BANDWIDTH_GB_PER_S, 10)
    run = parser.get("general", "run_name", fallback=Path(path).stem).strip() or Path(path).stem
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in run)
    return f"""\
# Translated from the SCALE-Sim config {Path(path).name} by `archmodel import`.
# SCALE-Sim models neither a clock, a technology node nor energy: the clock (1 GHz, so cycles and
# nanoseconds agree), the node (45 nm) and the INT8 MAC PE below are our choices, stated here.
# The three SRAMs ({sram_kib} KiB in all) become one global buffer; Bandwidth ({words} words per
# cycle, 1-byte words) becomes the DRAM bandwidth at 1 GHz.
design: {name}
template: systolic
description: "SCALE-Sim {rows}x{cols} {dataflow.upper()} array from {Path(path).name}"
rows: {rows}
cols: {cols}
dataflow: {dataflow}
clock_ghz: 1.0
node_nm: 45
pe: {{kind: mac, a_bits: 8, w_bits: 8, acc_bits: 32}}
memory:
  dram: {{type: hbm2, bandwidth_gb_per_s: {words}}}
  global_buffer: {{size_kib: {sram_kib}, banks: 4, bytes_per_cycle: {max(rows, cols)}}}
"""
