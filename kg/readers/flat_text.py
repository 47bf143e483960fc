"""Reader for a target table's text in reading order (cells flattened onto lines).

Government sites publish 绩效目标表 / 申报表 / 批复表 / 自评表 as HTML or office
attachments; what a crawler or a copy-paste keeps is the reading order of the
cells. ``docs/readers.md`` lists the layouts known to work. The reader finds the
indicator header (一级指标 二级指标 三级指标 指标值 …) and reads what follows it
as a stream of cells, whatever separates them:

* ``PIPE``: cells separated by ``|`` (rows mostly one per line);
* ``TAB``: cells separated by tabs, one row per line (a copy from a spreadsheet);
* ``SPACE``: cells separated by spaces, one row per line or all on one line;
* ``LINE``: one cell per line (blank lines between);
* ``CONCAT``: no separator at all, one row per line (labels are recognised as
  prefixes and the values as suffixes of the line).

Rules:

* the header's column set decides what a row holds after its name: a sign
  column (指标性质 / 指标值类型), the target (指标值, 目标值, 年度指标值,
  当年预期实现值 …), a unit column (计量单位 / 度量单位), self-evaluation columns
  (实际完成值, 分值, 得分, 偏差原因 …) and columns no record has a field for
  (指标解释, 备注 …, reported once as a warning);
* empty cells leave no trace in flattened text, so cells are placed by what they
  look like: a sign only in the sign column, a bare number only in 分值 / 得分,
  a unit only after a bare number; a text after a complete row is a deviation
  reason only when the next cell cannot be that row's value (a category label,
  the end of the table);
* category labels are matched after NFKC, removal of white space and
  traditional → simplified conversion; a label printed in two cells (社会效益 /
  指标) is joined; a score annotation (产出指标(50分)) is removed with a warning;
  成本指标 is level 1 when a cost category (经济成本指标 …) follows it, else level
  2 (under 产出指标); a level-1 label printed again in the level-2 column is a
  level-2 label; a level-2 label whose level 1 is not printed (or printed for
  another group) gets the level 1 of its concept, with a warning;
* labels are carried down over merged cells; an emitted record's labels must
  resolve in the table's scheme (:func:`kg.categories.resolve`), else
  :class:`UnknownCategoryError` names the line of the label;
* ★ marks a core indicator (``core``) and is removed from the name; a prefix
  ``指标1:`` / ``指标1.`` becomes ``code``; a traditional-character name keeps
  its text and gets ``name_simplified``;
* the target is composed from sign + value + unit (``≥`` ``5`` ``次`` → ``≥5次``;
  定性 → the value alone; ``═`` reads ``=``);
* a row without a target, a row whose name is a placeholder (``0``), the last
  row when the text stops inside it, and text after the table are
  :class:`WarningRecord` with their line: never dropped silently.

The header facts are read from the text before the indicator header: title,
department (预算单位, 部门, 单位名称, 主管部门 …), fiscal year, 项目名称, the
currency unit (元 / 万元, as printed) and the stated amounts (a
:class:`TotalsRecord`, amounts as printed in that unit).
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from .. import categories
from ..errors import NotATargetTableError, SourceError, UnknownCategoryError
from ..records import (
    IndicatorRecord,
    ParsedTable,
    Source,
    TableRecord,
    TaskRecord,
    TotalsRecord,
    WarningRecord,
)
from ..targets import GRADE_WORDS, parse_target
from . import _hanzi

NAME = "flat-text"
SUFFIXES = (".txt",)

PIPE, TAB, SPACE, LINE, CONCAT = "pipe", "tab", "space", "line", "concat"
#: Layouts that print one row a line (a cell starting a line starts a row).
_ROW_A_LINE = (TAB, SPACE)
_PIPES = "|｜"

#: Roles of the columns after the indicator name, in the order a row holds them.
COLUMN_ORDER = ("sign", "target", "unit", "actual", "weight", "score", "deviation", "other")
#: Characters read as spanning one header (the corpus files: about 2,000).
SNIFF_CHARS = 30000

_CJK = "\u4e00-\u9fff"

# --------------------------------------------------------------------------- header words

#: (pattern, role) of the words a header row prints, compared as _hanzi.key text.
#: Longer words first where one is a prefix of another.
_HEADER_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), role)
    for p, role in (
        (r"一级指标", "level1"),
        (r"二级指标", "level2"),
        (r"三级指标", "name"),
        (r"指标名称", "name"),
        (r"指标内容", "name"),
        (r"评价指标", "level1"),
        (r"评价内容", "level2"),
        (r"指标性质", "sign"),
        (r"指标值类型", "sign"),
        (r"计量单位|度量单位", "unit"),
        (r"当年预期实现值|预期\d{4}年度?实现值", "target"),
        (r"(?:年度|当年|全年)?(?:指标值|目标值)(?:\([^()]{1,20}\))?", "target"),
        (r"(?:全年)?实际完成值|完成值|实际值", "actual"),
        (r"分值|权重", "weight"),
        (r"得分", "score"),
        (r"(?:偏差|未完成)原因(?:分析)?(?:及|和)?(?:改进措施)?", "deviation"),
        (r"指标解释|指标标准或依据|指标说明|指标值说明|评分标准|备注", "other"),
        (r"\d{4}年度?实际(?:实现|完成)值", "other"),
        (r"项目年度绩效目标衡量指标|年度绩效目标(?:\(\d+分\))?|年度绩效指标|绩效指标", "side"),
    )
)
#: Cells in the indicator area that are a side header, not data (绩效指标 down the left).
_SIDE_CELLS = frozenset({"绩效指标", "年度绩效指标", "绩效指标内容"})

# --------------------------------------------------------------------------- cell shapes

_SIGNS = {
    "≥": "≥",
    "≧": "≧",
    "≤": "≤",
    "≦": "≦",
    ">": ">",
    "<": "<",
    "=": "=",
    "═": "=",
    "==": "=",
    ">=": ">=",
    "<=": "<=",
}
_QUALITATIVE_SIGNS = frozenset({"定性", "定量"})
_NUMBER = re.compile(r"(?P<n>\d+(?:\.\d+)?)分?")
_BARE_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_UNIT = re.compile(r"%|‰|[^\d\s≥≧≤≦<>=═.,]{1,4}")
_CODE = re.compile(r"^(?P<code>指标\s*\d+)\s*[.:：、．]\s*(?P<rest>.+)$")
_CORE_MARKS = "★☆"
_SCORED_LABEL = re.compile(
    rf"(?P<label>[{_CJK}]{{2,14}}指标等?)\((?P<score>[\d.\-~–—]+)\s*分?\)分?"
)
_LABEL_SHAPE = re.compile(rf"[{_CJK}]{{2,14}}指标等?")
_PLACEHOLDER_NAMES = frozenset({"0", "无", "—", "——", "-", "/", "\\"})
_FOOTER = re.compile(
    r"^(?:(?:注|备注|说明)[:：]|总分|其他需要说明|qrcode$|扫一扫|手机扫码|附件[:：]?$|\[下载\]"
    r"|填报人|填表人|审核人|单位负责人|财务负责人)"
    r"|盖章"
)

# concatenated rows: a value at the end of the line
_TAIL_NUMERIC = re.compile(
    rf"(?:[≥≧≤≦<>=＝]|不低于|不少于|不高于|不超过)?\d[\d,]*(?:\.\d+)?"
    rf"(?:%|‰|[{_CJK}]{{1,3}})?(?:及以上|以上|以下|以内)?$"
)
_TAIL_DIGITS = re.compile(r"\d+$")
_EXPLANATION_TAIL = re.compile(rf"(?:达到|不低于|不少于|不超过|高于|低于)[{_CJK}]{{0,5}}$")
_GRADE_SUFFIXES = tuple(sorted((w for w in GRADE_WORDS if len(w) >= 2), key=len, reverse=True))


@cache
def _level_labels(level: int) -> frozenset[str]:
    return categories.labels(level)


def _resolve_any(label: str, level: int) -> categories.Category | None:
    """The concept of a label at this level in either scheme (legacy first)."""
    return categories.resolve(label, level, "legacy") or categories.resolve(label, level, "2021")


@cache
def _pref_label(concept: str) -> str:
    for label in _level_labels(1):
        cat = _resolve_any(label, 1)
        if cat is not None and str(cat.concept) == concept:
            return cat.pref_label
    raise KeyError(concept)  # pragma: no cover - every level-2 concept has a level-1 broader


def _is_cost_level2(label: str) -> bool:
    cat = categories.resolve(label, 2, "2021")
    cost = categories.resolve("成本指标", 1, "2021")
    return cat is not None and cost is not None and cat.broader == cost.concept


def _label_parts(key: str) -> tuple[str, str | None] | None:
    """(label, score annotation) when a cell's key is shaped like a category label."""
    m = _SCORED_LABEL.fullmatch(key)
    if m:
        return m["label"], m["score"]
    if _LABEL_SHAPE.fullmatch(key):
        return key, None
    return None


