"""YAML in and out, with line numbers for every key.

Files are read with the safe loader only (a subclass that also rejects a key repeated in one
mapping). Alongside the plain data we keep the line of every mapping
key and sequence item (from ``yaml.compose``), so a validator several layers down can still say
``attention.yaml:14``. Files are written through :mod:`archmodel.io` (atomic, normal permissions).
"""

from __future__ import annotations

import math
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, shorten

Path_ = tuple[Any, ...]

# -- limits on what a file may ask of us (docs/formats.md, "Limits") ------------------------------
#: Largest integer any numeric field takes: float64 holds every integer up to it exactly, so a
#: count, extent or size that reaches the numpy cost model cannot round or wrap on the way.
MAX_INT = 2**53
#: Largest magnitude of a real-valued field unless the field states a narrower domain.
MAX_REAL = float(2**53)
#: Smallest value of a field that must be positive (a clock of 1e-300 GHz is a typo, not a design).
MIN_POSITIVE = 1e-9
#: A YAML file larger than this is refused before it is parsed.
MAX_YAML_BYTES = 16 * 2**20
#: Nodes of a YAML document counted with every alias expanded (an alias bomb of a few hundred
#: bytes stands for billions): refused before anything walks or copies the expansion. The nodes
#: written out are counted first from the parser's events, stopping at the cap, so a flat list of
#: millions of items is refused before a node graph is built. Composed, constructed and walked, a
#: node costs about 500 bytes and 6 us: 500,000 keeps a file at the cap under 300 MB and 3 s, and
#: the largest legitimate inputs are far below it (a 20,000-Einsum workload, the Einsum cap, is
#: about 20,000 nodes; every shipped config under 2,000).
MAX_YAML_NODES = 500_000
#: Levels of nested lists and mappings. PyYAML's C composer recurses once a level: about 50,000
#: levels overflow the C stack (SIGSEGV, no Python error to catch), so depth is counted from the
#: parser's events and refused before composing. Shipped configs nest fewer than 10 levels.
MAX_YAML_DEPTH = 200
#: Bits of a stored element or a datapath (workload ``bits``, PE and vector widths).
MAX_BITS = 256
#: Units along one side of a structure (array rows and columns, vector lanes, banks, channels):
#: products of three stay below 2^53, and no chip has 65,536 PEs along one edge.
MAX_SIDE = 2**16


@dataclass(frozen=True)
class Domain:
    """The values one kind of numeric field may take: ``[lo, hi]``, integers only when ``integer``.

    Loaders pass these to :meth:`Document.within`; docs/formats.md ("Limits") lists them.
    """

    lo: float
    hi: float
    integer: bool = False


#: Array rows, columns, vector lanes, banks, channels, cores: 1..2^16 each.
SIDE = Domain(1, MAX_SIDE, integer=True)
#: Element and datapath widths.
BITS = Domain(1, MAX_BITS, integer=True)
#: A clock: 1 kHz .. 1 THz (a clock of 1e-300 GHz would make every latency infinite).
CLOCK_GHZ = Domain(1e-6, 1e3)
#: A bandwidth in GB/s: 1 kB/s .. 1 EB/s.
BANDWIDTH_GB_PER_S = Domain(1e-6, 1e9)
#: A memory capacity in GiB (one byte .. 2^30 GiB) and a buffer size in KiB (one byte .. 2^40 KiB).
CAPACITY_GIB = Domain(2.0**-30, 2.0**30)
SIZE_KIB = Domain(2.0**-10, 2.0**40)
#: An energy per bit, access or operation in pJ: 0 .. 10^6 (a microjoule per bit is no memory).
ENERGY_PJ = Domain(0.0, 1e6)
#: A timing or latency parameter in cycles.
CYCLES = Domain(0, 2**32, integer=True)
#: Bytes moved per cycle by one port, or held in one row: 1 .. 2^32.
BYTES = Domain(1, 2**32, integer=True)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def describe(value: Any) -> str:
    """How a found value is quoted in error messages: its type and, when short, the value."""
    if isinstance(value, (dict, list)) or value is None:
        return _type_name(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**40:
        text = f"of {len(str(abs(value)))} digits" if abs(value) < 10**4000 else "of over 4000 digits"
        return f"{_type_name(value)} {text}"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_type_name(value)} {text}"


def _bound(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}" if abs(value) < 10**6 else \
        (f"2^{value.bit_length() - 1}" if value & (value - 1) == 0 else f"{value:.3e}")


def check_number(value: Any, *, lo: float | None = None, hi: float | None = None, integer: bool = False,
                 allow_inf: bool = False) -> tuple[float | int | None, str | None, str | None]:
    """The one domain check behind every numeric field: ``(value, problem, expected)``.

    ``problem`` is ``None`` when ``value`` is a number (an ``int`` when ``integer``) within
    ``[lo, hi]``; ``hi`` defaults to :data:`MAX_INT` for integers and :data:`MAX_REAL` for reals, so
    no field can take 10^400, NaN or (unless ``allow_inf``) an infinity. Library code that takes
    numbers without a :class:`Document` (``--set``, API arguments) calls this directly.
    """
    kind = "an integer" if integer else "a number"
    if hi is None:
        hi = MAX_INT if integer else MAX_REAL
    if lo is None:
        lo = -hi
    expected = f"{kind} >= {_bound(lo)} and <= {_bound(hi)}"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        return None, "wrong type", kind
    if isinstance(value, float) and math.isnan(value):
        return None, "not a number (NaN)", expected
    if isinstance(value, float) and math.isinf(value):
        if allow_inf:
            return value, None, None
        return None, "infinite", expected
    if not lo <= value <= hi:
        return None, "out of range", expected
    return (value if integer else float(value)), None, None


