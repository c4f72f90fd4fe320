"""Exact cycle count of the generated fused attention engine (``archmodel.rtl.spatial.engine``), and
the ``spatial`` template's ``buildable`` rule.

One definition, read by the engine's controller (the phase order and each phase's length), by the
cost model (``archmodel eval --convention rtl`` on a buildable spatial design) and by the
verification (simulated cycles == :func:`engine_cycles`). The schedule is documented in
``rtl/INTERFACE.md`` ("Fused attention engine"); it runs FuseMax's 1-pass cascade (Nayak et al.,
MICRO 2024, Fig. 4) over query tiles of ``rows`` and key tiles of ``cols``:

per query tile (``r`` rows): LOAD_Q (``r`` beats), then per key tile (``c`` keys): LOAD_KV (``c``
beats), QK (``E``: the 2-D array accumulates one element of E per cycle), then the phases of
:data:`KEY_TILE_PHASES`, SLNV (``E``: one output column per cycle through the row adder trees, SLD
with the first), UPDATE_MUL and UPDATE_ADD (RD and RNV on the 1-D array); after the last key tile
DIV (AV = RNV / RD on the 1-D array) and OUT (``r`` beats).

A phase on lanes takes ``rounds * lane_cycles(op) + 1`` cycles: every lane takes its round's element
together, the results come back ``lane_cycles(op)`` edges later, the next round is issued on the same
edge, and one more edge moves the controller on. The 2-D array's per-PE lanes run one round; the
1-D array's ``lanes`` run ``G = ceil(rows / lanes)`` rounds per row-wise op and ``G * (E + 1)``
(RD and the E columns of RNV) or ``G * E`` (the division) for the others. Nothing overlaps: the 1-D
array waits for the 2-D array and vice versa (the ``search`` convention overlaps them, see
``docs/validation.md``).

:func:`check_spatial` is the one rule of what the generator builds: explore's ``best-rtl.yaml``, the
``rtl`` convention and the generator's config (``archmodel.rtl.spatial.config``) all call it, so a
design explore calls buildable is never refused later. It lives here, in the model, so exploration
asks it without importing Amaranth.

``cycles`` counts clock edges from the one on which the command beat is taken to the one on which the
last output beat is taken, inputs always valid and the output always ready.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError, SpecError, refusal
from ..pe.vector_spec import FixedFormat, buildable_format, design_format, lane_cycles

#: Width of the P and M fields of the command beat (``rtl/INTERFACE.md``).
DIM_BITS = 16
#: Largest 2-D array side generated: every PE carries a multiplier and a sub/exp lane, so a side of
#: 32 is already 1024 lanes (larger engines are modelled, not generated).
MAX_SIDE = 32
MAX_LANES = 64
#: Head width the buffers are generated for unless asked otherwise (BERT: 64), and the widest.
DEFAULT_E_MAX = 64
MAX_E = 256

#: (phase, array, op) of each key tile after QK, in controller order (SLNV and the updates follow).
KEY_TILE_PHASES = (("MAX", "1d", "max"), ("SUB", "2d", "sub"), ("EXP", "2d", "exp"),
                   ("PSUB", "1d", "sub"), ("PEXP", "1d", "exp"))
FORMULA = ("2*P + nQ*(M + nK*(2*E + sum(phase) + G*(E+1)*(c_mul + c_add) + 2) + G*E*c_div + 1), "
           "nQ = ceil(P/rows), nK = ceil(M/cols), G = ceil(rows/lanes), phase = rounds*c_op + 1")


@dataclass(frozen=True)
class EngineShape:
    """What the schedule depends on: the 2-D array, the 1-D array's lanes and the lane format."""

    rows: int
    cols: int
    lanes: int
    fmt: FixedFormat

    @property
    def groups(self) -> int:
        """``G``: rounds of the 1-D array per row-wise op (rows handed out ``lanes`` at a time)."""
        return math.ceil(self.rows / self.lanes)

    def rounds(self, array: str) -> int:
        return 1 if array == "2d" else self.groups

    def phase_cycles(self, array: str, op: str, rounds: int | None = None) -> int:
        """Cycles of one lane phase: ``rounds * lane_cycles(op) + 1``."""
        return (self.rounds(array) if rounds is None else rounds) * lane_cycles(op, self.fmt) + 1

    def key_tile_cycles(self, keys: int, E: int) -> int:
        """One key tile of ``keys`` keys: load, QK, the lane phases, SLNV and the two updates."""
        fixed = sum(self.phase_cycles(arr, op) for _, arr, op in KEY_TILE_PHASES)
        update = sum(self.phase_cycles("1d", op, self.groups * (E + 1)) for op in ("mul", "add"))
        return keys + E + fixed + E + update

    def div_cycles(self, E: int) -> int:
        return self.phase_cycles("1d", "div", self.groups * E)


