"""Request and response models of the suggestion engine (also the API's ``/api/suggest``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ReasonCode = Literal["similar", "common", "missing-category", "rewrite"]


class DraftIndicator(BaseModel):
    """An indicator already written in the draft table."""

    name: str = Field(min_length=1, description="指标名称")
    level1: str | None = Field(default=None, description="一级指标 as written")
    level2: str | None = Field(default=None, description="二级指标 as written")
    target: str | None = Field(default=None, description="指标值 as written")


class SuggestRequest(BaseModel):
    task: str = Field(min_length=1, description="任务名称")
    content: str = Field(default="", description="主要内容")
    department: str | None = Field(default=None, description="the drafting department")
    k: int = Field(default=10, ge=1, le=50, description="at most this many suggestions")
    fiscal_year: int | None = Field(
        default=None,
        ge=2000,
        le=2100,
        description="the drafting year (deadlines are given in it); default next year",
    )
    min_score: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="relevance floor; default the setting suggest_min_score (docs/suggest.md)",
    )
    draft: list[DraftIndicator] = Field(default_factory=list)


class TypicalTarget(BaseModel):
    """What peers set: ``text`` is the value to write (never a vague grade)."""

    text: str
    kind: Literal["numeric", "deadline", "duration", "recurring", "schedule"]
    comparison: str | None = None
    unit: str | None = None
    median: float | None = None
    min: float | None = None
    max: float | None = None
    samples: int = Field(description="peer targets the figure is drawn from")
    note: str = Field(default="", description="中文说明, e.g. 同类指标中位数98%，范围90%–100%")


class EvidenceLink(BaseModel):
    uri: str
    name: str
    department: str
    table: str
    table_title: str
    year: int | None
    source: str = Field(description="source file:line")
    target: str
    own_department: bool = False


class Evidence(BaseModel):
    departments: int
    tables: int
    indicators: int
    links: list[EvidenceLink]


class Reason(BaseModel):
    code: ReasonCode
    text: str


class Suggestion(BaseModel):
    name: str
    level1: str
    level2: str
    level1_concept: str
    level2_concept: str
    target: str = Field(description="the typical target as text")
    typical_target: TypicalTarget
    score: float = Field(description="ranking score (relevance, peers' tasks, departments)")
    relevance: float = Field(description="similarity of the best peer row to the task")
    reasons: list[Reason]
    variants: list[str] = Field(default_factory=list, description="other names peers use")
    evidence: Evidence


class CategoryStatus(BaseModel):
    level1: str
    level2: str
    concept: str
    required: bool = Field(description="the national framework expects it for every task")
    in_draft: bool
    draft_indicators: list[str] = Field(default_factory=list)
    suggested: int = Field(description="suggestions in this category")
    note: str = Field(
        default="",
        description="why nothing is suggested, e.g. 同类表中无相关的成本指标；请按任务测算填写金额",
    )


class RewriteHint(BaseModel):
    draft_name: str
    draft_target: str | None
    problem: str
    alternatives: list[Suggestion]


class SuggestResponse(BaseModel):
    task: str
    suggestions: list[Suggestion]
    categories: list[CategoryStatus]
    rewrite_hints: list[RewriteHint]
    model: str
    indicators_indexed: int
    fiscal_year: int = Field(description="the drafting year the targets were checked in")
    min_score: float = Field(description="the relevance floor of every suggestion")
    fill_min_score: float = Field(
        description="the relevance floor of a suggestion that completes a missing category "
        "(min_score raised to suggest_min_ratio of the task's best match)"
    )
    content_from_store: str | None = Field(
        default=None,
        description="the request gave no content: the content (主要内容) of a stored task of "
        "the same name that was searched with the name (None: none was used)",
    )
