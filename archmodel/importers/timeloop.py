"""Timeloop (v0.4 problem) and AccelForge (workload) YAML -> workload: the subset that is an Einsum.

Timeloop describes one Einsum per problem: ``dimensions`` are its ranks, each data space a tensor
whose ``projection`` gives, per tensor dimension, a sum of ``[dimension]`` or ``[dimension,
coefficient]`` terms (``[[R, Wdilation], [P, Wstride]]`` is ``Wdilation*r + Wstride*p``), the
``read_write`` space is the output, and the Einsum is the output summed over the product of the
others. AccelForge describes a cascade: each Einsum lists ``tensor_accesses`` with a
``projection`` (a list of rank variables, or a mapping rank -> affine expression) and one
``output: True``; extents come from ``iteration_space_shape`` bounds ``0 <= m < 128`` (or
``rank_sizes``); widths from ``bits_per_value``. AccelForge treats everything but the product as a
copy, so every imported Einsum is a product-sum. Jinja templates are not rendered: render them
with AccelForge first.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError, shorten
from ..yamlio import BITS, MAX_INT, Document, describe, load_yaml, read_text

_BOUND_RE = re.compile(r"^\s*0\s*<=\s*([A-Za-z][A-Za-z0-9_]*)\s*<\s*(\d+)\s*$")
_VAR_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_AFFINE_RE = re.compile(r"^[a-z0-9_*+\- ]+$")


def import_timeloop(
    path: str | Path, *, name: str | None = None, bits: int | None = None
) -> tuple[str, dict[str, int]]:
    text = read_text(path, "workload file")
    if "{%" in text or "{{" in text:
        raise SpecError(
            "this file is a Jinja template",
            file=path,
            expected="a rendered workload (render it with AccelForge first)",
        )
    doc = load_yaml(path)
    data = doc.mapping((), doc.data)
    if "problem" in data:
        return _timeloop(doc, data["problem"], name or Path(path).stem, bits or 16)
    if "workload" in data and isinstance(data["workload"], dict) and "einsums" in data["workload"]:
        return _accelforge(doc, data["workload"], name or Path(path).stem, bits)
    raise SpecError(
        "neither a Timeloop problem nor an AccelForge workload",
        file=path,
        expected="a top-level 'problem:' (Timeloop) or 'workload: {einsums: ...}' (AccelForge)",
        found="keys " + ", ".join(map(str, data)),
    )


def _known_instance_keys(doc: Document, instance: dict[Any, Any], dims: list[str], coefs: list[str]) -> None:
    """Refuse a ``problem.instance`` key that is neither a dimension nor a coefficient: a mistyped
    dimension (``Q: 9`` where the rank is ``P``) or Timeloop's sparse ``densities`` was ignored,
    so the import was a dense or differently sized problem with exit 0."""
    for key in instance:
        if key in dims or key in coefs:
            continue
        if key == "densities":
            raise doc.error(("problem", "instance", key), "'densities' (sparse tensors) is not supported",
                            expected="a dense problem: dimensions and coefficients only")
        raise doc.error(("problem", "instance", key), f"unknown key '{shorten(str(key))}'",
                        expected="a dimension (" + ", ".join(dims) + ")"
                        + (" or a coefficient (" + ", ".join(coefs) + ")" if coefs else ""),
                        found=repr(key))


def _timeloop(doc: Document, problem: Any, name: str, bits: int) -> tuple[str, dict[str, int]]:
    problem = doc.mapping(("problem",), problem)
    shape = doc.mapping(("problem", "shape"), problem.get("shape"))
    instance = doc.mapping(("problem", "instance"), problem.get("instance"))
    dims = [str(d) for d in doc.sequence(("problem", "shape", "dimensions"), shape.get("dimensions"))]
    coefs: dict[str, int] = {}
    for i, c in enumerate(shape.get("coefficients") or []):
        c = doc.mapping(("problem", "shape", "coefficients", i), c)
        cname = str(c.get("name"))
        if c.get("name") in instance:
            cpath, value = ("problem", "instance", c.get("name")), instance[c.get("name")]
        else:
            cpath, value = ("problem", "shape", "coefficients", i, "default"), c.get("default", 1)
        coefs[cname] = doc.integer(cpath, value, minimum=1)
    _known_instance_keys(doc, instance, dims, list(coefs))
    extents = {}
    for d in dims:
        if d not in instance:
            raise doc.error(
                ("problem", "instance"),
                f"dimension '{d}' has no size",
                expected=f"{d}: N under problem.instance",
            )
        extents[d.upper()] = doc.integer(("problem", "instance", d), instance[d], minimum=1)
    spaces = doc.sequence(("problem", "shape", "data_spaces"), shape.get("data_spaces"))
    accesses, out = [], None
    tensors = []
    for i, sp in enumerate(spaces):
        path = ("problem", "shape", "data_spaces", i)
        sp = doc.mapping(path, sp)
        tname = re.sub(r"\W", "_", str(sp.get("name", f"T{i}")))
        idx, ranks = [], []
        for j, dim in enumerate(doc.sequence((*path, "projection"), sp.get("projection"))):
            dim = dim if isinstance(dim, list) and dim and isinstance(dim[0], list) else [dim]
            terms, top = [], 0
            for term in dim:
                if not isinstance(term, list) or not term or str(term[0]) not in dims:
                    raise doc.error(
                        (*path, "projection", j),
                        "wrong projection term",
                        expected="[DIM] or [DIM, COEFFICIENT] with DIM one of " + ", ".join(dims),
                        found=describe(term),
                    )
                var = str(term[0]).lower()
                k = 1
                if len(term) > 1:
                    k = coefs.get(str(term[1])) if not isinstance(term[1], int) else \
                        doc.integer((*path, "projection", j), term[1], minimum=1)
                    if k is None:
                        raise doc.error(
                            (*path, "projection", j),
                            f"unknown coefficient '{term[1]}'",
                            expected="one of " + ", ".join(coefs),
                        )
                terms.append(var if k == 1 else f"{k}*{var}")
                top += k * (extents[var.upper()] - 1)
            idx.append("+".join(terms))
            if len(terms) == 1 and "*" not in terms[0]:
                ranks.append(terms[0].upper())
            else:  # a sliding-window dimension: its extent is the largest index + 1
                rank = f"{tname[0].upper()}{j}X"
                extents[rank] = top + 1
                ranks.append(rank)
        access = f"{tname}[{','.join(idx)}]"
        if sp.get("read_write"):
            if out is not None:
                raise doc.error(path, "two read_write data spaces", expected="one output")
            out = access
        else:
            accesses.append(access)
            tensors.append(f"  {tname}: [{', '.join(ranks)}]")
    if out is None or not accesses:
        raise doc.error(("problem", "shape", "data_spaces"), "no output (read_write: True) or no inputs")
    text = (
        f"# Imported from a Timeloop problem by `archmodel import`: "
        f"{shape.get('name', 'problem')}, {len(accesses)} operands.\n"
        f'workload: {name}\ndescription: "Timeloop problem {shape.get("name", "")}"\nbits: {bits}\n'
        "ranks:\n"
        + "\n".join(f"  {r}: {e}" for r, e in extents.items())
        + "\ntensors:\n"
        + "\n".join(tensors)
        + "\neinsums:\n"
        + f"  - {out} = {' * '.join(accesses)}\n"
    )
    return text, {"einsums": 1}


def _accelforge(doc: Document, wl: dict, name: str, bits: int | None) -> tuple[str, dict[str, int]]:
    extents: dict[str, int] = {}
    shape = wl.get("iteration_space_shape") or wl.get("shape") or {}
    for var, bound in doc.mapping(("workload", "iteration_space_shape"), shape).items():
        m = _BOUND_RE.match(str(bound))
        if not m or m.group(1).lower() != str(var).lower():
            raise doc.error(
                ("workload", "iteration_space_shape", var),
                "unsupported bound",
                expected=f"'0 <= {var} < N' with N an integer",
                found=describe(bound),
            )
        digits = m.group(2)
        if len(digits) > len(str(MAX_INT)):  # int() of 4,300 digits raises; 17 already exceed 2^53
            raise doc.error(("workload", "iteration_space_shape", var), "out of range",
                            expected="a bound N >= 1 and <= 2^53",
                            found=f"an integer of {len(digits)} digits")
        extents[str(var).upper()] = doc.integer(
            ("workload", "iteration_space_shape", var), int(digits), minimum=1)
    for rank, size in doc.mapping(("workload", "rank_sizes"), wl.get("rank_sizes") or {}).items():
        extents[str(rank).upper()] = doc.integer(("workload", "rank_sizes", rank), size, minimum=1)
    bpv = doc.mapping(("workload", "bits_per_value"), wl.get("bits_per_value") or {})
    # every width is checked, used or not: 1.9 would otherwise become 1 bit and .nan a traceback
    bpv = {k: doc.within(("workload", "bits_per_value", k), v, BITS) for k, v in bpv.items()}
    default_bits = bits or bpv.get("All", 8)
    inputs: dict[str, list[str]] = {}
    produced: set[str] = set()
    lines = []
    for i, e in enumerate(doc.sequence(("workload", "einsums"), wl["einsums"])):
        path = ("workload", "einsums", i)
        e = doc.mapping(path, e)
        out, reads = None, []
        for j, acc in enumerate(doc.sequence((*path, "tensor_accesses"), e.get("tensor_accesses"))):
            apath = (*path, "tensor_accesses", j)
            acc = doc.mapping(apath, acc)
            tname = doc.string((*apath, "name"), acc.get("name"))
            proj = acc.get("projection")
            if isinstance(proj, dict):
                idx = [str(v).replace(" ", "").lower() for v in proj.values()]
                ranks = [str(k).upper() for k in proj]
            else:
                idx = [str(v).lower() for v in doc.sequence((*apath, "projection"), proj)]
                ranks = [v.upper() for v in idx]
            for ix in idx:
                if not _AFFINE_RE.match(ix):
                    raise doc.error(
                        (*apath, "projection"),
                        "unsupported projection",
                        expected="rank variables or affine expressions of them",
                        found=repr(ix),
                    )
            for v in {v for ix in idx for v in re.findall(r"[a-z][a-z0-9_]*", ix)}:
                if v.upper() not in extents:
                    raise doc.error(
                        (*apath, "projection"),
                        f"rank variable '{v}' has no size",
                        expected=f"'{v}: 0 <= {v} < N' under iteration_space_shape",
                    )
            access = f"{tname}[{','.join(idx)}]"
            if acc.get("output"):
                out = access
                produced.add(tname)
            else:
                reads.append((tname, access, ranks))
        if out is None or not reads:
            raise doc.error(path, "an Einsum needs one output (output: True) and at least one input")
        for tname, _, ranks in reads:
            if tname not in produced:
                inputs.setdefault(tname, ranks)
        lines.append(f"  # {e.get('name', f'einsum {i}')}\n  - {out} = {' * '.join(a for _, a, _ in reads)}")
    tensors = sorted(produced | set(inputs))
    for k in bpv:  # a key naming no tensor ('Inputs', 'a' for 'A') would silently leave it 8 bits
        if k != "All" and k not in tensors:
            raise doc.error(("workload", "bits_per_value", k), f"unknown tensor '{shorten(str(k))}'",
                            expected=f"'All' or one of {', '.join(tensors)}", found=repr(k))
    decl = []
    for tname, ranks in inputs.items():
        for r in ranks:
            if r not in extents:
                raise doc.error(("workload",), f"tensor '{tname}' has rank '{r}' with no size")
        b = bpv.get(tname)
        body = f"[{', '.join(ranks)}]" if b is None else f"{{ranks: [{', '.join(ranks)}], bits: {int(b)}}}"
        decl.append(f"  {tname}: {body}")
    text = (
        f"# Imported from an AccelForge workload by `archmodel import`: {len(lines)} Einsums.\n"
        f'workload: {name}\ndescription: "AccelForge workload"\nbits: {default_bits}\n'
        "ranks:\n"
        + "\n".join(f"  {r}: {e}" for r, e in extents.items())
        + "\ntensors:\n"
        + "\n".join(decl)
        + "\neinsums:\n"
        + "\n".join(lines)
        + "\n"
    )
    return text, {"einsums": len(lines)}


# -- architectures ------------------------------------------------------------------------------------
class _TaggedLoader(yaml.SafeLoader):
    """Safe loading that reads Timeloop's ``!Component``/``!Container`` tags as plain mappings (and
    records the tag as ``_tag``); nothing else is constructed."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return {"_tag": suffix, **loader.construct_mapping(node, deep=True)}
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_TaggedLoader.add_multi_constructor("!", _tagged)