@dataclass
class Document:
    """A parsed YAML file: its data plus a line number for every path into it."""

    path: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """Line (1-based) of the closest enclosing node of ``path`` that we know of."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get(())

    def error(self, path: Path_, message: str, **kw: Any) -> SpecError:
        return SpecError(message, file=self.path, line=self.line(path), where=format_path(path), **kw)

    # -- small typed accessors used by every validator ------------------------------------------
    def mapping(self, path: Path_, value: Any) -> dict:
        if not isinstance(value, dict):
            raise self.error(path, "wrong type", expected="a mapping", found=describe(value))
        return value

    def check_keys(self, path: Path_, value: Mapping, allowed: Iterable[str],
                   required: Iterable[str] = ()) -> None:
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                raise self.error((*path, key), f"unknown key '{shorten(str(key))}'",
                                 expected="one of " + ", ".join(allowed))
        for key in required:
            if key not in value:
                raise self.error(path, f"missing key '{key}'")

    def integer(self, path: Path_, value: Any, *, minimum: int | None = None,
                maximum: int = MAX_INT) -> int:
        """An integer in ``[minimum, maximum]`` (the ceiling is :data:`MAX_INT` unless narrower)."""
        lo = -maximum if minimum is None else minimum
        checked, problem, expected = check_number(value, lo=lo, hi=maximum, integer=True)
        if problem is not None:
            raise self.error(path, problem, expected=expected, found=describe(value))
        return int(checked)  # type: ignore[arg-type]

    def number(self, path: Path_, value: Any, *, positive: bool = False, nonnegative: bool = False,
               minimum: float | None = None, maximum: float = MAX_REAL, allow_inf: bool = False) -> float:
        """A finite real in its domain: ``positive`` means >= :data:`MIN_POSITIVE`, ``nonnegative``
        >= 0, else ``minimum`` (default ``-maximum``); ``maximum`` defaults to :data:`MAX_REAL`."""
        lo = minimum if minimum is not None else MIN_POSITIVE if positive else 0.0 if nonnegative \
            else -maximum
        checked, problem, expected = check_number(value, lo=lo, hi=maximum, allow_inf=allow_inf)
        if problem is not None:
            raise self.error(path, problem, expected=expected, found=describe(value))
        return float(checked)  # type: ignore[arg-type]

    def within(self, path: Path_, value: Any, domain: Domain, *, minimum: float | None = None) -> Any:
        """A field of a stated :class:`Domain` (``minimum`` narrows its floor: a timing that must
        be at least 1)."""
        lo = domain.lo if minimum is None else max(domain.lo, minimum)
        if domain.integer:
            return self.integer(path, value, minimum=int(lo), maximum=int(domain.hi))
        return self.number(path, value, minimum=lo, maximum=domain.hi)

    def string(self, path: Path_, value: Any, *, choices: Iterable[str] | None = None) -> str:
        if not isinstance(value, str):
            raise self.error(path, "wrong type", expected="a string", found=describe(value))
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                raise self.error(path, f"unknown value '{shorten(value)}'",
                                 expected="one of " + ", ".join(choices))
        return value

    def boolean(self, path: Path_, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, "wrong type", expected="true or false", found=describe(value))
        return value

    def sequence(self, path: Path_, value: Any) -> list:
        if not isinstance(value, list):
            raise self.error(path, "wrong type", expected="a list", found=describe(value))
        return value


def format_path(path: Path_) -> str:
    """``('einsums', 2)`` -> ``einsums[2]``; ``('ranks', 'M')`` -> ``ranks.M``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                continue
            sub = (*path, key)
            lines[sub] = key_node.start_mark.line + 1
            _walk(value_node, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice (``line``, 1-based; ``first`` where it was first named)."""

    def __init__(self, key: Any, line: int, first: int) -> None:
        self.key, self.line, self.first = key, line, first
        super().__init__(f"duplicate key {key!r} (first at line {first})")


#: libyaml's parser when PyYAML was built with it (ten times faster on a 10,000-Einsum file); the
#: constructor, and so what a file may contain, is the safe one either way.
_SAFE_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeySafeLoader(_SAFE_BASE):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader, except that a key repeated in one mapping is an error.

    Plain ``safe_load`` keeps the last value silently: two ``einsums:`` blocks would analyse only
    the second, a repeated ``rows:`` would build another design. Keys brought in by a merge
    (``<<: *base``) may still be overridden, as YAML's merge-key type says.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in first:
                        raise DuplicateKeyError(key, line, first[key])
                except TypeError:  # an unhashable key: the base constructor reports it
                    continue
                first[key] = line
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node, path: str) -> int:
    """Nodes of the document with every alias expanded, counted without expanding anything.

    PyYAML's composer hands back an alias as the very node object it names, so a subtree's size is
    memoised by identity: an alias bomb (each level a list of aliases to the level before) costs one
    visit per distinct node. A node that contains itself (``a: &x [*x]``) is refused here too.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in children), MAX_YAML_NODES + 1)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise SpecError("not valid YAML: an alias refers to the node that contains it",
                            file=path, line=node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)
