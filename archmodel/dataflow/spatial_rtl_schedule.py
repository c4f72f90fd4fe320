"""Exact cycle count of the generated fused attention engine (``archmodel.rtl.spatial.engine``).

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

``cycles`` counts clock edges from the one on which the command beat is taken to the one on which the
last output beat is taken, inputs always valid and the output always ready.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError, SpecError
from ..pe.vector_spec import FixedFormat, lane_cycles

#: Widest head a command may ask for (the generator's ``MAX_E``).
MAX_COMMAND_E = 256

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


def rtl_attention_cycles(cascade: Any, design: Any) -> int:
    """Cycles of the generated engine of ``design`` on ``cascade`` (one command per batch x head);
    an :class:`~archmodel.errors.OptionError` saying why when the generator cannot build the design
    or the engine does not run the cascade."""
    from ..rtl.spatial.config import engine_config

    try:
        cfg = engine_config(design)
    except SpecError as err:
        raise OptionError(f"convention 'rtl': design {design.name} has no generated RTL ({err})") from None
    dims = attention_dims(cascade)
    if dims is None:
        raise OptionError(f"convention 'rtl': the generated spatial engine runs softmax attention "
                          f"(QK, softmax, AV with F = E); {cascade.name} is not that")
    batch, P, M, E = dims
    if E > MAX_COMMAND_E or max(P, M) >= 1 << 16:
        raise OptionError(f"convention 'rtl': {cascade.name} has P={P}, M={M}, E={E}; the engine's "
                          f"command carries P, M < 65536 and E <= {MAX_COMMAND_E}")
    return batch * engine_cycles_closed(P, M, E, cfg.shape)


def rtl_vector_costs(design: Any) -> Any:
    """The 1-D array's per-op costs under the ``rtl`` convention: the generated lanes' cycles
    (:func:`archmodel.pe.vector_spec.lane_costs`)."""
    from ..pe.vector_spec import design_format, lane_costs

    return lane_costs(design_format(design.array.vector.bits))


__all__ = ["FORMULA", "KEY_TILE_PHASES", "EngineShape", "attention_dims", "engine_cycles",
           "engine_cycles_closed", "rtl_attention_cycles", "rtl_vector_costs"]