def _is_known_label(label: str) -> bool:
    return label in _level_labels(1) or label in _level_labels(2)


def _is_value(key: str) -> bool:
    """A cell that reads as a value (target, actual, weight), not as a name."""
    if not key:
        return False
    if key[0] in "≥≧≤≦<>=═＝" or key[0].isdigit() or key in _QUALITATIVE_SIGNS:
        return True
    return parse_target(key).recognized


def _clean(text: str) -> str:
    """A cell's text: white space removed next to non-ASCII characters, else one space."""
    text = text.strip()
    out: list[str] = []
    for m in re.finditer(r"\s+|\S+", text):
        piece = m.group()
        if not piece.isspace():
            out.append(piece)
            continue
        before = out[-1][-1] if out else ""
        after = text[m.end() : m.end() + 1]
        if before.isascii() and after.isascii():
            out.append(" ")
    return "".join(out)


# --------------------------------------------------------------------------- text positions


class _Text:
    """The raw text with line lookup."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", raw)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _folded(raw: str, start: int, end: int, keep_space: bool) -> tuple[str, list[int]]:
    """raw[start:end] as keys (NFKC, simplified), separators dropped or made one space.

    Returns the folded string and, for each of its characters, the raw offset it
    came from.
    """
    chars: list[str] = []
    offs: list[int] = []
    pending_space = False
    for i in range(start, end):
        ch = raw[i]
        if ch in _PIPES or ch.isspace():
            pending_space = keep_space and bool(chars)
            continue
        if pending_space:
            chars.append(" ")
            offs.append(i)
            pending_space = False
        for c in unicodedata.normalize("NFKC", ch):
            if c.isspace():
                continue
            chars.append(c)
            offs.append(i)
    text = "".join(chars)
    simplified = _hanzi.to_simplified(text)
    if len(simplified) != len(text):  # pragma: no cover - t2s keeps lengths in practice
        simplified = "".join(_hanzi.to_simplified(c) for c in text)
    return simplified, offs


# --------------------------------------------------------------------------- header


@dataclass
class _HeaderWord:
    role: str
    word: str
    start: int  # raw offset of the first character
    end: int  # raw offset after the last character


@dataclass
class _Header:
    words: list[_HeaderWord]
    mode: str
    columns: tuple[str, ...]
    explanation_before_target: bool

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end

    @property
    def roles(self) -> set[str]:
        return {w.role for w in self.words}

    @property
    def self_evaluation(self) -> bool:
        return "actual" in self.roles

    def others(self) -> list[str]:
        return [w.word for w in self.words if w.role == "other"]


def _match_word(keys: str, pos: int) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for pattern, role in _HEADER_WORDS:
        m = pattern.match(keys, pos)
        if m and (best is None or m.end() > best[1]):
            best = (role, m.end())
    return best


def _is_header_word(key: str) -> bool:
    hit = _match_word(key, 0)
    return hit is not None and hit[1] == len(key)


def _find_header(raw: str, start: int = 0) -> _Header | None:
    """The first run of header words holding a name (or level-2) column and a target column."""
    keys, offs = _folded(raw, start, len(raw), keep_space=False)
    firsts = set("一二三指评计度当预年全实完分权得偏未备项绩0123456789")
    for p in range(len(keys)):
        if keys[p] not in firsts:
            continue
        run: list[_HeaderWord] = []
        q = p
        while q < len(keys):
            hit = _match_word(keys, q)
            if hit is None:
                break
            role, end = hit
            run.append(_HeaderWord(role, keys[q:end], offs[q], offs[end - 1] + 1))
            q = end
        roles = [w.role for w in run]
        if (
            "target" in roles
            and ("name" in roles or "level2" in roles)
            and sum(r != "side" for r in roles) >= 3
        ):
            return _make_header(raw, run)
    return None


def _make_header(raw: str, words: list[_HeaderWord]) -> _Header:
    span = raw[words[0].start : words[-1].end]
    gaps = [raw[a.end : b.start] for a, b in itertools.pairwise(words)]
    if any(p in span for p in _PIPES):
        mode = PIPE
    elif any("\t" in g for g in gaps):
        mode = TAB
    elif any(re.search(r"[^\S\n]", g) for g in gaps):
        mode = SPACE
    elif any("\n" in g for g in gaps):
        mode = LINE
    else:
        mode = CONCAT
    roles = [w.role for w in words]
    columns = tuple(r for r in COLUMN_ORDER if r in roles)
    name_at = next((i for i, r in enumerate(roles) if r == "name"), None)
    target_at = roles.index("target")
    explanation = name_at is not None and "other" in roles[name_at:target_at]
    return _Header(words, mode, columns, explanation)


# --------------------------------------------------------------------------- cells


@dataclass
class _Cell:
    text: str  # as printed, white space cleaned
    key: str  # NFKC, simplified, no white space
    line: int
    end_line: int | None = None
    line_start: bool = False
    role: str | None = None  # forced role (concatenated rows)
    score: str | None = None  # a label's score annotation

    @property
    def lines(self) -> tuple[int, int]:
        return self.line, self.end_line or self.line


def _cell(text: str, line: int, keep_spaces: bool = False, **kw: object) -> _Cell:
    t = " ".join(text.split()) if keep_spaces else _clean(text)
    return _Cell(t, _hanzi.key(t), line, **kw)  # type: ignore[arg-type]


@dataclass
class _Level:
    label: str
    line: int
    printed: bool = True


@dataclass
class _Row:
    level1: _Level | None
    level2: _Level | None
    name: _Cell
    code: str | None
    core: bool
    name_text: str
    values: dict[str, _Cell] = field(default_factory=dict)
    pointer: int = 0

    def cells(self) -> list[_Cell]:
        return [self.name, *self.values.values()]

    def text(self) -> str:
        return " | ".join(c.text for c in self.cells())

    def lines(self) -> tuple[int, int]:
        nos = [n for c in self.cells() for n in c.lines]
        return min(nos), max(nos)

    def filled(self) -> set[str]:
        return {r for r in self.values if r not in ("deviation", "other")}


# --------------------------------------------------------------------------- sniff / read


def _is_seed_layout(head: str) -> bool:
    """The PDF-text layout of kg.readers.seed_text (the test its sniff applies)."""
    return "绩效目标表" in head[:2000] and bool(re.search(r"^年\s*$\s*^度\s*$", head, flags=re.M))


def sniff(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:SNIFF_CHARS]
    except OSError:
        return False
    if _is_seed_layout(head):
        return False
    if _find_header(head) is not None:
        return True
    try:  # a table cut before its indicator header (header facts and tasks only)
        reader = _Reader(str(path), head)
        return reader.cut_before_indicators(reader.body_start()) is not None
    except (SourceError, ValueError):
        return False


def read(path: Path) -> ParsedTable:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NotATargetTableError(
            str(path), None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    return _Reader(str(path), raw).parse()


def read_text(text: str, file: str = "<text>") -> ParsedTable:
    """Read a table from a string; ``file`` is what the records' sources name."""
    return _Reader(file, text).parse()


