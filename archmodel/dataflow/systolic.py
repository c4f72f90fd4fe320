"""Cost of a batched GEMM on a systolic array, for a grid of designs x a grid of mappings at once.

Every input is a numpy array and broadcasts: design columns have shape ``(designs, 1)``, mapping
columns ``(1, mappings)``; every output is ``(designs, mappings)``. No Python loop runs per design or
per mapping.

**Placement.** The dataflow fixes which operand stays in the PEs (SCALE-Sim's operand view,
Samajdar et al., ISPASS 2020): WS keeps B (K on rows, N on columns, M streamed in time), IS keeps A
(K on rows, M on columns, N streamed), OS keeps Z (M on rows, N on columns, K streamed; either
operand may enter from the left, so OS also tries N on rows). Call the extents on rows, columns and
time ``Sr, Sc, T``; a bit-serial PE with ``lanes`` lanes reduces ``lanes`` K elements per step.

**Compute cycles.** The array runs ``folds = ceil(Sr/rows) * ceil(Sc/cols)`` folds per batch
element; partial folds cost a full fold (idle PEs are charged). One fold streams its T steps after
loading the stationary operand (WS, IS: ``rows`` cycles) and pays the pipeline fill and drain
``rows + cols - 2``; a step lasts ``cycles_per_mac`` cycles (bit-serial PEs), fill hops too
(as the generated RTL, :mod:`archmodel.dataflow.rtl_schedule`)::

    fold(T) = preload * rows + cycles_per_mac * (T + rows + cols - 2)

which for ``cycles_per_mac = 1`` is SCALE-Sim v3's per-fold count (2R + C + T - 2 for WS/IS,
R + C + T - 2 for OS; docs/scalesim.md). When the global-buffer tile splits T into
``nt`` pieces the stationary operand is reloaded and the pipeline refilled per piece, unless a tile
is exactly one fold and T is the innermost DRAM loop (the operand then stays put while T streams)::

    compute_cycles = batch * folds * (fills * (preload * rows + cpm * (rows + cols - 2)) + cpm * T)

**Double-buffered stationary operand** (design option ``double_buffer``, default on: the TPU
double-buffers its weights, Jouppi et al., ISCA 2017, and so does Gemmini): every PE holds a shadow
copy, so a fill's ``rows``-cycle preload overlaps the previous fill's streaming
(``cpm * (T_piece + rows + cols - 2)`` cycles, never shorter than ``rows`` when ``cols >= 2``); only
the part that does not fit and the GEMM's first preload stay exposed. The pipeline fill and drain
are still paid per fill (the generated RTL drains a fold before the next one starts)::

    exposed = max(0, preload * rows - cpm * (T_piece + rows + cols - 2))
    compute_cycles = batch * folds * (fills * (exposed + cpm * (rows + cols - 2)) + cpm * T)
                     + preload * rows

**Traffic.** Global-buffer tiles of ``(tr, tc, tt)`` (rows/cols tiles whole multiples of the array,
imperfect factors allowed) are visited by three DRAM loops. A tensor is re-fetched once per trip of
its irrelevant loop unless that loop is the innermost one (then it stays resident): so only the
innermost non-trivial loop changes the cost, and the mapspace enumerates exactly that choice.
Outputs re-visited that way move partial sums at accumulator width, read and written. Between the
buffer and the array, the stationary operand is read once per fill, an operand entering from the
left once per column fold, from the top (or an output leaving at the bottom) once per row fold.

**Grouped PEs.** MixPE and bit-serial PEs dequantise once per output and group of ``group_size``
along K (MixPE, Zhang et al. 2024; BitMoD, HPCA 2025), ``D = PESpec.dequant_cycles_per_group``
cycles each. With ``dequant: edge`` one dequantiser per column works beside the array
(``outputs * groups * D / cols`` cycles); under OS the group sums sit in the PEs, so K streams one
group per fill. With ``dequant: pe`` (OS only) every PE dequantises its own group sum while the
next group streams, as BitMoD's PE does: no refill per group, each PE busy ``groups * D`` cycles a
fold, and the last group's ``D`` cycles follow each fill's stream.

**Time.** Double-buffered tiles overlap transfer with compute, so the body runs at the slowest of
compute, DRAM traffic / DRAM bandwidth, buffer traffic / buffer bandwidth and the dequantisers;
the first tile's inputs and the last tile's output cannot overlap (Timeloop's model of
bandwidth-bound levels, Parashar et al., ISPASS 2019, plus the double-buffer prologue and
epilogue)::

    cycles = prologue + max(compute, dram_bytes / dram_bw - prologue - epilogue, glb_bytes / glb_bw,
                            outputs * groups * dequant_cycles_per_group / cols) + epilogue

**Energy.** MACs x MAC energy (PE tables, dequantisation split out and charged per output per group)
+ MACs x register accesses + buffer bytes x pJ/byte + DRAM bytes x pJ/byte + leakage x time.
"""

