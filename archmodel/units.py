"""One convention for every figure a person reads: SI prefixes chosen per magnitude, 3-4 digits.

``eval``, ``explore``, ``best.yaml``, summaries and ``report.html`` all print through these, so
7.049e+06 uJ reads ``7.049 J`` everywhere and a 8192 ns GEMM reads ``8.192 µs``. Machine-readable
outputs (JSON, CSV) keep SI base units in their column names (``latency_s``, ``energy_pj``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

_PREFIXES = (
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
    (1.0, ""),
    (1e-3, "m"),
    (1e-6, "µ"),
    (1e-9, "n"),
    (1e-12, "p"),
    (1e-15, "f"),
)


def si(value: float, unit: str, digits: int = 4, *, top: float = 1e12) -> str:
    """``si(8.192e-6, "s")`` -> ``8.192 µs``: the largest prefix (up to ``top``) giving a mantissa >= 1."""
    if value is None or not math.isfinite(value):
        return f"{value} {unit}"
    if value == 0:
        return f"0 {unit}"
    mag = abs(value)
    for scale, prefix in _PREFIXES:
        if scale <= top and mag >= scale * (1 - 5e-13):
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    scale, prefix = _PREFIXES[-1]
    return f"{value / scale:.{digits}g} {prefix}{unit}"


def seconds(s: float) -> str:
    return si(s, "s", top=1.0)


def energy_pj(pj: float) -> str:
    """Energy given in pJ (the model's unit), printed in J with a prefix."""
    return si(pj * 1e-12, "J", top=1.0)


def area_mm2(mm2: float) -> str:
    """Area in mm² (µm² below 0.01 mm², where a PE's area sits)."""
    if math.isfinite(mm2) and 0 < abs(mm2) < 1e-2:
        return f"{mm2 * 1e6:.4g} µm²"
    return f"{mm2:.4g} mm²"


def edp_pj_s(pj_s: float) -> str:
    """Energy-delay product given in pJ·s, printed in J·s with a prefix."""
    return si(pj_s * 1e-12, "J·s", top=1.0)


def power_w(w: float) -> str:
    return si(w, "W", top=1e3)


def bytes_(n: float) -> str:
    """Bytes with decimal prefixes (kB = 1000 B), as traffic figures are compared with bandwidths."""
    return si(n, "B", top=1e12)


def column(values: Iterable[float], unit: str, base: float = 1.0, top: float = 1.0) -> tuple[str, float]:
    """One prefix for a whole table column, from its median magnitude: (unit label, multiplier).

    ``base`` converts the stored unit to the SI one (1e-12 for pJ -> J); a column reads in one unit
    so its rows compare at a glance (``latency ms``), and the unit follows the run's magnitudes.
    """
    mags = sorted(abs(v * base) for v in values if v is not None and math.isfinite(v) and v != 0)
    if not mags:
        return unit, base
    median = mags[len(mags) // 2]
    for scale, prefix in _PREFIXES:
        if scale <= top and median >= scale * (1 - 5e-13):
            return f"{prefix}{unit}", base / scale
    scale, prefix = _PREFIXES[-1]
    return f"{prefix}{unit}", base / scale


def metrics(row: Mapping[str, float]) -> str:
    """``latency 7.078 ms, energy 81.09 mJ, area 22.81 mm², power 11.46 W, utilization 100%``: one
    design's figures as every summary line prints them."""
    out = f"latency {seconds(row['latency_s'])}, energy {energy_pj(row['energy_pj'])}, " \
          f"area {area_mm2(row['area_mm2'])}, power {power_w(row['power_w'])}"
    if "edp_pj_s" in row:
        out += f", EDP {edp_pj_s(row['edp_pj_s'])}"
    if "utilization" in row:
        out += f", utilization {row['utilization']:.0%}"
    return out
