"""A table being drafted (the drafting page's state) as the project's template CSV.

A department drafting next year's table writes its tasks and picks indicators (from
``apps.suggest`` or its own). :func:`draft_csv` writes that draft in the template's CSV form
(docs/template.md), and :func:`read_draft` reads it back through the ``template`` reader, so
the draft is checked by the same code as any submitted table and every record's provenance is
its line in the exported CSV (what the department downloads is what the review points at).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from kg import categories
from kg.readers import read_table
from kg.readers.template import CSV_COLUMNS, RECORD_TYPE
from kg.records import ParsedTable
from kg.writers import write_xlsx

from .review import review_file
from .review.similarity import lexical_alignment

if TYPE_CHECKING:
    from kg.settings import Settings

#: the level-2 categories of the national framework, as the drafting page offers them
LEVEL2 = (
    "数量指标",
    "质量指标",
    "时效指标",
    "成本指标",
    "经济效益指标",
    "社会效益指标",
    "生态效益指标",
    "可持续影响指标",
    "服务对象满意度指标",
)
LEVEL1 = ("产出指标", "效益指标", "满意度指标", "成本指标")

#: the file name the exported draft carries (and its records' provenance)
DRAFT_FILE = "绩效目标表草稿.csv"
_BOM = "\ufeff"


def _clean(text: str) -> str:
    return " ".join(text.split())


class DraftTask(BaseModel):
    """A task of the draft: 任务名称, 主要内容 and its amounts (万元) when known."""

    name: str = Field(min_length=1, max_length=200, description="任务名称")
    content: str = Field(default="", max_length=4000, description="主要内容")
    total: Decimal | None = Field(default=None, ge=0, description="总额（万元）")
    fiscal: Decimal | None = Field(default=None, ge=0, description="财政拨款（万元）")
    other: Decimal | None = Field(default=None, ge=0, description="其他资金（万元）")

    _strip = field_validator("name", "content")(_clean)


class DraftIndicator(BaseModel):
    """An indicator row of the draft; ``level1`` is taken from ``level2`` when left out."""

    level1: str | None = Field(default=None, max_length=40, description="一级指标")
    level2: str = Field(min_length=1, max_length=40, description="二级指标")
    name: str = Field(min_length=1, max_length=200, description="三级指标")
    target: str = Field(min_length=1, max_length=200, description="目标值")
    task: str | None = Field(
        default=None,
        max_length=200,
        description="任务名称 of the draft task this indicator measures (set when it was added "
        "from that task's suggestions); the draft review aligns it to that task",
    )

    _strip = field_validator("name", "target")(_clean)

    @field_validator("task")
    @classmethod
    def _task(cls, v: str | None) -> str | None:
        return (_clean(v) or None) if v is not None else None

    @field_validator("level1")
    @classmethod
    def _level1(cls, v: str | None) -> str | None:
        v = _clean(v) if v is not None else None
        return _known(v, 1) if v else None

    @field_validator("level2")
    @classmethod
    def _level2(cls, v: str) -> str:
        return _known(_clean(v), 2)


@functools.lru_cache(maxsize=4)
def _labels(level: int) -> frozenset[str]:
    return frozenset(categories.labels(level))


def _known(label: str, level: int) -> str:
    """``label`` when a category scheme knows it at this level, else a ValueError naming it."""
    known = _labels(level)
    if label not in known:
        examples = "、".join(LEVEL1 if level == 1 else LEVEL2)
        name = "一级指标" if level == 1 else "二级指标"
        raise ValueError(
            f"{name}“{label}”不是指标框架中的类别 / unknown category; 例如：{examples}"
        )
    return label


class Draft(BaseModel):
    """The drafting page's table: department, year, tasks and indicators."""

    department: str = Field(default="（拟编制部门）", min_length=1, max_length=100)
    fiscal_year: int = Field(default_factory=lambda: date.today().year + 1, ge=2000, le=2100)
    title: str | None = Field(default=None, max_length=200)
    tasks: list[DraftTask] = Field(default_factory=list, max_length=100)
    indicators: list[DraftIndicator] = Field(default_factory=list, max_length=1000)

    _strip = field_validator("department")(_clean)


def level1_of(level2: str, scheme: str = "legacy") -> str | None:
    """The level-1 label a level-2 label belongs under in ``scheme`` (数量指标 → 产出指标)."""
    cat = categories.resolve(level2, 2, scheme)
    if cat is None or cat.broader is None:
        return None
    for level1 in categories.labels(1):
        parent = categories.resolve(level1, 1, scheme)
        if parent is not None and parent.concept == cat.broader:
            return parent.pref_label
    return None


def _scheme(draft: Draft) -> str:
    return categories.layout_of([i.level1 for i in draft.indicators if i.level1])


