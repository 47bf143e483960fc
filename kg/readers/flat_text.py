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

Without a header it reads a bracketed list (【产出指标-数量指标】 then 指标1:名称(值))
or a fragment that starts mid-table (rows that start with category labels, columns
placed by their content); ``explain()`` (``ikg parse --explain``) says which and why.

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
* labels are carried down over merged cells; a label no scheme knows is kept as
  printed (``level1_printed`` / ``level2_printed``) beside the nearest framework
  category (:func:`kg.categories.place`), with a warning at the label's line;
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
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from .. import categories
from ..errors import NotATargetTableError, SourceError
from ..i18n import tr
from ..records import (
    IndicatorRecord,
    ParsedTable,
    ProjectRecord,
    Source,
    TableRecord,
    TaskRecord,
    TotalsRecord,
    WarningRecord,
)
from ..targets import parse_target
from . import vocabulary as vocab
from ._hanzi import simplified_chars, to_simplified
from .vocabulary import CJK as _CJK
from .vocabulary import key as _key

NAME = "flat-text"
SUFFIXES = (".txt",)
#: read() takes department= / year= for facts the text does not print (ikg parse --year).
HINTS = ("department", "year")

PIPE, TAB, SPACE, LINE, CONCAT = "pipe", "tab", "space", "line", "concat"
#: Layouts that print one row a line (a cell starting a line starts a row).
_ROW_A_LINE = (TAB, SPACE)
_PIPES = "|｜"

#: Roles of the columns after the indicator name, in the order a row holds them.
COLUMN_ORDER = (
    "direction",
    "sign",
    "interim",
    "target",
    "unit",
    "actual",
    "weight",
    "score",
    "deviation",
    "other",
)
#: Characters read as spanning one header (the corpus files: about 2,000).
SNIFF_CHARS = 30000


@lru_cache(maxsize=4)
def _folded_text(raw: str) -> tuple[str, list[int]]:
    """The whole text folded (:func:`_folded`, separators dropped), once per text."""
    return _folded(raw, 0, len(raw), keep_space=False)


# --------------------------------------------------------------------------- header words

#: (pattern, role) of the words a header row prints (kg.readers.vocabulary.ROLES), compared
#: as key text, each role renamed to the column this reader places it in.
_HEADER_WORDS = vocab.header_words(vocab.FLAT_TEXT_ROLES)
#: Cells in the indicator area that are a side header, not data (绩效指标 down the left).
_SIDE_CELLS = frozenset({"绩效指标", "年度绩效指标", "绩效指标内容"})

# --------------------------------------------------------------------------- cell shapes

#: What a 绩效标准 column holds (the basis of the target), never a name.
_STANDARD_WORDS = re.compile(r"(?:计划|历史|行业|其他|国家|地方|省级|市级)标准")
_NUMBER = re.compile(r"(?P<n>\d+(?:\.\d+)?)分?")
_BARE_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_UNIT = re.compile(r"%|‰|[^\d\s≥≧≤≦<>=═.,]{1,4}")
#: A cell that is only a score annotation ((50分), 10分): never an indicator's name.
_SCORE_ONLY = re.compile(r"\(?\d+(?:\.\d+)?(?:[-~]\d+)?分\)?")
#: A target that is only a unit (the value was not filled in): %, 人次, 万元 …
_UNIT_WORD = re.compile(
    r"%|‰|万?(?:元|亩|人|吨|个|户)|[个人次项家所台辆份件套批天年月日周亩吨米户]{1,2}"
    r"|人次|(?:平方|立方)米|公里"
)
_SCORED_LABEL = re.compile(
    rf"(?P<label>[{_CJK}]{{2,14}}指标等?)(?:{vocab.SCORE_NOTE}|{vocab.LABEL_NOTE})"
)
_LABEL_SHAPE = re.compile(rf"[{_CJK}]{{2,14}}指标等?")
_PLACEHOLDER_NAMES = frozenset({"0", "无", "—", "——", "-", "/", "\\"})
_FOOTER = re.compile(
    r"^(?:(?:注|备注|说明)[:：]|总分|其他需要?说明|财政部门审核意见|qrcode$|扫一扫|手机扫码|附件[:：]?$|\[下载\]"
    r"|填报人|填表人|审核人|单位负责人|财务负责人|.{0,30}绩效目标表$"
    r"|合计$|评价结论|存在问题$|改进措施$|项目负责人"
    # a numbered section of the report the table sits in: 二、… (三)… 3.分析…
    r"|[一二三四五六七八九十]{1,3}、|\([一二三四五六七八九十]{1,3}\)|\d{1,2}\.[^\d].{10,}"
    r"|\d{1,2}\.[^\d].{3,}。$|第[一二三四五六七八九十]{1,3}部分)"
    r"|盖章"
)

# concatenated rows: a value at the end of the line
_TAIL_NUMERIC = re.compile(
    rf"(?:[≥≧≤≦<>=＝]|不低于|不少于|不高于|不超过)?\d[\d,]*(?:\.\d+)?"
    rf"(?:%|‰|[{_CJK}]{{1,3}})?(?:及以上|以上|以下|以内)?$"
)
_TAIL_DIGITS = re.compile(r"\d+$")
#: 名称 + 指标解释 run together, the value on the next line: the name is the shortest
#: start (4+ characters) ending in a measure word, the explanation what follows.
_NAME_THEN_EXPLANATION = re.compile(
    rf"(?P<name>[{_CJK}、]{{3,}}?(?:率|数量|人数|次数|户数|个数|面积|金额|比例|时间|满意度))"
    rf"(?=[{_CJK}]{{2,}})"
)
_EXPLANATION_TAIL = re.compile(rf"(?:达到|不低于|不少于|不超过|高于|低于)[{_CJK}]{{0,5}}$")


@cache
def _level_labels(level: int) -> frozenset[str]:
    return categories.labels(level)


def _resolve_any(label: str, level: int) -> categories.Category | None:
    """The concept of a label at this level in either scheme (legacy first)."""
    return categories.resolve(label, level, "legacy") or categories.resolve(label, level, "2021")


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


def _is_bare_level2(key: str) -> bool:
    """A level-2 label printed without 指标 (社会效益, 可持续影响, 项目立项): four characters or
    more, so that 数量 or 质量 alone stay names."""
    return len(key) >= 4 and key in _level_labels(2)


def _is_known_label(label: str) -> bool:
    return label in _level_labels(1) or label in _level_labels(2)


def _is_value(key: str) -> bool:
    """A cell that reads as a value (target, actual, weight), not as a name."""
    if not key:
        return False
    if key[0] in "≥≧≤≦<>=═＝" or key[0].isdigit() or key in vocab.KINDS:
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
        for c in vocab.fold(ch):
            chars.append(c)
            offs.append(i)
    text = "".join(chars)
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # pragma: no cover - t2s keeps lengths in practice
        simplified = simplified_chars(text)
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
    twin: bool = False  # a 中期 / 年度 copy of each row printed beside it
    annual_first: bool = False  # the twin's first block is the annual one
    at: int | None = None  # no header printed: where the inferred rows start
    kind: str = "header"  # header | fragment (columns inferred) | bracketed (【一级-二级】 lists)

    @property
    def start(self) -> int:
        return self.words[0].start if self.words else self.at or 0

    @property
    def end(self) -> int:
        return self.words[-1].end if self.words else self.at or 0

    @property
    def inferred(self) -> bool:
        return not self.words

    @property
    def roles(self) -> set[str]:
        return {w.role for w in self.words}

    @property
    def self_evaluation(self) -> bool:
        return "actual" in self.roles or (self.inferred and "actual" in self.columns)

    def others(self) -> list[str]:
        return [w.word for w in self.words if w.role in ("other", "interim")]


def _match_word(keys: str, pos: int) -> tuple[str, int] | None:
    return vocab.match_header(keys, pos, _HEADER_WORDS)


def _is_header_word(key: str) -> bool:
    hit = _match_word(key, 0)
    return hit is not None and hit[1] == len(key)


def _find_header(raw: str, start: int = 0) -> _Header | None:
    """The first run of header words after ``start`` holding a name (or level-2) column and
    a target column.

    The text is folded once (:func:`_folded_text`) and scanned from ``start``, so that
    finding each next header of a document of many tables costs the distance to it.
    """
    keys, offs = _folded_text(raw)
    first = bisect.bisect_left(offs, start)
    firsts = vocab.HEADER_STARTS
    for p in range(first, len(keys)):
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


#: 【产出指标-数量指标】 (a bracketed list's category line) and 指标1:名称(值) rows.
_BRACKET_LABELS = re.compile(rf"【(?P<l1>[{_CJK}]{{2,10}}指标)[-－—](?P<l2>[{_CJK}]{{2,14}}指标)】")
_BRACKET_ROW = re.compile(r"(?P<code>指标\d+)[:：.](?P<name>.+?)(?:\((?P<value>[^()]*)\))?$")