# --------------------------------------------------------------------------- reader


_EXPECTED = (
    "expected an indicator header such as '一级指标 | 二级指标 | 三级指标 | 指标值' "
    "(the target column may be 指标值, 目标值, 年度指标值 or 当年预期实现值; "
    "cells separated by |, spaces, line breaks or nothing)"
)


class _Reader:
    def __init__(self, file: str, raw: str) -> None:
        self.file = file
        self.text = _Text(raw)
        self.raw = raw
        self.warnings: list[WarningRecord] = []

    # -- helpers -------------------------------------------------------------
    def src(self, first: int, last: int | None = None) -> Source:
        return Source(file=self.file, line=first, end_line=last if last and last != first else None)

    def warn(self, message: str, text: str | None, first: int, last: int | None = None) -> None:
        self.warnings.append(
            WarningRecord(message=message, text=text, source=self.src(first, last))
        )

    def body_start(self) -> int:
        """Offset after the leading '# …' comment lines (a corpus file's provenance)."""
        pos = 0
        for m in re.finditer(r"[^\n]*(?:\n|$)", self.raw):
            if m.group().startswith("#"):
                pos = m.end()
                continue
            break
        return pos

    # -- the table -------------------------------------------------------------
    def parse(self) -> ParsedTable:
        if not self.raw.strip():
            raise NotATargetTableError(self.file, None, "the file is empty; expected a 绩效目标表")
        if _is_seed_layout(self.raw[:SNIFF_CHARS]):
            raise NotATargetTableError(
                self.file,
                None,
                "this is the PDF-text layout (vertical headers one character a line); "
                "read it with the pdf-text reader",
            )
        body = self.body_start()
        header = _find_header(self.raw, body)
        if header is None:
            cut = self.cut_before_indicators(body)
            if cut is not None:
                return cut
            raise NotATargetTableError(
                self.file, None, f"no indicator header in the text; {_EXPECTED}"
            )
        header_line = self.text.line_of(header.start)
        header_end_line = self.text.line_of(header.end - 1)
        others = header.others()
        if others:
            self.warn(
                f"列 {'、'.join(others)} 没有对应的记录字段，其内容未保存",
                " ".join(w.word for w in header.words),
                header_line,
                header_end_line,
            )
        facts = _Facts(self, body, header.start)
        cells = self.cells(header)
        parser = _Parser(self, header, cells)
        indicators = parser.run()
        level1_seen = sorted(parser.level1_printed | {i.level1 for i in indicators})
        scheme = categories.layout_of(level1_seen)
        self.check_categories(indicators, parser, scheme)
        table = facts.table(header, scheme)
        return ParsedTable(
            table=table,
            totals=facts.totals(),
            indicators=indicators,
            warnings=sorted(self.warnings, key=lambda w: (w.source.line, w.source.end_line or 0)),
        )

    def cut_before_indicators(self, body: int) -> ParsedTable | None:
        """A 绩效目标表 whose text stops before its indicator header (an excerpt).

        Read when a title (…绩效目标…表) is printed and the text holds the table's
        amounts or its 年度主要任务: the header facts, totals and the tasks that are
        printed, plus a warning at the last line that the indicator rows are missing
        (and one for the last task when the text stops inside it). None: not such a
        table (the caller reports the missing header as an error).
        """
        facts = _Facts(self, body, len(self.raw))
        found = facts.title()
        if found is None or "绩效目标" not in found[0]:
            return None
        tasks = self.tasks_before(body)
        totals = facts.totals() or self.overall_funds(body)
        if not tasks and totals is None:
            return None
        stand_in = _Header([], "", (), False)  # no header: no self-evaluation columns
        table = facts.table(stand_in, "legacy")
        last = self.text.line_of(len(self.raw.rstrip()) - 1)
        self.warn(
            "文字在绩效指标部分之前中断：没有指标表头（一级指标 二级指标 三级指标 指标值），"
            "本表的绩效指标未能读取 (the text stops before the indicator rows)",
            self.raw.rstrip().splitlines()[-1][-40:],
            last,
        )
        return ParsedTable(
            table=table,
            tasks=tasks,
            totals=totals,
            warnings=sorted(self.warnings, key=lambda w: (w.source.line, w.source.end_line or 0)),
        )

    def overall_funds(self, body: int) -> TotalsRecord | None:
        """总体资金情况 printed as a header block then a value block: 总额 is the first value.

        (The other columns, 基本支出 / 项目支出 with 合计 / 财政拨款 / 专户资金 / 单位资金,
        leave empty cells that flattened text does not show, so only 总额 is read.)
        """
        m = re.search(r"总体资金情况[^\n]*\n(?:\s*\D+\n)*?\s*总额\s*\n", self.raw[body:])
        if m is None:
            return None
        pos = body + m.end()
        n = re.search(r"^\s*(-?\d[\d,]*(?:\.\d+)?)\s*$", self.raw[pos:], flags=re.M)
        if n is None:
            return None
        return TotalsRecord(
            label="总额",
            total=Decimal(n[1].replace(",", "")),
            fiscal=None,
            other=None,
            source=self.src(self.text.line_of(pos + n.start(1))),
        )

    def tasks_before(self, body: int) -> list[TaskRecord]:
        """年度主要任务: 任务名称 / 主要内容, then name and content cells in turn (one a line)."""
        m = re.search(r"^\s*任务名称\s*$\s*^\s*主要内容\s*$", self.raw[body:], flags=re.M)
        if m is None:
            return []
        pos = body + m.end()
        cells = [
            (x.group().strip(), self.text.line_of(pos + x.start()))
            for x in re.finditer(r"[^\n]+", self.raw[pos:])
            if x.group().strip()
        ]
        tasks: list[TaskRecord] = []
        for k in range(0, len(cells) - 1, 2):
            (name, line), (content, end) = cells[k], cells[k + 1]
            if _find_header(name) is not None or len(name) > 60:
                break
            tasks.append(
                TaskRecord(
                    name=name,
                    content=content,
                    total=None,
                    fiscal=None,
                    other=None,
                    ordinal=len(tasks) + 1,
                    source=self.src(line, end),
                )
            )
        if tasks and tasks[-1].source.line == cells[-2][1] and len(cells) % 2 == 0:
            t = tasks[-1]
            self.warn(
                "表格文字在此任务的主要内容中断，内容可能不完整 (the text stops inside this task)",
                t.content[-40:],
                t.source.end_line or t.source.line,
            )
        return tasks

    def check_categories(
        self, indicators: list[IndicatorRecord], parser: _Parser, scheme: str
    ) -> None:
        for ind in indicators:
            for level, label in ((1, ind.level1), (2, ind.level2)):
                if categories.resolve(label, level, scheme) is None:
                    line = parser.label_lines.get((level, label), ind.source.line)
                    known = sorted(x for x in _level_labels(level) if x.endswith("指标"))
                    raise UnknownCategoryError(
                        self.file,
                        line,
                        f"unknown level-{level} category {label!r} in the {scheme} scheme "
                        f"(indicator {ind.name!r}); expected one of {', '.join(known)}",
                    )

    # -- cells -----------------------------------------------------------------
    def cells(self, header: _Header) -> list[_Cell]:
        start = header.end
        out: list[_Cell] = []
        lines = enumerate(self.raw[start:].split("\n"), start=self.text.line_of(start))
        for no, text in lines:
            if header.mode == PIPE:
                parts = re.split(r"[|｜]", text)
                first = True
                for part in parts:
                    if part.strip():
                        out.append(_cell(part, no, line_start=first))
                        first = False
            elif header.mode == TAB:
                parts = [x for x in text.split("\t") if x.strip()]
                for k, part in enumerate(parts):
                    out.append(_cell(part, no, keep_spaces=True, line_start=k == 0))
            elif header.mode == SPACE:
                for k, tok in enumerate(text.split()):
                    out.append(_cell(tok, no, line_start=k == 0))
            elif header.mode == LINE:
                if text.strip():
                    out.append(_cell(text, no, line_start=True))
            else:
                if text.strip():
                    out.extend(self.concat_cells(text, no, header))
        if header.mode != CONCAT:
            out = _join_labels(out)
        return out

    def concat_cells(self, text: str, no: int, header: _Header) -> list[_Cell]:
        """One row printed without separators: labels first, values last."""
        original = "".join(text.split())
        key = _hanzi.key(original)
        if len(key) != len(original):
            original = key  # NFKC changed the length: keep the folded text
        if _FOOTER.search(key):
            return [_Cell(original, key, no, line_start=True)]
        cells: list[_Cell] = []
        pos = 0
        label_re = re.compile(rf"[{_CJK}]{{1,14}}?指标等?(?:\([\d.\-~–—]+分?\)分?)?")
        while True:
            m = label_re.match(key, pos)
            if not m:
                break
            cells.append(_Cell(original[pos : m.end()], key[pos : m.end()], no, role="label"))
            pos = m.end()
        rest_key, rest = key[pos:], original[pos:]
        values: list[_Cell] = []
        if "weight" in header.columns:
            m = _TAIL_DIGITS.search(rest_key)
            if m:
                digits = m.group()
                weight = _split_weight(digits)
                if weight is not None:
                    glued = digits[: len(digits) - len(weight)]
                    if glued:
                        self.warn(
                            f"指标值与分值之间没有分隔，按分值 {weight} 拆分",
                            rest,
                            no,
                        )
                    cut = len(rest_key) - len(weight)
                    values.append(_Cell(weight, weight, no, role="weight"))
                    rest_key, rest = rest_key[:cut], rest[:cut]
        target_at = None
        m = _TAIL_NUMERIC.search(rest_key)
        if m and m.start() > 0:
            target_at = m.start()
        else:
            for word in _GRADE_SUFFIXES:
                if rest_key.endswith(word) and len(rest_key) > len(word):
                    target_at = len(rest_key) - len(word)
                    break
        if target_at is not None:
            values.insert(0, _Cell(rest[target_at:], rest_key[target_at:], no, role="target"))
            rest_key, rest = rest_key[:target_at], rest[:target_at]
        if header.explanation_before_target:
            m = _EXPLANATION_TAIL.search(rest_key)
            if m and m.start() >= 2:
                values.insert(0, _Cell(rest[m.start() :], rest_key[m.start() :], no, role="other"))
                rest_key, rest = rest_key[: m.start()], rest[: m.start()]
        if rest:
            cells.append(_Cell(rest, rest_key, no, line_start=True, role="name"))
        cells.extend(values)
        if cells:
            cells[0].line_start = True
        return cells


