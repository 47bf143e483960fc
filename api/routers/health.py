"""``GET /healthz``: the store answers, and how much it holds."""

from __future__ import annotations

import threading
from typing import Any

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from pyoxigraph import Store

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    triples: int = Field(description="quads in the store, all graphs together", examples=[48213])
    graphs: int = Field(
        description="named graphs (one per table, plus the ontology)", examples=[57]
    )
    in_memory: bool = Field(
        default=False,
        description="queries answered from a copy of the embedded store held in memory "
        "(IKG_STORE_IN_MEMORY)",
    )


_lock = threading.Lock()


def _count(store: Store) -> Health:
    graphs = sum(1 for _ in store.named_graphs())
    return Health(status="ok", triples=len(store), graphs=graphs)


def _health(state: Any) -> Health:
    """The store's counts: counted once for an embedded store opened read-only (a snapshot of
    when the app started, so they never change), on every call otherwise. Counting walks every
    quad: at 1M indicators on disk that took minutes, and a poller's calls piled up in the
    threadpool, each one walking the 24M quads again."""
    store = state.store
    if not (getattr(state, "store_read_only", False) and isinstance(store, Store)):
        return _count(store)
    with _lock:  # one count, whoever asks first; the others wait for it
        held = getattr(state, "health_counts", None)
        if held is None or held[0] is not store:
            held = (store, _count(store))
            state.health_counts = held
    return held[1].model_copy()


@router.get("/healthz", response_model=Health, summary="健康检查 / health check")
async def healthz(request: Request) -> Health:
    health = await anyio.to_thread.run_sync(_health, request.app.state)
    health.in_memory = bool(getattr(request.app.state, "store_in_memory", False))
    return health
