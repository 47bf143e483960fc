"""``GET /api/examples``: the README's example queries (kg/queries/*.rq)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.models import ExampleOut
from kg.examples import example_queries

router = APIRouter(prefix="/api", tags=["examples"])


@router.get(
    "/examples", response_model=list[ExampleOut], summary="示例查询 / example SPARQL queries"
)
async def examples() -> list[dict[str, Any]]:
    return [
        {
            "id": f"q{int(q.id[1:]):02d}",
            "title": q.title,
            "title_zh": q.title_zh,
            "query": q.sparql,
        }
        for q in example_queries()
    ]
