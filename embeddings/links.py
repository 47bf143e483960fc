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
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import RDF, URIRef
from rdflib.namespace import XSD

from kg.namespaces import DATA, IKG, SIMILARITY_GRAPH
from kg.store import GraphStore

from .duplicates import DuplicatePair, find_duplicates, keep_per_end
from .index import IndicatorIndex
from .precomputed import save_duplicates

if TYPE_CHECKING:
    from kg.settings import Settings

#: similarity links kept per indicator (the best ones; see :func:`capped`)
LINKS_PER_INDICATOR = 10
_DECIMAL = ox.NamedNode(str(XSD.decimal))

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


def _dec(x: float) -> ox.Literal:
    return ox.Literal(format(Decimal(str(round(x, 4))).normalize(), "f"), datatype=_DECIMAL)


def _str(x: str) -> ox.Literal:
    return ox.Literal(x)


def link_triples(
    pairs: Iterable[DuplicatePair], method: str, cluster_min: dict[int, float]
) -> Iterator[ox.Triple]:
    """The triples of each pair's link node, generated one by one (no graph held in memory)."""
    for p in pairs:
        node = ox.NamedNode(str(link_uri(p.a.id, p.b.id, method)))

        def t(pred: URIRef, obj: ox.NamedNode | ox.Literal, node: ox.NamedNode = node) -> ox.Triple:
            return ox.Triple(node, ox.NamedNode(str(pred)), obj)

        yield t(RDF.type, ox.NamedNode(str(_CLASS[p.label])))
        yield t(IKG.linksIndicator, ox.NamedNode(p.a.id))
        yield t(IKG.linksIndicator, ox.NamedNode(p.b.id))
        yield t(IKG.similarityScore, _dec(p.score.score))
        if p.score.dense is not None:
            yield t(IKG.denseScore, _dec(p.score.dense))
        yield t(IKG.lexicalScore, _dec(p.score.lexical))
        yield t(IKG.similarityMethod, _str(method))
        yield t(IKG.similarityBand, _str(p.score.band))
        yield t(IKG.linkScope, _str(p.scope))
        for term in p.score.shared[:5]:
            yield t(IKG.sharedTerm, _str(term))
        if p.cluster is not None and p.cluster in cluster_min:
            yield t(IKG.clusterMinSimilarity, _dec(cluster_min[p.cluster]))


def capped(pairs: list[DuplicatePair], per_indicator: int) -> list[DuplicatePair]:
    """The best pairs, at most ``per_indicator`` links kept per indicator.

    A name that many tables share (预算执行率 in every department's table) would otherwise
    link every copy to every other: n² links. Within-table pairs come first (they are what a
    reviewer sends back), then by score; a pair is kept while both ends have room, so the graph
    holds at most ``n · per_indicator / 2`` links.
    """
    ordered = sorted(pairs, key=lambda p: (p.scope != "within-table", -p.score.score))
    kept = keep_per_end([(p.a.id, p.b.id) for p in ordered], per_indicator)
    return [ordered[n] for n in kept]


def write_links(
    store_path: Path | str, index: IndicatorIndex, settings: Settings | None = None
) -> int:
    """Replace the similarity graph in the store with the index's review-band-or-better pairs
    (at most :data:`LINKS_PER_INDICATOR` per indicator), streamed through a temporary
    N-Triples file."""

    # listed per indicator as the links are capped: the same pairs as capping the full list,
    # without explaining every pair of a name thousands of tables share
    report = find_duplicates(
        index, threshold=index.profile.t_review, list_per_indicator=LINKS_PER_INDICATOR
    )
    save_duplicates(index, report, settings)  # read by the API's /api/duplicates
    method = f"hybrid+structure:{index.model_id}"
    cluster_min = {c.id: c.min_similarity for c in report.clusters}
    pairs = capped(report.pairs, LINKS_PER_INDICATOR)
    with tempfile.TemporaryDirectory(prefix="ikg-links-") as tmp:
        path = Path(tmp) / "links.nt"
        with path.open("wb") as fh:
            ox.serialize(link_triples(pairs, method, cluster_min), fh, ox.RdfFormat.N_TRIPLES)
        with GraphStore(store_path) as store:
            store.replace_graph_from_file(SIMILARITY_GRAPH, path)
    return len(pairs)
