"""What a review produces: findings, the coverage matrix and the summary.

A :class:`Finding` is one thing a reviewer sends back to a department: which
rule saw it, how bad it is, the item (indicator, task, totals row, category,
table or file) by its name and its values *as printed*, where it is in the
source file, a message in Chinese that can be pasted into the reply, and —
when the fix is clear — a suggested fix.

:class:`ReviewReport` is what ``ikg review`` prints in every format (text,
JSON, Markdown, HTML); its JSON form (``model_dump(mode="json")``) is described
by ``apps/review/report.schema.json``, generated from these models by
:func:`json_schema` (a test keeps the file and the models identical).
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "note"]
ItemKind = Literal["indicator", "task", "totals", "category", "table", "file"]
Section = Literal[
    "parse",
    "amounts",
    "dates",
    "targets",
    "names",
    "categories",
    "structure",
    "duplicates",
    "history",
    "coverage",
]

#: Report format version; bump when the JSON shape changes incompatibly.
REPORT_VERSION = 1

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
SEVERITY_ZH: dict[str, str] = {"error": "错误", "warning": "警告", "note": "提示"}

#: Sections in the order a report shows them (errors first), with their Chinese titles.
SECTIONS: dict[str, str] = {
    "parse": "文件解析",
    "amounts": "金额核对",
    "dates": "日期",
    "targets": "目标值",
    "names": "指标名称",
    "categories": "指标归类",
    "structure": "指标体系结构",
    "duplicates": "重复指标",
    "history": "与上年比较",
    "coverage": "任务覆盖",
}

#: Chinese labels of the keys that :attr:`Finding.values` may carry.
VALUE_LABELS: dict[str, str] = {
    "level1": "一级指标",
    "level2": "二级指标",
    "target": "目标值",
    "total": "总额",
    "fiscal": "财政拨款",
    "other": "其他资金",
    "column": "金额列",
    "stated": "合计",
    "rows_sum": "各行之和",
    "gap": "差额",
    "fiscal_year": "预算年度",
    "deadline": "截止日期",
    "text": "表中文字",
    "other_name": "相似指标",
    "other_target": "相似指标目标值",
    "other_line": "相似指标行号",
    "other_department": "相似指标所属部门",
    "other_file": "相似指标文件",
    "similarity": "相似度",
    "method": "相似度算法",
    "reasons": "相似理由",
    "unit": "单位",
    "best_task": "最接近的任务",
    "best_score": "匹配度",
    "prev_name": "上年指标",
    "prev_target": "上年目标值",
    "prev_actual": "上年实际完成值",
    "prev_year": "上年年度",
    "prev_table": "上年表名",
    "prev_file": "上年文件",
    "prev_line": "上年行号",
    "share": "相同比例",
    "identical": "相同指标数",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_Model):
    """One thing to fix (or to check), pointing at the line of the source file."""

    rule: str = Field(description="rule id, e.g. vague-target (see docs/review.md)")
    severity: Severity
    section: Section = Field(description="report section the rule belongs to")
    item_kind: ItemKind = Field(description="what the finding is about")
    item_name: str = Field(description="the item's name as printed (indicator or task name ...)")
    category: str | None = Field(
        default=None, description="the indicator's level-2 category as printed, when it has one"
    )
    values: dict[str, str] = Field(
        default_factory=dict,
        description="the item's values as printed (target, amounts ...); keys in VALUE_LABELS",
    )
    file: str = Field(description="source file, as given")
    line: int | None = Field(default=None, ge=1, description="first line of the item (1-based)")
    end_line: int | None = Field(default=None, ge=1, description="last line when it spans several")
    message_zh: str = Field(
        description="what is wrong, in Chinese, ready to send to the department"
    )
    fix_zh: str | None = Field(default=None, description="suggested fix, when there is a clear one")
    source_text: str | None = Field(
        default=None, description="the source lines line..end_line (blank lines dropped, capped)"
    )
    input_file: str | None = Field(
        default=None,
        description="the file reviewed, when it differs from `file` (a template CSV records the "
        "text it was read from): the report lists the finding under this file",
    )

    @property
    def where(self) -> str:
        if self.line is None:
            return self.file
        if self.end_line and self.end_line != self.line:
            return f"{self.file}:{self.line}-{self.end_line}"
        return f"{self.file}:{self.line}"


class RuleInfo(_Model):
    id: str
    severity: Severity
    section: Section
    title_zh: str
    description: str


class FileSummary(_Model):
    file: str
    parsed: bool = Field(description="False when the file could not be read as a table")
    reader: str | None = None
    title: str | None = None
    department: str | None = None
    fiscal_year: int | None = None
    indicators: int = 0
    tasks: int = 0
    projects: list[str] = Field(
        default_factory=list,
        description="the projects of a file listing several, one table each (else empty)",
    )
    counts: dict[str, int] = Field(
        default_factory=dict, description="findings of this file per severity"
    )


class CoverageRow(_Model):
    """One task row of the coverage matrix."""

    task: str
    ordinal: int
    line: int
    unit: str | None = None
    total: str | None = Field(default=None, description="the task's total amount as printed")
    counts: dict[str, int] = Field(description="aligned indicators per column")
    indicators: int = Field(description="indicators aligned to this task (all columns)")
    uncovered: bool = Field(
        default=False, description="no indicator and not covered by whole-table ones (a finding)"
    )
    note: str | None = Field(default=None, description="e.g. 基本支出 covered by whole-table ones")


class Alignment(_Model):
    """Which task(s) an indicator was aligned to, and how well."""

    indicator: str
    line: int
    column: str
    tasks: list[int] = Field(description="ordinals of the aligned tasks (empty: none)")
    score: float = Field(description="score of the best task, 0..1")
    table_wide: bool = Field(
        default=False, description="a whole-table indicator (预算执行率 ...), not tied to one task"
    )


class TableCoverage(_Model):
    """The task × indicator-count matrix of one table."""

    file: str
    columns: list[str] = Field(description="matrix columns: indicator groups (数量, 质量 …)")
    rows: list[CoverageRow]
    table_wide: dict[str, int] = Field(description="whole-table indicators per column")
    unaligned: dict[str, int] = Field(description="indicators aligned to no task, per column")
    alignments: list[Alignment]
    method: str = Field(description="the alignment measure used, e.g. lexical-bigram-idf")


class Summary(_Model):
    findings: int
    by_severity: dict[str, int]
    by_rule: dict[str, dict[str, int]] = Field(description="rule id → severity → count")
    by_section: dict[str, int]
    by_category: dict[str, dict[str, int]] = Field(
        description="indicator category (as printed; tasks and table-level items under their own "
        "keys) → severity → count"
    )


class TableSummary(_Model):
    """One reviewed table in the batch summary (sorted by what needs attention)."""

    file: str = Field(description="the file reviewed")
    title: str
    department: str
    fiscal_year: int | None = None
    project: str | None = None
    indicators: int = 0
    counts: dict[str, int] = Field(description="findings of this table per severity")
    vague_share: float = Field(description="share of indicators with a vague target or name")
    duplicate_share: float = Field(description="share of indicators reported as duplicates")
    cross_year: int = Field(description="cross-year findings (lowered, dropped, below actual …)")
    compared_with: str | None = Field(
        default=None, description="the earlier table compared with (file), when one was"
    )


class Comparison(_Model):
    """What one table was compared with for the cross-year rules."""

    file: str = Field(description="the file reviewed")
    title: str
    department: str
    fiscal_year: int | None = None
    status: Literal["compared", "other-project", "no-earlier"] = Field(
        description="compared with the department's earlier table; its earlier tables are of "
        "another project (nothing raised); or the department has no earlier table"
    )
    earlier_tables: int = Field(description="earlier tables of the department available")
    prior_title: str | None = None
    prior_year: int | None = None
    prior_file: str | None = None
    matched: int = Field(default=0, description="indicators matched with last year's")
    dropped: int = Field(default=0, description="last year's indicators with no counterpart")
    identical: int = Field(default=0, description="indicators equal word for word (name, target)")


class AgainstInfo(_Model):
    """What the review compared with (``--against`` and the batch itself)."""

    sources: list[str] = Field(description="--against store or folders, and 'batch' for the files")
    tables: int
    departments: int
    years: list[int]
    indicators: int


class ReviewReport(_Model):
    report_version: int = REPORT_VERSION
    files: list[FileSummary]
    findings: list[Finding]
    coverage: list[TableCoverage]
    summary: Summary
    rules: list[RuleInfo] = Field(description="the rules that ran, with their severity")
    tables: list[TableSummary] = Field(
        default_factory=list, description="per table, sorted by what needs attention first"
    )
    against: AgainstInfo | None = Field(
        default=None, description="what the tables were compared with (None: nothing)"
    )
    comparisons: list[Comparison] = Field(
        default_factory=list, description="per table: the earlier table compared with"
    )

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


#: Keys of :attr:`Summary.by_category` for findings that are not about one indicator.
CATEGORY_TASKS = "任务与金额"
CATEGORY_TABLE = "全表"


def summarize(findings: list[Finding]) -> Summary:
    by_rule: dict[str, dict[str, int]] = {}
    by_cat: dict[str, dict[str, int]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, dict.fromkeys(SEVERITIES, 0))[f.severity] += 1
        if f.category:
            key = f.category
        elif f.item_kind in ("task", "totals"):
            key = CATEGORY_TASKS
        else:
            key = CATEGORY_TABLE
        by_cat.setdefault(key, dict.fromkeys(SEVERITIES, 0))[f.severity] += 1
    sev = Counter(f.severity for f in findings)
    sec: Counter[str] = Counter(f.section for f in findings)
    return Summary(
        findings=len(findings),
        by_severity={s: sev.get(s, 0) for s in SEVERITIES},
        by_rule=by_rule,
        by_section={s: sec[s] for s in SECTIONS if sec.get(s)},
        by_category=by_cat,
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a report (what report.schema.json holds)."""
    schema = ReviewReport.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/indicator-apps/review/report.schema.json",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped with the package."""
    text = (resources.files("apps.review") / "report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]