def _load_tagged(text: str, path: str) -> Any:
    """Timeloop YAML under the same node cap as every other file (an alias bomb is refused before
    it is expanded), its errors one line."""
    from ..yamlio import MAX_YAML_NODES, _count_written_nodes, _expanded_size, _too_many_nodes

    loader = None
    try:
        _count_written_nodes(text, path)
        loader = _TaggedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, path) > MAX_YAML_NODES:
            raise _too_many_nodes(path)
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise SpecError(f"not a readable YAML architecture: {shorten(str(err).splitlines()[0])}",
                        file=path) from None
    except (ValueError, RecursionError) as err:  # a 5,000-digit integer, [[[[... thousands deep
        raise SpecError(f"not a readable YAML architecture: {shorten(str(err) or type(err).__name__)}",
                        file=path) from None
    finally:
        if loader is not None:
            loader.dispose()

_DRAM_BY_NAME = {
    "lpddr4": "lpddr4",
    "hbm2": "hbm2",
    "hbm3": "hbm3",
    "gddr5": "gddr5",
    "gddr6": "gddr6",
    "ddr3": "ddr3",
    "ddr4": "ddr3",
}


def import_architecture(path: str | Path) -> str:
    """A Timeloop v0.4 (``nodes:``) or v0.3 (``subtree:``) architecture -> a systolic design file.

    The subset our systolic template shares: one DRAM, one on-chip buffer, a 2-D spatial fan-out of
    PEs with a MAC. Rows x cols come from ``spatial: {meshX, meshY}`` (v0.4) or ``PE[0..N-1]`` with
    ``meshX`` (v0.3); the buffer's size from ``depth x width / 8`` bytes; the MAC's width from its
    ``datawidth``. Timeloop has no clock and no dataflow of its own (a mapping decides): 1 GHz and
    weight-stationary are our choices, stated in the file.
    """
    data = _load_tagged(read_text(path, "architecture file"), str(path))
    try:
        return _architecture(path, data)
    except (TypeError, ValueError, AttributeError, OverflowError, RecursionError) as err:
        # an attribute of the wrong type (meshX: abc, width: .inf, local: 5): the file, in one line
        raise SpecError(f"an attribute this importer reads is not a usable number or list: "
                        f"{shorten(str(err) or type(err).__name__)}", file=path) from None


