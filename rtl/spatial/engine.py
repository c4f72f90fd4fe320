"""The fused attention engine: a rows x cols 2-D array, a 1-D array of vector lanes, on-chip buffers
and the controller running FuseMax's 1-pass cascade (Nayak et al., MICRO 2024, Fig. 4).

Binding, as the spatial model binds the cascade with ``array_ops: all``: the 2-D array computes QK
(each PE a MAC over E), LM (a max tree along each row), SLN = exp(QK - RM) (each PE's lane: sub, then
exp), SLD (an adder tree along each row) and SLNV (each PE multiplies SLN by V, the row's adder tree
sums over the key tile, one output column per cycle); the 1-D array's ``lanes`` compute RM, PRM,
RD, RNV and the final AV = RNV / RD. Buffers: the query tile, the key and value tile, and per query
row the running max, denominator and numerator (RM, RD, RNV).

The phase order and lengths are :mod:`archmodel.dataflow.spatial_rtl_schedule` (``engine_cycles``),
the values :func:`archmodel.rtl.spatial.model.attention_model`; the ports and beat order are in
``rtl/INTERFACE.md`` ("Fused attention engine").
"""

from __future__ import annotations

from contextlib import contextmanager

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ...dataflow.spatial_rtl_schedule import EngineShape
from ...pe.vector_spec import LANE_OPS, lane_cycles
from ..arith import tree_sum
from .config import DIM_BITS, EngineConfig
from .lane import OP_CODE, VectorLane

#: Ops the 2-D array's PE lanes are built with (SLN = exp(QK - RM)).
PE_LANE_OPS = ("sub", "exp")
#: Lane phases: name -> (array, op).
LANE_PHASES = {"MAX": ("1d", "max"), "SUB": ("2d", "sub"), "EXP": ("2d", "exp"), "PSUB": ("1d", "sub"),
               "PEXP": ("1d", "exp"), "MUL": ("1d", "mul"), "ADD": ("1d", "add"), "DIV": ("1d", "div")}


def command_layout(cfg: EngineConfig) -> data.StructLayout:
    return data.StructLayout({"p": unsigned(DIM_BITS), "m": unsigned(DIM_BITS),
                              "e": unsigned(cfg.e_max.bit_length())})


