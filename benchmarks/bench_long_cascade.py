"""Print how long a long cascade takes to load and analyse (target: 10,000 Einsums in < 2 s).

Loading and analysis must be linear in the number of Einsums: a lookup of each tensor's producer or
readers by scanning the whole list made a 10,000-Einsum chain take minutes. The workload is a chain
(each Einsum reads the previous one's output, every fourth also reads the first input), written to a
temporary file and loaded from disk as a user's would be. A script that prints figures, not a test.

Usage::

    python benchmarks/bench_long_cascade.py              # 1,000 / 10,000 / 20,000 Einsums
    python benchmarks/bench_long_cascade.py --einsums 5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from archmodel.analysis import analyze
from archmodel.workload import load_workload

TARGET_S = 2.0


def chain(n: int) -> str:
    """A workload of ``n`` Einsums, each one step of a chain over one rank."""
    lines = ["workload: chain", "ranks: {M: 1024, N: 64}", "tensors:", "  X0: [M, N]", "einsums:"]
    for i in range(1, n + 1):
        extra = " + X0[m,n]" if i % 4 == 0 else ""
        lines.append(f"  - X{i}[m,n] = exp(X{i - 1}[m,n]){extra}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--einsums", type=int, nargs="*", default=[1_000, 10_000, 20_000])
    args = parser.parse_args()
    print(f"{'einsums':>8}  {'load s':>7}  {'analyse s':>9}  {'total s':>7}  {'cpu s':>6}  "
          f"target {TARGET_S:g} s at 10,000 (cpu s: this process's CPU time, less sensitive to load)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.einsums:
            path = Path(tmp) / f"chain-{n}.yaml"
            path.write_text(chain(n), encoding="utf-8")
            start, cpu = time.perf_counter(), time.process_time()
            cascade = load_workload(path)
            loaded = time.perf_counter()
            analyze(cascade)
            done = time.perf_counter()
            print(f"{n:>8,}  {loaded - start:7.2f}  {done - loaded:9.2f}  {done - start:7.2f}  "
                  f"{time.process_time() - cpu:6.2f}")


if __name__ == "__main__":
    main()
