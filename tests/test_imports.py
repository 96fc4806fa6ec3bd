"""The package's import structure: no cycles (not even through lazy imports), and every module imports alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted((ROOT / "kit").rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The kit modules ``name`` imports anywhere in its body (module level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:  # `from kit.quant import methods` imports the module kit.quant.methods
                target = f"{base}.{alias.name}"
                found.add(target if target in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_the_cycle_finder_finds_a_lazy_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_kit():
    """The CLI entry imports its groups, adapters import their base, never the reverse: a DAG, lazy imports included."""
    assert len(MODULES) > 20
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert graph["kit.cli.main"] >= {"kit.cli.quant", "kit.cli.govern"}, "the graph sees the entry's imports"
    cycles = _cycles(graph)
    assert cycles == [], "import cycles (move the shared piece into a module both can import):\n" + "\n".join(
        f"  {' <-> '.join(c)}: " + "; ".join(f"{m} imports {sorted(graph[m] & set(c))}" for m in c) for c in cycles)


def test_every_module_imports_alone():
    """Each module imported first, with no other kit module loaded (one interpreter; heavy libraries stay cached)."""
    script = (
        "import importlib, sys, traceback\n"
        "bad = []\n"
        f"for name in {sorted(set(MODULES) - {'kit.__main__'})!r}:  # __main__ runs the CLI\n"
        "    for loaded in [m for m in sys.modules if m == 'kit' or m.startswith('kit.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == ""


# The house's floors, lowest first: a module imports only from its own floor or the floors below.
# Foundation modules (kit/*.py) sit on floor 0; report, debug and teach share the top room floor and
# do not import one another unless CROSSINGS names the pair with its reason.
FLOORS = {"kit": 0, "kit.eval": 1, "kit.quant": 2, "kit.govern": 3,
          "kit.report": 4, "kit.debug": 4, "kit.teach": 4, "kit.cli": 5}
ENTRIES = {"kit.__main__": "kit.cli"}  # `python -m kit` is the CLI's entry: it lives on the CLI floor
# (importing module, imported module) → why this one crossing between sibling rooms is allowed.
CROSSINGS: dict[tuple[str, str], str] = {
    ("kit.teach.panel_view", "kit.report.html"):
        "the panel shows its results with the reports' HTML renderer, so a learner and a reader see one look",
    ("kit.teach.check", "kit.debug.regressions"):
        "the debugging exercise's check grades a diagnosis against the planted regression's hidden answer",
    ("kit.teach.drill", "kit.debug.regressions"):
        "the pairing drill draws a planted regression, builds its hint ladder and scores the pair's hypothesis",
    ("kit.teach.drill", "kit.debug"):
        "the pairing drill runs the instruments the navigator picks and the fix the pair chooses through the "
        "debugger's own path",
    ("kit.teach.drill", "kit.debug.diagnose"):
        "the pairing drill runs only the instruments the navigator picks (diagnose's ``instruments``)",
}


def _room(module: str) -> str:
    """The room a module lives in: ``kit`` for foundation modules, else ``kit.<room>``."""
    if module in ENTRIES:
        return ENTRIES[module]
    parts = module.split(".")
    return "kit" if len(parts) == 1 or ".".join(parts[:2]) not in FLOORS else ".".join(parts[:2])


def _layer_breaks(graph: dict[str, set[str]]) -> list[str]:
    """Imports that climb the floors, or cross between rooms of one floor without a reason in CROSSINGS."""
    breaks = []
    for module in sorted(graph):
        if module == "kit":  # the package face re-exports lazily from every room (kit/__init__.py)
            continue
        here = _room(module)
        for target in sorted(graph[module]):
            there = _room(target)
            if there == here or (module, target) in CROSSINGS:
                continue
            if FLOORS[there] > FLOORS[here]:
                breaks.append(f"{module} imports {target}: {there} is above {here}")
            elif FLOORS[there] == FLOORS[here] and here != "kit":
                breaks.append(f"{module} imports {target}: {here} and {there} are sibling rooms")
    return breaks


def test_the_layer_check_finds_a_climbing_and_a_crossing_import():
    graph = {"kit.models": {"kit.quant.methods.bnb"}, "kit.teach.check": {"kit.debug.checks"},
             "kit.quant.spec": {"kit.eval.record", "kit.errors"}, "kit.cli.main": {"kit.teach.check"},
             "kit.debug.checks": set(), "kit.quant.methods.bnb": set(), "kit.eval.record": set(), "kit.errors": set()}
    assert _layer_breaks(graph) == [
        "kit.models imports kit.quant.methods.bnb: kit.quant is above kit",
        "kit.teach.check imports kit.debug.checks: kit.teach and kit.debug are sibling rooms",
    ]


def test_every_room_is_on_a_floor_and_every_crossing_is_used():
    rooms = {_room(m) for m in MODULES}
    assert rooms == set(FLOORS), f"a room without a floor (add it to FLOORS): {sorted(rooms - set(FLOORS))}"
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    unused = [pair for pair in CROSSINGS if pair[1] not in graph.get(pair[0], set())]
    assert unused == [], f"crossings no module makes any more (remove them from CROSSINGS): {unused}"


def test_imports_only_go_down_the_floors():
    """Foundation → eval → quant → govern → report / debug / teach → cli; lazy imports included."""
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    breaks = _layer_breaks(graph)
    assert breaks == [], "imports against the layer order (move the shared piece down a floor):\n  " + "\n  ".join(breaks)
