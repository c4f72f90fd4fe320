"""Where chunks of design points are evaluated: in this process, a local process pool, or Dask.

Every executor runs ``fn(context, task)`` for a list of tasks and yields ``(index, result)`` as they
finish; the context (workload, space, objective) is shipped to each worker once, not per task. The
results do not depend on the executor: each task is a pure function of its inputs, and the caller
orders them by point, not by arrival.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from ..errors import OptionError

Task = Any
TaskFn = Callable[[Any, Task], Any]


class Executor(ABC):
    """Runs tasks of one function over one shared context; ``close`` releases workers."""

    workers: int = 1

    def __init__(self, fn: TaskFn, context: Any) -> None:
        self.fn = fn
        self.context = context

    @abstractmethod
    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None:
        return None

    @property
    def label(self) -> str:
        return f"{self.workers} worker" + ("s" if self.workers != 1 else "")

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Inline(Executor):
    """In this process: no start-up cost, for one worker and small batches."""

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, self.fn(self.context, task)

    @property
    def label(self) -> str:
        return "in-process"


_WORKER: tuple[TaskFn, Any] | None = None
#: prctl(2) option: the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
#: Seconds between a worker's checks that its parent lives, where prctl is not available.
PARENT_POLL_S = 1.0


def die_with_parent(parent: int) -> None:
    """Make this process end when ``parent`` does, even by SIGKILL (which runs no clean-up in the
    parent): on Linux the kernel sends SIGKILL (``prctl(PR_SET_PDEATHSIG)``), elsewhere a daemon
    thread polls the parent id. A parent already gone by now ends this process at once."""
    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):  # pragma: no cover - no libc symbol
            armed = False
    if os.getppid() != parent:  # died before the signal was armed
        os._exit(1)
    if not armed:  # pragma: no cover - macOS, BSD
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(PARENT_POLL_S)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="archmodel-parent-watch").start()


def _init_worker(fn: TaskFn, context: Any, parent: int) -> None:
    global _WORKER
    _WORKER = fn, context
    die_with_parent(parent)
    # Ctrl-C is the parent's to handle (it stops the pool); workers would only print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(task: Task) -> Any:
    assert _WORKER is not None
    fn, context = _WORKER
    return fn(context, task)


class LocalPool(Executor):
    """A pool of local processes (forked where the platform allows, so workers start instantly) that
    end with the parent, however it ends (:func:`die_with_parent`)."""

    def __init__(self, fn: TaskFn, context: Any, workers: int) -> None:
        super().__init__(fn, context)
        self.workers = workers
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                         initargs=(fn, context, os.getpid()))

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        # Keep at most two tasks per worker in flight so a killed run has little in the air.
        pending: dict[Future, int] = {}
        queue = iter(enumerate(tasks))
        for i, task in queue:
            pending[self._pool.submit(_run_in_worker, task)] = i
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                yield i, fut.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending[self._pool.submit(_run_in_worker, nxt[1])] = nxt[0]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def label(self) -> str:
        return f"{self.workers} local processes"


class Dask(Executor):
    """Dask distributed: an existing scheduler (``tcp://host:port``) or a ``LocalCluster``.

    Workers need archmodel installed (the same version); the context is broadcast once.
    """

    def __init__(self, fn: TaskFn, context: Any, *, scheduler: str | None = None,
                 local_workers: int | None = None) -> None:
        import logging

        from distributed import Client, LocalCluster

        super().__init__(fn, context)
        self._cluster = None
        try:
            if scheduler is not None:
                self._client = Client(scheduler, timeout="20s")
                self._where = scheduler
            else:
                self._cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
                self._where = "LocalCluster"
        except (OSError, ValueError, TypeError) as err:  # unreachable, or a malformed address
            if scheduler is None:
                raise OptionError(f"--dask-local {local_workers}: cannot start a Dask LocalCluster ({err})") \
                    from None
            raise OptionError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({err})") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        self._context = self._client.scatter(context, broadcast=True)

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = [self._client.submit(self.fn, self._context, t, pure=False) for t in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        for fut, result in as_completed(futures, with_results=True):
            yield index[fut.key], result

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    @property
    def label(self) -> str:
        return f"Dask ({self._where}, {self.workers} workers)"


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a ``--scheduler`` that is not an address (``tcp://HOST:PORT``) before anything runs;
    whether a scheduler answers there is learnt when connecting."""
    if scheduler is None:
        return
    try:
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise OptionError(f"--scheduler {scheduler}: Dask distributed is not installed") from None
    try:
        protocol, location = parse_address(scheduler)
        if protocol in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
            if not host:
                raise ValueError("no host")
            if not 0 < int(port) < 65536:
                raise ValueError(f"port {port} out of range")
    except (ValueError, TypeError) as err:
        raise OptionError(f"--scheduler {scheduler}: not a scheduler address, expected tcp://HOST:PORT "
                          f"({err})") from None


#: Local worker processes (``--workers``, ``--dask-local``) one run may start. Each is a Python
#: process with numpy and the workload (about 100 MB), so 256 is already some 25 GB; a fixed cap
#: (rather than a multiple of this machine's cores) keeps a command line valid on every machine,
#: and more processes than cores only adds memory, not speed.
MAX_WORKERS = 256


def check_workers(workers: int | None, dask_local: int | None, scheduler: str | None = None) -> None:
    """Refuse a worker count outside 1..:data:`MAX_WORKERS` before anything is written or forked."""
    if scheduler is not None and dask_local is not None:
        raise OptionError("--scheduler and --dask-local are alternatives: give one")
    for flag, n in (("--workers", workers), ("--dask-local", dask_local)):
        if n is not None and not 1 <= n <= MAX_WORKERS:
            shown = n if abs(n) < 10**30 else "of over 30 digits"
            raise OptionError(f"{flag} {shown}: expected 1 .. {MAX_WORKERS} worker processes")


def make_executor(fn: TaskFn, context: Any, *, workers: int | None = None, scheduler: str | None = None,
                  dask_local: int | None = None) -> Executor:
    """``--scheduler`` or ``--dask-local`` pick Dask; otherwise a local pool of ``--workers``."""
    check_workers(workers, dask_local, scheduler)
    if scheduler is not None or dask_local is not None:
        return Dask(fn, context, scheduler=scheduler, local_workers=dask_local)
    n = default_workers() if workers is None else workers
    return Inline(fn, context) if n == 1 else LocalPool(fn, context, n)


__all__ = ["MAX_WORKERS", "Dask", "Executor", "Inline", "LocalPool", "check_scheduler", "check_workers",
           "default_workers", "die_with_parent", "make_executor"]
