"""SHACL validation of a table's graph against ontology/shapes.ttl.

The shapes need the category concepts (their level and broader links) and the
class hierarchy of the ontology, so both are mixed into the data before validation.

Two engines give the same results (tests/test_validate_engines.py compares them one by
one): ``native`` (the default) runs the shapes compiled to SPARQL (:mod:`kg.shacl_sparql`)
on an in-memory pyoxigraph store, 20-100 ms per table (the 166-indicator seed: <0.1 s);
``pyshacl``, the reference implementation, takes 2-3 s for the seed. The setting
``validate_engine`` (IKG_VALIDATE_ENGINE) chooses: a command passes it to :func:`use_engine`,
a caller may name the engine per call.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import pyoxigraph as ox
from rdflib import BNode, Graph
from rdflib.namespace import SH
from rdflib.term import Node

import ontology

from .errors import ValidationFailed
from .namespaces import PREFIXES
from .settings import default_settings
from .shacl_sparql import Compiled, Violation, compile_shapes
from .store import to_ox

Engine = Literal["native", "pyshacl"]


@cache
def shapes_graph() -> Graph:
    g = Graph()
    g.parse(ontology.path("shapes.ttl"), format="turtle")
    return g


@cache
def ontology_graph() -> Graph:
    g = Graph()
    for name in ("indicators.ttl", "categories.ttl"):
        g.parse(ontology.path(name), format="turtle")
    return g


@cache
def compiled_shapes() -> Compiled:
    """shapes.ttl compiled to SPARQL (once per process); fails on a feature it cannot run."""
    return compile_shapes(shapes_graph())


@cache
def _ontology_quads() -> tuple[ox.Quad, ...]:
    """The ontology (what :func:`ontology_graph` holds) as pyoxigraph quads, parsed by
    pyoxigraph (rdflib's parser took 0.15 s per process)."""
    return tuple(
        ox.Quad(t.subject, t.predicate, t.object)
        for name in ("indicators.ttl", "categories.ttl")
        for t in ontology.triples(name)
    )


def violations(data: Graph) -> list[Violation]:
    """Every result of the native engine (all severities) on one table's graph."""
    store = ox.Store()
    store.extend(_ontology_quads())
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)  # type: ignore[arg-type]
    return compiled_shapes().validate(store)


#: the engine conforms() and check() use when given none; the commands set it from their
#: settings (use_engine), a library caller keeps the declared default
_engine: list[Engine] = [default_settings().validate_engine]


def use_engine(engine: Engine) -> None:
    """The engine for the calls that name none (the CLI: settings.validate_engine)."""
    _engine[0] = engine


def current_engine() -> Engine:
    """The engine the calls that name none use (a build hands it to its worker processes)."""
    return _engine[0]


def conforms(data: Graph, engine: Engine | None = None) -> tuple[bool, str]:
    """(conforms, report text) for one table's graph; engine None: the setting's default.

    Results of severity sh:Warning or sh:Info do not break conformance."""
    if (engine or _engine[0]) == "pyshacl":
        return _pyshacl(data)
    found = violations(data)
    ok = not any(v.severity == SH.Violation for v in found)
    return ok, report_text(ok, found, data)


def _pyshacl(data: Graph) -> tuple[bool, str]:
    mixed = Graph()
    for triple in data:
        mixed.add(triple)
    for triple in ontology_graph():
        mixed.add(triple)
    # imported here: pyshacl takes about half a second to import, and only the reference
    # engine needs it
    from pyshacl import validate

    ok, _report_graph, text = validate(
        mixed,
        shacl_graph=shapes_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return bool(ok), str(text)


_SEVERITY = {SH.Violation: "违反 Violation", SH.Warning: "警告 Warning", SH.Info: "提示 Info"}


def report_text(ok: bool, found: list[Violation], data: Graph) -> str:
    """The results, one block each: severity, component, shape, focus node, path, value, message."""
    lines = [
        "校验报告 / Validation Report",
        f"是否符合 / Conforms: {ok}",
        f"结果 / Results ({len(found)}):",
    ]
    if not found:
        return "\n".join(lines)
    names = Graph()  # the project's prefixes, the shapes' and the data's
    for prefix, namespace in [*PREFIXES.items(), *shapes_graph().namespaces(), *data.namespaces()]:
        names.bind(prefix, namespace, override=False)

    def show(node: Node | None) -> str:
        if node is None:
            return "-"
        if isinstance(node, BNode) and (node, SH.path, None) in shapes_graph():
            # an anonymous property shape: by its path
            return f"[ sh:path {show(shapes_graph().value(node, SH.path))} ]"
        return node.n3(names.namespace_manager)

    order = sorted(found, key=lambda v: (v.severity != SH.Violation, str(v.focus), str(v.shape)))
    for v in order:
        lines += [
            f"{_SEVERITY.get(v.severity, show(v.severity))}: {show(v.component)}",
            f"\t形状 / Source Shape: {show(v.shape)}",
            f"\t焦点节点 / Focus Node: {show(v.focus)}",
            f"\t路径 / Result Path: {show(v.path)}",
            f"\t值 / Value Node: {show(v.value)}",
            f"\t消息 / Message: {v.message}",
        ]
    return "\n".join(lines)


def check(data: Graph, file: str, engine: Engine | None = None) -> None:
    ok, text = conforms(data, engine)
    if not ok:
        raise ValidationFailed(file, text)
