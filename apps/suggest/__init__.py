"""Indicator suggestions for a task being drafted: ``suggest(task, content, …)``.

See :mod:`apps.suggest.engine` for the method and docs/suggest.md for the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import SuggestEngine, engine_for, forget_engines, is_vague_target, typical_target
from .models import (
    CategoryStatus,
    DraftIndicator,
    Evidence,
    EvidenceLink,
    Reason,
    RewriteHint,
    Suggestion,
    SuggestRequest,
    SuggestResponse,
    TypicalTarget,
)

if TYPE_CHECKING:
    from kg.settings import Settings


def suggest(
    task: str,
    content: str = "",
    *,
    department: str | None = None,
    k: int = 10,
    fiscal_year: int | None = None,
    min_score: float | None = None,
    draft: Sequence[DraftIndicator | dict[str, Any]] | None = None,
    data_dir: Path,
    settings: Settings | None = None,
    index: Any = None,
    exclude_tables: Iterable[str] = (),
) -> SuggestResponse:
    """Ranked indicator suggestions for a task (name and 主要内容) from the store in ``data_dir``.

    ``draft``: indicators already written (names, optional categories and targets): their
    categories are marked present and vague ones get rewrite hints. At most ``k``
    suggestions, none below the relevance floor (``min_score``, default the setting
    ``suggest_min_score``), none with a target the review would flag in a table of
    ``fiscal_year`` (default next year). ``exclude_tables``: table
    URIs whose indicators are left out (the leave-one-table-out evaluation).
    """
    req = SuggestRequest(
        task=task,
        content=content,
        department=department,
        k=k,
        fiscal_year=fiscal_year,
        min_score=min_score,
        draft=[DraftIndicator.model_validate(d) for d in (draft or [])],
    )
    return engine_for(data_dir, settings, index=index).suggest(req, exclude_tables=exclude_tables)


__all__ = [
    "CategoryStatus",
    "DraftIndicator",
    "Evidence",
    "EvidenceLink",
    "Reason",
    "RewriteHint",
    "SuggestEngine",
    "SuggestRequest",
    "SuggestResponse",
    "Suggestion",
    "TypicalTarget",
    "engine_for",
    "forget_engines",
    "is_vague_target",
    "suggest",
    "typical_target",
]
