"""What every template's design shares: the keys any design file may carry, the technology-node
field, and the :class:`Design` protocol the rest of the pipeline relies on."""

from __future__ import annotations

from typing import Any, Protocol

from ..fields import Field, string
from ..tech import NODES_NM
from ..yamlio import Document, Domain


class Design(Protocol):
    """What every template's design offers the rest of the pipeline."""

    name: str
    template: str

    def to_dict(self) -> dict[str, Any]: ...


def node_nm_field(doc: Document, path: tuple, value: Any) -> float:
    """A technology node, checked against the scaling model's range when the file is read, so an
    out-of-range node is reported at its line rather than when a cost is first scaled."""
    node = doc.number(path, value, positive=True, maximum=1e4)
    lo, hi = min(NODES_NM), max(NODES_NM)
    if not lo <= node <= hi:
        raise doc.error(path, "technology node outside the scaling model's range",
                        expected=f"{lo}..{hi} nm (Stillmaker & Baas 2017)", found=f"{node:g} nm")
    return node


#: The keys every design file may carry whatever its template (``template`` itself is checked by the
#: registry, :func:`archmodel.templates.build_design`, before a loader runs).
COMMON: tuple[Field, ...] = (
    string("design", "the design's name", required=True, attr="name"),
    string("template", "the template that reads and evaluates the file", required=True, attr=""),
    string("description", "free text"),
)
COMMON_KEYS = tuple(f.key for f in COMMON)


def node_nm(doc: str, **kw: Any) -> Field:
    """A technology-node field: the scaling model's range (Stillmaker & Baas 2017), read by
    :func:`node_nm_field`, whose message names that range."""
    return Field("node_nm", "number", doc, unit="nm", domain=Domain(min(NODES_NM), max(NODES_NM)),
                 read=node_nm_field, **kw)
