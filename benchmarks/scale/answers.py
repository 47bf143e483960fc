"""Answers compared across engines: terms normalised to strings, rows digested."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation

from .machine import readme_queries

XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long")}


def _norm(kind: str, value: str, datatype: str | None = None, lang: str | None = None) -> str:
    if kind == "uri":
        return f"<{value}>"
    if kind == "bnode":
        return "_:"
    if lang:
        return f"{value}@{lang.lower()}"
    if datatype in NUMERIC:
        try:
            return format(Decimal(value).normalize(), "f")
        except InvalidOperation:
            return value
    if datatype == XSD + "boolean":
        return value.lower()
    return value


def norm_ox(term) -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _norm("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return _norm("bnode", term.value)
    return _norm("literal", term.value, term.datatype.value, term.language)


def norm_rdflib(term) -> str:
    from rdflib import BNode, URIRef

    if term is None:
        return ""
    if isinstance(term, URIRef):
        return _norm("uri", str(term))
    if isinstance(term, BNode):
        return _norm("bnode", str(term))
    dt = str(term.datatype) if term.datatype is not None else None
    return _norm("literal", str(term), dt, term.language)


def norm_json(cell: dict | None) -> str:
    if cell is None:
        return ""
    kind = {"uri": "uri", "bnode": "bnode"}.get(cell["type"], "literal")
    return _norm(kind, cell["value"], cell.get("datatype"), cell.get("xml:lang"))


def digest(rows: list[tuple[str, ...]]) -> str:
    h = hashlib.sha1()
    for r in sorted(rows):
        h.update("\x1f".join(r).encode("utf-8") + b"\x1e")
    return h.hexdigest()[:16]


def agreement(engines: dict) -> dict:
    """Per query: same answers on every engine that finished it, or what differs."""
    out = {}
    for qid in readme_queries():
        seen = {
            e: (r["queries"][qid]["rows"], r["queries"][qid]["digest"])
            for e, r in engines.items()
            if "queries" in r and "digest" in r["queries"].get(qid, {})
        }
        if len({d for _, d in seen.values()}) <= 1:
            out[qid] = "same" if len(seen) > 1 else "one engine"
        else:
            out[qid] = "DIFFER " + ", ".join(f"{e}: {rows} rows" for e, (rows, _) in seen.items())
    return out
