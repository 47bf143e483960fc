"""Duplicate and similarity links as first-class nodes in the graph (ontology/similarity.ttl).

Each pair at or above the review band becomes a node in the named graph
:data:`SIMILARITY_GRAPH`::

    data:similarity/{hash} a ikg:SuspectedDuplicate ;        # or ReviewCandidate, CommonIndicatorLink
        ikg:linksIndicator <indicator A>, <indicator B> ;
        ikg:similarityScore 0.83 ; ikg:denseScore 0.95 ; ikg:lexicalScore 0.71 ;
        ikg:similarityMethod "hybrid+structure:<model id>" ;
        ikg:similarityBand "duplicate" ; ikg:linkScope "within-table" ;
        ikg:sharedTerm "慰问金发放覆盖率" ; ikg:clusterMinSimilarity 0.83 .

The graph is replaced as a whole each time the index is rebuilt, so links never
outlive the indicators they name.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.namespaces import DATA, IKG, PREFIXES, SIMILARITY_GRAPH

from .duplicates import DuplicatePair, find_duplicates
from .index import IndicatorIndex

_CLASS = {
    "suspected duplicate": IKG.SuspectedDuplicate,
    "review": IKG.ReviewCandidate,
    "common indicator": IKG.CommonIndicatorLink,
    "related": IKG.SimilarityLink,
}


def ontology_path() -> Path:
    import ontology

    return ontology.path("similarity.ttl")


def link_uri(a: str, b: str, method: str) -> URIRef:
    lo, hi = sorted((a, b))
    return DATA[f"similarity/{hashlib.sha1(f'{lo}|{hi}|{method}'.encode()).hexdigest()[:16]}"]


def _dec(x: float) -> Literal:
    return Literal(format(Decimal(str(round(x, 4))).normalize(), "f"), datatype=XSD.decimal)


def links_graph(pairs: list[DuplicatePair], method: str, cluster_min: dict[int, float]) -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    for p in pairs:
        node = link_uri(p.a.id, p.b.id, method)
        g.add((node, RDF.type, _CLASS[p.label]))
        g.add((node, IKG.linksIndicator, URIRef(p.a.id)))
        g.add((node, IKG.linksIndicator, URIRef(p.b.id)))
        g.add((node, IKG.similarityScore, _dec(p.score.score)))
        if p.score.dense is not None:
            g.add((node, IKG.denseScore, _dec(p.score.dense)))
        g.add((node, IKG.lexicalScore, _dec(p.score.lexical)))
        g.add((node, IKG.similarityMethod, Literal(method)))
        g.add((node, IKG.similarityBand, Literal(p.score.band)))
        g.add((node, IKG.linkScope, Literal(p.scope)))
        for term in p.score.shared[:5]:
            g.add((node, IKG.sharedTerm, Literal(term)))
        if p.cluster is not None and p.cluster in cluster_min:
            g.add((node, IKG.clusterMinSimilarity, _dec(cluster_min[p.cluster])))
    return g


def write_links(store_path: Path | str, index: IndicatorIndex, settings: Any = None) -> int:
    """Replace the similarity graph in the store with the index's review-band-or-better pairs."""
    from kg.store import GraphStore

    report = find_duplicates(index, threshold=index.profile.t_review)
    method = f"hybrid+structure:{index.model_id}"
    cluster_min = {c.id: c.min_similarity for c in report.clusters}
    g = links_graph(report.pairs, method, cluster_min)
    with GraphStore(store_path) as store:
        store.replace_graph(SIMILARITY_GRAPH, g)
    return len(report.pairs)
