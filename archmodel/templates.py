"""The template registry: one :class:`Template` record per accelerator template, imported explicitly.

A template is a design loader (``archmodel/design/<t>.py``), evaluators (``archmodel/dataflow/``), a
default starting design and sweep for exploration (package data, ``archmodel/presets/<t>.yaml``) and,
where one exists, an RTL generator (``rtl/``) with the rule saying which designs it builds. This
module names all of them, so the rest of the pipeline asks the registry instead of importing a
template; adding a template is its own modules plus one entry in :data:`TEMPLATES`.

The rule (``buildable``) lives in the model so exploration can ask it without importing the
generator, and the generator enforces the same rule, so a design explore calls buildable is always
accepted by ``archmodel rtl``. The generator itself is named by its import path (``module:function``)
and imported only when RTL is asked for: ``rtl/`` sits above the model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .dataflow.hetero import evaluate_hetero
from .dataflow.pim import evaluate_pim, evaluate_pim_batch
from .dataflow.pim_rtl_schedule import pim_buildable
from .dataflow.pim_rtl_schedule import tile_cycles as pim_tile_cycles
from .dataflow.results import Evaluation
from .dataflow.rtl_schedule import rtl_cycles
from .dataflow.spatial import evaluate_spatial, spatial_batch
from .dataflow.spatial_rtl_schedule import engine_cycles as spatial_engine_cycles
from .dataflow.spatial_rtl_schedule import spatial_buildable
from .dataflow.systolic_eval import evaluate_systolic, evaluate_systolic_batch
from .dataflow.systolic_rtl import buildable as systolic_buildable
from .design.pim import npu_pim_from_yaml, pim_from_yaml
from .design.spatial import spatial_from_yaml
from .design.systolic import systolic_from_yaml
from .errors import OptionError, SpecError
from .workload import Cascade
from .yamlio import Document, load_yaml, parse_yaml

#: ``evaluate(cascade, design, objective, convention) -> Evaluation``.
Evaluator = Callable[..., Evaluation]
#: ``evaluate_batch(cascade, designs, objective, convention) -> {column: array}``, one element per design.
BatchEvaluator = Callable[[Cascade, Sequence[Any], str, str], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Template:
    """Everything the pipeline knows about one template.

    Attributes:
        name: the ``template:`` key of its design files.
        description: one line for ``archmodel templates``.
        load: the design parser (a :class:`~archmodel.yamlio.Document` in, a frozen design out).
        evaluate: costs one design, with mapping details (``archmodel eval``).
        evaluate_batch: costs many designs at once as numpy columns (exploration); ``None``: exploration
            calls ``evaluate`` per design.
        defaults: package-data file (``archmodel/presets``) holding the default space's starting design
            and sweep for this template; ``None``: the template is not in the default space.
        buildable: ``buildable(design) -> reason | None``: why the RTL generator would refuse the
            design, ``None`` when it builds it. The generator enforces this same rule.
        generator: the RTL generator, ``module:function`` (``function(design, out_dir) -> Path``);
            ``None``: no RTL.
        rtl_timing: the closed form of the generated RTL's cycles that the ``rtl`` convention of
            ``evaluate`` uses (``archmodel verify`` checks the simulation against it); ``None``: none.
        rtl_scope: one line for ``archmodel templates``: what the generator builds.
    """

    name: str
    description: str
    load: Callable[[Document], Any]
    evaluate: Evaluator
    evaluate_batch: BatchEvaluator | None = None
    defaults: str | None = None
    buildable: Callable[[Any], str | None] | None = None
    generator: str | None = None
    rtl_timing: Callable[..., Any] | None = None
    rtl_scope: str = ""

    def rtl_problem(self, design: Any) -> str | None:
        """Why ``archmodel rtl`` refuses ``design`` (``None`` when it builds it)."""
        if self.buildable is None or self.generator is None:
            return f"template '{self.name}' has no RTL generator"
        return self.buildable(design)

    def generate_rtl(self, design: Any, out_dir: str | Path | None = None) -> Path:
        """Write the design's RTL through the template's generator; the output folder."""
        if self.generator is None:
            builds = [t.name for t in TEMPLATES.values() if t.generator is not None]
            raise SpecError(f"template '{self.name}' has no RTL generator", where="template",
                            expected=" or ".join(builds), found=repr(self.name))
        module, func = self.generator.split(":")
        return getattr(importlib.import_module(module), func)(design, out_dir)


#: Every template, in the order of the default space and of ``archmodel templates``.
TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template("systolic", "rows x cols array of one PE type, a vector unit, DRAM / global buffer / registers",
             systolic_from_yaml, evaluate_systolic, evaluate_systolic_batch, "systolic.yaml",
             systolic_buildable, "archmodel.rtl:generate_rtl", rtl_cycles,
             "ws/os arrays up to 128x128 of MAC, MixPE or bit-serial PEs with integer weights"),
    Template("pim", "DRAM processing-in-memory: MAC units beside the banks, a host vector unit",
             pim_from_yaml, evaluate_pim, evaluate_pim_batch, defaults="pim.yaml",
             buildable=pim_buildable, generator="archmodel.rtl.pim.emit:generate_rtl",
             rtl_timing=pim_tile_cycles,
             rtl_scope="one near-bank unit (integer MAC, MixPE or bit-serial lanes) and its ACT/MAC/PRE "
                       "sequencer for a slice of banks"),
    Template("npu-pim", "a systolic NPU beside a PIM memory, Einsums placed on either side",
             npu_pim_from_yaml, evaluate_hetero, defaults="npu-pim.yaml"),
    Template("spatial", "FuseMax-style 2-D and 1-D arrays with fused attention stages",
             spatial_from_yaml, evaluate_spatial, spatial_batch, defaults="spatial.yaml",
             buildable=spatial_buildable, generator="archmodel.rtl.spatial.emit:generate_rtl",
             rtl_timing=spatial_engine_cycles),
)}


def template(name: str) -> Template:
    """The registered template ``name``; an :class:`~archmodel.errors.OptionError` naming the others."""
    if name not in TEMPLATES:
        raise OptionError(f"template {name!r}: expected one of {', '.join(TEMPLATES)}")
    return TEMPLATES[name]


def build_design(doc: Document) -> Any:
    """Validate a parsed design document with its template's loader and build the design."""
    data = doc.mapping((), doc.data)
    if "template" not in data and "einsums" in data:  # arguments given the other way round
        raise doc.error((), "this is a workload file, not a design",
                        expected="the workload first, then the design: "
                                 "archmodel eval WORKLOAD.yaml DESIGN.yaml")
    if "template" not in data:
        raise doc.error((), "missing key 'template'", expected="one of " + ", ".join(TEMPLATES))
    name = doc.string(("template",), data["template"], choices=TEMPLATES)
    return TEMPLATES[name].load(doc)


def load_design(path: str | Path) -> Any:
    """Load and validate a design file (``configs/archs/tpu-like.yaml``)."""
    return build_design(load_yaml(path))


def parse_design(text: str, path: str = "<string>") -> Any:
    """Like :func:`load_design` for YAML text already in memory (notebooks, tests)."""
    return build_design(parse_yaml(text, path))


__all__ = ["TEMPLATES", "Template", "build_design", "load_design", "parse_design", "template"]
