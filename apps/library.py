"""Link table indicators to the indicator libraries (ikg:matchesLibraryIndicator).

``link_library(store_path, data_dir, settings)`` reads the table indicators and the
library concepts from the store, finds for each table indicator its best match in
each library and writes the links into their own named graph
(:data:`LIBRARY_LINKS_GRAPH`): a direct ``?indicator ikg:matchesLibraryIndicator
?concept`` triple plus an ``ikg:LibraryMatch`` node with the score and the method.

Method: the embedding index (``embeddings.open_index``, which must be up to date:
``ikg build`` builds it before calling this) searched with each library name
(``embedding``); without the embeddings extra or without an index, a lexical score
(``lexical``): the Dice coefficient of the character bigrams of the two names after
traditional → simplified conversion and removal of placeholders (``**``), bracketed
units and punctuation. Links below the method's floor are not written.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import RDF, Graph, URIRef

from kg.errors import EmbeddingError
from kg.mapping import lit, new_graph
from kg.namespaces import DATA, IKG, LIBRARY_LINKS_GRAPH
from kg.readers import _hanzi
from kg.store import GraphStore

if TYPE_CHECKING:
    from kg.settings import Settings

log = logging.getLogger(__name__)

#: Lowest score a link is written with, per method.
LEXICAL_FLOOR = 0.6
EMBEDDING_FLOOR = 0.7
#: Library names searched in the embedding index: hits considered per name.
EMBEDDING_K = 20

_LIBRARY_QUERY = """
SELECT ?c ?name ?simple WHERE {
  ?c a ikg:LibraryIndicator ; skos:prefLabel ?name .
  OPTIONAL { ?c ikg:libraryNameSimplified ?simple }
}"""

_INDICATOR_QUERY = """
SELECT ?i ?name ?simple WHERE {
  ?i a ikg:Indicator ; ikg:name ?name .
  OPTIONAL { ?i ikg:nameSimplified ?simple }
}"""


@dataclass(frozen=True)
class Link:
    indicator: str
    concept: str
    scheme: str
    score: float
    method: str


@dataclass
class LinkReport:
    links: list[Link]
    method: str
    library_indicators: int
    indicators: int

    def summary(self) -> str:
        return (
            f"指标库链接 {len(self.links)} 条（{self.method}）："
            f"{self.indicators} 个表中指标 × {self.library_indicators} 个指标库指标"
        )


def normalise(name: str) -> str:
    """The matching form of a name: simplified, NFKC, no placeholders/brackets/punctuation."""
    text = unicodedata.normalize("NFKC", name)
    text = _hanzi.simplified_chars(text)
    text = re.sub(r"\*+", "", text)
    text = re.sub(r"\([^()]*\)$", "", text)  # a trailing unit: 培训出勤率(%)
    return re.sub(r"[\s()（）“”\"'、,，.。:：;；/%]+", "", text)


def _bigrams(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1)} or ({text} if text else set())


def lexical_score(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of the normalised names (0–1)."""
    x, y = _bigrams(normalise(a)), _bigrams(normalise(b))
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


def _s(term: Any) -> str:
    return "" if term is None else str(term)


def _concepts(store: Any) -> list[tuple[str, str, str]]:
    """(concept, name to match, scheme) of every library indicator."""
    _, rows = store.select(_LIBRARY_QUERY)
    schemes = {
        _s(c): _s(s)
        for c, s in store.select(
            "SELECT ?c ?s WHERE { ?c a ikg:LibraryIndicator ; skos:inScheme ?s }"
        )[1]
    }
    return [(_s(c), _s(simple) or _s(name), schemes.get(_s(c), "")) for c, name, simple in rows]


def _best_per_scheme(candidates: list[Link]) -> list[Link]:
    best: dict[tuple[str, str], Link] = {}
    for link in candidates:
        key = (link.indicator, link.scheme)
        if key not in best or link.score > best[key].score:
            best[key] = link
    return sorted(best.values(), key=lambda x: (x.indicator, x.scheme))


def lexical_links(
    indicators: list[tuple[str, str]], concepts: list[tuple[str, str, str]]
) -> list[Link]:
    out = []
    for uri, name in indicators:
        for c, cname, scheme in concepts:
            score = lexical_score(name, cname)
            if score >= LEXICAL_FLOOR:
                out.append(Link(uri, c, scheme, round(score, 3), "lexical"))
    return _best_per_scheme(out)


def _embedding_links(
    store: Any,
    data_dir: Path,
    settings: Settings | None,
    concepts: list[tuple[str, str, str]],
) -> list[Link] | None:
    """Links by the embedding index, or None when there is no usable index."""
    try:
        from embeddings import open_index
    except ImportError as exc:
        log.info("library links: lexical only (the embeddings extra is missing: %s)", exc)
        return None
    try:
        index, _ = open_index(store, data_dir, settings, on_stale="error")
    except (ImportError, EmbeddingError) as exc:  # no index, stale, no model offline
        log.warning("library links: lexical only, the embedding index cannot be used: %s", exc)
        return None
    out = []
    for c, cname, scheme in concepts:
        for hit in index.search(normalise(cname) or cname, k=EMBEDDING_K):
            if hit.score >= EMBEDDING_FLOOR:
                out.append(
                    Link(hit.uri, c, scheme, round(min(max(hit.score, 0.0), 1.0), 3), "embedding")
                )
    return _best_per_scheme(out)


def links_graph(links: list[Link]) -> Graph:
    g = new_graph()
    for link in links:
        ind, concept = URIRef(link.indicator), URIRef(link.concept)
        node = DATA[
            "library-match/"
            + hashlib.sha256(f"{link.indicator} {link.concept}".encode()).hexdigest()[:16]
        ]
        g.add((ind, IKG.matchesLibraryIndicator, concept))
        g.add((node, RDF.type, IKG.LibraryMatch))
        g.add((node, IKG.matchIndicator, ind))
        g.add((node, IKG.matchLibraryIndicator, concept))
        g.add((node, IKG.matchScore, lit(Decimal(str(link.score)))))
        g.add((node, IKG.matchMethod, lit(link.method)))
    return g


def link_library(
    store_path: Path | str,
    data_dir: Path,
    settings: Settings | None = None,
    *,
    method: str | None = None,
) -> LinkReport:
    """(Re)write the library-links graph of the store at ``store_path``.

    ``method``: None (the embedding index when usable, else lexical), ``"embedding"``
    or ``"lexical"``.
    """

    with GraphStore(store_path) as store:
        concepts = _concepts(store)
        _, rows = store.select(_INDICATOR_QUERY)
        indicators = sorted({(_s(i), _s(simple) or _s(name)) for i, name, simple in rows})
        links: list[Link] | None = None
        used = "lexical"
        if concepts and indicators and method != "lexical":
            links = _embedding_links(store, data_dir, settings, concepts)
            if links is None and method == "embedding":
                raise RuntimeError(
                    "no usable embedding index; run `ikg build` with the embeddings extra"
                )
            if links is not None:
                used = "embedding"
        if links is None:
            links = lexical_links(indicators, concepts) if concepts else []
        store.replace_graph(LIBRARY_LINKS_GRAPH, links_graph(links))
        store.flush()
    return LinkReport(links, used, len(concepts), len(indicators))
