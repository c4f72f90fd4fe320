"""The import graph, read from the source with ``ast``: one-way layers, no cycle, no late imports.

The layers (``docs/architecture.md``): base -> workload -> analysis -> pe/memory -> design ->
dataflow (templates) -> evaluation -> importers -> exploration -> {rtl, verif, synth} -> cli. A
module may import its own layer or a lower one, never a higher one, not even inside a function. Imports under
``if TYPE_CHECKING:`` are annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
#: Import name -> source folder (``rtl/`` and ``verif/`` install as ``archmodel.rtl``/``.verif``).
PACKAGES = {"archmodel": ROOT / "archmodel", "archmodel.rtl": ROOT / "rtl", "archmodel.verif": ROOT / "verif"}
#: Lowest first; a module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("archmodel", "archmodel.errors", "archmodel.yamlio", "archmodel.tables", "archmodel.io",
              "archmodel.units")),
    ("workload", ("archmodel.workload",)),
    ("analysis", ("archmodel.analysis",)),
    ("pe/memory", ("archmodel.pe", "archmodel.memory", "archmodel.tech")),
    ("design", ("archmodel.design",)),
    ("dataflow", ("archmodel.dataflow",)),
    ("evaluation", ("archmodel.evaluation", "archmodel.templates", "archmodel.plots")),
    ("importers", ("archmodel.importers",)),
    ("exploration", ("archmodel.exploration",)),
    ("rtl/verif/synth", ("archmodel.rtl", "archmodel.verif", "archmodel.synth")),
    ("cli", ("archmodel.cli", "archmodel.__main__")),
]


def modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for f in folder.rglob("*.py"):
            parts = f.relative_to(folder).with_suffix("").parts
            if (pkg == "archmodel" and parts[0] in ("rtl", "verif")) or "gen" in parts:
                continue
            name = ".".join([pkg, *(parts[:-1] if parts[-1] == "__init__" else parts)])
            out[name] = f
    return out


MODULES = modules()


def imports(name: str, source: str, is_pkg: bool = False) -> list[tuple[str, int]]:
    """(imported archmodel module, line) of every import statement of module ``name``, at any depth."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".")[: len(name.split(".")) - (0 if is_pkg else 1) - (child.level - 1)]
                    mod = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    mod = child.module or ""
                subs = [f"{mod}.{a.name}" for a in child.names if f"{mod}.{a.name}" in MODULES]
                found.extend((m, child.lineno) for m in (subs if len(subs) == len(child.names) else [mod]))
            visit(child)

    visit(ast.parse(source))
    out = []
    for mod, line in found:
        while mod not in MODULES and "." in mod:
            mod = mod.rsplit(".", 1)[0]
        if mod in MODULES and mod != name:
            out.append((mod, line))
    return out


def layer(module: str) -> int:
    best = max(((len(p), i) for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes
                if module == p or module.startswith(p + ".")), default=None)
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS and docs/architecture.md"
    return best[1]


GRAPH = {name: imports(name, path.read_text(encoding="utf-8"), path.name == "__init__.py")
         for name, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer(name)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [f"{MODULES[a].relative_to(ROOT)}:{line}: {LAYERS[layer(a)][0]} imports {b} "
              f"({LAYERS[layer(b)][0]})"
              for a, deps in GRAPH.items() for b, line in deps if layer(b) > layer(a)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_the_library_never_imports_the_cli() -> None:
    cli = layer("archmodel.cli")
    offenders = [a for a, deps in GRAPH.items() if layer(a) < cli and any(layer(b) == cli for b, _ in deps)]
    assert not offenders


def test_the_import_graph_has_no_cycle() -> None:
    g = nx.DiGraph()
    g.add_nodes_from(GRAPH)
    g.add_edges_from((a, b) for a, deps in GRAPH.items() for b, _ in deps)
    cycles = sorted(nx.simple_cycles(g), key=len)
    assert not cycles, f"import cycles, shortest first: {cycles[:5]}"


def test_no_import_waits_for_the_bottom_of_a_file() -> None:
    """``noqa: E402`` marks an import placed after code; the registry made them unnecessary."""
    files = [*MODULES.values(), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "tests").rglob("*.py")]
    marked = [str(f.relative_to(ROOT)) for f in files if "noqa: E402" in f.read_text(encoding="utf-8")
              and f.name != Path(__file__).name]
    assert not marked, f"imports after code in {marked}"


def test_the_checker_sees_late_and_relative_imports() -> None:
    """The checks above can fail: a function-level relative import from dataflow into the evaluation
    layer is found and ranks upward."""
    found = imports("archmodel.dataflow.pim", "def f():\n    from ..evaluation import evaluate\n")
    assert found == [("archmodel.evaluation", 2)]
    assert layer("archmodel.evaluation") > layer("archmodel.dataflow.pim")
    assert imports("archmodel.verif.check", "from . import runner\n") == [("archmodel.verif.runner", 1)]
