"""Exploration at scale: designs per second and the parent's peak memory at 10^3, 10^4 and 10^5
designs, and what that projects to 10^7.

Each size is one ``archmodel explore`` (random sampling of a large systolic space on a small GEMM,
``--workers`` local processes, results to a run directory) in a fresh process, which reports its own
peak RSS (the parent: what holds the run's bookkeeping; each worker holds one chunk) and the
exploration loop's time. Valid and invalid designs and design×mapping candidates are counted apart.
The projection to 10^7 designs scales the largest run's rate; flat memory means the peak RSS does not
grow with the number of designs.

Usage::

    python benchmarks/bench_explore_scale.py                       # 1e3 1e4 1e5, 2 workers
    python benchmarks/bench_explore_scale.py --sizes 1000 10000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: 4.4 million systolic designs: array shapes, dataflows, PEs, buffers, lanes, DRAM bandwidths.
SPACE = """\
space: scale
strategy: random
templates:
  systolic:
    rows: {min: 4, max: 256, step: 4}
    cols: {min: 4, max: 256, step: 4}
    dataflow: [ws, os, is]
    pe:
      choices:
        int8: {kind: mac, a_bits: 8, w_bits: 8, acc_bits: 32}
        fp16: {kind: mac, a_bits: 16, w_bits: 16, a_format: fp16, w_format: fp16}
        mixpe-w4a8: {kind: mixpe, a_bits: 8, w_bits: 4, group_size: 128}
    memory.global_buffer.size_kib: [16, 32, 64, 128, 256, 512, 1024, 2048]
    vector.lanes: [8, 16, 32, 64]
    memory.dram.bandwidth_gb_per_s: [16, 32, 64, 128, 256, 512, 1024]
"""
WORKLOAD = """\
workload: scale-gemm
ranks: {M: 64, N: 64, K: 64}
tensors:
  A: [M, K]
  B: [K, N]
einsums:
  - Z[m,n] = A[m,k] * B[k,n]
"""
CHILD = """\
import json, resource, sys
from archmodel.exploration import explore
r = explore(sys.argv[1], sys.argv[2], budget=int(sys.argv[3]), out=sys.argv[4], workers=int(sys.argv[5]),
            progress=False, save=False)
st = r.stats
print(json.dumps({"designs": st.evaluated, "valid": st.valid, "points": st.mapping_points,
                  "valid_points": st.valid_mapping_points, "elapsed_s": st.elapsed_s,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        (Path(tmp) / "space.yaml").write_text(SPACE)
        (Path(tmp) / "gemm.yaml").write_text(WORKLOAD)
        for n in args.sizes:
            out = Path(tmp) / f"run-{n}"
            res = subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "gemm.yaml"),
                                  str(Path(tmp) / "space.yaml"), str(n), str(out), str(args.workers)],
                                 capture_output=True, text=True)
            if res.returncode:
                raise SystemExit(res.stderr[-2000:])
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"random sampling of a 4.4M-design systolic space, 64^3 GEMM, {args.workers} workers, cpu count "
          f"{os.cpu_count()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'designs':>9} {'invalid':>8} {'valid pts':>11} {'invalid pts':>12} {'eval s':>8} "
          f"{'designs/s':>10} {'valid pts/s':>12} {'parent peak RSS':>16}")
    for r in rows:
        print(f"{r['designs']:>9,} {r['designs'] - r['valid']:>8,} {r['valid_points']:>11,.0f} "
              f"{r['points'] - r['valid_points']:>12,.0f} {r['elapsed_s']:>8.2f} "
              f"{r['designs'] / r['elapsed_s']:>10,.0f} {r['valid_points'] / r['elapsed_s']:>12,.0f} "
              f"{r['peak_rss_mb']:>13,.0f} MB")
    last = rows[-1]
    rate = last["designs"] / last["elapsed_s"]
    per_design = last["valid_points"] / max(last["designs"], 1)
    print(f"projection: 10^7 designs at {rate:,.0f} designs/s = {1e7 / rate:,.0f} s of evaluation "
          f"({1e7 * per_design:.3g} valid design×mapping points); 10^7 valid points = "
          f"{1e7 / (last['valid_points'] / last['elapsed_s']):.1f} s")
    growth = rows[-1]["peak_rss_mb"] - rows[0]["peak_rss_mb"]
    print(f"parent peak RSS grows {growth:+.0f} MB from {rows[0]['designs']:,} to {rows[-1]['designs']:,} "
          "designs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
