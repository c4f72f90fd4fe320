"""The run directory: results written as they come, safe to kill at any moment, and the Pareto front.

Layout of ``--out DIR``::

    run.json          what was asked (workload, overrides, options); written once, atomically
    space.yaml        the effective space (resume rebuilds it from here, not from the original file)
    parts/NNNNNN.csv  evaluated points, finished chunks gathered a second (or 256 designs) at a time
    points.csv        every evaluated point (all parts, in proposal order), written at the end
    pareto.csv, best.yaml, summary.md, *.png

Every file appears through :func:`~archmodel.io.atomic_write_text` (temporary file, fsync,
``os.replace``), so a SIGKILL leaves whole files or none: a chunk either made it to ``parts/`` with all
its points or is evaluated again on resume. Nothing already in ``parts/`` is evaluated twice.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..io import atomic_write_text

MANIFEST = "run.json"
PARTS = "parts"
#: Columns before the parameters: proposal order, point id, template, feasibility.
LEAD = ("trial", "point_id", "template")


class RunDir:
    """A run directory (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._next_part = 0

    # -- creation and resume -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, manifest: dict[str, Any], space_text: str) -> RunDir:
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise OptionError(f"--out {run.path}: not a directory (a file of that name exists)")
        if (run.path / MANIFEST).exists():
            raise OptionError(f"--out {run.path}: already holds a run; continue it with --resume {run.path} "
                              "or pick another directory")
        try:
            if run.path.exists() and any(run.path.iterdir()):
                raise OptionError(f"--out {run.path}: directory is not empty")
            (run.path / PARTS).mkdir(parents=True, exist_ok=True)
            atomic_write_text(run.path / "space.yaml", space_text)
            atomic_write_text(run.path / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        except OSError as err:  # a file on the way, no permission, disk full
            raise OptionError(f"--out {run.path}: cannot write the run directory "
                              f"({err.strerror or err})") from None
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        run = cls(path)
        if not (run.path / MANIFEST).is_file():
            raise OptionError(f"--resume {run.path}: no {MANIFEST} there, so no run to continue")
        (run.path / PARTS).mkdir(exist_ok=True)
        for stale in (run.path / PARTS).glob(".*.tmp"):  # a write cut short by the kill
            stale.unlink()
        return run

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))

    # -- parts ---------------------------------------------------------------------------------------
    def _parts(self) -> list[Path]:
        return sorted((self.path / PARTS).glob("[0-9]*.csv"))

    def load(self) -> pd.DataFrame | None:
        """Every point evaluated so far (``None`` before the first part), in proposal order."""
        parts = self._parts()
        if parts:
            self._next_part = int(parts[-1].stem) + 1
        frames = [pd.read_csv(p) for p in parts]
        if not frames:
            return None
        table = pd.concat(frames, ignore_index=True)
        return table.sort_values("trial", kind="stable").reset_index(drop=True)

    def write_part(self, table: pd.DataFrame) -> None:
        atomic_write_text(self.path / PARTS / f"{self._next_part:06d}.csv", to_csv(table))
        self._next_part += 1

    def write(self, name: str, text: str) -> Path:
        atomic_write_text(self.path / name, text)
        return self.path / name


def to_csv(table: pd.DataFrame) -> str:
    """CSV text with floats written in full (``repr`` precision), so a resumed run re-reads the exact
    values it told the optimiser the first time."""
    buf = io.StringIO()
    table.to_csv(buf, index=False, float_format="%.17g")
    return buf.getvalue()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes: a resumed run checks that its workload has not changed."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- Pareto front --------------------------------------------------------------------------------------

def pareto_mask(values: np.ndarray, block: int = 256) -> np.ndarray:
    """Rows of ``values`` (n, k), all minimised, that no other row weakly dominates.

    Of rows with equal values only the first is kept. Rows are visited in lexicographic order, so a
    row can only be dominated by one visited before it: each block is compared with the front so far
    and with itself, in numpy (the front stays small, so this is about n x block comparisons).
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    keep = np.zeros(n, dtype=bool)
    finite = np.isfinite(values).all(axis=1)
    idx = np.flatnonzero(finite)
    if idx.size == 0:
        return keep
    v = values[idx]
    order = np.lexsort(v.T[::-1])
    v, idx = v[order], idx[order]
    front = np.empty((0, v.shape[1]))
    for start in range(0, len(v), block):
        blk = v[start:start + block]
        dominated = (front[None, :, :] <= blk[:, None, :]).all(-1).any(1)
        within = (blk[None, :, :] <= blk[:, None, :]).all(-1)  # [j, i]: i weakly dominates j
        dominated |= np.tril(within, -1).any(1)
        keep[idx[start:start + block][~dominated]] = True
        front = np.concatenate([front, blk[~dominated]])
    return keep


__all__ = ["LEAD", "MANIFEST", "RunDir", "file_digest", "pareto_mask", "to_csv"]
