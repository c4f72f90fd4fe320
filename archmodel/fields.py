"""One declaration per file field: its key, type, unit, domain, default and meaning.

Every YAML mapping archmodel reads is declared as a :class:`Section` of :class:`Field` records
beside the loader that builds it (``design.systolic.SYSTOLIC``, ``pe.spec.PE``,
``exploration.space.SPACE``, ...).
Three things are generated from a declaration, so they cannot drift apart:

* validation: :func:`read_section` checks keys, types and domains through the :class:`Document`
  accessors, so every message stays ``file:line: key: problem (expected ..., found ...)``; rules
  between fields stay in the loaders;
* the JSON Schema files (draft 2020-12) we ship for editors (:func:`json_schema`);
* the field tables of ``docs/formats.md`` (:func:`markdown_table`, :func:`replace_marked`).

A section bound to a frozen dataclass (``model``) takes its defaults from that dataclass, the public
API, so a default is written once; a section without one declares its defaults here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .yamlio import MAX_INT, MAX_REAL, MIN_POSITIVE, Document, Domain, Path_

#: A field's value reader when the generic one does not fit (``node_nm``'s scaling-range check,
#: ``vector.costs``): ``read(doc, path, value) -> value``.
Reader = Callable[[Document, Path_, Any], Any]


class _Missing:
    """The type of :data:`MISSING` (``dataclasses.MISSING`` would read as "no default" to a dataclass)."""

    def __repr__(self) -> str:
        return "MISSING"


#: Marks a field without a declared default (absent means "not given", or the model's default).
MISSING: Any = _Missing()

#: Any finite real.
REAL = Domain(-MAX_REAL, MAX_REAL)
#: A real that must be positive (a size, an area): at least :data:`MIN_POSITIVE`.
POSITIVE = Domain(MIN_POSITIVE, MAX_REAL)
#: A real that may be zero but not negative.
NONNEGATIVE = Domain(0.0, MAX_REAL)

KINDS = ("integer", "number", "string", "boolean", "choice", "text", "section", "list", "map", "raw")


@dataclass(frozen=True)
class Field:
    """One key of a mapping.

    Attributes:
        key: the YAML key.
        kind: ``integer``/``number`` (``domain``), ``string``, ``boolean``, ``choice`` (``choices``),
            ``text`` (any scalar, kept as its text), ``section`` (a nested mapping), ``list``/``map``
            (of ``item``), or ``raw`` (shape checked by the loader; ``schema`` says what it takes).
        doc: what the value means, for the docs table and the schema's description.
        unit: the unit of a number (``GHz``, ``KiB``), appended to the description.
        required: the key must be present.
        default: the value when absent, where no model dataclass holds it.
        attr: the keyword the loader builds with (``type`` -> ``kind``); ``""`` reads but keeps nothing.
        minimum: narrows the domain's floor (a timing that must be at least 1).
        read: a reader of its own, which the generic one defers to.
        schema: the JSON Schema of a ``raw`` field (or one with its own reader).
        expand: a section's keys get rows of their own in the parent's docs table.
        type_text: what the docs table says of its type, where the generic words do not fit.
    """

    key: str
    kind: str
    doc: str
    unit: str = ""
    domain: Domain | None = None
    choices: tuple[str, ...] = ()
    section: Section | None = None
    item: Field | None = None
    required: bool = False
    default: Any = MISSING
    attr: str | None = None
    minimum: float | None = None
    read: Reader | None = None
    schema: dict[str, Any] | None = None
    expand: bool = True
    type_text: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.key}: unknown kind {self.kind!r}")

    @property
    def name(self) -> str:
        """The keyword the loader builds with."""
        return self.key if self.attr is None else self.attr


# One constructor per common kind, so a declaration reads as a table: key, domain, meaning, options.
def integer(key: str, domain: Domain, doc: str, **kw: Any) -> Field:
    return Field(key, "integer", doc, domain=domain, **kw)


def number(key: str, domain: Domain, doc: str, **kw: Any) -> Field:
    return Field(key, "number", doc, domain=domain, **kw)


def choice(key: str, choices: Iterable[str], doc: str, **kw: Any) -> Field:
    return Field(key, "choice", doc, choices=tuple(choices), **kw)


def string(key: str, doc: str, **kw: Any) -> Field:
    return Field(key, "string", doc, **kw)


def boolean(key: str, doc: str, **kw: Any) -> Field:
    return Field(key, "boolean", doc, **kw)


def section(key: str, sect: Section, doc: str, **kw: Any) -> Field:
    return Field(key, "section", doc, section=sect, **kw)


@dataclass(frozen=True)
class Section:
    """One YAML mapping: its fields in the order they are checked.

    ``model`` is the frozen dataclass a nested section is built into (and whose defaults it
    documents, as it does those of ``also``); ``extra`` describes the values of keys it does not name
    (a space's swept parameters), which are then allowed and left to the loader.
    """

    name: str
    fields: tuple[Field, ...]
    doc: str = ""
    model: type | None = None
    extra: Field | None = None
    also: tuple[type, ...] = ()
    _by_key: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {f.key: f for f in self.fields})
        if len(self._by_key) != len(self.fields):
            raise ValueError(f"section {self.name}: a key is declared twice")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.required)

    def __getitem__(self, key: str) -> Field:
        return self._by_key[key]

    def default(self, f: Field) -> Any:
        """``f``'s default: declared, else the model dataclasses' (:data:`MISSING` when none)."""
        if f.default is not MISSING:
            return f.default
        models = (self.model, *self.also) if self.model is not None else self.also
        for model in models:
            for mf in dataclasses.fields(model):
                if mf.name == f.name:
                    if mf.default is not dataclasses.MISSING:
                        return mf.default
                    if mf.default_factory is not dataclasses.MISSING:
                        return mf.default_factory()
        return MISSING

    def derive(self, name: str, *, add: Iterable[Field] = (), replace: Iterable[Field] = (),
               doc: str | None = None, also: tuple[type, ...] = ()) -> Section:
        """A section with fields added (at the end) or replaced (in place, by key)."""
        swap = {f.key: f for f in replace}
        return Section(name, (*(swap.get(f.key, f) for f in self.fields), *add),
                       self.doc if doc is None else doc, self.model, self.extra, (*self.also, *also))


# -- validation ---------------------------------------------------------------------------------------

def read_section(doc: Document, path: Path_, value: Any, sect: Section) -> dict[str, Any]:
    """Check the mapping at ``path`` against ``sect`` and return its values by :attr:`Field.name`.

    Unknown keys, then missing ones, then each present field in declaration order; absent fields
    with a declared default get it, a nested section with a ``model`` is built into it. Errors are
    the :class:`Document` accessors' own, so messages and lines are what hand-written checks gave.
    """
    value = doc.mapping(path, value)
    doc.check_keys(path, value, sect.keys if sect.extra is None else list(value), required=sect.required)
    out: dict[str, Any] = {}
    for f in sect.fields:
        if f.key in value:
            result = read_value(doc, (*path, f.key), value[f.key], f)
        elif f.default is not MISSING:
            result = f.default
        else:
            continue
        if f.name:
            out[f.name] = result
    return out


def read_value(doc: Document, path: Path_, value: Any, f: Field) -> Any:
    """One field's value at ``path``, checked against its declaration."""
    if f.read is not None:
        return f.read(doc, path, value)
    if f.kind in ("integer", "number"):
        assert f.domain is not None, f.key
        return doc.within(path, value, f.domain, minimum=f.minimum)
    if f.kind == "string":
        return doc.string(path, value)
    if f.kind == "choice":
        return doc.string(path, value, choices=f.choices)
    if f.kind == "boolean":
        return doc.boolean(path, value)
    if f.kind == "text":
        return str(value)
    if f.kind == "section":
        assert f.section is not None, f.key
        kw = read_section(doc, path, value, f.section)
        return f.section.model(**kw) if f.section.model is not None else kw
    if f.kind == "list":
        assert f.item is not None, f.key
        return tuple(read_value(doc, (*path, i), v, f.item) for i, v in enumerate(doc.sequence(path, value)))
    if f.kind == "map":
        assert f.item is not None, f.key
        items = doc.mapping(path, value).items()
        return {str(k): read_value(doc, (*path, str(k)), v, f.item) for k, v in items}
    return value  # raw: the loader checks it


def raw(doc: Document, path: Path_, value: Any) -> Any:
    """The reader of a field whose loader reads it itself (a section read in two steps)."""
    return value


# -- JSON Schema --------------------------------------------------------------------------------------

def _bound_value(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) <= MAX_INT else x


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data, or :data:`MISSING` when there is nothing to say (``None``, empty) or it
    is no JSON (a dataclass default such as a ``VectorUnit``)."""
    if value is None or value == () or value == {}:
        return MISSING
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return MISSING
    return value


def _description(f: Field) -> str:
    """The schema's description: the meaning, with its unit."""
    return f"{f.doc} [{f.unit}]" if f.unit else f.doc


def _value_schema(f: Field) -> dict[str, Any]:
    """The JSON Schema of one field's value (without description or default)."""
    if f.schema is not None:
        return dict(f.schema)
    if f.kind in ("integer", "number"):
        assert f.domain is not None
        lo = f.domain.lo if f.minimum is None else max(f.domain.lo, f.minimum)
        return {"type": f.kind, "minimum": _bound_value(lo), "maximum": _bound_value(f.domain.hi)}
    if f.kind == "string":
        return {"type": "string"}
    if f.kind == "choice":
        return {"enum": list(f.choices)}
    if f.kind == "boolean":
        return {"type": "boolean"}
    if f.kind == "text":
        return {"type": ["string", "number", "boolean"]}
    if f.kind == "section":
        assert f.section is not None
        return json_schema(f.section)
    if f.kind == "list":
        assert f.item is not None
        return {"type": "array", "items": _value_schema(f.item)}
    if f.kind == "map":
        assert f.item is not None
        return {"type": "object", "additionalProperties": _value_schema(f.item)}
    return {}


def _field_schema(sect: Section, f: Field) -> dict[str, Any]:
    out = {"description": _description(f), **_value_schema(f)}
    default = _jsonable(sect.default(f))
    if default is not MISSING:
        out["default"] = default
    return out


def json_schema(sect: Section) -> dict[str, Any]:
    """The JSON Schema of a mapping: its properties, required keys and nothing else."""
    out: dict[str, Any] = {"type": "object"}
    if sect.doc:
        out["description"] = sect.doc
    out["properties"] = {f.key: _field_schema(sect, f) for f in sect.fields}
    if sect.required:
        out["required"] = list(sect.required)
    out["additionalProperties"] = _value_schema(sect.extra) if sect.extra is not None else False
    return out


# -- docs tables --------------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    """A bound as a reader writes it: ``65,536``, ``2^32``, ``2^32-1``, ``2^-30``, ``1e-06``."""
    if x > 0 and math.log2(x).is_integer() and abs(math.log2(x)) >= 10:
        return f"2^{int(math.log2(x))}"
    if float(x).is_integer() and x > 0 and math.log2(x + 1).is_integer() and x >= 2**20:
        return f"2^{int(math.log2(x + 1))}-1"
    if not float(x).is_integer():
        return f"{x:g}"
    return f"{int(x):,}" if abs(x) < 10**8 else f"{float(x):g}"


def _type_words(f: Field) -> str:
    """The docs table's type column for ``f``."""
    if f.type_text:
        return f.type_text
    if f.kind in ("integer", "number"):
        assert f.domain is not None
        lo = f.domain.lo if f.minimum is None else max(f.domain.lo, f.minimum)
        if f.domain.hi in (MAX_INT, MAX_REAL):
            words = f"{f.kind} >= {_fmt(lo)}" if lo > -f.domain.hi else f.kind
        else:
            words = f"{f.kind} {_fmt(lo)} .. {_fmt(f.domain.hi)}"
        return f"{words} {f.unit}".rstrip()
    if f.kind == "choice":
        return ", ".join(f"`{c}`" for c in f.choices)
    if f.kind in ("list", "map"):
        assert f.item is not None
        inner = _type_words(f.item)
        return f"list of {inner}" if f.kind == "list" else f"mapping name -> {inner}"
    return {"section": "mapping", "text": "text", "raw": "see meaning"}.get(f.kind, f.kind)


def _default_words(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "`[" + ", ".join(value) + "]`"
    return ""


def _table_rows(sect: Section, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, type, meaning) rows of ``sect``, nested sections' keys dotted after their own row."""
    rows = []
    for f in sect.fields:
        key = prefix + f.key
        words = _type_words(f)
        if f.required:
            words += ", required"
        else:
            default = _default_words(sect.default(f))
            if default:
                words += f", default {default}"
        rows.append((key, words, f.doc))
        if f.kind == "section" and f.expand and f.section is not None:
            rows.extend(_table_rows(f.section, key + "."))
    return rows


def markdown_table(sect: Section) -> str:
    """The docs table of ``sect``: one row per key, nested keys dotted."""
    lines = ["| key | type | meaning |", "|---|---|---|"]
    lines += ["| `{}` | {} | {} |".format(k, t, m.replace("|", "\\|")) for k, t, m in _table_rows(sect)]
    return "\n".join(lines)


def replace_marked(text: str, name: str, body: str) -> str:
    """``text`` with what lies between ``<!-- fields:NAME begin -->`` and ``end -->`` replaced."""
    begin, end = f"<!-- fields:{name} begin -->", f"<!-- fields:{name} end -->"
    head, sep, rest = text.partition(begin)
    if not sep or end not in rest:
        raise ValueError(f"docs have no '{begin}' ... '{end}' markers")
    return f"{head}{begin}\n{body}\n{end}{rest.split(end, 1)[1]}"