def _split_weight(digits: str) -> str | None:
    """The 分值 at the end of digits glued to a value: the shortest plausible score."""
    for k in range(1, min(3, len(digits)) + 1):
        tail = digits[-k:]
        if tail[0] == "0":
            continue
        if 1 <= int(tail) <= 100 and (k == len(digits) or int(tail) >= 5):
            return tail
    return None


def _join_labels(cells: list[_Cell]) -> list[_Cell]:
    """Join a category label printed over two or three cells (社会效益 / 指标)."""
    out: list[_Cell] = []
    i = 0
    while i < len(cells):
        c = cells[i]
        parts = _label_parts(c.key)
        joined = None
        if parts is None or not _is_known_label(parts[0]):
            for n in (3, 2):
                group = cells[i : i + n]
                if len(group) < n:
                    continue
                key = "".join(g.key for g in group)
                lp = _label_parts(key)
                if lp is None:
                    continue
                if _is_known_label(lp[0]) or (
                    n == 2 and group[-1].key == "指标" and len(group[0].key) <= 8
                ):
                    joined = _Cell(
                        "".join(g.text for g in group),
                        key,
                        group[0].line,
                        group[-1].line if group[-1].line != group[0].line else None,
                        line_start=group[0].line_start,
                    )
                    i += n
                    break
        if joined is None:
            out.append(c)
            i += 1
        else:
            out.append(joined)
    return out


