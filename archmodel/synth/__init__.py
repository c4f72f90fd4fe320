"""Synthesis of generated RTL with Yosys from PyPI, cached by design hash.

``synthesize(source, target)`` accepts a Verilog file, an RTL directory written by ``archmodel rtl``
(its ``manifest.json`` names the top), or a design YAML (the RTL is generated first). One job per
module: ``flow`` (sources, cache, the run), ``result`` (:class:`SynthResult`), ``targets`` (scripts
and cell libraries per target), ``yosys`` (the tool and its progress), ``pnr`` (nextpnr for an
Fmax), ``calibrate`` (PE rows for the cost model from synthesis).
"""

from __future__ import annotations

from .flow import synthesize
from .result import SynthResult
from .targets import TARGETS
from .yosys import Progress

__all__ = ["TARGETS", "Progress", "SynthResult", "synthesize"]