from __future__ import annotations

import numpy as np

from .gemm import Gemm

DATAFLOWS = ("ws", "os", "is")
M_DIM, N_DIM, K_DIM = 0, 1, 2
ROWS, COLS, TIME = 0, 1, 2
DIM_NAMES = ("M", "N", "K")
ROLE_NAMES = ("rows", "cols", "time")

#: ROLE_DIMS[dataflow, orientation] = the GEMM dimension on (array rows, array cols, time).
ROLE_DIMS = np.array([
    [[K_DIM, N_DIM, M_DIM], [K_DIM, N_DIM, M_DIM]],   # ws: B stays, A streams in from the left
    [[M_DIM, N_DIM, K_DIM], [N_DIM, M_DIM, K_DIM]],   # os: Z stays; A or B from the left
    [[K_DIM, M_DIM, N_DIM], [K_DIM, M_DIM, N_DIM]],   # is: A stays, B streams
])
#: ROLE_OF[dataflow, orientation, dim] = role (rows, cols, time) of a GEMM dimension.
ROLE_OF = np.argsort(ROLE_DIMS, axis=-1)
#: How many orientations each dataflow has (only OS may swap which operand enters from the left).
#: The kernel runs one (dataflow, orientation) block at a time, so the role of every dimension and
#: tensor is a Python constant inside it.
ORIENTATIONS = np.array([1, 2, 1])
#: Whether a fold starts by shifting the stationary operand in (``rows`` cycles): WS and IS.
PRELOAD = np.array([1.0, 0.0, 1.0])

#: The one GEMM dimension each tensor does not index.
IRRELEVANT = {"A": N_DIM, "B": M_DIM, "Z": K_DIM}
#: A trip count that makes a tile cover its whole dimension (pinned mappings).
WHOLE = 1e18


def _cdiv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.ceil(a / b)