# --------------------------------------------------------------------------- rows


class _Parser:
    def __init__(self, reader: _Reader, header: _Header, cells: list[_Cell]) -> None:
        self.r = reader
        self.header = header
        self.cells = cells
        self.columns = header.columns
        self.level1: _Level | None = None
        self.level2: _Level | None = None
        self.level1_printed: set[str] = set()
        self.label_lines: dict[tuple[int, str], int] = {}
        self.row: _Row | None = None
        self.last_filled: set[str] | None = None
        self.indicators: list[IndicatorRecord] = []
        self.prev_was_level1 = False

    # -- the loop ----------------------------------------------------------------
    def run(self) -> list[IndicatorRecord]:
        cells = self.cells
        i = 0
        footer = False
        while i < len(cells):
            c = cells[i]
            if _FOOTER.search(c.key):
                self.close(at_end=False)
                self.r.warn(
                    "表格之后的文字（页脚、附注、页面元素）未读入",
                    c.text[:80],
                    c.line,
                    cells[-1].line if cells[-1].line != c.line else None,
                )
                footer = True
                break
            if (c.key in _SIDE_CELLS or _is_header_word(c.key)) and (
                self.row is None or "target" in self.row.values
            ):
                i += 1  # a side header, or the header repeated (after a page break)
                continue
            label = self.label_at(i)
            if label is not None:
                self.close(at_end=False)
                self.set_level(c, *label, nxt=cells[i + 1] if i + 1 < len(cells) else None)
                i += 1
                continue
            self.prev_was_level1 = False
            if self.row is None and c.role not in (None, "name"):
                self.r.warn("数值之前没有指标名称，未读入", c.text, c.line)
                i += 1
                continue
            new_row = self.row is None or c.role == "name" or self.starts_row(c)
            if new_row or not self.place(c, i):
                self.close(at_end=False)
                self.start(c)
            i += 1
        self.close(at_end=not footer)
        return self.indicators

    # -- labels ------------------------------------------------------------------
    def expecting_value(self) -> bool:
        row = self.row
        if row is None:
            return False
        if "target" not in row.values:
            return True
        return self.header.self_evaluation and "actual" not in row.values

    def label_at(self, i: int) -> tuple[str, str | None] | None:
        c = self.cells[i]
        if c.role is not None and c.role != "label":
            return None
        parts = _label_parts(c.key)
        if parts is None:
            return None
        label, score = parts
        if c.role == "label" or _is_known_label(label):
            return label, score
        if self.expecting_value():
            return None
        nxt = self.cells[i + 1] if i + 1 < len(self.cells) else None
        if nxt is None or _is_value(nxt.key):
            return None
        return label, score

    def set_level(self, c: _Cell, label: str, score: str | None, nxt: _Cell | None) -> None:
        in1, in2 = label in _level_labels(1), label in _level_labels(2)
        nxt_label = _label_parts(nxt.key) if nxt is not None else None
        if self.prev_was_level1 and self.level1 is not None and label == self.level1.label:
            level = 2  # the level-1 label printed again in the level-2 column
        elif in1 and in2:
            # 成本指标: level 1 (2021 layout) only over a cost category; other labels
            # that name both levels (an altLabel) are level 1 unless printed twice
            cost_only_2021 = categories.resolve(label, 1, "legacy") is None
            if cost_only_2021:
                level = 1 if nxt_label is not None and _is_cost_level2(nxt_label[0]) else 2
            else:
                level = 1
        elif in1:
            level = 1
        elif in2:
            level = 2
        else:
            level = 1 if nxt_label is not None else 2
        if score is not None:
            self.r.warn(
                f"类别 {label} 标注的分值（{score}分）未保存",
                c.text,
                *c.lines,
            )
        self.label_lines.setdefault((level, label), c.line)
        if level == 1:
            self.prev_was_level1 = True
            self.level1_printed.add(label)
            if self.level1 is None or self.level1.label != label:
                self.level1 = _Level(label, c.line)
                self.level2 = None
            return
        self.prev_was_level1 = False
        self.level2 = _Level(label, c.line)
        cat2 = _resolve_any(label, 2)
        if cat2 is None or cat2.broader is None:
            return
        parent = _pref_label(str(cat2.broader))
        if self.level1 is None:
            why = "一级指标未印出"
        else:
            cat1 = _resolve_any(self.level1.label, 1)
            if cat1 is None or cat1.concept == cat2.broader:
                return
            # the same label names a level-2 concept in both schemes (成本指标 under 产出
            # in legacy): accept the printed level 1 when either scheme links them
            cat1_2021 = categories.resolve(self.level1.label, 1, "2021")
            cat2_2021 = categories.resolve(label, 2, "2021")
            if cat1_2021 and cat2_2021 and cat1_2021.concept == cat2_2021.broader:
                return
            why = f"二级指标 {label} 不属于一级指标 {self.level1.label}"
        self.level1 = _Level(parent, c.line, printed=False)
        self.label_lines.setdefault((1, parent), c.line)
        self.r.warn(f"{why}，一级指标按二级指标推定为 {parent}", c.text, *c.lines)

    # -- rows --------------------------------------------------------------------
    def starts_row(self, c: _Cell) -> bool:
        if _CODE.match(c.key) or any(m in c.text for m in _CORE_MARKS):
            return True
        return self.header.mode in _ROW_A_LINE and c.line_start

    def start(self, c: _Cell) -> None:
        text = c.text
        core = "★" in text
        for mark in _CORE_MARKS:
            text = text.replace(mark, "")
        text = text.strip()
        code = None
        m = _CODE.match(text)
        if m:
            code, text = re.sub(r"\s+", "", m["code"]), m["rest"].strip()
        self.row = _Row(self.level1, self.level2, c, code, core, text)

    def place(self, c: _Cell, i: int) -> bool:
        row = self.row
        assert row is not None
        if c.role is not None:
            row.values[c.role] = c
            return True
        for k in range(row.pointer, len(self.columns)):
            role = self.columns[k]
            if self.accepts(role, c, i):
                row.values[role] = c
                row.pointer = k + 1
                return True
            if role == "target":
                return False
        return False

    def accepts(self, role: str, c: _Cell, i: int) -> bool:
        row = self.row
        assert row is not None
        key = c.key
        if role == "sign":
            return key in _SIGNS or key in _QUALITATIVE_SIGNS
        if role == "target":
            return True
        if role == "unit":
            target = row.values.get("target")
            return (
                target is not None
                and bool(_BARE_NUMBER.fullmatch(target.key))
                and bool(_UNIT.fullmatch(key))
                and key not in _QUALITATIVE_SIGNS
            )
        if role == "actual":
            return True
        if role in ("weight", "score"):
            return bool(_NUMBER.fullmatch(key))
        # deviation / other: a value cannot start a row; a text can, unless nothing
        # that could be its value follows
        if _is_value(key):
            return True
        nxt = self.cells[i + 1] if i + 1 < len(self.cells) else None
        if nxt is None or _FOOTER.search(nxt.key):
            return True
        if self.header.mode in _ROW_A_LINE and nxt.line_start:
            return True
        parts = _label_parts(nxt.key)
        return parts is not None and (_is_known_label(parts[0]) or nxt.role == "label")

    def close(self, at_end: bool) -> None:
        row = self.row
        if row is None:
            return
        self.row = None
        first, last = row.lines()
        if row.name.key in _PLACEHOLDER_NAMES:
            self.r.warn(f"三级指标为 {row.name.text!r}，视为空行，未读入", row.text(), first, last)
            return
        if at_end and (
            "target" not in row.values
            or (self.last_filled is not None and not self.last_filled <= row.filled())
        ):
            self.r.warn("表格文字在此行中断（行不完整），未读入", row.text(), first, last)
            return
        if "target" not in row.values:
            self.r.warn("三级指标没有指标值，未读入", row.text(), first, last)
            return
        if row.level1 is None or row.level2 is None:
            self.r.warn("指标行之前没有一级/二级指标，未读入", row.text(), first, last)
            return
        self.last_filled = row.filled()
        self.emit(row, first, last)

    def emit(self, row: _Row, first: int, last: int) -> None:
        assert row.level1 is not None and row.level2 is not None
        v = row.values
        target = _compose_target(v)
        unit_only = not re.search(r"\d", target) and len(re.sub(r"[≥≧≤≦<>=]", "", target)) <= 3
        if unit_only and not parse_target(target).recognized:
            self.r.warn("指标值只有单位或符号，没有数值（表中未填写）", row.text(), first, last)
        actual = re.sub(r"\s+", "", v["actual"].text) if "actual" in v else None
        simplified = _hanzi.to_simplified(row.name_text)
        self.indicators.append(
            IndicatorRecord(
                level1=row.level1.label,
                level2=row.level2.label,
                name=row.name_text,
                target=target,
                target_parsed=parse_target(target),
                ordinal=len(self.indicators) + 1,
                code=row.code,
                core=row.core,
                name_simplified=simplified if simplified != row.name_text else None,
                weight=_decimal(v.get("weight")),
                actual=actual,
                actual_parsed=parse_target(actual) if actual is not None else None,
                score=_decimal(v.get("score")),
                deviation=v["deviation"].text if "deviation" in v else None,
                source=self.r.src(first, last),
            )
        )


