"""A workload under construction, shared by every importer, printed as a commented workload file.

Importers see tensors with shapes (ONNX, torch.export); workloads see ranks and affine indices. The
bridge is a :class:`View`: a tensor as an operator sees it (its logical dimensions) over the tensor
as it is stored. Each logical dimension is a row-major list of *atoms* (a factor with an extent and a
rank that holds it). Transpose permutes logical dimensions, Reshape regroups atoms (splitting one
where a new dimension boundary falls inside it), and neither writes anything: a later Einsum reads
the stored tensor through an affine index such as ``X[b,h*E+e]``. Dimensions of extent 1 hold no
atom, so broadcasting is simply "not indexed".
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import SpecError
from ..workload import Cascade, parse_workload

_ids = itertools.count(1)


@dataclass(frozen=True)
class Atom:
    """A factor of a dimension: ``extent`` positions, held by rank ``rank`` (any rank of that extent)."""

    extent: int
    rank: str
    id: int = field(default_factory=lambda: next(_ids))


@dataclass(frozen=True)
class View:
    """A stored tensor seen through a permutation and a reshape (see the module docstring)."""

    tensor: str
    stored: tuple[tuple[Atom, ...], ...]
    dims: tuple[tuple[Atom, ...], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(math.prod(a.extent for a in d) for d in self.dims)

    def transpose(self, perm: Sequence[int]) -> View:
        return View(self.tensor, self.stored, tuple(self.dims[p] for p in perm))

    def reshape(self, shape: Sequence[int], where: str) -> View:
        """The same elements under a new row-major shape; atoms split where a boundary needs it."""
        flat = [a for d in self.dims for a in d]
        groups, splits = _regroup(flat, [int(s) for s in shape], where)
        return View(self.tensor, _apply_splits(self.stored, splits), tuple(groups))

    def refine(self, dim: int, parts: Sequence[int], where: str) -> View:
        """Split the atoms of one logical dimension so that they are exactly ``parts``."""
        groups, splits = _regroup(list(self.dims[dim]), list(parts), where)
        assert all(len(g) == 1 for g in groups)
        dims = list(self.dims)
        dims[dim] = tuple(g[0] for g in groups)
        return View(self.tensor, _apply_splits(self.stored, splits), tuple(dims))


def _regroup(flat: list[Atom], sizes: list[int], where: str) -> tuple[list[tuple[Atom, ...]], dict]:
    """Group atoms, outer first, into consecutive products equal to ``sizes``; split where needed."""
    queue = list(flat)
    splits: dict[int, tuple[Atom, Atom]] = {}
    groups = []
    for size in sizes:
        group: list[Atom] = []
        need = size
        while need > 1:
            if not queue:
                raise SpecError(f"{where}: reshape to {sizes} does not cover the tensor's elements")
            a = queue.pop(0)
            if need % a.extent == 0:
                group.append(a)
                need //= a.extent
            elif a.extent % need == 0:
                outer = Atom(need, a.rank)
                inner = Atom(a.extent // need, a.rank)
                splits[a.id] = (outer, inner)
                group.append(outer)
                queue.insert(0, inner)
                need = 1
            else:
                raise SpecError(
                    f"{where}: reshape to {sizes} cuts a dimension of {a.extent} at a "
                    f"boundary that is not a divisor",
                    expected="dimension boundaries that divide each other (an affine index)",
                )
        groups.append(tuple(group))
    if queue:
        raise SpecError(
            f"{where}: reshape to {sizes} leaves {math.prod(a.extent for a in queue)} elements over"
        )
    return groups, splits


def _apply_splits(stored: tuple[tuple[Atom, ...], ...], splits: dict) -> tuple[tuple[Atom, ...], ...]:
    def expand(a: Atom) -> list[Atom]:
        if a.id not in splits:
            return [a]
        outer, inner = splits[a.id]
        return expand(outer) + expand(inner)

    return tuple(tuple(x for a in d for x in expand(a)) for d in stored)


def common_parts(seqs: Sequence[Sequence[int]], where: str) -> list[int]:
    """The coarsest factorisation that refines each of ``seqs`` (all of one product), outer first.

    A factorisation is the set of its strides (products of the inner factors); the common refinement
    is their union, which must form a chain of divisors to be indexable by affine expressions.
    """
    total = math.prod(seqs[0]) if seqs else 1
    strides = {1, total}
    for seq in seqs:
        s = 1
        for e in reversed(seq):
            s *= e
            strides.add(s)
    ordered = sorted(strides)
    for lo, hi in itertools.pairwise(ordered):
        if hi % lo:
            raise SpecError(
                f"{where}: operands split a dimension of {total} as "
                f"{' and '.join('x'.join(map(str, s)) for s in seqs)}",
                expected="splits that divide each other",
            )
    return [hi // lo for lo, hi in reversed(list(itertools.pairwise(ordered)))]


@dataclass
class TensorDecl:
    ranks: list[str]
    bits: int
    role: str  # "input" or "written"
    comment: str = ""
    pad: dict[str, int] = field(default_factory=dict)
    init: str | None = None  # starting value of a recurrence (``-inf``, ``0``)


Binding = int | None | Callable[[dict[int, list[str]]], str]
"""How an operand's logical dimension is indexed: by an axis of the iteration space, not at all
(a broadcast dimension of extent 1), or by a raw affine index built from the axes' variables."""