def engine_cycles(P: int, M: int, E: int, shape: EngineShape) -> int:
    """Exact cycles of one attention command (``P`` queries, ``M`` keys, head width ``E``)."""
    total = 0
    for q0 in range(0, P, shape.rows):
        r = min(shape.rows, P - q0)
        total += r + sum(shape.key_tile_cycles(min(shape.cols, M - k0), E) for k0 in range(0, M, shape.cols))
        total += shape.div_cycles(E) + r
    return total


def engine_cycles_closed(P: int, M: int, E: int, shape: EngineShape) -> int:
    """:func:`engine_cycles` in closed form (:data:`FORMULA`), for sizes too large to loop over."""
    nq, nk = math.ceil(P / shape.rows), math.ceil(M / shape.cols)
    per_tile = shape.key_tile_cycles(0, E)  # the keys themselves are counted once, as M
    return 2 * P + nq * (M + nk * per_tile + shape.div_cycles(E))




def attention_dims(cascade: Any) -> tuple[int, int, int, int] | None:
    """``(batch, P, M, E)`` of a softmax-attention cascade the engine runs, else ``None``: its first
    contraction is QK = Q K^T (batch x P x M over E), its last the weights times V over the M keys
    (all at once as the 3- and 2-pass cascades' AV, or per M1 tile as the 1-pass cascade's SLNV) with
    a value width equal to E. The engine computes any of them with its 1-pass cascade."""
    from .gemm import gemm_of

    gemms = [g for g in (gemm_of(cascade, e) for e in cascade.einsums) if g is not None]
    if len(gemms) < 2:
        return None
    qk, av = gemms[0], gemms[-1]
    tiles, rest = divmod(av.batch, qk.batch)
    if rest or (av.m, av.n, av.k * tiles) != (qk.m, qk.k, qk.n):
        return None
    return qk.batch, qk.m, qk.n, qk.k


