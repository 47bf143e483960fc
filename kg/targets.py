"""Structured reading of a target value (目标值).

:func:`parse_target` turns the text of a target cell as printed, e.g. ``≥90%``,
``100人≤n≤129人``, ``2024年12月20日前``, ``每月20日前``, ``20个工作日内`` or ``显著``,
into a :class:`~kg.records.TargetValue`. It never raises on a ``str``: what no
rule recognises comes back as form ``"text"`` with ``recognized=False`` and a flag.

``raw`` is the input with all white space removed (``str.isspace``: ASCII white
space, U+3000, NBSP ...), nothing else changed. Every other field is read from a
normalised copy: NFKC (full-width digits, letters, ``％``, ``＞``, ``＝`` ... to
ASCII), invisible format characters (zero-width space, BOM) dropped, trailing
sentence punctuation (``。``, ``；`` ...) dropped, and comparison words replaced by
signs (:data:`COMPARISON_WORDS`). So ``unit`` is the unit as printed after width
folding: ``％`` reads ``%``, ``㎡`` reads ``m2``.

Decisions, so that every reader of the parsed value gets the same meaning:

Numbers and ranges
    ``2700卷`` and ``=5`` are comparison ``"="`` with ``lower == upper``, both bounds
    inclusive. ``≥``/``>`` set only ``lower``, ``≤``/``<`` only ``upper``. A trailing
    ``以上``/``及以上`` means ``>=`` and ``以下``/``及以下``/``以内`` means ``<=`` (they
    include the number, as in Chinese legal usage). ``percent`` is True when the
    unit is ``%``. A range takes its unit from the bound that prints one.

Absolute deadlines (form ``"deadline"``)
    With a day: ``前``/``之前``/``以前`` → relation ``"before"`` that day;
    ``内``/``以内``/``之内``/``止``/``为止`` → ``"on_or_before"``; a bare date → ``"on"``.
    Without a day the deadline is read as the named period: ``底``/``末`` (with or
    without ``前``), ``内`` or nothing → ``"on_or_before"`` its last day
    (``2024年12月底前`` → 2024-12-31, ``2024年底前`` → 2024-12-31, ``2024年6月``
    → 2024-06-30); ``前`` alone → ``"before"`` its first day, i.e. the literal
    "before June": ``2024年6月前`` → before 2024-06-01 (≡ on or before 2024-05-31),
    ``2024年前`` → before 2024-01-01. A date without a year (``12月20日前``) takes
    the ``year`` argument (flag ``year_assumed``) or is text (flag ``missing_year``).
    An impossible date is text with flag ``invalid_date``.

Recurring deadlines (form ``"recurring"``)
    ``recurrence_day`` is the day of the month the rule names (negative counts
    from the end: ``-1`` is the last day, as in iCalendar), or the weekday 1..7
    (Monday..Sunday) for weekly rules; ``None`` for daily rules.
    ``每月20日前`` → month, 20, before; ``每季度末`` → quarter, -1, on_or_before;
    ``每季度10日前`` → quarter, 10 (the 10th of the quarter's first month);
    ``每年12月31日前`` → year, 31, before (the month is not stored: TargetValue
    has no field for it; ``raw`` keeps it); ``每周五前`` → week, 5, before;
    ``每日17时前`` → day, None, before (the hour is not stored either).
    Relations follow the absolute rules. Anything else starting with 每 is a
    ``"schedule"`` (``每周一上午``, ``每学期一次``).

Durations (form ``"duration"``)
    A number and a time unit followed by ``内``/``以内``/``之内`` (``7天内``,
    ``1个月内``), or a number of ``工作日``/``自然日``/``小时``/``分钟`` on its own
    (``3个工作日``, ``24小时``). ``7天`` and ``12个月`` without ``内`` are numeric
    counts with a unit, like ``≥200天``. ``duration_unit`` drops the measure word
    个 (``个工作日`` → ``工作日``) except in ``个月``, where 月 alone would read as a
    calendar month.

Grades (form ``"qualitative"``)
    The whole value is a word of :data:`GRADE_WORDS` or a level grade
    (``二级``, ``甲级``, ``AAA级`` ...). Free text that begins with a grade word of
    two or more characters (``及时反馈建议或意见``) stays text and gets flag
    ``starts_with_grade``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Any

from kg.records import TargetValue

# the parser's words are kg.words' (re-exported: the readers take them from here)
from kg.words import COMPARISON_WORDS, GRADE_WORDS, LEVEL_GRADE, NOT_APPLICABLE_WORDS

__all__ = [
    "COMPARISON_WORDS",
    "FLAGS",
    "GRADE_WORDS",
    "NOT_APPLICABLE_WORDS",
    "is_grade",
    "normalize_for_parsing",
    "parse_target",
    "strip_whitespace",
]

#: Every flag parse_target may set, with its meaning.
FLAGS: dict[str, str] = {
    "empty": "nothing printed (recognized=False)",
    "unrecognized": "no rule recognised the value (recognized=False)",
    "starts_with_grade": "free text that begins with a grade word, e.g. 及时反馈建议或意见",
    "invalid_date": "a date that does not exist, e.g. 2024年13月40日前 (recognized=False)",
    "missing_year": "a date without a year and no year given (recognized=False)",
    "year_assumed": "a date without a year; the year argument was used",
    "percent_above_100": "a percentage bound above 100",
    "lower_above_upper": "a range whose lower bound is above its upper bound",
    "unit_mismatch": "a range whose bounds print different units; the lower bound's is kept",
    "conflicting_comparison": "a sign and a word that disagree, e.g. ≤90%以上; the sign is kept",
}

# --------------------------------------------------------------------------- text

_WHITESPACE = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[。.;；,，、!！]+$")
_COMPARISON = re.compile(
    "|".join(re.escape(w) for w in sorted(COMPARISON_WORDS, key=len, reverse=True))
)


def strip_whitespace(text: str) -> str:
    """``text`` with all white space removed (whatever ``str.isspace`` accepts)."""
    return _WHITESPACE.sub("", text)


def normalize_for_parsing(text: str) -> str:
    """The copy of a target value the rules read: see the module docstring."""
    text = unicodedata.normalize("NFKC", strip_whitespace(text))
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _TRAILING_PUNCT.sub("", text)


_GRADE_SET = frozenset(GRADE_WORDS)
#: Grade words long enough to mark free text that starts with them.
_GRADE_PREFIXES = tuple(sorted((w for w in GRADE_WORDS if len(w) >= 2), key=len, reverse=True))


def is_grade(text: str) -> bool:
    """True when the whole (normalised) text is a grade: a word of GRADE_WORDS or a level."""
    t = normalize_for_parsing(text)
    return t in _GRADE_SET or LEVEL_GRADE.fullmatch(t) is not None


# --------------------------------------------------------------------------- patterns

_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_SNUM = rf"[+-]?{_NUM}"
_UNIT = r"(?:[%‰‱]|°C|[^\W\d_]{1,6}(?:/[^\W\d_]{1,6})?[23]?)"
_VAR = r"[^\W\d_]{1,10}"

_BEFORE = ("前", "之前", "以前")
_REL = r"(?P<rel>之前|以前|前|以内|之内|内|为止|止)?(?:完成)?"

_DATE_CN = re.compile(
    r"(?:截至|截止到|截止|于|在)?"
    r"(?:(?P<y>[0-9]{4})年)?"
    r"(?:(?P<m>[0-9]{1,2})月份?(?:(?P<d>[0-9]{1,2})[日号])?)?"
    r"(?P<end>底|末)?" + _REL
)
_DATE_NUM = re.compile(
    r"(?:截至|截止到|截止|于|在)?"
    r"(?P<y>[0-9]{4})(?P<sep>[./-])(?P<m>[0-9]{1,2})(?:(?P=sep)(?P<d>[0-9]{1,2}))?"
    r"(?P<end>底|末)?" + _REL
)

_REC_MONTH_DAY = re.compile(r"每个?月(?:的)?(?P<d>[0-9]{1,2})[日号]" + _REL)
_REC_QUARTER_DAY = re.compile(r"每个?季度?(?:的)?(?P<d>[0-9]{1,2})[日号]" + _REL)
_REC_PERIOD_END = re.compile(
    r"每个?(?P<p>月|季度|季|半年|年)(?:的)?(?:底|末|最后一天|最后一日)" + _REL
)
_REC_YEAR_DATE = re.compile(
    r"每年(?:的)?(?P<m>[0-9]{1,2})月份?(?:(?P<d>[0-9]{1,2})[日号])?(?P<end>底|末)?" + _REL
)
_REC_WEEK = re.compile(
    r"每个?(?:周|星期|礼拜)(?:的)?(?:星期|周|礼拜)?(?P<w>[一二三四五六日天七1-7])" + _REL
)
_REC_DAY = re.compile(r"每(?:日|天)(?P<h>[0-9]{1,2})(?:时|点)(?:整)?" + _REL)
_PERIODS = {"月": "month", "季度": "quarter", "季": "quarter", "半年": "half_year", "年": "year"}
_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}

_DURATION = re.compile(
    rf"(?P<n>{_NUM})"
    r"(?P<u>个?工作日|个?自然日|个?小时|分钟|天|日|个月|个?星期|周|个?季度|年)"
    r"(?P<rel>以内|之内|内)?"
)
_DURATION_ALONE = ("工作日", "自然日", "小时", "分钟")

_RANGE_UP = re.compile(
    rf"(?P<lo>{_SNUM})(?P<lu>{_UNIT})?(?P<c1><=|<){_VAR}(?P<c2><=|<)(?P<hi>{_SNUM})(?P<hu>{_UNIT})?"
)
_RANGE_DOWN = re.compile(
    rf"(?P<hi>{_SNUM})(?P<hu>{_UNIT})?(?P<c2>>=|>){_VAR}(?P<c1>>=|>)(?P<lo>{_SNUM})(?P<lu>{_UNIT})?"
)
_RANGE_DASH = re.compile(
    rf"(?P<lo>{_SNUM})(?P<lu>{_UNIT})?(?:-|~|〜|∼|–|—{{1,2}}|至|到)(?P<hi>{_SNUM})(?P<hu>{_UNIT})?"
)
_NUMERIC = re.compile(rf"(?:[nNxX]?(?P<cmp>>=|<=|>|<|=))?(?P<n>{_SNUM})(?P<unit>{_UNIT})?")
_SUFFIXES = {"及以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<="}


# --------------------------------------------------------------------------- helpers


def _value(raw: str, form: str, **fields: Any) -> TargetValue:
    return TargetValue(raw=raw, form=form, **fields)  # type: ignore[arg-type]


def _text(raw: str, *flags: str) -> TargetValue:
    return _value(raw, "text", recognized=False, flags=list(flags))


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _relation(rel: str | None, *, has_day: bool) -> str:
    if not rel:
        return "on" if has_day else "on_or_before"
    return "before" if rel in _BEFORE else "on_or_before"


def _absolute_date(
    y: int, m: int | None, d: int | None, end: str | None, rel: str | None
) -> tuple[dt.date, str]:
    """Deadline date and relation (see the module docstring); ValueError if impossible."""
    if d is not None:  # a day comes with its month; month or day 0 is no date (invalid_date)
        return dt.date(y, m if m is not None else 1, d), _relation(rel, has_day=True)
    starts = not end and rel in _BEFORE  # "before the period": its first day
    if m is not None:
        if starts:
            return dt.date(y, m, 1), "before"
        return dt.date(y, m, calendar.monthrange(y, m)[1]), "on_or_before"
    if starts:
        return dt.date(y, 1, 1), "before"
    return dt.date(y, 12, 31), "on_or_before"


def _parse_deadline(raw: str, t: str, year: int | None) -> TargetValue | None:
    m = _DATE_CN.fullmatch(t)
    if m is None or not (m["y"] or m["m"]):
        m = _DATE_NUM.fullmatch(t)
        if m is None or not (m["d"] or m["end"] or m["rel"]):
            return None  # 2024.12 is a number, 2024-12 a range
    if m["d"] and m["end"]:
        return None
    flags: list[str] = []
    if m["y"]:
        y = int(m["y"])
    else:  # 12月20日前: needs a day, an end or a relation to read as a date
        if not (m["d"] or m["end"] or m["rel"]):
            return None
        if year is None:
            return _text(raw, "missing_year")
        y = year
        flags.append("year_assumed")
    try:
        date, relation = _absolute_date(
            y, int(m["m"]) if m["m"] else None, int(m["d"]) if m["d"] else None, m["end"], m["rel"]
        )
    except (ValueError, OverflowError):
        return _text(raw, "invalid_date")
    return _value(raw, "deadline", deadline=date, deadline_relation=relation, flags=flags)


def _recurring(raw: str, period: str, day: int | None, relation: str) -> TargetValue:
    return _value(
        raw, "recurring", recurrence_period=period, recurrence_day=day, deadline_relation=relation
    )


def _parse_every(raw: str, t: str) -> TargetValue:
    """A value starting with 每: a recurring deadline, else a schedule in words."""
    if m := _REC_MONTH_DAY.fullmatch(t) or _REC_QUARTER_DAY.fullmatch(t):
        d = int(m["d"])
        if not 1 <= d <= 31:
            return _text(raw, "invalid_date")
        period = "month" if m.re is _REC_MONTH_DAY else "quarter"
        return _recurring(raw, period, d, _relation(m["rel"], has_day=True))
    if m := _REC_PERIOD_END.fullmatch(t):
        return _recurring(raw, _PERIODS[m["p"]], -1, "on_or_before")
    if m := _REC_YEAR_DATE.fullmatch(t):
        month, dom = int(m["m"]), int(m["d"]) if m["d"] else None
        if dom is not None and m["end"]:
            return _value(raw, "schedule", schedule=raw)
        try:
            dt.date(2000, month, dom if dom is not None else 1)  # a leap year: 2月29日 exists
        except ValueError:
            return _text(raw, "invalid_date")
        if dom is not None:
            return _recurring(raw, "year", dom, _relation(m["rel"], has_day=True))
        if not m["end"] and m["rel"] in _BEFORE:
            return _recurring(raw, "year", 1, "before")
        return _recurring(raw, "year", -1, "on_or_before")
    if m := _REC_WEEK.fullmatch(t):
        w = m["w"]
        return _recurring(
            raw, "week", int(w) if w.isdigit() else _WEEKDAYS[w], _relation(m["rel"], has_day=True)
        )
    if (m := _REC_DAY.fullmatch(t)) and int(m["h"]) <= 24:
        return _recurring(raw, "day", None, _relation(m["rel"], has_day=True))
    return _value(raw, "schedule", schedule=raw)


def _parse_duration(raw: str, t: str) -> TargetValue | None:
    m = _DURATION.fullmatch(t)
    if m is None:
        return None
    unit = m["u"] if m["u"] == "个月" else m["u"].removeprefix("个")
    if not m["rel"] and unit not in _DURATION_ALONE:
        return None  # 7天, 12个月: a count with a unit
    return _value(raw, "duration", duration_value=_decimal(m["n"]), duration_unit=unit)


def _percent_flags(percent: bool, *bounds: Decimal | None) -> list[str]:
    if percent and any(b is not None and b > 100 for b in bounds):
        return ["percent_above_100"]
    return []


def _parse_range(raw: str, t: str) -> TargetValue | None:
    for pattern in (_RANGE_UP, _RANGE_DOWN, _RANGE_DASH):
        if m := pattern.fullmatch(t):
            break
    else:
        return None
    lower, upper = _decimal(m["lo"]), _decimal(m["hi"])
    flags: list[str] = []
    unit = m["lu"] or m["hu"]
    if m["lu"] and m["hu"] and m["lu"] != m["hu"]:
        flags.append("unit_mismatch")
    if pattern is _RANGE_DASH:
        lower_inclusive = upper_inclusive = True
    else:
        lower_inclusive, upper_inclusive = "=" in m["c1"], "=" in m["c2"]
    if lower > upper:
        flags.append("lower_above_upper")
    percent = unit == "%"
    flags += _percent_flags(percent, lower, upper)
    return _value(
        raw,
        "range",
        comparison="range",
        lower=lower,
        upper=upper,
        lower_inclusive=lower_inclusive,
        upper_inclusive=upper_inclusive,
        unit=unit,
        percent=percent,
        flags=flags,
    )


def _parse_numeric(raw: str, t: str) -> TargetValue | None:
    suffix_cmp = None
    for word, sign in _SUFFIXES.items():
        if t.endswith(word) and len(t) > len(word):
            t, suffix_cmp = t.removesuffix(word), sign
            break
    m = _NUMERIC.fullmatch(t)
    if m is None:
        return None
    flags: list[str] = []
    cmp = m["cmp"] or suffix_cmp or "="
    if m["cmp"] and suffix_cmp and m["cmp"][0] != suffix_cmp[0]:
        flags.append("conflicting_comparison")
    n = _decimal(m["n"])
    fields: dict[str, Any]
    if cmp in (">=", ">"):
        fields = {"lower": n, "lower_inclusive": cmp == ">="}
    elif cmp in ("<=", "<"):
        fields = {"upper": n, "upper_inclusive": cmp == "<="}
    else:
        fields = {"lower": n, "upper": n, "lower_inclusive": True, "upper_inclusive": True}
    percent = m["unit"] == "%"
    flags += _percent_flags(percent, n)
    return _value(
        raw, "numeric", comparison=cmp, unit=m["unit"], percent=percent, flags=flags, **fields
    )


# --------------------------------------------------------------------------- entry point


def parse_target(raw: str, *, year: int | None = None) -> TargetValue:
    """Read a target value (目标值) as printed; never raises on a ``str``.

    ``year`` (e.g. the table's fiscal year) completes dates printed without one
    (``12月20日前``); without it such a date is text flagged ``missing_year``.
    See the module docstring for how each form is read.
    """
    raw = strip_whitespace(raw)
    t = normalize_for_parsing(raw)
    if not t:
        return _text(raw, "empty")
    if t.casefold() in NOT_APPLICABLE_WORDS:
        return _value(raw, "not_applicable")
    if t in _GRADE_SET or LEVEL_GRADE.fullmatch(t):
        return _value(raw, "qualitative", grade=t)
    if (v := _parse_deadline(raw, t, year)) is not None:
        return v
    if t.startswith("每"):
        return _parse_every(raw, t)
    if (v := _parse_duration(raw, t)) is not None:
        return v
    signed = _COMPARISON.sub(lambda m: COMPARISON_WORDS[m[0]], t)
    if (v := _parse_range(raw, signed) or _parse_numeric(raw, signed)) is not None:
        return v
    if t.startswith(_GRADE_PREFIXES):
        return _text(raw, "unrecognized", "starts_with_grade")
    return _text(raw, "unrecognized")
