"""The ``spatial`` template: a 2-D MAC array, a 1-D array and a global buffer, with fused stages.

FuseMax (Nayak et al., MICRO 2024) and the FLAT baseline it is compared with share this shape: a
rows x cols PE array for the contractions (and, in FuseMax, for the exp/max/sum over each tile), a
1-D array of ``vector.lanes`` PEs for the rest, one global buffer, DRAM. The body of a spatial file
is a :mod:`systolic <archmodel.design.systolic>` design body (array, PE, vector unit as the 1-D array,
memory); on top of it:

* ``fusion``: ``true`` runs the cascade as fused groups whose intermediates stay on chip when the
  buffer allows (:mod:`archmodel.dataflow.fusion`); ``false`` sends every intermediate through DRAM.
* ``array_ops``: ``mac`` (FLAT: the 2-D array only multiplies and accumulates) or ``all`` (FuseMax:
  its PEs also run max, exp, add, so the Einsums that traverse a tile can stay on it).
* ``vector_pipelined``: the 1-D array retires one Einsum element per lane per cycle whatever its map
  operators (a pipelined special-function unit, as the FuseMax artifact models FLAT's softmax unit);
  otherwise an element costs its ops' lane cycles (exp = 6 MACs + 1 add).
* ``fuse_contractions``: ``false`` keeps the contractions out of the fused group, so only the
  Einsums between them fuse (the FuseMax artifact's unfused baseline: QK and AV alone, the softmax
  fused on FLAT's softmax unit).
* ``stream_operands``: the fused group's DRAM inputs bypass the buffer and stream into the array,
  re-read once per array tile of the ranks they lack, held rows that do not fit overbooked, unless
  sending them through DRAM whole moves less (the artifact's FLAT mapping and search); otherwise
  shared operands are kept resident or re-read once per block of fibers, whichever moves less.
* ``binding``: Einsum name -> ``2d`` or ``1d``, to pin what the model would otherwise choose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..fields import Field, Section, boolean, choice, read_section
from ..yamlio import Document
from .systolic import SYSTOLIC, SystolicDesign, build_systolic

ARRAY_OPS = ("mac", "all")
ARRAYS = ("2d", "1d")


@dataclass(frozen=True)
class SpatialDesign:
    """A FuseMax-style spatial design.

    Attributes:
        array: the 2-D array, 1-D array (its vector unit), buffer and DRAM, as a systolic design.
        fusion: fuse the cascade (see module docstring).
        array_ops: which ops the 2-D PEs run (``mac`` or ``all``).
        vector_pipelined: the 1-D array retires one element per lane per cycle.
        fuse_contractions: contractions join the fused group.
        stream_operands: the group's DRAM inputs stream past the buffer, re-read per array tile.
        binding: Einsum -> ``2d`` / ``1d`` pins; names are checked against the workload when it is
            evaluated (the loader has no workload).
        source: the design file, so that check can name it.
    """

    template: ClassVar[str] = "spatial"

    name: str
    array: SystolicDesign
    fusion: bool = True
    array_ops: str = "all"
    vector_pipelined: bool = False
    fuse_contractions: bool = True
    stream_operands: bool = False
    binding: dict[str, str] = field(default_factory=dict)
    description: str = ""
    source: str = field(default="", compare=False)

    @property
    def clock_ghz(self) -> float:
        return self.array.clock_ghz

    def to_dict(self) -> dict[str, Any]:
        out = self.array.to_dict()
        out.update(design=self.name, template=self.template, fusion=self.fusion, array_ops=self.array_ops,
                   vector_pipelined=self.vector_pipelined, fuse_contractions=self.fuse_contractions,
                   stream_operands=self.stream_operands)
        if self.description:
            out["description"] = self.description
        if self.binding:
            out["binding"] = dict(self.binding)
        return out


#: The keys a ``spatial`` file adds to a systolic body.
SPATIAL_KEYS = Section("spatial keys", (
    boolean("fusion", "`true`: the cascade runs as fused groups whose intermediates stay on chip as far as "
            "`global_buffer.size_kib` allows (fibers in blocks; what does not fit spills), "
            "`archmodel/dataflow/fusion.py`; `false`: every Einsum runs alone and every intermediate goes "
            "through DRAM (`archmodel analyze`'s unfused traffic)"),
    choice("array_ops", ARRAY_OPS, "what the 2-D PEs run: `mac` (FLAT) only contractions; `all` (FuseMax) "
           "also the Einsums that traverse the fiber rank's tiles (attention's QK, LM, SLN, SLD, SLNV), the "
           "rest going to the 1-D array"),
    boolean("vector_pipelined", "the 1-D array retires one Einsum element per lane per cycle whatever its "
            "operators (a pipelined special-function unit, as the FuseMax artifact models FLAT's); "
            "otherwise an element costs its ops' lane cycles (`vector.costs`: exp = 6 MACs + 1 add)"),
    boolean("fuse_contractions", "`false` keeps the contractions out of the fused group: they run alone "
            "through DRAM and only the Einsums between them fuse (the FuseMax artifact's unfused baseline: "
            "QK and AV alone, the softmax fused on FLAT's softmax unit)"),
    boolean("stream_operands", "`true`: the fused group's DRAM inputs stream past the buffer into the array, "
            "re-read once per array tile (`cols`) of the ranks they lack, and fibers run in blocks as large "
            "as the buffer holds of their held rows (at least one array tile, at most one head's rows), the "
            "rest overbooked (every access to it goes to DRAM); when sending the held rows through DRAM "
            "once moves less, that plan is taken instead (the artifact's FLAT mapping and search, "
            "`yamls/baselines/flat-mappings`, `flat_validation.csv`); `false`: shared operands stay "
            "resident or are re-read per block, whichever moves less"),
    Field("binding", "map", "pins what the model would choose; a pin is obeyed as written, whatever "
          "`array_ops` says. Names are checked against the workload at evaluation",
          item=choice("array", ARRAYS, "the array")),
), doc="What a spatial design adds to its systolic body.", model=SpatialDesign)
#: A ``template: spatial`` file: a systolic body plus :data:`SPATIAL_KEYS`.
SPATIAL = SYSTOLIC.derive("spatial", add=SPATIAL_KEYS.fields, also=(SpatialDesign,),
                          doc="A FuseMax-style spatial design: a 2-D and a 1-D array, a buffer, fused "
                              "stages.")


def spatial_from_yaml(doc: Document) -> SpatialDesign:
    """Validate a ``template: spatial`` document: a systolic body plus the keys above."""
    kw = read_section(doc, (), doc.data, SPATIAL)
    own = {f.name: kw.pop(f.name) for f in SPATIAL_KEYS.fields if f.name in kw}
    array = build_systolic(doc, (), kw)
    return SpatialDesign(name=array.name, array=array, description=array.description, source=str(doc.path),
                         **own)


__all__ = ["ARRAYS", "ARRAY_OPS", "SPATIAL", "SPATIAL_KEYS", "SpatialDesign", "spatial_from_yaml"]
