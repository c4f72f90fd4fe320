"""archmodel: Einsum-cascade workloads on parameterised accelerators, from model to RTL.

The public API is small and follows the pipeline (workload -> design -> mapping -> metrics ->
explore -> rtl -> verify -> synth). Everything not listed here is internal and may change. Names
are imported lazily so ``import archmodel`` (and the CLI's ``--help``) does not pull in Amaranth,
cocotb or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ArchModelError, OptionError, SpecError, ToolError

__version__ = "0.1.0"

_API = {
    "load_workload": "archmodel.workload",
    "parse_workload": "archmodel.workload",
    "analyze": "archmodel.analysis",
    "load_design": "archmodel.templates",
    "evaluate": "archmodel.evaluation",
    "explore": "archmodel.exploration",
    "generate_rtl": "archmodel.rtl",
    "verify": "archmodel.verif",
    "synthesize": "archmodel.synth",
}

__all__ = ["ArchModelError", "OptionError", "SpecError", "ToolError", "__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'archmodel' has no attribute {name!r}")
