"""kg.targets.parse_target: every form on the targets the seed table prints, plus properties."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import get_args

import pytest
from conftest import SEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.records import TargetForm
from kg.targets import FLAGS, GRADE_WORDS, parse_target

FORMS = set(get_args(TargetForm))
D = Decimal


def no_ws(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


def check(text: str, form: str, **expected: object) -> None:
    v = parse_target(text)
    assert v.raw == no_ws(text)
    assert v.form == form, v
    for key, want in expected.items():
        assert getattr(v, key) == want, (key, v)


# --------------------------------------------------------------------------- numeric

NUMERIC = [
    # text, comparison, lower, upper, unit, percent
    ("≦6人", "<=", None, D(6), "人", False),
    ("2700卷", "=", D(2700), D(2700), "卷", False),
    ("≥2次", ">=", D(2), None, "次", False),
    ("≥40人", ">=", D(40), None, "人", False),
    ("3场", "=", D(3), D(3), "场", False),
    ("≥5000本", ">=", D(5000), None, "本", False),
    ("≧40人", ">=", D(40), None, "人", False),
    ("649人次", "=", D(649), D(649), "人次", False),
    ("12个月", "=", D(12), D(12), "个月", False),
    ("≧1次", ">=", D(1), None, "次", False),
    ("≧10次", ">=", D(10), None, "次", False),
    ("300人次", "=", D(300), D(300), "人次", False),
    ("17人次", "=", D(17), D(17), "人次", False),
    ("≥1场", ">=", D(1), None, "场", False),
    ("100%", "=", D(100), D(100), "%", True),
    ("≥35场", ">=", D(35), None, "场", False),
    ("≥2场次", ">=", D(2), None, "场次", False),
    ("≧50次", ">=", D(50), None, "次", False),
    ("≧1个", ">=", D(1), None, "个", False),
    ("≥1000次", ">=", D(1000), None, "次", False),
    ("≥17850人", ">=", D(17850), None, "人", False),
    ("≥2000人次", ">=", D(2000), None, "人次", False),
    ("≥300人次", ">=", D(300), None, "人次", False),
    ("≥90人次", ">=", D(90), None, "人次", False),
    ("≥5次", ">=", D(5), None, "次", False),
    ("4次", "=", D(4), D(4), "次", False),
    ("≧90%", ">=", D(90), None, "%", True),
    ("≥90%", ">=", D(90), None, "%", True),
    ("≥95%", ">=", D(95), None, "%", True),
    ("≥50%", ">=", D(50), None, "%", True),
    ("≥15人", ">=", D(15), None, "人", False),
    ("≧95%", ">=", D(95), None, "%", True),
    ("≥85%", ">=", D(85), None, "%", True),
    ("＞90%", ">", D(90), None, "%", True),
    ("＞100人", ">", D(100), None, "人", False),
    ("＞300份", ">", D(300), None, "份", False),
    ("≥200天", ">=", D(200), None, "天", False),
    ("≥6人", ">=", D(6), None, "人", False),
    ("1次", "=", D(1), D(1), "次", False),
]
#: Other spellings, not in the seed.
NUMERIC_MORE = [
    ("=5", "=", D(5), D(5), None, False),
    ("≤6人", "<=", None, D(6), "人", False),
    ("<5%", "<", None, D(5), "%", True),
    ("不低于90%", ">=", D(90), None, "%", True),
    ("不超过3次", "<=", None, D(3), "次", False),
    ("大于等于1,000元", ">=", D(1000), None, "元", False),
    ("≥1,234.5万元", ">=", D("1234.5"), None, "万元", False),
    ("≥９０％", ">=", D(90), None, "%", True),
    ("90%以上", ">=", D(90), None, "%", True),
    ("1.5‰", "=", D("1.5"), D("1.5"), "‰", False),
]


@pytest.mark.parametrize(
    ("text", "comparison", "lower", "upper", "unit", "percent"), NUMERIC + NUMERIC_MORE
)
def test_numeric(text, comparison, lower, upper, unit, percent):
    check(
        text,
        "numeric",
        comparison=comparison,
        lower=lower,
        upper=upper,
        unit=unit,
        percent=percent,
        recognized=True,
        flags=[],
    )


def test_numeric_inclusiveness():
    check(">100人", "numeric", lower=D(100), lower_inclusive=False, upper_inclusive=None)
    check("≥90%", "numeric", lower_inclusive=True, upper=None)
    check("≦6人", "numeric", upper_inclusive=True, lower=None, lower_inclusive=None)
    check("2700卷", "numeric", lower_inclusive=True, upper_inclusive=True)


# --------------------------------------------------------------------------- range

RANGES = [
    # text, lower, upper, lower_inclusive, upper_inclusive, unit
    ("100人≤n≤129人", D(100), D(129), True, True, "人"),
    ("100人≤n≤129", D(100), D(129), True, True, "人"),
    ("95%≤n≤100%", D(95), D(100), True, True, "%"),
    ("90%≤n≤100%", D(90), D(100), True, True, "%"),
    ("90%<n≤100%", D(90), D(100), False, True, "%"),
    ("90%≤n<100%", D(90), D(100), True, False, "%"),
    ("90%-100%", D(90), D(100), True, True, "%"),
    ("90%~100%", D(90), D(100), True, True, "%"),
    ("90%～100%", D(90), D(100), True, True, "%"),
    ("90%至100%", D(90), D(100), True, True, "%"),
    ("90-100%", D(90), D(100), True, True, "%"),
    ("1,000元-2,000元", D(1000), D(2000), True, True, "元"),
]


@pytest.mark.parametrize(("text", "lower", "upper", "li", "ui", "unit"), RANGES)
def test_range(text, lower, upper, li, ui, unit):
    check(
        text,
        "range",
        comparison="range",
        lower=lower,
        upper=upper,
        lower_inclusive=li,
        upper_inclusive=ui,
        unit=unit,
        percent=unit == "%",
        flags=[],
    )


def test_flags_percent_above_100_and_lower_above_upper():
    check("120%", "numeric", lower=D(120), percent=True, flags=["percent_above_100"])
    check("90%≤n≤120%", "range", flags=["percent_above_100"])
    check(
        "129人≤n≤100人", "range", lower=D(129), upper=D(100), unit="人", flags=["lower_above_upper"]
    )
    check("100%", "numeric", flags=[])


# --------------------------------------------------------------------------- deadline

DEADLINES = [
    ("2024年12月20日前", dt.date(2024, 12, 20), "before"),
    ("2023年12月20日前", dt.date(2023, 12, 20), "before"),
    ("2024年12月25日前", dt.date(2024, 12, 25), "before"),
    ("2024年8月30日前", dt.date(2024, 8, 30), "before"),
    ("2024年 8月 30日前", dt.date(2024, 8, 30), "before"),
    ("2024年12月31日之前", dt.date(2024, 12, 31), "before"),
    ("2024年12月31日以前", dt.date(2024, 12, 31), "before"),
    ("2024年12月底前", dt.date(2024, 12, 31), "on_or_before"),
    ("2024年2月底前", dt.date(2024, 2, 29), "on_or_before"),
    ("2024年底前", dt.date(2024, 12, 31), "on_or_before"),
    ("2024年12月31日", dt.date(2024, 12, 31), "on"),
    ("2024年6月前", dt.date(2024, 6, 1), "before"),  # literally "before June"
    ("2024年6月", dt.date(2024, 6, 30), "on_or_before"),
    ("2024年6月内", dt.date(2024, 6, 30), "on_or_before"),
    ("2024.12.31前", dt.date(2024, 12, 31), "before"),
    ("2024-12-31", dt.date(2024, 12, 31), "on"),
    ("2024/6/30前", dt.date(2024, 6, 30), "before"),
    ("２０２４年１２月２０日前", dt.date(2024, 12, 20), "before"),
]


@pytest.mark.parametrize(("text", "date", "relation"), DEADLINES)
def test_deadline(text, date, relation):
    check(text, "deadline", deadline=date, deadline_relation=relation, recognized=True)


def test_invalid_date_is_flagged_text():
    check("2024年13月40日前", "text", recognized=False, flags=["invalid_date"])
    check("2023年2月29日前", "text", recognized=False, flags=["invalid_date"])
    check("2024.02.30", "text", recognized=False, flags=["invalid_date"])


def test_month_or_day_zero_is_not_shifted():
    # month 0 once read as January (``m or 1``): it is no date, and says so
    for raw in ("2024年0月15日前", "2024年1月0日前", "2024年0月前", "2024年0月", "2024-00-15前"):
        check(raw, "text", recognized=False, flags=["invalid_date"])
    check("每年0月1日前", "text", recognized=False, flags=["invalid_date"])
    check("每年3月0日前", "text", recognized=False, flags=["invalid_date"])
    assert parse_target("2024年1月15日前").deadline == dt.date(2024, 1, 15)


def test_date_without_year():
    check("12月20日前", "text", recognized=False, flags=["missing_year"])
    v = parse_target("12月20日前", year=2024)
    assert (v.form, v.deadline, v.flags) == ("deadline", dt.date(2024, 12, 20), ["year_assumed"])


# --------------------------------------------------------------------------- recurring

RECURRING = [
    ("每月20日前", "month", 20, "before"),
    ("每月 20日前", "month", 20, "before"),
    ("每月5日", "month", 5, "on"),
    ("每月底前", "month", -1, "on_or_before"),
    ("每季度末", "quarter", -1, "on_or_before"),
    ("每季度10日前", "quarter", 10, "before"),
    ("每半年末", "half_year", -1, "on_or_before"),
    ("每年12月31日前", "year", 31, "before"),
    ("每年底前", "year", -1, "on_or_before"),
    ("每周五前", "week", 5, "before"),
    ("每周日", "week", 7, "on"),
    ("每星期一前", "week", 1, "before"),
    ("每日17时前", "day", None, "before"),
]


@pytest.mark.parametrize(("text", "period", "day", "relation"), RECURRING)
def test_recurring(text, period, day, relation):
    check(
        text,
        "recurring",
        recurrence_period=period,
        recurrence_day=day,
        deadline_relation=relation,
        deadline=None,
    )


def test_recurring_invalid_day():
    check("每月40日前", "text", recognized=False, flags=["invalid_date"])
    check("每年2月30日前", "text", recognized=False, flags=["invalid_date"])


# --------------------------------------------------------------------------- duration

DURATIONS = [
    ("20个工作日内", D(20), "工作日"),
    ("3个工作日", D(3), "工作日"),
    ("7天内", D(7), "天"),
    ("30日内", D(30), "日"),
    ("2小时内", D(2), "小时"),
    ("1个月内", D(1), "个月"),
    ("24小时", D(24), "小时"),
    ("3年以内", D(3), "年"),
]


@pytest.mark.parametrize(("text", "value", "unit"), DURATIONS)
def test_duration(text, value, unit):
    check(text, "duration", duration_value=value, duration_unit=unit, comparison=None)


# --------------------------------------------------------------------------- schedule

SCHEDULES = [
    "每季度首月第一个星期二下午三点",
    "每季度首月第一\n个星期二下午三\n点",
    "每周一上午",
    "每学期一次",
    "每月1次",
]


@pytest.mark.parametrize("text", SCHEDULES)
def test_schedule(text):
    check(text, "schedule", schedule=no_ws(text), recognized=True)


# --------------------------------------------------------------------------- qualitative

GRADES = [
    "及时",
    "显著",
    "明显",
    "二级",
    "有效",
    "较好",
    "稳步提升",
    "是",
    "否",
    "甲级",
    "AAA级",
    "无",
]


@pytest.mark.parametrize("text", GRADES)
def test_qualitative(text):
    check(text, "qualitative", grade=text, recognized=True, flags=[])


def test_grade_vocabulary():
    assert isinstance(GRADE_WORDS, tuple)
    assert len(GRADE_WORDS) == len(set(GRADE_WORDS))
    for word in GRADE_WORDS:
        check(word, "qualitative", grade=word)


# --------------------------------------------------------------------------- not applicable / text


@pytest.mark.parametrize("text", ["不适用", "无此项", "/", "／", "—", "——", "N/A"])
def test_not_applicable(text):
    check(text, "not_applicable", recognized=True, flags=[])


def test_text():
    check(
        "及时反馈建议或意见", "text", recognized=False, flags=["unrecognized", "starts_with_grade"]
    )
    check("加强宣传引导", "text", recognized=False, flags=["unrecognized"])
    check("", "text", recognized=False, flags=["empty"])
    check(" \u3000\xa0\n", "text", recognized=False, flags=["empty"], raw="")
    check("≥1e999999", "text", recognized=False)


def test_huge_number_does_not_raise():
    v = parse_target("9" * 5000)
    assert v.form == "numeric" and v.lower == D("9" * 5000)
    assert parse_target("≥" + "9" * 5000 + "%").flags == ["percent_above_100"]
    assert parse_target("2024年" + "1" * 5000 + "月前").form == "text"


# --------------------------------------------------------------------------- the seed table

#: Every target the seed prints (after joining wrapped lines), with its form.
SEED_TARGETS = {
    "numeric": [t for t, *_ in NUMERIC],
    "range": ["100人≤n≤129人", "95%≤n≤100%", "90%≤n≤100%"],
    "deadline": ["2024年12月20日前", "2023年12月20日前", "2024年12月25日前", "2024年8月30日前"],
    "recurring": ["每月20日前"],
    "duration": ["20个工作日内"],
    "schedule": ["每季度首月第一个星期二下午三点"],
    "qualitative": ["及时", "显著", "明显", "二级"],
    "not_applicable": ["不适用"],
    "text": ["及时反馈建议或意见"],
}


def _printed(text: str, source: str) -> str | None:
    """``text`` as the seed prints it, white space (line breaks) and all."""
    pattern = r"\s*".join(re.escape(c) for c in text)
    m = re.search(pattern, source)
    return m[0] if m else None


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"{SEED} not available")
    return SEED.read_text(encoding="utf-8")


def test_every_seed_target_is_printed_and_parses(seed_text):
    for form, targets in SEED_TARGETS.items():
        for target in targets:
            printed = _printed(target, seed_text)
            assert printed is not None, target
            v = parse_target(printed)
            assert (v.raw, v.form) == (target, form)


def test_seed_targets_split_by_white_space(seed_text):
    printed = _printed("2024年8月30日前", seed_text)
    assert printed is not None and printed != "2024年8月30日前"  # "2024年 8月 30\n日前"
    check(
        printed,
        "deadline",
        raw="2024年8月30日前",
        deadline=dt.date(2024, 8, 30),
        deadline_relation="before",
    )

    assert "每月 20日前" in seed_text
    check(
        "每月 20日前",
        "recurring",
        raw="每月20日前",
        recurrence_period="month",
        recurrence_day=20,
        deadline_relation="before",
    )

    printed = _printed("100人≤n≤129人", seed_text)
    assert printed is not None and "\n" in printed
    check(
        printed,
        "range",
        lower=D(100),
        upper=D(129),
        unit="人",
        lower_inclusive=True,
        upper_inclusive=True,
    )

    printed = _printed("每季度首月第一个星期二下午三点", seed_text)
    assert printed is not None and "\n" in printed
    check(printed, "schedule", schedule="每季度首月第一个星期二下午三点")

    printed = _printed("2024年12月20日前", seed_text)
    assert printed is not None and "\n" in printed
    check(printed, "deadline", deadline=dt.date(2024, 12, 20))


# --------------------------------------------------------------------------- properties

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "≥",
    "≧",
    "≤",
    "≦",
    ">",
    "<",
    "=",
    "＞",
    "＜",
    "＝",
    ">=",
    "不低于",
    "不超过",
    "大于",
    "等于",
    "0",
    "1",
    "2",
    "9",
    "12",
    "31",
    "100",
    "2024",
    "1,000",
    ".5",
    "９",
    "-",
    "~",
    "至",
    "+",
    "%",
    "％",
    "‰",
    "人",
    "人次",
    "个",
    "个月",
    "万元",
    "工作日",
    "小时",
    "天",
    "日",
    "月",
    "年",
    "n",
    "x",
    "前",
    "之前",
    "内",
    "以内",
    "以上",
    "底",
    "末",
    "每",
    "周",
    "季度",
    "五",
    "级",
    "二",
    "显著",
    "及时",
    "不适用",
    "/",
    "—",
    ".",
    " ",
    "\u3000",
    "\xa0",
    "\n",
    "\t",
    "\x00",
    "\u200b",
]
token_text = st.lists(st.sampled_from(TOKENS), max_size=10).map("".join)


def _invariants(text: str) -> None:
    v = parse_target(text)
    assert v.raw == no_ws(text)
    assert v.form in FORMS
    assert all(flag in FLAGS for flag in v.flags)
    if not v.recognized:
        assert v.flags and v.form == "text"


@FAST
@given(st.text())
def test_never_raises_on_any_text(text):
    _invariants(text)


@FAST
@given(token_text)
def test_never_raises_on_target_like_text(text):
    _invariants(text)


@FAST
@given(
    st.integers(min_value=0, max_value=10**40)
    | st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
)
def test_percent_lower_bound_round_trips(n):
    v = parse_target(f"≥{n}%")
    assert (v.form, v.comparison, v.lower, v.percent, v.unit) == ("numeric", ">=", D(n), True, "%")
    assert ("percent_above_100" in v.flags) == (n > 100)


@FAST
@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**12))
def test_range_round_trips(a, b):
    v = parse_target(f"{a:,}人 ≤ n ≤ {b:,}人")
    assert (v.form, v.lower, v.upper, v.unit) == ("range", D(a), D(b), "人")
    assert ("lower_above_upper" in v.flags) == (a > b)


@FAST
@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_deadline_round_trips(date):
    v = parse_target(f"{date.year}年 {date.month}月 {date.day}日前")
    assert (v.form, v.deadline, v.deadline_relation) == ("deadline", date, "before")
