"""cocotb-on-Verilator verification of the generated RTL against the model.

:func:`verify` closes the loop of the pipeline: it generates a design's RTL, compiles it with
Verilator (cached per configuration, :mod:`archmodel.verif.runner`), runs GEMMs through the cocotb
testbench (:mod:`archmodel.verif.tb_gemm`) and reports, per GEMM, whether every output value is
bit-exact against the independent numpy reference and whether the simulated cycles equal
:func:`archmodel.dataflow.rtl_schedule.rtl_cycles`.

One job per module: ``build`` (generate + compile, cached), ``check`` (:func:`verify`, the GEMMs, one
simulation), ``result`` (what it reports), ``runner`` (cocotb/Verilator driver), ``stream`` and
``scoreboard`` (testbench parts), ``reference`` and ``gemm`` (the numpy reference and beat model),
``tb_*`` (the cocotb testbenches).
"""

from __future__ import annotations

from .build import Top, build_top
from .check import DEFAULT_MAX_DIM, default_gemms, simulate, verify, workload_gemms
from .result import GemmCheck, VerifyResult

__all__ = ["DEFAULT_MAX_DIM", "GemmCheck", "Top", "VerifyResult", "build_top", "default_gemms", "simulate",
           "verify", "workload_gemms"]
