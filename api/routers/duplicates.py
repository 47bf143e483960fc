"""``GET /api/duplicates``: suspected duplicates as clusters, paginated."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request

from api import services
from api.models import DuplicatesResponse
from embeddings.duplicates import listed_clusters, section_of, year_region

router = APIRouter(prefix="/api", tags=["duplicates"])
#: a page stops adding clusters past this many bytes of JSON (setting api_duplicates_page_bytes)
PAGE_BYTES = 1_000_000


@router.get(
    "/duplicates", response_model=DuplicatesResponse, summary="疑似重复指标 / suspected duplicates"
)
async def duplicates(
    request: Request,
    scope: Literal["all", "within-table", "across-departments"] = "all",
    threshold: Annotated[float | None, Query(ge=0, le=1)] = None,
    band: Annotated[
        Literal["duplicate", "review", "related"] | None,
        Query(
            description="widest band listed: duplicate (default), review (adds the review "
            "band), related (adds review and related); a threshold alone lists its band"
        ),
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        rep = services.duplicates(request.app, scope, threshold, band)
        budget = getattr(request.app.state.settings, "api_duplicates_page_bytes", PAGE_BYTES)
        return _page(rep, scope, offset, limit, budget)

    return await anyio.to_thread.run_sync(run)


def _page(
    rep: Any, scope: str, offset: int, limit: int, budget: int = PAGE_BYTES
) -> dict[str, Any]:
    """One page of the report's clusters in the listing's order (sections, then year and
    region), with the bands and the 共性指标 settings it was made with.

    The page ends after ``limit`` clusters or once its clusters pass ``budget`` bytes of JSON
    (at least one cluster is given): ``truncated`` then says so and ``next_offset`` is where
    the next page starts."""

    d, r, rel = rep.bands
    ordered = listed_clusters(rep)
    clusters, size = [], 0
    for c in ordered[offset : offset + limit]:
        out = _cluster(c)
        size += len(json.dumps(out, ensure_ascii=False).encode("utf-8"))
        if clusters and size > budget:
            break
        clusters.append(out)
    end = offset + len(clusters)
    return {
        "threshold": rep.threshold,
        "scope": scope,
        "bands": {"duplicate": d, "review": r, "related": rel},
        "shown_bands": list(rep.shown_bands),
        "common_share": rep.common_share,
        "common_min_departments": rep.common_min_departments,
        "total": len(rep.clusters),
        "pairs_total": rep.pairs_total,
        "listed_per_indicator": rep.listed_per_indicator,
        "clusters": clusters,
        "truncated": len(clusters) < min(limit, max(0, len(ordered) - offset)),
        "next_offset": end if end < len(ordered) else None,
        "precomputed": bool(getattr(rep, "precomputed", False)),
    }


def _cluster(c: Any) -> dict[str, Any]:
    """A cluster as the API shows it: members as indicator summaries, pairs by short id."""

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
    year, region = year_region(c)
    return {
        "id": c.id,
        "section": section_of(c),
        "year": year,
        "region": region,
        "label": c.label,
        "scope": sorted(c.scopes),
        "min_similarity": round(c.min_similarity, 4),
        "members": [services.summary(m) for m in c.members],
        "pairs": pairs,
    }
