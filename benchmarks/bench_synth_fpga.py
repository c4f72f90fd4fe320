"""Per FPGA target: LUT, FF, BRAM, DSP of MAC INT8, MixPE W4A8 and bit-serial INT8 WS arrays, the
smallest device that holds each, and the ECP5 Fmax (nextpnr out of context) on every ECP5 part that
holds it. The "before" figures for issue 15's buffer and pipelining work.

    python benchmarks/bench_synth_fpga.py [SIZE ...]      # default 4 (4x4); e.g. 4 8

iCE40 has no out-of-context place and route (every port takes a pin; a bare array has more ports
than any iCE40 package has pins), so its column shows the device check, not an Fmax. Xilinx has no
open place and route on PyPI: resources and the device check only.
"""

from __future__ import annotations

import sys
import time

from archmodel.errors import OptionError
from archmodel.io import cache_dir
from archmodel.pe.spec import PESpec
from archmodel.rtl import ArrayConfig, generate_rtl
from archmodel.synth import synthesize
from archmodel.synth.devices import DEVICES, choose, needs
from archmodel.synth.pnr import place_and_route
from archmodel.tables import table

PES = {"MAC INT8": PESpec(kind="mac", a_bits=8, w_bits=8),
       "MixPE W4A8": PESpec(kind="mixpe", a_bits=8, w_bits=4),
       "bit-serial INT8": PESpec(kind="bitserial", a_bits=8, w_bits=8)}


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        for label, pe in PES.items():
            cfg = ArrayConfig(pe=pe, rows=n, cols=n, dataflow="ws", name=f"fpga_{pe.kind}_{n}x{n}")
            rtl = generate_rtl(cfg, cache_dir("bench-rtl") / cfg.name)
            for target in ("ice40", "ecp5", "xilinx"):
                t0 = time.perf_counter()
                res = synthesize(rtl, target)
                r = res.resources
                try:
                    dev = choose(target, needs(target, r, res.cells)).part
                except OptionError as err:
                    dev = str(err).split(": ", 1)[1]
                fmax = []
                if target == "ecp5":
                    for d in DEVICES["ecp5"][1:]:  # 25F, 45F, 85F
                        try:
                            p = place_and_route(rtl, target_mhz=100, device=d.name)
                            fmax.append(f"{d.name}: {p.fmax_mhz} MHz")
                        except OptionError:
                            fmax.append(f"{d.name}: does not fit")
                rows.append([f"{n}x{n}", label, target, r["luts"], r["ffs"], r["brams"], r["dsps"], dev,
                             "; ".join(fmax) or "-", round(time.perf_counter() - t0, 1)])
                print(rows[-1], file=sys.stderr, flush=True)
    print(table(["array", "PE", "target", "LUT", "FF", "BRAM", "DSP", "smallest device", "Fmax (ECP5, OOC)",
                 "s"], rows))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [4])
