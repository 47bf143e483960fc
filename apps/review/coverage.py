"""Task coverage: which task(s) each indicator measures, as a task × indicator-count matrix.

Each indicator is aligned to the tasks (年度主要任务) whose name and content it
is about, by an :data:`~apps.review.similarity.Aligner` (lexical for now; the
embedding index will replace it). An indicator goes to every task that scores
at least :data:`ALIGN_THRESHOLD` and at least :data:`TIE_RATIO` of its best
score, so an indicator about work two tasks share counts under both. An indicator whose row
names its task (所属任务 / 对应任务: ``IndicatorRecord.task``, ``ikg:taskName`` in the graph — an
exported draft writes it for each indicator added under a task) belongs to that task alone,
whatever its words.

Whole-table indicators (预算执行率, 支出进度, 部门整体支出 …: :data:`TABLE_WIDE`)
measure the department's spending as a whole; they are counted in their own row
and never reported as fitting no task. They also cover the 基本支出 rows (pay
and running costs), which have no output indicators of their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg import categories
from kg.records import IndicatorRecord, ParsedTable, TaskRecord

from .findings import Alignment, CoverageRow, TableCoverage
from .similarity import Aligner, lexical_alignment

#: An indicator aligns to a task when it scores at least this …
ALIGN_THRESHOLD = 0.25
#: … and at least this share of its best task's score.
TIE_RATIO = 0.85

#: Matrix columns, in the framework's order.
COLUMNS: tuple[str, ...] = ("数量", "质量", "时效", "成本", "效益", "满意度", "其他")

_COLUMN_OF_CONCEPT = {
    "quantity": "数量",
    "quality": "质量",
    "timeliness": "时效",
    "output-cost": "成本",
    "cost": "成本",
    "economic-cost": "成本",
    "social-cost": "成本",
    "ecological-cost": "成本",
    "economic-benefit": "效益",
    "social-benefit": "效益",
    "ecological-benefit": "效益",
    "sustainable-impact": "效益",
    "benefit": "效益",
    "service-recipient-satisfaction": "满意度",
    "other-satisfaction": "满意度",
    "satisfaction": "满意度",
}

#: Indicators about the department's spending as a whole, not one task.
TABLE_WIDE = re.compile(
    r"预算执行|支出进度|整体支出|预算范围|采购限额|资金使用|资金支付|预算资金|预算编制|财政资金"
)

#: Tasks that pay for staff and running costs: covered by whole-table indicators.
BASIC_EXPENDITURE = re.compile(r"^基本支出")


def concept_id(label: str, level: int, scheme: str) -> str | None:
    """The local name of the category concept a printed label names (``quality`` …)."""
    cat = categories.resolve(label, level, scheme)
    return None if cat is None else str(cat.concept).rsplit("/", 1)[-1]


def column_of(ind: IndicatorRecord, scheme: str) -> str:
    cid = concept_id(ind.level2, 2, scheme) or concept_id(ind.level1, 1, scheme)
    return _COLUMN_OF_CONCEPT.get(cid or "", "其他")


def is_table_wide(name: str) -> bool:
    return TABLE_WIDE.search(name) is not None


@dataclass(frozen=True)
class Coverage:
    """The matrix (for the report) and the per-indicator alignment (for the rules)."""

    table: TableCoverage
    tasks_of: dict[int, list[int]]  # indicator ordinal → aligned task ordinals
    score_of: dict[int, float]  # indicator ordinal → best score
    best_of: dict[int, int | None]  # indicator ordinal → best task ordinal


def task_texts(parsed: ParsedTable) -> list[str]:
    return [f"{t.name} {t.content}" for t in parsed.tasks]


def compute(
    parsed: ParsedTable, align: Aligner = lexical_alignment, *, method: str | None = None
) -> Coverage:
    """Align each indicator to the tasks and count them per task and column."""
    scheme = parsed.table.category_scheme
    inds = parsed.indicators
    tasks = parsed.tasks
    scores, stated = _indicator_scores(parsed, align)
    counts = {t.ordinal: dict.fromkeys(COLUMNS, 0) for t in tasks}
    table_wide = dict.fromkeys(COLUMNS, 0)
    unaligned = dict.fromkeys(COLUMNS, 0)
    alignments: list[Alignment] = []
    tasks_of: dict[int, list[int]] = {}
    score_of: dict[int, float] = {}
    best_of: dict[int, int | None] = {}
    for ind, row, st in zip(inds, scores, stated, strict=True):
        col = column_of(ind, scheme)
        best = max(row, default=0.0)
        best_k = row.index(best) if row else None
        wide = is_table_wide(ind.name) and not st
        chosen = [] if wide else _aligned_tasks(row, best, tasks)
        for o in chosen:
            counts[o][col] += 1
        if wide:
            table_wide[col] += 1
        elif not chosen:
            unaligned[col] += 1
        tasks_of[ind.ordinal] = chosen
        score_of[ind.ordinal] = float(best)
        best_of[ind.ordinal] = tasks[best_k].ordinal if best_k is not None else None
        alignments.append(
            Alignment(
                indicator=ind.name,
                line=ind.source.line,
                column=col,
                tasks=chosen,
                score=round(float(best), 3),
                table_wide=wide,
            )
        )
    used = _used_columns(counts, table_wide, unaligned)
    name = method or str(getattr(align, "__name__", "custom"))
    return Coverage(
        table=TableCoverage(
            file=parsed.table.source.file,
            columns=used,
            rows=_rows(tasks, counts, used, has_wide=any(table_wide.values())),
            table_wide={c: table_wide[c] for c in used},
            unaligned={c: unaligned[c] for c in used},
            alignments=alignments,
            method="lexical-bigram-idf" if name == "lexical_alignment" else name,
        ),
        tasks_of=tasks_of,
        score_of=score_of,
        best_of=best_of,
    )


def _indicator_scores(
    parsed: ParsedTable, align: Aligner
) -> tuple[list[list[float]], list[set[int]]]:
    """Each indicator's scores against the tasks (1 for the tasks its row names, 0 for the
    rest, when it names any) and the positions of the tasks it names."""
    inds = parsed.indicators
    tasks = parsed.tasks
    scores = align([i.name for i in inds], task_texts(parsed)) if tasks else [[] for _ in inds]
    stated = [_stated_tasks(i, tasks) for i in inds]
    scores = [
        [1.0 if k in st else 0.0 for k in range(len(tasks))] if st else list(row)
        for row, st in zip(scores, stated, strict=True)
    ]
    return scores, stated


def _stated_tasks(ind: IndicatorRecord, tasks: Sequence[TaskRecord]) -> set[int]:
    """The positions of the tasks the indicator's own row names (所属任务), by 任务名称 with
    white space ignored; empty when it names none, or no task of this table."""
    if not ind.task:
        return set()
    name = "".join(ind.task.split())
    return {k for k, t in enumerate(tasks) if "".join(t.name.split()) == name}


def _aligned_tasks(row: list[float], best: float, tasks: Sequence[TaskRecord]) -> list[int]:
    """The ordinals of the tasks an indicator aligns to: above the threshold and near its best."""
    if best < ALIGN_THRESHOLD:
        return []
    return [
        tasks[k].ordinal
        for k, s in enumerate(row)
        if s >= ALIGN_THRESHOLD and s >= TIE_RATIO * best
    ]


def _used_columns(
    counts: dict[int, dict[str, int]], table_wide: dict[str, int], unaligned: dict[str, int]
) -> list[str]:
    """The matrix's columns: every one but 其他, which only when something falls in it."""
    return [
        c
        for c in COLUMNS
        if c != "其他"
        or any(r["其他"] for r in counts.values())
        or table_wide["其他"]
        or unaligned["其他"]
    ]


def _rows(
    tasks: Sequence[TaskRecord], counts: dict[int, dict[str, int]], used: list[str], has_wide: bool
) -> list[CoverageRow]:
    """A row per task; one without indicators is uncovered, unless it is a 基本支出 row and
    whole-table indicators exist."""
    rows = [
        CoverageRow(
            task=t.name,
            ordinal=t.ordinal,
            line=t.source.line,
            unit=t.unit,
            total=None if t.total is None else f"{t.total:,.2f}",
            counts={c: counts[t.ordinal][c] for c in used},
            indicators=sum(counts[t.ordinal].values()),
        )
        for t in tasks
    ]
    for cov_row, t in zip(rows, tasks, strict=True):
        if cov_row.indicators:
            continue
        if has_wide and BASIC_EXPENDITURE.match(t.name):
            cov_row.note = "由全表通用指标（预算执行率等）覆盖"
        else:
            cov_row.uncovered = True
    return rows


def uncovered_tasks(parsed: ParsedTable, cov: Coverage) -> Sequence[int]:
    """Ordinals of tasks no indicator is aligned to (基本支出 excepted when whole-table ones exist)."""
    return [row.ordinal for row in cov.table.rows if row.uncovered]
