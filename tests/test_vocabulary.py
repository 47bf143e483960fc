"""kg.readers.vocabulary: the one vocabulary of the readers, and both readers using it.

Header spellings one reader knew before the vocabulary was shared (度量单位 and
预期2025年实现值 only flat-text; 指标内容, 评价指标 only flat-text; 不小于 only the target
parser; (必填硬性指标) nobody) are read by both readers here, on small tables written
like the real ones.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kg.readers import template, vocabulary
from kg.readers.flat_text import read_text
from kg.readers.vocabulary import Amount, Marks, amount_of, compose_target, role_of, strip_marks

# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("一级指标", "level1"),
        ("评价指标", "level1"),
        ("一級指標", "level1"),  # traditional characters
        ("二级指标", "level2"),
        ("绩效内容", "level2"),
        ("三级指标", "name"),
        ("指标名称", "name"),
        ("指 标 内 容", "name"),  # white space folded
        ("指标值", "target"),
        ("年度指标值", "target"),
        ("当年预期实现值", "target"),
        ("预期2025年实现值", "target"),
        ("预期２０２５年度实现值", "target"),  # full-width digits (NFKC)
        ("全年（程）目标值", "target"),
        ("指标值（包含数字及文字描述）", "target"),
        ("中期指标值", "long_term"),
        ("实施周期目标值", "long_term"),
        ("半年指标值", "interim"),
        ("计量单位", "unit"),
        ("度量单位", "unit"),
        ("指标性质", "kind"),
        ("指标方向", "direction"),
        ("指标值类型", "sign"),
        ("全年实际完成值", "actual"),
        ("实际完成值(B)", "actual"),
        ("完成值", "actual"),
        ("实施进度", "actual"),
        ("分值", "weight"),
        ("权重", "weight"),
        ("指标权重", "weight"),
        ("得分", "score"),
        ("偏差原因分析及改进措施", "deviation"),
        ("未完成原因和改进措施", "deviation"),
        ("编码", "code"),
        ("指标编码", "code"),
        ("是否核心指标", "core"),
        ("一级指标原文", "level1_printed"),
        ("指标解释", "other"),
        ("2022年实际完成值", "other"),
        ("绩效指标", "side"),
        ("年度绩效目标(30分)", "side"),
        ("备注说明", None),
        ("项目名称", None),
        ("", None),
    ],
)
def test_role_of_every_spelling(header, role):
    assert role_of(header) == role


def test_a_header_search_starts_at_every_role_spelling():
    """The flat-text reader starts a header word only at HEADER_STARTS: each role's
    spellings (the examples above) must start with one of them."""
    examples = ["评价指标", "绩效内容", "计量单位", "度量单位", "偏差原因", "未完成原因", "备注"]
    examples += [
        "半年指标值",
        "中期指标值",
        "累计完成率",
        "2022年实际完成值",
        "项目年度绩效目标衡量指标",
    ]
    for text in examples:
        assert vocabulary.match_header(text, 0) is not None, text
        assert text[0] in vocabulary.HEADER_STARTS, text


# --------------------------------------------------------------------------- both readers

#: The national form's indicator columns, spelled as some provinces print them.
TEMPLATE_CSV = (
    "记录类型,表名,部门,年度,一级指标,二级指标,指标内容,指标性质,预期2025年实现值,度量单位\n"
    "表,某县农业农村局项目支出绩效目标表,某县农业农村局,2025,,,,,,\n"
    "指标,,,,产出指标,数量指标,培训农户人次,≥,1200,人次\n"
    "指标,,,,产出指标,质量指标,培训合格率,大于等于,95,%\n"
    "指标,,,,效益指标,社会效益指标,农户种植技术水平,定性,明显提升,\n"
)


def test_template_csv_reads_the_spellings_flat_text_knew(tmp_path: Path):
    path = tmp_path / "national_form.csv"
    path.write_text(TEMPLATE_CSV, encoding="utf-8")
    parsed = template.read(path)
    got = [(i.name, i.target, i.value_kind) for i in parsed.indicators]
    assert got == [
        ("培训农户人次", "≥1200人次", None),
        ("培训合格率", "≥95%", None),
        ("农户种植技术水平", "明显提升", "定性"),
    ]
    assert parsed.indicators[0].target_parsed.lower == Decimal("1200")
    assert parsed.warnings == []  # no column is unknown


FLAT_TABLE = """\
某县农业农村局2025年项目支出绩效目标表
预算单位:某县农业农村局 金额单位:万元
评价指标 | 绩效内容 | 指标内容 | 指标性质 | 预期2025年实现值 | 度量单位 |
产出指标 | 数量指标 | 培训农户人次 | 不小于 | 1200 | 人次 |
| 质量指标 | 培训合格率 | 大于等于 | 95 | % |
满意度指标(必填硬性指标) | 服务对象满意度指标 | 农户满意度 | 不少于 | 90 | % |
"""


def test_flat_text_reads_the_same_columns_and_the_union_of_sign_words():
    parsed = read_text(FLAT_TABLE)
    got = [(i.level1, i.level2, i.name, i.target) for i in parsed.indicators]
    assert got == [
        ("产出指标", "数量指标", "培训农户人次", "≥1200人次"),  # 不小于: a word of kg.targets
        ("产出指标", "质量指标", "培训合格率", "≥95%"),
        ("满意度指标", "服务对象满意度指标", "农户满意度", "≥90%"),  # the note is dropped
    ]


def test_template_side_header_is_the_name_column_only_without_another():
    table = template.GridSheet(
        "基本信息", [["项目", "内容"], ["表名", "某局绩效目标表"], ["年度", "2024"]]
    )

    def names(header: list[str], row: list[str]) -> list[str]:
        parsed = template.read_grids("t.xlsx", [table, template.GridSheet("Sheet1", [header, row])])
        return [i.name for i in parsed.indicators]

    # 绩效指标 printed down the left beside 三级指标: the names are in 三级指标
    assert names(
        ["绩效指标", "一级指标", "二级指标", "三级指标", "指标值"],
        ["绩效指标", "产出指标", "数量指标", "培训人次", "≥100人次"],
    ) == ["培训人次"]
    # 绩效指标 as the only name column (a drafter's spelling): it holds the names
    assert names(
        ["一级指标", "二级指标", "绩效指标", "指标值"],
        ["产出指标", "数量指标", "培训人次", "≥100人次"],
    ) == ["培训人次"]


# --------------------------------------------------------------------------- marks


@pytest.mark.parametrize(
    ("printed", "marks"),
    [
        # category labels as the corpus prints them (anhui_*_selfeval, chongqing_*)
        ("产出指标(50分)", Marks("产出指标", score="50")),
        ("效益指标（30分）", Marks("效益指标", score="30")),
        ("满意度指标(10分)", Marks("满意度指标", score="10")),
        ("满意度指标（必填硬性指标）", Marks("满意度指标", note="必填硬性指标")),
        ("服务对象满意度(核心指标)", Marks("服务对象满意度", note="核心指标")),
        # names: core marks and code prefixes
        ("★培训次数", Marks("培训次数", core=True)),
        ("指标2:覆盖人数", Marks("覆盖人数", code="指标2")),
        ("指标 1．★受益人口数", Marks("受益人口数", code="指标1", core=True)),
        # what stays
        ("培训出勤率(%)", Marks("培训出勤率(%)")),
        ("(50分)", Marks("(50分)")),
        ("数量指标", Marks("数量指标")),
    ],
)
def test_strip_marks_on_real_labels(printed, marks):
    assert strip_marks(printed) == marks


def test_a_name_keeps_its_score():
    assert strip_marks("预算执行情况(10分)", score=False) == Marks("预算执行情况(10分)")
    assert strip_marks("预算执行情况(10分)").text == "预算执行情况"


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,234.50", Amount(Decimal("1234.50"), None)),
        ("3,133.45", Amount(Decimal("3133.45"), None)),
        ("12万元", Amount(Decimal("12"), "万元")),
        ("1,200 元", Amount(Decimal("1200"), "元")),
        ("－5", Amount(Decimal("-5"), None)),  # full-width minus
        ("１２３.４", Amount(Decimal("123.4"), None)),
        ("0", Amount(Decimal("0"), None)),
        ("1,23", None),  # not thousands groups
        ("12万", None),
        ("约12万元", None),
        ("", None),
    ],
)
def test_amount_of(text, amount):
    assert amount_of(text) == amount


def test_cents_and_spreadsheet_numbers():
    assert vocabulary.cents(Decimal("0")) == Decimal("0.00")
    assert str(vocabulary.cents(Decimal("3133.4"))) == "3133.40"
    assert str(vocabulary.cents(Decimal("1.2345"))) == "1.2345"
    assert vocabulary.decimal_of_number(313.34500000000003) == Decimal("313.345")


@pytest.mark.parametrize(
    ("value", "unit", "sign", "target"),
    [
        ("5", "次", "≥", "≥5次"),
        ("100", "%", "═", "=100%"),
        ("95", "%", "大于或等于", "≥95%"),
        ("200", "元", "不高于", "≤200元"),
        ("明显提升", None, "定性", "明显提升"),
        ("明显提升", "%", None, "明显提升"),  # a unit only after a number
        ("95%", "%", None, "95%"),
        ("≥95", "%", "≥", "≥95%"),  # the value prints its sign already
        ("2 0", None, None, "20"),
    ],
)
def test_compose_target(value, unit, sign, target):
    assert compose_target(value, unit, sign) == target


def test_sign_words_are_the_target_parsers():
    from kg.targets import COMPARISON_WORDS

    words = {w for w in COMPARISON_WORDS if not w.isascii() and w[0] not in "≥≧⩾≤≦⩽"}
    assert set(vocabulary.SIGN_WORDS) == words
    assert vocabulary.sign_of("大于等于") == vocabulary.sign_of("不少于") == "≥"
    assert vocabulary.sign_of("低于") == "<"
    assert vocabulary.sign_of("正向") is None


def test_title_and_text_folding():
    assert vocabulary.split_title("中共深圳市福田区委组织部 部门整体支出绩效目标表") == (
        "中共深圳市福田区委组织部",
        "部门整体支出绩效目标表",
    )
    assert vocabulary.split_title("某局项目支出绩效自评表") is None
    assert vocabulary.fold("总额（万元）\u3000") == "总额(万元)"
    assert vocabulary.key("產出 指標") == "产出指标"
    assert vocabulary.simplified_or_none("培訓人次") == "培训人次"
    assert vocabulary.simplified_or_none("培训人次") is None
