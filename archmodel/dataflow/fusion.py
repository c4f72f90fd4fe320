"""Fusion of a cascade into stage pipelines, and the DRAM traffic and buffer each fused group needs.

Everything here is derived from the cascade; nothing is written per design or per workload.

**Groups.** For a *fiber rank* R (a rank some Einsum reduces; :mod:`archmodel.analysis.passes`
counts its passes) the fused group is every Einsum that iterates a variable of R (``m``, or
``m1``/``m0``), plus every Einsum that reads an R-carrying tensor of the group
(``AV = RNV[M1]/RD[M1]``). Each candidate R is planned and the group that saves the most DRAM traffic
over unfused execution is kept (attention's M, not a decoder's model width D, whose "shared operands"
are the weights); every other Einsum is a group of its own.

**Fibers.** A fiber is one point of the group's *fiber ranks*: the ranks every traversing Einsum
iterates, minus R and minus anything reduced (attention: b, h, p). Per fiber the group keeps on chip

* ``state`` bytes: tensors without R that carry every fiber rank (Q's row, GM, SD, the output row),
  and recurrences as running values (RM, RD, RNV: one m1 step each);
* ``held`` bytes: the R-fibers that the pass bound says must survive a pass boundary (the 3-pass
  cascade's QK, then SN: ``RankPasses.held``; the worst boundary counts). A 1-pass cascade holds none.

Tensors that carry R and are not held stream through tile buffers. *Shared* operands lack a fiber
rank (K, V lack p) and are either kept resident per slice or streamed once per block of fibers.

**Blocks and spills.** Fibers run in blocks of ``n_block`` (as large as the buffer allows), with the
ranks a shared operand lacks innermost, so a streamed shared operand is read
``ceil(extent_lacked / n_block)`` times. When even one fiber's held bytes do not fit, the fraction
that does not fit spills: written once and read back by each later pass that uses it, so spill traffic
grows with the fiber length (FLAT's row-granularity fusion; FuseMax Sec. 3). Unfused execution sends
every tensor of every Einsum through DRAM: the sum of footprints, :func:`archmodel.analysis.analyze`'s
``unfused_bytes``.

**Mapping choices** (design options, so the FuseMax artifact's baselines are expressible):
``contractions=False`` leaves the contractions out of the fused group (the artifact's unfused
baseline: QK and AV alone, the softmax fused on the 1-D unit, ``src/accel/unfused.py``);
``stream_tile`` streams the group's inputs past the buffer straight into the array, so an input is
re-read from DRAM once per ``stream_tile`` of every fiber rank (or of R) it lacks (the artifact's FLAT
mapping, ``yamls/baselines/flat-mappings``: Q, K and V bypass the buffer; at L = 1K Q and K are read
4 times each, V 4 times), with the held rows that do not fit overbooked; the buffer-side plan with the
held rows sent through DRAM whole replaces it when that moves less (``_fused_group``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..analysis.passes import RankPasses, all_rank_passes, rank_vars
from ..analysis.report import Analysis, bytes_of
from ..workload.ir import Cascade, Einsum, rank_of
from .gemm import gemm_of


@dataclass(frozen=True)
class FusedGroup:
    """One stage pipeline and what it costs in DRAM traffic and buffer.

    Attributes:
        einsums: member Einsums in cascade order.
        rank: the fiber rank the group traverses (``None``: a single unfused Einsum).
        passes: traversals of that rank's fiber.
        fibers: number of fibers (points of the fiber ranks).
        n_block: fibers processed together.
        state_bytes_per_fiber, held_bytes_per_fiber: on-chip bytes per fiber (see module docstring).
        resident: shared operands kept whole in the buffer (others stream, re-read per block).
        rereads: shared operand -> times it is read from DRAM.
        spill_fraction: share of the held fibers that did not fit and went through DRAM.
        spill_bytes: DRAM bytes of spilled held tensors (writes plus later-pass reads).
        dram_bytes: per member Einsum, its attributed DRAM bytes (reads of group inputs by their first
            reader, writes of group outputs and spills by their producer).
        on_chip: intermediates that never leave the chip.
        buffer_bytes: buffer the chosen blocking occupies.
        candidates: blockings costed to choose this plan (every fiber rank tried, every spill fraction
            and residency), the search work an honest counter charges a design.
        streams: the group's inputs stream past the buffer (``stream_tile``'s mapping was kept).
    """

    einsums: tuple[str, ...]
    rank: str | None = None
    passes: int = 1
    fibers: int = 1
    n_block: int = 1
    state_bytes_per_fiber: float = 0.0
    held_bytes_per_fiber: float = 0.0
    resident: tuple[str, ...] = ()
    rereads: dict[str, int] = field(default_factory=dict)
    spill_fraction: float = 0.0
    spill_bytes: float = 0.0
    dram_bytes: dict[str, float] = field(default_factory=dict)
    on_chip: tuple[str, ...] = ()
    buffer_bytes: float = 0.0
    candidates: int = 1
    streams: bool = False

    @property
    def total_dram_bytes(self) -> float:
        return sum(self.dram_bytes.values())


def fiber_ranks(cascade: Cascade, passes: dict[str, RankPasses] | None = None) -> list[str]:
    """Ranks a fused schedule could traverse: those some Einsum reduces, most passes first, then the
    longest (attention's M before E)."""
    passes = passes if passes is not None else all_rank_passes(cascade)
    reduced = {rank_of(v) for e in cascade.einsums for v in e.reduced}
    parent = {p: r for r, ps in cascade.parts.items() for p in ps}
    reduced |= {parent[r] for r in reduced if r in parent}
    candidates = [r for r, rp in passes.items() if rp.passes >= 1 and r in reduced]
    return sorted(candidates, key=lambda r: (-passes[r].passes, -cascade.ranks[r], r))


def _r_ranks(cascade: Cascade, rank: str) -> set[str]:
    return {rank, *cascade.parts.get(rank, ())}


def group_members(cascade: Cascade, rank: str) -> list[Einsum]:
    """Einsums fused along ``rank``: those iterating it, and readers of R-carrying group tensors."""
    rvars = set(rank_vars(cascade, rank)) | {rank.lower()}
    r_ranks = _r_ranks(cascade, rank)
    members: list[Einsum] = []
    carried: set[str] = set()
    for e in cascade.einsums:
        touches = bool(rvars & set(e.index_vars)) or any(a.tensor in carried for a in e.operands)
        if touches:
            members.append(e)
            if r_ranks & set(cascade.tensors[e.name].ranks):
                carried.add(e.name)
    return members


def _tensor_bytes(analysis: Analysis, name: str) -> float:
    return float(analysis.tensor_bytes[name])


def unfused_groups(cascade: Cascade, analysis: Analysis) -> list[FusedGroup]:
    """Every Einsum alone, every operand read from and every output written to DRAM."""
    return [FusedGroup((s.name,), dram_bytes={s.name: float(sum(s.footprint_bytes.values()))})
            for s in analysis.einsums]


def plan_fusion(cascade: Cascade, analysis: Analysis, buffer_bytes: float, tile: int, *,
                contractions: bool = True, stream_tile: int | None = None) -> list[FusedGroup]:
    """Fused groups of ``cascade`` on a buffer of ``buffer_bytes``; the fiber streams in tiles of
    ``tile``.

    Every candidate fiber rank (:func:`fiber_ranks`) is planned; the one whose group saves the most
    DRAM traffic over running its members unfused wins, and the other Einsums run unfused. When no
    group saves anything the result is :func:`unfused_groups`, so fusion never adds traffic.
    ``contractions`` and ``stream_tile``: the mapping choices of the module docstring.
    """
    singles = {g.einsums[0]: g for g in unfused_groups(cascade, analysis)}
    best: FusedGroup | None = None
    saving = 0.0
    tried = 0
    for rank in fiber_ranks(cascade, analysis.passes):
        members = [e for e in group_members(cascade, rank) if contractions or gemm_of(cascade, e) is None]
        if len(members) < 2:
            continue
        group = _fused_group(cascade, analysis, members, rank, analysis.passes[rank], buffer_bytes, tile,
                             stream_tile)
        tried += group.candidates
        saved = sum(singles[e.name].total_dram_bytes for e in members) - group.total_dram_bytes
        if saved > saving:
            best, saving = group, saved
    if best is None:
        return list(singles.values())
    best = replace(best, candidates=tried)
    out: list[FusedGroup] = []
    for e in cascade.einsums:
        if e.name not in best.einsums:
            out.append(singles[e.name])
        elif e.name == best.einsums[0]:
            out.append(best)
    return out


def _fused_group(cascade: Cascade, analysis: Analysis, members: list[Einsum], rank: str, rp: RankPasses,
                 buffer_bytes: float, tile: int, stream_tile: int | None = None) -> FusedGroup:
    names = [e.name for e in members]
    r_ranks = _r_ranks(cascade, rank)
    rvars = {r.lower() for r in r_ranks}
    traversing = [e for e in members if e.name in rp.einsum_pass] or members
    common = set.intersection(*(set(e.index_vars) for e in traversing))
    reduced = {v for e in members for v in e.reduced}
    fiber_ranks = [rank_of(v) for v in traversing[0].index_vars if v in common - rvars - reduced]
    ext = cascade.ranks
    fibers = math.prod(ext[r] for r in fiber_ranks)
    r_len = math.prod(ext[r] for r in cascade.parts.get(rank, (rank,)))

    produced = set(names)
    touched = list(dict.fromkeys([a.tensor for e in members for a in e.operands] + names))
    inputs = [t for t in touched if t not in produced]
    outputs = [t for t in names if cascade.tensors[t].role == "output"
               or any(c.name not in produced for c in cascade.consumers(t))]
    held_max = max(rp.held.values(), default=(),
                   key=lambda ts: sum(bytes_of(r_len, cascade.tensors[t].bits) for t in ts))
    held_per_fiber = sum(bytes_of(r_len, cascade.tensors[t].bits) for t in held_max)

    state = 0.0
    input_state = 0.0  # the part of ``state`` that is group inputs (they skip the buffer when streamed)
    shared: dict[str, tuple[float, float, float]] = {}  # name -> (bytes, slice bytes, lacked extent)
    for t in touched:
        tensor = cascade.tensors[t]
        ranks = set(tensor.ranks)
        per_fiber_ranks = [r for r in tensor.ranks if r not in fiber_ranks]
        if tensor.is_recurrence:
            state += bytes_of(math.prod(ext[r] for r in per_fiber_ranks if r not in r_ranks),
                              tensor.bits)
        elif t in inputs and not set(fiber_ranks) <= ranks:
            lacked = math.prod(ext[r] for r in fiber_ranks if r not in ranks)
            carried = math.prod(ext[r] for r in fiber_ranks if r in ranks)
            shared[t] = (_tensor_bytes(analysis, t), _tensor_bytes(analysis, t) / carried, lacked)
        elif not ranks & r_ranks:
            row = bytes_of(math.prod(ext[r] for r in per_fiber_ranks), tensor.bits)
            state += row
            input_state += row if t in inputs else 0.0
    # Streamed shared operands need a double-buffered tile of R; resident ones their whole slice.
    tiles = sum(2 * s / r_len * min(tile, r_len) for _, s, _ in shared.values())
    slices = sum(s for _, s, _ in shared.values())

    # Candidate spill fractions f of the held fibers (vectorised): keeping less of each fiber on chip
    # lets bigger blocks share each streamed read of the shared operands; spilling costs f x the held
    # tensors' write and later-pass reads. The cheapest in DRAM bytes wins (ties: less spilled).
    spilled = tuple(dict.fromkeys(t for ts in rp.held.values() for t in ts))
    spill_unit = sum(_tensor_bytes(analysis, t) * (1 + _later_reads(cascade, rp, t)) for t in spilled)
    shared_bytes = np.array([b for b, _, _ in shared.values()])
    lacked = np.array([lk for _, _, lk in shared.values()])
    best: tuple[float, float, int, bool] | None = None
    searched = 0
    for resident in (True, False):
        fixed = slices if resident else tiles
        room = buffer_bytes - fixed - state
        if resident and room < 0:
            continue
        # Streaming past the buffer (below) costs the buffer-side plan only with the held rows sent
        # through DRAM whole, the alternative the artifact's FLAT search takes at long sequences.
        f = np.array([1.0]) if stream_tile else np.unique(np.concatenate([
            np.linspace(0.0, 1.0, 65),
            [min(1.0, max(0.0, 1 - max(room, 0.0) / held_per_fiber)) if held_per_fiber else 0.0]]))
        kept = state + (1 - f) * held_per_fiber
        n_block = np.where(kept > 0, np.clip(np.floor((buffer_bytes - fixed) / np.where(kept > 0, kept, 1)),
                                             1, fibers), fibers)
        fits = (f >= 1) | (room >= (1 - f) * held_per_fiber)
        reread = np.ones((len(f), len(lacked))) if resident else \
            np.ceil(lacked[None, :] / np.minimum(n_block[:, None], lacked[None, :]))
        traffic = np.where(fits, (reread * shared_bytes[None, :]).sum(axis=1) + f * spill_unit, np.inf)
        searched += len(f)
        i = int(np.argmin(traffic))
        if best is None or traffic[i] < best[0]:
            best = (float(traffic[i]), float(f[i]), int(n_block[i]), resident)
    assert best is not None  # streaming with everything spilled always fits
    _, spill_fraction, n_block, resident = best
    rereads = {t: 1 if resident else math.ceil(lk / min(n_block, lk)) for t, (_, _, lk) in shared.items()}
    dram = _attribute(cascade, analysis, members, rp, inputs, outputs, rereads, spilled, spill_fraction)
    streams = False
    if stream_tile:
        # The artifact's FLAT mapping: inputs stream past the buffer, re-read once per array tile of
        # what they lack; fibers run in blocks of as many as the buffer holds of their held rows (at
        # least one array tile, at most the fiber rank the shared operands lack: one head's rows), and
        # the part that does not fit is overbooked: every access to it goes to DRAM
        # (stable_softmax.py: prop_spilled = 1 - buffer / block bytes; cascade.py collect_mem_traffic).
        # Kept when it moves less than the buffer-side plan with the held rows through DRAM.
        searched += 1
        cap = int(lacked.max()) if len(lacked) else fibers
        block = min(cap, max(stream_tile, int(buffer_bytes // held_per_fiber) if held_per_fiber else cap))
        on_chip = state - input_state
        f_fit = (1 - (buffer_bytes - on_chip * block) / (held_per_fiber * block)) if held_per_fiber else 0.0
        f_fit = min(1.0, max(0.0, f_fit))
        s_rereads = {t: math.ceil(lk / min(stream_tile, lk)) for t, (_, _, lk) in shared.items()}
        s_rereads |= {t: math.ceil(r_len / min(stream_tile, r_len)) for t in inputs
                      if t not in shared and not set(cascade.tensors[t].ranks) & r_ranks}
        s_dram = _attribute(cascade, analysis, members, rp, inputs, outputs, s_rereads, spilled, f_fit,
                            overbooked=True)
        if sum(s_dram.values()) <= sum(dram.values()):
            streams, dram, rereads, spill_fraction = True, s_dram, s_rereads, f_fit
            n_block, resident, state = block, False, on_chip
    spill_bytes = spill_fraction * sum(_tensor_bytes(analysis, t)
                                       * _spill_accesses(cascade, rp, members, t, streams) for t in spilled)
    kept_bytes = state + (1 - spill_fraction) * held_per_fiber
    return FusedGroup(
        tuple(names), rank, rp.passes, fibers, n_block, state, held_per_fiber,
        tuple(shared) if resident else (), rereads, spill_fraction, spill_bytes, dram,
        tuple(t for t in names if t not in outputs),
        min(buffer_bytes, (0.0 if streams else slices if resident else tiles) + n_block * kept_bytes),
        searched, streams)


def _later_reads(cascade: Cascade, rp: RankPasses, tensor: str) -> int:
    """Consumers of ``tensor`` that run in a later pass than the one producing it (spill re-reads)."""
    made = rp.einsum_pass.get(tensor, 1)
    return sum(1 for c in cascade.consumers(tensor) if rp.einsum_pass.get(c.name, made) > made)


def _spill_accesses(cascade: Cascade, rp: RankPasses, members: list[Einsum], tensor: str,
                    overbooked: bool) -> int:
    """DRAM accesses per spilled byte: written once and read back by each later pass; or, in an
    overbooked buffer (the artifact's Timeloop runs), written once and read by every member reader."""
    if overbooked:
        names = {e.name for e in members}
        return 1 + sum(1 for c in cascade.consumers(tensor) if c.name in names)
    return 1 + _later_reads(cascade, rp, tensor)


def _attribute(cascade: Cascade, analysis: Analysis, members: list[Einsum], rp: RankPasses,
               inputs: list[str], outputs: list[str], rereads: dict[str, int], held: tuple[str, ...],
               spill_fraction: float, overbooked: bool = False) -> dict[str, float]:
    """DRAM bytes per member Einsum: inputs on their first reader, outputs and spills on the producer
    (:func:`_spill_accesses` per spilled byte)."""
    dram = dict.fromkeys((e.name for e in members), 0.0)
    first_reader: dict[str, str] = {}
    for e in members:
        for a in e.operands:
            first_reader.setdefault(a.tensor, e.name)
    for t in inputs:
        dram[first_reader[t]] += _tensor_bytes(analysis, t) * rereads.get(t, 1)
    for t in outputs:
        dram[t] += _tensor_bytes(analysis, t)
    for t in held:
        spilled = spill_fraction * _tensor_bytes(analysis, t) * _spill_accesses(cascade, rp, members, t,
                                                                                  overbooked)
        dram[t if t in dram else first_reader[t]] += spilled
    return dram
