"""``GET /healthz``: the store answers, and how much it holds."""

from __future__ import annotations

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


def _count(store: Store) -> Health:
    graphs = sum(1 for _ in store.named_graphs())
    return Health(status="ok", triples=len(store), graphs=graphs)


@router.get("/healthz", response_model=Health, summary="健康检查 / health check")
async def healthz(request: Request) -> Health:
    health = await anyio.to_thread.run_sync(_count, request.app.state.store)
    health.in_memory = bool(getattr(request.app.state, "store_in_memory", False))
    return health
