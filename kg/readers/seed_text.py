"""Reader for the PDF-text layout of a 部门整体支出绩效目标表 (the seed's layout).

The input is what a PDF-to-text tool gives for the published table: no tabs, no
page markers, one cell fragment per line, a blank line between lines and a run
of two or more blank lines where a page breaks. ``../shared/seeds/README.md``
describes the layout; the rules below are the ones that layout needs:

* vertical headers (年/度/主/要/任/务, 产出/指标, 满意/度指/标) come one or two
  characters per line and are recognised by what they spell;
* a task name is printed in pieces of at most two characters; its three amounts
  (总额, 其中：财政拨款, 其中：其他资金) end the first page-fragment of its row;
* an indicator name wraps at the width of its column (about 11 characters). A
  name line narrower than that ends the name; a full-width line means the name
  goes on, even after the target value or across a page break;
* a target value wraps at about 7 characters (``2024年12月20`` / ``日前``).

Nothing is dropped: a line that fits no rule raises :class:`SourceError` (for
structural problems) or becomes a :class:`WarningRecord` with its line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .. import categories
from ..errors import AmountError, NotATargetTableError, SourceError, UnknownCategoryError
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
from .vocabulary import GRADES, amount_of, split_title

NAME = "pdf-text"
SUFFIXES = (".txt",)

#: A name line at least this wide filled its column, so the name goes on.
NAME_COLUMN_WIDTH = 10.5
#: A target line at least this wide filled its column, so the value may go on.
TARGET_COLUMN_WIDTH = 6.5

_YEAR = re.compile(r"(?P<year>\d{4})\s*年度?\s*(?:单位|金额单位)\s*[:：]\s*(?P<unit>万元|元)")
_UNIT_ROW = re.compile(r"^(?P<unit>\S.*?)\s+主管部门\s+(?P<dept>\S.*)$")
_GOAL = re.compile(r"^目标\s*(?P<n>\d+)\s*[:：]\s*(?P<text>.*)$")
_AMOUNT_LIKE = re.compile(r"^[-\d.,，．]*\d[-\d.,，．]*[^\s\u4e00-\u9fff]{0,2}[-\d.,]*$")
_ITEM_START = re.compile(r"^\d+[.．、]")
_NA = "不适用"

# Target-value shapes, only as far as the layout needs them (kg.targets parses values).
_SIGN = r"[≥≧≤≦＞>＜<=＝]"
_NUM = r"\d[\d,]*(?:\.\d+)?"
_UNIT_WORD = r"[^\s\d≥≧≤≦＞>＜<=＝]{1,4}"
_T_NUMERIC = re.compile(rf"^{_SIGN}?\s*{_NUM}\s*(?:%|{_UNIT_WORD})?$")
_T_RANGE = re.compile(
    rf"^{_NUM}\s*(?:%|{_UNIT_WORD})?\s*{_SIGN}\s*[nNxX]?\s*{_SIGN}\s*{_NUM}\s*(?:%|{_UNIT_WORD})?$"
)
_T_DATE_FULL = re.compile(
    r"^\d{4}\s*年\s*\d{1,2}\s*月\s*(?:\d{1,2}\s*日|底|末)?\s*(?:前|之前|以前|内|以内)?$"
)
_T_DATE_CUT = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}$")
_T_EVERY = re.compile(r"^每(?:日|天|周|月|季度?|半年|年|学期)")
_T_DURATION = re.compile(
    rf"^{_NUM}\s*(?:个)?(?:工作日|自然日|日|天|小时|周|个月|月|年)\s*(?:内|以内)?$"
)
_T_DATE_TAIL = re.compile(r"^(?:日|号)?\s*(?:前|之前|以前)$")
#: Grades the layout trusts as a whole target cell. Single characters (高, 好 …)
#: are left out: they occur as the last piece of a wrapped name.
_GRADES = frozenset((*GRADES, _NA))


def _width(text: str) -> float:
    """Printed width in CJK character cells: ASCII counts half."""
    return sum(0.5 if ord(c) < 128 else 1.0 for c in text if not c.isspace())


def _full_labels(level: int) -> frozenset[str]:
    """Category labels as this layout prints them: in full, ending in 指标.

    Short variants (时效, 数量 …) are left out: they occur as pieces of wrapped names.
    """
    return frozenset(x for x in categories.labels(level) if x.endswith("指标"))


@dataclass
class _Line:
    no: int
    text: str
    page_break_before: bool


def _lines(raw: str) -> list[_Line]:
    out: list[_Line] = []
    blanks = 0
    for no, text in enumerate(raw.splitlines(), start=1):
        text = text.strip()
        if not text:
            blanks += 1
            continue
        out.append(_Line(no, text, blanks >= 2 and bool(out)))
        blanks = 0
    return out


def sniff(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return False
    # the title, and a vertical header (年 / 度 / …) one character per line
    return "绩效目标表" in head[:2000] and bool(re.search(r"^年\s*$\s*^度\s*$", head, flags=re.M))


def read(path: Path) -> ParsedTable:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NotATargetTableError(
            str(path),
            None,
            tr(
                f"不是 UTF-8 编码的文字（第 {exc.start} 字节：{exc.reason}）",
                f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            ),
        ) from exc
    return _Reader(str(path), raw).parse()


# ---------------------------------------------------------------------------


def target_shape(text: str) -> str | None:
    """How a cell reads as a target value.

    'complete': a value kg.targets recognises (≥90%, 2024年12月20日前, 显著 …);
    'cut': a date whose day suffix is on the next line (2024年12月20 / 日前);
    'free': words that read as a value only where a value is expected
    (每季度首月第一…, 及时反馈建议或…); None: not a value.
    """
    t = unicodedata.normalize("NFKC", text).strip()
    t_nospace = re.sub(r"\s+", "", t)
    if t_nospace in _GRADES or t_nospace == f"{_NA}{_NA}":
        return "complete"
    if _T_RANGE.match(t) or _T_DATE_FULL.match(t) or _T_DURATION.match(t) or _T_NUMERIC.match(t):
        return "complete"
    if _T_DATE_CUT.match(t):
        return "cut"
    if _T_EVERY.match(t):
        return "complete" if parse_target(t).form == "recurring" else "free"
    if t_nospace.startswith(("及时", "按时")) and _width(t) >= TARGET_COLUMN_WIDTH and " " not in t:
        return "free"
    return None


def _split_target(text: str, expect_target: bool = False) -> tuple[str | None, str | None]:
    """Split a line into (name part, target part); either may be None.

    ``expect_target``: a name is waiting for its value, so words that read as a
    value ('free') count as one.
    """
    shape = target_shape(text)
    if shape in ("complete", "cut"):
        return None, text
    for m in re.finditer(r"\s+", text):  # leftmost first: 'X 每月 20日前' keeps '每月 20日前' whole
        head, tail = text[: m.start()].strip(), text[m.end() :].strip()
        if head and target_shape(tail) in ("complete", "cut"):
            return head, tail
    if shape == "free" and expect_target:
        return None, text
    return text, None


@dataclass
class _Indicator:
    level1: str
    level2: str
    name: list[_Line] = field(default_factory=list)
    target: list[_Line] = field(default_factory=list)
    extra_lines: list[int] = field(default_factory=list)

    @property
    def name_open(self) -> bool:
        return bool(self.name) and _width(self.name[-1].text) >= NAME_COLUMN_WIDTH

    @property
    def target_may_go_on(self) -> bool:
        """A date cut before its day suffix, or words that filled the value column."""
        if not self.target:
            return False
        shape = target_shape("".join(x.text for x in self.target))
        if shape == "cut":
            return True
        return shape != "complete" and _width(self.target[-1].text) >= TARGET_COLUMN_WIDTH


class _Reader:
    def __init__(self, file: str, raw: str) -> None:
        self.file = file
        self.lines = _lines(raw)
        self.pos = 0
        self.warnings: list[WarningRecord] = []

    # -- helpers -------------------------------------------------------------
    def err(
        self, line: int | None, message: str, cls: type[SourceError] = SourceError
    ) -> SourceError:
        return cls(self.file, line, message)

    def src(self, first: int, last: int | None = None) -> Source:
        return Source(file=self.file, line=first, end_line=last if last and last != first else None)

    def warn(self, line: _Line, message: str) -> None:
        self.warnings.append(
            WarningRecord(message=message, text=line.text, source=self.src(line.no))
        )

    def find(self, predicate, start: int, what: str) -> int:  # type: ignore[no-untyped-def]
        for i in range(start, len(self.lines)):
            if predicate(self.lines[i].text):
                return i
        last = self.lines[-1].no if self.lines else None
        raise self.err(
            last,
            tr(
                f"表格在{what}之前结束；文件似乎被截断，或不是 PDF 文字版式",
                f"the table ends before {what}; the file looks truncated or is not in the PDF-text "
                "layout",
            ),
        )

    def skip_vertical(self, i: int, word: str) -> int:
        """Skip a vertical header printed a character or two per line."""
        spelled = ""
        j = i
        while j < len(self.lines) and len(spelled) < len(word):
            text = self.lines[j].text
            if len(text) > 2 or not word.startswith(spelled + text):
                return i
            spelled += text
            j += 1
        return j if spelled == word else i

    # -- sections ------------------------------------------------------------
    def parse(self) -> ParsedTable:
        if not self.lines:
            raise self.err(
                None,
                tr("文件为空；应为绩效目标表", "the file is empty; expected a 绩效目标表"),
                NotATargetTableError,
            )
        table = self.parse_header()
        units, i = self.parse_units()
        tasks, totals, i = self.parse_tasks(i, units)
        goals, i = self.parse_goals(i)
        indicators, not_applicable = self.parse_indicators(i)
        level1_seen = {x.level1 for x in indicators} | {x.level1 for x in not_applicable}
        table.category_scheme = categories.layout_of(sorted(level1_seen))  # type: ignore[assignment]
        return ParsedTable(
            table=table,
            units=units,
            tasks=tasks,
            totals=totals,
            goals=goals,
            indicators=indicators,
            not_applicable=not_applicable,
            warnings=self.warnings,
        )

    def parse_header(self) -> TableRecord:
        title_line = next((x for x in self.lines[:5] if "绩效目标表" in x.text), None)
        if title_line is None:
            first = self.lines[0]
            raise self.err(
                first.no,
                tr(
                    f"前几行中没有以“绩效目标表”结尾的标题（读到 {first.text[:40]!r}）；"
                    "这不是 PDF 文字版式的绩效目标表",
                    f"no title ending in 绩效目标表 in the first lines (found {first.text[:40]!r}); "
                    "this is not a performance target table in the PDF-text layout",
                ),
                NotATargetTableError,
            )
        split = split_title(title_line.text)
        if not split:
            raise self.err(
                title_line.no,
                tr(
                    f"无法从标题 {title_line.text!r} 读出部门",
                    f"cannot read department from title {title_line.text!r}",
                ),
            )
        year_line = next((x for x in self.lines[:8] if _YEAR.search(x.text)), None)
        if year_line is None:
            raise self.err(
                title_line.no + 1,
                tr(
                    "标题之后没有预算年度和金额单位行（应如 '2024 年度 单位：万元'）",
                    "no fiscal year and currency unit line after the title "
                    "(expected e.g. '2024 年度 单位：万元')",
                ),
            )
        ym = _YEAR.search(year_line.text)
        assert ym
        return TableRecord(
            title=title_line.text.replace(" ", ""),
            department=split[0],
            fiscal_year=int(ym["year"]),
            currency_unit=ym["unit"],
            table_type=split[1],
            source=self.src(title_line.no, year_line.no),
        )

    def parse_units(self) -> tuple[list[UnitRecord], int]:
        start = self.find(
            lambda t: t.startswith("部门名称"), 0, tr("部门名称栏", "the 部门名称 block")
        )
        units: list[UnitRecord] = []
        i = start + 1
        while i < len(self.lines) and (m := _UNIT_ROW.match(self.lines[i].text)):
            units.append(
                UnitRecord(
                    name=m["unit"].strip(),
                    supervising_department=m["dept"].strip(),
                    ordinal=len(units) + 1,
                    source=self.src(self.lines[i].no),
                )
            )
            i += 1
        if not units:
            raise self.err(
                self.lines[start].no,
                tr(
                    "部门名称之后没有单位行（应为 '<单位名称> 主管部门 <主管部门名称>'）",
                    "no unit row after 部门名称 (expected '<单位名称> 主管部门 <主管部门名称>')",
                ),
            )
        return units, i

    # -- tasks ---------------------------------------------------------------
    def parse_amounts(self, line: _Line) -> tuple[str, list[Decimal] | None]:
        """Split the amounts (总额 财政拨款 其他资金) off the end of a line.

        A line whose last tokens look like numbers but are not three clean
        amounts is an error, never content.
        """
        tokens = line.text.split()
        trailing = 0
        for tok in reversed(tokens):
            if not (_AMOUNT_LIKE.match(tok) and any(c in tok for c in ".,，．")):
                break
            trailing += 1
        if trailing == 0:
            return line.text, None
        tail = tokens[-trailing:]
        amounts = [amount_of(t) for t in tail]
        bad = [t for t, a in zip(tail, amounts, strict=True) if a is None or a.unit]
        if trailing != 3 or bad:
            if bad:
                what = tr(f"无法读取的金额 {bad[0]!r}", f"unparsable amount {bad[0]!r}")
            else:
                what = tr(f"{trailing} 个金额（应为 3 个）", f"{trailing} amount(s) instead of 3")
            raise self.err(
                line.no,
                tr(
                    f"{line.text!r} 中有{what}；应为三个金额（总额 其中：财政拨款 其中：其他资金），"
                    "如 '3,133.45 3,128.46 0.00'",
                    f"{what} in {line.text!r}; expected three amounts (总额 其中：财政拨款 "
                    "其中：其他资金) like '3,133.45 3,128.46 0.00'",
                ),
                AmountError,
            )
        return " ".join(tokens[:-3]), [a.value for a in amounts if a is not None]

    def parse_tasks(
        self, i: int, units: list[UnitRecord]
    ) -> tuple[list[TaskRecord], TotalsRecord, int]:
        start = self.find(
            lambda t: t.startswith("其中：其他资金") or t.startswith("其中:其他资金"),
            i,
            tr(
                "年度主要任务表头（… 其中：其他资金）", "the 年度主要任务 header (… 其中：其他资金)"
            ),
        )
        end = self.find(
            lambda t: t.startswith("金额合计"),
            start,
            tr("年度主要任务的金额合计行", "the 金额合计 row of 年度主要任务"),
        )
        tasks = self.task_records(self.task_rows(start, end))
        # A task printed once per unit (基本支出): the k-th row belongs to the k-th unit.
        by_name: dict[str, list[TaskRecord]] = {}
        for t in tasks:
            by_name.setdefault(t.name, []).append(t)
        for same in by_name.values():
            if len(same) == len(units) > 1:
                for task, unit in zip(same, units, strict=True):
                    task.unit = unit.name
        return tasks, self.totals_row(self.lines[end]), end + 1

    def task_rows(self, start: int, end: int) -> list[dict]:
        """The task rows between the header (line ``start``) and 金额合计 (line ``end``)."""
        # A row: name pieces, content lines, amounts. Its amounts end the row's first
        # page fragment; after a page break the same row goes on (content, and name
        # pieces until its content resumes).
        rows: list[dict] = []
        cur: dict | None = None
        for line in self.lines[start + 1 : end]:
            head, amounts = self.parse_amounts(line)
            piece, content = None, head
            m = re.match(r"^(\S{1,2})(?:\s+(.*))?$", head)
            if m and not any(c in m[1] for c in "。，；、,.：:") and not _ITEM_START.match(head):
                piece, content = m[1], (m[2] or "")
            if cur is not None and cur["amounts"] is not None and line.page_break_before:
                cur["after_break"] = True
            closed = (
                cur is not None
                and cur["amounts"] is not None
                and (not cur["after_break"] or cur["content_after_break"])
            )
            if piece is not None:
                if cur is None or closed:
                    cur = _new_task_row(rows, [])
                cur["name"].append(piece)
            elif content:
                if cur is None:
                    raise self.err(
                        line.no,
                        tr(
                            f"任务内容 {content!r} 之前没有任务名称",
                            f"task content {content!r} before any task name",
                        ),
                    )
                if cur["amounts"] is not None and not cur["after_break"]:
                    cur = _new_task_row(
                        rows, list(cur["name"])
                    )  # merged name cell: one row per unit
            assert cur is not None
            if content:
                cur["content"].append(content)
                cur["content_after_break"] = cur["after_break"]
            if amounts is not None:
                if cur["amounts"] is not None:
                    raise self.err(
                        line.no,
                        tr(
                            f"任务 {''.join(cur['name'])!r} 有第二组金额",
                            f"a second set of amounts for task {''.join(cur['name'])!r}",
                        ),
                    )
                cur["amounts"] = amounts
            cur["lines"].append(line.no)
        return rows

    def task_records(self, rows: list[dict]) -> list[TaskRecord]:
        """The task rows as records, in order; a row without amounts is an error."""
        tasks: list[TaskRecord] = []
        for n, row in enumerate(rows, start=1):
            name = "".join(row["name"])
            if row["amounts"] is None:
                raise self.err(
                    row["lines"][0],
                    tr(
                        f"任务 {name!r} 没有金额（总额 财政拨款 其他资金）",
                        f"task {name!r} has no amounts (总额 财政拨款 其他资金)",
                    ),
                )
            content = ""
            for text in row["content"]:
                content += ("\n" if content and _ITEM_START.match(text) else "") + text
            total, fiscal, other = row["amounts"]
            tasks.append(
                TaskRecord(
                    name=name,
                    content=content,
                    total=total,
                    fiscal=fiscal,
                    other=other,
                    ordinal=n,
                    source=self.src(min(row["lines"]), max(row["lines"])),
                )
            )
        return tasks

    def totals_row(self, totals_line: _Line) -> TotalsRecord:
        """The 金额合计 row's three amounts."""
        label, amounts = self.parse_amounts(totals_line)
        if amounts is None:
            raise self.err(
                totals_line.no,
                tr(
                    f"金额合计行没有三个金额：{totals_line.text!r}",
                    f"金额合计 row without three amounts: {totals_line.text!r}",
                ),
                AmountError,
            )
        return TotalsRecord(
            label=label,
            total=amounts[0],
            fiscal=amounts[1],
            other=amounts[2],
            source=self.src(totals_line.no),
        )

    # -- goals ---------------------------------------------------------------
    def parse_goals(self, i: int) -> tuple[list[GoalRecord], int]:
        i = self.skip_vertical(i, "年度总体目标")
        end = self.find(
            lambda t: t == "一级" or t.startswith("一级指标"),
            i,
            tr("年度绩效指标表头（一级指标）", "the 年度绩效指标 header (一级指标)"),
        )
        goals: list[GoalRecord] = []
        buf: list[_Line] = []
        number = 0

        def flush() -> None:
            if not buf:
                return
            text = "".join(x.text for x in buf)
            goals.append(
                GoalRecord(number=number, text=text, source=self.src(buf[0].no, buf[-1].no))
            )

        for line in self.lines[i:end]:
            m = _GOAL.match(line.text)
            if m:
                flush()
                number = int(m["n"])
                buf = [_Line(line.no, m["text"], False)]
            else:
                buf.append(line)
        flush()
        if not goals or goals[0].number != 0:
            raise self.err(
                self.lines[i].no if i < len(self.lines) else None,
                tr("目标 1 之前没有年度总体目标段落", "no 年度总体目标 paragraph before 目标 1"),
            )
        numbers = [g.number for g in goals[1:]]
        if numbers != list(range(1, len(numbers) + 1)):
            raise self.err(
                goals[1].source.line if len(goals) > 1 else None,
                tr(
                    f"目标编号为 {numbers}；应按 1..n 顺序编号",
                    f"goals numbered {numbers}; expected 1..n in order",
                ),
            )
        return goals, end

    # -- indicators ----------------------------------------------------------
    def level1_at(self, i: int) -> tuple[str, int] | None:
        """The longest level-1 label spelled from line i on (vertical pieces or one line)."""
        known = _full_labels(1)
        level2 = _full_labels(2)
        spelled, j, best = "", i, None
        while j < len(self.lines) and len(self.lines[j].text) <= 5:
            spelled += self.lines[j].text
            j += 1
            if spelled in known:
                best = (spelled, j)
            if not any(k.startswith(spelled) and k != spelled for k in known):
                break
        if best is None:
            return None
        label, end = best
        # a one-line label that is also a level-2 one (成本指标) is level 1 only when a level-2 follows
        next_is_level2 = end < len(self.lines) and self.lines[end].text.split(" ")[0] in level2
        if end - i == 1 and label in level2 and not next_is_level2:
            return None
        return best

    def parse_indicators(
        self, i: int
    ) -> tuple[list[IndicatorRecord], list[CategoryNotApplicableRecord]]:
        header = self.find(
            lambda t: t.startswith("二级指标") and "目标值" in t,
            i,
            tr(
                "指标表头（二级指标 三级指标 目标值）",
                "the indicator header (二级指标 三级指标 目标值)",
            ),
        )
        i = self.skip_vertical(header + 1, "年度绩效指标")
        rows = _IndicatorRows(self, _full_labels(2))
        while i < len(self.lines):
            i = rows.step(i)
        rows.finish()
        if rows.cur is not None:
            raise self.err(
                rows.cur.name[-1].no,
                tr("表格在一条指标中间结束", "the table ends inside an indicator"),
            )
        self.check_complete(rows.done, rows.not_applicable)
        return self.to_records(rows.done), rows.not_applicable

    @staticmethod
    def unit_tail(ind: _Indicator, text: str) -> bool:
        """'100人≤n≤129' / '人': a unit word printed under a value that ends in a digit."""
        joined = "".join(x.text for x in ind.target)
        return (
            bool(re.search(r"\d$", joined))
            and bool(re.fullmatch(r"[^\s\d]{1,2}", text))
            and bool(re.search(re.escape(text) + r"\s*[≤≦<＜]", joined))
        )

    def mark_not_applicable(
        self,
        out: list[CategoryNotApplicableRecord],
        level1: str,
        level2: str,
        lines: list[_Line],
        text: str,
    ) -> None:
        if not re.fullmatch(rf"{_NA}(\s*{_NA})?", text):
            raise self.err(
                lines[0].no,
                tr(
                    f"类别 {level2!r} 之后出现意外的文字 {text!r}（应为 不适用 或一条指标）",
                    f"unexpected text {text!r} after category {level2!r} "
                    "(expected 不适用 or an indicator)",
                ),
            )
        out.append(
            CategoryNotApplicableRecord(
                level1=level1, level2=level2, text=text, source=self.src(lines[0].no, lines[-1].no)
            )
        )

    def check_complete(self, done: list[_Indicator], na: list[CategoryNotApplicableRecord]) -> None:
        seen = {d.level1 for d in done} | {x.level1 for x in na}
        scheme = categories.layout_of(sorted(seen))
        expected = {"产出指标", "效益指标", "满意度指标"}
        have = {c.pref_label for label in seen if (c := categories.resolve(label, 1, scheme))}
        missing = sorted(expected - have)
        if missing:
            last = self.lines[-1]
            raise self.err(
                last.no,
                tr(
                    f"表格结束时没有{'、'.join(missing)}部分；文件似乎被截断"
                    "（绩效目标表应有产出、效益和满意度指标）",
                    f"the table ends without the {'、'.join(missing)} section(s); "
                    "the file looks truncated (a 绩效目标表 has 产出、效益 and 满意度 indicators)",
                ),
            )

    def to_records(self, done: list[_Indicator]) -> list[IndicatorRecord]:
        out: list[IndicatorRecord] = []
        for n, ind in enumerate(done, start=1):
            name = "".join(x.text for x in ind.name)
            raw = re.sub(r"\s+", "", "".join(x.text for x in ind.target))
            nos = [x.no for x in ind.name + ind.target]
            out.append(
                IndicatorRecord(
                    level1=ind.level1,
                    level2=ind.level2,
                    name=name,
                    target=raw,
                    target_parsed=parse_target(raw),
                    ordinal=n,
                    source=self.src(min(nos), max(nos)),
                )
            )
        return out