def gemm_cost(g: Gemm, d: dict[str, np.ndarray], mp: dict[str, np.ndarray], dataflow: int, orient: int = 0,
              *, cycle_offset: float = 0.0, compute_override: np.ndarray | None = None
              ) -> dict[str, np.ndarray]:
    """Metrics of every (design, mapping) pair for GEMM ``g`` in one (dataflow, orientation) block.

    ``d``: design columns (:class:`~archmodel.design.batch.DesignBatch` fields and its
    ``pe_columns``), shape ``(designs, 1)``, all of dataflow ``dataflow`` (index into DATAFLOWS).
    ``mp``: requested trip counts ``n_rows``, ``n_cols``, ``n_time`` of the DRAM loops and ``inner``
    (the innermost loop's role), shape ``(1, mappings)``. ``cycle_offset`` is added to compute cycles
    (SCALE-Sim counts the index of the last cycle: -1); ``compute_override`` replaces compute cycles
    (the RTL's exact schedule). Invalid mappings (buffer or DRAM overflow, loop orders that duplicate
    another) get ``inf`` cycles and energy.
    """
    dims = ROLE_DIMS[dataflow, orient]
    role_of = ROLE_OF[dataflow, orient]
    inner = mp["inner"]
    R, C, lanes, cpm = d["rows"], d["cols"], d["lanes"], d["cycles_per_mac"]
    extent = {M_DIM: float(g.m), N_DIM: float(g.n), K_DIM: _cdiv(g.k, lanes)}
    s_r, s_c, s_t = (extent[int(dim)] for dim in dims)

    fr, fc = _cdiv(s_r, R), _cdiv(s_c, C)
    kr, kc = _cdiv(fr, mp["n_rows"]), _cdiv(fc, mp["n_cols"])               # folds per buffer tile
    nr, nc = _cdiv(fr, kr), _cdiv(fc, kc)
    tt = _cdiv(s_t, mp["n_time"])
    nt = _cdiv(s_t, tt)
    trips = (nr, nc, nt)

    fills = np.where((kr == 1) & (kc == 1) & (inner == TIME), 1.0, nt)
    # Grouped PEs (MixPE, bit-serial) hand each group's partial sum to the column's edge dequantiser
    # (PESpec.dequant_cycles_per_group, one per column as in the generated RTL): under OS the PEs
    # hold the sums, so K streams one group per fill.
    groups = np.ceil(g.k / d["group_size"]) * d["grouped"]
    in_pe = d["dequant_pe"] & d["grouped"]
    if dataflow == DATAFLOWS.index("os"):
        fills = np.where(in_pe, fills, np.maximum(fills, groups))
    folds = g.batch * fr * fc
    preload = PRELOAD[dataflow] * R
    # Double-buffered: a preload hides behind the previous fill's streaming (tt steps per T piece;
    # under OS, fills above nt split K into groups, no preload there); the first one shows.
    db = d["double_buffer"]
    hidden = np.minimum(preload, cpm * (np.minimum(tt, s_t) + R + C - 2))
    exposed = np.where(db, preload - hidden, preload)
    tail = np.where(in_pe, d["dequant_cycles"], 0.0)   # the last group's in-PE dequantisation
    compute = (folds * (fills * (exposed + cpm * (R + C - 2) + tail) + cpm * s_t)
               + np.where(db, preload, 0.0) + cycle_offset)
    if compute_override is not None:
        compute = np.broadcast_to(compute_override, compute.shape)

    # Tile extents in elements (a K extent counts lanes x steps), for capacity and the prologue.
    steps = (np.minimum(kr * R, s_r), np.minimum(kc * C, s_c), tt)
    t_el = tuple(np.minimum(x * lanes, g.k) if dims[r] == K_DIM else x for r, x in enumerate(steps))
    irr = {x: int(role_of[dim]) for x, dim in IRRELEVANT.items()}
    tile_all = t_el[0] * t_el[1] * t_el[2]
    tile = {x: tile_all / t_el[r] for x, r in irr.items()}

    a_bits, b_bits, acc_bits = d["a_bits"], d["b_bits"], d["acc_bits"]
    out_bits = float(g.out_bits)
    need_bytes = (tile["A"] * a_bits + tile["B"] * b_bits + tile["Z"] * acc_bits) / 4   # x2 buffers / 8

    # DRAM: a tensor is re-fetched per trip of its irrelevant loop unless that loop is innermost.
    refetch = {x: np.where(inner == r, 1.0, trips[r]) for x, r in irr.items()}
    dram_a = g.a_elems * a_bits / 8 * refetch["A"]
    dram_b = g.b_elems * b_bits / 8 * refetch["B"]
    dram_z = g.out_elems * (out_bits + 2 * (refetch["Z"] - 1) * acc_bits) / 8
    dram_bytes = dram_a + dram_b + dram_z

    # Buffer <-> array: stationary once per fill, left operand per column fold, top/bottom per row fold.
    reuse = {x: (fr, fc, fills)[r] for x, r in irr.items()}
    glb_a = g.batch * g.m * g.k * a_bits / 8 * reuse["A"]
    glb_b = g.batch * g.k * g.n * b_bits / 8 * reuse["B"]
    glb_z = g.out_elems * (out_bits + 2 * (reuse["Z"] - 1) * acc_bits) / 8
    glb_bytes = glb_a + glb_b + glb_z + dram_bytes

    dram_bw, glb_bw = d["dram_bw_bytes_per_cycle"], d["glb_bw_bytes_per_cycle"]
    prologue = (tile["A"] * a_bits + tile["B"] * b_bits) / (8 * dram_bw)
    epilogue = tile["Z"] * (out_bits / 8) / dram_bw
    # Dequantisers work beside the stream: they bound time only when they cannot keep up.
    dequant_cycles = np.where(in_pe, folds * groups * d["dequant_cycles"],
                              g.out_elems * groups * d["dequant_cycles"] / C)
    body = np.maximum(np.maximum(compute, dram_bytes / dram_bw - prologue - epilogue),
                      np.maximum(glb_bytes / glb_bw, dequant_cycles))
    cycles = np.ceil(prologue + body + epilogue)

    macs = float(g.macs)
    energy = {
        "mac": macs * d["mac_pj"], "dequant": g.out_elems * groups * d["dequant_pj"],
        "registers": macs * d["reg_pj_per_mac"], "global_buffer": glb_bytes * d["glb_pj_per_byte"],
        "dram": dram_bytes * d["dram_pj_per_byte"], "leakage": d["leakage_mw"] / d["clock_ghz"] * cycles,
    }
    total_energy = sum(energy.values())

    inner_trips = np.where(inner == ROWS, nr, np.where(inner == COLS, nc, nt))
    valid = ((need_bytes <= d["glb_bytes"])
             & ((inner_trips > 1) | ((nr == 1) & (nc == 1) & (nt == 1) & (inner == TIME)))
             & ((g.a_elems * a_bits + g.b_elems * b_bits + g.out_elems * out_bits) / 8
                <= d["dram_capacity_bytes"]))
    cycles = np.where(valid, cycles, np.inf)
    total_energy = np.where(valid, total_energy, np.inf)
    return {
        "cycles": cycles, "compute_cycles": compute, "energy_pj": total_energy,
        "edp": cycles * total_energy, "dram_bytes": dram_bytes, "glb_bytes": glb_bytes,
        "dram_bytes_a": dram_a, "dram_bytes_b": dram_b, "dram_bytes_z": dram_z,
        "glb_bytes_a": glb_a, "glb_bytes_b": glb_b, "glb_bytes_z": glb_z,
        "utilization": macs * cpm / (R * C * lanes * cycles),
        "folds": folds, "fills": folds * fills,
        "tile_rows": t_el[0], "tile_cols": t_el[1], "tile_time": t_el[2],
        "trips_rows": nr, "trips_cols": nc, "trips_time": nt, "buffer_bytes": need_bytes,
        "valid": valid, **{f"energy_{k}_pj": v for k, v in energy.items()},
    }