def _inferred_header(raw: str, start: int) -> _Header | None:
    """No header printed (a fragment that starts mid-table): rows placed by their content.

    Taken when at least two lines start with a category label (产出指标, 数量指标 …)
    followed by more cells; the columns are the usual ones in the usual order, each cell
    placed by its shape (a sign, a number, a unit …).
    """
    lines = raw[start:].split("\n")
    label_rows = 0
    pipes = spaces = 0
    for line in lines:
        parts = [p for p in re.split(r"[|｜]", line) if p.strip()]
        if sum(ch in _PIPES for ch in line) >= 2:
            pipes += 1
        elif len(line.split()) >= 3:
            spaces += 1
        first = _key(parts[0]) if parts else ""
        parsed = _label_parts(first)
        if parsed is not None and _is_known_label(parsed[0]):
            label_rows += 1
    if label_rows < 2:
        return None
    mode = PIPE if pipes >= spaces and pipes else (SPACE if spaces else LINE)
    columns = ("direction", "sign", "target", "unit", "actual", "weight", "score")
    return _Header([], mode, columns, False, at=start, kind="fragment")


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
    if "level1" not in roles and roles.count("level2") >= 2:  # 评价内容 绩效内容: two category
        first = roles.index("level2")  # columns, the first is level 1
        words[first].role = roles[first] = "level1"
    target_at = roles.index("target")
    name_at = next((i for i, r in enumerate(roles) if r in ("name", "level2")), None)
    # one header row (names before values): the cells of a row follow its order;
    # a header printed over two rows (values first) gives no order: the usual one
    simple = name_at is not None and name_at < target_at
    after = roles[target_at + 1 :]
    # a second block (二级 三级 指标值 again) printed beside the first: 中期 / 年度 copies
    twin = simple and "name" in after and "target" in after[after.index("name") :]
    annual_first = False
    span = roles
    if twin:
        second = target_at + 1 + after.index("name")
        later = second + roles[second:].index("target")
        annual_first = bool(re.search(r"年度|当年", words[target_at].word)) and not re.search(
            r"年度|当年", words[later].word
        )
        span = roles[:second]
    if simple:
        ordered = [r for r in dict.fromkeys(span[name_at:]) if r in COLUMN_ORDER]
    else:
        ordered = [r for r in COLUMN_ORDER if r in roles]
    if "sign" in ordered:  # 指标方向 (正向/反向) and 指标性质 (定量/定性) share the sign column
        ordered.insert(ordered.index("sign"), "direction")
    columns = tuple(ordered)
    first_name = next((i for i, r in enumerate(roles) if r == "name"), None)
    explanation = first_name is not None and "other" in roles[first_name:target_at]
    return _Header(words, mode, columns, explanation, twin, annual_first)


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
    note: str | None = None  # a project cell: the project's name, when printed apart

    @property
    def lines(self) -> tuple[int, int]:
        return self.line, self.end_line or self.line


def _cell(text: str, line: int, keep_spaces: bool = False, **kw: object) -> _Cell:
    t = " ".join(text.split()) if keep_spaces else _clean(text)
    return _Cell(t, _key(t), line, **kw)  # type: ignore[arg-type]


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
        return {r for r in self.values if r not in ("deviation", "other", "twin")}


# --------------------------------------------------------------------------- sniff / read


def _is_seed_layout(head: str) -> bool:
    """The PDF-text layout of kg.readers.seed_text (the test its sniff applies)."""
    return "绩效目标表" in head[:2000] and bool(re.search(r"^年\s*$\s*^度\s*$", head, flags=re.M))


def sniff(path: Path) -> bool:
    try:
        head = _decode(path)[0][:SNIFF_CHARS]
    except (OSError, NotATargetTableError):
        return False
    if _is_seed_layout(head):
        return False
    if _find_header(head) is not None or _inferred_header(head, 0) is not None:
        return True
    if len(_BRACKET_LABELS.findall(_key(head))) >= 2:
        return True
    if sum(1 for t in head.split() if _CODED_NAME.match(_key(t))) >= 3:
        return True  # numbered names (指标1:名称) without a usable header
    try:  # indicators as labelled text (key：value rows, a list under category labels)
        reader = _Reader(str(path), head)
        if reader.labelled_cells(reader.body_start()) is not None:
            return True
    except (SourceError, ValueError):
        pass
    try:  # a table cut before its indicator header (header facts and tasks only)
        reader = _Reader(str(path), head)
        return reader.cut_before_indicators(reader.body_start()) is not None
    except (SourceError, ValueError):
        return False


def read(path: Path, **hints: object) -> ParsedTable:
    """Read a file; hints (department=, year=) stand in for facts the text does not print."""
    return _read(path, hints)[1]


def explain(path: Path, **hints: object) -> tuple[dict[str, object], ParsedTable]:
    """How the file was read (layout, header, column roles) and what came of it."""
    reader, parsed = _read(path, hints)
    return reader.layout, parsed


def _read(path: Path, hints: dict[str, object]) -> tuple[_Reader, ParsedTable]:
    raw, encoding = _decode(path)
    reader = _Reader(str(path), raw, hints)
    parsed = reader.parse()
    if encoding != "utf-8":
        parsed.warnings.insert(
            0,
            WarningRecord(
                message=f"文件不是 UTF-8 编码，已按 {encoding.upper()} 读入",
                text=None,
                source=reader.src(1),
            ),
        )
    return reader, parsed


def _decode(path: Path) -> tuple[str, str]:
    """The text and its encoding: UTF-8, else GB18030 (GBK's superset) when it decodes
    to Chinese text; else an error that says what was found."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise NotATargetTableError(
                str(path),
                None,
                tr(
                    f"不是 UTF-8 编码的文字（第 {exc.start} 字节：{exc.reason}），也不是 "
                    "GBK/GB18030；请先转为 UTF-8（如 iconv -f 原编码 -t UTF-8）",
                    f"not UTF-8 text ({exc.reason} at byte {exc.start}) and not GBK/GB18030 "
                    "either; convert it to UTF-8 (e.g. iconv -f ENCODING -t UTF-8)",
                ),
            ) from exc
        if not re.search(rf"[{_CJK}]", text):
            raise NotATargetTableError(
                str(path),
                None,
                tr(
                    f"不是 UTF-8 编码的文字（第 {exc.start} 字节：{exc.reason}）",
                    f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                ),
            ) from exc
        return text, "gb18030"


_MODE_NAMES = {
    PIPE: "单元格以 | 分隔",
    TAB: "单元格以制表符分隔，一行一条",
    SPACE: "单元格以空格分隔，一行一条",
    LINE: "一个单元格一行",
    CONCAT: "单元格连写、无分隔，一行一条",
}
#: What --explain calls a layout and a column role.
LAYOUT_NAMES = {
    PIPE: "“|”分隔",
    TAB: "制表符分隔",
    SPACE: "空格分隔",
    LINE: "一格一行",
    CONCAT: "连写无分隔",
    "fragment": "表格片段",
    "bracketed": "【】分组列表",
    "coded": "编号指标（指标N:名称）",
    "key-value": "“栏目：内容”逐行",
    "listed": "类别下逐条列出",
    "cut-before-indicators": "指标部分之前中断",
}
ROLE_NAMES = {
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "三级指标",
    "direction": "指标方向",
    "sign": "符号",
    "interim": "半年指标值（不保存）",
    "target": "指标值",
    "unit": "计量单位",
    "actual": "实际完成值",
    "weight": "分值",
    "score": "得分",
    "deviation": "偏差原因",
    "other": "其他（不保存）",
    "side": "侧栏标题",
}
_KIND_REASONS = {
    "header": "找到指标表头（含三级指标和指标值列）",
    "fragment": "没有指标表头，但至少两行以类别（产出指标、数量指标…）开头：按单元格内容定列",
    "bracketed": "没有指标表头，按【一级指标-二级指标】分组、“指标N:名称(指标值)”逐条读取",
    "key-value": "没有指标表头，每行是“一级指标：…；三级指标：…；指标值：…”：各值按栏目名定列",
    "listed": "没有指标表头，指标按类别逐条列出（产出指标 数量指标：名称+指标值；…）：指标值取能读作目标值的最长结尾",
    "coded": "没有可用的指标表头，但至少三个“指标N:名称”：每个名称取其后的数值（列按文中出现的"
    "指标值、实际完成值、分值、得分）",
}


def _describe(header: _Header, first: int, last: int) -> dict[str, object]:
    return {
        "layout": header.kind if header.kind != "header" else header.mode,
        "layout_reason": f"{_KIND_REASONS[header.kind]}；{_MODE_NAMES[header.mode]}",
        "header_lines": [first, last],
        "header": [[w.word, w.role] for w in header.words],
        "columns_after_name": list(header.columns),
        "side_by_side_blocks": header.twin,
        "explanation_before_target": header.explanation_before_target,
    }


def read_text(text: str, file: str = "<text>", **hints: object) -> ParsedTable:
    """Read a table from a string; ``file`` is what the records' sources name."""
    return _Reader(file, text, hints).parse()


# --------------------------------------------------------------------------- reader


_EXPECTED_ZH = (
    "应有指标表头，如 '一级指标 | 二级指标 | 三级指标 | 指标值'（指标值列也可为 目标值、"
    "年度指标值 或 当年预期实现值；单元格以 |、空格、换行分隔或不分隔）"
)
_EXPECTED = (
    "expected an indicator header such as '一级指标 | 二级指标 | 三级指标 | 指标值' "
    "(the target column may be 指标值, 目标值, 年度指标值 or 当年预期实现值; "
    "cells separated by |, spaces, line breaks or nothing)"
)


