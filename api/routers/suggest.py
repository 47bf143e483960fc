"""``POST /api/suggest``: indicator suggestions for a task being drafted.

The body is :class:`apps.suggest.SuggestRequest` (task, content, department?, k?, draft?) with
the drafting page's length limits (:class:`api.models.SuggestBody`), the answer
:class:`apps.suggest.SuggestResponse`. The engine (the embedding index, the name groups
and the peers' tasks) is loaded on the first request behind a lock, over the app's own store
(``app.state.store``) and, when the app has loaded one, its embedding index
(``api.services.get_index``); the CPU work runs in the threadpool.
Errors are JSON ``{"error", "detail"}``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api import services
from api.errors import ApiError, ErrorResponse
from api.models import SuggestBody
from apps.suggest import SuggestResponse, engine_for
from kg.errors import EmbeddingError

router = APIRouter(prefix="/api", tags=["suggest"])
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


class SuggestUnavailable(ApiError):
    """The embedding index cannot be opened (extra not installed, stale index …)."""

    status_code = 503
    code = "suggest_unavailable"


def _shared_index(request: Request) -> Any:
    """The app's embedding index (shared with search and duplicates), or None when it cannot
    be opened here: the engine then says why."""
    try:
        return services.get_index(request.app)
    except ApiError as exc:
        log.info("suggest: the shared embedding index is unavailable, opening its own: %s", exc)
        return None


def _engine(request: Request) -> Any:

    state = request.app.state
    eng = getattr(state, "suggest_engine", None)
    if eng is not None:
        return eng
    with _LOCK:
        eng = getattr(state, "suggest_engine", None)
        if eng is None:
            settings = state.settings
            try:
                eng = engine_for(
                    settings.data_dir,
                    settings,
                    index=_shared_index(request),
                    store=state.store,
                )
            except (ImportError, EmbeddingError, OSError) as exc:  # extra, index, store
                raise SuggestUnavailable(
                    f"指标建议不可用 / suggestions unavailable: {exc}"
                ) from exc
            state.suggest_engine = eng
    return eng


@router.post(
    "/suggest",
    response_model=SuggestResponse,
    responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
    summary="指标建议 / indicator suggestions for a task",
)
async def suggest(body: SuggestBody, request: Request) -> SuggestResponse:
    """At most ``k`` indicators for a task, none below the relevance floor (``min_score``,
    default the setting ``suggest_min_score``), each one indicator of one category with a
    typical target peers set that the review would not flag in a table of ``fiscal_year``;
    the level-2 categories the framework expects, marked when the draft has them, with a note
    when nothing relevant fills one; measurable alternatives for the draft's vague indicators."""

    def run() -> SuggestResponse:
        return _engine(request).suggest(body)

    return await run_in_threadpool(run)
