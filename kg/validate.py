"""SHACL validation of a table's graph with pyshacl, on an rdflib in-memory graph.

The shapes need the category concepts (their level and broader links) and the
class hierarchy of the ontology, so both are mixed into a copy of the data
graph before validation.
"""

from __future__ import annotations

from functools import cache

from rdflib import Graph

import ontology

from .errors import ValidationFailed


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


def conforms(data: Graph) -> tuple[bool, str]:
    """(conforms, report text) for one table's graph."""
    mixed = Graph()
    for triple in data:
        mixed.add(triple)
    for triple in ontology_graph():
        mixed.add(triple)
    # imported here: pyshacl takes about half a second to import, and only ikg build and
    # ikg validate check shapes (ikg parse, review and the API never do)
    from pyshacl import validate

    ok, _report_graph, text = validate(
        mixed,
        shacl_graph=shapes_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return bool(ok), str(text)


def check(data: Graph, file: str) -> None:
    ok, text = conforms(data)
    if not ok:
        raise ValidationFailed(file, text)
