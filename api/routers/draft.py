"""The drafting page's table: its review and its export in the project's template.

- ``POST /api/draft/review``: the review report of a draft (:class:`apps.draft.Draft`), the
  same rules as ``POST /api/review`` (:func:`apps.draft.review_draft`): an indicator added from a
  task's suggestions (``task``) belongs to that task; each finding cites the draft's row
  (``row_label``: 第 3 条 / 任务 2) and its rule's Chinese name (``rule_zh``); ``line`` is the
  line of the exported CSV.
- ``POST /api/draft/export?format=csv|xlsx``: the draft as the template's CSV or XLSX file
  (``ikg build`` and ``ikg review`` read it back).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api import services
from api.errors import ApiError, ErrorResponse
from apps.draft import DRAFT_FILE, Draft, draft_csv, draft_xlsx, review_draft
from kg.errors import SourceError
from kg.readers.xlsx_limits import reading_limits

router = APIRouter(prefix="/api/draft", tags=["draft"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_EXAMPLE = {
    "department": "中共深圳市福田区委组织部",
    "fiscal_year": 2025,
    "tasks": [{"name": "老干口业务", "content": "做好节日慰问工作，发放离休干部慰问金"}],
    "indicators": [
        {
            "level2": "数量指标",
            "name": "慰问离休干部人数",
            "target": "≥100人",
            "task": "老干口业务",
        },
        {"level2": "社会效益指标", "name": "提升人才政策知晓度", "target": "明显"},
    ],
}


class DraftNotReadable(ApiError):
    """A draft row the template reader refuses (e.g. a 二级指标 no category scheme knows)."""

    status_code = 422
    code = "draft_not_readable"


@router.post(
    "/review",
    summary="审核草稿 / review the draft table",
    responses={422: {"model": ErrorResponse}},
    openapi_extra={"requestBody": {"content": {"application/json": {"example": _EXAMPLE}}}},
)
async def review_draft_route(draft: Draft, request: Request, against: bool = False) -> JSONResponse:
    """The review report of the draft: vague targets and names, categories the framework
    expects, task coverage …; ``against=true`` adds other departments' duplicates. Findings
    cite the draft's rows (``row_label``) and carry the rule's Chinese name (``rule_zh``)."""
    report = await anyio.to_thread.run_sync(_review_draft, request.app, draft, against)
    return JSONResponse(report)


def _shared_scorer(app: Any) -> Any:
    """The duplicate rules' scorer over the app's embedding index (True: the review's own)."""
    try:
        from apps.review.similarity import EmbeddingScorer

        return EmbeddingScorer(services.get_index(app).encoder)
    except (ImportError, ApiError):
        return True


def _review_draft(app: Any, draft: Draft, against: bool) -> dict[str, Any]:

    scorer = _shared_scorer(app)
    others = services.other_indicators(app) if against else None
    with (
        reading_limits(app.state.settings),
        tempfile.TemporaryDirectory(prefix="ikg-draft-") as tmp,
    ):
        try:
            return review_draft(
                draft, Path(tmp), against=others, scorer=scorer, settings=app.state.settings
            )
        except SourceError as exc:
            detail = str(exc).replace(str(Path(tmp)) + "/", "")
            raise DraftNotReadable(f"草稿无法审核 / the draft cannot be read: {detail}") from exc


def _xlsx(draft: Draft) -> bytes:

    with tempfile.TemporaryDirectory(prefix="ikg-draft-") as tmp:
        try:
            return draft_xlsx(draft, Path(tmp))
        except SourceError as exc:
            detail = str(exc).replace(str(Path(tmp)) + "/", "")
            raise DraftNotReadable(
                f"草稿无法导出 / the draft cannot be read back: {detail}"
            ) from exc


@router.post(
    "/export",
    summary="导出草稿 / export the draft in the template (CSV or XLSX)",
    responses={
        200: {"content": {"text/csv": {}, XLSX_TYPE: {}}},
        422: {"model": ErrorResponse},
    },
    openapi_extra={"requestBody": {"content": {"application/json": {"example": _EXAMPLE}}}},
)
async def export_draft(
    draft: Draft,
    format: Literal["csv", "xlsx"] = Query("csv", description="csv 或 xlsx"),
) -> Response:
    """The draft in the template's CSV (one sheet with 记录类型) or XLSX (one sheet per
    record kind) form; ``ikg build`` and ``ikg review`` read both."""
    name = Path(DRAFT_FILE).with_suffix("." + format).name
    disposition = f"attachment; filename=\"draft.{format}\"; filename*=UTF-8''{quote(name)}"
    if format == "csv":
        body = draft_csv(draft).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        body = await anyio.to_thread.run_sync(_xlsx, draft)
        media = XLSX_TYPE
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
