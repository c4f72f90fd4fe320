"""YAML in and out, with line numbers for every key.

Files are read with the safe loader only (a subclass that also rejects a key repeated in one
mapping). Alongside the plain data we keep the line of every mapping
key and sequence item (from ``yaml.compose``), so a validator several layers down can still say
``attention.yaml:14``. Files are written through :mod:`archmodel.io` (atomic, normal permissions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

Path_ = tuple[Any, ...]


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def describe(value: Any) -> str:
    """How a found value is quoted in error messages: its type and, when short, the value."""
    if isinstance(value, (dict, list)) or value is None:
        return _type_name(value)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_type_name(value)} {text}"


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
                raise self.error((*path, key), f"unknown key '{key}'",
                                 expected="one of " + ", ".join(allowed))
        for key in required:
            if key not in value:
                raise self.error(path, f"missing key '{key}'")

    def integer(self, path: Path_, value: Any, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, "wrong type", expected="an integer", found=describe(value))
        if minimum is not None and value < minimum:
            raise self.error(path, "out of range", expected=f"an integer >= {minimum}",
                             found=describe(value))
        return value

    def number(self, path: Path_, value: Any, *, positive: bool = False,
               nonnegative: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path, "wrong type", expected="a number", found=describe(value))
        if positive and not value > 0:
            raise self.error(path, "out of range", expected="a number > 0", found=describe(value))
        if nonnegative and not value >= 0:
            raise self.error(path, "out of range", expected="a number >= 0", found=describe(value))
        return float(value)

    def string(self, path: Path_, value: Any, *, choices: Iterable[str] | None = None) -> str:
        if not isinstance(value, str):
            raise self.error(path, "wrong type", expected="a string", found=describe(value))
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                raise self.error(path, f"unknown value '{value}'",
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


class UniqueKeySafeLoader(yaml.SafeLoader):
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


def parse_yaml(text: str, path: str = "<string>") -> Document:
    """Parse YAML text safely; syntax errors and repeated keys become one-line :class:`SpecError`s."""
    try:
        data = yaml.load(text, Loader=UniqueKeySafeLoader)  # a SafeLoader subclass
        node = yaml.compose(text, Loader=UniqueKeySafeLoader)
        lines: dict[Path_, int] = {}
        if node is not None:
            _walk(node, (), lines)
    except DuplicateKeyError as err:
        raise SpecError(f"duplicate key '{err.key}' (first at line {err.first})", file=path,
                        line=err.line) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SpecError(f"not valid YAML: {err.problem or err.context}", file=path, line=line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"not valid YAML: {err}", file=path) from None
    except ValueError as err:  # impossible typed scalars: 2001-13-45, !!float abc
        raise SpecError(f"not valid YAML: {err}", file=path) from None
    except RecursionError:  # self-referencing anchors: a: &x [*x]
        raise SpecError("not valid YAML: nested too deeply or refers to itself", file=path) from None
    return Document(path=path, data=data, lines=lines)


def load_yaml(path: str | Path) -> Document:
    """Read and parse a YAML file; a missing or unreadable file is a :class:`SpecError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read file: {err.__class__.__name__}", file=str(path)) from None
    return parse_yaml(text, str(path))


def dump_yaml(data: Any) -> str:
    """YAML text in block style with keys in the order given (for ``best.yaml`` and friends)."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
