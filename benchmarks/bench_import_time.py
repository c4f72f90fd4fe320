"""How long ``import archmodel`` (and the model behind ``archmodel.evaluate``) takes, from
``python -X importtime`` in fresh interpreters; the best of several runs, so a busy machine
inflates it less. Also names the heavy packages each import pulls in.

    python benchmarks/bench_import_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

STATEMENTS = {
    "import archmodel": "import archmodel",
    "from archmodel import evaluate": "from archmodel import evaluate",
    "import archmodel.exploration": "import archmodel.exploration",
    "archmodel --help (the CLI's parser)": "import archmodel.cli; archmodel.cli.build_parser()",
}
HEAVY = ("sympy", "matplotlib", "pandas", "networkx", "amaranth", "cocotb", "optuna", "dask")


def _top_level(code: str) -> dict[str, int]:
    """Module -> cumulative µs of the imports ``-X importtime`` reports at the outermost level."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                         check=True)
    tops = {}
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and parts[1].strip().isdigit() \
                and not parts[2].startswith("  "):
            tops[parts[2].strip()] = int(parts[1])
    return tops


def import_us(statement: str, baseline: set[str]) -> tuple[int, list[str]]:
    """Cumulative import time (µs) of what ``statement`` imports beyond a bare interpreter's start-up,
    and the heavy packages it loaded."""
    probe = f"{statement}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    tops = _top_level(probe)
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return (sum(us for m, us in tops.items() if m not in baseline),
            [m for m in heavy.stdout.strip().split(",") if m])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"{'statement':34} {'best of ' + str(args.runs):>12}  heavy packages loaded")
    baseline = set(_top_level("import sys"))
    for label, statement in STATEMENTS.items():
        runs = [import_us(statement, baseline) for _ in range(args.runs)]
        best = min(us for us, _ in runs)
        print(f"{label:34} {best / 1e6:10.3f} s  {', '.join(runs[0][1]) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
