"""The layers import one way, read from the source with ``ast``.

Every ``import`` and ``from … import`` is an edge between two of the project's modules,
whether it runs on import (top of the file, a class body, a ``try`` or an ``if`` at top
level) or sits inside a function body; ``if TYPE_CHECKING:`` blocks never run and are left
out. An edge goes to the module named (``from kg import store`` names ``kg.store``), not to
the packages above it.

The layers, bottom to top (:data:`LAYERS`): ``kg`` (the core: records, readers, targets,
mapping, store), ``embeddings`` (the similarity index), ``apps`` (review, suggest, library
linking, drafting), ``api`` (the web API and pages) and ``ikg`` (the command line). A module
imports only from its own layer or the ones below, and no import cycle exists, neither between
modules nor between packages.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: bottom to top; a layer imports only from itself and the layers before it
LAYERS = ("kg", "embeddings", "apps", "api", "ikg")
PACKAGES = LAYERS


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    deferred: bool
    where: str  # file:line, for the failure message


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def project_modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "static" in path.relative_to(ROOT).parts or path.name == "__main__.py":
                continue  # a __main__ runs the program when imported
            out[_module_name(path)] = path
    return out


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A project module's syntax tree, parsed once for every scan of the run (the scans only
    read the trees)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
    """The import statements of a module and whether each sits in a function body."""

    def walk(node: ast.AST, deferred: bool) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, deferred
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for orelse in child.orelse:  # the else branch runs
                    yield from walk(orelse, deferred)
            else:
                inner = deferred or isinstance(
                    child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                )
                yield from walk(child, inner)

    yield from walk(tree, False)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def import_edges() -> list[Edge]:
    """Every import between two project modules."""
    modules = project_modules()
    edges = []
    for module, path in modules.items():
        tree = parsed(path)
        package = _package_of(module, path)
        for node, deferred in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    targets.append(sub if sub in modules else base)
            for target in dict.fromkeys(targets):
                while target and target not in modules:  # ``import kg.x.y`` names kg.x.y
                    target = target.rpartition(".")[0]
                if target and target != module:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    edges.append(Edge(module, target, deferred, where))
    return edges


def _components(nodes: Iterable[str], succ: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(component)
    return out


def cycle_edges(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges that lie on some cycle: both ends in one strongly connected component."""
    pairs = set(pairs)
    succ: dict[str, set[str]] = {}
    for a, b in pairs:
        succ.setdefault(a, set()).add(b)
    nodes = {n for pair in pairs for n in pair}
    member = {n: i for i, comp in enumerate(_components(nodes, succ)) for n in comp}
    return {(a, b) for a, b in pairs if a in member and member.get(b) == member[a]}


def top_package(module: str) -> str:
    return module.split(".")[0]


def _unit(module: str) -> str:
    """The package a module counts under: its layer, or for ``apps`` its application."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "apps" and len(parts) > 1 else parts[0]


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_edges()


def _listing(pairs: Iterable[tuple[str, str]], edges: list[Edge]) -> str:
    where: dict[tuple[str, str], list[str]] = {}
    for e in edges:
        where.setdefault((e.source, e.target), []).append(
            e.where + (" (deferred)" if e.deferred else "")
        )
    return "\n".join(f"  {a} -> {b}: {', '.join(where.get((a, b), []))}" for a, b in sorted(pairs))


def test_the_scan_sees_the_imports(edges: list[Edge]) -> None:
    """The scanner finds module-level, deferred and relative imports (a check on the check)."""
    pairs = {(e.source, e.target, e.deferred) for e in edges}
    assert ("embeddings.index", "embeddings.faiss_index", False) in pairs  # from .faiss_index
    assert ("kg.remote", "kg.errors", False) in pairs
    assert any(e.deferred for e in edges)
    assert {top_package(e.source) for e in edges} == set(LAYERS)
    assert not any(e.target == "embeddings.index" and e.source == "embeddings.index" for e in edges)


def test_no_module_cycle(edges: list[Edge]) -> None:
    """No cycle between modules, through module-level and deferred imports alike."""
    found = cycle_edges((e.source, e.target) for e in edges)
    assert not found, "import cycle between modules, edges:\n" + _listing(found, edges)


def test_no_package_cycle(edges: list[Edge]) -> None:
    """No cycle between the layers' packages, nor between the applications (apps.review,
    apps.suggest, apps.library, apps.draft: one feature does not reach into another and back).
    A package and its own sub-packages (api and api.routers) are one unit here."""
    pairs = {
        (_unit(e.source), _unit(e.target)) for e in edges if _unit(e.source) != _unit(e.target)
    }
    found = cycle_edges(pairs)
    listing = [
        f"  {e.source} -> {e.target} ({e.where})"
        for e in edges
        if (_unit(e.source), _unit(e.target)) in found
    ]
    assert not found, "import cycle between packages:\n" + "\n".join(listing)


def test_layers_import_downwards(edges: list[Edge]) -> None:
    """kg < embeddings < apps < api < ikg: nothing imports a layer above its own."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [
        f"  {e.source} -> {e.target} ({e.where}{', deferred' if e.deferred else ''})"
        for e in edges
        if rank[top_package(e.target)] > rank[top_package(e.source)]
    ]
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    """The checks on made-up edges: a deferred cycle and an upward import both show."""
    made_up = [
        Edge("kg.a", "kg.b", False, "kg/a.py:1"),
        Edge("kg.b", "kg.a", True, "kg/b.py:9"),
        Edge("kg.store", "apps.review", True, "kg/store.py:5"),
    ]
    assert cycle_edges((e.source, e.target) for e in made_up) == {
        ("kg.a", "kg.b"),
        ("kg.b", "kg.a"),
    }
    rank = {name: i for i, name in enumerate(LAYERS)}
    assert [e for e in made_up if rank[top_package(e.target)] > rank[top_package(e.source)]] == [
        made_up[2]
    ]


