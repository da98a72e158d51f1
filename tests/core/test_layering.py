"""The import contract, read from the import graph of the code (grimp parses every import statement,
including those inside functions, so an import moved into a function does not hide a cycle).

- the core (`shopfloor`) imports no module;
- no module imports the dashboards (they are the read side over every module);
- a module, or the dashboards, uses another module only through its public `services`;
- no import cycles, between packages or inside one."""
from __future__ import annotations

import grimp
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PACKAGES = ("shopfloor", "modules", "dashboards")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES)


def _component(module: str) -> str:
    """`shopfloor`, `dashboards` or `modules.<name>`."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "modules" else parts[0]


def _edges(graph):
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            yield importer, imported


def _where(graph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = ", ".join(str(d["line_number"]) for d in details)
    return f"{importer} → {imported} (line {lines})"


def test_the_core_imports_no_module(graph):
    found = [_where(graph, a, b) for a, b in _edges(graph)
             if _component(a) == "shopfloor" and _component(b) != "shopfloor"]
    assert found == []


def test_no_module_imports_the_dashboards(graph):
    found = [_where(graph, a, b) for a, b in _edges(graph)
             if _component(a).startswith("modules.") and _component(b) == "dashboards"]
    assert found == []


def test_modules_use_each_other_only_through_services(graph):
    found = []
    for a, b in _edges(graph):
        source, target = _component(a), _component(b)
        if source == target or target in ("shopfloor", "dashboards") or source == "shopfloor":
            continue
        if b != f"{target}.services":
            found.append(_where(graph, a, b))
    assert found == []


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_import_cycles(graph):
    assert _cycles(graph) == []
