"""The import contract (issue 8), checked on the real import graph with grimp (import-linter's engine).

(a) Layers: core <- clients <- renderers <- compiler <- publish. A lower package never imports a higher one.
(b) No import cycle among the modules of any one package. grimp sees every import statement, also those
    inside functions, so a "lazy" import that closes a cycle counts.
"""
from __future__ import annotations

import grimp
import pytest

LAYERS = ("server", "publish", "compiler", "renderers", "clients", "core")  # highest first

# Cycles still known to exist, each as the set of modules of one strongly connected component.
# All in compiler/, being removed on other branches (issue 8 parts 1 and 3); once those are merged, empty this list:
# test_known_cycles_are_still_there fails for every entry that is gone.
KNOWN_CYCLES: list[set[str]] = [
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*LAYERS, cache_dir=None)


def describe(graph: grimp.ImportGraph, chain: tuple[str, ...] | list[str]) -> str:
    steps = []
    for importer, imported in zip(chain, chain[1:]):
        lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
        steps.append(f"{importer} -> {imported} (line {', '.join(map(str, lines))})")
    return "\n    ".join(steps)


def test_layers_import_one_way(graph):
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS)
    problems = []
    for dep in sorted(illegal, key=lambda d: (d.importer, d.imported)):
        for route in dep.routes:
            for head in route.heads:
                for tail in route.tails:
                    chain = [head, *route.middle, tail]
                    problems.append(f"{dep.importer} (lower) imports {dep.imported} (higher):\n    "
                                    + describe(graph, chain))
    assert not problems, ("imports must flow core <- clients <- renderers <- compiler <- publish:\n"
                          + "\n".join(problems))


def cycles(graph: grimp.ImportGraph, package: str) -> list[set[str]]:
    """Strongly connected components of more than one module (or a module importing itself), Tarjan's way."""
    modules = sorted(graph.find_descendants(package) | {package})
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:  # iterative, so deep graphs cannot hit the recursion limit
        work = [(v, iter(edges[v]))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges[w])))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.add(w)
                        if w == node:
                            break
                    if len(component) > 1 or node in edges[node]:
                        found.append(component)

    for m in modules:
        if m not in index:
            visit(m)
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_no_import_cycle_inside_a_package(graph, package):
    problems = []
    for component in cycles(graph, package):
        if any(component <= allowed for allowed in KNOWN_CYCLES):  # a known cycle, or what is left of one
            continue
        members = sorted(component)
        chain = graph.find_shortest_chain(importer=members[0], imported=members[-1]) or ()
        back = graph.find_shortest_chain(importer=members[-1], imported=members[0]) or ()
        problems.append(f"{', '.join(members)}:\n    {describe(graph, chain)}\n    {describe(graph, back)}")
    assert not problems, f"import cycles inside {package}/ (function-level imports count):\n" + "\n".join(problems)


def test_known_cycles_are_still_there(graph):
    """KNOWN_CYCLES only shrinks: an entry whose cycle is gone must be deleted."""
    found = [c for p in LAYERS for c in cycles(graph, p)]
    gone = [sorted(c) for c in KNOWN_CYCLES if not any(len(c & f) > 1 for f in found)]
    assert not gone, f"these cycles are fixed; remove them from KNOWN_CYCLES: {gone}"


def test_the_checker_finds_a_function_level_cycle():
    """The contract is only worth something if it sees imports inside functions."""
    g = grimp.ImportGraph()
    for m in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        g.add_module(m)
    g.add_import(importer="pkg.a", imported="pkg.b", line_number=3, line_contents="from .b import x")
    g.add_import(importer="pkg.b", imported="pkg.a", line_number=9, line_contents="    from .a import y")
    g.add_import(importer="pkg.b", imported="pkg.c", line_number=4, line_contents="from .c import z")
    assert cycles(g, "pkg") == [{"pkg.a", "pkg.b"}]
