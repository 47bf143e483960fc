"""``POST /api/suggest``: indicator suggestions for a task being drafted (issue 7).

Placeholder until the suggestion engine lands: answers 501 with a JSON message.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.errors import ErrorResponse

router = APIRouter(prefix="/api", tags=["suggest"])


@router.post(
    "/suggest",
    status_code=501,
    responses={501: {"model": ErrorResponse}},
    summary="指标建议（尚未实现）/ indicator suggestions (not implemented yet)",
)
async def suggest() -> JSONResponse:
    return JSONResponse(
        {
            "error": "not_implemented",
            "detail": "指标建议功能尚未实现 / indicator suggestions are not implemented yet",
        },
        status_code=501,
    )
