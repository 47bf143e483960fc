"""The one place that mints URIs for data.

Same input → same URIs. A table is identified by its department, fiscal year
and table type, so re-ingesting a corrected file replaces the table instead of
adding a second copy. Items inside a table are identified by what they say
(an indicator by its categories and name), not by their position, so one
inserted row does not renumber the rest; repeats get an occurrence suffix.
"""

from __future__ import annotations

import hashlib

from rdflib import URIRef

from .namespaces import DATA


def _h(*parts: object, n: int = 12) -> str:
    joined = "\x1f".join(str(p) for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:n]


def table(department: str, fiscal_year: int, table_type: str, project: str | None = None) -> URIRef:
    """A table: its department, year and type, and for a project table its project."""
    parts: tuple[object, ...] = (department, fiscal_year, table_type)
    if project:
        parts += (project,)
    return DATA[f"table/{fiscal_year}-{_h(*parts)}"]


def graph_of(table_uri: URIRef) -> URIRef:
    """Named graph holding one table's triples: the table's own URI."""
    return table_uri


def organisation(name: str) -> URIRef:
    return DATA[f"org/{_h(name)}"]


def unit_entry(table_uri: URIRef, ordinal: int) -> URIRef:
    """A unit as listed in one table (its row there), linked to the shared organisation."""
    return URIRef(f"{table_uri}/unit/{ordinal}")


def source_document(sha256: str) -> URIRef:
    return DATA[f"source/{sha256[:16]}"]


def _item(table_uri: URIRef, kind: str, key: str, occurrence: int) -> URIRef:
    suffix = f"-{occurrence}" if occurrence > 1 else ""
    return URIRef(f"{table_uri}/{kind}/{key}{suffix}")


def task(table_uri: URIRef, name: str, unit: str | None, occurrence: int) -> URIRef:
    return _item(table_uri, "task", _h(name, unit or "", n=10), occurrence)


def totals(table_uri: URIRef) -> URIRef:
    return URIRef(f"{table_uri}/totals")


def goal(table_uri: URIRef, number: int) -> URIRef:
    return URIRef(f"{table_uri}/goal/{number}")


def indicator(table_uri: URIRef, level1: str, level2: str, name: str, occurrence: int) -> URIRef:
    return _item(table_uri, "indicator", _h(level1, level2, name, n=10), occurrence)


def target(indicator_uri: URIRef) -> URIRef:
    return URIRef(f"{indicator_uri}/target")


def actual(indicator_uri: URIRef) -> URIRef:
    """The actual value (实际完成值) of a self-evaluated indicator."""
    return URIRef(f"{indicator_uri}/actual")


def not_applicable(table_uri: URIRef, level1: str, level2: str) -> URIRef:
    return URIRef(f"{table_uri}/not-applicable/{_h(level1, level2, n=10)}")