@dataclass
class _IndicatorRows:
    """Reading the indicator rows: the current categories, the open row, the rows read."""

    r: _Reader
    level2_labels: frozenset[str]
    level1: str | None = None
    level2: str | None = None
    cur: _Indicator | None = None
    done: list[_Indicator] = field(default_factory=list)
    not_applicable: list[CategoryNotApplicableRecord] = field(default_factory=list)

    @property
    def lines(self) -> list[_Line]:
        return self.r.lines

    def finish(self) -> None:
        """Close the open row; a row without a target value is an error."""
        cur = self.cur
        if cur is None:
            return
        if not cur.target:
            last = cur.name[-1]
            raise self.r.err(
                last.no,
                tr(
                    f"指标 {''.join(x.text for x in cur.name)!r} 没有目标值；表格似乎被截断，"
                    "或有一行位置错乱",
                    f"indicator {''.join(x.text for x in cur.name)!r} has no target value "
                    "(目标值); the table looks truncated or a line is out of place",
                ),
            )
        self.done.append(cur)
        self.cur = None

    def next_is_target(self, k: int) -> bool:
        """The line after line k holds a target value."""
        lines = self.lines
        return k + 1 < len(lines) and _split_target(lines[k + 1].text, True)[1] is not None

    def step(self, i: int) -> int:
        """Read line i; the index of the next line to read."""
        at = self.category(i)
        if at is not None:
            return at
        line = self.lines[i]
        text = line.text
        if self.level1 is None or self.level2 is None:
            raise self.r.err(
                line.no,
                tr(
                    f"指标行 {text!r} 出现在其一级/二级指标类别之前",
                    f"indicator line {text!r} before its level-1/level-2 category",
                ),
            )
        if self.cur is None and re.fullmatch(rf"{_NA}\s*{_NA}?", text):
            if any(d.level2 == self.level2 and d.level1 == self.level1 for d in self.done):
                raise self.r.err(
                    line.no,
                    tr(
                        f"{text!r} 位于已有指标的 {self.level2} 之下",
                        f"{text!r} under {self.level2}, which already has indicators",
                    ),
                )
            self.r.mark_not_applicable(self.not_applicable, self.level1, self.level2, [line], text)
            return i + 1
        row_starts = self.cur is None or bool(self.cur.target)
        if row_starts and re.fullmatch(r"\S{1,8}指标", text) and not self.next_is_target(i):
            raise self.r.err(
                line.no,
                tr(
                    f"未知的指标类别 {text!r}；应为 {'、'.join(sorted(self.level2_labels))} 之一",
                    f"unknown category {text!r}; expected one of "
                    f"{', '.join(sorted(self.level2_labels))}",
                ),
                UnknownCategoryError,
            )
        if not self.continues(i):
            self.row_line(line, self.level1, self.level2)
        return i + 1

    def category(self, i: int) -> int | None:
        """A category label at line i: the index after it; None when line i is not one."""
        line = self.lines[i]
        # Level-1 category (vertical label); a 成本指标 line is level 1 only when a level-2 follows.
        l1 = self.r.level1_at(i)
        if l1 is not None:
            self.finish()
            self.level1 = l1[0]
            self.level2 = None
            return l1[1]
        # Level-2 category, possibly with 不适用 不适用 on the same line.
        first, _, rest = line.text.partition(" ")
        if first not in self.level2_labels:
            return None
        self.finish()
        if self.level1 is None:
            raise self.r.err(
                line.no,
                tr(
                    f"二级指标类别 {first!r} 出现在任何一级指标类别之前",
                    f"level-2 category {first!r} before any level-1 category",
                ),
            )
        self.level2 = first
        rest = rest.strip()
        if rest:
            self.r.mark_not_applicable(self.not_applicable, self.level1, self.level2, [line], rest)
        return i + 1

    def continues(self, i: int) -> bool:
        """Line i goes on the open row's value or name (wrapped over lines or a page
        break): added to it, True."""
        cur = self.cur
        line = self.lines[i]
        text = line.text
        if cur is None or not cur.target:
            return False
        # A value that goes on over the next line (2024年12月20 / 日前).
        if cur.target_may_go_on and (
            _T_DATE_TAIL.match(text)
            or (not line.page_break_before and _split_target(text)[1] is None)
        ):
            cur.target.append(line)
            return True
        if not line.page_break_before and self.r.unit_tail(cur, text):
            cur.target.append(line)
            return True
        # After a page break, the rest of a name whose last line filled its column.
        if (
            line.page_break_before
            and cur.name_open
            and _split_target(text)[1] is None
            and _width(text) < NAME_COLUMN_WIDTH
            and not self.next_is_target(i)
        ):
            cur.name.append(line)
            return True
        return False

    def row_line(self, line: _Line, level1: str, level2: str) -> None:
        """A line of name and/or target value: it starts a row or goes on the open one."""
        text = line.text
        name_part, target_part = _split_target(
            text, expect_target=self.cur is not None and not self.cur.target
        )
        if self.cur is not None and self.cur.target:
            self.finish()
        if name_part is not None:
            if self.cur is None:
                self.cur = _Indicator(level1, level2)
            elif (
                not self.cur.name_open
                and target_part is None
                and _width(text) <= TARGET_COLUMN_WIDTH + 1.5
            ):
                # the name ended on a short line: this is a value no rule knows (free text)
                self.cur.target.append(line)
                self.r.warn(line, "目标值无法识别为数值、日期或等级，已按原文保留")
                return
            self.cur.name.append(_Line(line.no, name_part, line.page_break_before))
        if target_part is not None:
            if self.cur is None or not self.cur.name:
                raise self.r.err(
                    line.no,
                    tr(
                        f"目标值 {target_part!r} 之前没有指标名称",
                        f"target value {target_part!r} with no indicator name before it",
                    ),
                )
            self.cur.target.append(_Line(line.no, target_part, False))


def _new_task_row(rows: list[dict], name: list[str]) -> dict:
    """Start a task row with these name pieces, appended to ``rows``."""
    row = {
        "name": name,
        "content": [],
        "amounts": None,
        "lines": [],
        "after_break": False,
        "content_after_break": False,
    }
    rows.append(row)
    return row
