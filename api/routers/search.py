"""``GET /api/search``: indicators that say what a free text says.

:class:`DirectSearch` answers the common request (no filter, the index loaded and small enough
to be searched on the event loop) before the framework's routing: FastAPI's per-request work
for this route (routing, solving seven query parameters one by one, the exit stacks and the
response model's validation) took 0.12-0.16 ms of a 100k search's 1.15-1.26 ms, timed in
process through the app's ASGI interface. It validates
the same :class:`SearchQuery` and writes the same bytes as the route; any other request, an
invalid one included, goes on to the route, which answers it (and its errors) as before.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from api import services
from api.models import SearchResponse
from embeddings.index import Filters

router = APIRouter(prefix="/api", tags=["search"])

PATH = "/api/search"


class SearchQuery(BaseModel):
    """The query parameters of ``GET /api/search``."""

    q: str = Field(min_length=1, max_length=200, examples=["慰问金发放覆盖率"])
    department: str | None = Field(default=None, max_length=100)
    year: int | None = None
    level1: str | None = Field(default=None, max_length=40)
    level2: str | None = Field(default=None, max_length=40)
    region: str | None = Field(
        default=None, max_length=40, description="part of the department's region: 福田区"
    )
    k: int = Field(default=10, ge=1, le=200)

    def filters(self) -> Filters:
        return Filters(
            department=self.department,
            year=self.year,
            level1=self.level1,
            level2=self.level2,
            region=self.region,
        )


#: the route's response as FastAPI writes it (its response model's JSON)
_RESPONSE = TypeAdapter(SearchResponse)


@router.get(
    PATH.removeprefix("/api"),
    response_model=SearchResponse,
    summary="语义检索指标 / semantic search",
)
async def search(request: Request, query: Annotated[SearchQuery, Query()]) -> dict[str, Any]:
    filters = query.filters()
    index = _inline_index(request.app, filters)
    if index is not None:
        return _answer(index, query.q, query.k, filters)  # cheaper than a thread's hand-off
    return await anyio.to_thread.run_sync(
        lambda: _answer(services.get_index(request.app), query.q, query.k, filters)
    )


def _inline_index(app: Any, filters: Filters) -> Any | None:
    """The index when this search runs on the event loop (no filter, the index ready and at
    most ``api_search_inline_max`` indicators), else None: a thread runs it."""
    index = services.ready_index(app)
    if index is None or filters.tests():
        return None
    return index if len(index.items) <= app.state.settings.api_search_inline_max else None


def _answer(index: Any, q: str, k: int, filters: Filters) -> dict[str, Any]:
    """The response: each hit the indicator's summary, its score and band (none in a search),
    made from the index's ranking (no :class:`embeddings.index.Hit` on the way)."""
    ranked = index.rank(q, k=k, filters=filters)
    items = index.items
    out = [
        services.scored_summary(items[row], round(score, 4))
        for row, score in zip(ranked.rows.tolist(), ranked.scores.tolist(), strict=True)
    ]
    return {"query": q, "model": index.model_id, "total": len(out), "hits": out}


class DirectSearch:
    """ASGI middleware: ``GET /api/search`` answered here when it runs on the event loop
    (see the module doc); every other request goes on to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = None
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "GET":
            body = direct_answer(scope)
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def direct_answer(scope: Scope) -> bytes | None:
    """The route's answer to this request, when it is a valid one that would run on the
    event loop; else None (the route answers)."""
    app = scope["app"]
    if not app.state.settings.api_search_direct:
        return None
    # the query string as Starlette reads it: the last of a repeated parameter counts
    params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    try:
        query = SearchQuery.model_validate(params)
    except ValidationError:
        return None  # the route says what is wrong
    filters = query.filters()
    index = _inline_index(app, filters)
    if index is None:
        return None
    try:
        answer = _answer(index, query.q, query.k, filters)
    except Exception:  # the route answers it, its error handlers included
        return None
    return _RESPONSE.dump_json(_RESPONSE.validate_python(answer))
