"""The reviewer's rules: one function per rule, each taking a ParsedTable and returning findings.

Every rule is registered in :data:`RULES` under its id with its severity and
report section; ``docs/review.md`` documents each one with a real example from
the seed table. Severity, as a policy:

* ``error`` — the table contradicts itself: amounts that do not add up, a
  deadline outside the budget year, a range whose lower bound is above its
  upper bound, a file that cannot be read. The department must correct these.
* ``warning`` — the table can be read but not assessed as it stands: vague
  targets and names, indicators filed under the wrong category, cost not in
  money, required categories missing, funded tasks without any indicator.
* ``note`` — for the reviewer to check: possible duplicates (lexical, within the
  table or against other departments), 不适用 without a reason, indicators the
  lexical alignment could not tie to a task.

A rule function has the signature ``check(parsed, ctx=None) -> list[Finding]``;
``ctx`` (:class:`Context`) carries the pluggable measures (similarity,
alignment), the coverage computed once per table and, for
``duplicate-across-departments``, the other departments' indicators.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from embeddings.text import IndicatorText
from kg.records import IndicatorRecord, ParsedTable, TaskRecord
from kg.targets import parse_target
from kg.words import (
    COUNT_NAME,
    COUNT_UNITS,
    MEASURE_WORDS,
    NOT_APPLICABLE_WORDS,
    ON_TIME_RATE,
    SATISFACTION_NAME,
    TIME_UNITS,
    VAGUE_GRADES,
    VAGUE_NAME,
)

from . import coverage as cov
from . import crossyear as cy
from .findings import Finding, ItemKind, RuleInfo, Section, Severity
from .similarity import (
    Aligner,
    EmbeddingScorer,
    Similarity,
    is_specific,
    lexical_alignment,
    lexical_similarity,
)

__all__ = [
    "RULES",
    "Context",
    "OtherIndicator",
    "Rule",
    "run_rules",
]

Check = Callable[[ParsedTable, "Context | None"], list[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    section: Section
    title_zh: str
    description: str
    check: Check | None  # None: raised outside the rules (parse-error)

    def info(self) -> RuleInfo:
        return RuleInfo(
            id=self.id,
            severity=self.severity,
            section=self.section,
            title_zh=self.title_zh,
            description=self.description,
        )


#: Rule id → rule, in the order a report lists them.
RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, section: Section, title_zh: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        doc = (fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        RULES[id] = Rule(id, severity, section, title_zh, doc, fn)
        return fn

    return register


RULES["parse-error"] = Rule(
    "parse-error",
    "error",
    "parse",
    "文件无法解析",
    "The file could not be read as a performance target table (any kg.errors.SourceError): "
    "the finding names the file and, when the reader knows it, the line.",
    None,
)


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class OtherIndicator:
    """An indicator of another department, from the store (``--against``)."""

    name: str
    target: str
    department: str
    fiscal_year: int | None
    file: str
    line: int | None
    concept: str  # level-2 category concept's local name (quantity …)


@dataclass
class Context:
    """What the rules share: pluggable measures and per-table caches."""

    similarity: Similarity = lexical_similarity
    align: Aligner = lexical_alignment
    others: Callable[[], list[OtherIndicator]] | None = None
    #: the embedding scorer for the duplicate rules (replaces ``similarity`` there when set)
    scorer: EmbeddingScorer | None = None
    #: earlier (or any) tables for the cross-year rules: the department's earlier years
    priors: Callable[[], list[cy.PriorTable]] | None = None
    _coverage: dict[int, cov.Coverage] = field(default_factory=dict)
    _comparison: dict[int, cy.Comparison] = field(default_factory=dict)

    def coverage(self, parsed: ParsedTable) -> cov.Coverage:
        key = id(parsed)
        if key not in self._coverage:
            self._coverage[key] = cov.compute(parsed, self.align)
        return self._coverage[key]

    def comparison(self, parsed: ParsedTable) -> cy.Comparison | None:
        """The table against its department's earlier table (None without ``priors``)."""
        if self.priors is None:
            return None
        key = id(parsed)
        if key not in self._comparison:
            self._comparison[key] = cy.compare(parsed, self.priors(), self.similarity)
        return self._comparison[key]


# --------------------------------------------------------------------------- helpers


def amount(d: Decimal | None) -> str:
    """An amount as the tables print it: 3,133.45."""
    return "" if d is None else f"{d:,.2f}"


def _finding(
    rule_id: str,
    kind: ItemKind,
    name: str,
    file: str,
    line: int | None,
    end_line: int | None,
    message: str,
    fix: str | None = None,
    values: dict[str, str] | None = None,
    category: str | None = None,
) -> Finding:
    r = RULES[rule_id]
    return Finding(
        rule=rule_id,
        severity=r.severity,
        section=r.section,
        item_kind=kind,
        item_name=name,
        category=category,
        values=values or {},
        file=file,
        line=line,
        end_line=end_line,
        message_zh=message,
        fix_zh=fix,
    )


def _ind(
    rule_id: str, ind: IndicatorRecord, message: str, fix: str | None = None, **extra: str
) -> Finding:
    values = {"level1": ind.level1, "level2": ind.level2, "target": ind.target, **extra}
    return _finding(
        rule_id,
        "indicator",
        ind.name,
        ind.source.file,
        ind.source.line,
        ind.source.end_line,
        message,
        fix,
        values,
        category=ind.level2,
    )


def _task(
    rule_id: str, task: TaskRecord, message: str, fix: str | None = None, **extra: str
) -> Finding:
    values = {
        "total": amount(task.total),
        "fiscal": amount(task.fiscal),
        "other": amount(task.other),
        **extra,
    }
    return _finding(
        rule_id,
        "task",
        task.name,
        task.source.file,
        task.source.line,
        task.source.end_line,
        message,
        fix,
        values,
    )


