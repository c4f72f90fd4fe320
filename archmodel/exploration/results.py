"""The run directory: results written as they come, safe to kill at any moment, and the Pareto front.

Layout of ``--out DIR``::

    run.json              what was asked (workload, overrides, options); written once, atomically
    space.yaml            the effective space (resume rebuilds it from here, not from the original file)
    .lock                 held (an OS file lock) by the one process writing the run; released on exit,
                          however the process ends
    parts/NNNNNN.parquet  evaluated points, finished chunks gathered a second at a time (typed columns;
                          ``NNNNNN.csv`` parts of older runs are read too)
    points.parquet        every evaluated point (all parts, in proposal order), written at the end,
    points.csv            and the same table as CSV
    pareto.csv, best.yaml, summary.md, *.png

Every file appears through :func:`~archmodel.io.atomic_write_text` or ``atomic_write_bytes``
(temporary file, fsync, ``os.replace``), so a SIGKILL leaves whole files or none: a chunk either made
it to ``parts/`` with all its points or is evaluated again on resume. Nothing already in ``parts/``
is evaluated twice. A part damaged afterwards (truncated, edited) is reported in one line and its
damaged rows (values no run writes, parameters that are not their point id's design) are evaluated
again; a damaged ``run.json``, or a ``space.yaml`` that is not the one it recorded, is one line.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError, shorten
from ..io import atomic_write_bytes, atomic_write_text
from ..yamlio import MAX_INT
from .space import MAX_BUDGET as MAX_TRIAL  # no strategy proposes more designs than the largest budget
from .space import MAX_SPACE_SIZE, Space
from .space import METRICS as METRIC_COLUMNS

MANIFEST = "run.json"
SPACE = "space.yaml"
PARTS = "parts"
LOCK = ".lock"
#: Columns before the parameters: proposal order, point id, template, feasibility.
LEAD = ("trial", "point_id", "template")
#: Columns every row must have (a row missing one was cut short and is evaluated again).
REQUIRED = ("trial", "point_id", "template", "mappings", "valid", "feasible")
#: Keys ``run.json`` must hold for a run to be continued.
MANIFEST_KEYS = ("archmodel_explore", "workload", "workload_sha256", "overrides", "ranks")
#: Rows sorted in memory at a time when the parts are merged into ``points.*`` in proposal order.
EXPORT_WINDOW = 1 << 20

#: A run.json is a few hundred bytes; a larger one is damage, not something to parse.
MAX_MANIFEST_BYTES = 2**20

log = logging.getLogger("archmodel")


def _extents(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_INT
        for k, v in value.items())


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 4096


def _sha(value: Any) -> bool:
    """A SHA-256 as ``file_digest`` writes it, or null."""
    return value is None or (isinstance(value, str) and len(value) == 64
                             and all(c in "0123456789abcdef" for c in value))


#: run.json's keys: (key, check, what it must be). Every key any reader uses is here.
_MANIFEST_TYPES: tuple[tuple[str, Any, str], ...] = (
    ("archmodel_explore", lambda v: isinstance(v, int) and not isinstance(v, bool) and v == 1, "1"),
    ("workload", lambda v: v is None or (_text(v) and "\0" not in v), "a path or null"),
    ("workload_sha256", _sha, "64 hex digits or null"),
    # Absent in runs from before it existed: their parts' parameters are checked row by row instead.
    ("space_sha256", _sha, "64 hex digits or null"),
    ("overrides", _extents, "a mapping of rank names to integers 1..2^53"),
    ("ranks", _extents, "a mapping of rank names to integers 1..2^53"),
    ("space_source", lambda v: v is None or _text(v), "a path or null"),
    ("started", _text, "a time stamp"),
)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


class RunDir:
    """A run directory (see the module docstring). :meth:`create` and :meth:`open` take its lock;
    :meth:`close` (or leaving a ``with`` block) releases it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._next_part = 0
        self._lock_fd: int | None = None
        #: One line per damaged part found (also logged): the CLI prints them, the run goes on.
        self.damage: list[str] = []

    # -- creation, resume, the lock ---------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, manifest: dict[str, Any], space_text: str) -> RunDir:
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise OptionError(f"--out {run.path}: not a directory (a file of that name exists)")
        try:
            run.path.mkdir(parents=True, exist_ok=True)
            run.lock("--out")
            if (run.path / MANIFEST).exists():
                raise OptionError(f"--out {run.path}: already holds a run; continue it with --resume "
                                  f"{run.path} or pick another directory")
            if any(p.name != LOCK for p in run.path.iterdir()):
                raise OptionError(f"--out {run.path}: directory is not empty")
            (run.path / PARTS).mkdir(exist_ok=True)
            atomic_write_text(run.path / SPACE, space_text)
            # Resume and report refuse a space.yaml edited afterwards (old rows would be misread).
            manifest = {**manifest, "space_sha256": file_digest(run.path / SPACE)}
            atomic_write_text(run.path / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        except OSError as err:  # a file on the way, no permission, disk full
            run.close()
            raise OptionError(f"--out {run.path}: cannot write the run directory "
                              f"({err.strerror or err})") from None
        except OptionError:
            run.close()
            raise
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        run = cls(path)
        if not (run.path / MANIFEST).is_file():
            raise OptionError(f"--resume {run.path}: no {MANIFEST} there, so no run to continue")
        try:
            run.lock("--resume")
            run.manifest  # noqa: B018 - refuse a damaged one now, in one line
            (run.path / PARTS).mkdir(exist_ok=True)
            for stale in (run.path / PARTS).glob(".*.tmp"):  # a write cut short by the kill
                stale.unlink()
        except OSError as err:
            run.close()
            raise OptionError(f"--resume {run.path}: cannot use the run directory ({err.strerror or err})") \
                from None
        except OptionError:
            run.close()
            raise
        return run

    def lock(self, flag: str) -> None:
        """Take the directory's OS lock (``flock``; the kernel drops it when the process ends, even by
        SIGKILL), or refuse in one line naming the process that holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock, one writer is trusted
            return
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise OptionError(f"{flag} {self.path}: another archmodel explore (pid {holder}) is using this "
                              "run directory; wait for it to finish, or use another directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def close(self) -> None:
        """Release the lock (closing the descriptor drops it)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def manifest(self) -> dict[str, Any]:
        """``run.json``, checked key by key: damage is an :class:`OptionError` in one line naming the
        file, never a traceback (``--resume`` and ``report`` both read it through here)."""
        where = self.path / MANIFEST

        def damaged(why: str) -> OptionError:
            return OptionError(f"{where}: damaged ({why}); the run cannot be continued")

        try:
            if not where.is_file():
                raise damaged("not a regular file")
            with where.open("rb") as fh:
                raw = fh.read(MAX_MANIFEST_BYTES + 1)
            if len(raw) > MAX_MANIFEST_BYTES:
                raise damaged(f"over {MAX_MANIFEST_BYTES // 2**10} KiB")
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise damaged("not UTF-8 text") from None
        except json.JSONDecodeError as err:
            raise OptionError(f"{where}: damaged at line {err.lineno} column {err.colno} ({err.msg}); the "
                              "run cannot be continued") from None
        except RecursionError:  # [[[[... 100,000 deep
            raise damaged("nested too deeply") from None
        except ValueError as err:  # an integer of over 4,300 digits
            raise damaged(shorten(str(err).splitlines()[0] if str(err) else type(err).__name__)) from None
        except OSError as err:
            raise damaged(f"cannot read it: {err.strerror or err}") from None
        missing = [k for k in MANIFEST_KEYS if not isinstance(data, dict) or k not in data]
        if missing:
            raise damaged(f"no {', '.join(missing)}")
        for key, ok, expected in _MANIFEST_TYPES:
            if key in data and not ok(data[key]):
                raise damaged(f"{key} is {_json_type(data[key])}, expected {expected}")
        if (data["workload"] is None) != (data["workload_sha256"] is None):
            raise damaged("workload and workload_sha256 must both be given or both be null")
        return data

    # -- parts ---------------------------------------------------------------------------------------
    def _parts(self) -> list[Path]:
        found = [p for p in (self.path / PARTS).glob("[0-9]*.*")
                 if p.suffix in (".parquet", ".csv") and p.stem.isdigit()]
        return sorted(found, key=lambda p: (int(p.stem), p.suffix))

    def _report(self, line: str) -> None:
        if line not in self.damage:
            self.damage.append(line)
            log.warning("%s", line)

    def _read(self, part: Path, columns: list[str] | None) -> pd.DataFrame | None:
        """One part without its damaged rows (reported in one line), or ``None`` if it is unreadable."""
        name = f"{PARTS}/{part.name}"
        try:
            if part.suffix == ".parquet":
                import pyarrow.parquet as pq

                if columns == ["trial"]:  # the export's bounds: one column, only its own range checked
                    df = pq.read_table(part, columns=columns).to_pandas()
                    trial = pd.to_numeric(df["trial"], errors="coerce").to_numpy(dtype=float)
                    return df[(trial >= 0) & (trial <= MAX_TRIAL)]
                df = pq.read_table(part).to_pandas()
            else:
                df = pd.read_csv(part)
        except Exception as err:
            why = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            self._report(f"{self.path / name}: damaged ({why}); its designs will be evaluated again")
            return None
        expected = list(REQUIRED) if columns is None else columns
        if "valid_mappings" in expected and "valid_mappings" not in df.columns and "mappings" in df.columns:
            df["valid_mappings"] = np.nan  # a part of a run from before the count existed: unknown
        lost = [c for c in expected if c not in df.columns]
        if lost:
            self._report(f"{self.path / name}: damaged (no column {lost[0]}); its designs will be evaluated "
                         "again")
            return None
        bad = np.array(df[list(REQUIRED)].isna().any(axis=1), dtype=bool) | self._hostile(df)
        if bad.any():
            lines = np.flatnonzero(bad) + 2  # header is line 1
            where = ", ".join(map(str, lines[:5])) + (", ..." if bad.sum() > 5 else "")
            self._report(f"{self.path / name}: {bad.sum()} damaged row{'s' if bad.sum() > 1 else ''} "
                         f"({'line' if part.suffix == '.csv' else 'row'} {where}); evaluated again")
            df = df[~bad].copy()
        # Typed as a run writes them (a hostile part may hold numbers as text, checked above).
        for c in ("trial", "point_id", "mappings"):
            df[c] = pd.to_numeric(df[c]).astype(np.int64)
        for c in ("valid", "feasible"):
            df[c] = df[c].map({True: True, False: False, "True": True, "False": False}).astype(bool)
        for c in (c for c in METRIC_COLUMNS if c in df.columns):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        if columns is not None:
            df = df[columns]
        return df

    def space(self) -> Space:
        """The run's own space from ``space.yaml``, refused in one line naming the file when it is not
        the text the run started with (``space_sha256`` in ``run.json``): the parts' point ids mean
        designs of that space only. Both ``--resume`` and ``report`` read it through here."""
        from .parse import load_space

        where = self.path / SPACE
        want = self.manifest.get("space_sha256")
        if want is not None and (not where.is_file() or file_digest(where) != want):
            raise OptionError(f"{where}: changed since the run started (its sha256 is not run.json's "
                              "space_sha256); the run cannot be continued or reported")
        return load_space(where)

    @property
    def _part_space(self) -> Space | None:
        """The space a part's rows are checked against (point ids in range, parameters equal to what
        the id decodes to); ``None`` when it cannot be read (then only ``point_id >= 0`` is checked)."""
        if not hasattr(self, "_space_cache"):
            from ..errors import ArchModelError
            from .parse import load_space

            try:
                self._space_cache: Space | None = load_space(self.path / SPACE)
            except (ArchModelError, OSError):
                self._space_cache = None
        return self._space_cache

    def _hostile(self, df: pd.DataFrame) -> np.ndarray:
        """Rows whose values no evaluation writes: a count or id that is not a non-negative integer
        (a point id outside the space, a trial past any budget), a valid design with a metric that
        is not finite and >= 0, or a negative metric on any row. Such a row is damage, like a
        truncated one: reported and evaluated again, never trusted and printed."""
        def num(c: str) -> np.ndarray:
            return pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)

        bad = np.zeros(len(df), dtype=bool)
        space = self._part_space
        size = space.size if space is not None else None
        for c, hi in (("trial", MAX_TRIAL), ("point_id", (size - 1) if size else MAX_SPACE_SIZE),
                      ("mappings", MAX_SPACE_SIZE)):
            x = num(c)
            with np.errstate(invalid="ignore"):
                bad |= ~(np.isfinite(x) & (x >= 0) & (x <= hi) & (x == np.floor(x)))
        valid = df["valid"].map({True: True, False: False, "True": True, "False": False}).fillna(False)
        valid = valid.to_numpy(dtype=bool)
        for c in (c for c in METRIC_COLUMNS if c in df.columns):
            x = num(c)
            with np.errstate(invalid="ignore"):
                bad |= valid & ~np.isfinite(x)
                bad |= x < 0
            bad |= np.isnan(x) & df[c].notna().to_numpy()  # text where a number belongs
        if space is not None and not bad.all():
            bad |= _wrong_parameters(df, space, bad)
        return bad

    def iter_parts(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Each part in turn (damaged rows left out), so a run of any size is read in bounded memory."""
        parts = self._parts()
        if parts:
            self._next_part = max(self._next_part, int(parts[-1].stem) + 1)
        for p in parts:
            df = self._read(p, columns)
            if df is not None and len(df):
                yield df

    def load(self, columns: list[str] | None = None) -> pd.DataFrame | None:
        """Every point evaluated so far (``None`` before the first part), in proposal order; a point
        in two parts (a damaged chunk evaluated again) is taken once."""
        frames = list(self.iter_parts(columns))
        if not frames:
            return None
        table = pd.concat(frames, ignore_index=True)
        table = table.sort_values("trial", kind="stable").drop_duplicates("point_id")
        return table.reset_index(drop=True)

    def write_part(self, table: pd.DataFrame) -> None:
        """A part as Parquet (typed, exact floats), sorted by trial."""
        data = to_parquet(table.sort_values("trial", kind="stable"))
        atomic_write_bytes(self.path / PARTS / f"{self._next_part:06d}.parquet", data)
        self._next_part += 1

    def export(self, columns: list[str]) -> list[Path]:
        """``points.parquet`` and ``points.csv``: every part merged in proposal order, at most
        :data:`EXPORT_WINDOW` rows sorted in memory at a time (a window of trials per pass over the
        parts), so 10^7 points export in bounded memory."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        bounds = [(int(df["trial"].min()), int(df["trial"].max()), len(df))
                  for df in self.iter_parts(["trial"])]
        lo = min((b[0] for b in bounds), default=0)
        hi = max((b[1] for b in bounds), default=-1)
        pq_tmp = self.path / ".points.parquet.tmp"
        csv_tmp = self.path / ".points.csv.tmp"
        writer: Any = None
        try:
            with open(csv_tmp, "w", encoding="utf-8", newline="") as csv_fh:
                start = lo
                header = True
                while start <= hi or header:
                    stop = start + EXPORT_WINDOW
                    frames = [df[(df["trial"] >= start) & (df["trial"] < stop)]
                              for df in self.iter_parts(columns)]
                    frames = [f for f in frames if len(f)]
                    win = (pd.concat(frames, ignore_index=True) if frames
                           else pd.DataFrame({c: [] for c in columns}))
                    # A point evaluated twice (a damaged chunk again) has one trial: one window.
                    win = win.sort_values("trial", kind="stable").drop_duplicates("point_id")
                    win = win.reset_index(drop=True)
                    csv_fh.write(to_csv(win, header=header))
                    table = pa.Table.from_pandas(win, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(pq_tmp, table.schema)
                    writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
                    header = False
                    start = stop
                csv_fh.flush()
                os.fsync(csv_fh.fileno())
            writer.close()
            writer = None
            os.replace(pq_tmp, self.path / "points.parquet")
            os.replace(csv_tmp, self.path / "points.csv")
        finally:
            if writer is not None:
                writer.close()
            pq_tmp.unlink(missing_ok=True)
            csv_tmp.unlink(missing_ok=True)
        return [self.path / "points.parquet", self.path / "points.csv"]

    def write(self, name: str, text: str) -> Path:
        atomic_write_text(self.path / name, text)
        return self.path / name


def _wrong_parameters(df: pd.DataFrame, space: Space, skip: np.ndarray) -> np.ndarray:
    """Rows whose template or swept parameters are not what their point id decodes to in ``space``
    (NaN, another value, a number as text, a column missing): damage, or a row of another space
    (a run from before ``space_sha256`` whose ``space.yaml`` was edited). ``skip``: rows already
    known bad (their ids may be outside the space)."""
    bad = np.zeros(len(df), dtype=bool)
    rows = np.flatnonzero(~skip)
    ids = pd.to_numeric(df["point_id"].iloc[rows]).to_numpy(dtype=np.int64)
    ti, local = space.locate(ids)
    for k, t in enumerate(space.templates):
        sel = ti == k
        if not sel.any():
            continue
        at = rows[sel]
        wrong = df["template"].iloc[at].to_numpy() != t.name
        given = t.columns(local[sel])
        for name in space.param_names:
            if name not in df.columns:
                wrong |= True
                continue
            got = df[name].iloc[at]
            want = given.get(name)
            if want is None:  # not this template's: the runner writes NaN
                wrong |= got.notna().to_numpy()
            elif want.dtype.kind in "iuf":
                if pd.api.types.is_numeric_dtype(got) and not pd.api.types.is_bool_dtype(got):
                    x = got.to_numpy(dtype=float)
                else:  # object column: only true numbers count, not "8" or True
                    number = got.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                                     and not isinstance(v, (bool, np.bool_)))
                    x = pd.to_numeric(got.where(number), errors="coerce").to_numpy(dtype=float)
                wrong |= ~(x == want.astype(float))
            elif want.dtype.kind == "b":  # a flag: stored as bool, or as 1.0 / 0.0 where the column
                # also holds other templates' NaN (Parquet then types it float)
                if pd.api.types.is_numeric_dtype(got):
                    x = got.to_numpy(dtype=float, na_value=np.nan)
                else:
                    x = got.map(lambda v: float(v) if isinstance(v, (bool, np.bool_, int, float, np.integer,
                                                                      np.floating)) else np.nan
                                ).to_numpy(dtype=float)
                wrong |= ~(x == want.astype(float))
            else:
                wrong |= got.astype(str).to_numpy() != want.astype(str)
        bad[at] = wrong
    return bad


def to_parquet(table: pd.DataFrame) -> bytes:
    """Parquet bytes of ``table``: float64 stays float64 (exact), integers int64, text as strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), buf, compression="zstd")
    return buf.getvalue()


def read_points(path: str | Path) -> pd.DataFrame:
    """A run's points table from ``points.parquet`` or ``points.csv`` (or the run directory: Parquet
    when present)."""
    p = Path(path)
    if p.is_dir():
        p = p / "points.parquet" if (p / "points.parquet").is_file() else p / "points.csv"
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(p).to_pandas()
    return pd.read_csv(p)


def to_csv(table: pd.DataFrame, header: bool = True) -> str:
    """CSV text with floats written in full (``repr`` precision), so a reader gets the exact values."""
    buf = io.StringIO()
    table.to_csv(buf, index=False, float_format="%.17g", header=header)
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


__all__ = ["LEAD", "LOCK", "MANIFEST", "RunDir", "file_digest", "pareto_mask", "read_points", "to_csv",
           "to_parquet"]
