"""The layer between the JSON routers and the libraries (embedding index, store, review).

The embedding index is loaded once per app, lazily and under a lock; everything CPU-bound
is called from the routers through ``anyio.to_thread``.
"""

from __future__ import annotations

import threading
from typing import Any

from api.errors import ApiError
from kg.store import GraphStore

DATA_NS = "https://w3id.org/indicator-kg/data/"
#: duplicate reports kept per app, one per (scope, threshold)
DUPLICATES_CACHE_SIZE = 16


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class IndexUnavailable(ApiError):
    status_code = 503
    code = "index_unavailable"


def graph_store(app: Any) -> GraphStore:
    """The app's pyoxigraph store wrapped in the project's GraphStore (no reopening)."""
    gs = getattr(app.state, "graph_store", None)
    if gs is None:
        gs = GraphStore.from_store(app.state.store, read_only=bool(app.state.store_read_only))
        app.state.graph_store = gs
    return gs


_lock = threading.Lock()


def make_encoder(settings: Any) -> Any:
    """The configured encoder behind the data directory's vector cache.

    ``embeddings.cache.CachedEncoder`` is thread-safe, so the threadpool shares one.
    """
    from embeddings.cache import CachedEncoder, EmbeddingCache
    from embeddings.index import CACHE_FILE
    from embeddings.index import make_encoder as _make

    inner = _make(settings, None)
    use_cache = getattr(settings, "embedding_cache", True)
    cache = EmbeddingCache(settings.data_dir / CACHE_FILE) if use_cache else None
    return CachedEncoder(inner, cache)


def get_index(app: Any) -> Any:
    """The app's IndicatorIndex; rebuilt from the encoder cache if missing or stale."""
    index = getattr(app.state, "embedding_index", None)
    if index is not None:
        return index
    with _lock:
        index = getattr(app.state, "embedding_index", None)
        if index is None:
            try:
                from embeddings.index import open_index

                settings = app.state.settings
                index, _ = open_index(
                    graph_store(app), settings.data_dir, settings, encoder=make_encoder(settings)
                )
            except Exception as exc:
                raise IndexUnavailable(
                    f"相似度索引不可用 / embedding index unavailable ({exc}); run `ikg build`"
                ) from exc
            app.state.embedding_index = index
            app.state.duplicates_cache = {}
    return index


def summary(it: Any) -> dict[str, Any]:
    """An IndicatorText as the contract's indicator summary."""
    return {
        "id": it.id.removeprefix(DATA_NS),
        "uri": it.id,
        "name": it.name,
        "level1": it.level1,
        "level2": it.level2,
        "target": it.target,
        "department": it.department,
        "year": it.year,
        "table": it.table_title or it.table,
        "table_id": it.table.removeprefix(DATA_NS),
        "source": {"file": it.source_file, "line": it.source_line},
    }


def item_by_uri(index: Any, uri: str) -> Any:
    for it in index.resolve(uri):
        if it.id == uri:
            return it
    raise NotFound(f"没有这个指标 / no indicator {uri}")


def hit_dict(index: Any, hit: Any) -> dict[str, Any]:
    it = index.items[index.by_id[hit.uri]] if hasattr(index, "by_id") else None
    out = summary(it) if it is not None else {"id": hit.uri.removeprefix(DATA_NS), "uri": hit.uri}
    out["score"] = hit.score
    out["band"] = hit.band
    reasons = hit.explain.get("reasons") if isinstance(hit.explain, dict) else None
    out["reasons"] = list(reasons or [])
    return out


def duplicates(app: Any, scope: str, threshold: float | None) -> Any:
    from embeddings.duplicates import find_duplicates

    index = get_index(app)
    cache = app.state.duplicates_cache
    key = (scope, threshold)
    if key not in cache:
        report = find_duplicates(index, threshold=threshold, scope=scope)
        while len(cache) >= DUPLICATES_CACHE_SIZE:  # thresholds are free floats: keep it bounded
            cache.pop(next(iter(cache)))
        cache[key] = report
    return cache[key]


def other_indicators(app: Any) -> list[Any]:
    """Every indicator of the served store, for ``kg.review``'s cross-department check."""
    cached = getattr(app.state, "review_others", None)
    if cached is not None:
        return cached
    from kg.review import others_in_store

    out = others_in_store(graph_store(app))
    app.state.review_others = out
    return out


def similarity_functions(app: Any, index: Any) -> dict[Any, Any]:
    """The SPARQL ``custom_functions`` (``ikg:textSimilarity``), one set per app and index."""
    from api.sparql_functions import custom_functions

    cached = getattr(app.state, "sparql_functions", None)
    if cached is None or cached[0] is not index:
        cached = (index, custom_functions(index))
        app.state.sparql_functions = cached
    return cached[1]
