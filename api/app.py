"""The FastAPI application: ``create_app(settings, store=None)``.

No application is built at import time. State lives on ``app.state``: ``settings``, the
pyoxigraph ``store``, ``store_read_only`` and ``query_slots`` (a semaphore bounding the
queries evaluated at once, timed-out ones included).

The embedded store is opened **read-only** (``Store.read_only``) so that ``ikg build`` can
write the same directory from another process, and queried from a copy in memory when
``settings.store_in_memory`` says so (:func:`use_memory_copy`; the default copies stores up to
512 MB on disk); SPARQL and the table routes then answer from
the state of the store when it was opened and need a restart to see a rebuild, while search,
similar, duplicates and suggest follow the embedding index's published versions
(:func:`api.services.get_index`). Only when ``settings.sparql_allow_update`` is true is the
store opened read-write, which holds the store's lock: ``ikg build`` cannot run while such a
server is up. With ``IKG_STORE=oxigraph-server`` the store is the server
(:class:`kg.remote.RemoteStore`) and every route sees what the loader has written.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pyoxigraph import Store

from api.errors import install_error_handlers
from api.middleware import BodyLimit, SecurityHeaders
from api.routers import (
    desk,
    draft,
    duplicates,
    examples,
    health,
    home,
    indicators,
    pages,
    review,
    search,
    sparql,
    suggest,
    tables,
)
from kg.errors import IkgError
from kg.remote import RemoteStore
from kg.settings import Settings
from kg.store import memory_copy, size_on_disk_mb

log = logging.getLogger(__name__)

#: queries evaluated at the same time (each holds one CPU while it runs)
MAX_CONCURRENT_QUERIES = max(2, min(8, os.cpu_count() or 2))


class StoreNotFound(IkgError, FileNotFoundError):
    """No store at ``settings.store_path``."""


def _version() -> str:
    try:
        return version("indicator-kg")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"


def open_store(settings: Settings) -> tuple[Any, bool, bool]:
    """Open the store: read-only unless updates are allowed, in memory when
    :func:`use_memory_copy` says so. Returns (store, read_only, in_memory).

    With ``IKG_STORE=oxigraph-server`` the store is a :class:`kg.remote.RemoteStore`; it is
    not contacted here, so the API starts (and answers 503) while the server is down.
    """
    if settings.remote:
        read_only = not settings.sparql_allow_update
        remote = RemoteStore(
            settings.store_url or "", timeout_s=settings.store_timeout_s, read_only=read_only
        )
        return remote, read_only, False
    path: Path = settings.store_path
    if settings.sparql_allow_update:
        path.mkdir(parents=True, exist_ok=True)
        return Store(str(path)), False, False
    if not (path / "CURRENT").is_file():
        raise StoreNotFound(f"no graph store at {path}; build it first with `ikg build`")
    store = Store.read_only(str(path))
    in_memory = use_memory_copy(settings)
    if in_memory:
        started = time.perf_counter()
        log.info("copying the graph store at %s into memory (IKG_STORE_IN_MEMORY) ...", path)
        store = memory_copy(store)
        log.info(
            "graph store in memory: %s quads in %.1f s",
            f"{len(store):,}",
            time.perf_counter() - started,
        )
    return store, True, in_memory


def use_memory_copy(settings: Settings) -> bool:
    """Whether the API serves a copy of the embedded store held in memory (``store_in_memory``)."""
    if settings.remote or settings.sparql_allow_update or settings.store_in_memory == "no":
        return False
    if settings.store_in_memory == "yes":
        return True
    return size_on_disk_mb(settings.store_path) <= settings.store_in_memory_max_mb


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """Assemble the API over ``store`` (opened from ``settings.store_path`` when None)."""
    if store is None:
        store, read_only, in_memory = open_store(settings)
    else:
        read_only = in_memory = False
    app = FastAPI(
        title="indicator-kg",
        docs_url=None,  # served offline by api.routers.pages (local Swagger UI files)
        redoc_url=None,
        version=_version(),
        summary="绩效目标表知识图谱",
        description=(
            "[← 返回首页](/)\n\n"
            "`/sparql` 是 SPARQL 1.1 协议端点，查询绩效目标表的知识图谱：每张表一个命名图，"
            "本体在单独的图中；查询默认看到所有图的并集。出错时返回 JSON "
            '`{"error": 代码, "detail": 说明}`。'
        ),
    )
    app.state.settings = settings
    app.state.store = store
    app.state.store_read_only = read_only
    app.state.store_in_memory = in_memory
    app.state.query_slots = threading.BoundedSemaphore(MAX_CONCURRENT_QUERIES)
    install_error_handlers(app)
    app.add_middleware(search.DirectSearch)  # innermost: the limits and headers apply
    app.add_middleware(BodyLimit)  # inside SecurityHeaders: its 413 gets the headers too
    app.add_middleware(SecurityHeaders)
    # the search first: routes are matched in order, and it is the one asked most often
    # (0.035 ms of a request at 100k spent matching the routers before it)
    app.include_router(search.router)
    app.include_router(home.router)
    app.include_router(health.router)
    app.include_router(sparql.router)
    app.include_router(pages.router)
    for module in (indicators, duplicates, tables, review, desk, examples, suggest, draft):
        app.include_router(module.router)
    return app