_NAME_RE = re.compile(r"[^A-Za-z0-9_]")


class Builder:
    """Ranks, tensors and Einsum lines of the workload being imported."""

    def __init__(self, name: str, default_bits: int) -> None:
        self.name = name
        self.default_bits = default_bits
        self.ranks: dict[str, int] = {}
        self.rank_notes: dict[str, str] = {}
        self.parts: dict[str, tuple[str, ...]] = {}  # a rank split into parts (m = m1*M0 + m0)
        self.tensors: dict[str, TensorDecl] = {}
        self.lines: list[tuple[str, str]] = []  # (comment, einsum)
        self.notes: list[str] = []
        self._counts: dict[str, int] = {}

    # -- names -----------------------------------------------------------------------------------
    def rank(self, hint: str, extent: int, used: set[str] = frozenset(), note: str = "") -> str:
        """A rank of ``extent`` named after ``hint`` (``D``, ``D2``, ...), not among ``used``."""
        base = re.sub(r"[^A-Z0-9_]", "", hint.upper()).rstrip("0123456789") or "X"
        if not base[0].isalpha():
            base = "X" + base
        for i in itertools.count(1):
            name = base if i == 1 else f"{base}{i}"
            if name in used:
                continue
            if name not in self.ranks:
                self.ranks[name] = extent
                if note:
                    self.rank_notes[name] = note
                return name
            if self.ranks[name] == extent:
                return name
        raise AssertionError("unreachable")

    def tensor_name(self, prefix: str) -> str:
        prefix = _NAME_RE.sub("_", prefix).upper() or "T"
        if prefix[0].isdigit():
            prefix = "T" + prefix
        n = self._counts.get(prefix, 0) + 1
        self._counts[prefix] = n
        name = f"{prefix}{n}"
        while name in self.tensors:
            n += 1
            self._counts[prefix] = n
            name = f"{prefix}{n}"
        return name

    # -- tensors ---------------------------------------------------------------------------------
    def input(
        self,
        prefix: str,
        shape: Sequence[int],
        hints: Sequence[str],
        bits: int,
        comment: str,
        named: dict[int, str] | None = None,
    ) -> View:
        """Declare an input tensor (graph input or weight); extent-1 dimensions are not stored."""
        name = self.tensor_name(prefix)
        dims: list[tuple[Atom, ...]] = []
        ranks: list[str] = []
        for i, (extent, hint) in enumerate(zip(shape, hints)):
            if extent == 1:
                dims.append(())
                continue
            r = self.rank((named or {}).get(i, hint), int(extent), set(ranks), note=comment)
            ranks.append(r)
            dims.append((Atom(int(extent), r),))
        self.tensors[name] = TensorDecl(ranks, bits, "input", comment)
        return View(name, tuple(d for d in dims if d), tuple(dims))

    def pad(self, view: View, dim: int, amount: int) -> None:
        """Give the stored dimension behind logical ``dim`` a zero halo of at least ``amount``."""
        (atom,) = view.dims[dim]
        pos = next(i for i, d in enumerate(view.stored) if d == (atom,))
        decl = self.tensors[view.tensor]
        rank = decl.ranks[pos]
        decl.pad[rank] = max(decl.pad.get(rank, 0), amount)

    def is_plain(self, view: View, dim: int) -> bool:
        """Logical ``dim`` is one atom stored as a dimension of its own (a raw index can address it)."""
        return len(view.dims[dim]) == 1 and (view.dims[dim],) == tuple(
            d for d in view.stored if d == view.dims[dim]
        )

    # -- Einsums ---------------------------------------------------------------------------------
    def einsum(
        self,
        out_prefix: str,
        axes: Sequence[tuple[int, str]],
        operands: Sequence[tuple[View, Sequence[Binding]]],
        out_axes: Sequence[int],
        expr: Callable[[list[str]], str],
        *,
        reduce: str | None = None,
        bits: int | None = None,
        comment: str = "",
        where: str = "",
    ) -> View:
        """Emit one Einsum over the iteration space ``axes`` (extent, rank hint) and return its output.

        ``operands[i]`` binds each logical dimension of a view to an axis index, ``None`` (broadcast,
        extent 1) or a raw index; ``expr`` builds the right-hand side from the operands' access texts;
        ``reduce`` names an explicit reduction (``max``), else the axes missing from ``out_axes`` are
        summed.
        """
        # 1. One factorisation per axis that every operand bound to it can be read through.
        seqs: dict[int, list[list[int]]] = {i: [] for i in range(len(axes))}
        for view, binding in operands:
            for d, b in enumerate(binding):
                if isinstance(b, int) and view.dims[d]:
                    seqs[b].append([a.extent for a in view.dims[d]])
        parts: dict[int, list[int]] = {}
        for i, (extent, _) in enumerate(axes):
            got = [s for s in seqs[i] if math.prod(s) == extent]
            if len(got) != len(seqs[i]):
                raise SpecError(
                    f"{where}: operand extents {[math.prod(s) for s in seqs[i]]} do not "
                    f"match the axis of {extent}"
                )
            parts[i] = common_parts(got, where) if got else ([extent] if extent > 1 else [])
        refined = []
        for view, binding in operands:
            for d, b in enumerate(binding):
                if isinstance(b, int) and view.dims[d] and [a.extent for a in view.dims[d]] != parts[b]:
                    view = view.refine(d, parts[b], where)
            refined.append((view, binding))
        # 2. One index variable per part, named after the rank an operand already holds it in.
        used: set[str] = set()
        vars_of: dict[int, list[str]] = {}
        for i, (_, hint) in enumerate(axes):
            names = []
            for j, extent in enumerate(parts[i]):
                h = next(
                    (
                        v.dims[d][j].rank
                        for v, bind in refined
                        for d, b in enumerate(bind)
                        if b == i and v.dims[d]
                    ),
                    hint,
                )
                r = self.rank(h, extent, used, note=comment)
                used.add(r)
                names.append(r)
            vars_of[i] = names
        lower = {i: [r.lower() for r in rs] for i, rs in vars_of.items()}
        # 3. Access texts.
        texts = []
        for view, binding in refined:
            var_of_atom: dict[int, str] = {}
            raw: dict[int, str] = {}
            for d, b in enumerate(binding):
                if b is None:
                    if view.dims[d]:
                        raise SpecError(f"{where}: a dimension of {view.shape[d]} cannot broadcast")
                elif isinstance(b, int):
                    for atom, v in zip(view.dims[d], lower[b], strict=True):
                        var_of_atom[atom.id] = v
                else:
                    (atom,) = view.dims[d]
                    raw[atom.id] = b(lower)
            idx = []
            for sd in view.stored:
                if len(sd) == 1 and sd[0].id in raw:
                    idx.append(raw[sd[0].id])
                    continue
                terms = []
                for k, atom in enumerate(sd):
                    inner = [var_of_atom[a.id].upper() for a in sd[k + 1 :]]
                    terms.append("*".join([var_of_atom[atom.id], *inner]))
                idx.append("+".join(terms))
            texts.append(f"{view.tensor}[{','.join(idx)}]")
        # 4. The output, stored one dimension per part.
        name = self.tensor_name(out_prefix)
        out_ranks = [r for i in out_axes for r in vars_of[i]]
        out_vars = [v for i in out_axes for v in lower[i]]
        reduced = [v for i in range(len(axes)) if i not in out_axes for v in lower[i]]
        head = f"{name}[{','.join(out_vars)}] = "
        if reduce and reduced:
            head += f"{reduce}({','.join(reduced)}) "
        self.lines.append((comment, head + expr(texts)))
        self.tensors[name] = TensorDecl(out_ranks, bits or self.default_bits, "written")
        out_dims = []
        for i in out_axes:
            out_dims.append(tuple(Atom(e, r) for e, r in zip(parts[i], vars_of[i], strict=True)))
        return View(name, tuple((a,) for d in out_dims for a in d), tuple(out_dims))

    def line(self, text: str, comment: str = "") -> None:
        """Append an Einsum written out by the caller (recurrences, whose output index is ``m1+1``)."""
        self.lines.append((comment, text))

    def copy(self, view: View, comment: str, where: str) -> View:
        """Materialise a view as a tensor of its own (a copy: traffic, no operations)."""
        axes = [(e, d[0].rank if d else "X") for e, d in zip(view.shape, view.dims)]
        return self.einsum(
            "COPY",
            axes,
            [(view, list(range(len(axes))))],
            list(range(len(axes))),
            lambda t: t[0],
            comment=comment,
            where=where,
        )

    # -- output ----------------------------------------------------------------------------------
    def text(self, header: Sequence[str], description: str) -> str:
        """The workload file: a header comment, ranks with where they come from, tensors, Einsums."""
        out = [f"# {h}" if h else "#" for h in header]
        out += [
            f"workload: {self.name}",
            f"description: {_quote(description)}",
            f"bits: {self.default_bits}",
            "ranks:",
        ]
        width = max((len(r) for r in self.ranks), default=1)
        for r, e in self.ranks.items():
            note = self.rank_notes.get(r, "")
            value = f"{{extent: {e}, parts: [{', '.join(self.parts[r])}]}}" if r in self.parts else str(e)
            out.append(f"  {r}: {value}".ljust(width + 12) + (f"  # {note}" if note else ""))
        declared = {
            n: t
            for n, t in self.tensors.items()
            if t.role == "input" or t.bits != self.default_bits or t.pad or t.init is not None
        }
        if declared:
            out.append("tensors:")
        for n, t in declared.items():
            extra = []
            if t.bits != self.default_bits:
                extra.append(f"bits: {t.bits}")
            if t.pad:
                extra.append("pad: {" + ", ".join(f"{r}: {p}" for r, p in t.pad.items()) + "}")
            if t.init is not None:
                extra.append(f"init: {t.init}")
            ranks = "[" + ", ".join(t.ranks) + "]"
            body = "{ranks: " + ranks + ", " + ", ".join(extra) + "}" if extra else ranks
            line = f"  {n}: {body}"
            out.append(line + (f"   # {t.comment}" if t.comment else ""))
        out.append("einsums:")
        for comment, line in self.lines:
            if comment:
                out.append(f"  # {comment}")
            out.append(f"  - {line}")
        return "\n".join(out) + "\n"

    def cascade(self, text: str, source: str) -> Cascade:
        """Parse the printed file back: the importer's output is checked by the ordinary loader."""
        return parse_workload(text, path=source)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
