"""A killed synthesis leaves no work directory in the cache: SIGTERM unwinds and removes it, and a
run killed outright (SIGKILL) is swept by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from archmodel.pe.spec import PESpec
from archmodel.synth.calibrate import emit_pe
from archmodel.synth.flow import sweep_stale

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_during_yosys_leaves_nothing(cache_dir: Path) -> None:
    pe = emit_pe(PESpec(kind="mac", a_bits=8, w_bits=8), cache_dir / "rtl")
    code = (f"from pathlib import Path; from archmodel.synth import synthesize; "
            f"synthesize({str(pe)!r}, 'xilinx', cache_dir=Path({str(cache_dir)!r}), dsp=False)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.monotonic() + 120
    while not any(p.name.count(".tmp") for p in cache_dir.iterdir()):  # Yosys has started
        assert proc.poll() is None and time.monotonic() < deadline, "synthesis ended before the kill"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) != 0
    left = [p.name for p in cache_dir.iterdir() if p.name != "rtl"]
    assert left == [], left


def test_directory_of_a_dead_run_is_swept(cache_dir: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = cache_dir / f"pe-generic-0123.tmp{int(dead.stdout)}"
    live = cache_dir / f"pe-generic-4567.tmp{os.getppid()}"  # a live process's run is left alone
    published = cache_dir / "pe-generic-89ab"
    for d in (stale, live, published):
        d.mkdir(parents=True)
    sweep_stale(cache_dir)
    assert not stale.exists() and live.exists() and published.exists()
