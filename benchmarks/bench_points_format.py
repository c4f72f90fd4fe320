"""Parquet against CSV for a run's points: file size, and time to load the whole table in pandas.

Two tables: the default attention run's points (``archmodel explore configs/attention.yaml``, run here
into a temporary directory, or ``--run DIR``), and a large one made by repeating that run's rows
(``--points``, default 10^7) with fresh ``trial`` and ``point_id`` values and every float scaled by
a per-copy factor so the values are not all repeats (repeats would flatter Parquet's encodings). The
large files are written in blocks of 10^6 rows through the same writers explore uses (``to_csv``:
17 significant digits; Parquet through pyarrow, zstd), then loaded whole: ``pandas.read_parquet`` and
``pandas.read_csv``, best of ``--repeat``, each file checked to load the same values; Parquet is also
loaded into pyarrow-backed columns (``dtype_backend="pyarrow"``: no Python string per row).

Usage::

    python benchmarks/bench_points_format.py                   # default run + 10^7 points
    python benchmarks/bench_points_format.py --points 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 1_000_000


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def write_large(base: pd.DataFrame, n: int, csv: Path, parquet: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from archmodel.exploration.results import to_csv

    floats = [c for c in base.columns if base[c].dtype.kind == "f"]
    writer = None
    with open(csv, "w", encoding="utf-8") as fh:
        for start in range(0, n, BLOCK):
            rows = min(BLOCK, n - start)
            copies = -(-rows // len(base))
            block = pd.concat([base] * copies, ignore_index=True).iloc[:rows].copy()
            copy_no = np.arange(rows) // len(base) + start // len(base)
            block["trial"] = np.arange(start, start + rows, dtype=np.int64)
            block["point_id"] = np.arange(start, start + rows, dtype=np.int64)
            scale = 1.0 + (copy_no % 997) * 1e-4
            for c in floats:
                block[c] = block[c].to_numpy() * scale
            fh.write(to_csv(block, header=start == 0))
            table = pa.Table.from_pandas(block, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(parquet, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
    writer.close()


def measure(name: str, csv: Path, parquet: Path, repeat: int) -> None:
    t_arrow, _ = best_time(lambda: pd.read_parquet(parquet, dtype_backend="pyarrow"), repeat)
    t_pq, a = best_time(lambda: pd.read_parquet(parquet), repeat)
    t_csv, b = best_time(lambda: pd.read_csv(csv), repeat)
    assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)
    same = all(np.array_equal(a[c].to_numpy(dtype=float), b[c].to_numpy(dtype=float), equal_nan=True)
               for c in ("latency_s", "energy_pj", "area_mm2", "edp_pj_s"))
    mb = 1 << 20
    print(f"{name:<22} {len(a):>11,} rows   parquet {parquet.stat().st_size / mb:9.1f} MB  load "
          f"{t_pq:7.2f} s   csv {csv.stat().st_size / mb:9.1f} MB  load {t_csv:7.2f} s   "
          f"size ratio {csv.stat().st_size / parquet.stat().st_size:4.1f}x, load ratio {t_csv / t_pq:5.1f}x, "
          f"same values: {same}; parquet into pyarrow-backed pandas {t_arrow:.2f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=None, help="an explore run directory (default: run one)")
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-points-") as tmp:
        run = args.run
        if run is None:
            run = Path(tmp) / "run"
            subprocess.run([sys.executable, "-m", "archmodel.cli", "explore",
                            str(ROOT / "configs" / "attention.yaml"), "--out", str(run), "--no-progress"],
                           check=True, capture_output=True)
        print(f"cpu count {os.cpu_count()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
              f"best of {args.repeat} loads")
        measure("default attention run", run / "points.csv", run / "points.parquet", args.repeat)
        if args.points:
            base = pd.read_parquet(run / "points.parquet")
            csv, parquet = Path(tmp) / "big.csv", Path(tmp) / "big.parquet"
            t0 = time.perf_counter()
            write_large(base, args.points, csv, parquet)
            print(f"(wrote {args.points:,} points as both in {time.perf_counter() - t0:.0f} s)")
            measure(f"{args.points:,} points", csv, parquet, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
