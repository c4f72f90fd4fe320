"""What one synthesis run reports (``archmodel synth --json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class SynthResult:
    """What one synthesis run reports; ``to_dict()`` is the ``--json`` output."""

    top: str
    target: str
    cells: dict[str, int]
    resources: dict[str, int]
    area_um2: float | None = None
    transistors: int | None = None
    tool: str = ""
    date: str = ""
    seconds: float = 0.0
    cached: bool = False
    workdir: str = ""
    #: ``flat`` (one Yosys run) or ``hierarchical`` (composed per module, ``archmodel.synth.hier``)
    flow: str = "flat"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["SynthResult"]
