"""The readers' vocabulary: the one home of the words every table reader compares.

The template reader (:mod:`kg.readers.template`), the flat-text reader
(:mod:`kg.readers.flat_text`), the PDF-text reader (:mod:`kg.readers.seed_text`) and the
library reader (:mod:`kg.readers.library`) read the same words; they are written here
once:

* text normalisation: :func:`fold` (NFKC, no white space) and :func:`key` (folded and
  simplified, what labels and header words are compared as); the traditional →
  simplified conversion itself is :mod:`kg.readers._hanzi` (OpenCC ``t2s``);
* column roles: every spelling of an indicator column's header (三级指标, 指标名称,
  指标内容 …), one :data:`ROLES` table both readers match, :func:`role_of` for a whole
  header cell and :func:`match_header` for a header word inside flattened text;
* category label noise: :func:`strip_marks` removes a score (``产出指标(50分)``), a
  bracketed note (``(必填硬性指标)``), core marks (``★``) and a code prefix
  (``指标1:``). Category labels themselves (产出指标, 项目完成指标 …) and the words that
  place a regional label (效果, 产出值 …) are the ontology's (``ontology/categories.ttl``
  via :mod:`kg.categories`), not repeated here;
* the table title (:data:`TITLE`: department + table type), amounts
  (:func:`amount_of`: ``1,234.50``, ``12万元``), comparison signs and words
  (大于等于 → ≥), direction words (正向 / 反向), value kinds (定量 / 定性), grade words
  and yes / no words.

Comparison and grade words start from :mod:`kg.targets` (the target parser's own
vocabulary), so a reader and the parser agree on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

from ..targets import COMPARISON_WORDS, GRADE_WORDS
from ..targets import strip_whitespace as compact
from ._hanzi import simplified_chars, to_simplified

__all__ = [
    "AMOUNT",
    "CJK",
    "CODE",
    "CORE_MARKS",
    "DIRECTIONS",
    "FLAT_TEXT_ROLES",
    "GRADES",
    "HEADER_STARTS",
    "KINDS",
    "LABEL_NOTE",
    "NO",
    "ROLES",
    "SCORE_NOTE",
    "SIGNS",
    "SIGN_WORDS",
    "TABLE_KIND",
    "TABLE_TYPES",
    "TITLE",
    "TITLE_IN_TEXT",
    "YES",
    "Amount",
    "HeaderWords",
    "Marks",
    "Role",
    "amount_of",
    "cents",
    "compact",
    "compose_target",
    "decimal_of_number",
    "fold",
    "header_words",
    "key",
    "match_header",
    "role_of",
    "sign_of",
    "simplified_chars",
    "simplified_or_none",
    "split_title",
    "strip_marks",
    "to_simplified",
    "year_in",
]

#: The CJK unified ideographs (a character class body).
CJK = "\u4e00-\u9fff"

# --------------------------------------------------------------------------- normalisation


def fold(text: str) -> str:
    """A header, key or label as compared: NFKC (full-width → ASCII …), no white space."""
    return compact(unicodedata.normalize("NFKC", text))


def key(text: str) -> str:
    """What labels and header words are compared as: :func:`fold`, then simplified."""
    return to_simplified(fold(text))


def simplified_or_none(name: str) -> str | None:
    """The name in simplified characters when it is printed in traditional ones."""
    simplified = to_simplified(name)
    return simplified if simplified != name else None


# --------------------------------------------------------------------------- column roles


@dataclass(frozen=True)
class Role:
    """One column role of an indicator table and every header spelling it is printed as.

    ``spellings`` is a pattern over :func:`key` text (NFKC, simplified, no white space).
    """

    name: str
    spellings: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(self.spellings))


#: Every column role with its spellings: the union of what the template and the flat-text
#: reader knew. Longer words first where one is a prefix of another.
ROLES: tuple[Role, ...] = (
    Role("level1", r"一级指标|评价指标"),
    Role("level2", r"二级指标|评价内容|绩效内容"),
    Role("name", r"三级指标|指标名称|指标内容"),
    Role("level1_printed", r"一级指标原文"),
    Role("level2_printed", r"二级指标原文"),
    Role("kind", r"指标性质"),
    Role("direction", r"指标方向"),
    Role("sign", r"指标值类型"),
    Role("unit", r"计量单位|度量单位"),
    Role("target", r"当年预期实现值|预期\d{4}年度?实现值|预期达到目标|绩效目标值"),
    Role("interim", r"半年\(?程?\)?(?:指标值|目标值)"),
    Role("long_term", r"(?:实施周期|中期)(?:指标值|目标值)(?:及单位)?(?:\([^()]{1,20}\))?"),
    Role(
        "target",
        r"(?:当年度|年度|当年|年初|全年\(?程?\)?)?"
        r"(?:指标值|目标值)(?:及单位)?(?:\([^()]{1,20}\))?",
    ),
    Role("actual", r"(?:(?:全年)?(?:实际)?完成值|实际值)(?:\([A-Z]\))?|实施进度|完成情况"),
    Role("weight", r"(?:指标)?(?:分值|权重)"),
    Role("score", r"得分"),
    Role("deviation", r"(?:偏差|未完成)原因(?:分析)?(?:及|和)?(?:改进措施)?"),
    Role("code", r"(?:指标)?编码"),
    Role("core", r"(?:是否)?核心指标"),
    Role("task", r"所属任务|对应任务"),
    Role(
        "other",
        r"指标解释|指标标准或依据|指标说明(?:及公式)?|指标值说明|评分标准|备注|绩效标准"
        r"|累计完成率|完成率|\d{4}年度?实际(?:实现|完成)值",
    ),
    Role(
        "side",
        r"项目年度绩效目标衡量指标|年度绩效目标(?:\(\d+分\))?|年度绩效指标|绩效指标",
    ),
)
#: The roles of header cells that only stand beside the indicator columns (绩效指标 printed
#: down the left); a sheet without a name column reads its names from such a column.
SIDE = "side"

#: The flat-text reader's column for each role it places: 中期 and 年度 values are two
#: target blocks side by side there, 指标方向 / 指标性质 share the sign column. Roles not
#: listed (编码, 核心指标, the 原文 columns) cannot be placed in flattened text, where an
#: empty cell leaves no trace; that reader does not treat them as header words.
FLAT_TEXT_ROLES: dict[str, str] = {
    **{r: r for r in ("level1", "level2", "name", "sign", "unit", "target", "interim")},
    **{r: r for r in ("actual", "weight", "score", "deviation", "other", "side")},
    "long_term": "target",
    "kind": "sign",
    "direction": "sign",
}
#: First characters of the spellings above (the flat-text reader starts a header search
#: only there); tests/test_vocabulary.py checks it against every role's examples.
HEADER_STARTS = frozenset("一二三指评计度当预年全实完分权得偏未备项绩半中累编是核0123456789")


HeaderWords = tuple[tuple[re.Pattern[str], str], ...]


def header_words(roles: dict[str, str] | None = None) -> HeaderWords:
    """(pattern, role) of every spelling, the role renamed by ``roles`` and the roles it
    leaves out dropped (default: every role by its own name)."""
    return tuple(
        (r.pattern, r.name if roles is None else roles[r.name])
        for r in ROLES
        if roles is None or r.name in roles
    )


_ALL_WORDS = header_words()


def match_header(keys: str, pos: int, words: HeaderWords = _ALL_WORDS) -> tuple[str, int] | None:
    """The longest header word at ``keys[pos:]`` (``keys``: :func:`key` text): (role, end),
    or None."""
    best: tuple[str, int] | None = None
    for pattern, role in words:
        m = pattern.match(keys, pos)
        if m and (best is None or m.end() > best[1]):
            best = (role, m.end())
    return best


@cache
def role_of(header_text: str) -> str | None:
    """The role of a whole header cell (``度量单位`` → unit, ``预期2025年实现值`` → target),
    compared as :func:`key` text; None when no role is spelled so."""
    k = key(header_text)
    return next((r.name for r in ROLES if r.pattern.fullmatch(k)), None)


# --------------------------------------------------------------------------- marks and noise

#: Core-indicator marks printed with a name or a label.
CORE_MARKS = "★☆"
_SCORE_BODY = r"(?P<score>[\d.\-~–—]+)\s*分?"
_NOTE_BODY = r"(?P<note>(?:必填|选填)(?:硬性|核心|共性|个性)?(?:指标)?|(?:硬性|核心|共性|个性)指标)"
#: A score annotation after a category label, (50分) or (10-20分), in key text (ASCII
#: brackets).
SCORE_NOTE = rf"\({_SCORE_BODY}\)分?"
#: A drafting note after a category label, (必填硬性指标) or (核心指标), in key text.
LABEL_NOTE = rf"\({_NOTE_BODY}\)"
#: Either, as printed (full-width brackets too), ending a name or a label.
_NOISE = re.compile(rf"[(（]\s*(?:{_SCORE_BODY}|{_NOTE_BODY})\s*[)）]分?$")
#: A code printed before an indicator's name: 指标1: / 指标 2.
CODE = re.compile(r"^(?P<code>指标\s*\d+)\s*[.:：、．]\s*(?P<rest>.+)$")


@dataclass(frozen=True)
class Marks:
    """A name or label without its marks, and the marks."""

    text: str
    code: str | None = None  # 指标1
    core: bool = False  # ★ was printed
    score: str | None = None  # 50 of (50分)
    note: str | None = None  # 必填硬性指标 of (必填硬性指标)


def strip_marks(text: str, score: bool = True) -> Marks:
    """``text`` without core marks (★), a code prefix (``指标1:``) and a trailing drafting
    note (``(必填硬性指标)``) or, when ``score``, score (``(50分)``) in brackets (full-width
    ones too). A name keeps its score: ``预算执行情况(10分)`` may be what is printed."""
    core = "★" in text
    for mark in CORE_MARKS:
        text = text.replace(mark, "")
    text = text.strip()
    code = None
    m = CODE.match(text)
    if m:
        code, text = compact(m["code"]), m["rest"].strip()
    tail = _NOISE.search(text)
    if tail is None or tail.start() == 0 or (tail["score"] and not score):
        return Marks(text, code, core)
    return Marks(text[: tail.start()].rstrip(), code, core, tail["score"], tail["note"])


# --------------------------------------------------------------------------- words

#: Comparison signs as printed in a sign column → the sign a target is composed with.
SIGNS: dict[str, str] = {
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
_SYMBOL_OF = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}
#: Comparisons printed as words (大于等于 → ≥): those of the target parser.
SIGN_WORDS: dict[str, str] = {
    word: _SYMBOL_OF[sign]
    for word, sign in sorted(COMPARISON_WORDS.items(), key=lambda kv: -len(kv[0]))
    if re.fullmatch(rf"[{CJK}]+", word)
}
#: Value kinds a sign column (指标性质) may hold instead of a sign.
KINDS = frozenset({"定性", "定量"})
#: Directions of an indicator (指标方向).
DIRECTIONS = frozenset({"正向", "反向", "中性"})
#: Grade words of two characters or more (a single one, 高 or 好, ends many names).
GRADES: tuple[str, ...] = tuple(
    sorted((w for w in GRADE_WORDS if len(w) >= 2), key=len, reverse=True)
)
#: Yes / no cells (是否核心指标, 自评表), compared folded and lower-cased.
YES = frozenset({"是", "★", "y", "yes", "true", "1", "√"})
NO = frozenset({"", "否", "n", "no", "false", "0"})


_STARTS_WITH_SIGN = re.compile(
    "|".join(
        re.escape(w) for w in sorted({*SIGNS, *SIGN_WORDS, "＝", "＞", "＜"}, key=len, reverse=True)
    )
)


def sign_of(text: str) -> str | None:
    """The sign a sign cell stands for (``大于等于`` → ``≥``, ``═`` → ``=``), else None."""
    k = key(text)
    return SIGNS.get(k) or SIGN_WORDS.get(k)


def compose_target(value: str, unit: str | None = None, sign: str | None = None) -> str:
    """A target from its columns: sign + value + unit, white space removed.

    The unit is appended to a value ending in a digit (95 + % → 95%, not 95%% or 良好%);
    the sign goes before a value that prints none (定性 / 定量 in the sign column add
    nothing; a sign cell no word names is kept as printed).
    """
    out = compact(value)
    if unit and out[-1:].isdigit():
        out += compact(unit)
    if sign and key(sign) not in KINDS and not _STARTS_WITH_SIGN.match(out):
        out = (sign_of(sign) or sign) + out
    return out


# --------------------------------------------------------------------------- title

#: Table types a title ends with, longest first.
TABLE_TYPES = ("部门整体支出绩效目标表", "整体支出绩效目标表", "项目支出绩效目标表", "绩效目标表")
#: A title: the department, then the table type.
TITLE = re.compile(rf"^(?P<dept>.+?)(?P<type>{'|'.join(TABLE_TYPES)})$")


#: A title printed somewhere in a text (…绩效…表, an optional bracket after it), in key text.
TITLE_IN_TEXT = re.compile(r"[^\s|:：,，。]{0,40}?绩效[^\s|,，。]{0,24}?表(?:\([^()\s]{1,20}\))?")
#: The table type inside a title (项目支出绩效目标表, 绩效自评表, …情况公示), in key text.
TABLE_KIND = re.compile(
    r"(?:部门整体支出|整体支出|财政项目支出|项目支出|预算项目|专项转移支付区域|区域|项目|专项)?"
    rf"绩效[{CJK}]{{0,6}}?(?:表|情况公示|公示)"
)


def split_title(title: str) -> tuple[str, str] | None:
    """(department, table type) of a title printed as department + type, else None."""
    m = TITLE.match(compact(title))
    return (m["dept"], m["type"]) if m else None


# --------------------------------------------------------------------------- amounts

#: An amount as printed: digits with or without thousands separators, decimals.
AMOUNT = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_AMOUNT_CELL = re.compile(rf"(?P<n>{AMOUNT})(?P<unit>万元|元)?")


@dataclass(frozen=True)
class Amount:
    value: Decimal
    unit: str | None  # 万元 or 元 when printed after the number


def amount_of(text: str) -> Amount | None:
    """An amount cell: ``1,234.50`` → 1234.50, ``12万元`` → 12 (万元); NFKC and white space
    are folded first. None: not an amount."""
    m = _AMOUNT_CELL.fullmatch(fold(text))
    if m is None:
        return None
    try:
        return Amount(Decimal(m["n"].replace(",", "")), m["unit"])
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        return None


def decimal_of_number(value: int | float | Decimal) -> Decimal:
    """A spreadsheet number as a Decimal, without float noise (313.34500000000003 → 313.345)."""
    if isinstance(value, float):
        d = Decimal(repr(value))
        rounded = round(d, 6)
        return rounded.normalize() if abs(d - rounded) < Decimal("1e-9") else d
    return Decimal(value)


def cents(d: Decimal) -> Decimal:
    """At least two decimals: 0 → 0.00, 3133.4 → 3133.40; more decimals are kept."""
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return d.quantize(Decimal("0.01"))
    return d


def year_in(text: str) -> int | None:
    """The first plausible budget year (2000-2099) in a text."""
    m = re.search(r"(?<!\d)(20\d\d)(?!\d)", text)
    return int(m[1]) if m else None
