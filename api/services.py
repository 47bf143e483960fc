"""The layer between the JSON routers and the libraries (embedding index, store, review).

The embedding index is loaded once per app, lazily and under a lock, and reloaded when
``ikg build`` publishes a new version of it (:func:`get_index`); everything CPU-bound is
called from the routers through ``anyio.to_thread``.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from api.errors import ApiError
from api.sparql_functions import custom_functions
from apps.review import others_in_store
from embeddings.beside import Beside
from embeddings.cache import CachedEncoder, EmbeddingCache
from embeddings.duplicates import (
    COMMON_MIN_DEPARTMENTS,
    COMMON_SHARE,
    find_duplicates,
    listed_clusters,
)
from embeddings.faiss_index import FaissIndex
from embeddings.index import CACHE_FILE, index_dir, open_index
from embeddings.index import make_encoder as _make
from embeddings.precomputed import answer_duplicates, covers, load_duplicates
from embeddings.text import indicator_dict
from embeddings.threads import limit_this_thread
from kg.errors import EmbeddingError
from kg.namespaces import DATA
from kg.settings import Settings
from kg.store import GraphStore

log = logging.getLogger(__name__)

DATA_NS = str(DATA)  # indicator and table ids are URIs without it
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
_saved_lock = threading.Lock()
#: seconds between two looks at the embedding index's ``CURRENT`` pointer (tests set 0)
INDEX_CHECK_INTERVAL_S = 1.0
#: a published version that could not be loaded here is tried again after this many seconds
INDEX_RETRY_S = 30.0


def make_encoder(settings: Settings) -> Any:
    """The configured encoder behind the data directory's vector cache.

    ``embeddings.cache.CachedEncoder`` is thread-safe, so the threadpool shares one. It only
    reads the file: what requests have encoded (queries, uploaded tables' names) is kept in
    an in-memory LRU of ``api_query_cache_size`` vectors; an index (re)build here writes the
    graph's names to the file (:func:`_open_index`).
    """

    inner = _make(settings, None)
    cache = EmbeddingCache(settings.data_dir / CACHE_FILE) if settings.embedding_cache else None
    return CachedEncoder(inner, cache, store_new=False, memory=settings.api_query_cache_size)


def _encoder(app: Any) -> Any:
    """One encoder per app, kept across index reloads (loading a model costs seconds)."""
    enc = getattr(app.state, "embedding_encoder", None)
    if enc is None:
        enc = make_encoder(app.state.settings)
        app.state.embedding_encoder = enc
    return enc


def may_rebuild_index(app: Any) -> bool:
    """Whether this process rebuilds an index that is stale against the store.

    ``app.state.index_rebuild`` decides when set. Otherwise a single process (``ikg serve``,
    tests) rebuilds, as it always did; a worker of ``ikg serve --workers N`` (uvicorn starts
    them with ``multiprocessing``, so they have a parent process) leaves that to the loader
    (``ikg build``) and waits for the version it publishes. Either way a rebuild is published
    as a new version (``FaissIndex.save``): other processes never see half of it.
    """
    explicit = getattr(app.state, "index_rebuild", None)
    if explicit is not None:
        return bool(explicit)
    return multiprocessing.parent_process() is None


@contextmanager
def _indicator_store(app: Any) -> Iterator[GraphStore]:
    """Where the index's indicators are read from.

    The embedded store opened read-only is a snapshot of when the app started; a fresh
    read-only view of the same directory sees the tables ``ikg build`` added since, which the
    index it published describes. Any other store (read-write, server) is live already.
    """
    settings = app.state.settings
    path = getattr(settings, "store_path", None)
    if (
        app.state.store_read_only
        and not getattr(settings, "remote", False)
        and path is not None
        and (path / "CURRENT").is_file()
    ):
        with GraphStore(path, read_only=True) as gs:
            yield gs
        return
    yield graph_store(app)


def _open_index(app: Any, *, rebuild: bool) -> Any:

    settings = app.state.settings
    encoder = _encoder(app)
    writing = getattr(encoder, "writing", None)  # a build stores the graph's names on disk
    with writing() if writing else nullcontext(), _indicator_store(app) as store:
        index, _ = open_index(
            store,
            settings.data_dir,
            settings,
            on_stale="rebuild" if rebuild else "error",
            encoder=encoder,
        )
    return index


def _install(app: Any, index: Any) -> None:
    """Serve ``index`` from now on; requests already running keep the object they hold."""
    if getattr(app.state.settings, "api_search_beside", False):
        # one helper thread per app, handed on to each new index version (not one more each)
        if getattr(app.state, "search_beside", None) is None:
            app.state.search_beside = Beside()
        index.beside = app.state.search_beside
    app.state.embedding_index = index
    app.state.duplicates_cache = {}
    app.state.suggest_engine = None
    warm = threading.Thread(target=_warm_up, args=(app, index), daemon=True)
    app.state.embedding_warm_up = warm
    warm.start()


def preload(app: Any) -> bool:
    """Load the embedding index and wait for its warm-up (vectors, tokenizer, the saved
    duplicate report) in this thread: what a server process does before it accepts requests
    (setting ``api_preload_index``), so that with ``--workers N`` no worker's first requests
    pay for the load while another worker is already answering. False when the index is
    unavailable: logged, and the requests get the 503 they would have got anyway."""
    t0 = time.monotonic()
    try:
        index = get_index(app)
    except ApiError as exc:
        log.warning("embedding index not preloaded: %s", exc)
        return False
    warm = getattr(app.state, "embedding_warm_up", None)
    if warm is not None:
        warm.join()
    log.info(
        "embedding index version %s loaded and warmed up in %.1f s",
        getattr(index, "version", None),
        time.monotonic() - t0,
    )
    return True


def _warm_up(app: Any, index: Any) -> None:
    """Read what the first /similar and /duplicates would otherwise wait for: the index's
    vectors, the tokenizer, the duplicate report the build saved."""
    limit_this_thread()
    try:
        warm = getattr(index, "warm_up", None)
        if warm is not None:
            warm()
        settings = app.state.settings
        saved = saved_duplicates(
            app,
            index,
            getattr(settings, "common_indicator_share", COMMON_SHARE),
            getattr(settings, "common_indicator_min_departments", COMMON_MIN_DEPARTMENTS),
        )
        if saved is not None and covers(saved, index, None, None):  # the default listing
            default = answer_duplicates(saved, index, "all", None, None)
            listed_clusters(default)  # its pages' order, worked out once
            app.state.duplicates_default = (index, default)
    except Exception as exc:  # a warm-up failure only costs the first request its time
        log.warning("embedding index warm-up failed: %s", exc)


def _published_version(app: Any) -> str | None:

    try:
        return FaissIndex.current_version(index_dir(app.state.settings.data_dir))
    except (OSError, EmbeddingError) as exc:  # unreadable folder or a broken CURRENT pointer
        log.warning("embedding index: no published version readable: %s", exc)
        return None


def ready_index(app: Any) -> Any | None:
    """The app's IndicatorIndex when using it now costs no loading and no version check
    (both may take seconds, for :func:`get_index` in a thread), else None."""
    index = getattr(app.state, "embedding_index", None)
    checked = getattr(app.state, "embedding_index_checked", 0.0)
    if index is None or time.monotonic() - checked >= INDEX_CHECK_INTERVAL_S:
        return None
    return index


def get_index(app: Any) -> Any:
    """The app's IndicatorIndex, following the version ``ikg build`` publishes.

    Loaded on first use (rebuilt from the encoder cache when missing, or stale where
    :func:`may_rebuild_index`). Then at most every :data:`INDEX_CHECK_INTERVAL_S` seconds
    the published version is compared with the served one; a new one is loaded in the
    calling thread while the others keep answering from the old one, and swapped in.
    """
    limit_this_thread()  # the numeric pools' cap, set in the main thread, is per thread
    ready = ready_index(app)
    if ready is not None:
        return ready
    index = getattr(app.state, "embedding_index", None)
    if index is None:
        return _first_load(app)
    now = time.monotonic()
    app.state.embedding_index_checked = now
    current = _published_version(app)
    if current is None or current == getattr(index, "version", None):
        return index
    failed = getattr(app.state, "embedding_index_failed", None)
    if failed is not None and failed[0] == current and now - failed[1] < INDEX_RETRY_S:
        return index
    if not _lock.acquire(blocking=False):
        return index  # another thread is loading it: answer from the old one meanwhile
    try:
        index = app.state.embedding_index
        if getattr(index, "version", None) == current:
            return index
        try:
            new = _open_index(app, rebuild=False)
        except (EmbeddingError, ImportError, OSError) as exc:  # keep serving the old version
            app.state.embedding_index_failed = (current, now, str(exc))
            log.warning(
                "embedding index version %s not loaded, still serving %s: %s",
                current,
                index.version,
                exc,
            )
            return index
        _install(app, new)
        log.info("embedding index: now serving version %s", new.version)
        return new
    finally:
        _lock.release()


def _first_load(app: Any) -> Any:
    with _lock:
        index = getattr(app.state, "embedding_index", None)
        if index is not None:
            return index
        now = time.monotonic()
        current = _published_version(app)
        failed = getattr(app.state, "embedding_index_failed", None)
        if failed is not None and failed[0] == current and now - failed[1] < INDEX_RETRY_S:
            raise IndexUnavailable(failed[2])
        try:
            index = _open_index(app, rebuild=current is None or may_rebuild_index(app))
        except (EmbeddingError, ImportError, OSError) as exc:  # the index, its extra, the disk
            message = f"相似度索引不可用 / embedding index unavailable ({exc}); run `ikg build`"
            app.state.embedding_index_failed = (current, now, message)
            raise IndexUnavailable(message) from exc
        app.state.embedding_index_checked = now
        app.state.embedding_index_failed = None
        _install(app, index)
    return index


def summary(it: Any) -> dict[str, Any]:
    """An IndicatorText as the contract's indicator summary."""

    return indicator_dict(it, "api")


def item_by_uri(index: Any, uri: str) -> Any:
    for it in index.resolve(uri):
        if it.id == uri:
            return it
    raise NotFound(f"没有这个指标 / no indicator {uri}")


def scored_summary(it: Any, score: float, band: str | None = None) -> dict[str, Any]:
    """An indicator's summary with its score and band: one hit of the API's answers."""
    out = summary(it)
    out.update(score=score, band=band)
    return out


def hit_dict(index: Any, hit: Any) -> dict[str, Any]:
    it = index.items[index.by_id[hit.uri]] if hasattr(index, "by_id") else None
    if it is not None:
        out = scored_summary(it, hit.score, hit.band)
    else:
        out = {"id": hit.uri.removeprefix(DATA_NS), "uri": hit.uri}
        out.update(score=hit.score, band=hit.band)
    reasons = hit.explain.get("reasons") if isinstance(hit.explain, dict) else None
    out["reasons"] = list(reasons or [])
    return out


def duplicates(app: Any, scope: str, threshold: float | None, band: str | None = None) -> Any:
    """The duplicate report for (scope, threshold, band): read from the one ``ikg build``
    saved beside the index when it covers the request (:mod:`embeddings.precomputed`), else
    computed; kept per app for the next page."""
    index = get_index(app)
    cache = app.state.duplicates_cache
    key = (scope, threshold, band)
    if key not in cache:
        settings = app.state.settings
        share = getattr(settings, "common_indicator_share", COMMON_SHARE)
        min_departments = getattr(
            settings, "common_indicator_min_departments", COMMON_MIN_DEPARTMENTS
        )
        saved = saved_duplicates(app, index, share, min_departments)
        ready = getattr(app.state, "duplicates_default", None)  # read by the warm-up
        if ready is not None and ready[0] is index and key == ("all", None, None):
            report = ready[1]
        elif saved is not None and covers(saved, index, threshold, band):
            report = answer_duplicates(saved, index, scope, threshold, band)
        else:
            report = find_duplicates(
                index,
                threshold=threshold,
                scope=scope,
                band=band,
                common_share=share,
                common_min_departments=min_departments,
            )
        while len(cache) >= DUPLICATES_CACHE_SIZE:  # thresholds are free floats: keep it bounded
            cache.pop(next(iter(cache)))
        cache[key] = report
    return cache[key]


def saved_duplicates(app: Any, index: Any, share: float, min_departments: int) -> Any:
    """The report the build saved for this index version and these settings, read once per
    index (None: none saved, e.g. an index built without links)."""
    held = getattr(app.state, "duplicates_saved", None)
    if held is not None and held[0] is index and held[1] == (share, min_departments):
        return held[2]
    with _saved_lock:
        held = getattr(app.state, "duplicates_saved", None)
        if held is not None and held[0] is index and held[1] == (share, min_departments):
            return held[2]
        folder = index_dir(app.state.settings.data_dir)
        report = load_duplicates(folder, index, share, min_departments)
        app.state.duplicates_saved = (index, (share, min_departments), report)
        return report


def other_indicators(app: Any) -> list[Any]:
    """Every indicator of the served store, for ``apps.review``'s cross-department check."""
    cached = getattr(app.state, "review_others", None)
    if cached is not None:
        return cached

    out = others_in_store(graph_store(app))
    app.state.review_others = out
    return out


def similarity_functions(app: Any, index: Any) -> dict[Any, Any]:
    """The SPARQL ``custom_functions`` (``ikg:textSimilarity``), one set per app and index."""

    cached = getattr(app.state, "sparql_functions", None)
    if cached is None or cached[0] is not index:
        cached = (index, custom_functions(index))
        app.state.sparql_functions = cached
    return cached[1]
