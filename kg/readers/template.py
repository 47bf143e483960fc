"""Reader for the drafting template (起草模板): an XLSX workbook or one CSV table.

A department's staff fill the template in by hand, and any parsed table can be
exported to it (:mod:`kg.writers`), so this module is also where the template's
columns are defined: the writers import :data:`SHEETS`, :data:`TABLE_ITEMS`,
:data:`CSV_COLUMNS` and :func:`sheet_rows` / :func:`csv_rows` from here.
``docs/template.md`` documents the layout for the people who fill it in.

XLSX: sheets 基本信息 (项目 / 内容 pairs), 单位, 年度主要任务 (ending with a
金额合计 row), 绩效目标, 绩效指标, 不适用指标类别 and 警告. Every sheet but
基本信息 ends with the provenance columns 来源文件 / 来源行 / 来源结束行; when they
are empty a record's source is ``<file>#<sheet>`` and its spreadsheet row.

CSV: one table with a 记录类型 column (表, 单位, 任务, 合计, 目标, 指标, 不适用,
警告) and the union of the sheets' columns; line numbers are 1-based file lines
(header = line 1).

Rules shared by both forms:

* headers are matched after NFKC and white-space removal, with synonyms
  (指标名称 → 三级指标, 指标值 → 目标值, 其中：财政拨款 → 财政拨款 …) and an
  optional unit suffix (``总额（万元）``);
* blank 一级指标 / 二级指标 cells carry the value from the row above (drafters
  merge them); merged cells are filled from their top-left cell;
* amounts are numbers or strings with thousands separators; they are read as
  :class:`~decimal.Decimal` with at least two decimals (``0`` → ``0.00``);
* an indicator's ``target`` is the 目标值 text with white space removed and
  ``target_parsed`` is recomputed with :func:`kg.targets.parse_target`;
* unknown columns, unknown sheets and stray cells become a
  :class:`~kg.records.WarningRecord`; bad values raise a
  :class:`~kg.errors.SourceError` naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import categories
from ..errors import AmountError, NotATargetTableError, SourceError, SpreadsheetLimitError
from ..i18n import tr
from ..records import (
    CategoryNotApplicableRecord,
    GoalRecord,
    IndicatorRecord,
    ParsedTable,
    Source,
    TableRecord,
    TaskRecord,
    TotalsRecord,
    UnitRecord,
    WarningRecord,
)
from ..targets import parse_target
from . import vocabulary as vocab
from .vocabulary import fold as _norm
from .xlsx_limits import (
    Deadline,
    SheetExtent,
    WorkbookScan,
    check_archive,
    current_limits,
    inspect_workbook,
)

NAME = "template"
SUFFIXES = (".xlsx", ".csv")

#: Rows searched for a header row (title rows may sit above it).
HEADER_SEARCH_ROWS = 10
#: Labels of the totals row in the task sheet (任务名称 column).
TOTALS_LABELS = ("金额合计", "合计", "总计")
NOT_APPLICABLE = "不适用"
#: Encodings tried, in order, when reading a CSV file.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header as written, an English gloss, synonyms.

    An indicator column names its ``role`` instead of synonyms: every spelling of the role
    in :data:`kg.readers.vocabulary.ROLES` is read as this column.
    """

    header: str
    gloss: str
    synonyms: tuple[str, ...] = ()
    role: str | None = None
    required: bool = False
    amount: bool = False
    integer: bool = False
    width: float = 14
    wrap: bool = False


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook (and one or more 记录类型 of the CSV form)."""

    kind: str
    name: str
    record_type: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    #: Recognised by its headers alone when the sheet name is not a known one.
    by_headers: bool = True
    #: Columns read but never written (a table's own columns the template composes away).
    inputs: tuple[Column, ...] = ()

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns] + [c.header for c in PROVENANCE]


PROVENANCE = (
    Column("来源文件", "source file: the file the record was first read from", width=30),
    Column("来源行", "source line: first line (or row) of the record there", integer=True, width=8),
    Column(
        "来源结束行",
        "source end line: last line when the record spans several",
        integer=True,
        width=10,
    ),
)

#: Items of the 基本信息 sheet (项目 / 内容), also the columns of the CSV 表 row.
TABLE_ITEMS = (
    Column("表名", "table title", ("标题", "表格名称"), required=True, width=40),
    Column("部门", "department", ("部门名称", "预算部门"), width=30),
    Column("年度", "fiscal year", ("预算年度", "财政年度"), integer=True, width=8),
    Column("金额单位", "currency unit: 万元 or 元", ("单位", "金额单位(万元/元)")),
    Column("表类型", "table type, e.g. 部门整体支出绩效目标表", ("表格类型",), width=24),
    Column("指标体系", "category scheme: legacy or 2021", ("指标框架",)),
    Column("项目名称", "project name, for a project table (optional)", ("专项名称",), width=40),
    Column("自评表", "是 for a self-evaluation (自评表), else 否 or empty", ("是否自评表", "自评")),
)
TABLE_SHEET = "基本信息"
TABLE_SHEET_ALIASES = ("表信息", "基本情况")
TABLE_KEY_HEADER, TABLE_VALUE_HEADER = "项目", "内容"

_LEVEL1 = Column("一级指标", "level-1 category, e.g. 产出指标", width=12, role="level1")
_LEVEL2 = Column("二级指标", "level-2 category, e.g. 数量指标", width=16, role="level2")
#: Indicator columns a table may print that the template composes into 目标值.
INDICATOR_INPUTS = (
    Column("计量单位", "unit of a bare number in 目标值 (appended to it)", role="unit"),
    Column("指标值类型", "comparison sign of 目标值 (put before it)", role="sign"),
)

SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "unit",
        "单位",
        "单位",
        (
            Column("单位名称", "reporting unit", ("部门名称", "预算单位"), required=True, width=36),
            Column("主管部门", "supervising department", (), required=True, width=30),
        ),
        aliases=("单位信息", "部门单位"),
    ),
    Sheet(
        "task",
        "年度主要任务",
        "任务",
        (
            Column(
                "任务名称",
                "task name; 金额合计 in the last row = the totals",
                ("项目名称",),
                required=True,
                width=24,
            ),
            Column("主要内容", "what the task does", ("任务内容", "项目内容"), width=60, wrap=True),
            Column(
                "总额", "total amount", ("总金额", "预算总额", "金额"), required=True, amount=True
            ),
            Column(
                "财政拨款",
                "of which fiscal appropriation",
                ("其中:财政拨款", "财政资金"),
                amount=True,
            ),
            Column("其他资金", "of which other funds", ("其中:其他资金",), amount=True),
            Column(
                "所属单位", "unit the row belongs to (optional)", ("实施单位", "单位"), width=30
            ),
        ),
        aliases=("主要任务", "任务"),
    ),
    Sheet(
        "goal",
        "绩效目标",
        "目标",
        (
            Column(
                "目标编号",
                "goal number: 0 = 年度总体目标, 1..n = 目标 n",
                ("编号", "序号"),
                required=True,
                integer=True,
                width=10,
            ),
            Column(
                "目标内容", "goal text", ("目标", "绩效目标"), required=True, width=80, wrap=True
            ),
        ),
        aliases=("年度总体目标", "目标"),
    ),
    Sheet(
        "indicator",
        "绩效指标",
        "指标",
        (
            _LEVEL1,
            _LEVEL2,
            Column("三级指标", "indicator name", required=True, width=40, wrap=True, role="name"),
            Column("目标值", "target value as printed", required=True, width=18, role="target"),
            Column("编码", "code printed with the name: 指标1, GX-01 (optional)", role="code"),
            Column("核心指标", "是 for a core indicator (★), else empty", role="core"),
            Column("分值", "weight in points (optional)", width=8, role="weight"),
            Column(
                "实际完成值", "actual value as printed (self-evaluations)", width=18, role="actual"
            ),
            Column("得分", "score (self-evaluations)", width=8, role="score"),
            Column(
                "偏差原因",
                "reason for a deviation and the remedy (self-evaluations)",
                width=30,
                wrap=True,
                role="deviation",
            ),
            Column(
                "所属任务",
                "任务名称 of the task this indicator measures (optional)",
                width=24,
                role="task",
            ),
            Column(
                "中期指标值",
                "target of the whole period (中期 / 实施周期), beside the annual 目标值",
                width=18,
                role="long_term",
            ),
            Column("指标方向", "正向 or 反向 (optional)", role="direction"),
            Column("指标性质", "定量 or 定性 (optional)", role="kind"),
            Column(
                "一级指标原文",
                "the level-1 label as printed when 一级指标 holds the nearest framework category",
                role="level1_printed",
            ),
            Column(
                "二级指标原文",
                "the level-2 label as printed when 二级指标 holds the nearest framework category",
                role="level2_printed",
            ),
        ),
        aliases=("年度绩效指标", "指标"),
        inputs=INDICATOR_INPUTS,
    ),
    Sheet(
        "not_applicable",
        "不适用指标类别",
        "不适用",
        (_LEVEL1, _LEVEL2, Column("原文", "what the table printed, e.g. 不适用 不适用", width=20)),
        aliases=("不适用",),
        by_headers=False,
    ),
    Sheet(
        "warning",
        "警告",
        "警告",
        (
            Column(
                "说明",
                "what a reader could not place",
                ("警告", "警告说明"),
                required=True,
                width=50,
                wrap=True,
            ),
            Column("原文", "the text concerned", width=40, wrap=True),
        ),
        aliases=("警告信息",),
        by_headers=False,
    ),
)
SHEET_BY_KIND = {s.kind: s for s in SHEETS}

RECORD_TYPE = "记录类型"
#: 记录类型 → the columns (besides provenance) such a CSV row uses.
CSV_RECORD_TYPES: dict[str, tuple[str, ...]] = {
    "表": tuple(c.header for c in TABLE_ITEMS),
    "单位": tuple(c.header for c in SHEET_BY_KIND["unit"].columns),
    "任务": tuple(c.header for c in SHEET_BY_KIND["task"].columns),
    "合计": ("任务名称", "总额", "财政拨款", "其他资金"),
    "目标": tuple(c.header for c in SHEET_BY_KIND["goal"].columns),
    "指标": tuple(c.header for c in SHEET_BY_KIND["indicator"].columns),
    "不适用": tuple(c.header for c in SHEET_BY_KIND["not_applicable"].columns),
    "警告": tuple(c.header for c in SHEET_BY_KIND["warning"].columns),
}
#: Also accepted as 记录类型: the record kinds of the JSON form.
_RECORD_TYPE_ALIASES = {
    "table": "表",
    "unit": "单位",
    "task": "任务",
    "totals": "合计",
    "goal": "目标",
    "indicator": "指标",
    "category_not_applicable": "不适用",
    "warning": "警告",
}


#: Optional columns added later: the CSV form has them after the others (before the
#: provenance columns), so the columns of earlier files keep their places.
LATE_COLUMNS = (
    *("项目名称", "自评表", "编码", "核心指标", "分值", "实际完成值", "得分", "偏差原因"),
    "所属任务",
)


def _union_columns() -> tuple[Column, ...]:
    out: dict[str, Column] = {}
    for col in (*TABLE_ITEMS, *(c for s in SHEETS for c in s.columns)):
        out.setdefault(col.header, col)
    early = [c for h, c in out.items() if h not in LATE_COLUMNS]
    late = [out[h] for h in LATE_COLUMNS if h in out]
    return (*early, *late, *PROVENANCE)


#: Columns of the CSV form, after 记录类型.
CSV_COLUMN_SPECS = _union_columns()
CSV_COLUMNS = (RECORD_TYPE, *(c.header for c in CSV_COLUMN_SPECS))


# --------------------------------------------------------------------------- header matching

_UNIT_SUFFIX = re.compile(r"\((万元|元)\)$")


def _header_key(text: Any) -> tuple[str, str | None]:
    """(normalised header, unit suffix) — ``总额（万元）`` → (总额, 万元)."""
    t = _norm(text_of(text))
    m = _UNIT_SUFFIX.search(t)
    if m:
        return t[: m.start()], m[1]
    return t, None


def _synonym_map(columns: Iterable[Column]) -> dict[str, str]:
    """Normalised header or synonym → canonical header; a synonym two columns claim is dropped."""
    out: dict[str, str] = {}
    clash: set[str] = set()
    cols = list(columns)
    for col in cols:
        out[_norm(col.header)] = col.header
    for col in cols:
        for syn in col.synonyms:
            key = _norm(syn)
            if key in out and out[key] != col.header:
                clash.add(key)
            out.setdefault(key, col.header)
    for key in clash:
        if key not in {_norm(c.header) for c in cols}:
            del out[key]
    return out


@dataclass(frozen=True)
class _Headers:
    """How the header cells of some columns are read: their headers and synonyms, then
    every spelling of their roles (:func:`kg.readers.vocabulary.role_of`)."""

    synonyms: dict[str, str]
    by_role: dict[str, str]

    @staticmethod
    @cache
    def of(columns: tuple[Column, ...]) -> _Headers:
        return _Headers(_synonym_map(columns), {c.role: c.header for c in columns if c.role})

    def canonical(self, keys: list[str]) -> list[str | None]:
        """The column of each header cell (normalised keys); None: unknown, empty or a
        column already taken. A side header (绩效指标 beside the rows) is the name column
        only when no other cell is."""
        out: list[str | None] = []
        sides: list[int] = []
        for idx, key in enumerate(keys):
            canon = self.synonyms.get(key)
            if canon is None and key:
                role = vocab.role_of(key)
                if role == vocab.SIDE:
                    sides.append(idx)
                canon = self.by_role.get(role) if role else None
            out.append(None if canon in out else canon)
        name = self.by_role.get("name")
        if sides and name is not None and name not in out:
            out[sides[0]] = name
        return out


# --------------------------------------------------------------------------- cell values


def text_of(value: Any, number_format: str = "General") -> str:
    """Any cell value as text (numbers without float noise, dates as ISO, % formats as %)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        d = vocab.decimal_of_number(value)
        if "%" in (number_format or ""):
            return f"{_plain(d * 100)}%"
        return _plain(d)
    return str(value)


