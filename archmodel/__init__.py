"""archmodel: Einsum-cascade workloads on parameterised accelerators, from model to RTL.

The public API is small and follows the pipeline (workload -> design -> mapping -> metrics ->
explore -> rtl -> verify -> synth). Everything not listed here is internal and may change. Names
are imported lazily so ``import archmodel`` (and the CLI's ``--help``) does not pull in Amaranth,
cocotb, sympy or matplotlib; ``dir(archmodel)`` lists them all the same.

The version is the installed distribution's (``pyproject.toml`` is its one definition). Library
code logs to the ``archmodel`` logger, which has only a ``NullHandler`` until the application adds
its own (``archmodel -v`` does).
"""

from __future__ import annotations

import importlib
import logging
from importlib import metadata
from typing import Any

from .errors import ArchModelError, OptionError, SpecError, ToolError

try:
    __version__ = metadata.version("archmodel")
except metadata.PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_API = {
    "import_workload": "archmodel.importers",
    "load_workload": "archmodel.workload",
    "parse_workload": "archmodel.workload",
    "analyze": "archmodel.analysis",
    "load_design": "archmodel.templates",
    "parse_design": "archmodel.templates",
    "evaluate": "archmodel.evaluation",
    "evaluate_batch": "archmodel.evaluation",
    "explore": "archmodel.exploration",
    "report": "archmodel.exploration.html",
    "generate_rtl": "archmodel.rtl",
    "verify": "archmodel.verif",
    "synthesize": "archmodel.synth",
}

__all__ = ["ArchModelError", "OptionError", "SpecError", "ToolError", "__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'archmodel' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API and the module's dunders: what tab completion should offer, not the helpers
    (``Any``, ``importlib``, ``logging``) this file imports for itself."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__") and n.endswith("__"))})
