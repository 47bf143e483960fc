"""``GET /api/tables``: the tables in the store, paginated."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request

from api.models import TablesResponse
from api.services import DATA_NS, graph_store

router = APIRouter(prefix="/api", tags=["tables"])

IKG = "https://w3id.org/indicator-kg/ontology#"
_Q = f"""PREFIX ikg: <{IKG}>
SELECT ?t ?dept ?year ?title
  (SUM(IF(?kind = ikg:Indicator, 1, 0)) AS ?ind) (SUM(IF(?kind = ikg:Task, 1, 0)) AS ?tasks)
  (SAMPLE(?file) AS ?src) WHERE {{
  ?t a ikg:TargetTable ; ikg:department/ikg:name ?dept ; ikg:fiscalYear ?year .
  OPTIONAL {{ ?t <http://purl.org/dc/terms/title> ?title }}
  OPTIONAL {{ ?t <http://www.w3.org/ns/prov#wasDerivedFrom>/ikg:fileName ?file }}
  OPTIONAL {{ ?x ikg:inTable ?t ; a ?kind . VALUES ?kind {{ ikg:Indicator ikg:Task }} }}
}} GROUP BY ?t ?dept ?year ?title ORDER BY ?dept ?year"""


@router.get("/tables", response_model=TablesResponse, summary="绩效目标表列表 / tables")
async def tables(
    request: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        rows = list(graph_store(request.app).query(_Q))
        items = [
            {
                "id": r["t"].value.removeprefix(DATA_NS),
                "uri": r["t"].value,
                "department": r["dept"].value,
                "year": int(r["year"].value),
                "project_name": r["title"].value if r["title"] else None,
                "indicators": int(r["ind"].value),
                "tasks": int(r["tasks"].value),
                "source_file": r["src"].value if r["src"] else None,
            }
            for r in rows
        ]
        return {"total": len(items), "items": items[offset : offset + limit]}

    return await anyio.to_thread.run_sync(run)