def _plain(d: Decimal) -> str:
    """A Decimal without exponent and without trailing zeros after the point."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------- rows → records


@dataclass
class _Row:
    """One data row: canonical header → cell value, and where it is."""

    values: dict[str, Any]
    file: str  # the file label of errors and of default sources (xlsx: path#sheet)
    line: int
    end_line: int | None = None
    where: dict[str, str] = field(default_factory=dict)  # header → cell reference, for messages

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def cell(self, key: str) -> str:
        ref = self.where.get(key)
        if ref:
            return tr(f"{key} 列（单元格 {ref}）", f"column {key} (cell {ref})")
        return tr(f"{key} 列", f"column {key}")

    def error(self, message: str, cls: type[SourceError] = SourceError) -> SourceError:
        return cls(self.file, self.line, message)

    def text(self, key: str) -> str:
        return text_of(self.raw(key)).strip()

    def required(self, key: str, what: str) -> str:
        value = self.text(key)
        if not value:
            raise self.error(
                tr(
                    f"{self.cell(key)}为空；应填写{what}",
                    f"{self.cell(key)} is empty; expected {what}",
                )
            )
        return value

    def name(self, key: str) -> str:
        """A name cell: line breaks a drafter typed in the cell are dropped."""
        return "".join(part.strip() for part in self.text(key).splitlines())

    def label(self, key: str) -> str:
        return vocab.compact(self.text(key))

    def amount(self, key: str) -> Decimal | None:
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            value = str(value)
        if isinstance(value, (int, float, Decimal)):
            return vocab.cents(vocab.decimal_of_number(value))
        amount = vocab.amount_of(str(value))
        if amount is None or amount.unit is not None:  # the unit is the table's 金额单位
            raise self.error(
                tr(
                    f"{self.cell(key)}中的金额 {str(value).strip()!r} 无法读取；应为数字，如 3,128.46",
                    f"unparsable amount {str(value).strip()!r} in {self.cell(key)}; "
                    "expected a number like 3,128.46",
                ),
                AmountError,
            )
        return vocab.cents(amount.value)

    def number(self, key: str) -> Decimal | None:
        """A point value (分值, 得分): a number as given, ``10分`` read as 10; empty → None."""
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return vocab.decimal_of_number(value)
        text = _norm(text_of(value))
        m = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)分?", text)
        if not m:
            raise self.error(
                tr(
                    f"{self.cell(key)}的值为 {text_of(value).strip()!r}；应为数字，如 10",
                    f"{self.cell(key)} holds {text_of(value).strip()!r}; expected a number like 10",
                )
            )
        return Decimal(m[1])

    def yes(self, key: str, what: str) -> bool:
        """是 / ★ / Y / 1 → True; 否 / N / 0 / empty → False."""
        text = _norm(self.text(key)).lower()
        if text in vocab.YES:
            return True
        if text in vocab.NO:
            return False
        raise self.error(
            tr(
                f"{self.cell(key)}的值为 {self.text(key)!r}；应为 是 或 否（{what}）",
                f"{self.cell(key)} holds {self.text(key)!r}; expected 是 or 否 ({what})",
            )
        )

    def integer(self, key: str, what: str) -> int | None:
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _norm(text_of(value))
        if re.fullmatch(r"\d+", text):
            return int(text)
        raise self.error(
            tr(
                f"{self.cell(key)}的值为 {text_of(value)!r}；应为{what}",
                f"{self.cell(key)} holds {text_of(value)!r}; expected {what}",
            )
        )

    def source(self) -> Source:
        """The provenance columns when filled, else this file and row."""
        file = self.text("来源文件")
        line = self.integer("来源行", tr("行号，如 614", "a line number like 614"))
        end = self.integer("来源结束行", tr("行号，如 632", "a line number like 632"))
        if not file and line is None and end is None:
            return Source(file=self.file, line=self.line, end_line=self.end_line)
        if not file or line is None:
            missing = "来源文件" if not file else "来源行"
            raise self.error(
                tr(
                    f"来源不完整：{missing}为空；请填写 来源文件 和 来源行（记录跨多行时再填 "
                    "来源结束行），或三项都不填",
                    f"provenance is incomplete: {missing} is empty; fill 来源文件 and 来源行 "
                    "(and 来源结束行 when the record spans lines), or leave all three empty",
                )
            )
        return self.build(Source, file=file, line=line, end_line=end)

    def build(self, cls: type[BaseModel], **fields: Any) -> Any:
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise self.error(
                tr(
                    f"无法生成 {cls.__name__} 记录：{_pydantic_message(exc)}",
                    f"cannot make a {cls.__name__}: {_pydantic_message(exc)}",
                )
            ) from exc


def _pydantic_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
    )


_SCHEMES = {
    "legacy": "legacy",
    "旧版": "legacy",
    "2021": "2021",
    "2021版": "2021",
    "2021年版": "2021",
}
_GOAL_NUMBER = re.compile(r"^(?:目标)?(?P<n>\d+)[:：.、]?$")


@dataclass
class _Carry:
    """一级指标 / 二级指标 carried down over blank (merged) cells."""

    level1: str | None = None
    level2: str | None = None

    def apply(self, row: _Row) -> tuple[str, str]:
        l1, l2 = row.label("一级指标"), row.label("二级指标")
        if l1:
            if l1 != self.level1 and not l2:
                raise row.error(
                    tr(
                        f"一级指标 {l1!r} 开始处的{row.cell('二级指标')}为空；应填写二级指标，如 数量指标",
                        f"{row.cell('二级指标')} is empty where 一级指标 {l1!r} starts; "
                        "expected a 二级指标 such as 数量指标",
                    )
                )
            self.level1 = l1
        elif self.level1 is None:
            raise row.error(
                tr(
                    f"{row.cell('一级指标')}为空，上方各行也未写明；应填写一级指标，如 产出指标",
                    f"{row.cell('一级指标')} is empty and no row above names one; "
                    "expected e.g. 产出指标",
                )
            )
        if l2:
            self.level2 = l2
        elif self.level2 is None:
            raise row.error(
                tr(
                    f"{row.cell('二级指标')}为空，上方各行也未写明；应填写二级指标，如 数量指标",
                    f"{row.cell('二级指标')} is empty and no row above names one; "
                    "expected e.g. 数量指标",
                )
            )
        assert self.level1 is not None and self.level2 is not None
        return self.level1, self.level2

    def header_row(self, row: _Row) -> None:
        """A row that only names categories (a drafter's sub-heading): it sets what follows."""
        l1, l2 = row.label("一级指标"), row.label("二级指标")
        if l1 and l1 != self.level1:
            self.level1, self.level2 = l1, None
        if l2:
            self.level2 = l2


class _Builder:
    """Collects records from rows of either form and assembles the ParsedTable."""

    def __init__(self) -> None:
        self.table_row: _Row | None = None
        self.units: list[UnitRecord] = []
        self.tasks: list[TaskRecord] = []
        self.totals: TotalsRecord | None = None
        self.totals_line: tuple[str, int] | None = None
        self.goals: list[GoalRecord] = []
        self.indicators: list[IndicatorRecord] = []
        self.not_applicable: list[CategoryNotApplicableRecord] = []
        self.warnings: list[WarningRecord] = []  # from the 警告 sheet / rows
        self.notes: list[WarningRecord] = []  # what this reading found (unknown columns …)

    def note(self, file: str, line: int, message: str, text: str | None = None) -> None:
        self.notes.append(
            WarningRecord(message=message, text=text, source=Source(file=file, line=line))
        )

    # -- one row each -----------------------------------------------------------
    def unit(self, row: _Row) -> None:
        self.units.append(
            row.build(
                UnitRecord,
                name=row.required("单位名称", tr("单位名称", "the unit's name")),
                supervising_department=row.text("主管部门") or None,
                ordinal=len(self.units) + 1,
                source=row.source(),
            )
        )

    def task_or_totals(self, row: _Row) -> None:
        if _norm(row.text("任务名称")) in TOTALS_LABELS:
            self.totals_row(row)
        else:
            self.task(row)

    def task(self, row: _Row) -> None:
        self.tasks.append(
            row.build(
                TaskRecord,
                name=row.name("任务名称")
                or row.required("任务名称", tr("任务名称", "the task's name")),
                content=row.text("主要内容"),
                total=row.amount("总额"),
                fiscal=row.amount("财政拨款"),
                other=row.amount("其他资金"),
                unit=row.text("所属单位") or None,
                ordinal=len(self.tasks) + 1,
                source=row.source(),
            )
        )

    def totals_row(self, row: _Row) -> None:
        if self.totals is not None and self.totals_line is not None:
            file, line = self.totals_line
            raise row.error(
                tr(
                    f"第二个金额合计行；第一个在 {file}:{line}；只应有一个合计行",
                    f"a second 金额合计 row; the first is at {file}:{line}; expected one totals row",
                )
            )
        self.totals = row.build(
            TotalsRecord,
            label=row.label("任务名称") or "金额合计",
            total=row.amount("总额"),
            fiscal=row.amount("财政拨款"),
            other=row.amount("其他资金"),
            source=row.source(),
        )
        self.totals_line = (row.file, row.line)

    def goal(self, row: _Row) -> None:
        raw = row.raw("目标编号")
        text = _norm(text_of(raw))
        if text in ("年度总体目标", "总体目标"):
            number: int | None = 0
        elif m := _GOAL_NUMBER.match(text):
            number = int(m["n"])
        else:
            number = row.integer(
                "目标编号",
                tr(
                    "0（年度总体目标）或 n（目标 n）",
                    "0 for 年度总体目标 or the number n of 目标 n",
                ),
            )
        if number is None:
            raise row.error(
                tr(
                    f"{row.cell('目标编号')}为空；应为 0（年度总体目标）或 n（目标 n）",
                    f"{row.cell('目标编号')} is empty; expected 0 for 年度总体目标 or n for 目标 n",
                )
            )
        self.goals.append(
            row.build(
                GoalRecord,
                number=number,
                text=row.required("目标内容", tr("目标内容", "the goal's text")),
                source=row.source(),
            )
        )

    def indicator(self, row: _Row, carry: _Carry) -> None:
        name, target_text = row.name("三级指标"), row.text("目标值")
        if not name and not target_text:
            l1, l2 = row.label("一级指标"), row.label("二级指标")
            carry.header_row(row)
            self.note(
                row.file,
                row.line,
                "该行只有一级/二级指标，没有三级指标和目标值",
                " ".join(x for x in (l1, l2) if x),
            )
            return
        level1, level2 = carry.apply(row)
        if name == NOT_APPLICABLE and _norm(target_text) in ("", NOT_APPLICABLE):
            text = f"{NOT_APPLICABLE} {NOT_APPLICABLE}" if target_text else NOT_APPLICABLE
            self.add_not_applicable(row, level1, level2, text)
            return
        if not name:
            raise row.error(
                tr(
                    f"{row.cell('三级指标')}为空，而目标值为 {target_text!r}；应填写指标名称",
                    f"{row.cell('三级指标')} is empty but 目标值 is {target_text!r}; "
                    "expected the indicator's name",
                )
            )
        # an empty 目标值 is kept as printed (""): the review asks the department for it
        kind, sign = row.text("指标性质"), row.text("指标值类型")
        if vocab.sign_of(kind):  # 指标性质 printing the sign (≥), as the national form does
            sign, kind = sign or kind, ""
        target = (
            vocab.compose_target(target_text, row.text("计量单位"), sign) if target_text else ""
        )
        actual = vocab.compact(row.text("实际完成值")) or None
        self.indicators.append(
            row.build(
                IndicatorRecord,
                level1=level1,
                level2=level2,
                name=name,
                target=target,
                target_parsed=parse_target(target),
                ordinal=len(self.indicators) + 1,
                code=row.text("编码") or None,
                core=row.yes("核心指标", tr("是否核心指标", "a core indicator")),
                name_simplified=vocab.simplified_or_none(name),
                weight=row.number("分值"),
                actual=actual,
                actual_parsed=parse_target(actual) if actual is not None else None,
                score=row.number("得分"),
                deviation=row.text("偏差原因") or None,
                task=row.text("所属任务") or None,
                long_term_target=vocab.compact(row.text("中期指标值")) or None,
                direction=row.text("指标方向") or None,
                value_kind=kind or None,
                level1_printed=row.text("一级指标原文") or None,
                level2_printed=row.text("二级指标原文") or None,
                source=row.source(),
            )
        )

    def not_applicable_row(self, row: _Row, carry: _Carry) -> None:
        level1, level2 = carry.apply(row)
        self.add_not_applicable(row, level1, level2, row.text("原文") or NOT_APPLICABLE)

    def add_not_applicable(self, row: _Row, level1: str, level2: str, text: str) -> None:
        self.not_applicable.append(
            row.build(
                CategoryNotApplicableRecord,
                level1=level1,
                level2=level2,
                text=text,
                source=row.source(),
            )
        )

    def warning(self, row: _Row) -> None:
        self.warnings.append(
            row.build(
                WarningRecord,
                message=row.required("说明", tr("警告说明", "the warning's message")),
                text=row.text("原文") or None,
                source=row.source(),
            )
        )

    # -- the table ------------------------------------------------------------------
    def table(self) -> TableRecord:
        row = self.table_row
        assert row is not None
        title = self._title(row)
        split = vocab.split_title(title)
        department = row.text("部门") or (split[0] if split else "")
        if not department:
            raise row.error(
                tr(
                    "部门为空，表名也不以“绩效目标表”结尾；应填写部门名称",
                    "部门 is empty and the 表名 does not end in 绩效目标表; "
                    "expected the department's name",
                )
            )
        year_text = _norm(row.text("年度"))
        ym = re.fullmatch(r"(\d{4})(?:年度?)?", year_text)
        if not ym:
            raise row.error(
                tr(
                    f"年度为 {row.text('年度')!r}；应为预算年度，如 2024",
                    f"年度 is {row.text('年度')!r}; expected a fiscal year like 2024",
                )
            )
        currency = _norm(row.text("金额单位")) or "万元"
        if currency not in ("万元", "元"):
            raise row.error(
                tr(
                    f"金额单位为 {currency!r}；应为 万元 或 元",
                    f"金额单位 is {currency!r}; expected 万元 or 元",
                )
            )
        table_type = _norm(row.text("表类型")) or (split[1] if split else "部门整体支出绩效目标表")
        scheme = self._scheme(row)
        return row.build(
            TableRecord,
            title=title,
            department=department,
            fiscal_year=int(ym[1]),
            currency_unit=currency,
            table_type=table_type,
            category_scheme=scheme,
            project_name=row.text("项目名称") or None,
            self_evaluation=row.yes("自评表", tr("是否自评表", "a self-evaluation table")),
            source=row.source(),
        )

    @staticmethod
    def _title(row: _Row) -> str:
        """The table's title (表名, required), white space removed."""
        return re.sub(
            r"\s+",
            "",
            row.required(
                "表名",
                tr(
                    "表名，如 中共深圳市福田区委组织部部门整体支出绩效目标表",
                    "the table's title, e.g. 中共深圳市福田区委组织部部门整体支出绩效目标表",
                ),
            ),
        )

    def _scheme(self, row: _Row) -> str:
        """The category scheme: the one 指标体系 names, else the one the level-1 labels fit."""
        scheme_text = _norm(row.text("指标体系"))
        if scheme_text:
            if scheme_text not in _SCHEMES:
                raise row.error(
                    tr(
                        f"指标体系为 {scheme_text!r}；应为 legacy 或 2021",
                        f"指标体系 is {scheme_text!r}; expected legacy or 2021",
                    )
                )
            return _SCHEMES[scheme_text]
        level1 = sorted(
            {x.level1 for x in self.indicators} | {x.level1 for x in self.not_applicable}
        )
        return categories.layout_of(level1)

    def place_categories(self, scheme: str) -> None:
        """Labels no scheme knows: kept as printed beside the nearest framework category."""
        for ind in self.indicators:
            printed = " ".join((ind.level1, ind.level2))
            placed = categories.place_indicator(ind, scheme)
            if placed is not None:
                self.note(ind.source.file, ind.source.line, placed[0], printed)
        for na in self.not_applicable:
            placed = categories.place(na.level1, na.level2, scheme)
            if placed != (na.level1, na.level2):
                self.note(
                    na.source.file,
                    na.source.line,
                    f"类别 {na.level1}/{na.level2} 不是指标框架中的类别，归入 {placed[0]}/{placed[1]}",
                    na.text,
                )
                na.level1, na.level2 = placed

    def parsed(self) -> ParsedTable:
        table = self.table()
        self.place_categories(table.category_scheme)
        return ParsedTable(
            table=table,
            units=self.units,
            tasks=self.tasks,
            totals=self.totals,
            goals=self.goals,
            indicators=self.indicators,
            not_applicable=self.not_applicable,
            warnings=self.warnings + self.notes,
        )


# ---------------------------------------------------------------- records → rows (writers)


def _source_cells(source: Source) -> dict[str, Any]:
    return {"来源文件": source.file, "来源行": source.line, "来源结束行": source.end_line}


def _point_text(value: Decimal | None) -> str | None:
    """A point value (分值, 得分) as text with its own digits, so it reads back unchanged."""
    return None if value is None else format(value, "f")


def table_items(parsed: ParsedTable) -> dict[str, Any]:
    """The 基本信息 items (and the CSV 表 row) of a table, provenance included."""
    t = parsed.table
    return {
        "表名": t.title,
        "部门": t.department,
        "年度": t.fiscal_year,
        "金额单位": t.currency_unit,
        "表类型": t.table_type,
        "指标体系": t.category_scheme,
        "项目名称": t.project_name,
        "自评表": "是" if t.self_evaluation else "否",
        **_source_cells(t.source),
    }


def _task_rows(parsed: ParsedTable) -> list[dict[str, Any]]:
    """The 任务 sheet's rows: one per task, then the stated totals when printed."""
    rows = [
        {
            "任务名称": t.name,
            "主要内容": t.content,
            "总额": t.total,
            "财政拨款": t.fiscal,
            "其他资金": t.other,
            "所属单位": t.unit,
            **_source_cells(t.source),
        }
        for t in parsed.tasks
    ]
    if parsed.totals is not None:
        t = parsed.totals
        rows.append(
            {
                "任务名称": t.label,
                "总额": t.total,
                "财政拨款": t.fiscal,
                "其他资金": t.other,
                **_source_cells(t.source),
            }
        )
    return rows


def _indicator_row(i: IndicatorRecord) -> dict[str, Any]:
    """An indicator as a row of the 指标 sheet."""
    return {
        "一级指标": i.level1,
        "二级指标": i.level2,
        "三级指标": i.name,
        "目标值": i.target,
        "编码": i.code,
        "核心指标": "是" if i.core else None,
        "分值": _point_text(i.weight),
        "实际完成值": i.actual,
        "得分": _point_text(i.score),
        "偏差原因": i.deviation,
        "中期指标值": i.long_term_target,
        "所属任务": i.task,
        "指标方向": i.direction,
        "指标性质": i.value_kind,
        "一级指标原文": i.level1_printed,
        "二级指标原文": i.level2_printed,
        **_source_cells(i.source),
    }


def sheet_rows(parsed: ParsedTable) -> dict[str, list[dict[str, Any]]]:
    """Sheet kind → its data rows (header → value), in sheet order; amounts stay Decimal."""
    return {
        "unit": [
            {"单位名称": u.name, "主管部门": u.supervising_department, **_source_cells(u.source)}
            for u in parsed.units
        ],
        "task": _task_rows(parsed),
        "goal": [
            {"目标编号": g.number, "目标内容": g.text, **_source_cells(g.source)}
            for g in parsed.goals
        ],
        "indicator": [_indicator_row(i) for i in parsed.indicators],
        "not_applicable": [
            {"一级指标": x.level1, "二级指标": x.level2, "原文": x.text, **_source_cells(x.source)}
            for x in parsed.not_applicable
        ],
        "warning": [
            {"说明": w.message, "原文": w.text, **_source_cells(w.source)} for w in parsed.warnings
        ],
    }


def csv_rows(parsed: ParsedTable) -> list[dict[str, Any]]:
    """The CSV form's rows (header → value, 记录类型 included), in ParsedTable.records() order."""
    sheets = sheet_rows(parsed)
    tasks = sheets["task"][: len(parsed.tasks)]
    out: list[dict[str, Any]] = [{RECORD_TYPE: "表", **table_items(parsed)}]
    out += [{RECORD_TYPE: "单位", **r} for r in sheets["unit"]]
    out += [{RECORD_TYPE: "任务", **r} for r in tasks]
    if parsed.totals is not None:
        out.append({RECORD_TYPE: "合计", **sheets["task"][-1]})
    for kind, record_type in (
        ("goal", "目标"),
        ("indicator", "指标"),
        ("not_applicable", "不适用"),
        ("warning", "警告"),
    ):
        out += [{RECORD_TYPE: record_type, **r} for r in sheets[kind]]
    return out


# --------------------------------------------------------------------------- sniff / read


def sniff(path: Path) -> bool:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            head = path.read_bytes()[:8192]
            for enc in CSV_ENCODINGS:
                lines = head.decode(enc, errors="ignore").lstrip("\ufeff").splitlines()
                if lines and RECORD_TYPE in lines[0]:
                    return True
            return False
        if suffix == ".xlsx":
            return _XlsxReader(path).recognised_any()
    except SpreadsheetLimitError:
        raise  # a bomb is refused by name, not passed on to the next reader
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, SourceError):
        return False
    return False