def check_spatial(design: Any) -> EngineShape:
    """The engine the generator builds for a ``spatial`` design, or a :class:`SpecError` naming the
    field it cannot build (one line: where, expected, found)."""
    if getattr(design, "template", None) != "spatial":
        raise SpecError("not a spatial design", where="template", expected="spatial",
                        found=repr(getattr(design, "template", None)))
    arr = design.array
    if not design.fusion:
        raise SpecError("only the fused engine is generated (unfused designs send every intermediate "
                        "through DRAM)", where="fusion", expected="true", found="false")
    if not getattr(design, "fuse_contractions", True):
        raise SpecError("the generated engine fuses QK and the weights times V with the softmax; "
                        "contractions outside the fused group are not generated", where="fuse_contractions",
                        expected="true", found="false")
    if design.array_ops != "all":
        raise SpecError("only FuseMax-style 2-D PEs (max/exp/add) and the 1-pass cascade are generated; "
                        "the MAC-only (FLAT) array with the 2- and 3-pass cascades is not", where="array_ops",
                        expected="all", found=repr(design.array_ops))
    if design.vector_pipelined:
        raise SpecError("the generated 1-D array's lanes are iterative (one op step per cycle), not "
                        "pipelined", where="vector_pipelined", expected="false", found="true")
    if design.binding:
        raise SpecError("the generated engine binds the cascade as FuseMax does; pins are not generated",
                        where="binding", expected="no binding", found=repr(dict(design.binding)))
    vec = arr.vector
    reason = buildable_format(vec.number_format, vec.bits)
    if reason:
        key, _, text = reason.partition(": ")
        raise SpecError(text, where=key, expected="format int, 6..24 bits",
                        found=f"{vec.number_format}, {vec.bits} bits")
    pe = arr.pe
    if pe.kind != "mac" or pe.a_format != "int" or pe.w_format != "int" or pe.lanes != 1 \
            or pe.a_bits != vec.bits or pe.w_bits != vec.bits:
        raise SpecError("the 2-D PEs multiply Q, K and V in the lanes' fixed-point format",
                        where="pe", expected=f"kind mac, int, a_bits = w_bits = vector.bits = {vec.bits}, "
                        "one lane", found=f"{pe.kind}, {pe.a_format}/{pe.w_format}, a_bits {pe.a_bits}, "
                        f"w_bits {pe.w_bits}, lanes {pe.lanes}")
    check_sizes(arr.rows, arr.cols, vec.lanes, DEFAULT_E_MAX)
    return EngineShape(arr.rows, arr.cols, vec.lanes, design_format(vec.bits))


def check_sizes(rows: Any, cols: Any, lanes: Any, e_max: Any) -> None:
    """The generator's size limits (:data:`MAX_SIDE`, :data:`MAX_LANES`, :data:`MAX_E`)."""
    limits = (("rows", rows, MAX_SIDE), ("cols", cols, MAX_SIDE), ("vector.lanes", lanes, MAX_LANES),
              ("e_max", e_max, MAX_E))
    for key, v, top in limits:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
            raise SpecError("out of the generator's range", where=key, expected=f"an integer in 1..{top}",
                            found=repr(v))


def spatial_buildable(design: Any) -> str | None:
    """Why the spatial generator cannot build ``design`` (``None`` when it can)."""
    return refusal(check_spatial, design)


def rtl_attention_cycles(cascade: Any, design: Any) -> int:
    """Cycles of the generated engine of ``design`` on ``cascade`` (one command per batch x head);
    an :class:`~archmodel.errors.OptionError` saying why when the generator cannot build the design
    or the engine does not run the cascade."""
    try:
        shape = check_spatial(design)
    except SpecError as err:  # name the design file and its key, as every other design error does
        raise SpecError(f"convention 'rtl': design {design.name} has no generated RTL: {err.message}",
                        file=getattr(design, "source", "") or None, where=err.where,
                        expected=err.expected, found=err.found) from None
    dims = attention_dims(cascade)
    if dims is None:
        raise OptionError(f"convention 'rtl': the generated spatial engine runs softmax attention "
                          f"(QK, softmax, AV with F = E); {cascade.name} is not that")
    batch, P, M, E = dims
    if E > MAX_E or max(P, M) >= 1 << DIM_BITS:
        raise OptionError(f"convention 'rtl': {cascade.name} has P={P}, M={M}, E={E}; the engine's "
                          f"command carries P, M < {1 << DIM_BITS} and E <= {MAX_E}")
    return batch * engine_cycles_closed(P, M, E, shape)


def rtl_vector_costs(design: Any) -> Any:
    """The 1-D array's per-op costs under the ``rtl`` convention: the generated lanes' cycles
    (:func:`archmodel.pe.vector_spec.lane_costs`)."""
    from ..pe.vector_spec import design_format, lane_costs

    return lane_costs(design_format(design.array.vector.bits))


__all__ = ["DEFAULT_E_MAX", "DIM_BITS", "FORMULA", "KEY_TILE_PHASES", "MAX_E", "MAX_LANES", "MAX_SIDE",
           "EngineShape", "attention_dims", "check_sizes", "check_spatial", "engine_cycles",
           "engine_cycles_closed", "rtl_attention_cycles", "rtl_vector_costs", "spatial_buildable"]
