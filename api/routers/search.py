"""``GET /api/search``: indicators that say what a free text says."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request

from api import services
from api.models import SearchResponse
from embeddings.index import Filters

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", response_model=SearchResponse, summary="语义检索指标 / semantic search")
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["慰问金发放覆盖率"])],
    department: Annotated[str | None, Query(max_length=100)] = None,
    year: int | None = None,
    level1: Annotated[str | None, Query(max_length=40)] = None,
    level2: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[
        str | None, Query(max_length=40, description="part of the department's region: 福田区")
    ] = None,
    k: Annotated[int, Query(ge=1, le=200)] = 10,
) -> dict[str, Any]:
    filters = Filters(department=department, year=year, level1=level1, level2=level2, region=region)
    index = services.ready_index(request.app)
    inline = request.app.state.settings.api_search_inline_max
    if index is not None and not filters.tests() and len(index.items) <= inline:
        return _answer(index, q, k, filters)  # on the loop: cheaper than a thread's hand-off
    return await anyio.to_thread.run_sync(
        lambda: _answer(services.get_index(request.app), q, k, filters)
    )


def _answer(index: Any, q: str, k: int, filters: Filters) -> dict[str, Any]:
    hits = index.search(q, k=k, filters=filters)
    out = [services.hit_dict(index, h) for h in hits]
    for h in out:
        h.pop("reasons", None)
    return {"query": q, "model": index.model_id, "total": len(out), "hits": out}