def _architecture(path: str | Path, data: Any) -> str:
    arch = data.get("architecture") if isinstance(data, dict) else None
    if not isinstance(arch, dict):
        raise SpecError("no 'architecture:' mapping", file=path, expected="a Timeloop architecture file")
    comps, meshes, techs = [], [], []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for i, n in enumerate(node):
                walk(n, f"{where}[{i}]")
            return
        if not isinstance(node, dict):
            return
        spatial = node.get("spatial") or (node.get("attributes") or {}).get("spatial")
        if isinstance(spatial, dict):
            meshes.append((int(spatial.get("meshX", 1)), int(spatial.get("meshY", 1)), where))
        m = re.search(r"\[0\.\.(\d+)\]", str(node.get("name", "")))
        if m:
            n = int(m.group(1)) + 1
            mx = int((node.get("attributes") or {}).get("meshX", 0) or 0)
            for c in node.get("local") or []:
                mx = mx or int((c.get("attributes") or {}).get("meshX", 0) or 0)
            mx = mx or max(1, round(n**0.5))
            meshes.append((mx, n // mx, where))
        if "class" in node:
            comps.append((node, where))
        tech = (node.get("attributes") or {}).get("technology")
        if tech is not None:
            techs.append(str(tech))
        for key in ("nodes", "subtree", "local"):
            if key in node:
                walk(node[key], f"{where}.{key}")

    walk(arch, "architecture")
    if not meshes:
        raise SpecError(
            "no spatial fan-out of PEs",
            file=path,
            expected="spatial: {meshX: C, meshY: R} (v0.4) or a PE[0..N-1] subtree (v0.3)",
        )
    cols = math.prod(m[0] for m in meshes)
    rows = math.prod(m[1] for m in meshes)
    dram = next((c for c, _ in comps if "dram" in str(c.get("class", "")).lower()), None)
    macs = [c for c, _ in comps if "mac" in str(c.get("class", "")).lower()]
    bufs = [
        (c, w)
        for c, w in comps
        if any(k in str(c.get("class", "")).lower() for k in ("sram", "buffer", "storage"))
    ]
    if dram is None or not macs or not bufs:
        missing = [n for n, ok in (("a DRAM", dram), ("a MAC", macs), ("an SRAM buffer", bufs)) if not ok]
        raise SpecError(
            f"no {' and no '.join(missing)} component",
            file=path,
            expected="class names containing DRAM, mac and SRAM/buffer",
        )
    glb, where = max(bufs, key=lambda cw: _bytes(cw[0]))
    size_kib = _bytes(glb) / 1024
    if size_kib <= 0:
        raise SpecError(
            f"{where}: buffer '{glb.get('name')}' has no size",
            file=path,
            expected="attributes depth and width (bits per row)",
        )
    bits = int((macs[0].get("attributes") or {}).get("datawidth", 8))
    dtype = str((dram.get("attributes") or {}).get("type", "lpddr4")).lower()
    dram_type = _DRAM_BY_NAME.get(dtype)
    if dram_type is None:
        raise SpecError(f"DRAM type '{dtype}'", file=path, expected=", ".join(sorted(_DRAM_BY_NAME)))
    width = int((dram.get("attributes") or {}).get("width", 64))
    node = (techs[0] if techs else "45").lower().strip().removesuffix("nm")
    node_nm = int(float(node)) if node.replace(".", "").isdigit() else 45
    name = re.sub(r"[^A-Za-z0-9_-]", "-", Path(path).stem)
    return f"""\
# Translated from the Timeloop architecture {Path(path).name} by `archmodel import`.
# Taken from it: the {rows}x{cols} PE mesh, the {bits}-bit MAC, the largest on-chip buffer
# ('{glb.get("name")}', {size_kib:g} KiB) and the DRAM ({dram_type}, {width} bits per cycle).
# Timeloop has no clock and leaves the dataflow to the mapping: 1 GHz and weight-stationary are ours.
design: {name}
template: systolic
description: "Timeloop architecture {Path(path).name}"
rows: {rows}
cols: {cols}
dataflow: ws
clock_ghz: 1.0
node_nm: {node_nm}
pe: {{kind: mac, a_bits: {bits}, w_bits: {bits}, acc_bits: 32}}
memory:
  dram: {{type: {dram_type}, bandwidth_gb_per_s: {width / 8:g}}}
  global_buffer: {{size_kib: {size_kib:g}, banks: 4, bytes_per_cycle: {max(rows, cols)}}}
"""


def _bytes(component: dict) -> float:
    a = component.get("attributes") or {}
    try:
        return float(a.get("depth", 0)) * float(a.get("width", 0)) / 8 * float(a.get("n_banks", 1) or 1)
    except (TypeError, ValueError):
        return 0.0
