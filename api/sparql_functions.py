"""SPARQL extension functions over the embedding index (pyoxigraph ``custom_functions``).

``ikg:textSimilarity(?x, "free text")`` → ``xsd:double``: how far an indicator says what the
free text says, with the same hybrid score as ``ikg search`` / ``/api/search``
(α·dense + (1−α)·character TF-IDF). ``?x`` is an indicator IRI or an indicator name (a
literal: the best score among the indicators bearing that name). Unbound (an expression
error, so ``BIND`` leaves the variable unbound and ``FILTER`` drops the row) for an argument
that names no indexed indicator. The free text is scored against every indicator once per
query text and kept (an LRU of :data:`CACHE_SIZE` texts), so calling the function for every
row costs a dictionary look-up. On graphs above ``embeddings.index.BRUTE_FORCE_MAX``
indicators only the search's candidate pool is scored; the rest are unbound.

    PREFIX ikg: <https://w3id.org/indicator-kg/ontology#>
    SELECT ?name ?score WHERE {
      ?i a ikg:Indicator ; ikg:name ?name .
      BIND(ikg:textSimilarity(?i, "慰问金发放覆盖率") AS ?score)
    } ORDER BY DESC(?score) LIMIT 10
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

IKG = "https://w3id.org/indicator-kg/ontology#"
TEXT_SIMILARITY = ox.NamedNode(IKG + "textSimilarity")
XSD_DOUBLE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")
CACHE_SIZE = 64


def uses_similarity(query: str) -> bool:
    """Whether the text names a function here (``ikg query`` decides from the parse instead)."""
    return "textSimilarity" in query


class TextSimilarity:
    """The ``ikg:textSimilarity`` function over one ``embeddings.IndicatorIndex``."""

    def __init__(self, index: Any, cache_size: int = CACHE_SIZE) -> None:
        self.index = index
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[dict[str, float], dict[str, float]]] = OrderedDict()
        self._lock = threading.Lock()

    def scores(self, text: str) -> tuple[dict[str, float], dict[str, float]]:
        """Scores of every indicator for ``text``: by IRI, and by name (best of that name)."""
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        hits = self.index.search(text, k=len(self.index.items))
        by_uri = {h.uri: float(h.score) for h in hits}
        by_name: dict[str, float] = {}
        for h in hits:
            by_name[h.name] = max(by_name.get(h.name, float("-inf")), float(h.score))
        with self._lock:
            self._cache[text] = (by_uri, by_name)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return by_uri, by_name

    def __call__(self, subject: Any, text: Any) -> ox.Literal | None:
        if not isinstance(text, ox.Literal) or not text.value.strip():
            return None
        by_uri, by_name = self.scores(text.value.strip())
        if isinstance(subject, ox.NamedNode):
            score = by_uri.get(subject.value)
        elif isinstance(subject, ox.Literal):
            score = by_name.get(subject.value)
        else:
            score = None
        return None if score is None else ox.Literal(repr(round(score, 6)), datatype=XSD_DOUBLE)


def custom_functions(index: Any) -> dict[ox.NamedNode, Callable[..., Any]]:
    """The ``custom_functions`` argument of ``pyoxigraph.Store.query`` for ``index``."""
    return {TEXT_SIMILARITY: TextSimilarity(index)}


class ProxyTextSimilarity(TextSimilarity):
    """``ikg:textSimilarity`` in a query's child process (:mod:`api._isolate`).

    The embedding index stays in the API process; ``fetch(text)`` asks it for the scores of
    one free text (:meth:`TextSimilarity.scores`), once per text and query.
    """

    def __init__(self, fetch: Callable[[str], tuple[dict[str, float], dict[str, float]]]) -> None:
        super().__init__(index=None)
        self._fetch = fetch
        self._fetched: dict[str, tuple[dict[str, float], dict[str, float]]] = {}

    def scores(self, text: str) -> tuple[dict[str, float], dict[str, float]]:
        if text not in self._fetched:
            self._fetched[text] = self._fetch(text)
        return self._fetched[text]
