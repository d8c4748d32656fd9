"""The package's layers: imports point down, never to another module's private names, no cycles.

Layers, lowest first (DESIGN.md §2):

0. ``errors``, ``_json``, ``outputs``, ``limits``, ``progress``: the error hierarchy, JSON conversion, atomic
   writing and the bounds on options,
   used everywhere and importing nothing above them;
1. ``sem``: the estimation engine, which knows nothing of surveys;
2. ``survey``: specs, answer scales, readers, simulation, bundled data;
3. ``psychometrics``: screening, reliability, validity;
4. ``workflow``: verdicts, hypotheses, alternatives, the Analysis;
5. ``report``: formats typed results;
6. ``commands``, ``cli``, ``__main__`` and the package's lazy namespace.

Imports inside functions count as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "riskmodel_sem"

_RANKS = {"errors": 0, "_json": 0, "outputs": 0, "limits": 0, "progress": 0, "sem": 1, "survey": 2, "psychometrics": 3,
          "workflow": 4, "report": 5, "commands": 6, "cli": 6, "__main__": 6, "": 6}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        mods[name] = path
    return mods


MODULES = _modules()


def _rank(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top not in _RANKS:
        pytest.fail(f"{module} is in no layer; add its folder to the layer table.")
    return _RANKS[top]


def _imports(module: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every import in ``module``."""
    path = MODULES[module]
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(base[:len(base) - node.level + 1]
                                  + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "riskmodel_sem":
                continue
            names = [a.name for a in node.names]
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            out.append((node.lineno, target, [n for n in names if f"{target}.{n}" not in MODULES]))
            out += [(node.lineno, s, []) for s in subs]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names
                    if a.name.split(".")[0] == "riskmodel_sem"]
    return out


def _edges() -> dict[str, set[str]]:
    return {m: {t for _, t, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}


def test_every_import_points_down_the_layers():
    bad = []
    for module in MODULES:
        for line, target, names in _imports(module):
            if target == "riskmodel_sem" and names and all(n.startswith("__") for n in names):
                continue  # the version string
            if target in MODULES and _rank(target) > _rank(module):
                bad.append(f"{MODULES[module].name}:{line}: {module} imports {target}")
    assert not bad, "imports pointing up:\n" + "\n".join(bad)


def test_the_engine_knows_nothing_of_surveys():
    bad = [f"{m} imports {t}" for m, ts in _edges().items() if m.startswith("riskmodel_sem.sem")
           for t in ts if not t.startswith("riskmodel_sem.sem") and _rank(t) != 0]
    assert not bad, "\n".join(bad)


def test_no_module_imports_another_modules_private_names():
    bad = []
    for module in MODULES:
        for line, target, names in _imports(module):
            if target == module:
                continue
            bad += [f"{module}:{line} imports {target}.{n}" for n in names
                    if n.startswith("_") and not n.startswith("__")]
        # attribute access on an imported package module: ``estimation._discrepancy``
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        aliases = {}
        for line, target, _ in _imports(module):
            if target in MODULES and target != module:
                aliases.setdefault(target.rsplit(".", 1)[-1], target)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                bad.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


def test_no_import_cycles():
    edges = _edges()
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            # a package importing its own submodules lazily is not a cycle of design
            if len(comp) > 1 and not all(c == min(comp) or c.startswith(min(comp) + ".")
                                         for c in comp):
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"