def _decimal(c: _Cell | None) -> Decimal | None:
    if c is None:
        return None
    m = _NUMBER.fullmatch(c.key)
    return Decimal(m["n"]) if m else None


def _compose_target(v: dict[str, _Cell]) -> str:
    value = re.sub(r"\s+", "", v["target"].text)
    sign = v.get("sign")
    unit = v.get("unit")
    if unit is not None:
        value += re.sub(r"\s+", "", unit.text)
    if sign is not None and sign.key not in _QUALITATIVE_SIGNS:
        value = _SIGNS.get(sign.key, sign.text) + value
    return value


# --------------------------------------------------------------------------- header facts

_NOT_CJK_BEFORE = rf"(?<![{_CJK}])"
_DEPARTMENT_KEYS = (
    r"预算单位",
    _NOT_CJK_BEFORE + r"部门(?=\s?[:：])",
    r"单位名称",
    r"(?:区|县)级主管部门",
    r"项目主管部门",
    _NOT_CJK_BEFORE + r"主管部门",
    r"业务主管部门",
    r"市级主管部门",
    r"预算部门",
    r"(?:项目)?实施单位",
    r"项目执行单位",
)
_PUBLISHER_KEYS = (r"发布机构", r"发布单位", r"来源")
_PROJECT_KEYS = (r"专项\(项目\)名称", r"项目名称(?!为)")
#: Keys that end a value printed without a separator (项目主管部门青山区教育局项目执行单位…).
_ANY_KEY = re.compile(
    r"项目名称|项目主管部门|主管部门|项目实施单位|实施单位|项目执行单位|执行单位|项目负责人"
    r"|联系电话|联系人|预算单位|金额单位|项目分类|建设周期|项目审批|单位名称|项目属性|项目金额"
    r"|资金情况|项目资金|(?:市|区|县)级(?:主管|财政)部门|预算部门"
)
_TOTAL_KEYS = (
    r"当年年度预算",
    r"年度资金总额",
    r"资金总额",
    r"项目金额",
    _NOT_CJK_BEFORE + r"合计",
    r"项目总预算",
    r"转移支付预算数(?:\([A-Z]\))?",
)
_FISCAL_KEY = (
    r"(?:其中\s?[:：]?\s?)?(?:本年|当年)?(?:市级|省级|县级|区级)?"
    r"(?:财\s?政\s?资\s?金|财\s?政\s?拨\s?款|上级资金|一般公共预算拨款)(?:\s?小计)?"
)
_OTHER_KEY = r"(?:其中\s?[:：]?\s?)?(?:其他资金|其它资金|其他收入)"
_AMOUNT_AFTER = r"\s?[:：]?\s?(?:小计\s?)?(?P<n>-?\d[\d,]*(?:\.\d+)?)(?=\s|万|元|\(|$)"
_TITLE = re.compile(r"[^\s|:：,，。]{0,40}?绩效[^\s|,，。]{0,24}?表(?:\([^()\s]{1,20}\))?")
_KIND = re.compile(
    r"(?:部门整体支出|整体支出|财政项目支出|项目支出|预算项目|专项转移支付区域|区域|项目|专项)?"
    rf"绩效[{_CJK}]{{0,6}}?(?:表|情况公示|公示)"
)
_ORG_END = re.compile(r"(?:局|委|办|院|府|部|厅|中心|学校|中学|小学|所|站|馆|会|队|党校)$")