def draft_csv(draft: Draft) -> str:
    """The draft in the template's CSV form (a BOM, the header, one row per record).

    The provenance columns are left empty, so reading the file gives each record the line it
    stands on in this file.
    """
    scheme = _scheme(draft)
    title = draft.title or f"{draft.fiscal_year}年{draft.department}部门整体支出绩效目标表（草稿）"
    rows: list[dict[str, object]] = [
        {
            RECORD_TYPE: "表",
            "表名": title,
            "部门": draft.department,
            "年度": draft.fiscal_year,
            "金额单位": "万元",
            "表类型": "部门整体支出绩效目标表",
            "指标体系": scheme,
            "自评表": "否",
        }
    ]
    for t in draft.tasks:
        rows.append(
            {
                RECORD_TYPE: "任务",
                "任务名称": t.name,
                "主要内容": t.content,
                "总额": t.total,
                "财政拨款": t.fiscal,
                "其他资金": t.other,
            }
        )
    for i in draft.indicators:
        rows.append(
            {
                RECORD_TYPE: "指标",
                "一级指标": i.level1 or level1_of(i.level2, scheme) or "",
                "二级指标": i.level2,
                "三级指标": i.name,
                "目标值": i.target,
                "所属任务": i.task,
            }
        )
    out = io.StringIO()
    out.write(_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


def read_draft(draft: Draft, folder: Path) -> tuple[Path, ParsedTable]:
    """Write the draft's CSV into ``folder`` and read it with the ``template`` reader.

    Raises :class:`kg.errors.SourceError` naming the CSV line of a row the reader refuses
    (e.g. a 二级指标 no scheme knows)."""

    path = Path(folder) / DRAFT_FILE
    path.write_text(draft_csv(draft), encoding="utf-8", newline="")
    _, parsed = read_table(path, "template")
    return path, parsed


def draft_xlsx(draft: Draft, folder: Path) -> bytes:
    """The draft as the template's XLSX workbook (records read back from its CSV form)."""

    _, parsed = read_draft(draft, folder)
    bio = io.BytesIO()
    write_xlsx(parsed, bio)
    return bio.getvalue()


# --------------------------------------------------------------------------- the draft's review
#: the CSV lines before the first task row: the header and the 表 row
_HEAD_LINES = 2


def row_of_line(draft: Draft, line: int | None) -> tuple[str, int] | None:
    """The draft row a line of :func:`draft_csv` stands for: ("task", n) or ("indicator", n),
    1-based as the drafting page numbers them; None for the header and the 表 row."""
    if line is None:
        return None
    n = line - _HEAD_LINES
    if 1 <= n <= len(draft.tasks):
        return ("task", n)
    n -= len(draft.tasks)
    if 1 <= n <= len(draft.indicators):
        return ("indicator", n)
    return None


def row_label(kind: str, n: int) -> str:
    """How the drafting page cites a row: 第 3 条 (its indicator table), 任务 2."""
    return f"任务 {n}" if kind == "task" else f"第 {n} 条"


def draft_aligner(draft: Draft) -> Any:
    """The review's task alignment for this draft: an indicator the department put under a
    task (``DraftIndicator.task``, e.g. added from that task's suggestions) belongs to that
    task alone; the others are aligned lexically, as in any submitted table."""

    task_index = {t.name: k for k, t in enumerate(draft.tasks)}
    chosen = [task_index.get(i.task) if i.task else None for i in draft.indicators]

    def draft_alignment(names: Sequence[str], task_texts: Sequence[str]) -> list[list[float]]:
        scores = [list(row) for row in lexical_alignment(names, task_texts)]
        if len(names) != len(chosen) or len(task_texts) != len(draft.tasks):
            return scores  # not this draft's table: nothing to pin
        for row, k in zip(scores, chosen, strict=True):
            if k is not None:
                row[:] = [1.0 if j == k else 0.0 for j in range(len(row))]
        return scores

    return draft_alignment


_LINE_IN_TEXT = re.compile(r"第(\d+)行")


def review_draft(
    draft: Draft,
    folder: Path,
    *,
    against: Any = None,
    scorer: Any = True,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The review report of the draft (JSON form), citing the draft's own rows.

    The draft is written as the template's CSV into ``folder`` and reviewed by
    :func:`apps.review.review_file` with :func:`draft_aligner`. Each finding gets ``row``
    ({"kind", "number"}) and ``row_label`` (第 3 条 / 任务 2), the rule's Chinese name
    (``rule_zh``), and "第N行" in its message becomes the row's label; ``source_text`` (CSV
    lines) is dropped. ``line`` stays the line of the exported CSV. ``settings``: see
    :func:`apps.review.review_files`."""

    path = Path(folder) / DRAFT_FILE
    path.write_text(draft_csv(draft), encoding="utf-8", newline="")
    report = review_file(
        path, against, align=draft_aligner(draft), scorer=scorer, settings=settings
    )
    data = report.model_dump(mode="json")
    prefix = str(Path(folder)) + "/"
    titles = {r["id"]: r["title_zh"] for r in data.get("rules", [])}

    def label(m: re.Match[str]) -> str:
        row = row_of_line(draft, int(m[1]))
        return row_label(*row) if row else m[0]

    for f in data["findings"]:
        row = row_of_line(draft, f.get("line"))
        f["row"] = {"kind": row[0], "number": row[1]} if row else None
        f["row_label"] = row_label(*row) if row else None
        f["rule_zh"] = titles.get(f["rule"], f["rule"])
        f["source_text"] = None
        if f.get("file", "").startswith(prefix):
            f["file"] = f["file"][len(prefix) :]
        if f.get("file") == DRAFT_FILE:
            f["message_zh"] = _LINE_IN_TEXT.sub(label, f["message_zh"])
    for fs in data.get("files", []):
        if fs.get("file", "").startswith(prefix):
            fs["file"] = fs["file"][len(prefix) :]
    for cov in data.get("coverage", []):
        if cov.get("file", "").startswith(prefix):
            cov["file"] = cov["file"][len(prefix) :]
    return data