class _Reader:
    def __init__(
        self, file: str, raw: str, hints: dict[str, object] | None = None, start: int = 0
    ) -> None:
        self.start = start  # read from here (a later table of the same file)
        self.nested = False  # reading a later table for the first reader
        self.header_end = 0  # where the header of the table read ends
        self.footer: _Cell | None = None  # where the table read ended, when text follows
        self.file = file
        self.hints: dict = dict(hints or {})
        self.layout: dict[str, object] = {"layout": "cut-before-indicators"}
        self.text = _Text(raw)
        self.raw = raw
        self.warnings: list[WarningRecord] = []
        self.projects: list[ProjectRecord] = []

    # -- helpers -------------------------------------------------------------
    def src(self, first: int, last: int | None = None) -> Source:
        return Source(file=self.file, line=first, end_line=last if last and last != first else None)

    def warn(self, message: str, text: str | None, first: int, last: int | None = None) -> None:
        self.warnings.append(
            WarningRecord(message=message, text=text, source=self.src(first, last))
        )

    def body_start(self) -> int:
        """Offset after the leading '# …' comment lines (a corpus file's provenance)."""
        if self.start:
            return self.start
        pos = 0
        for m in re.finditer(r"[^\n]*(?:\n|$)", self.raw):
            if m.group().startswith("#"):
                pos = m.end()
                continue
            break
        return pos

    # -- the table -------------------------------------------------------------
    def parse(self) -> ParsedTable:
        self.refuse_other_layouts()
        body = self.body_start()
        found = self.find_table(body)
        if isinstance(found, ParsedTable):
            return found
        header, cells = found
        self.note_header(header)
        facts = _Facts(self, body, header.start)
        if cells is None:
            cells = self.cells(header)
        parser = _Parser(self, header, cells)
        indicators = parser.run()
        level1_seen = sorted(parser.level1_printed | {i.level1 for i in indicators})
        scheme = categories.layout_of(level1_seen)
        self.check_categories(indicators, parser, scheme)
        table = facts.table(header, scheme)
        parsed = ParsedTable(
            table=table,
            totals=facts.totals(),
            indicators=indicators,
            projects=self.projects,
        )
        self.footer = parser.footer
        if self.nested:  # a later table: the first reader goes on from where it ended
            parsed.warnings = self.warnings
            return parsed
        reader: _Reader | None = self
        while reader is not None and reader.footer is not None:  # several tables: in turn
            reader = self.read_next_table(parsed, reader)
        parsed.warnings = sorted(
            self.warnings, key=lambda w: (w.source.line, w.source.end_line or 0)
        )
        return parsed

    def refuse_other_layouts(self) -> None:
        """Raise on an empty text and on the PDF-text layout (the pdf-text reader's)."""
        if not self.raw.strip():
            raise NotATargetTableError(
                self.file,
                None,
                tr("文件为空；应为绩效目标表", "the file is empty; expected a 绩效目标表"),
            )
        if _is_seed_layout(self.raw[:SNIFF_CHARS]):
            raise NotATargetTableError(
                self.file,
                None,
                tr(
                    "这是 PDF 文字版式（表头竖排，每行一个字）；请用 pdf-text 读取器读取",
                    "this is the PDF-text layout (vertical headers one character a line); "
                    "read it with the pdf-text reader",
                ),
            )

    def find_table(self, body: int) -> ParsedTable | tuple[_Header, list[_Cell] | None]:
        """The indicator header and, for a layout without one, the cells already read
        (None: read them after the header); a whole table when the text stops before its
        indicators. Raises when there is none of these."""
        header = _find_header(self.raw, body)
        bracketed = None if header is not None else self.bracketed_cells(body)
        if header is None and bracketed is None:
            bracketed = self.coded_cells(body)
        if header is None and bracketed is None and _inferred_header(self.raw, body) is None:
            bracketed = self.labelled_cells(body)  # no table rows: labelled text?
        if bracketed is not None:
            return bracketed
        if header is not None:
            return header, None
        cut = self.cut_before_indicators(body)
        if cut is not None:
            return cut
        header = _inferred_header(self.raw, body)
        if header is None:
            raise NotATargetTableError(
                self.file,
                None,
                tr(
                    "文字中没有指标表头，也没有以类别开头的行（产出指标、数量指标 …）；"
                    f"{_EXPECTED_ZH}",
                    "no indicator header in the text, and no rows that start with a category "
                    f"label (产出指标, 数量指标 …); {_EXPECTED}",
                ),
            )
        self.warn(
            "没有指标表头（表格片段）：按单元格的内容推断列（三级指标、符号、指标值、单位、"
            "实际完成值、分值、得分）",
            None,
            self.text.line_of(header.start),
        )
        return header, None

    def note_header(self, header: _Header) -> None:
        """Keep where the header ends and its layout; warn about columns no field takes."""
        self.header_end = header.end
        header_line = self.text.line_of(header.start)
        header_end_line = self.text.line_of(max(header.end - 1, header.start))
        self.layout = _describe(header, header_line, header_end_line)
        others = header.others()
        if others:
            self.warn(
                f"列 {'、'.join(others)} 没有对应的记录字段，其内容未保存",
                " ".join(w.word for w in header.words),
                header_line,
                header_end_line,
            )

    def read_next_table(self, parsed: ParsedTable, before: _Reader) -> _Reader | None:
        """Another table printed after the one ``before`` read (a document of several).

        Read from the line where that table ended when an indicator header follows; it
        becomes a project of the file (``kg.readers.projects`` makes it a table of its
        own), or, when it repeats the table's facts, more rows of it; its records join
        ``parsed``. Returns the later table's reader (None: no later table).
        """
        assert before.footer is not None
        footer = before.footer
        # from the line the table ended on, but never the table's own header again
        pos = max(self.text.starts[footer.line - 1], before.header_end)
        if pos <= before.body_start() or _find_header(self.raw, pos) is None:
            return None
        reader = _Reader(self.file, self.raw, self.hints, start=pos)
        reader.nested = True
        try:
            later = reader.parse()
        except SourceError:
            return None
        first = later.table.source.line
        for w in self.warnings:  # the text after this table is read now, up to the next one
            if w.source.line == footer.line and w.source.end_line and w.source.end_line >= first:
                w.source.end_line = first - 1 if first - 1 > w.source.line else None
        mine, theirs = parsed.table, later.table
        same = (mine.title, mine.department, mine.fiscal_year, mine.project_name) == (
            theirs.title,
            theirs.department,
            theirs.fiscal_year,
            theirs.project_name,
        )
        if not same:
            parsed.projects.append(
                ProjectRecord(
                    name=theirs.project_name or theirs.title,
                    unit=theirs.department,
                    amount=later.totals.total if later.totals else None,
                    text=theirs.title,
                    source=theirs.source,
                    table=theirs,
                )
            )
        parsed.indicators.extend(later.indicators)
        parsed.tasks.extend(later.tasks)
        parsed.projects.extend(later.projects)
        self.warnings.extend(later.warnings)
        return reader

    def bracketed_cells(self, body: int) -> tuple[_Header, list[_Cell]] | None:
        """A bracketed list: 【产出指标-数量指标】 then 指标1:名称(值) lines, no header.

        The labels and rows become cells of the usual parser (name, then target); a
        【项目概况】 line starts another project; other lines in between (codes, amounts,
        goals) are project information, reported once per block.
        """
        lines = self.raw[body:].split("\n")
        first_line = self.text.line_of(body)
        found = [k for k, t in enumerate(lines) if _BRACKET_LABELS.match(_key(t))]
        if len(found) < 2:
            return None
        cells: list[_Cell] = []
        skipped: list[tuple[int, str]] = []

        def flush() -> None:
            if skipped:
                a, b = skipped[0][0], skipped[-1][0]
                self.warn(
                    "项目信息（不是指标行），未读入", skipped[0][1][:60], a, b if b != a else None
                )
                skipped.clear()

        for k in range(found[0], len(lines)):
            text, no = lines[k].strip(), first_line + k
            if not text:
                continue
            key = _key(text)
            m = _BRACKET_LABELS.match(key)
            if m:
                flush()
                for part in (m["l1"], m["l2"]):
                    cells.append(_Cell(part, part, no, line_start=True, role="label"))
                continue
            row = _BRACKET_ROW.match(key)
            if row:
                flush()
                named = f"{row['code']}:{row['name']}"
                cells.append(_Cell(named, named, no, line_start=True, role="name"))
                if row["value"] is not None:
                    cells.append(_Cell(row["value"], row["value"], no, role="target"))
                continue
            if key.startswith("【项目概况】"):
                # the project's name: the last line of text printed before its 概况
                names = [t for _, t in skipped if re.fullmatch(rf"[{_CJK}\w()（）\-]{{2,60}}", t)]
                names = [t for t in names if not re.fullmatch(r"[\d.,]+", t)]
                flush()
                cells.append(_Cell(text, key, no, line_start=True, role="project"))
                cells[-1].note = names[-1] if names else None
                continue
            skipped.append((no, text))
        flush()
        at = body + sum(len(x) + 1 for x in lines[: found[0]])
        return _Header([], LINE, ("target",), False, at=at, kind="bracketed"), cells

    def labelled_cells(self, body: int) -> tuple[_Header, list[_Cell]] | None:
        """Indicators written out as labelled text, no table to go by. Two forms:

        * each row a line of ``header word：value`` pairs (一级指标：产出指标；二级指标：数量指标；
          三级指标：培训人数；指标值：≥100人): each value takes its key's column;
        * a list under category labels, as budget documents print a project's targets
          (1.产出指标 （1）数量指标：培训人数≥100人；培训场次≥6场。): a label (numbered or
          not, ending in ：) starts a category, the items after it (separated by ；。 or
          line breaks) are name + value, the value being the longest ending that reads
          as a target (≥100人, 100%, 明显提升, 2023年12月底前 …).
        None: fewer than two rows in either form.
        """
        lines = self.raw[body:].split("\n")
        first = self.text.line_of(body)
        cells: list[_Cell] = []
        rows = 0
        for k, line in enumerate(lines):
            roles: dict[str, str] = {}
            for m in _KEY_VALUE.finditer(line):
                key = _key(m["key"])
                hit = _match_word(key, 0)
                if hit is not None and hit[1] == len(key):  # the whole key is a header word
                    roles[hit[0]] = m["val"].strip()
            if "name" not in roles or "target" not in roles:
                continue
            rows += 1
            for role in ("level1", "level2"):
                if roles.get(role):
                    label = roles[role]
                    cells.append(
                        _Cell(label, _key(label), first + k, line_start=True, role="label")
                    )
            cells.append(
                _Cell(
                    roles["name"],
                    _key(roles["name"]),
                    first + k,
                    line_start=True,
                    role="name",
                )
            )
            for role in _LABELLED_COLUMNS:
                if roles.get(role):
                    cells.append(_Cell(roles[role], _key(roles[role]), first + k, role=role))
        kind = "key-value"
        if rows < 2:
            cells, kind = self.listed_items(lines, first), "listed"
            rows = sum(c.role == "name" for c in cells)
            if rows < 2 or not any(c.role == "label" for c in cells):
                return None
        at = self.text.starts[cells[0].line - 1]
        header = _Header([], LINE, _LABELLED_COLUMNS, False, at=at, kind=kind)
        return header, cells

    def listed_items(self, lines: list[str], first: int) -> list[_Cell]:
        """The cells of a list under category labels (see :meth:`labelled_cells`)."""
        cells: list[_Cell] = []
        seen_label = False
        for k, line in enumerate(lines):
            no = first + k
            for piece in re.split(r"[；;。]", line):
                text = _ENUMERATION.sub("", piece.strip())
                key = _key(text)
                # labels at the front: 产出指标 / 数量指标： / 产出指标-数量指标：
                while True:
                    m = _LIST_LABEL.match(key)
                    if m is None:
                        break
                    label = m["label"]
                    parts = _label_parts(label)
                    if parts is None or not (_is_known_label(parts[0]) or _is_bare_level2(label)):
                        break
                    cells.append(_Cell(label, label, no, line_start=True, role="label"))
                    seen_label = True
                    key = _ENUMERATION.sub("", key[m.end() :])
                if not key or not seen_label:
                    continue
                for item in re.split(r"[，,](?=[^，,]*[\d≥≤%])", key):
                    split = _split_item(item)
                    if split is None:
                        continue
                    name, target = split
                    cells.append(_Cell(name, name, no, line_start=True, role="name"))
                    cells.append(_Cell(target, target, no, role="target"))
        return cells

    def coded_cells(self, body: int) -> tuple[_Header, list[_Cell]] | None:
        """Rows whose names are numbered (指标1:名称), with no header row to go by.

        A spreadsheet flattened by a document-sharing site prints its cells out of order:
        header words between a row's name and its values, a name wrapped over several
        pieces (资金是否全部及时 纳 入), the values of later rows printed before their names.
        Each numbered name takes the values printed after it up to the next name (as many
        as the value columns the text names: 指标值, 实际完成值, 分值, 得分); values beyond
        those are a block printed ahead of its rows, given in order to the next names
        printed without values (with a warning). Category labels between rows apply to the
        rows after them. None: fewer than three numbered names.
        """
        tokens: list[tuple[str, str, int]] = []  # (printed, key, line)
        offsets: list[int] = []
        for m in re.finditer(r"\S+", self.raw[body:]):
            tokens.append((m.group(), _key(m.group()), self.text.line_of(body + m.start())))
            offsets.append(body + m.start())
        codes = [k for k, (_, key, _) in enumerate(tokens) if _CODED_NAME.match(key)]
        if len(codes) < 3:
            return None
        coded = _CodedList(self, tokens, _coded_columns(tokens))
        start = coded.first_row(codes[0])
        coded.read(start)
        columns = coded.columns
        header = _Header([], SPACE, (*columns, "deviation"), False, at=offsets[start], kind="coded")
        return header, coded.cells

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
        # one line at a time, each matched one way only (no nested repetition over the
        # same characters: the old (?:\s*\D+\n)*? backtracked exponentially)
        m = re.search(
            r"总体资金情况[^\n]*\n(?:[^\d\n]*\n)*?[^\S\n]*总额[^\S\n]*\n", self.raw[body:]
        )
        if m is None:
            return None
        pos = body + m.end()
        n = re.search(rf"^\s*({vocab.AMOUNT})\s*$", self.raw[pos:], flags=re.M)
        amount = vocab.amount_of(n[1]) if n is not None else None
        if n is None or amount is None:
            return None
        return TotalsRecord(
            label="总额",
            total=amount.value,
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
        """Labels no scheme knows are kept as printed beside the nearest framework category."""
        warned: set[str] = set()
        for ind in indicators:
            printed = (ind.level1, ind.level2)
            placed = categories.place_indicator(ind, scheme)
            if placed is None or placed[1] in warned:
                continue
            message, about, level = placed
            warned.add(about)
            label = printed[level - 1]
            line = parser.label_lines.get((level, label), ind.source.line)
            self.warn(message, " ".join(printed), line)

    # -- cells -----------------------------------------------------------------
    def cells(self, header: _Header) -> list[_Cell]:
        start = header.end
        end = _table_end(self.raw, start)
        out: list[_Cell] = []
        lines = enumerate(self.raw[start:end].split("\n"), start=self.text.line_of(start))
        if header.mode == CONCAT:
            for parts in self.page_runs(start, end):
                no, text = parts[0]
                if not "".join(t for _, t in parts).strip():
                    continue
                run = self.run_cells(parts, header)
                if run is None:  # not rows run together: each printed line on its own
                    for no, text in parts:
                        if text.strip():
                            out.extend(self.concat_cells(text, no, header))
                else:
                    out.extend(run)
            return out
        for no, text in lines:
            if header.mode == PIPE:
                parts = re.split(r"[|｜]", text)
                first = True
                for part in parts:
                    if part.strip() and not _RULE_CELL.fullmatch(part):  # a markdown rule: ---
                        out.append(_cell(part, no, line_start=first))
                        first = False
            elif header.mode == TAB:
                parts = [x for x in text.split("\t") if x.strip()]
                for k, part in enumerate(parts):
                    out.append(_cell(part, no, keep_spaces=True, line_start=k == 0))
            elif header.mode == SPACE:
                toks = text.split()
                if _is_project_line(toks):
                    # the project's cells, then (on the same line) its first indicator row
                    cut = next(
                        (k for k, t in enumerate(toks) if _label_parts(_key(t))),
                        len(toks),
                    )
                    project = " ".join(toks[:cut])
                    out.append(_cell(project, no, keep_spaces=True, line_start=True))
                    out[-1].role = "project"
                    toks = toks[cut:]
                for k, tok in enumerate(toks):
                    out.append(_cell(tok, no, line_start=k == 0))
            elif header.mode == LINE and text.strip():
                out.append(_cell(text, no, line_start=True))
        return _join_labels(out)

    def page_runs(self, start: int, end: int) -> list[list[tuple[int, str]]]:
        """The lines after ``start``, a line continuing a page joined to the one before.

        A document-sharing site prints each page of a document as one line of text with
        the page's number in front (1、… 2、… 3、…), cutting rows mid-cell: a line that
        starts with the next number after the previous line's is that line's continuation
        (its number dropped). Each part keeps its own line number.
        """
        first = self.text.line_of(start)
        lines = self.raw[start:end].split("\n")
        head = self.raw[self.text.starts[first - 1] : start]
        m = _PAGE_MARK.match(head)
        page = int(m[1]) if m else None
        out: list[list[tuple[int, str]]] = []
        for k, text in enumerate(lines):
            m = _PAGE_MARK.match(text)
            if m and page is not None and out and int(m[1]) == page + 1:
                out[-1].append((first + k, text[m.end() :]))
                page += 1
                continue
            if k > 0:
                page = int(m[1]) if m else None
            out.append([(first + k, text)])
        return out

    def run_cells(self, parts: list[tuple[int, str]], header: _Header) -> list[_Cell] | None:
        """A self-evaluation line holding several rows run together (名称 + its values, …).

        Taken when the line (with its page continuations) has at least two runs of as many
        values as the header has value columns (target, actual, …); a name is the text up
        to such a run, so a number inside a name (5000吨稻谷) stays in it. Category labels
        inside a segment start the next row; the text before them ends the row before (its
        偏差原因). None: not such a line.
        """
        roles = [c for c in header.columns if c in ("target", "actual", "other")]
        width = len(roles)
        if width < 2:
            return None
        line = _RunLine.of(parts)
        if line is None:
            return None
        key = line.key
        runs = _value_runs(key, width)
        if len(runs) < 2:
            return None
        tail_role = "deviation" if "deviation" in header.columns else "other"
        pos = 0
        for run_start, run_end, values in runs:
            segment = key[pos:run_start]
            if _FOOTER.search(segment) is not None:
                break
            if not line.add_row(pos, run_start, values, roles, tail_role):
                return None
            pos = run_end
        if pos < len(key):  # what follows the last row: a footer, or a row cut short
            footer = _FOOTER.search(key[pos:]) is not None
            line.cell(
                pos, min(len(key), pos + 80), line_start=True, role=None if footer else "name"
            )
        return line.cells

    def concat_cells(self, text: str, no: int, header: _Header) -> list[_Cell]:
        """One row printed without separators: labels first, values last."""
        original = "".join(text.split())
        key = _key(original)
        if len(key) != len(original):
            original = key  # NFKC changed the length: keep the folded text
        if _FOOTER.search(key):
            return [_Cell(original, key, no, line_start=True)]
        cells, pos = _concat_labels(original, key, no)
        rest_key, rest = key[pos:], original[pos:]
        if not cells and _is_value(rest_key) and len(rest_key) <= 20:
            # a value on a line of its own: the target of the row above
            return [_Cell(rest, rest_key, no, line_start=True, role="target")]
        if header.explanation_before_target and not _TAIL_NUMERIC.search(rest_key):
            explained = _name_then_explanation(rest, rest_key, no)
            if explained is not None:
                cells.extend(explained)
                cells[0].line_start = True
                return cells
        if header.columns[:1] == ("weight",) or header.columns[:2] == ("direction", "weight"):
            ordered = _weight_first_cells(rest, rest_key, no)
            if ordered is not None:  # 名称 + 权重 + 单位 + 性质 + 值 (预算执行率10%=100)
                cells.extend(ordered)
                return cells
        values, rest, rest_key = self.concat_values(rest, rest_key, no, header)
        if rest:
            cells.append(_Cell(rest, rest_key, no, line_start=True, role="name"))
        cells.extend(values)
        if cells:
            cells[0].line_start = True
        return cells

    def concat_values(
        self, rest: str, rest_key: str, no: int, header: _Header
    ) -> tuple[list[_Cell], str, str]:
        """The values at the end of a concatenated row (weight, target, explanation), cut
        off from the back: the value cells and the text and keys left before them."""
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
            for word in vocab.GRADES:
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
        return values, rest, rest_key


#: A concatenated row whose header puts the weight right after the name.
_WEIGHT_FIRST = re.compile(
    rf"(?P<name>.*?[{_CJK})])(?P<weight>\d{{1,2}})"
    r"(?:(?P<unit>%|‰|[^\d=≥≤<>]{1,4}?)(?=[=≥≤<>]|\d))?"
    r"(?P<sign>[=≥≤<>]|定性|定量)?(?P<target>.+)"
)


#: One value of a run-together row (>=2个, 143%, 1700人) and a run of them.
_RUN_UNITS = (
    "平方米|平方公里|立方米|公里|千米|公顷|公斤|千克|万元|万人|人次|户次|课时|学时|小时|分钟|工作日"
    "|个|次|人|件|元|吨|天|户|家|所|台|辆|份|项|起|米|亩|斤|场|期|批|册|卷|套|株|头|只|座|处"
    "|间|条|篇|本|名|位|张|块|组|种|班|栋|宗|笔|门|周"
)
_VALUE = re.compile(rf"(?:>=|<=|[≥≤><=])?\d+(?:\.\d+)?(?:%|‰|(?:{_RUN_UNITS}))?")
_VALUE_RUN = re.compile(rf"(?:{_VALUE.pattern})+(?=[{_CJK}(]|$)")
#: Two values back to back (100%100%): rows run together, not one indicator's name.
_TWO_VALUES = re.compile(r"\d+(?:\.\d+)?%[≥≤<>=]?\d+(?:\.\d+)?%")
#: A category label left inside a run-together name (…比例00时效指标县级…).
_MID_LABEL = re.compile(r"(?:数量|质量|时效|成本|效益|满意度|可持续影响)指标")
#: A category label run into the text, printed as 指标 or 目标 (产出目标, 数量目标).
_RUN_LABEL = re.compile(rf"[{_CJK}]{{2,12}}?(?:指标|目标)等?")


def _coded_columns(tokens: list[tuple[str, str, int]]) -> list[str]:
    """The value columns a coded list names anywhere in its text (指标值 always first)."""
    printed_keys = "".join(key for _, key, _ in tokens)
    columns = ["target"]
    if "实际完成" in printed_keys or "完成值" in printed_keys:
        columns.append("actual")
    if "分值" in printed_keys or "权重" in printed_keys:
        columns.append("weight")
    if "得分" in printed_keys:
        columns.append("score")
    return columns


@dataclass
class _CodedList:
    """The tokens of a coded list (see :meth:`_Reader.coded_cells`) and the cells read so far."""

    reader: _Reader
    tokens: list[tuple[str, str, int]]  # (printed, key, line)
    columns: list[str]
    cells: list[_Cell] = field(default_factory=list)
    #: value groups printed before their rows
    ahead: list[list[tuple[str, str, int]]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.columns)

    def label_at(self, k: int) -> tuple[str, int] | None:
        """A known category label printed over tokens k.. (产出 指标 (50分 )): label, tokens."""
        tokens = self.tokens
        for n in (1, 2, 3, 4):
            joined = "".join(key for _, key, _ in tokens[k : k + n])
            parts = _label_parts(joined)
            if (parts is not None and _is_known_label(parts[0])) or _is_bare_level2(joined):
                return joined, n
        return None

    def header_span(self, k: int) -> int:
        """Tokens a header word (or side title) printed from token k covers, else 0."""
        tokens = self.tokens
        rest = "".join(key for _, key, _ in tokens[k : k + 6])
        hit = _match_word(rest, 0)
        length = hit[1] if hit is not None else 0
        length = max([length] + [len(w) for w in _SIDE_CELLS if rest.startswith(w)])
        n = covered = 0
        while covered < length and k + n < len(tokens):
            covered += len(tokens[k + n][1])
            n += 1
        return n

    def stops_name(self, k: int) -> bool:
        """Token k starts a category label or a header word: not a piece of a name."""
        return self.label_at(k) is not None or self.header_span(k) > 0

    def first_row(self, code: int) -> int:
        """Start at the category labels printed right before the first numbered name."""
        start = code
        while start > 0 and code - start < 6 and self.label_at(start - 1) is not None:
            start -= 1
        return start

    def read(self, start: int) -> None:
        """Read the tokens from ``start``: labels, and each numbered name with its values."""
        tokens = self.tokens
        k = start
        while k < len(tokens):
            text, key, line = tokens[k]
            if _FOOTER.search(key):
                self.cells.append(_Cell(text, key, line, line_start=True))
                break
            if not _CODED_NAME.match(key):
                label = self.label_at(k)
                if label is not None:
                    joined, n = label
                    lines = [t[2] for t in tokens[k : k + n]]
                    end = lines[-1] if lines[-1] != line else None
                    self.cells.append(
                        _Cell(joined, joined, line, end, line_start=True, role="label")
                    )
                    k += n
                else:
                    k += 1  # a header word or a stray piece between rows
                continue
            k = self.read_row(k)
        for group in self.ahead:
            self.reader.warn(
                "数值没有对应的指标名称，未读入", " ".join(v[0] for v in group), group[0][2]
            )

    def read_row(self, k: int) -> int:
        """The numbered name at token k and the values after it; the token after them."""
        k, name_text, first = self.read_name(k)
        k, values, later, reason = self.read_values(k)
        self.place_values(name_text, first, values, reason)
        self.cells.extend(later)
        return k

    def read_name(self, k: int) -> tuple[int, str, int]:
        """A numbered name and the pieces it was wrapped into: next token, name, first line."""
        tokens = self.tokens
        text, key, line = tokens[k]
        name_key = _CODED_NAME.sub("", key, count=1)
        name_text, first, last = _CODED_NAME.sub("", text, count=1), line, line
        k += 1
        while k < len(tokens) and not name_key:
            name_text, name_key, last = tokens[k][0], tokens[k][1], tokens[k][2]
            k += 1
        while (
            k < len(tokens)
            and re.fullmatch(rf"[{_CJK}、,，]+", tokens[k][1])
            and not _FOOTER.search(tokens[k][1])
            and not self.stops_name(k)
            and not _CODED_NAME.match(tokens[k][1])
        ):
            name_text += tokens[k][0]
            name_key += tokens[k][1]
            last = tokens[k][2]
            k += 1
        self.cells.append(
            _Cell(
                name_text,
                name_key,
                first,
                last if last != first else None,
                line_start=True,
                role="name",
            )
        )
        return k, name_text, first

    def read_values(
        self, k: int
    ) -> tuple[int, list[tuple[str, str, int]], list[_Cell], list[tuple[str, str, int]]]:
        """The values printed after a name up to the next one: next token, values, the
        labels printed among them (they apply after the row), the text after the values."""
        tokens = self.tokens
        values: list[tuple[str, str, int]] = []
        later: list[_Cell] = []  # labels printed among the row's values apply after it
        reason: list[tuple[str, str, int]] = []
        while k < len(tokens) and not _CODED_NAME.match(tokens[k][1]):
            t = tokens[k]
            if _FOOTER.search(t[1]):
                break
            label = self.label_at(k)
            if _is_value(t[1]) and not _SCORE_ONLY.fullmatch(t[1]) and label is None:
                values.append(t)
            elif label is not None:
                if values:  # the row's values are printed: the next rows' labels
                    break
                joined, n = label
                later.append(_Cell(joined, joined, t[2], line_start=True, role="label"))
                k += n
                continue
            elif self.header_span(k):
                k += self.header_span(k)
                continue
            elif values:
                reason.append(t)
            k += 1
        return k, values, later, reason

    def place_values(
        self,
        name_text: str,
        first: int,
        values: list[tuple[str, str, int]],
        reason: list[tuple[str, str, int]],
    ) -> None:
        """A row's own values as its cells; those beyond its columns go ahead to later rows."""
        width, columns, cells = self.width, self.columns, self.cells
        own, extra = values[:width], values[width:]
        for role, (vt, vk, vl) in zip(columns, own, strict=False):
            cells.append(_Cell(vt, vk, vl, role=role))
        if not own and self.ahead:
            group = self.ahead.pop(0)
            self.reader.warn(
                f"指标值与名称分开印出（数值在前），按顺序配对：{' '.join(v[0] for v in group)}",
                name_text,
                first,
            )
            for role, (vt, vk, vl) in zip(columns, group, strict=False):
                cells.append(_Cell(vt, vk, vl, role=role))
        if reason:
            cells.append(
                _Cell(
                    "".join(r[0] for r in reason),
                    "".join(r[1] for r in reason),
                    reason[0][2],
                    role="deviation",
                )
            )
        for g in range(0, len(extra), width):
            group = extra[g : g + width]
            if len(group) == width:
                self.ahead.append(group)
            else:
                self.reader.warn(
                    "多余的数值（不足一条指标的列数），未读入",
                    " ".join(v[0] for v in group),
                    group[0][2],
                )


@dataclass
class _RunLine:
    """A line of rows run together (see :meth:`_Reader.run_cells`) and the cells cut from it."""

    parts: list[tuple[int, str]]  # (line number, text) of the line and its continuations
    printed: str  # the parts' text without white space
    key: str  # the same as keys, as long as printed
    bounds: list[int]  # where each part starts in key
    cells: list[_Cell] = field(default_factory=list)

    @classmethod
    def of(cls, parts: list[tuple[int, str]]) -> _RunLine | None:
        """The line's text and keys; None when folding changed the text's length."""
        printed = "".join("".join(t.split()) for _, t in parts)
        key = "".join("".join(_key(t).split()) for _, t in parts)
        if len(key) != len(printed):
            return None
        bounds: list[int] = []
        at = 0
        for _, t in parts:
            bounds.append(at)
            at += len("".join(t.split()))
        return cls(parts, printed, key, bounds)

    def line_at(self, pos: int) -> int:
        """The line number of the part that holds key position ``pos``."""
        return self.parts[bisect.bisect_right(self.bounds, pos) - 1][0]

    def cell(self, a: int, b: int, **kw: object) -> None:
        """Add the cell of key positions a..b."""
        first, last = self.line_at(a), self.line_at(max(a, b - 1))
        c = _Cell(self.printed[a:b], self.key[a:b], first, last if last != first else None, **kw)  # type: ignore[arg-type]
        self.cells.append(c)

    def add_row(
        self,
        pos: int,
        run_start: int,
        values: list[tuple[int, int]],
        roles: list[str],
        tail_role: str,
    ) -> bool:
        """The cells of one row: the labels and name before its run of values, then the
        values. False: a label or page marker inside the name (rows not cleanly apart)."""
        key = self.key
        segment = key[pos:run_start]
        labels, name = _leading_labels(segment)
        loose = bool(labels) and not _is_known_label(labels[0])  # 资金未到位满意度指标
        if self.cells and (loose or (not labels and _MID_LABEL.search(name))):
            inner = _inner_labels(segment)
            if inner is None and not loose:
                return False  # a label inside a name: rows not cleanly apart
        else:
            inner = None
        if inner is not None:
            before, labels, name = inner
            if before:  # the row before's last cell (its 偏差原因)
                self.cell(pos, pos + len(before), role=tail_role)
            pos += len(segment) - len(name) - sum(map(len, labels))
        if _MID_LABEL.search(name) or re.match(r"\d+、", segment):
            return False  # a label or a page marker inside a name: rows not cleanly apart
        for label in labels:
            self.cell(pos, pos + len(label), line_start=True, role="label")
            pos += len(label)
        if name:
            self.cell(pos, run_start, line_start=True, role="name")
        for role, (a, b) in zip(roles, values, strict=False):
            self.cell(a, b, role=role)
        return True


def _concat_labels(original: str, key: str, no: int) -> tuple[list[_Cell], int]:
    """The category labels a concatenated row starts with: their cells, where they end."""
    cells: list[_Cell] = []
    pos = 0
    label_re = re.compile(rf"[{_CJK}]{{1,14}}?指标等?(?:{vocab.SCORE_NOTE})?")
    while True:
        m = label_re.match(key, pos)
        if not m:
            break
        cells.append(_Cell(original[pos : m.end()], key[pos : m.end()], no, role="label"))
        pos = m.end()
    return cells, pos


def _name_then_explanation(rest: str, rest_key: str, no: int) -> list[_Cell] | None:
    """A name then its explanation, the value on the next line: name and explanation
    cells; None when the text cannot be cut in two."""
    half = len(rest_key) // 2
    if len(rest_key) % 2 == 0 and half >= 2 and rest_key[:half] == rest_key[half:]:
        cut = half  # 名称 + 指标解释 repeating it, the value on the next line
    else:  # 名称 ending in its measure (…率, …数量), then the explanation
        m = _NAME_THEN_EXPLANATION.match(rest_key)
        cut = m.end("name") if m else None
    if cut is None:
        return None
    return [
        _Cell(rest[:cut], rest_key[:cut], no, line_start=True, role="name"),
        _Cell(rest[cut:], rest_key[cut:], no, role="other"),
    ]


def _weight_first_cells(rest: str, rest_key: str, no: int) -> list[_Cell] | None:
    """名称 + 权重 + 单位 + 性质 + 值 (预算执行率10%=100) as cells; None: not that shape."""
    ordered = _WEIGHT_FIRST.fullmatch(rest_key)
    if ordered is None:
        return None
    cells: list[_Cell] = []
    for role in ("name", "weight", "unit", "sign", "target"):
        a, b = ordered.span(role)
        if a < b:
            c = _Cell(rest[a:b], rest_key[a:b], no, role=role)
            c.line_start = role == "name"
            cells.append(c)
    return cells


def _table_end(raw: str, pos: int) -> int:
    """Where the rows after a header at ``pos`` can end: the start of the line of the next
    indicator header that follows a table's end (a footer, a note or another table's
    title), else the end of the text. A header repeated with no such line before it (a
    page break) continues the table. Bounds the cells a reader makes, so that reading a
    document of many tables is linear in its length."""
    while True:
        nxt = _find_header(raw, pos)
        if nxt is None:
            return len(raw)
        between = raw[pos : nxt.start].split("\n")
        if any(_FOOTER.search(_key("".join(line.split()))) for line in between[1:]):
            return raw.rfind("\n", 0, nxt.start) + 1
        pos = nxt.end


#: The value columns of indicators written as labelled text (a row's cells carry roles).
_LABELLED_COLUMNS = ("sign", "target", "unit", "actual", "weight", "score", "deviation")
#: A cell of a markdown table's rule line (| --- | :---: |).
_RULE_CELL = re.compile(r"\s*:?-{3,}:?\s*")
#: ``key：value`` pairs of a line (一级指标：产出指标；三级指标：培训人数；指标值：≥100人).
_KEY_VALUE = re.compile(r"(?P<key>[^\s：:；;，,|]{2,16})\s*[：:]\s*(?P<val>[^；;|\n]*)")
#: A list item's number: 1. 1、 (1) （一） 一、 ①.
_ENUMERATION = re.compile(
    r"^\s*(?:\d{1,2}\s*[.、．]|[(（]\s*[\d一二三四五六七八九十]{1,3}\s*[)）]|[一二三四五六七八九十]{1,3}、|[①-⑳])\s*"
)
#: A category label in front of a list's items, ending in ：, - or nothing.
_LIST_LABEL = re.compile(
    rf"(?P<label>[{_CJK}]{{2,14}}?(?:指标|效益|影响|满意度))\s*(?:[：:\-－—]\s*|$)"
)
#: Words that say how a listed item's value compares (达到90%以上).
_VALUE_WORDS = re.compile(r"^(?:达到|保持在|控制在|均为|为)")


def _split_item(item: str) -> tuple[str, str] | None:
    """A listed item as (name, target): the target is the longest ending that reads as one."""
    item = item.strip(" ：:")
    for i in range(2, len(item)):
        tail = item[i:]
        word = _VALUE_WORDS.match(tail)
        value = tail[word.end() :] if word else tail
        if value and parse_target(value).recognized and not _CJK_ONLY_NAME_END.match(tail):
            return item[:i], value
    return None


#: A tail that only looks like a value because a name ends in a grade word (…的提升).
_CJK_ONLY_NAME_END = re.compile(r"^[的之]")


#: A numbered name (指标1:名称) of a table whose rows carry numbers.
_CODED_NAME = re.compile(r"^指标\d{1,2}[:：.．、]")
#: A page's number in front of a line of a document-sharing site's text (1、 2、).
_PAGE_MARK = re.compile(r"\s*(\d{1,2})、")
#: Words a self-evaluation prints as a value (target or actual) in a run: 高高, 100%无.
_RUN_WORD = re.compile(
    r"已完成|完成|达标|合格|良好|较好|优秀|优良|显著|明显|有效|及时|无|是|否|高|中|低|好"
)


def _value_runs(key: str, width: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Runs of ``width`` values in run-together text: (start, end, each value's span).

    A run is numeric values (_VALUE) followed by a name or label; it may end in value
    words (100%无: target and actual), a plain number printed twice reads as two values
    (00, 9595, not 2020年), and ``width`` value words alone (高高) count when a category
    label or the end follows.
    """
    runs: list[tuple[int, int, list[tuple[int, int]]]] = []
    for m in _VALUE_RUN.finditer(key):
        spans = [(m.start() + v.start(), m.start() + v.end()) for v in _VALUE.finditer(m.group())]
        end = m.end()
        if len(spans) == 1 and width == 2 and re.fullmatch(r"\d+", m.group()):
            digits, half = m.group(), len(m.group()) // 2
            if (
                len(digits) % 2 == 0
                and digits[:half] == digits[half:]
                and not re.match(r"[年月日号期届级批]", key[end : end + 1])
            ):
                spans = [(m.start(), m.start() + half), (m.start() + half, end)]
        while len(spans) < width:
            w = _RUN_WORD.match(key, end)
            if w is None:
                break
            spans.append(w.span())
            end = w.end()
        if len(spans) >= width:
            runs.append((m.start(), end, spans))
    words = re.compile(rf"(?:{_RUN_WORD.pattern}){{{width}}}")
    for k in range(len(key)):
        w = words.match(key, k)
        if w is None or any(a <= k < b for a, b, _ in runs):
            continue
        after = key[w.end() : w.end() + 20]
        if after and not _leading_labels(after)[0] and not re.match(r"说明|备注|注[:：]", after):
            continue  # only before a category label, the table's notes or the end
        spans = []
        at = k
        for _ in range(width):
            v = _RUN_WORD.match(key, at)
            assert v is not None
            spans.append(v.span())
            at = v.end()
        if k > 0 and key[k - 1] not in "%‰" and not key[k - 1].isdigit():
            runs.append((k, w.end(), spans))
    return sorted(runs)


def _inner_labels(segment: str) -> tuple[str, list[str], str] | None:
    """Category labels in the middle of a run-together segment: text before, labels, name."""
    for k in range(1, len(segment) - 3):
        labels, name = _leading_labels(segment[k:])
        if labels and name and _is_known_label(labels[0]):
            before = segment[:k]
            for side in sorted(_SIDE_CELLS, key=len, reverse=True):
                before = before.removesuffix(side)
            return before, labels, name
    return None


def _leading_labels(segment: str) -> tuple[list[str], str]:
    """Category labels at the front of a run-together segment, and the name after them."""
    labels: list[str] = []
    pos = 0
    while True:
        m = _RUN_LABEL.match(segment, pos)
        if m is None:
            break
        label = m.group()
        known = _is_known_label(label) or any(categories.nearest(label, level) for level in (1, 2))
        if not known or (len(segment) - m.end() < 2 and labels):
            break
        labels.append(label)
        pos = m.end()
    return labels, segment[pos:]


def _project_of(c: _Cell, source: Source) -> ProjectRecord:
    """A project row: 名称 [code-]项目单位 [code-]项目类别 预算数 目标… (or a 【项目概况】 line)."""
    parts = c.text.split()
    name = c.note or (parts[0] if parts and not c.key.startswith("【") else None)
    unit = next(
        (m[1] for p in parts if (m := re.fullmatch(rf"\d{{3,}}[-－]([{_CJK}].*)", p))), None
    )
    amount = next(
        (
            Decimal(p.replace(",", ""))
            for p in parts
            if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2}", p)
        ),
        None,
    )
    return ProjectRecord(
        name=name or f"第{source.line}行的项目",
        unit=unit,
        amount=amount,
        text=c.text[:120],
        source=source,
    )


def _is_project_line(parts: list[str]) -> bool:
    """A row of a project list: a unit printed with its code (776001-…) and an amount."""
    coded = any(re.match(rf"\d{{3,}}[-－][{_CJK}]", p) for p in parts)
    amount = any(re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2}", p) for p in parts)
    return coded and amount


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
        self.footer: _Cell | None = None  # where the table ended, when text follows it
        self.prev_was_level1 = False
        starts_labelled = bool(cells) and _label_parts(cells[0].key) is not None
        if not header.roles & {"level1", "level2"} and not (header.inferred and starts_labelled):
            # a flat list, or a fragment whose first rows' categories are on an earlier page
            line = reader.text.line_of(header.start)
            level1, level2 = categories.UNCLASSIFIED
            self.level1 = _Level(level1, line, printed=False)
            self.level2 = _Level(level2, line, printed=False)
            reader.warn(
                f"表头没有一级/二级指标列，指标类别记为 {level1}/{level2}"
                if not header.inferred
                else f"片段从表格中间开始：第一个类别之前的指标记为 {level1}/{level2}",
                " ".join(w.word for w in header.words) or None,
                line,
            )

    # -- the loop ----------------------------------------------------------------
    def run(self) -> list[IndicatorRecord]:
        cells = self.cells
        i = 0
        footer = False
        while i < len(cells):
            c = cells[i]
            if _FOOTER.search(c.key):
                self.close(at_end=False)
                self.footer = c
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
            twin_end = self.twin_at(i)
            if twin_end is not None:
                i = twin_end
                continue
            if c.role == "project":
                self.close(at_end=False)
                self.level1 = self.level2 = None
                self.r.projects.append(_project_of(c, self.r.src(c.line)))
                i += 1
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
            new_row = self.row is None or c.role == "name" or self.starts_row(c, i)
            if new_row or not self.place(c, i):
                self.close(at_end=False)
                self.start(c)
            i += 1
        self.close(at_end=not footer)
        return self.indicators

    def twin_at(self, i: int) -> int | None:
        """The 中期 / 年度 copy of the current row printed beside it: ([二级,] 三级, 指标值).

        Returns the index after the copy (its value kept as the row's ``twin``), or None.
        """
        row = self.row
        if not self.header.twin or row is None or "target" not in row.values:
            return None
        if "twin" in row.values:
            return None
        j = i
        if j < len(self.cells) and _label_parts(self.cells[j].key) is not None:
            j += 1
        if j + 1 >= len(self.cells) or self.cells[j].key != row.name.key:
            return None
        row.values["twin"] = self.cells[j + 1]
        return j + 2

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
        parts = _label_parts(c.key) or ((c.key, None) if c.role == "label" else None)
        after_label = self.prev_was_level1 or (
            i > 0 and _label_parts(self.cells[i - 1].key) is not None
        )
        if parts is None and (c.line_start or after_label) and _is_bare_level2(c.key):
            nxt = self.cells[i + 1] if i + 1 < len(self.cells) else None
            if nxt is not None and not _is_value(nxt.key) and not self.expecting_value():
                parts = (c.key, None)  # a level-2 label printed without 指标
        if parts is None:
            parts = self.unshaped_level1(i)
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

    def unshaped_level1(self, i: int) -> tuple[str, None] | None:
        """A short cell right before a framework level-2 label is a level-1 label (项目效益)."""
        c = self.cells[i]
        if self.expecting_value() or i + 1 >= len(self.cells):
            return None
        row = self.row
        if row is not None and {"deviation", "other"} & set(self.columns[row.pointer :]):
            return None  # the open row's text column can take it
        if not re.fullmatch(rf"[{_CJK}]{{2,8}}", c.key) or not c.line_start:
            return None
        nxt_key = self.cells[i + 1].key
        nxt = _label_parts(nxt_key)
        if not _is_bare_level2(nxt_key) and (nxt is None or nxt[0] not in _level_labels(2)):
            return None
        return c.key, None

    def set_level(self, c: _Cell, label: str, score: str | None, nxt: _Cell | None) -> None:
        level = self.level_of(label, nxt)
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
        self.check_level1(c, label)

    def level_of(self, label: str, nxt: _Cell | None) -> int:
        """The level (1 or 2) of a category label, by the label and the cell after it."""
        in1, in2 = label in _level_labels(1), label in _level_labels(2)
        nxt_label = _label_parts(nxt.key) if nxt is not None else None
        if self.prev_was_level1 and self.level1 is not None and label == self.level1.label:
            return 2  # the level-1 label printed again in the level-2 column
        if in1 and in2:
            # 成本指标: level 1 (2021 layout) only over a cost category; other labels
            # that name both levels (an altLabel) are level 1 unless printed twice
            cost_only_2021 = categories.resolve(label, 1, "legacy") is None
            if cost_only_2021:
                return 1 if nxt_label is not None and _is_cost_level2(nxt_label[0]) else 2
            return 1
        if in1:
            return 1
        if in2:
            return 2
        near1, near2 = categories.nearest(label, 1), categories.nearest(label, 2)
        if near1 and not near2:
            return 1  # 产出目标
        if near2:
            return 2  # 数量目标
        return 1 if nxt_label is not None else 2

    def check_level1(self, c: _Cell, label: str) -> None:
        """A level-2 label under no level 1, or under one it does not belong to: the level 1
        becomes its concept's parent, with a warning."""
        cat2 = _resolve_any(label, 2)
        if cat2 is None or cat2.broader is None:
            return
        parent = categories.pref_label(str(cat2.broader))
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
    def starts_row(self, c: _Cell, i: int) -> bool:
        if vocab.CODE.match(c.key) or any(m in c.text for m in vocab.CORE_MARKS):
            return True
        if self.header.mode not in _ROW_A_LINE or not c.line_start:
            return False
        return not self.continues_row(c, i)

    def continues_row(self, c: _Cell, i: int) -> bool:
        """A cell alone on its line that the open row still lacks (a wrapped cell)."""
        row = self.row
        nxt = self.cells[i + 1] if i + 1 < len(self.cells) else None
        if row is None or (nxt is not None and nxt.line == c.line):
            return False
        if "target" not in row.values:
            return True
        return (
            "weight" in self.columns
            and "weight" not in row.values
            and bool(_NUMBER.fullmatch(c.key))
        )

    def start(self, c: _Cell) -> None:
        marks = vocab.strip_marks(c.text, score=False)
        self.row = _Row(self.level1, self.level2, c, marks.code, marks.core, marks.text)

    def place(self, c: _Cell, i: int) -> bool:
        row = self.row
        assert row is not None
        if c.role is not None:
            row.values[c.role] = c
            return True
        for k in range(row.pointer, len(self.columns)):
            role = self.columns[k]
            if role in row.values:
                continue  # filled by a cell of known role (a run-together row)
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
        if role == "direction":
            return key in vocab.DIRECTIONS
        if role == "sign":
            return key in vocab.SIGNS or key in vocab.KINDS or key in vocab.SIGN_WORDS
        if role in ("target", "interim"):
            return True
        if role == "unit":
            target = row.values.get("target")
            return (
                target is not None
                and bool(_BARE_NUMBER.fullmatch(target.key))
                and bool(_UNIT.fullmatch(key))
                and key not in vocab.KINDS
            )
        if role == "actual":
            return True
        if role in ("weight", "score"):
            return bool(_NUMBER.fullmatch(key))
        # deviation / other: a value cannot start a row; a text can, unless nothing
        # that could be its value follows
        if _is_value(key) or (role == "other" and _STANDARD_WORDS.fullmatch(key)):
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
        if self.dropped_or_cut(row, at_end, first, last):
            return
        if self.unplaceable(row, first, last):
            return
        if "target" not in row.values:
            # a name and no value: kept (the review asks for the value), with a warning
            self.r.warn(
                "三级指标没有指标值（表中未填写），已读入，指标值为空", row.text(), first, last
            )
            self.emit(row, first, last)
            return
        self.last_filled = row.filled()
        self.emit(row, first, last)

    def dropped_or_cut(self, row: _Row, at_end: bool, first: int, last: int) -> bool:
        """An empty (placeholder) row, or the last row when the text stops inside it: True
        when the row is done with (dropped, or read as far as printed)."""
        target = row.values.get("target")
        if (
            row.name.key in _PLACEHOLDER_NAMES
            or not row.name_text.strip(" :：")
            or row.name_text in _PLACEHOLDER_NAMES
            or (target is not None and _is_placeholder_value(target.key))
        ):
            self.r.warn(f"三级指标为 {row.name.text!r}，视为空行，未读入", row.text(), first, last)
            return True
        if at_end and "target" not in row.values:
            if not row.values:  # the text stops in the name: it may be cut itself
                self.r.warn("表格文字在此行中断（行不完整），未读入", row.text(), first, last)
                return True
            # a later cell (an explanation …) was printed: the name is whole, the value cut
            self.r.warn(
                "表格文字在此行中断：名称完整，指标值缺失，已读入，指标值为空",
                row.text(),
                first,
                last,
            )
            self.emit(row, first, last)
            return True
        if at_end and self.last_filled is not None and not self.last_filled <= row.filled():
            if self.ends_whole(row):  # the text stops in a later column
                message = "表格文字在此行中断，已读入名称和指标值，其后各列缺失"
            else:  # the text stops in (or right after) the last cell read
                message = "表格文字在此行中断，已读入名称和指标值；最后一个值可能不完整"
            self.r.warn(message, row.text(), first, last)
        return False

    def unplaceable(self, row: _Row, first: int, last: int) -> bool:
        """A row that cannot be read (a score without a value, no categories, rows run
        together in its name): warned and dropped, True. Infers a missing level 2."""
        if "target" not in row.values and (
            _SCORE_ONLY.fullmatch(row.name.key) or _is_placeholder_value(row.name.key)
        ):
            self.r.warn("三级指标没有指标值，未读入", row.text(), first, last)
            return True
        if row.level1 is not None and row.level2 is None:
            near = categories.nearest(row.level1.label, 2)  # 满意度指标 → 服务对象满意度指标
            if near is not None:
                self.r.warn(
                    f"二级指标未印出，按一级指标 {row.level1.label} 推定为 {near}",
                    row.text(),
                    first,
                    last,
                )
                row.level2 = self.level2 = _Level(near, first, printed=False)
        if row.level1 is None or row.level2 is None:
            self.r.warn("指标行之前没有一级/二级指标，未读入", row.text(), first, last)
            return True
        if len(row.name.key) > 80 or _TWO_VALUES.search(row.name.key):
            self.r.warn(
                "名称中连写了其他行的数值（几条指标连在一起，未能拆分），未读入",
                row.text()[:120],
                first,
                last,
            )
            return True
        return False

    def ends_whole(self, row: _Row) -> bool:
        """The row's last cell is followed by a separator: the text stops after it, not in it."""
        last = max(row.cells(), key=lambda c: c.lines[1])
        lines = self.r.raw.rstrip().split("\n")
        at = last.lines[1] - 1
        if at >= len(lines):
            return False
        return at < len(lines) - 1 or lines[at].rstrip().endswith(tuple(_PIPES))

    def emit(self, row: _Row, first: int, last: int) -> None:
        assert row.level1 is not None and row.level2 is not None
        v = row.values
        target = _compose_target(v) if "target" in v else ""
        bare = re.sub(r"[≥≧≤≦<>=]", "", target)
        unit_only = bool(target) and (not bare or bool(_UNIT_WORD.fullmatch(bare)))
        if unit_only and not parse_target(target).recognized:
            self.r.warn("指标值只有单位或符号，没有数值（表中未填写）", row.text(), first, last)
        actual = re.sub(r"\s+", "", v["actual"].text) if "actual" in v else None
        long_term = None
        if "twin" in v:
            other = re.sub(r"\s+", "", v["twin"].text)
            if self.header.annual_first:
                long_term = other
            else:
                long_term, target = target, other
        sign = v.get("sign")
        kind = sign.key if sign is not None and sign.key in vocab.KINDS else None
        direction = v["direction"].key if "direction" in v else None
        simplified = to_simplified(row.name_text)
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
                direction=direction,
                value_kind=kind,
                long_term_target=long_term,
                source=self.r.src(first, last),
            )
        )


def _is_placeholder_value(key: str) -> bool:
    """An unfilled template value: ……, /, ** (≥**人)."""
    return not key.strip("…./、\\-—*") or bool(re.fullmatch(r"[≥≤<>=]?\*+.{0,3}", key))


def _decimal(c: _Cell | None) -> Decimal | None:
    if c is None:
        return None
    m = _NUMBER.fullmatch(c.key)
    return Decimal(m["n"]) if m else None


def _compose_target(v: dict[str, _Cell]) -> str:
    """sign + value + unit, each from its own column (定性 / 定量 add nothing)."""
    unit, sign = v.get("unit"), v.get("sign")
    return vocab.compose_target(
        v["target"].text, unit.text if unit else None, sign.text if sign else None
    )


# --------------------------------------------------------------------------- header facts

_NOT_CJK_BEFORE = rf"(?<![{_CJK}])"
_DEPARTMENT_KEYS = (
    r"部门\(单位\)名称",
    r"预算单位",
    _NOT_CJK_BEFORE + r"部门(?=\s?[:：])",
    r"单位名称",
    r"(?:区|县)级主管部门",
    r"项目主管部门",
    _NOT_CJK_BEFORE + r"主管部门(?:及其?(?:编码|代码))?",
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
    r"|(?:市|区|县)级支出预算总量|部门预算编码|资金类别"
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
_AMOUNT_AFTER = rf"\s?[:：]?\s?(?:小计\s?)?(?P<n>{vocab.AMOUNT})(?=\s|万|元|\(|$)"
_ORG_END = re.compile(r"(?:局|委|办|院|府|部|厅|中心|学校|中学|小学|所|站|馆|会|队|党校)$")


#: A column header printed where a fact's value would be (项目名称 | 项目单位 | …).
_COLUMN_WORD = re.compile(r"(?:项目|单位|部门|预算|资金)(?:单位|名称|类别|类型|数|金额|编码)")


def _names_something(value: str) -> bool:
    """A fact's value, not a column header (单位名称(项目类别…), 项目单位) or a page element
    (【字号:)."""
    key = _key(value)
    return not (
        key.startswith(("(", "（", "【", "["))
        or key.endswith((":", "："))
        or _COLUMN_WORD.fullmatch(key)
    )


def _title_from_name(file: str) -> str:
    stem = Path(file).stem
    return stem if re.search(rf"[{_CJK}]", stem) else "绩效目标表"


def _org_in(keys: str) -> str | None:
    """An organisation's name printed before a year (…局2020年…), in the page text."""
    for m in re.finditer(rf"([{_CJK}]{{3,24}}?)(?:\d{{4}}年)", keys):
        org = m[1]
        if _ORG_END.search(org):
            return org
    return None


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
        m = vocab.TITLE_IN_TEXT.search(self.keys)
        if m is None:  # a line of its own that names 绩效 (…项目绩效目标和指标)
            m = self.title_line()
        if m is None:
            m = next(
                (x for x in re.finditer(r"[^ ]*绩效[^ ]*", self.keys) if len(x.group()) <= 60),
                None,
            )
        if m is None:
            return None
        return self.orig(m.start(), m.end()), m.start()

    def title_line(self) -> re.Match[str] | None:
        raw = self.r.raw
        for line in re.finditer(
            r"[^\n]+", raw[self.offs[0] : self.offs[-1] + 1] if self.offs else ""
        ):
            text = line.group().strip()
            if "绩效" in text and len(text) <= 60 and not re.search(r"[:：|]", text):
                key = _key(text)
                return re.search(re.escape(key), self.keys)
        return None

    def table(self, header: _Header, scheme: str) -> TableRecord:
        """The table record; what is not printed is taken from elsewhere, with a warning."""
        title, at = self.title_or_file_name(header)
        department = self.department(title, at)
        year = self.fiscal_year(title, at)
        project = None
        for key in _PROJECT_KEYS:
            hit = self.value(key, at)
            if hit and _names_something(hit[0]):
                project = hit[0]
                break
        unit = re.search(
            rf"金额单位\s?[:：]?\s?(万元|元)|\((万元|元)\)|单位\s?[:：]\s?(万元|元)(?![{_CJK}])",
            self.keys[at:],
        )
        currency = (unit[1] or unit[2] or unit[3]) if unit else "万元"
        title_key = _key(title)
        kind = vocab.TABLE_KIND.search(title_key)
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

    def title_or_file_name(self, header: _Header) -> tuple[str, int]:
        """The printed title and where it is; else the file's name, with a warning."""
        r = self.r
        found = self.title()
        header_line = r.text.line_of(header.start) if header.words else r.text.line_of(0)
        if found is not None:
            return found
        title = _title_from_name(r.file)
        r.warn(
            f"指标表头之前没有标题（含“绩效…表”的一行），标题按文件名记为 {title}",
            None,
            header_line,
        )
        return title, 0

    def department(self, title: str, at: int) -> str:
        """The budget unit: printed under a key, in the title, as publisher, or a hint."""
        r = self.r
        department = None
        for key in _DEPARTMENT_KEYS:
            hit = self.value(key, at)
            if hit and _names_something(hit[0]):
                department = hit[0]
                break
        if department is None:
            m = re.match(r"(?P<org>.+?)\d{4}年", title)
            if m and _ORG_END.search(m["org"]) and len(m["org"]) >= 3:
                department = m["org"]
        if department is None:
            for key in _PUBLISHER_KEYS:
                hit = self.value(key)
                if hit and _names_something(hit[0]):
                    department = hit[0]
                    break
        if department is None:
            department = str(r.hints.get("department") or _org_in(self.keys) or "未注明单位")
            r.warn(
                f"指标表头之前没有预算单位（预算单位、部门、单位名称或主管部门），记为 {department}",
                None,
                self.line(at),
            )
        return re.sub(r"^(?:\d+[-－]|\[\d+\])", "", department)

    def fiscal_year(self, title: str, at: int) -> int | None:
        """The printed year; else the hint, the file's name or the page, with a warning."""
        r = self.r
        year = self.year(title)
        if year is None:
            given = r.hints.get("year")
            year = given or vocab.year_in(Path(r.file).name) or vocab.year_in(self.keys)
            if year is None:  # read all the same: storing it needs a year (ikg build --year)
                r.warn(
                    "文字、文件名和页面都没有预算年度：已读入，年度为空；入库前请用 --year 指定",
                    None,
                    self.line(at),
                )
            else:
                where = "按 --year" if given else "按文件名或页面文字"
                r.warn(f"未印出预算年度，{where}记为 {year}", None, self.line(at))
        return year

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
        amount = vocab.amount_of(m["n"])
        assert amount is not None  # the pattern is vocab.AMOUNT
        return amount.value, m["k"].replace(" ", ""), m.start()

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