_OPEN_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _too_many_nodes(path: str) -> SpecError:
    return SpecError("too many YAML nodes once aliases are expanded", file=path,
                     expected=f"at most {MAX_YAML_NODES:,}", found=f"more than {MAX_YAML_NODES:,}")


def _count_written_nodes(text: str, path: str) -> None:
    """Refuse a document that writes out more than :data:`MAX_YAML_NODES` nodes, counted from the
    parser's event stream (constant memory) and stopped at the cap: composing 2 million nodes
    first took 12 s and 900 MB only to refuse them. Nesting past :data:`MAX_YAML_DEPTH` is refused
    here too, since the C composer would overflow the stack on it."""
    n = depth = 0
    for event in yaml.parse(text, Loader=_SAFE_BASE):
        if isinstance(event, _NODE_EVENTS):
            n += 1
            if n > MAX_YAML_NODES:
                raise _too_many_nodes(path)
        if isinstance(event, _OPEN_EVENTS):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise _too_deep(path, event.start_mark.line + 1)
        elif isinstance(event, _CLOSE_EVENTS):
            depth -= 1


def _too_deep(path: str, line: int | None) -> SpecError:
    """Nesting past :data:`MAX_YAML_DEPTH`, whether our event count or the parser's own limit
    (libyaml's, in PyYAML 6.0.4 and later, can trip first while it scans ahead) finds it."""
    return SpecError("not valid YAML: nested too deeply", file=path, line=line,
                     expected=f"at most {MAX_YAML_DEPTH:,} levels", found=f"more than {MAX_YAML_DEPTH:,}")


def parse_yaml(text: str, path: str = "<string>") -> Document:
    """Parse YAML text safely; syntax errors and repeated keys become one-line :class:`SpecError`s.

    The text is composed once; the node graph is sized with aliases expanded (refused above
    :data:`MAX_YAML_NODES` before anything expands it), then constructed and walked for lines.
    """
    if len(text) > MAX_YAML_BYTES:
        raise SpecError("file too large", file=path, found=f"{len(text):,} characters",
                        expected=f"at most {MAX_YAML_BYTES // 2**20} MiB of YAML")
    loader = None
    try:
        _count_written_nodes(text, path)
        loader = UniqueKeySafeLoader(text)  # its reader rejects control characters already here
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = None
        if node is not None:
            size = _expanded_size(node, path)
            if size > MAX_YAML_NODES:
                raise _too_many_nodes(path)
            data = loader.construct_document(node)
            _walk(node, (), lines)
    except DuplicateKeyError as err:
        raise SpecError(f"duplicate key '{shorten(str(err.key))}' (first at line {err.first})", file=path,
                        line=err.line) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        if "nesting depth" in str(err.problem):
            raise _too_deep(path, line) from None
        raise SpecError(f"not valid YAML: {err.problem or err.context}", file=path, line=line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"not valid YAML: {err}", file=path) from None
    except ValueError as err:  # impossible typed scalars: 2001-13-45, !!float abc, a 5,000-digit int
        raise SpecError(f"not valid YAML: {shorten(str(err))}", file=path) from None
    except RecursionError:  # nesting thousands deep: [[[[...]]]]
        raise SpecError("not valid YAML: nested too deeply", file=path) from None
    finally:
        if loader is not None:
            loader.dispose()
    return Document(path=path, data=data, lines=lines)


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of a regular file of at most :data:`MAX_YAML_BYTES`; anything else is a SpecError.

    ``/dev/zero``, a FIFO or a directory would otherwise be read forever or fail with a traceback.
    """
    p = Path(path)
    try:
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise SpecError(f"cannot read {what}: {kind}", file=str(path), expected="a regular file")
        if info.st_size > MAX_YAML_BYTES:
            raise SpecError(f"{what} too large", file=str(path), found=f"{info.st_size:,} bytes",
                            expected=f"at most {MAX_YAML_BYTES // 2**20} MiB")
        with p.open("rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=str(path)) from None
    except UnicodeDecodeError as err:
        raise SpecError(f"cannot read {what}: not UTF-8 text (byte {err.start})", file=str(path)) from None
    except (OSError, ValueError) as err:
        raise SpecError(f"cannot read {what}: {err.__class__.__name__}", file=str(path)) from None


def load_yaml(path: str | Path) -> Document:
    """Read and parse a YAML file; a missing, unreadable or irregular file is a :class:`SpecError`."""
    return parse_yaml(read_text(path), str(path))


def dump_yaml(data: Any) -> str:
    """YAML text in block style with keys in the order given (for ``best.yaml`` and friends)."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
