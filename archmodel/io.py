"""Side effects in one place: atomic file writes, the cache root, and the ``archmodel`` logger.

* Writes go through a temporary file in the target's folder and ``os.replace``, so a reader sees the
  old file or the new one, never half; the file gets the mode a plain ``open()`` would give it
  (``0666`` less the umask), not the ``0600`` of a temporary file.
* Every cache (Verilator builds, generated RTL for them, Yosys runs, calibration RTL) lives under
  one root: ``$ARCHMODEL_CACHE_DIR``, else the platform's user cache folder (``platformdirs``:
  ``~/.cache/archmodel`` on Linux). ``archmodel cache info|clean`` reports and empties it.
* Library code logs to ``logging.getLogger("archmodel")`` (children per module); the package adds
  only a ``NullHandler``, so nothing reaches the terminal unless the application (or ``archmodel
  -v``) configures logging.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Environment variable naming the cache root.
CACHE_ENV = "ARCHMODEL_CACHE_DIR"

log = logging.getLogger("archmodel")


def _file_mode() -> int:
    """``0666`` less the process umask: what ``open(path, "w")`` would create."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` (folders created) so that readers never see half a file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for text (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def cache_root() -> Path:
    """``$ARCHMODEL_CACHE_DIR``, else the user cache folder of the platform (``platformdirs``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("archmodel", appauthor=False))


def cache_dir(kind: str) -> Path:
    """The folder of one kind of cache entry (``verilator``, ``synth``, ...) under :func:`cache_root`."""
    return cache_root() / kind


@dataclass(frozen=True)
class CacheKind:
    """One folder of the cache: how many entries (its direct children) and how many bytes."""

    kind: str
    entries: int
    bytes: int


def _size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    total = 0
    for root, _, files in os.walk(path):
        total += sum((Path(root) / f).lstat().st_size for f in files)
    return total


def cache_info(root: Path | None = None) -> list[CacheKind]:
    """Entries and size per kind of cache under ``root`` (default :func:`cache_root`)."""
    root = cache_root() if root is None else root
    if not root.is_dir():
        return []
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        children = list(d.iterdir())
        out.append(CacheKind(d.name, len(children), sum(_size(c) for c in children)))
    loose = [p for p in root.iterdir() if not p.is_dir()]
    if loose:
        out.append(CacheKind("(files)", len(loose), sum(_size(p) for p in loose)))
    return out


def cache_clean(kinds: list[str] | None = None, root: Path | None = None) -> list[CacheKind]:
    """Remove the cache's entries (of ``kinds`` only, if given); what was removed, per kind."""
    root = cache_root() if root is None else root
    removed = [k for k in cache_info(root) if kinds is None or k.kind in kinds]
    for k in removed:
        if k.kind == "(files)":
            for p in root.iterdir():
                if not p.is_dir():
                    p.unlink()
        else:
            shutil.rmtree(root / k.kind)
        log.info("cache: removed %d %s entries (%d bytes) from %s", k.entries, k.kind, k.bytes, root)
    return removed


__all__ = ["CACHE_ENV", "CacheKind", "atomic_write_bytes", "atomic_write_text", "cache_clean", "cache_dir",
           "cache_info", "cache_root", "log"]
