"""Technology scaling of energy, area and delay between CMOS nodes (Stillmaker & Baas 2017).

Every cost table in archmodel was measured at one node (Horowitz's operation energies at 45 nm,
BitMoD's PE areas at 28 nm, ...). The table records that node, and these functions carry a figure
from there to the node a design asks for.

Source: A. Stillmaker and B. Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration, the VLSI Journal 58 (2017) 74-81,
doi:10.1016/j.vlsi.2017.02.002. The paper fits, per node, delay as a cubic and energy per operation as
a quadratic in the supply voltage (its Tables 4 and 5; 180-65 nm from PTM bulk models, 45 nm and below
the high-performance (HP) ITRS/PTM fits), and gives a table of relative area between nodes. The
coefficients below are the paper's; the 65 nm energy row (3.755, -4.398, 1.975) and the 32 nm row
(0.8367, -0.4341, 0.1701) are the ones quoted in the authors' published erratum to Section 4.2.1.

What is ours, not the paper's:

* ``NOMINAL_VDD``: the supply each node's fit is evaluated at when no voltage is given. 180-32 nm use
  the PTM nominal supplies; 20-7 nm are our assumption (stepping down to 0.7 V at 7 nm) because we
  could not retrieve the paper's voltage table. Pass ``vdd_from`` / ``vdd_to`` to override.
* Nodes between the fitted ones (40, 28, 22, 12 nm, ...) are interpolated linearly in
  log(factor) versus log(node) between the two neighbouring fitted nodes.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt

from .errors import OptionError

ArrayLike = float | int | npt.ArrayLike

#: Nodes the paper fits (nm), largest first. Other nodes in [7, 180] are interpolated.
NODES_NM: tuple[int, ...] = (180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7)

#: Supply (V) a node's fit is evaluated at by default; 180-32 nm PTM nominal, 20-7 nm assumed (see
#: module docstring).
NOMINAL_VDD: dict[int, float] = {180: 1.8, 130: 1.3, 90: 1.2, 65: 1.1, 45: 1.0, 32: 0.9,
                                 20: 0.9, 16: 0.85, 14: 0.8, 10: 0.75, 7: 0.7}

#: Delay fit d(V) = c3 V^3 + c2 V^2 + c1 V + c0 (Stillmaker & Baas 2017, Table 4; HP for <= 45 nm).
DELAY_COEFFS: dict[int, tuple[float, float, float, float]] = {
    180: (0.0, 97.09, -356.7, 406.5),
    130: (-76.65, 334.9, -493.4, 275.8),
    90: (-60.34, 262.5, -384.2, 210.9),
    65: (-53.3, 230.4, -333.9, 178.6),
    45: (-501.6, 1567.0, -1619.0, 566.1),
    32: (-1047.0, 2982.0, -2797.0, 873.5),
    20: (0.0, 34.63, -66.37, 41.15),
    16: (0.0, 24.8, -47.52, 28.87),
    14: (-40.66, 109.2, -100.6, 35.92),
    10: (-34.95, 93.65, -85.99, 30.4),
    7: (-28.58, 76.6, -70.26, 24.69),
}

#: Energy-per-operation fit e(V) = c2 V^2 + c1 V + c0 (Stillmaker & Baas 2017, Table 5; HP for <= 45 nm).
ENERGY_COEFFS: dict[int, tuple[float, float, float]] = {
    180: (0.0, 24.64, -17.98),
    130: (7.171, -6.709, 2.904),
    90: (4.762, -4.781, 2.092),
    65: (3.755, -4.398, 1.975),
    45: (1.018, -0.3107, 0.1539),
    32: (0.8367, -0.4341, 0.1701),
    20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024),
    14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}

#: Area of a design at each node relative to the same design at 45 nm (Stillmaker & Baas 2017, area
#: scaling table, 45 nm row).
AREA_REL_45NM: dict[int, float] = {180: 19.0, 130: 6.4, 90: 2.8, 65: 1.5, 45: 1.0, 32: 0.46,
                                   20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1, 7: 0.059}

_LOG_NODES = np.log(np.array(NODES_NM[::-1], dtype=float))  # ascending, for np.interp


def positive_array(value: ArrayLike, name: str, *, allow_zero: bool = False) -> np.ndarray:
    """``value`` as a float array, every element finite and > 0 (>= 0 with ``allow_zero``).

    Raises :class:`OptionError` naming the argument and the first bad value. Text is refused even
    when numpy could read it (``np.asarray("45", dtype=float)`` is 45.0): ``node_nm="45"`` is a
    caller's mistake, not a node.
    """
    if isinstance(value, (str, bytes)) or np.asarray(value).dtype.kind in "US":
        raise OptionError(f"{name}: expected a number or an array of numbers, found {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise OptionError(f"{name}: expected a number or an array of numbers, found {value!r}") from None
    bad = ~np.isfinite(arr) | ((arr < 0) if allow_zero else (arr <= 0))
    if np.any(bad):
        first = float(arr[bad].flat[0])
        bound = ">= 0" if allow_zero else "> 0"
        raise OptionError(f"{name}: expected a finite number {bound}, found {first:g}")
    return arr


def as_result(arr: np.ndarray) -> float | np.ndarray:
    """A 0-d result as a Python float, anything else as the array itself."""
    return float(arr) if np.ndim(arr) == 0 else arr


def check_node(node_nm: ArrayLike) -> np.ndarray:
    """Nodes as a float array, each within the fitted range 7..180 nm."""
    nodes = positive_array(node_nm, "node_nm")
    outside = (nodes < NODES_NM[-1]) | (nodes > NODES_NM[0])
    if np.any(outside):
        raise OptionError(f"node_nm: {nodes[outside].flat[0]:g} nm is outside the scaling model's "
                          f"range ({NODES_NM[-1]}..{NODES_NM[0]} nm, Stillmaker & Baas 2017)")
    return nodes


def _interp_log(nodes: np.ndarray, per_node: dict[int, float]) -> np.ndarray:
    """log-log interpolation of a per-fitted-node quantity at arbitrary nodes.

    A fitted node whose value is not positive (a polynomial evaluated outside its voltage range) is
    NaN, which poisons only the results that interpolate from it.
    """
    values = np.array([per_node[n] for n in NODES_NM[::-1]], dtype=float)
    logs = np.log(np.where(values > 0, values, np.nan))
    return np.exp(np.interp(np.log(nodes), _LOG_NODES, logs))


@cache
def _fitted(kind: str, vdd: float | None) -> dict[int, float]:
    """Each fitted node's polynomial (``kind``: energy or delay) at ``vdd`` (its nominal supply when
    ``None``): evaluated once per run, not once per cost lookup."""
    coeffs = ENERGY_COEFFS if kind == "energy" else DELAY_COEFFS
    return {n: float(np.polyval(c, NOMINAL_VDD[n] if vdd is None else vdd)) for n, c in coeffs.items()}


def _poly_factor(node_nm: ArrayLike, kind: str, vdd: float | None) -> np.ndarray:
    """Fitted polynomial at ``vdd`` (each node's nominal supply when ``None``), interpolated to nodes."""
    nodes = check_node(node_nm)
    out = _interp_log(nodes, _fitted(kind, vdd))
    if np.any(np.isnan(out)):
        raise OptionError(f"vdd: {vdd} V is outside the voltage range Stillmaker & Baas fitted for "
                          f"node {nodes[np.isnan(out)].flat[0]:g} nm")
    return out


@lru_cache(maxsize=4096)
def _scalar_factor(node_nm: float, kind: str, vdd: float | None) -> float:
    """One node's factor as a float (``kind``: energy, delay or area), cached: a cost table asks
    for the same (node, supply) thousands of times per run. Same arithmetic as the array path."""
    if kind == "area":
        return float(_interp_log(check_node(node_nm), AREA_REL_45NM))
    return float(_poly_factor(node_nm, kind, vdd))


def _is_scalar(*values: object) -> bool:
    """Plain Python or numpy numbers, 0-d arrays included (not bool, not text): the cached float
    path applies."""
    return all((isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool))
               or (isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf") for v in values)


def _scalar_value(value: float, name: str) -> float:
    """A scalar cost figure checked as :func:`positive_array` checks it (finite, >= 0)."""
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise OptionError(f"{name}: expected a finite number >= 0, found {v:g}")
    return v


def energy_factor(node_nm: ArrayLike, vdd: float | None = None) -> float | np.ndarray:
    """Stillmaker & Baas energy-per-operation factor at ``node_nm`` (relative units; only ratios mean
    anything)."""
    if _is_scalar(node_nm):
        return _scalar_factor(float(node_nm), "energy", vdd)
    return as_result(_poly_factor(node_nm, "energy", vdd))


def delay_factor(node_nm: ArrayLike, vdd: float | None = None) -> float | np.ndarray:
    """Stillmaker & Baas gate-delay factor at ``node_nm`` (relative units)."""
    if _is_scalar(node_nm):
        return _scalar_factor(float(node_nm), "delay", vdd)
    return as_result(_poly_factor(node_nm, "delay", vdd))


def area_factor(node_nm: ArrayLike) -> float | np.ndarray:
    """Area at ``node_nm`` relative to 45 nm (Stillmaker & Baas area table)."""
    if _is_scalar(node_nm):
        return _scalar_factor(float(node_nm), "area", None)
    return as_result(_interp_log(check_node(node_nm), AREA_REL_45NM))


def scale_energy(value_pj: ArrayLike, from_nm: ArrayLike, to_nm: ArrayLike, *,
                 vdd_from: float | None = None, vdd_to: float | None = None) -> float | np.ndarray:
    """Energy per operation measured at ``from_nm`` (and ``vdd_from``) predicted at ``to_nm``.

    ``value_pj * e(to) / e(from)`` with Stillmaker & Baas's fitted energy polynomials; supplies
    default to each node's nominal (:data:`NOMINAL_VDD`).
    """
    if _is_scalar(value_pj, from_nm, to_nm):
        v = _scalar_value(value_pj, "value_pj")
        return v * (_scalar_factor(float(to_nm), "energy", vdd_to)
                    / _scalar_factor(float(from_nm), "energy", vdd_from))
    value = positive_array(value_pj, "value_pj", allow_zero=True)
    ratio = np.asarray(energy_factor(to_nm, vdd_to)) / np.asarray(energy_factor(from_nm, vdd_from))
    return as_result(value * ratio)


def scale_delay(value: ArrayLike, from_nm: ArrayLike, to_nm: ArrayLike, *,
                vdd_from: float | None = None, vdd_to: float | None = None) -> float | np.ndarray:
    """A delay (any time unit) measured at ``from_nm`` predicted at ``to_nm`` (Stillmaker & Baas)."""
    if _is_scalar(value, from_nm, to_nm):
        return _scalar_value(value, "value") * (_scalar_factor(float(to_nm), "delay", vdd_to)
                                                / _scalar_factor(float(from_nm), "delay", vdd_from))
    v = positive_array(value, "value", allow_zero=True)
    ratio = np.asarray(delay_factor(to_nm, vdd_to)) / np.asarray(delay_factor(from_nm, vdd_from))
    return as_result(v * ratio)


def scale_area(value_um2: ArrayLike, from_nm: ArrayLike, to_nm: ArrayLike) -> float | np.ndarray:
    """An area measured at ``from_nm`` predicted at ``to_nm`` (Stillmaker & Baas area table)."""
    if _is_scalar(value_um2, from_nm, to_nm):
        # (value * to) / from, in the array path's order, so both give the same bits.
        return _scalar_value(value_um2, "value_um2") * _scalar_factor(float(to_nm), "area", None) \
            / _scalar_factor(float(from_nm), "area", None)
    v = positive_array(value_um2, "value_um2", allow_zero=True)
    return as_result(v * np.asarray(area_factor(to_nm)) / np.asarray(area_factor(from_nm)))
