"""Typed records that every reader yields and every writer consumes.

A reader turns one source file into a :class:`ParsedTable`: the table's header
facts plus lists of units, tasks, goals, indicators and not-applicable
categories. Every item carries a :class:`Source` (file and line range) so a
reviewer can find it in what the department published.

The JSON shape of each record (``model_dump(mode="json")``) is what
``ikg parse --format jsonl`` prints, one record per line, with a ``kind`` key.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Source(_Record):
    """Where an item was printed: the file (as given) and its 1-based lines."""

    file: str
    line: int = Field(ge=1, description="first line of the item in the source file")
    end_line: int | None = Field(
        default=None, ge=1, description="last line of the item when it spans several"
    )


TargetForm = Literal[
    "numeric",  # a number with an optional comparison and unit: ≥90%, 2700卷, ＞100人
    "range",  # 100人≤n≤129人, 95%≤n≤100%
    "deadline",  # an absolute date: 2024年12月20日前
    "recurring",  # a recurring deadline: 每月20日前
    "duration",  # a duration: 20个工作日内
    "schedule",  # a schedule in words: 每季度首月第一个星期二下午三点
    "qualitative",  # a grade: 显著, 明显, 及时, 二级, 有效, 较好 ...
    "not_applicable",  # 不适用
    "text",  # free text no rule recognised; raw kept and flagged
]

Comparison = Literal[">=", "<=", ">", "<", "=", "range"]


class TargetValue(_Record):
    """A structured reading of a target value (目标值). ``raw`` is always kept."""

    raw: str = Field(description="the value as printed, white space removed")
    form: TargetForm
    comparison: Comparison | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    lower_inclusive: bool | None = None
    upper_inclusive: bool | None = None
    unit: str | None = Field(default=None, description="unit as printed: 人, 人次, 卷, %, 个月 ...")
    percent: bool = False
    deadline: dt.date | None = None
    deadline_relation: Literal["before", "on_or_before", "on"] | None = None
    recurrence_period: Literal["day", "week", "month", "quarter", "half_year", "year"] | None = None
    recurrence_day: int | None = None
    duration_value: Decimal | None = None
    duration_unit: str | None = None
    schedule: str | None = None
    grade: str | None = None
    recognized: bool = Field(
        default=True, description="False when no rule matched: the raw text is kept and flagged"
    )
    flags: list[str] = Field(default_factory=list)


class TableRecord(_Record):
    kind: Literal["table"] = "table"
    title: str
    department: str
    fiscal_year: int | None = Field(
        description="预算年度; None only when a table prints none anywhere (reading succeeds, "
        "storing needs one: ikg build --year)"
    )
    currency_unit: str = "万元"
    table_type: str = Field(default="部门整体支出绩效目标表")
    category_scheme: Literal["legacy", "2021"] = "legacy"
    project_name: str | None = Field(default=None, description="项目名称, for a project table")
    self_evaluation: bool = Field(
        default=False, description="a 自评表: indicators carry actual values"
    )
    source: Source


class UnitRecord(_Record):
    kind: Literal["unit"] = "unit"
    name: str
    supervising_department: str | None = None
    ordinal: int
    source: Source


class TaskRecord(_Record):
    kind: Literal["task"] = "task"
    name: str
    content: str
    total: Decimal | None
    fiscal: Decimal | None
    other: Decimal | None
    unit: str | None = Field(default=None, description="reporting unit, when the row says")
    ordinal: int
    source: Source


class TotalsRecord(_Record):
    """The stated totals row (金额合计)."""

    kind: Literal["totals"] = "totals"
    label: str = "金额合计"
    total: Decimal | None
    fiscal: Decimal | None
    other: Decimal | None
    source: Source


class GoalRecord(_Record):
    kind: Literal["goal"] = "goal"
    number: int = Field(ge=0, description="0 for the overall goal, 1..n for 目标 n")
    text: str
    source: Source


class IndicatorRecord(_Record):
    kind: Literal["indicator"] = "indicator"
    level1: str = Field(description="level-1 category label as printed, e.g. 产出指标")
    level2: str = Field(description="level-2 category label as printed, e.g. 数量指标")
    name: str
    target: str = Field(description="target value as printed, white space removed")
    target_parsed: TargetValue
    ordinal: int
    # Optional attributes some layouts print
    code: str | None = Field(
        default=None, description="a prefix or code printed with the name: 指标1, GX-01 …"
    )
    core: bool = Field(default=False, description="marked as a core indicator (★)")
    name_simplified: str | None = Field(
        default=None,
        description="the name in simplified characters, when printed in traditional ones",
    )
    weight: Decimal | None = Field(default=None, description="分值 (weight in points)")
    actual: str | None = Field(default=None, description="实际完成值 as printed (self-evaluations)")
    actual_parsed: TargetValue | None = None
    score: Decimal | None = Field(default=None, description="得分 (self-evaluations)")
    deviation: str | None = Field(default=None, description="偏差原因及改进措施 (self-evaluations)")
    task: str | None = Field(
        default=None,
        description="所属任务: the 任务名称 of the table's task this indicator measures, when the "
        "table says (the drafting template's column)",
    )
    level1_printed: str | None = Field(
        default=None,
        description="the level-1 label as printed when no framework label reads so (level1 "
        "then holds the nearest framework category)",
    )
    level2_printed: str | None = Field(
        default=None, description="the level-2 label as printed, when level2 had to be placed"
    )
    direction: str | None = Field(
        default=None, description="指标方向 as printed: 正向 (higher is better) or 反向"
    )
    value_kind: str | None = Field(default=None, description="定量 or 定性, when a column says")
    long_term_target: str | None = Field(
        default=None,
        description="the target of the whole period (中期 / 实施周期) when printed beside the "
        "annual one (target)",
    )
    source: Source


class CategoryNotApplicableRecord(_Record):
    kind: Literal["category_not_applicable"] = "category_not_applicable"
    level1: str
    level2: str
    text: str = Field(description="what the table printed, e.g. 不适用 不适用")
    source: Source


class WarningRecord(_Record):
    """Something a reader could not place; never silently dropped."""

    kind: Literal["warning"] = "warning"
    message: str
    text: str | None = None
    source: Source


class ProjectRecord(_Record):
    """A project row of a file listing several projects (项目名称 项目单位 预算数 …).

    The indicators printed after it, up to the next project row, are that project's: the
    readers split such a file into one table per project (:func:`kg.readers.read_tables`).
    """

    kind: Literal["project"] = "project"
    name: str
    unit: str | None = Field(default=None, description="项目单位 as printed, its code removed")
    amount: Decimal | None = Field(default=None, description="预算数, in the table's unit")
    text: str = Field(description="the row as printed (shortened)")
    source: Source
    table: TableRecord | None = Field(
        default=None,
        description="a table of its own printed later in the file (its title, header facts)",
    )


Record = Annotated[
    TableRecord
    | UnitRecord
    | TaskRecord
    | TotalsRecord
    | GoalRecord
    | IndicatorRecord
    | CategoryNotApplicableRecord
    | WarningRecord,
    Field(discriminator="kind"),
]


class ParsedTable(_Record):
    """Everything one source file holds, in reading order within each list."""

    table: TableRecord
    units: list[UnitRecord] = Field(default_factory=list)
    tasks: list[TaskRecord] = Field(default_factory=list)
    totals: TotalsRecord | None = None
    goals: list[GoalRecord] = Field(default_factory=list)
    indicators: list[IndicatorRecord] = Field(default_factory=list)
    not_applicable: list[CategoryNotApplicableRecord] = Field(default_factory=list)
    warnings: list[WarningRecord] = Field(default_factory=list)
    #: project rows of a file holding several projects (split by kg.readers.read_tables)
    projects: list[ProjectRecord] = Field(default_factory=list)

    def records(self) -> list[Record]:
        """All records, table first, in the order ``ikg parse`` prints them."""
        out: list[Record] = [self.table, *self.units, *self.tasks]
        if self.totals is not None:
            out.append(self.totals)
        out += [*self.goals, *self.indicators, *self.not_applicable, *self.warnings]
        return out

    @classmethod
    def from_records(cls, records: list[Record]) -> ParsedTable:
        """Reassemble a table from a flat record list (the JSONL reader uses this)."""
        tables = [r for r in records if isinstance(r, TableRecord)]
        if len(tables) != 1:
            raise ValueError(f"expected exactly one table record, found {len(tables)}")
        totals = [r for r in records if isinstance(r, TotalsRecord)]
        return cls(
            table=tables[0],
            units=[r for r in records if isinstance(r, UnitRecord)],
            tasks=[r for r in records if isinstance(r, TaskRecord)],
            totals=totals[0] if totals else None,
            goals=[r for r in records if isinstance(r, GoalRecord)],
            indicators=[r for r in records if isinstance(r, IndicatorRecord)],
            not_applicable=[r for r in records if isinstance(r, CategoryNotApplicableRecord)],
            warnings=[r for r in records if isinstance(r, WarningRecord)],
        )


# --------------------------------------------------------------------------- indicator libraries


class LibraryIndicatorRecord(_Record):
    """One entry of a common-indicator list (通用共性指标库): a reference, not a target."""

    kind: Literal["library_indicator"] = "library_indicator"
    name: str = Field(description="三级指标 as printed (placeholders ** kept)")
    name_simplified: str | None = Field(
        default=None, description="the name in simplified characters, when printed traditional"
    )
    level1: str | None = Field(default=None, description="level-1 label as printed (simplified)")
    level2: str | None = Field(default=None, description="level-2 label as printed (simplified)")
    project_type: str | None = Field(default=None, description="项目类型: 培训类项目 …")
    code: str | None = Field(default=None, description="指标编码, e.g. gx010101")
    unit: str | None = Field(default=None, description="计量单位 printed with the name: %, 人 …")
    definition: str | None = Field(default=None, description="指标解释")
    note: str | None = Field(
        default=None, description="a target or scoring note the list prints: ≥90%, (新增) …"
    )
    ordinal: int
    source: Source


class ParsedLibrary(_Record):
    """A common-indicator list: its title, its entries and what could not be placed."""

    kind: Literal["library"] = "library"
    key: str = Field(description="a stable short name: the source file's stem")
    title: str
    source: Source
    indicators: list[LibraryIndicatorRecord] = Field(default_factory=list)
    warnings: list[WarningRecord] = Field(default_factory=list)