def _concept(parsed: ParsedTable, ind: IndicatorRecord) -> str | None:
    return cov.concept_id(ind.level2, 2, parsed.table.category_scheme)


def _level1(parsed: ParsedTable, ind: IndicatorRecord) -> str | None:
    return cov.concept_id(ind.level1, 1, parsed.table.category_scheme)


def _example_target(ind: IndicatorRecord, concept: str | None, year: int | None) -> str:
    """A measurable target to suggest, by what the name and the category say."""
    name = ind.name
    if "满意" in name:
        return "≥90%"
    if "知晓" in name:
        return "知晓率≥80%"
    if "覆盖" in name:
        return "覆盖率≥90%"
    if concept == "timeliness":
        return f"{year}年12月31日前" if year else "当年12月31日前"
    if "及时" in name:
        return "及时率100%"
    return {
        "quantity": "≥4次",
        "quality": "合格率≥95%",
        "output-cost": "≤50万元",
        "economic-cost": "≤50万元",
        "sustainable-impact": "≥3年",
        "service-recipient-satisfaction": "≥90%",
        "other-satisfaction": "≥90%",
    }.get(concept or "", "较上年提高5个百分点")


# --------------------------------------------------------------------------- targets


@rule("vague-target", "warning", "targets", "目标值为定性描述")
def check_vague_target(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A target value that cannot be assessed: a grade of degree or direction (显著, 明显, 有效,
    及时, 较好, 提升 …), or free text no rule reads as a number, date, duration or level.

    Level grades (二级, 甲级) and yes/no states (是, 达标, 合格, 完成, 正常运行) are checkable and
    not flagged; schedules (每季度首月第一个星期二下午三点) neither."""
    out = []
    year = parsed.table.fiscal_year
    for ind in parsed.indicators:
        tv = ind.target_parsed
        ex = _example_target(ind, _concept(parsed, ind), year)
        fix = f"将目标值改为可量化的值，如“{ex}”，并在指标名称中写明计量对象。"
        if tv.form == "qualitative" and tv.grade in VAGUE_GRADES:
            msg = (
                f"指标“{ind.name}”的目标值“{ind.target}”为定性描述，无法考核；"
                f"建议改为可量化的目标值（如“{ex}”）。"
            )
            out.append(_ind("vague-target", ind, msg, fix))
        elif tv.form == "text":
            if "empty" in tv.flags:
                msg = f"指标“{ind.name}”未填写目标值；请补充可量化的目标值（如“{ex}”）。"
            else:
                msg = (
                    f"指标“{ind.name}”的目标值“{ind.target}”是一段文字，不是可考核的数值、"
                    f"日期或等级；建议改为可量化的目标值（如“{ex}”）。"
                )
            out.append(_ind("vague-target", ind, msg, fix))
    return out


@rule("vague-name", "warning", "names", "指标名称无计量对象")
def check_vague_name(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """An indicator name that states an effort or a direction (提升, 提高, 促进, 加强, 优化, 做好 …)
    and names nothing measurable (no rate, ratio, count, amount, score, level or index), so no
    target value can say how much.

    "提高培训全区干部覆盖比例" names a ratio and passes; "提高两新党建工作水平" does not."""
    out = []
    for ind in parsed.indicators:
        m = VAGUE_NAME.search(ind.name)
        if m is None or MEASURE_WORDS.search(ind.name):
            continue
        msg = (
            f"指标名称“{ind.name}”只写了工作方向（“{m[0]}”），没有可计量的对象，"
            f"目标值“{ind.target}”无法对应到具体的量；建议改写为可计量的指标"
            f"（如“……覆盖率”“……知晓率”“……人次”），并给出相应的目标值。"
        )
        fix = "在指标名称中写明衡量的对象和口径（比率、人数、次数、金额或等级）。"
        out.append(_ind("vague-name", ind, msg, fix))
    return out


@rule("percent-over-100", "warning", "targets", "百分比超过100%")
def check_percent_over_100(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A percentage target above 100% (coverage, pass or satisfaction rates cannot exceed it;
    a growth rate can, so this is a warning, not an error)."""
    return [
        _ind(
            "percent-over-100",
            ind,
            f"指标“{ind.name}”的目标值“{ind.target}”超过100%；覆盖率、合格率、满意度等比率不应"
            f"超过100%，请核实（如为增长率，请在名称中写明“增长率”）。",
            "核实目标值；比率类指标的目标值应在0%～100%之间。",
        )
        for ind in parsed.indicators
        if "percent_above_100" in ind.target_parsed.flags
    ]


@rule("range-inverted", "error", "targets", "区间下限大于上限")
def check_range_inverted(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A range target whose lower bound is above its upper bound (95%≤n≤90%): no value meets it."""
    out = []
    for ind in parsed.indicators:
        tv = ind.target_parsed
        if "lower_above_upper" not in tv.flags:
            continue
        unit = tv.unit or ""
        fixed = f"{tv.upper}{unit}≤n≤{tv.lower}{unit}"
        out.append(
            _ind(
                "range-inverted",
                ind,
                f"指标“{ind.name}”的目标值区间“{ind.target}”下限大于上限，任何实际值都无法满足；"
                f"请更正（如“{fixed}”）。",
                f"将区间改为“{fixed}”。",
            )
        )
    return out


# --------------------------------------------------------------------------- categories


@rule("misfiled-count-under-quality", "warning", "categories", "质量指标填了数量")
def check_count_under_quality(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A count or headcount (≥15人, 3场, 2700卷) under 质量指标: quality indicators state the
    standard reached (合格率, 达标率, 覆盖率), counts belong under 数量指标."""
    out = []
    for ind in parsed.indicators:
        if _concept(parsed, ind) != "quality":
            continue
        tv = ind.target_parsed
        counted = (
            tv.form in ("numeric", "range")
            and not tv.percent
            and (
                (tv.unit or "") in COUNT_UNITS or (tv.unit is None and COUNT_NAME.search(ind.name))
            )
        )
        if not counted:
            continue
        stem = COUNT_NAME.sub("", ind.name)
        rate = f"{stem}率" if stem and stem != ind.name else f"{ind.name}（改为比率）"
        msg = (
            f"指标“{ind.name}”（目标值“{ind.target}”）是数量或人数，却列在质量指标下；"
            f"质量指标应反映达到的标准和水平（如合格率、覆盖率）。建议移至数量指标，"
            f"或改为比率（如“{rate}≥95%”）。"
        )
        out.append(
            _ind("misfiled-count-under-quality", ind, msg, f"移至“数量指标”，或改为“{rate}≥95%”。")
        )
    return out


_BUDGET_RATE = re.compile(r"执行率|支出进度|预算范围|整体支出|采购限额")


@rule("cost-not-money", "warning", "categories", "成本指标未以金额表示")
def check_cost_not_money(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A cost indicator (legacy 成本指标 under 产出指标, or 2021 经济成本指标) whose target is not
    an amount of money (元, 万元, 元/人 …): national guidance asks cost indicators in 元/万元.

    Social and eco-environmental cost (社会成本指标, 生态环境成本指标, 2021 layout) may be
    stated in other terms and are not checked."""
    out = []
    for ind in parsed.indicators:
        concept = _concept(parsed, ind)
        if concept not in ("output-cost", "economic-cost"):
            continue
        tv = ind.target_parsed
        if tv.form in ("numeric", "range") and tv.unit and "元" in tv.unit:
            continue
        if _BUDGET_RATE.search(ind.name):
            hint = (
                "预算执行率、支出进度等反映的是预算执行情况，不是成本；"
                "建议移出成本指标，成本指标改为金额（如“人均培训成本≤800元/人”或“项目总成本≤X万元”）。"
            )
        else:
            hint = (
                "建议改为以元或万元表示的成本（如“人均培训成本≤800元/人”"
                "或“项目总成本≤X万元”，X不超过对应任务的预算）。"
            )
        msg = (
            f"成本指标“{ind.name}”的目标值“{ind.target}”不是金额；成本指标应以元或万元表示。{hint}"
        )
        out.append(
            _ind("cost-not-money", ind, msg, "将目标值改为以元或万元表示的成本上限，如“≤X万元”。")
        )
    return out


@rule("timeliness-without-time", "warning", "categories", "时效指标没有时限")
def check_timeliness_without_time(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A 时效指标 whose target gives neither a date (2024年12月20日前), a recurring deadline
    (每月20日前), a duration (20个工作日内), a schedule nor a count of time units (≤3天).

    A percentage is accepted when the name is an on-time rate (政府采购完成及时率 100%: the
    national practice's 及时率); a percentage on a name that is an action
    (及时发放劳务派遣人员工资及绩效 100%) says neither what is measured nor by when."""
    out = []
    year = parsed.table.fiscal_year
    for ind in parsed.indicators:
        if _concept(parsed, ind) != "timeliness":
            continue
        tv = ind.target_parsed
        if tv.form in ("deadline", "recurring", "duration", "schedule"):
            continue
        if tv.form in ("numeric", "range") and (tv.unit or "") in TIME_UNITS:
            continue
        if tv.form in ("numeric", "range") and tv.percent and ON_TIME_RATE.search(ind.name):
            continue
        if tv.percent:
            msg = (
                f"时效指标“{ind.name}”的目标值“{ind.target}”没有给出完成时限，名称也不是及时率，"
                f"看不出按什么时限衡量；建议写明时限（如“{year}年12月31日前”“每月10日前”），"
                f"或将名称改为“……及时率”并写明及时的标准。"
            )
        else:
            msg = (
                f"时效指标“{ind.name}”的目标值“{ind.target}”没有给出完成时限（日期、期限或时长）；"
                f"建议写明时限，如“{year}年12月31日前”“每月20日前”或“20个工作日内”。"
            )
        out.append(
            _ind(
                "timeliness-without-time",
                ind,
                msg,
                f"将目标值改为完成时限，如“{year}年12月31日前”。",
            )
        )
    return out


@rule("satisfaction-outside-category", "warning", "categories", "满意度指标归类错误")
def check_satisfaction_outside(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """An indicator about satisfaction (…满意度, …满意率) filed outside 满意度指标."""
    out = []
    for ind in parsed.indicators:
        if not SATISFACTION_NAME.search(ind.name) or _level1(parsed, ind) == "satisfaction":
            continue
        msg = (
            f"指标“{ind.name}”衡量的是满意度，却列在“{ind.level1}/{ind.level2}”下；"
            f"建议移至“满意度指标/服务对象满意度指标”。"
        )
        out.append(
            _ind(
                "satisfaction-outside-category",
                ind,
                msg,
                "移至“满意度指标”下的“服务对象满意度指标”。",
            )
        )
    return out


# --------------------------------------------------------------------------- dates


@rule("deadline-outside-year", "error", "dates", "截止日期不在预算年度内")
def check_deadline_outside_year(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A deadline target outside the table's fiscal year (2023年12月20日前 in a 2024 table).
    "Before" a date counts from the day before it, so 2025年前 (before 2025-01-01) is in 2024."""
    out: list[Finding] = []
    year = parsed.table.fiscal_year
    if year is None:  # a table that prints no year: nothing to compare a deadline with
        return out
    for ind in parsed.indicators:
        tv = ind.target_parsed
        if tv.form != "deadline" or tv.deadline is None:
            continue
        last = (
            tv.deadline - dt.timedelta(days=1) if tv.deadline_relation == "before" else tv.deadline
        )
        if last.year == year:
            continue
        printed = f"{tv.deadline.year}年"
        fixed = ind.target.replace(printed, f"{year}年", 1) if printed in ind.target else None
        example = f"（如“{fixed}”）" if fixed else ""
        msg = (
            f"指标“{ind.name}”的完成时限“{ind.target}”不在{year}年度内，疑为笔误；"
            f"请改为{year}年内的日期{example}。"
        )
        out.append(
            _ind(
                "deadline-outside-year",
                ind,
                msg,
                f"将时限改为“{fixed}”。" if fixed else f"将时限改为{year}年内的日期。",
                deadline=tv.deadline.isoformat(),
                fiscal_year=str(year),
            )
        )
    return out


# --------------------------------------------------------------------------- amounts

#: Rounding tolerance of the amount checks (万元): a larger gap is reported.
TOLERANCE = Decimal("0.01")
_COLUMNS_ZH = {"total": "总额", "fiscal": "财政拨款", "other": "其他资金"}


def _column_gaps(parsed: ParsedTable) -> dict[str, tuple[Decimal, Decimal, Decimal] | None]:
    """Column → (stated, rows sum, stated − sum), or None when the table states no total."""
    out: dict[str, tuple[Decimal, Decimal, Decimal] | None] = {}
    for col in _COLUMNS_ZH:
        stated = getattr(parsed.totals, col) if parsed.totals else None
        values = [getattr(t, col) for t in parsed.tasks if getattr(t, col) is not None]
        if stated is None or not values:
            out[col] = None
            continue
        s = sum(values, Decimal(0))
        out[col] = (stated, s, stated - s)
    return out


def _balanced(gap: tuple[Decimal, Decimal, Decimal] | None) -> bool:
    return gap is not None and abs(gap[2]) <= TOLERANCE


@rule("task-row-sum", "error", "amounts", "任务行金额不平")
def check_task_row_sum(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A task row whose total ≠ fiscal appropriation + other funds (gap above 0.01 万元).
    The suggested fix uses the column totals: when the 总额 column adds up to 金额合计 and the
    财政拨款 column does not, the fiscal amount is the one to correct, and the other way round."""
    out = []
    gaps = _column_gaps(parsed)
    unit = parsed.table.currency_unit
    for t in parsed.tasks:
        if t.total is None or t.fiscal is None or t.other is None:
            continue
        gap = t.total - (t.fiscal + t.other)
        if abs(gap) <= TOLERANCE:
            continue
        if _balanced(gaps["total"]) and not _balanced(gaps["fiscal"]):
            fix = (
                f"财政拨款疑应为{amount(t.total - t.other)}{unit}（总额列与金额合计一致，"
                f"财政拨款列与合计不一致）；请核对后更正。"
            )
        elif _balanced(gaps["fiscal"]) and not _balanced(gaps["total"]):
            fix = (
                f"总额疑应为{amount(t.fiscal + t.other)}{unit}（财政拨款列与金额合计一致，"
                f"总额列与合计不一致）；请核对后更正。"
            )
        else:
            fix = f"核对后将总额改为{amount(t.fiscal + t.other)}{unit}，或更正财政拨款、其他资金。"
        msg = (
            f"任务“{t.name}”金额不平：总额{amount(t.total)}{unit} ≠ 财政拨款{amount(t.fiscal)}{unit}"
            f" + 其他资金{amount(t.other)}{unit}（相差{amount(gap)}{unit}）；请核对后更正。"
        )
        out.append(_task("task-row-sum", t, msg, fix, gap=amount(gap)))
    return out


@rule("column-total", "error", "amounts", "各行之和与金额合计不符")
def check_column_total(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A budget column (总额, 财政拨款, 其他资金) whose task rows do not add up to the stated
    金额合计 (gap above 0.01 万元, the rounding tolerance). A row whose own imbalance matches the
    gap is named as its likely source."""
    out: list[Finding] = []
    totals = parsed.totals
    if totals is None:
        return out
    unit = parsed.table.currency_unit
    for col, (zh) in _COLUMNS_ZH.items():
        g = _column_gaps(parsed)[col]
        if g is None or abs(g[2]) <= TOLERANCE:
            continue
        stated, s, gap = g
        suspects = [
            t
            for t in parsed.tasks
            if None not in (t.total, t.fiscal, t.other)
            and abs(t.total - (t.fiscal + t.other)) > TOLERANCE  # type: ignore[operator]
            and abs(abs(t.total - (t.fiscal + t.other)) - abs(gap)) <= Decimal("0.02")  # type: ignore[operator]
        ]
        hint = "".join(
            f"第{t.source.line}行任务“{t.name}”的总额与财政拨款、其他资金之和相差"
            f"{amount(t.total - (t.fiscal + t.other))}{unit}，可能是差额来源。"  # type: ignore[operator]
            for t in suspects
        )
        msg = (
            f"金额合计的“{zh}”为{amount(stated)}{unit}，而各任务行“{zh}”之和为{amount(s)}{unit}"
            f"（相差{amount(gap)}{unit}）；请核对合计或各行金额。{hint}"
        )
        out.append(
            _finding(
                "column-total",
                "totals",
                f"{totals.label}（{zh}）",
                totals.source.file,
                totals.source.line,
                totals.source.end_line,
                msg,
                f"核对各行“{zh}”，使其之和等于金额合计（或更正合计为{amount(s)}{unit}）。",
                {"column": zh, "stated": amount(stated), "rows_sum": amount(s), "gap": amount(gap)},
            )
        )
    return out


# --------------------------------------------------------------------------- structure

#: Level-2 categories each layout requires (at least one indicator each), by concept.
REQUIRED_LEVEL2: dict[str, tuple[str, ...]] = {
    "legacy": (
        "quantity",
        "quality",
        "timeliness",
        "output-cost",
        "service-recipient-satisfaction",
    ),
    "2021": (
        "quantity",
        "quality",
        "timeliness",
        "economic-cost",
        "service-recipient-satisfaction",
    ),
}
#: Level-1 categories each layout requires; 效益指标 needs at least one of its level-2 categories.
REQUIRED_LEVEL1: dict[str, tuple[str, ...]] = {
    "legacy": ("output", "benefit", "satisfaction"),
    "2021": ("output", "benefit", "cost", "satisfaction"),
}
_LABEL = {
    "output": "产出指标",
    "benefit": "效益指标",
    "satisfaction": "满意度指标",
    "cost": "成本指标",
    "quantity": "产出指标/数量指标",
    "quality": "产出指标/质量指标",
    "timeliness": "产出指标/时效指标",
    "output-cost": "产出指标/成本指标",
    "economic-cost": "成本指标/经济成本指标",
    "service-recipient-satisfaction": "满意度指标/服务对象满意度指标",
}
_PARENT = {
    "quantity": "output",
    "quality": "output",
    "timeliness": "output",
    "output-cost": "output",
    "economic-cost": "cost",
    "service-recipient-satisfaction": "satisfaction",
}
_NA_WORDS = re.compile(
    "|".join(re.escape(w) for w in sorted(NOT_APPLICABLE_WORDS, key=len, reverse=True)),
    re.IGNORECASE,
)


@rule("missing-category", "warning", "structure", "缺少必设的指标类别")
def check_missing_category(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A category the national framework requires and the table has no indicator under:
    every level-1 category of its layout (产出, 效益, 满意度; plus 成本 in the 2021 layout), and
    the level-2 categories 数量, 质量, 时效, 成本 (经济成本 in 2021) and 服务对象满意度.
    The other level-2 categories (e.g. 生态效益, 其他满意度) may be marked 不适用."""
    scheme = parsed.table.category_scheme
    have2 = {_concept(parsed, i) for i in parsed.indicators}
    have1 = {_level1(parsed, i) for i in parsed.indicators}
    na = {cov.concept_id(n.level2, 2, scheme): n for n in parsed.not_applicable}
    t = parsed.table
    out = []
    missing = [c for c in REQUIRED_LEVEL1[scheme] if c not in have1]
    missing += [c for c in REQUIRED_LEVEL2[scheme] if c not in have2 and _PARENT[c] not in missing]
    for c in missing:
        label = _LABEL[c]
        marked = na.get(c)
        if marked is not None:
            msg = (
                f"“{label}”标为不适用，但按全国绩效指标框架应设置该类指标；请补充至少一项"
                f"{label.split('/')[-1]}。"
            )
            line, end = marked.source.line, marked.source.end_line
        else:
            msg = f"绩效指标中缺少“{label}”；按全国绩效指标框架应设置该类指标，请补充。"
            line, end = t.source.line, t.source.end_line
        out.append(
            _finding(
                "missing-category",
                "category",
                label,
                t.source.file,
                line,
                end,
                msg,
                f"补充“{label}”下的指标。",
            )
        )
    return out


@rule("not-applicable-without-reason", "note", "structure", "不适用未说明理由")
def check_not_applicable_reason(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A category marked 不适用 with nothing but the words 不适用 (no reason given)."""
    out = []
    for n in parsed.not_applicable:
        rest = re.sub(r"[\s\W_]+", "", _NA_WORDS.sub("", n.text))
        if rest:
            continue
        label = f"{n.level1}/{n.level2}"
        msg = f"“{label}”标为不适用，但未说明理由；请补充不适用的原因（如“本部门支出不涉及……”）。"
        out.append(
            _finding(
                "not-applicable-without-reason",
                "category",
                label,
                n.source.file,
                n.source.line,
                n.source.end_line,
                msg,
                "在该类别中写明不适用的理由。",
                {"text": n.text},
            )
        )
    return out


# --------------------------------------------------------------------------- duplicates

#: Similarity at or above which two indicators of one table are reported.
DUPLICATE_THRESHOLD = 0.85
#: … and an indicator of another department (stricter: other tables word things differently).
CROSS_THRESHOLD = 0.9
#: Categories compared across departments: outputs, where overlapping funding shows.
CROSS_CONCEPTS = frozenset(("quantity", "quality", "timeliness"))


def _text(
    parsed: ParsedTable, ind: IndicatorRecord | OtherIndicator, n: str, level2: str | None = None
) -> Any:
    """An indicator as the embedding scorer sees it (:class:`embeddings.text.IndicatorText`)."""

    if isinstance(ind, IndicatorRecord):
        tv = ind.target_parsed
        name = ind.name_simplified or ind.name
        dept, l1, l2 = parsed.table.department, ind.level1, ind.level2
        file, line = ind.source.file, ind.source.line
    else:
        tv = parse_target(ind.target) if ind.target else None
        name, dept, l1, l2 = ind.name, ind.department, "", ind.concept
        file, line = ind.file, ind.line
    numeric = tv is not None and tv.form != "text"
    return IndicatorText(
        id=n,
        name=name,
        level1=l1 or "",
        level2=level2 if level2 is not None else (l2 or ""),
        target=ind.target or "",
        unit=tv.unit if numeric and tv is not None else None,
        form=tv.form if numeric and tv is not None else None,
        department=dept or "",
        table=file if isinstance(ind, IndicatorRecord) else f"{file}#other",
        source_file=file,
        source_line=line,
    )


@rule("duplicate-in-table", "note", "duplicates", "表内重复或交叉的指标")
def check_duplicate_in_table(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """Two indicators of the same level-2 category that say the same thing: with the embeddings
    extra, a pair in the *duplicate* band of the hybrid scorer of ``ikg duplicates`` (text,
    structure and the sibling check: 药品 / 化妆品 监管企业数 are not duplicates) where at most
    one name adds words of its own; without it, names near-identical or one inside the other
    (lexical similarity ≥ 0.85, :mod:`apps.review.similarity`). Names too generic to tell
    (干部满意度) are not compared. Reported once, on the later indicator, against its most
    similar earlier one."""
    ctx = ctx or Context()
    out = []
    inds = parsed.indicators
    concepts = [_concept(parsed, i) for i in inds]
    best: dict[int, tuple[float, int, str]] = {}
    if ctx.scorer is not None:
        specific = [is_specific(ind.name) for ind in inds]
        pairs = [
            (i, j)
            for j in range(len(inds))
            for i in range(j)
            if concepts[i] == concepts[j] and specific[i] and specific[j]
        ]
        if pairs:
            index = ctx.scorer.index([_text(parsed, ind, f"#{n}") for n, ind in enumerate(inds)])
            for (i, j), ps in zip(pairs, index.pairs(pairs), strict=True):
                if ctx.scorer.is_duplicate(ps) and (j not in best or ps.score > best[j][0]):
                    best[j] = (ps.score, i, ctx.scorer.reasons(index, i, j, ps))
    else:
        for j, b in enumerate(inds):
            for i in range(j):
                if concepts[i] != concepts[j]:
                    continue
                s = ctx.similarity(inds[i].name, b.name)
                if s >= DUPLICATE_THRESHOLD and (j not in best or s > best[j][0]):
                    best[j] = (s, i, "")
    for j in sorted(best):
        s, i, reasons = best[j]
        a, b = inds[i], inds[j]
        msg = (
            f"指标“{b.name}”（目标值“{b.target}”）与第{a.source.line}行的“{a.name}”"
            f"（目标值“{a.target}”）内容重复或交叉；请核实是否重复设置，"
            f"如确属不同内容，请在名称中写明区别。"
        )
        extra = {"method": ctx.scorer.method, "reasons": reasons} if ctx.scorer else {}
        out.append(
            _ind(
                "duplicate-in-table",
                b,
                msg,
                "合并为一项指标，或在名称中写明两者的区别。",
                other_name=a.name,
                other_target=a.target,
                other_line=str(a.source.line),
                similarity=f"{s:.2f}",
                **extra,
            )
        )
    return out


@rule("duplicate-across-departments", "note", "duplicates", "与其他部门的指标重复")
def check_duplicate_across(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """With ``--against DATA_DIR``: an output indicator (数量, 质量, 时效) that says the same
    thing as an indicator of *another* department in the store for the same fiscal year — the
    embedding scorer's duplicate band when the embeddings extra is installed, else lexical
    similarity ≥ 0.9: possibly the same work funded twice. Names too generic to tell
    (培训人数, 干部满意度: fewer than 4 characters beyond the generic words) are not compared."""
    if ctx is None or ctx.others is None:
        return []
    pool = _cross_pool(parsed, ctx.others())
    own = [
        (n, ind, concept)
        for n, ind in enumerate(parsed.indicators)
        if (concept := _concept(parsed, ind)) in pool and is_specific(ind.name)
    ]
    hits_of: dict[int, list[CrossHit]] = {}
    if ctx.scorer is not None and own:
        hits_of = _cross_hits_embedded(parsed, ctx.scorer, own, pool)
    elif ctx.scorer is None:
        for n, ind, concept in own:
            scored = [(ctx.similarity(ind.name, o.name), o, "") for o in pool[concept]]
            hits = [h for h in scored if h[0] >= CROSS_THRESHOLD]
            if hits:
                hits_of[n] = hits
    return [
        _cross_finding(parsed.indicators[n], hits, ctx.scorer)
        for n, hits in sorted(hits_of.items())
    ]


#: another department's indicator like one of the table's: (score, it, the scorer's reasons)
CrossHit = tuple[float, OtherIndicator, str]


def _cross_pool(
    parsed: ParsedTable, others: list[OtherIndicator]
) -> dict[str, list[OtherIndicator]]:
    """Other departments' output indicators of the table's year, by category concept."""
    t = parsed.table
    pool: dict[str, list[OtherIndicator]] = {}
    for o in others:
        if (
            o.department != t.department
            and o.concept in CROSS_CONCEPTS
            and (o.fiscal_year is None or o.fiscal_year == t.fiscal_year)
        ):
            pool.setdefault(o.concept, []).append(o)
    return pool


def _cross_hits_embedded(
    parsed: ParsedTable,
    scorer: EmbeddingScorer,
    own: list[tuple[int, IndicatorRecord, str | None]],
    pool: dict[str, list[OtherIndicator]],
) -> dict[int, list[CrossHit]]:
    """The table's indicators (by position) and the others the embedding scorer finds
    duplicates of them, in the same category."""
    hits_of: dict[int, list[CrossHit]] = {}
    others = [o for lst in pool.values() for o in lst]
    items = [_text(parsed, ind, f"#{n}", level2=c) for n, ind, c in own]
    items += [_text(parsed, o, f"#other{k}") for k, o in enumerate(others)]
    index = scorer.index(items)
    n_own = len(own)
    cands = sorted(
        (i, j)
        for i, j in index.candidate_pairs(20)
        if i < n_own <= j and items[i].level2 == items[j].level2
    )
    for (i, j), ps in zip(cands, index.pairs(cands), strict=True):
        if scorer.is_duplicate(ps):
            hits_of.setdefault(own[i][0], []).append(
                (ps.score, others[j - n_own], scorer.reasons(index, i, j, ps))
            )
    return hits_of


def _cross_finding(
    ind: IndicatorRecord, hits: list[CrossHit], scorer: EmbeddingScorer | None
) -> Finding:
    """The finding of an indicator like others of other departments: the most similar named."""
    s, o, reasons = max(hits, key=lambda h: h[0])
    where = f"{o.file}:{o.line}" if o.line else o.file
    more = f"（另有{len(hits) - 1}项相似指标）" if len(hits) > 1 else ""
    msg = (
        f"指标“{ind.name}”（目标值“{ind.target}”）与{o.department}的指标“{o.name}”"
        f"（目标值“{o.target}”，{where}）高度相似{more}，可能存在重复安排资金；"
        f"请核实两部门的职责分工。"
    )
    extra = {"method": scorer.method, "reasons": reasons} if scorer else {}
    return _ind(
        "duplicate-across-departments",
        ind,
        msg,
        "核实是否为同一项工作；如是，明确由哪个部门安排资金。",
        other_name=o.name,
        other_target=o.target,
        other_department=o.department,
        other_file=o.file,
        other_line=str(o.line or ""),
        similarity=f"{s:.2f}",
        **extra,
    )


# --------------------------------------------------------------------------- cross-year


def _prev_where(p: cy.PriorIndicator) -> str:
    return f"{p.file}:{p.line}" if p.line else p.file


def _table_where(parsed: ParsedTable) -> str:
    t = parsed.table
    return f"{t.source.file}:{t.source.line}" if t.source.line else t.source.file


def _prev_values(c: cy.Comparison, p: cy.PriorIndicator) -> dict[str, str]:
    assert c.prior is not None
    return {
        "prev_name": p.name,
        "prev_target": p.target,
        "prev_year": str(c.prior.fiscal_year or ""),
        "prev_table": c.prior.title,
        "prev_file": p.file,
        "prev_line": str(p.line or ""),
    }


@rule("target-lowered", "warning", "history", "目标值低于上年")
def check_target_lowered(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """With earlier tables of the same department (``--against`` or the batch): the same
    indicator (the same name once year words are removed, or similar names in the same
    category) with a lower numeric target than last year, or a looser comparison
    (≥95% → ≥85%, ≥300人次 → ≥200人次, ≤5天 → ≤7天, >90% → ≥90%). A raised target is never
    flagged; cost indicators (budgets) and targets of other units or forms are not compared."""
    c = ctx.comparison(parsed) if ctx else None
    if c is None or c.status != "compared" or c.prior is None:
        return []
    out = []
    for pair in c.pairs:
        ind = parsed.indicators[pair.current]
        if _concept(parsed, ind) == "cost" or pair.prior.concept == "cost":
            continue
        cur = cy.bound(ind.target_parsed)
        prev = cy.read_bound(pair.prior.target, c.prior.fiscal_year)
        if cur is None or prev is None or not cy.lowered(prev, cur):
            continue
        p = pair.prior
        msg = (
            f"指标“{ind.name}”（第{ind.source.line}行）目标值“{ind.target}”低于上年：{c.prior.label}"
            f"（{_prev_where(p)}）的“{p.name}”目标值为“{p.target}”；"
            f"请说明下调目标的原因，或恢复到不低于上年的水平。"
        )
        out.append(
            _ind(
                "target-lowered",
                ind,
                msg,
                f"目标值不低于上年的“{p.target}”，或在说明中写明下调原因。",
                **_prev_values(c, p),
            )
        )
    return out


@rule("target-below-actual", "warning", "history", "目标值低于上年实际完成值")
def check_target_below_actual(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """With an earlier self-evaluation table (自评表) of the same department: this year's
    numeric target asks for less than the value actually reached last year (实际完成值 98%,
    target ≥90%) — a target already met before the year starts."""
    c = ctx.comparison(parsed) if ctx else None
    if c is None or c.status != "compared" or c.prior is None:
        return []
    out = []
    for pair in c.pairs:
        ind = parsed.indicators[pair.current]
        p = pair.prior
        if not p.actual or _concept(parsed, ind) == "cost" or p.concept == "cost":
            continue
        cur = cy.bound(ind.target_parsed)
        actual = cy.read_bound(p.actual, c.prior.fiscal_year)
        if cur is None or actual is None or not cy.below_actual(actual, cur):
            continue
        msg = (
            f"指标“{ind.name}”（第{ind.source.line}行）目标值“{ind.target}”低于上年实际完成值："
            f"{c.prior.label}（{_prev_where(p)}）的“{p.name}”实际完成“{p.actual}”；"
            f"目标应体现进一步提升，请按不低于上年实际完成的水平设定。"
        )
        out.append(
            _ind(
                "target-below-actual",
                ind,
                msg,
                f"目标值不低于上年实际完成值“{p.actual}”。",
                prev_actual=p.actual,
                **_prev_values(c, p),
            )
        )
    return out


@rule("indicator-dropped", "note", "history", "上年指标本年未设置")
def check_indicator_dropped(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """With the same department's table of an earlier year for the same project (at least
    half of the indicators shared, or the same title once years are removed): an indicator of
    last year with no counterpart this year. The finding names both tables and lines."""
    c = ctx.comparison(parsed) if ctx else None
    if c is None or c.status != "compared" or c.prior is None:
        return []
    t = parsed.table
    out = []
    for p in c.dropped:
        msg = (
            f"上年指标“{p.name}”（目标值“{p.target}”，{c.prior.label}，{_prev_where(p)}）"
            f"在本年“{t.title}”（{_table_where(parsed)}）中没有对应指标；"
            f"请核实该项工作是否已完成或取消，如仍在开展，请补充相应指标。"
        )
        values = {"level2": p.level2, **_prev_values(c, p)}
        out.append(
            _finding(
                "indicator-dropped",
                "indicator",
                p.name,
                t.source.file,
                t.source.line,
                None,
                msg,
                "补充该指标，或在说明中写明不再设置的原因。",
                values,
                category=p.level2 or None,
            )
        )
    return out


@rule("copied-unchanged", "note", "history", "指标与上年逐字相同")
def check_copied_unchanged(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """With the same department's table of an earlier year: at least 80% of this table's
    indicators (and at least 3) carry last year's name and target word for word — the table
    may have been copied without being set for this year's work. Reported once, with the share."""
    c = ctx.comparison(parsed) if ctx else None
    if c is None or c.status != "compared" or c.prior is None:
        return []
    n = len(parsed.indicators)
    if n < cy.COPIED_MIN_INDICATORS or c.share_identical < cy.COPIED_SHARE:
        return []
    t = parsed.table
    share = f"{c.share_identical:.0%}"
    msg = (
        f"本表{n}项指标中有{c.identical}项（{share}）的名称和目标值与{c.prior.label}"
        f"（{c.prior.file}）逐字相同；请核实是否按本年度的任务和资金重新设定了绩效目标。"
    )
    return [
        _finding(
            "copied-unchanged",
            "table",
            t.title,
            t.source.file,
            t.source.line,
            None,
            msg,
            "按本年度任务和预算更新指标和目标值。",
            {
                "share": share,
                "identical": str(c.identical),
                "prev_table": c.prior.title,
                "prev_year": str(c.prior.fiscal_year or ""),
                "prev_file": c.prior.file,
            },
        )
    ]


# --------------------------------------------------------------------------- coverage

_OUTPUT_COLUMNS = frozenset(("数量", "质量", "时效", "成本"))


@rule("task-without-indicator", "warning", "coverage", "任务没有对应的指标")
def check_task_without_indicator(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """A task (年度主要任务) that no indicator aligns to (lexical alignment of indicator names to
    the task's name and content, :mod:`apps.review.coverage`). 基本支出 rows are covered by the
    whole-table indicators (预算执行率 …) when the table has any."""
    ctx = ctx or Context()
    c = ctx.coverage(parsed)
    by_ord = {t.ordinal: t for t in parsed.tasks}
    unit = parsed.table.currency_unit
    out = []
    for o in cov.uncovered_tasks(parsed, c):
        t = by_ord[o]
        budget = f"（预算{amount(t.total)}{unit}）" if t.total is not None else ""
        msg = (
            f"任务“{t.name}”{budget}没有找到对应的绩效指标（按指标名称与任务名称、内容的字面匹配）；"
            f"请补充反映该任务产出和效果的指标，或在指标名称中写明对应的工作内容。"
        )
        out.append(
            _task(
                "task-without-indicator",
                t,
                msg,
                f"为“{t.name}”补充数量、质量、时效指标各至少一项。",
            )
        )
    return out


@rule("indicator-without-task", "note", "coverage", "指标无法对应到任务")
def check_indicator_without_task(parsed: ParsedTable, ctx: Context | None = None) -> list[Finding]:
    """An output indicator (数量, 质量, 时效, 成本) that aligns to no task. Whole-table
    indicators are exempt, and so are benefit and satisfaction indicators, which often speak for
    the department as a whole (they are still counted in the matrix when they align)."""
    ctx = ctx or Context()
    c = ctx.coverage(parsed)
    by_ord = {t.ordinal: t for t in parsed.tasks}
    out: list[Finding] = []
    if not parsed.tasks:
        return out
    for ind, a in zip(parsed.indicators, c.table.alignments, strict=True):
        if a.tasks or a.table_wide or a.column not in _OUTPUT_COLUMNS:
            continue
        best = c.best_of.get(ind.ordinal)
        best_name = by_ord[best].name if best is not None else ""
        msg = (
            f"指标“{ind.name}”无法对应到年度主要任务中的任何一项（按字面匹配，最接近的是"
            f"“{best_name}”）；请核实该指标衡量的是哪项任务，并在指标名称或任务内容中写明。"
        )
        out.append(
            _ind(
                "indicator-without-task",
                ind,
                msg,
                None,
                best_task=best_name,
                best_score=f"{a.score:.2f}",
            )
        )
    return out


# --------------------------------------------------------------------------- running


def run_rules(
    parsed: ParsedTable, ctx: Context | None = None, only: set[str] | None = None
) -> list[Finding]:
    """Every registered rule (or those in ``only``) on one table, in registry order."""
    ctx = ctx or Context()
    out: list[Finding] = []
    for r in RULES.values():
        if r.check is None or (only is not None and r.id not in only):
            continue
        out.extend(r.check(parsed, ctx))
    return out


def rule_infos() -> list[RuleInfo]:
    return [r.info() for r in RULES.values()]


def describe() -> dict[str, Any]:
    """Rule id → (severity, section, title): for docs and tests."""
    return {r.id: (r.severity, r.section, r.title_zh) for r in RULES.values()}