class AttentionEngine(wiring.Component):
    """The engine of ``cfg`` (see module docstring). Ports: ``cmd`` ({p, m, e}), ``q``, ``k``, ``v``
    (one row of ``e_max`` values per beat; the first ``e`` used), ``o`` (one output row per beat)."""

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        row = data.ArrayLayout(signed(cfg.fmt.bits), cfg.e_max)
        super().__init__({"cmd": In(stream.Signature(command_layout(cfg))),
                          "q": In(stream.Signature(row)), "k": In(stream.Signature(row)),
                          "v": In(stream.Signature(row)), "o": Out(stream.Signature(row))})

    @property
    def shape(self) -> EngineShape:
        return self.cfg.shape

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, fmt = self.cfg, self.cfg.fmt
        R, C, N, EM = cfg.rows, cfg.cols, cfg.lanes, cfg.e_max
        W, F = fmt.bits, fmt.frac
        G = self.shape.groups
        lo, hi = fmt.lo, fmt.hi
        acc_bits = 2 * W + EM.bit_length() + 1
        row_layout = data.ArrayLayout(signed(W), EM)

        def sat(v):
            return Mux(v > hi, hi, Mux(v < lo, lo, v))

        def round_sat(v):
            return sat((v + (1 << (F - 1))) >> F)

        # -- command and tile counters ---------------------------------------------------------------
        P = Signal(unsigned(DIM_BITS))
        M = Signal(unsigned(DIM_BITS))
        E = Signal(unsigned(EM.bit_length()))
        q0 = Signal(unsigned(DIM_BITS + 1))
        k0 = Signal(unsigned(DIM_BITS + 1))
        cnt = Signal(unsigned(max(DIM_BITS, EM.bit_length()) + 1))
        r_n = Signal(range(R + 1))
        c_n = Signal(range(C + 1))
        m.d.comb += [r_n.eq(Mux(P - q0 < R, P - q0, R)), c_n.eq(Mux(M - k0 < C, M - k0, C))]

        # -- buffers ---------------------------------------------------------------------------------
        Qb = [Signal(row_layout, name=f"q_{r}") for r in range(R)]
        Kb = [Signal(row_layout, name=f"k_{c}") for c in range(C)]
        Vb = [Signal(row_layout, name=f"v_{c}") for c in range(C)]
        acc = [[Signal(signed(acc_bits), name=f"acc_{r}_{c}") for c in range(C)] for r in range(R)]
        x = [[Signal(signed(W), name=f"x_{r}_{c}") for c in range(C)] for r in range(R)]
        RM, RMn, PRM, RD, SLD = ([Signal(signed(W), name=f"{n}_{r}") for r in range(R)]
                                 for n in ("rm", "rmn", "prm", "rd", "sld"))
        RNV = [Signal(row_layout, name=f"rnv_{r}") for r in range(R)]
        SLNV = [Signal(row_layout, name=f"slnv_{r}") for r in range(R)]

        colmask = [Signal(name=f"colmask_{c}") for c in range(C)]
        m.d.comb += [colmask[c].eq(c < c_n) for c in range(C)]
        score = [[Signal(signed(W), name=f"score_{r}_{c}") for c in range(C)] for r in range(R)]
        for r in range(R):
            m.d.comb += [score[r][c].eq(round_sat(acc[r][c])) for c in range(C)]
        LM = []
        for r in range(R):  # max tree along the row over the tile's keys
            level = [Mux(colmask[c], score[r][c], lo) for c in range(C)]
            while len(level) > 1:
                nxt = []
                for i in range(0, len(level) - 1, 2):
                    s = Signal(signed(W))
                    m.d.comb += s.eq(Mux(level[i] > level[i + 1], level[i], level[i + 1]))
                    nxt.append(s)
                level = nxt + ([level[-1]] if len(level) % 2 else [])
            lm = Signal(signed(W), name=f"lm_{r}")
            m.d.comb += lm.eq(level[0])
            LM.append(lm)

        # -- 2-D array PEs: one multiplier (QK MAC, SLNV product) and a sub/exp lane each ------------
        pe_lane = [[VectorLane(fmt, PE_LANE_OPS) for _ in range(C)] for _ in range(R)]
        for r in range(R):
            for c in range(C):
                m.submodules[f"pe_lane_{r}_{c}"] = pe_lane[r][c]
                m.d.comb += pe_lane[r][c].o.ready.eq(1)
        # -- 1-D array ---------------------------------------------------------------------------------
        lanes = [VectorLane(fmt, LANE_OPS) for _ in range(N)]
        for i, ln in enumerate(lanes):
            m.submodules[f"lane_{i}"] = ln
            m.d.comb += ln.o.ready.eq(1)

        # -- lane phase machinery: rounds issued every `cyc` cycles, captured `cyc` cycles later ------
        j = Signal(unsigned(DIM_BITS + 8))       # round being issued
        t = Signal(range(max(lane_cycles(o, fmt) for o in LANE_OPS) + 1))
        g = Signal(range(G + 1))                 # row group of the round being issued
        f = Signal(unsigned(EM.bit_length() + 1))  # column (or RD/RNV slot) of that round
        gi = Signal.like(g)                      # ... and of the round in flight
        fi = Signal.like(f)
        rounds = Signal.like(j)
        f_lim = Signal.like(f)
        issue = Signal()
        capture = Signal()
        phase_done = Signal()

        def reset_phase():
            m.d.sync += [j.eq(0), t.eq(0), g.eq(0), f.eq(0)]

        @contextmanager
        def last_beat(n):
            """``cnt`` counts a phase's beats: the body runs on beat ``n - 1``, which clears it; any
            other beat counts on."""
            with m.If(cnt == n - 1):
                m.d.sync += cnt.eq(0)
                yield
            with m.Else():
                m.d.sync += cnt.eq(cnt + 1)

        def lane_phase(name: str, nxt: str, rounds_v, f_lim_v) -> None:
            arr, op = LANE_PHASES[name]
            cyc = lane_cycles(op, fmt)
            m.d.comb += [rounds.eq(rounds_v), f_lim.eq(f_lim_v), issue.eq((t == 0) & (j < rounds)),
                         capture.eq((t == 0) & (j > 0)), phase_done.eq((t == 0) & (j == rounds))]
            with m.If(issue):
                m.d.sync += [gi.eq(g), fi.eq(f)]
                with m.If(f + 1 == f_lim):
                    m.d.sync += [f.eq(0), g.eq(g + 1)]
                with m.Else():
                    m.d.sync += f.eq(f + 1)
            with m.If(phase_done):
                reset_phase()
                m.next = nxt
            with m.Elif(t == cyc - 1):
                m.d.sync += [t.eq(0), j.eq(j + 1)]
            with m.Else():
                m.d.sync += t.eq(t + 1)
            if arr == "2d":
                return
            for i, ln in enumerate(lanes):
                m.d.comb += [ln.i.valid.eq(issue), ln.i.payload.op.eq(OP_CODE[op])]
                for gg in range(G):
                    row = gg * N + i
                    if row >= R:
                        continue
                    with m.If(g == gg):
                        m.d.comb += one_d_operands(name, ln, row)
                    with m.If(capture & (gi == gg)):
                        one_d_writeback(name, ln, row)

        def one_d_operands(name: str, ln: VectorLane, row: int) -> list:
            a, b = ln.i.payload.a, ln.i.payload.b
            if name == "MAX":
                return [a.eq(RM[row]), b.eq(LM[row])]
            if name == "PSUB":
                return [a.eq(RM[row]), b.eq(RMn[row])]
            if name == "PEXP":
                return [a.eq(PRM[row])]
            if name == "MUL":
                return [a.eq(PRM[row]), b.eq(Mux(f == 0, RD[row], RNV[row][(f - 1).as_unsigned()]))]
            if name == "ADD":
                prev = (f - 1).as_unsigned()
                return [a.eq(Mux(f == 0, RD[row], RNV[row][prev])),
                        b.eq(Mux(f == 0, SLD[row], SLNV[row][prev]))]
            return [a.eq(RNV[row][f]), b.eq(RD[row])]  # DIV

        def one_d_writeback(name: str, ln: VectorLane, row: int) -> None:
            res = ln.o.payload
            if name == "MAX":
                m.d.sync += RMn[row].eq(res)
            elif name in ("PSUB", "PEXP"):
                m.d.sync += PRM[row].eq(res)
            elif name in ("MUL", "ADD"):
                with m.If(fi == 0):
                    m.d.sync += RD[row].eq(res)
                with m.Else():
                    m.d.sync += RNV[row][(fi - 1).as_unsigned()].eq(res)
            else:
                m.d.sync += RNV[row][fi].eq(res)

        # -- controller -----------------------------------------------------------------------------
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.cmd.ready.eq(1)
                with m.If(self.cmd.valid):
                    m.d.sync += [P.eq(self.cmd.payload.p), M.eq(self.cmd.payload.m), E.eq(self.cmd.payload.e),
                                 q0.eq(0), cnt.eq(0)]
                    m.next = "LOAD_Q"
            with m.State("LOAD_Q"):
                m.d.comb += self.q.ready.eq(1)
                with m.If(self.q.valid):
                    with m.Switch(cnt):
                        for r in range(R):
                            with m.Case(r):
                                m.d.sync += Qb[r].eq(self.q.payload)
                    with last_beat(r_n):
                        m.d.sync += k0.eq(0)
                        m.d.sync += [RM[r].eq(lo) for r in range(R)]
                        m.d.sync += [RD[r].eq(0) for r in range(R)]
                        m.d.sync += [RNV[r].eq(0) for r in range(R)]
                        m.next = "LOAD_KV"
            with m.State("LOAD_KV"):
                both = self.k.valid & self.v.valid
                m.d.comb += [self.k.ready.eq(both), self.v.ready.eq(both)]
                with m.If(both):
                    with m.Switch(cnt):
                        for c in range(C):
                            with m.Case(c):
                                m.d.sync += [Kb[c].eq(self.k.payload), Vb[c].eq(self.v.payload)]
                    with last_beat(c_n):
                        m.next = "QK"
            with m.State("QK"):
                for r in range(R):
                    for c in range(C):
                        prod = Qb[r][cnt] * Kb[c][cnt]
                        m.d.sync += acc[r][c].eq(Mux(cnt == 0, 0, acc[r][c]) + prod)
                with last_beat(E):
                    reset_phase()
                    m.next = "MAX"
            with m.State("MAX"):
                lane_phase("MAX", "SUB", G, 1)
            for name, nxt, op in (("SUB", "EXP", "sub"), ("EXP", "PSUB", "exp")):
                with m.State(name):
                    lane_phase(name, nxt, 1, 1)
                    for r in range(R):
                        for c in range(C):
                            ln = pe_lane[r][c]
                            a = score[r][c] if name == "SUB" else x[r][c]
                            m.d.comb += [ln.i.valid.eq(issue), ln.i.payload.op.eq(OP_CODE[op]),
                                         ln.i.payload.a.eq(a), ln.i.payload.b.eq(RMn[r])]
                            with m.If(capture):
                                value = ln.o.payload if name == "SUB" else Mux(colmask[c], ln.o.payload, 0)
                                m.d.sync += x[r][c].eq(value)
            with m.State("PSUB"):
                lane_phase("PSUB", "PEXP", G, 1)
            with m.State("PEXP"):
                lane_phase("PEXP", "SLNV", G, 1)
            with m.State("SLNV"):
                for r in range(R):
                    total = tree_sum([x[r][c] * Vb[c][cnt] for c in range(C)])
                    m.d.sync += SLNV[r][cnt].eq(round_sat(total))
                    with m.If(cnt == 0):
                        m.d.sync += SLD[r].eq(sat(tree_sum([x[r][c] for c in range(C)])))
                with last_beat(E):
                    m.next = "MUL"
            with m.State("MUL"):
                lane_phase("MUL", "ADD", G * (E + 1), E + 1)
            with m.State("ADD"):
                lane_phase("ADD", "ADD", G * (E + 1), E + 1)
                with m.If(phase_done):
                    m.d.sync += [RM[r].eq(RMn[r]) for r in range(R)]
                    m.d.sync += k0.eq(k0 + C)
                    with m.If(k0 + C >= M):
                        m.next = "DIV"
                    with m.Else():
                        m.next = "LOAD_KV"
            with m.State("DIV"):
                lane_phase("DIV", "OUT", G * E, E)
            with m.State("OUT"):
                m.d.comb += self.o.valid.eq(1)
                with m.Switch(cnt):
                    for r in range(R):
                        with m.Case(r):
                            m.d.comb += self.o.payload.eq(RNV[r])
                with m.If(self.o.ready), last_beat(r_n):
                    m.d.sync += q0.eq(q0 + R)
                    with m.If(q0 + R >= P):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "LOAD_Q"
        return m
