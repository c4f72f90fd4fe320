"""Plain-text tables and human-friendly numbers, for the CLI and the reports the library writes
(``summary.md``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def fmt_num(value: Any) -> str:
    """Human-friendly number: integers with thousands separators, floats to 4 significant digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:,.4g}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, align: str | None = None) -> str:
    """A plain-text table; numbers right-aligned, text left-aligned."""
    cells = [[fmt_num(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    if align is None:
        align = "l" + "r" * (len(headers) - 1)
    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align))
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


__all__ = ["fmt_num", "table"]