def test_cycle_finder() -> None:
    """The cycle finder on a made-up graph: a 3-cycle, a 2-cycle, a tail and a lone edge."""
    pairs = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"), ("f", "a")}
    assert cycle_edges(pairs) == {("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d")}
    assert cycle_edges({("a", "b")}) == set()


def test_every_project_exception_is_an_ikg_error() -> None:
    """One error family: each exception class the three packages define derives from IkgError
    (some also keep a built-in base, e.g. StaleIndexError is a RuntimeError)."""
    import importlib
    import inspect

    from kg.errors import IkgError

    outside = []
    for name in project_modules():
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            mine = cls.__module__ == name and issubclass(cls, BaseException)
            if mine and not issubclass(cls, IkgError):
                outside.append(f"{name}.{cls_name}")
    assert not outside, f"exceptions outside the IkgError family: {outside}"


# --------------------------------------------------------------------------- function length

#: A function (or method) longer than this, from its ``def`` line to its last line, is to be
#: split into named steps.
MAX_FUNCTION_LINES = 60


def function_lengths(tree: ast.AST) -> Iterable[tuple[str, int, int]]:
    """(qualified name, first line, lines) of every function and method of a module;
    a nested function's name is its enclosing ones' joined by dots (``_Reader.parse``)."""

    def walk(node: ast.AST, prefix: str) -> Iterable[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    assert child.end_lineno is not None
                    yield name, child.lineno, child.end_lineno - child.lineno + 1
                yield from walk(child, f"{name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


@pytest.fixture(scope="module")
def long_functions() -> dict[tuple[str, str], str]:
    """(module, qualified name) → where and how long, for each function past the limit."""
    out: dict[tuple[str, str], str] = {}
    for module, path in project_modules().items():
        tree = parsed(path)
        for name, line, length in function_lengths(tree):
            if length > MAX_FUNCTION_LINES:
                out[(module, name)] = f"{path.relative_to(ROOT)}:{line} ({length} lines)"
    return out


def test_the_length_scan_sees_functions_and_methods() -> None:
    """The scan measures functions, methods and nested functions (a check on the check)."""
    tree = ast.parse(
        "def f():\n    pass\n\nclass C:\n    def m(self):\n        def inner():\n"
        "            return 1\n        return inner\n"
    )
    assert list(function_lengths(tree)) == [("f", 1, 2), ("C.m", 5, 4), ("C.m.inner", 6, 2)]


def test_no_long_function(long_functions: dict[tuple[str, str], str]) -> None:
    """Every function and method of kg/, embeddings/, apps/, api/ and ikg/ fits in
    MAX_FUNCTION_LINES lines (docstring included): longer ones are split into named steps."""
    assert not long_functions, (
        f"functions past {MAX_FUNCTION_LINES} lines: split them into named steps\n"
        + "\n".join(f"  {m}.{f}: {where}" for (m, f), where in sorted(long_functions.items()))
    )


# --------------------------------------------------------------------------- settings
#: modules that may read the settings from the environment (kg.settings.get_settings): the
#: command line (every module of ``ikg``), the API's app factory and kg.settings itself; every
#: other function takes a Settings from its caller
SETTINGS_READERS = frozenset({"kg.settings", "api.app", "api.server"})


def _reads_settings(module: str) -> bool:
    return module in SETTINGS_READERS or top_package(module) == "ikg"


def _is_settings_name(name: str) -> bool:
    return name == "settings" or name.endswith("_settings")


def _mentions_any(annotation: ast.expr | None) -> bool:
    """``Any``, ``typing.Any``, ``Any | None``, ``Optional[Any]``, ``"Any"`` …"""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    return any(
        (isinstance(n, ast.Name) and n.id == "Any")
        or (isinstance(n, ast.Attribute) and n.attr == "Any")
        for n in ast.walk(annotation)
    )


def untyped_settings(tree: ast.AST, where: str) -> list[str]:
    """Parameters and variables named ``settings`` / ``*_settings`` annotated with ``Any``."""
    out = []
    for node in ast.walk(tree):
        named: list[tuple[str, ast.expr | None, int]] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            params = [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, (a.vararg, a.kwarg))]
            named = [(p.arg, p.annotation, p.lineno) for p in params]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            named = [(name, node.annotation, node.lineno)]
        out += [
            f"{where}:{line} {name}"
            for name, annotation, line in named
            if _is_settings_name(name) and _mentions_any(annotation)
        ]
    return out


def settings_reads(tree: ast.AST, where: str) -> list[str]:
    """Calls of ``get_settings`` (bare or as an attribute) and imports of it."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "get_settings") or (
                isinstance(f, ast.Attribute) and f.attr == "get_settings"
            ):
                out.append(f"{where}:{node.lineno} get_settings()")
        elif isinstance(node, ast.ImportFrom) and any(
            alias.name == "get_settings" for alias in node.names
        ):
            out.append(f"{where}:{node.lineno} import get_settings")
    return out


def _scan(check: Callable[[ast.AST, str], list[str]], modules: Iterable[str]) -> list[str]:
    paths = project_modules()
    found = []
    for module in modules:
        path = paths[module]
        tree = parsed(path)
        found += check(tree, str(path.relative_to(ROOT)))
    return found


def test_the_settings_scans_see_what_they_look_for() -> None:
    """Both scans on made-up code (a check on the checks)."""
    source = (
        "from typing import Any, Optional\n"
        "import typing\n"
        "from kg.settings import get_settings\n"
        "def f(a, settings: Any = None, *, api_settings: 'Any' = None, other: Any = 1): ...\n"
        "async def g(settings: Optional[Any]) -> None: ...\n"
        "def h(settings: Settings, store_settings: Settings | None = None): ...\n"
        "class C:\n"
        "    def m(self) -> None:\n"
        "        self.settings: typing.Any = get_settings()\n"
        "        settings: Settings = kg.settings.get_settings()\n"
    )
    tree = ast.parse(source)
    assert untyped_settings(tree, "x.py") == [
        "x.py:4 settings",
        "x.py:4 api_settings",
        "x.py:5 settings",
        "x.py:9 settings",
    ]
    assert sorted(settings_reads(tree, "x.py")) == [
        "x.py:10 get_settings()",
        "x.py:3 import get_settings",
        "x.py:9 get_settings()",
    ]
    assert _reads_settings("ikg.cli") and _reads_settings("ikg.review")
    assert _reads_settings("ikg.search") and _reads_settings("api.server")
    assert not _reads_settings("apps.review.similarity") and not _reads_settings("api.services")


def test_settings_are_typed() -> None:
    """No ``settings: Any``: the settings are a :class:`kg.settings.Settings` (or a part of it)
    wherever they are passed."""
    found = _scan(untyped_settings, project_modules())
    assert not found, "settings annotated Any (use kg.settings.Settings):\n  " + "\n  ".join(found)


def test_only_the_commands_and_the_app_read_the_settings() -> None:
    """``get_settings()`` (the environment's ``IKG_`` variables) is called by the commands and
    the API's app factory only; everything below takes the settings from its caller."""
    assert not SETTINGS_READERS - project_modules().keys(), "SETTINGS_READERS names no module"
    found = _scan(settings_reads, [m for m in project_modules() if not _reads_settings(m)])
    assert not found, (
        "get_settings outside the commands and the app factory (take a Settings from the "
        "caller instead):\n  " + "\n  ".join(found)
    )


def deferred_imports(tree: ast.AST) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
    """The imports of project modules inside function bodies, and whether each sits in a
    ``try`` whose handler catches ImportError (an optional extra that may be missing)."""

    def catches_import_error(node: ast.AST) -> bool:
        return isinstance(node, ast.Try) and any(
            h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers
        )

    def walk(
        node: ast.AST, deferred: bool, guarded: bool
    ) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                if deferred and _names_project_module(child):
                    yield child, guarded
                continue
            inner = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner, guarded or catches_import_error(child))

    yield from walk(tree, False, False)


def _names_project_module(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or (node.module or "").split(".")[0] in PACKAGES
    return any(alias.name.split(".")[0] in PACKAGES for alias in node.names)


def test_project_imports_sit_at_module_top() -> None:
    """A project module is imported at the top of the file; inside a function only where an
    optional extra may be missing: the command line starting the web app (``ikg serve``, the
    ``api`` extra), or an import guarded by ``except ImportError`` that says what to install."""
    stray = []
    for module, path in project_modules().items():
        tree = parsed(path)
        for node, guarded in deferred_imports(tree):
            text = ast.unparse(node)
            web_app = top_package(module) == "ikg" and " api." in f" {text.split()[1]}"
            if not guarded and not web_app:
                stray.append(f"{path.relative_to(ROOT)}:{node.lineno} {text}")
    assert not stray, "imports inside functions (move them to the module top):\n  " + "\n  ".join(
        stray
    )


def test_the_deferred_scan_sees_guards() -> None:
    """The scan on made-up code: a plain deferred import, a guarded one, a top-level one."""
    tree = ast.parse(
        "import kg.store\n"
        "def f():\n    from kg import mapping\n"
        "def g():\n    try:\n        from embeddings import index\n"
        "    except ImportError:\n        pass\n"
        "def h():\n    import json\n"
    )
    found = [(ast.unparse(n), guarded) for n, guarded in deferred_imports(tree)]
    assert found == [("from kg import mapping", False), ("from embeddings import index", True)]
