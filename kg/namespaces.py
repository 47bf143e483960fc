"""Namespace constants. No IRI string of the project's own appears elsewhere."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

#: The ontology: classes and properties (ontology/indicators.ttl).
IKG = Namespace("https://w3id.org/indicator-kg/ontology#")
#: Category concepts of both national layouts (ontology/categories.ttl).
CAT = Namespace("https://w3id.org/indicator-kg/category/")
#: Data: tables, units, tasks, goals, indicators (minted by kg/uris.py only).
DATA = Namespace("https://w3id.org/indicator-kg/data/")
#: Named graph holding the ontology and category schemes inside the store.
ONTOLOGY_GRAPH = DATA["graph/ontology"]
#: Named graph holding what tables say about organisations (shared across tables).
ORGANISATIONS_GRAPH = DATA["graph/organisations"]
#: the similarity and duplicate links written by the embedding index
SIMILARITY_GRAPH = DATA["graph/similarity"]
#: the links from table indicators to indicator-library entries (apps/library.py)
LIBRARY_LINKS_GRAPH = DATA["graph/library-links"]

PREFIXES: dict[str, Namespace] = {
    "ikg": IKG,
    "cat": CAT,
    "data": DATA,
    "org": ORG,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
}


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace above, to put in front of a query."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