def read(path: Path) -> ParsedTable:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _XlsxReader(path).read()
    raise NotATargetTableError(
        str(path),
        None,
        tr(
            f"template 读取器读取 .xlsx 和 .csv 文件，不读{suffix or '没有后缀的文件'}",
            f"the template reader reads .xlsx and .csv files, not {suffix or 'a file without suffix'}",
        ),
    )


# --------------------------------------------------------------------------- CSV


def decode_csv(path: Path) -> str:
    data = path.read_bytes()
    failures = []
    for enc in CSV_ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            name = enc.replace("-sig", "")
            failures.append(
                tr(
                    f"{name} 在第 {exc.start} 字节失败（{exc.reason}）",
                    f"{name} failed at byte {exc.start} ({exc.reason})",
                )
            )
    raise NotATargetTableError(
        str(path),
        None,
        tr(
            f"无法解码 CSV 文件：{'；'.join(failures)}；应为 UTF-8（带或不带 BOM）或 GB18030 编码",
            f"cannot decode the CSV file: {'; '.join(failures)}; "
            "expected UTF-8 (with or without BOM) or GB18030",
        ),
    )


def _read_csv(path: Path) -> ParsedTable:
    file = str(path)
    text = decode_csv(path).lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    builder = _Builder()
    try:
        header = next(reader)
    except StopIteration:
        raise NotATargetTableError(
            file,
            None,
            tr(
                "文件为空；应有含 记录类型 的表头行",
                "the file is empty; expected a header row with 记录类型",
            ),
        ) from None
    except csv.Error as exc:
        raise SourceError(
            file, 1, tr(f"CSV 表头格式错误：{exc}", f"malformed CSV header: {exc}")
        ) from exc
    columns = _csv_columns(file, header, builder)
    carry_indicator, carry_na = _Carry(), _Carry()
    end = 1
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SourceError(
                file, start, tr(f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")
            ) from exc
        end = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row, kind = _csv_row(file, cells, columns, start, end, builder)
        _add_csv_row(builder, kind, row, carry_indicator, carry_na)
    if builder.table_row is None:
        raise SourceError(
            file,
            None,
            tr(
                f"没有 {RECORD_TYPE} 为 表 的行；应有一行，填写 表名、部门、年度、金额单位",
                f"no row with {RECORD_TYPE} 表; expected one with 表名, 部门, 年度, 金额单位",
            ),
        )
    return builder.parsed()


def _csv_columns(file: str, header: list[str], builder: _Builder) -> dict[int, str]:
    """Column index → canonical header of a CSV header row; unknown columns are noted."""
    record_type = Column(RECORD_TYPE, "record type")
    headers = _Headers.of((record_type, *CSV_COLUMN_SPECS, *INDICATOR_INPUTS))
    keys = [_header_key(cell.lstrip("\ufeff"))[0] for cell in header]
    columns: dict[int, str] = {}
    for idx, (cell, key, canon) in enumerate(
        zip(header, keys, headers.canonical(keys), strict=True)
    ):
        if not key:
            continue
        if canon is not None:
            columns[idx] = canon
        else:
            builder.note(
                file, 1, f"未识别的列 {cell.strip()!r}（第 {idx + 1} 列），已忽略", cell.strip()
            )
    if RECORD_TYPE not in columns.values():
        found = ", ".join(h.strip() for h in header if h.strip())[:200]
        raise NotATargetTableError(
            file,
            1,
            tr(
                f"表头中没有 {RECORD_TYPE} 列（读到 {found!r}）；应为模板的 CSV 格式："
                f"{RECORD_TYPE}、{'、'.join(CSV_COLUMNS[1:8])} …",
                f"no {RECORD_TYPE} column in the header (found {found!r}); "
                f"expected the template's CSV form: {RECORD_TYPE}, {', '.join(CSV_COLUMNS[1:8])}, …",
            ),
        )
    return columns


def _csv_row(
    file: str, cells: list[str], columns: dict[int, str], start: int, end: int, builder: _Builder
) -> tuple[_Row, str]:
    """A CSV data row and its record type; values in columns the type does not use are noted."""
    values: dict[str, Any] = {}
    for idx, cell in enumerate(cells):
        if idx in columns:
            values[columns[idx]] = cell
        elif cell.strip():
            builder.note(file, start, f"第 {idx + 1} 列没有可识别的列名，值已忽略", cell.strip())
    row = _Row(values, file, start, end if end != start else None)
    kind_text = _norm(row.text(RECORD_TYPE))
    kind = _RECORD_TYPE_ALIASES.get(kind_text, kind_text)
    if kind not in CSV_RECORD_TYPES:
        if kind:
            what = tr(
                f"未知的{RECORD_TYPE} {row.text(RECORD_TYPE)!r}",
                f"unknown {RECORD_TYPE} {row.text(RECORD_TYPE)!r}",
            )
        else:
            what = tr(f"{RECORD_TYPE}为空", f"{RECORD_TYPE} is empty")
        raise row.error(
            tr(
                f"{what}；应为 {'、'.join(CSV_RECORD_TYPES)} 之一",
                f"{what}; expected one of {', '.join(CSV_RECORD_TYPES)}",
            )
        )
    provenance = tuple(c.header for c in PROVENANCE)
    used = {RECORD_TYPE, *CSV_RECORD_TYPES[kind], *provenance}
    if kind == "指标":
        used |= {c.header for c in INDICATOR_INPUTS}
    for key, value in values.items():
        if key not in used and str(value).strip():
            builder.note(
                file, start, f"记录类型 {kind} 不使用列 {key}，值已忽略", str(value).strip()
            )
    return row, kind


def _add_csv_row(
    builder: _Builder, kind: str, row: _Row, carry_indicator: _Carry, carry_na: _Carry
) -> None:
    """Hand a CSV row to the builder by its record type."""
    if kind == "表":
        if builder.table_row is not None:
            raise row.error(
                tr(
                    f"第二个 表 行；第一个在第 {builder.table_row.line} 行；每个文件只应有一个",
                    f"a second 表 row; the first is on line {builder.table_row.line}; "
                    "expected one per file",
                )
            )
        builder.table_row = row
    elif kind == "单位":
        builder.unit(row)
    elif kind == "任务":
        builder.task(row)
    elif kind == "合计":
        builder.totals_row(row)
    elif kind == "目标":
        builder.goal(row)
    elif kind == "指标":
        builder.indicator(row, carry_indicator)
    elif kind == "不适用":
        builder.not_applicable_row(row, carry_na)
    else:
        builder.warning(row)


# --------------------------------------------------------------------------- XLSX


@dataclass
class _Header:
    row: int  # 1-based row of the (last) header row
    columns: dict[int, str]  # 0-based column index → canonical header
    units: dict[str, str]  # canonical header → unit suffix written in the header
    unknown: list[tuple[int, str]]  # (0-based column, header text) not recognised


class _XlsxReader:
    """Reads a workbook within the ``xlsx_*`` limits (:mod:`kg.readers.xlsx_limits`).

    The workbook is inspected first (zip sizes, each sheet's used range, merged ranges,
    cells); openpyxl then streams the sheets in read-only mode over exactly the used range
    found, and the merged ranges are filled from the inspection's list.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)
        self._scan: WorkbookScan | None = None
        self._deadline: Deadline | None = None
        self._cached: Any = None  # the data_only workbook: saved results of formulas

    # -- loading ---------------------------------------------------------------------
    def _inspect(self) -> WorkbookScan:
        if self._scan is None:
            limits = current_limits()
            self._deadline = Deadline(self.file, limits)
            self._scan = inspect_workbook(self.path, limits, self._deadline)
        return self._scan

    def _check_time(self, doing: str) -> None:
        if self._deadline is not None:
            self._deadline.check(doing)

    def _load(self, data_only: bool) -> Any:
        import openpyxl  # imported here: the CSV path and sniffing other suffixes stay light

        self._inspect()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
            try:
                return openpyxl.load_workbook(self.path, read_only=True, data_only=data_only)
            except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError) as exc:
                raise NotATargetTableError(
                    self.file,
                    None,
                    tr(
                        f"不是可读的 .xlsx 工作簿（{exc}）",
                        f"not a readable .xlsx workbook ({exc})",
                    ),
                ) from exc

    def _extent(self, ws: Any) -> SheetExtent:
        part = getattr(ws, "_worksheet_path", None)
        extent = self._inspect().sheets.get(str(part).lstrip("/"))
        if extent is None:  # a part openpyxl reads that the inspection did not see as a sheet
            raise NotATargetTableError(
                self.file,
                None,
                tr(
                    f"不是可读的 .xlsx 工作簿（工作表“{ws.title}”：{part}）",
                    f"not a readable .xlsx workbook (sheet {ws.title!r}: {part})",
                ),
            )
        return extent

    def _rows(self, ws: Any, extent: SheetExtent, max_row: int | None = None) -> Iterator[Any]:
        """The sheet's rows over its used range (never the range the file declares)."""
        if not extent.max_row or not extent.max_col:  # 0 would mean "as declared" to openpyxl
            return
        rows = ws.iter_rows(
            min_row=1,
            max_row=min(extent.max_row, max_row or extent.max_row),
            min_col=1,
            max_col=extent.max_col,
            values_only=False,
        )
        try:
            for n, cells in enumerate(rows, start=1):
                if n % 1000 == 0:
                    self._check_time(tr(f"读取工作表“{ws.title}”", f"reading sheet {ws.title!r}"))
                yield cells
        except (SyntaxError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
            raise NotATargetTableError(
                self.file,
                None,
                tr(
                    f"不是可读的 .xlsx 工作簿（工作表“{ws.title}”：{exc}）",
                    f"not a readable .xlsx workbook (sheet {ws.title!r}: {exc})",
                ),
            ) from exc

    def _cached_values(self, ws: Any, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Any]:
        """The saved results of the formula cells at ``wanted`` (0-based row, column)."""
        if self._cached is None:
            self._cached = self._load(data_only=True)
        cached = self._cached[ws.title]
        last = max(r for r, _ in wanted) + 1
        out: dict[tuple[int, int], Any] = {}
        for r, cells in enumerate(self._rows(cached, self._extent(ws), max_row=last)):
            for c, cell in enumerate(cells):
                if (r, c) in wanted:
                    out[r, c] = cell.value
        return out

    def _close(self, *workbooks: Any) -> None:
        for wb in (*workbooks, self._cached):
            if wb is not None:
                wb.close()
        self._cached = None

    def grid(self, ws: Any) -> list[list[Any]]:
        """The sheet's values as text-ready Python values, merged ranges filled from their
        top-left."""
        extent = self._extent(ws)
        out: list[list[Any]] = []
        formulas: dict[tuple[int, int], Any] = {}  # (row, column) → the formula cell
        for cells in self._rows(ws, extent):
            row = []
            for c in cells:
                value = c.value
                if c.data_type == "f":
                    formulas[len(out), len(row)] = c
                    value = None
                elif (
                    isinstance(value, (int, float))
                    and not isinstance(value, bool)
                    and "%" in (c.number_format or "")
                ):
                    value = text_of(value, c.number_format)
                row.append(value)
            out.append(row)
        while len(out) < extent.max_row:  # openpyxl stops at the last row the XML writes
            out.append([None] * extent.max_col)
        # cells a merged range covers read as empty (openpyxl drops them), then are filled
        for r1, c1, r2, c2 in extent.merges:
            for r in range(r1 - 1, r2):
                for col in range(c1 - 1, c2):
                    if (r, col) != (r1 - 1, c1 - 1):
                        out[r][col] = None
                        formulas.pop((r, col), None)
        if formulas:
            saved = self._cached_values(ws, set(formulas))
            for (r, col), c in formulas.items():
                value = saved.get((r, col))
                if value is None:
                    raise SourceError(
                        f"{self.file}#{ws.title}",
                        c.row,
                        tr(
                            f"单元格 {c.coordinate} 是公式 {c.value!r}，没有保存的计算结果；"
                            "请用 Excel 或 WPS 打开并保存文件，或直接填写数值",
                            f"cell {c.coordinate} holds the formula {c.value!r} "
                            "with no saved result; "
                            "open and save the file in Excel or WPS, or type the value",
                        ),
                    )
                if (
                    isinstance(value, (int, float))
                    and not isinstance(value, bool)
                    and "%" in (c.number_format or "")
                ):
                    value = text_of(value, c.number_format)
                out[r][col] = value
        for r1, c1, r2, c2 in extent.merges:
            top = out[r1 - 1][c1 - 1]
            for r in range(r1 - 1, r2):
                for col in range(c1 - 1, c2):
                    out[r][col] = top
        self._check_time(tr(f"读取工作表“{ws.title}”", f"reading sheet {ws.title!r}"))
        return out

    # -- sheet recognition ---------------------------------------------------------------
    @staticmethod
    def sheet_by_name(title: str) -> Sheet | str | None:
        key = _norm(title)
        if key in {_norm(x) for x in (TABLE_SHEET, *TABLE_SHEET_ALIASES)}:
            return TABLE_SHEET
        for sheet in SHEETS:
            if key in {_norm(x) for x in (sheet.name, *sheet.aliases)}:
                return sheet
        return None

    @staticmethod
    def find_header(grid: list[list[Any]], sheet: Sheet) -> _Header | None:
        headers = _Headers.of((*sheet.columns, *sheet.inputs, *PROVENANCE))
        required = {c.header for c in sheet.columns if c.required}

        def mapped(
            cells: list[Any],
        ) -> tuple[dict[int, str], dict[str, str], list[tuple[int, str]]]:
            cols: dict[int, str] = {}
            units: dict[str, str] = {}
            unknown: list[tuple[int, str]] = []
            keyed = [_header_key(cell) for cell in cells]
            found = headers.canonical([key for key, _ in keyed])
            for idx, (cell, (key, unit), canon) in enumerate(zip(cells, keyed, found, strict=True)):
                if not key:
                    continue
                if canon is None:
                    unknown.append((idx, text_of(cell).strip()))
                    continue
                cols[idx] = canon
                if unit:
                    units[canon] = unit
            return cols, units, unknown

        for r in range(min(HEADER_SEARCH_ROWS, len(grid))):
            cols, units, unknown = mapped(grid[r])
            if required <= set(cols.values()):
                # a second header row under this one (预算金额 over 总额 / 财政拨款 / 其他资金)
                if r + 1 < len(grid):
                    cols2, units2, unknown2 = mapped(grid[r + 1])
                    if cols2 and not unknown2 and set(cols2.values()) - set(cols.values()):
                        merged = {**cols, **cols2}
                        if len(set(merged.values())) == len(merged):
                            unknown = [(i, t) for i, t in unknown if i not in cols2]
                            return _Header(r + 2, merged, {**units, **units2}, unknown)
                return _Header(r + 1, cols, units, unknown)
            if r + 1 < len(grid):
                cols2, units2, unknown2 = mapped(grid[r + 1])
                merged = {**cols, **cols2}
                if (
                    cols2
                    and not unknown2
                    and required <= set(merged.values())
                    and len(set(merged.values())) == len(merged)
                ):
                    unknown = [(i, t) for i, t in unknown if i not in cols2]
                    return _Header(r + 2, merged, {**units, **units2}, unknown)
        return None

    def classify(
        self, wb: Any
    ) -> list[tuple[Any, Sheet | str | None, list[list[Any]], _Header | None]]:
        return [
            (ws, spec, grid, header)
            for ws, (_, spec, grid, header) in zip(
                wb.worksheets,
                classify_grids([(ws.title, self.grid(ws)) for ws in wb.worksheets]),
                strict=True,
            )
        ]

    def recognised_any(self) -> bool:
        with zipfile.ZipFile(self.path) as zf:
            check_archive(zf, self.file, current_limits())  # before reading any member
            if "xl/workbook.xml" not in zf.namelist():
                return False
            names = re.findall(
                r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"',
                zf.read("xl/workbook.xml").decode("utf-8", "replace"),
            )
        if any(self.sheet_by_name(n) is not None for n in names):
            return True
        try:
            wb = self._load(data_only=True)
        except SpreadsheetLimitError:
            raise
        except NotATargetTableError:
            return False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # read-only mode warns as it streams the cells
                for ws in wb.worksheets:
                    rows = self._rows(ws, self._extent(ws), max_row=HEADER_SEARCH_ROWS + 1)
                    grid = [[c.value for c in cells] for cells in rows]
                    if any(s.by_headers and self.find_header(grid, s) for s in SHEETS):
                        return True
        finally:
            self._close(wb)
        return False

    # -- reading ---------------------------------------------------------------------------
    def expected(self) -> str:
        names = ", ".join([TABLE_SHEET, *(s.name for s in SHEETS)])
        return (
            f"expected the template's sheets ({names}) or a sheet with the headers "
            "一级指标, 二级指标, 三级指标 (指标名称), 目标值 (指标值)"
        )

    def read(self) -> ParsedTable:
        wb = self._load(data_only=False)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # read-only mode warns as it streams the cells
                sheets = [GridSheet(ws.title, self.grid(ws)) for ws in wb.worksheets]
        finally:
            self._close(wb)
        return read_grids(self.file, sheets)

    @staticmethod
    def expected_zh() -> str:
        return "可识别的工作表：" + "、".join([TABLE_SHEET, *(s.name for s in SHEETS)])

    @staticmethod
    def table_row(
        label: str, title: str, grid: list[list[Any]], builder: _Builder, locate: Locate = None
    ) -> _Row:
        synonyms = _synonym_map((*TABLE_ITEMS, *PROVENANCE))
        values: dict[str, Any] = {}
        rows: dict[str, int] = {}
        where: dict[str, str] = {}
        for r, cells in enumerate(grid, start=1):
            key_cell = cells[0] if cells else None
            value = cells[1] if len(cells) > 1 else None
            extra = [c for c in cells[2:] if text_of(c).strip()]
            key = _norm(text_of(key_cell))
            if not key:
                if text_of(value).strip() or extra:
                    builder.note(
                        label,
                        r,
                        "该行没有项目名，内容已忽略",
                        text_of(value).strip() or text_of(extra[0]).strip(),
                    )
                continue
            if key in (TABLE_KEY_HEADER, "字段") and _norm(text_of(value)) in (
                TABLE_VALUE_HEADER,
                "值",
                "",
            ):
                continue
            canon = synonyms.get(key)
            if canon is None:
                builder.note(
                    label,
                    r,
                    f"未识别的项目 {text_of(key_cell).strip()!r}，已忽略",
                    text_of(value).strip() or None,
                )
                continue
            if canon in rows:
                raise SourceError(
                    label,
                    r,
                    _twice(canon, rows[canon], r),
                )
            values[canon], rows[canon], where[canon] = value, r, f"B{r}"
            if extra:
                builder.note(
                    label, r, f"项目 {canon} 的第三列及以后的内容已忽略", text_of(extra[0]).strip()
                )
        if "表名" not in rows:
            raise SourceError(
                label,
                None,
                _no_title_row(title),
            )
        if locate is not None:
            label, line = locate[rows["表名"] - 1]
            return _Row(values, label, line, where=where)
        return _Row(values, label, rows["表名"], where=where)

    @staticmethod
    def read_sheet(
        label: str,
        spec: Sheet,
        grid: list[list[Any]],
        header: _Header,
        builder: _Builder,
        currency: str,
        locate: Locate = None,
    ) -> None:
        from openpyxl.utils import get_column_letter

        for idx, text in header.unknown:
            builder.note(
                label,
                header.row,
                f"未识别的列 {text!r}（{get_column_letter(idx + 1)} 列），已忽略；"
                f"本表可用的列：{'、'.join(spec.headers)}",
                text,
            )
        for canon, unit in header.units.items():
            if unit != currency:
                raise SourceError(
                    label,
                    header.row,
                    _other_currency(canon, unit, currency),
                )
        headed = set(header.columns) | {i for i, _ in header.unknown}
        carry = _Carry()
        handlers: dict[str, Callable[[_Row], None]] = {
            "unit": builder.unit,
            "task": builder.task_or_totals,
            "goal": builder.goal,
            "indicator": lambda row: builder.indicator(row, carry),
            "not_applicable": lambda row: builder.not_applicable_row(row, carry),
            "warning": builder.warning,
        }
        for r in range(header.row, len(grid)):
            cells = grid[r]
            if not any(text_of(v).strip() for v in cells):
                continue
            line = r + 1
            row_label = label
            if locate is not None:
                row_label, line = locate[r]
            values = {
                canon: cells[i] if i < len(cells) else None for i, canon in header.columns.items()
            }
            where = {
                canon: f"{get_column_letter(i + 1)}{line}" for i, canon in header.columns.items()
            }
            for i, v in enumerate(cells):
                if i not in headed and text_of(v).strip():
                    builder.note(
                        label,
                        line,
                        f"{get_column_letter(i + 1)} 列没有列名，值已忽略",
                        text_of(v).strip(),
                    )
            handlers[spec.kind](_Row(values, row_label, line, where=where))


# --------------------------------------------------------------------------- grids (XLSX, DOCX, PDF)

#: For each 0-based grid row, the (file label, line) its records cite; None: the sheet's
#: label and the 1-based row number.
Locate = list[tuple[str, int]] | None


def workbook_grids(path: Path) -> list[tuple[str, list[list[Any]], list[Any]]]:
    """(sheet name, cell values, merged ranges) of each sheet of any .xlsx, read the way
    this reader reads its own (limits checked first, the used range only, formulas'
    saved results): the one way an .xlsx is opened (the ``sheet`` reader uses it)."""
    reader = _XlsxReader(path)
    wb = reader._load(data_only=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # read-only mode warns as it streams the cells
            return [
                (ws.title, reader.grid(ws), list(reader._extent(ws).merges)) for ws in wb.worksheets
            ]
    finally:
        reader._close(wb)


@dataclass
class GridSheet:
    """One table as a grid of cell values, merged cells filled from their top-left.

    ``title`` names the sheet (a workbook sheet's name, or the heading printed above a
    DOCX/PDF table); ``label`` is the file label its records cite (default
    ``file#title``); ``locate`` overrides the (label, line) per row.
    """

    title: str
    grid: list[list[Any]]
    label: str | None = None
    locate: Locate = None


def find_sheet_header(grid: list[list[Any]], sheet: Sheet) -> _Header | None:
    """The header row(s) of ``sheet``'s columns (synonyms allowed) in the first rows."""
    return _XlsxReader.find_header(grid, sheet)


def classify_grids(
    grids: list[tuple[str, list[list[Any]]]],
) -> list[tuple[str, Sheet | str | None, list[list[Any]], _Header | None]]:
    """Which template sheet each grid is: by its title, else by its header row."""
    out: list[tuple[str, Sheet | str | None, list[list[Any]], _Header | None]] = []
    for title, grid in grids:
        spec = _XlsxReader.sheet_by_name(title)
        header = None
        if isinstance(spec, Sheet) and grid is not None:
            header = _XlsxReader.find_header(grid, spec)
        elif spec is None and grid:
            for candidate in SHEETS:
                if candidate.by_headers and (header := _XlsxReader.find_header(grid, candidate)):
                    spec = candidate
                    break
        out.append((title, spec, grid, header))
    return out


def is_table_items_grid(grid: list[list[Any]]) -> bool:
    """A 项目 / 内容 grid whose first column names 基本信息 items (表名 …)."""
    synonyms = _synonym_map(TABLE_ITEMS)
    keys = {_norm(text_of(r[0])) for r in grid if r}
    return "表名" in {synonyms.get(k) for k in keys}


#: What classify_grids returns: (title, template sheet, grid, header) per grid.
_Classified = list[tuple[str, Sheet | str | None, list[list[Any]], _Header | None]]


def _require_template_sheet(file: str, sheets: list[GridSheet], classified: _Classified) -> None:
    """Raise when no grid of the file is a template sheet (by its title or its header)."""
    if all(spec is None for _, spec, _, _ in classified):
        titles = ", ".join(s.title for s in sheets)
        raise NotATargetTableError(
            file,
            None,
            tr(
                f"此文件的工作表或表格（{titles}）都不是绩效目标表模板的工作表；"
                f"{_XlsxReader.expected_zh()}，或含 一级指标、二级指标、三级指标（指标名称）、"
                "目标值（指标值）表头的工作表",
                f"no sheet or table of this file ({titles}) is a 绩效目标表 template sheet; "
                f"{_XlsxReader(Path(file)).expected()}",
            ),
        )


def _table_sheet(
    file: str, sheets: list[GridSheet], classified: _Classified
) -> tuple[GridSheet, list[list[Any]]]:
    """The one 基本信息 grid and its sheet; raises when there is none or more than one."""
    table_sheets = [
        (s, grid)
        for s, (_, spec, grid, _) in zip(sheets, classified, strict=True)
        if spec == TABLE_SHEET
    ]
    if not table_sheets:
        raise SourceError(
            file,
            None,
            _no_table_sheet(),
        )
    if len(table_sheets) > 1:
        raise SourceError(
            file,
            None,
            _many_table_sheets(len(table_sheets)),
        )
    return table_sheets[0]


def read_grids(file: str, sheets: list[GridSheet]) -> ParsedTable:
    """Read template-shaped grids (one 基本信息 grid and any of the record sheets)."""
    classified = classify_grids([(s.title, s.grid) for s in sheets])
    _require_template_sheet(file, sheets, classified)
    builder = _Builder()
    sheet, grid = _table_sheet(file, sheets, classified)
    builder.table_row = _XlsxReader.table_row(
        sheet.label or f"{file}#{sheet.title}", sheet.title, grid, builder, sheet.locate
    )
    currency = _norm(builder.table_row.text("金额单位")) or "万元"
    for sheet, (_, spec, grid, header) in zip(sheets, classified, strict=True):
        label = sheet.label or f"{file}#{sheet.title}"
        if spec == TABLE_SHEET:
            continue
        if spec is None:
            builder.note(
                label,
                sheet.locate[0][1] if sheet.locate else 1,
                f"工作表 {sheet.title!r} 不是模板中的表，已忽略；{_XlsxReader.expected_zh()}",
                sheet.title,
            )
            continue
        assert isinstance(spec, Sheet)
        if header is None:
            if not grid or not any(text_of(v).strip() for row in grid for v in row):
                continue  # an empty sheet of the template
            need = ", ".join(c.header for c in spec.columns if c.required)
            raise SourceError(
                label,
                None,
                _no_header(need, sheet.title),
            )
        _XlsxReader.read_sheet(label, spec, grid, header, builder, currency, sheet.locate)
    return builder.parsed()


# --------------------------------------------------------------------------- messages
# The workbook's errors, in the output language (kg.i18n.tr), kept out of the readers' steps.
def _twice(canon: str, first: int, again: int) -> str:
    return tr(
        f"项目 {canon} 出现两次（第 {first} 行和第 {again} 行）；只应出现一次",
        f"项目 {canon} appears twice (rows {first} and {again}); expected once",
    )


def _no_title_row(title: str) -> str:
    return tr(
        f"工作表 {title!r} 中没有 表名 行；应在 项目 / 内容 两列中填写 表名、部门、年度、金额单位 各行",
        f"no 表名 row in sheet {title!r}; expected rows 表名, "
        "部门, 年度, 金额单位 in columns 项目 / 内容",
    )


def _other_currency(canon: str, unit: str, currency: str) -> str:
    return tr(
        f"列 {canon} 的表头单位是 {unit}，而 基本信息 的 金额单位 是 {currency}；两者应一致",
        f"column {canon} is headed in {unit} but 基本信息 金额单位 is {currency}; "
        "expected the same unit",
    )


def _no_table_sheet() -> str:
    return tr(
        f"没有工作表 {TABLE_SHEET}；应有此表，在 项目 / 内容 两列中填写 表名、部门、年度、金额单位 各行",
        f"no sheet {TABLE_SHEET}; expected it with the rows 表名, "
        "部门, 年度, 金额单位 (项目 / 内容 columns)",
    )


def _many_table_sheets(n: int) -> str:
    return tr(
        f"有 {n} 个名称类似 {TABLE_SHEET} 的工作表；只应有一个",
        f"{n} sheets named like {TABLE_SHEET}; expected one",
    )


def _no_header(need: str, title: str) -> str:
    return tr(
        f"工作表 {title!r} 的前 {HEADER_SEARCH_ROWS} 行中没有含 {need} 的表头行",
        f"no header row with {need} in the first {HEADER_SEARCH_ROWS} rows of sheet {title!r}",
    )
