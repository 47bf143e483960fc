"""Duplicate and similarity links as first-class nodes in the graph (ontology/similarity.ttl).

Each pair at or above the review band becomes a node in the named graph
:data:`SIMILARITY_GRAPH`::

    data:similarity/{hash} a ikg:SuspectedDuplicate ;        # or ReviewCandidate, CommonIndicatorLink
        ikg:linksIndicator <indicator A>, <indicator B> ;
        ikg:similarityScore 0.83 ; ikg:denseScore 0.95 ; ikg:lexicalScore 0.71 ;
        ikg:similarityMethod "hybrid+structure:<model id>" ;
        ikg:similarityBand "duplicate" ; ikg:linkScope "within-table" ;
        ikg:sharedTerm "慰问金发放覆盖率" ; ikg:clusterMinSimilarity 0.83 .

Links never outlive the indicators they name: replacing a table drops its indicators'
links (:meth:`kg.store.GraphStore.replace_table`), and :func:`write_links` then links only
the indicators of the tables without links, beside the links of the others (the whole
graph is computed again when many tables changed or the model did).
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
from kg.processes import worker_count
from kg.store import GraphStore

from .duplicates import DuplicatePair, DuplicateReport, find_duplicates, keep_per_end
from .index import IndicatorIndex
from .precomputed import merge_delta, save_duplicates

if TYPE_CHECKING:
    from kg.settings import Settings

#: similarity links kept per indicator (the best ones; see :func:`capped`)
LINKS_PER_INDICATOR = 10

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


def _dec(x: float) -> str:
    value = format(Decimal(str(round(x, 4))).normalize(), "f")
    return f'"{value}"^^<{XSD.decimal}>'


def _str(x: str) -> str:
    return str(ox.Literal(x))  # N-Triples form, escaped by the store's own library


def link_lines(
    pairs: Iterable[DuplicatePair], method: str, cluster_min: dict[int, float]
) -> Iterator[str]:
    """Each pair's link node as N-Triples lines, generated one by one (no graph held in
    memory; written as text, which is several times faster than making term objects)."""
    pred = {k: f"<{IKG[k]}>" for k in _PREDICATES}
    kind = {label: f"<{RDF.type}> <{cls}>" for label, cls in _CLASS.items()}
    how = _str(method)
    for p in pairs:
        node = f"<{link_uri(p.a.id, p.b.id, method)}>"
        sc = p.score
        lines = [
            kind[p.label],
            f"{pred['linksIndicator']} <{p.a.id}>",
            f"{pred['linksIndicator']} <{p.b.id}>",
            f"{pred['similarityScore']} {_dec(sc.score)}",
            f"{pred['lexicalScore']} {_dec(sc.lexical)}",
            f"{pred['similarityMethod']} {how}",
            f"{pred['similarityBand']} {_str(sc.band)}",
            f"{pred['linkScope']} {_str(p.scope)}",
            *(f"{pred['sharedTerm']} {_str(term)}" for term in sc.shared[:5]),
        ]
        if sc.dense is not None:
            lines.append(f"{pred['denseScore']} {_dec(sc.dense)}")
        if p.cluster is not None and p.cluster in cluster_min:
            lines.append(f"{pred['clusterMinSimilarity']} {_dec(cluster_min[p.cluster])}")
        yield "".join(f"{node} {line} .\n" for line in lines)


_PREDICATES = (
    "linksIndicator",
    "similarityScore",
    "denseScore",
    "lexicalScore",
    "similarityMethod",
    "similarityBand",
    "linkScope",
    "sharedTerm",
    "clusterMinSimilarity",
)


def capped(
    pairs: list[DuplicatePair], per_indicator: int, used: dict[str, int] | None = None
) -> list[DuplicatePair]:
    """The best pairs, at most ``per_indicator`` links kept per indicator.

    A name that many tables share (预算执行率 in every department's table) would otherwise
    link every copy to every other: n² links. Within-table pairs come first (they are what a
    reviewer sends back), then by score; a pair is kept while both ends have room (``used``:
    the links an indicator already has), so the graph holds at most ``n · per_indicator / 2``
    links.
    """
    ordered = sorted(pairs, key=lambda p: (p.scope != "within-table", -p.score.score))
    kept = keep_per_end([(p.a.id, p.b.id) for p in ordered], per_indicator, used)  # type: ignore[arg-type]
    return [ordered[n] for n in kept]


#: above this share of indicators in changed tables, the links are all computed again
DELTA_MAX_SHARE = 0.25


def link_settings(index: IndicatorIndex) -> str:
    """What the links were computed with: the method, the review threshold and the cap (a
    table's links are reused only while these stay the same)."""
    t = index.profile.t_review
    return f"hybrid+structure:{index.model_id} t_review={t:.4f} per={LINKS_PER_INDICATOR}"


def write_links(
    store_path: Path | str,
    index: IndicatorIndex,
    settings: Settings | None = None,
    *,
    full: bool = False,
) -> int:
    """Bring the similarity graph in step with the index; the number of links written.

    Each table whose links are in the graph is marked there (``ikg:similarityLinksComputed``)
    with :func:`link_settings`; replacing a table drops its links and its mark
    (:meth:`kg.store.GraphStore.replace_table`). Only the indicators of unmarked tables are
    then searched, scored and linked, and their links are added beside the others, capped
    with the links each indicator already has. All links are computed again (the graph
    replaced) when ``full`` is asked, when no table is marked, when a marked table is gone or
    was linked with other settings, or when more than :data:`DELTA_MAX_SHARE` of the
    indicators changed. Scores of unchanged pairs are those of when they were computed (the
    TF-IDF weights move a little as tables come in; ``ikg build --all`` recomputes them).
    """
    how = link_settings(index)
    with GraphStore(store_path, read_only=True) as store:
        marked = _marked_tables(store)
    tables = {it.table for it in index.items}
    rows = [n for n, it in enumerate(index.items) if marked.get(it.table) != how]
    gone = any(t not in tables or h != how for t, h in marked.items())
    if full or gone or not marked or len(rows) > DELTA_MAX_SHARE * len(index.items):
        return _write_all(store_path, index, how, settings)
    if not rows:
        return 0
    return _write_delta(store_path, index, rows, how, settings)


def _write_all(
    store_path: Path | str, index: IndicatorIndex, how: str, settings: Settings | None
) -> int:
    """Replace the similarity graph with the index's review-band-or-better pairs (at most
    :data:`LINKS_PER_INDICATOR` per indicator) and every table's mark, streamed through a
    temporary N-Triples file."""
    # listed per indicator as the links are capped: the same pairs as capping the full list,
    # without explaining every pair of a name thousands of tables share
    report = find_duplicates(
        index,
        threshold=index.profile.t_review,
        list_per_indicator=LINKS_PER_INDICATOR,
        workers=_workers(settings),
    )
    save_duplicates(index, report, settings)  # read by the API's /api/duplicates
    pairs = capped(report.pairs, LINKS_PER_INDICATOR)
    tables = sorted({it.table for it in index.items})
    with tempfile.TemporaryDirectory(prefix="ikg-links-") as tmp:
        path = _links_file(Path(tmp), report, pairs, index, tables, how)
        with GraphStore(store_path) as store:
            store.replace_graph_from_file(SIMILARITY_GRAPH, path)
    return len(pairs)


def _write_delta(
    store_path: Path | str,
    index: IndicatorIndex,
    rows: list[int],
    how: str,
    settings: Settings | None,
) -> int:
    """Add the links of the indicators at ``rows`` (their tables unmarked) and mark their
    tables, in one transaction."""
    report = find_duplicates(
        index,
        threshold=index.profile.t_review,
        list_per_indicator=LINKS_PER_INDICATOR,
        rows=rows,
        workers=_workers(settings),
    )
    tables = sorted({index.items[n].table for n in rows})
    merge_delta(index, report, {index.items[n].id for n in rows}, settings)  # for the API
    with GraphStore(store_path) as store:
        used = _link_counts(store, {e for p in report.pairs for e in (p.a.id, p.b.id)})
        pairs = capped(report.pairs, LINKS_PER_INDICATOR, used)
        with tempfile.TemporaryDirectory(prefix="ikg-links-") as tmp:
            path = _links_file(Path(tmp), report, pairs, index, tables, how)
            store.add_from_file(SIMILARITY_GRAPH, path)
    return len(pairs)


def _workers(settings: Settings | None) -> int:
    """Processes scoring the pairs of a sweep: the ``build_workers`` setting (0: one per CPU)."""
    return worker_count(settings.build_workers if settings is not None else None)


def _links_file(
    tmp: Path,
    report: DuplicateReport,
    pairs: list[DuplicatePair],
    index: IndicatorIndex,
    tables: list[str],
    how: str,
) -> Path:
    """The links of ``pairs`` and the marks of ``tables`` as an N-Triples file in ``tmp``."""
    method = f"hybrid+structure:{index.model_id}"
    cluster_min = {c.id: c.min_similarity for c in report.clusters}
    mark = f"<{IKG.similarityLinksComputed}> {_str(how)} .\n"
    path = tmp / "links.nt"
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(link_lines(pairs, method, cluster_min))
        fh.writelines(f"<{t}> {mark}" for t in tables if t)
    return path


def _marked_tables(store: GraphStore) -> dict[str, str]:
    """Table → the settings its links were computed with, as marked in the similarity graph."""
    _, rows = store.select(
        f"SELECT ?t ?how WHERE {{ GRAPH <{SIMILARITY_GRAPH}> "
        f"{{ ?t <{IKG.similarityLinksComputed}> ?how }} }}"
    )
    return {str(t): str(how) for t, how in rows}


def _link_counts(store: GraphStore, ids: set[str]) -> dict[str, int]:
    """How many similarity links each of ``ids`` has in the graph."""
    if not ids:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(ids))
    _, rows = store.select(
        f"SELECT ?i (COUNT(?l) AS ?n) WHERE {{ VALUES ?i {{ {values} }} "
        f"GRAPH <{SIMILARITY_GRAPH}> {{ ?l <{IKG.linksIndicator}> ?i }} }} GROUP BY ?i"
    )
    return {str(i): int(n) for i, n in rows}  # type: ignore[call-overload]
