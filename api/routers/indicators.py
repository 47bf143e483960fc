"""``GET /api/indicators/{id}`` and ``/api/indicators/{id}/similar``."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request

from api import services
from api.models import IndicatorDetail, SimilarResponse

router = APIRouter(prefix="/api", tags=["indicators"])


def _reasons(hit: Any) -> list[str]:
    shared = (hit.explain or {}).get("shared") or []
    out = []
    if shared:
        out.append("共同词：" + "、".join(map(str, shared)))
    if hit.dense is not None:
        out.append(f"语义相似度 {hit.dense:.3f}")
    if hit.lexical is not None:
        out.append(f"字面相似度 {hit.lexical:.3f}")
    return out


@router.get(
    "/indicators/{id:path}/similar",
    response_model=SimilarResponse,
    summary="相似指标 / similar indicators",
)
async def similar(
    request: Request, id: str, k: Annotated[int, Query(ge=1, le=200)] = 10
) -> dict[str, Any]:
    uri = services.DATA_NS + id

    def run() -> dict[str, Any]:
        index = services.get_index(request.app)
        it = services.item_by_uri(index, uri)
        hits = [h for h in index.similar(uri, k=k + 1) if h.uri != uri][:k]
        out = []
        for h in hits:
            d = services.hit_dict(index, h)
            d["reasons"] = _reasons(h)
            out.append(d)
        return {"indicator": services.summary(it), "hits": out}

    return await anyio.to_thread.run_sync(run)


@router.get(
    "/indicators/{id:path}", response_model=IndicatorDetail, summary="指标详情 / one indicator"
)
async def indicator(request: Request, id: str) -> dict[str, Any]:
    uri = services.DATA_NS + id

    def run() -> dict[str, Any]:
        index = services.get_index(request.app)
        it = services.item_by_uri(index, uri)
        out = services.summary(it)
        store = services.graph_store(request.app)
        ikg = "https://w3id.org/indicator-kg/ontology#"
        target: dict[str, Any] = {}
        q = f"SELECT ?p ?o WHERE {{ <{uri}> <{ikg}target> ?t . ?t ?p ?o }}"
        for row in store.query(q):
            p = row["p"].value.removeprefix(ikg).rsplit("#", 1)[-1]
            target.setdefault(p, []).append(row["o"].value)
        out["target_parsed"] = {p: v[0] if len(v) == 1 else v for p, v in target.items()}
        labels = store.query(
            f"SELECT ?l1 ?l2 WHERE {{ <{uri}> <{ikg}level1Label> ?l1 ; <{ikg}level2Label> ?l2 }}"
        )
        out["category_original"] = [
            {"level1": r["l1"].value, "level2": r["l2"].value} for r in labels
        ]
        tasks = store.query(
            f"SELECT DISTINCT ?n WHERE {{ ?k a <{ikg}Task> ; <{ikg}inTable> <{it.table}> ; "
            f"<{ikg}name> ?n }} ORDER BY ?n"
        )
        out["tasks"] = [r["n"].value for r in tasks]
        out["similar_count"] = sum(
            1
            for h in index.similar(uri, k=50)
            if h.uri != uri and h.band in ("duplicate", "review")
        )
        return out

    return await anyio.to_thread.run_sync(run)