class _Facts:
    """The header facts printed before the indicator header."""

    def __init__(self, reader: _Reader, start: int, end: int) -> None:
        self.r = reader
        self.keys, self.offs = _folded(reader.raw, start, end, keep_space=True)
        self.start = start

    def line(self, pos: int) -> int:
        return self.r.text.line_of(self.offs[pos] if pos < len(self.offs) else self.start)

    def orig(self, a: int, b: int) -> str:
        """The printed text of keys[a:b] (white space and | removed)."""
        raw = self.r.raw[self.offs[a] : self.offs[b - 1] + 1]
        return re.sub(r"[\s|]+", "", raw)

    def value(self, key: str, after: int = 0) -> tuple[str, int] | None:
        """The value printed after a key (the next cell), cut where another key starts."""
        for m in re.finditer(key + r"\s?[:：]?\s?(?P<v>\S+)", self.keys[after:]):
            a, b = after + m.start("v"), after + m.end("v")
            cut = _ANY_KEY.search(self.keys, a, b)
            if cut is not None:
                b = cut.start()
            while a < b and self.keys[a] in ":：":
                a += 1
            if a < b:
                return self.orig(a, b), after + m.start()
        return None

    def title(self) -> tuple[str, int] | None:
        m = _TITLE.search(self.keys)
        if m is None:
            m = next(
                (x for x in re.finditer(r"[^ ]*绩效[^ ]*", self.keys) if len(x.group()) <= 60),
                None,
            )
        if m is None:
            return None
        return self.orig(m.start(), m.end()), m.start()

    def table(self, header: _Header, scheme: str) -> TableRecord:
        found = self.title()
        if found is None:
            raise SourceError(
                self.r.file,
                self.r.text.line_of(header.start),
                "no title (a line with 绩效 … 表) before the indicator header",
            )
        title, at = found
        department = None
        for key in _DEPARTMENT_KEYS:
            hit = self.value(key, at)
            if hit:
                department = hit[0]
                break
        if department is None:
            m = re.match(r"(?P<org>.+?)\d{4}年", title)
            if m and _ORG_END.search(m["org"]) and len(m["org"]) >= 3:
                department = m["org"]
        if department is None:
            for key in _PUBLISHER_KEYS:
                hit = self.value(key)
                if hit:
                    department = hit[0]
                    break
        if department is None:
            raise SourceError(
                self.r.file,
                self.line(at),
                "no department before the indicator header "
                "(expected 预算单位, 部门, 单位名称 or 主管部门 with a name)",
            )
        department = re.sub(r"^\d+[-－]", "", department)
        year = self.year(title)
        if year is None:
            raise SourceError(
                self.r.file,
                self.line(at),
                "no fiscal year before the indicator header (expected e.g. (2022年度))",
            )
        project = None
        for key in _PROJECT_KEYS:
            hit = self.value(key, at)
            if hit:
                project = hit[0]
                break
        unit = re.search(r"金额单位\s?[:：]?\s?(万元|元)|\((万元|元)\)", self.keys[at:])
        currency = (unit[1] or unit[2]) if unit else "万元"
        title_key = _hanzi.key(title)
        kind = _KIND.search(title_key)
        table_type = kind.group() if kind else re.sub(r"^\d{4}年度?", "", title_key)
        self_eval = header.self_evaluation or "自评" in title_key
        return TableRecord(
            title=title,
            department=department,
            fiscal_year=year,
            currency_unit=currency,
            table_type=table_type,
            category_scheme=scheme,  # type: ignore[arg-type]
            project_name=project,
            self_evaluation=self_eval,
            source=self.r.src(self.line(at)),
        )

    def year(self, title: str) -> int | None:
        m = re.search(r"(?<!\d)(\d{4})\s?\)?\s?年度", self.keys)
        if m:
            return int(m[1])
        m = re.search(r"(\d{4})年", title)
        return int(m[1]) if m else None

    def amount(self, key: str) -> tuple[Decimal, str, int] | None:
        m = re.search(rf"(?P<k>{key}){_AMOUNT_AFTER}", self.keys)
        if not m:
            return None
        return Decimal(m["n"].replace(",", "")), m["k"].replace(" ", ""), m.start()

    def totals(self) -> TotalsRecord | None:
        total = None
        for key in _TOTAL_KEYS:
            total = self.amount(key)
            if total:
                break
        fiscal = self.amount(_FISCAL_KEY)
        other = self.amount(_OTHER_KEY)
        found = [x for x in (total, fiscal, other) if x is not None]
        if not found:
            return None
        lines = [self.line(x[2]) for x in found]
        return TotalsRecord(
            label=total[1] if total else "资金合计",
            total=total[0] if total else None,
            fiscal=fiscal[0] if fiscal else None,
            other=other[0] if other else None,
            source=self.r.src(min(lines), max(lines)),
        )
