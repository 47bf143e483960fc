"""``GET /api/duplicates``: suspected duplicates as clusters, paginated."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request

from api import services
from api.models import DuplicatesResponse

router = APIRouter(prefix="/api", tags=["duplicates"])


@router.get(
    "/duplicates", response_model=DuplicatesResponse, summary="疑似重复指标 / suspected duplicates"
)
async def duplicates(
    request: Request,
    scope: Literal["all", "within-table", "across-departments"] = "all",
    threshold: Annotated[float | None, Query(ge=0, le=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        rep = services.duplicates(request.app, scope, threshold)
        d, r, rel = rep.bands
        clusters = []
        for c in rep.clusters[offset : offset + limit]:
            pairs = [
                {
                    "a": p.a.id.removeprefix(services.DATA_NS),
                    "b": p.b.id.removeprefix(services.DATA_NS),
                    "score": p.score.score,
                    "band": p.score.band,
                    "label": p.label,
                    "reasons": p.reasons,
                }
                for p in c.pairs
            ]
            clusters.append(
                {
                    "id": c.id,
                    "label": c.label,
                    "scope": sorted(c.scopes),
                    "min_similarity": round(c.min_similarity, 4),
                    "members": [services.summary(m) for m in c.members],
                    "pairs": pairs,
                }
            )
        return {
            "threshold": rep.threshold,
            "scope": scope,
            "bands": {"duplicate": d, "review": r, "related": rel},
            "total": len(rep.clusters),
            "pairs_total": rep.pairs_total,
            "listed_per_indicator": rep.listed_per_indicator,
            "clusters": clusters,
        }

    return await anyio.to_thread.run_sync(run)
