"""The flat-text reader on small tables written here, one rule at a time.

The real tables of ../shared/corpus are in test_corpus_tables.py; these cases pin
the rules the reader applies to any table: column sets, sign + value + unit,
carried-down and inferred categories, markers and prefixes, traditional
characters, cut rows, warnings with positions and the errors.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kg.errors import NotATargetTableError
from kg.readers import _hanzi, flat_text, seed_text
from kg.readers.flat_text import read, read_text

TABLES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tables"

ROOT = Path(__file__).resolve().parents[1]
DEMO_SEED = ROOT / "data" / "demo" / "000_3b89ef93caa61199.txt"

PIPE_TABLE = """\
2024年度项目支出绩效目标表 |
项目名称 | 测试项目 | 预算单位 | 某某局 | 金额单位:万元 |
项目总预算 | 120.50 | 当年年度预算 | 100 |
其中:财政资金 | 80 | 其中:其它资金 | 20 |
一级指标 | 二级指标 | 三级指标 | 指标性质 | 指标值 | 计量单位 | 分值 |
产出指标 | 数量指标 | ★培训次数 | ≥ | 5 | 次 | 10 |
| 指标2:覆盖人数 | ≤ | 300 | 人 | 10 |
| 质量指标 | 合格率 | ═ | 100 | % | 10 |
成本指标 | 经济成本指标 | 人均成本 | ≤ | 200 | 元 | 10 |
效益指标 | 社会效益指标 | 群众获得感 | 定性 | 明显提升 | 10 |
满意度指标 | 服务对象满意度指标 | 满意度 | ≥ | 9
"""


def rows(parsed):
    return [(i.level1, i.level2, i.name, i.target) for i in parsed.indicators]


def warnings(parsed):
    return [(w.source.line, w.message) for w in parsed.warnings]


# --------------------------------------------------------------------------- columns


def test_sign_value_unit_columns_compose_the_target() -> None:
    parsed = read_text(PIPE_TABLE, "t.txt")
    assert rows(parsed) == [
        ("产出指标", "数量指标", "培训次数", "≥5次"),
        ("产出指标", "数量指标", "覆盖人数", "≤300人"),
        ("产出指标", "质量指标", "合格率", "=100%"),  # ═ reads =
        ("成本指标", "经济成本指标", "人均成本", "≤200元"),
        ("效益指标", "社会效益指标", "群众获得感", "明显提升"),  # 定性: the value alone
        ("满意度指标", "服务对象满意度指标", "满意度", "≥9"),  # cut: kept, with a warning
    ]
    first, second = parsed.indicators[:2]
    assert first.core and first.code is None
    assert second.code == "指标2" and not second.core
    assert [i.weight for i in parsed.indicators] == [Decimal("10")] * 5 + [None]
    assert parsed.indicators[0].target_parsed.comparison == ">="
    assert [i.source.line for i in parsed.indicators] == [6, 7, 8, 9, 10, 11]
    assert parsed.table.category_scheme == "2021"  # 成本指标 over 经济成本指标: level 1


def test_header_facts_and_totals() -> None:
    parsed = read_text(PIPE_TABLE, "t.txt")
    t = parsed.table
    assert (t.title, t.department, t.fiscal_year, t.currency_unit) == (
        "2024年度项目支出绩效目标表",
        "某某局",
        2024,
        "万元",
    )
    assert t.project_name == "测试项目" and not t.self_evaluation
    assert t.table_type == "项目支出绩效目标表"
    assert t.source.line == 1
    totals = parsed.totals
    assert totals is not None
    assert (totals.label, totals.total, totals.fiscal, totals.other) == (
        "当年年度预算",
        Decimal("100"),
        Decimal("80"),
        Decimal("20"),
    )
    assert (totals.source.line, totals.source.end_line) == (3, 4)


def test_a_cut_last_row_is_kept_with_a_warning_at_its_line() -> None:
    """The name is whole (a cell follows it): the row counts; its last value may be cut."""
    parsed = read_text(PIPE_TABLE, "t.txt")
    assert warnings(parsed) == [
        (11, "表格文字在此行中断，已读入名称和指标值；最后一个值可能不完整")
    ]
    assert parsed.warnings[0].text == "满意度 | ≥ | 9"
    assert parsed.warnings[0].source.file == "t.txt"


def test_self_evaluation_columns() -> None:
    text = """\
2022年度项目支出绩效自评表
项目名称 学生资助 主管部门 某县教育局 项目资金(元)
一级指标 二级指标 三级指标 年度指标值 实际完成值 分值 得分 偏差原因分析及改进措施
产出指标 数量指标 资助人数 ≥100人 96人 10 8 部分学生转学
质量指标 发放准确率 100% 100% 10 10
满意度指标 服务对象满意度指标 家长满意度 ≥90% 95% 10 10
其他需要说明事项 无
"""
    parsed = read_text(text, "s.txt")
    assert parsed.table.self_evaluation
    assert parsed.table.currency_unit == "元"
    got = [(i.name, i.target, i.actual, i.weight, i.score, i.deviation) for i in parsed.indicators]
    assert got == [
        ("资助人数", "≥100人", "96人", Decimal("10"), Decimal("8"), "部分学生转学"),
        ("发放准确率", "100%", "100%", Decimal("10"), Decimal("10"), None),
        ("家长满意度", "≥90%", "95%", Decimal("10"), Decimal("10"), None),
    ]
    actual = parsed.indicators[0].actual_parsed
    assert actual is not None and actual.lower == Decimal("96") and actual.unit == "人"
    assert warnings(parsed) == [(7, "表格之后的文字（页脚、附注、页面元素）未读入")]


def test_a_deviation_ends_its_line_in_one_row_per_line_layouts() -> None:
    text = """\
2022年度项目支出绩效自评表
单位名称 某局
一级指标 二级指标 三级指标 指标值 实际完成值 偏差原因
产出指标 数量指标 检查次数 ≥10次 8次 人员调整
核查企业数 ≥20家 20家
"""
    parsed = read_text(text, "d.txt")
    got = [(i.name, i.target, i.actual, i.deviation) for i in parsed.indicators]
    assert got == [
        ("检查次数", "≥10次", "8次", "人员调整"),
        ("核查企业数", "≥20家", "20家", None),
    ]


def test_deviation_before_a_category_label() -> None:
    text = """\
2022年度项目支出绩效自评表
单位名称 某局
一级指标 二级指标 三级指标 指标值 实际完成值 偏差原因
产出指标 数量指标 检查次数 ≥10次 8次 人员调整 质量指标 整改率 100% 100%
"""
    parsed = read_text(text, "d.txt")
    got = [(i.level2, i.name, i.target, i.actual, i.deviation) for i in parsed.indicators]
    assert got == [
        ("数量指标", "检查次数", "≥10次", "8次", "人员调整"),
        ("质量指标", "整改率", "100%", "100%", None),
    ]


# --------------------------------------------------------------------------- categories


def test_labels_carry_down_join_and_level1_is_inferred_with_a_warning() -> None:
    text = """\
(2021年度)
项目支出绩效目标表
预算单位
某局
一级指标

二级指标

三级指标

指标值

数量指标

培训人数

50人

质量指标

合格率

100%

社会效益

指标

群众知晓率

≥90%

满意度指标

服务对象

满意度指标

满意度

≥95%
"""
    parsed = read_text(text, "c.txt")
    assert rows(parsed) == [
        ("产出指标", "数量指标", "培训人数", "50人"),
        ("产出指标", "质量指标", "合格率", "100%"),
        ("效益指标", "社会效益指标", "群众知晓率", "≥90%"),
        ("满意度指标", "服务对象满意度指标", "满意度", "≥95%"),
    ]
    assert warnings(parsed) == [
        (13, "一级指标未印出，一级指标按二级指标推定为 产出指标"),
        (25, "二级指标 社会效益指标 不属于一级指标 产出指标，一级指标按二级指标推定为 效益指标"),
    ]


def test_cost_is_level2_under_output_unless_a_cost_category_follows() -> None:
    text = """\
2023年度项目支出绩效目标表 | 预算单位: | 某局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出指标 | 数量指标 | 次数 | 5次 |
成本指标 | 成本控制率 | 100% |
效益指标 | 社会效益指标 | 知晓率 | ≥90% |
满意度指标 | 服务对象满意度指标 | 满意度 | ≥90% |
"""
    parsed = read_text(text, "c.txt")
    assert rows(parsed)[1] == ("产出指标", "成本指标", "成本控制率", "100%")
    assert parsed.table.category_scheme == "legacy"


def test_score_annotation_of_a_category_is_removed_with_a_warning() -> None:
    text = """\
2022年度项目支出绩效目标表 | 预算单位: | 某局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出指标(50分) | 数量指标 | 次数 | 5次 |
"""
    parsed = read_text(text, "c.txt")
    assert rows(parsed) == [("产出指标", "数量指标", "次数", "5次")]
    assert warnings(parsed) == [(3, "类别 产出指标 标注的分值（50分）未保存")]


def test_unknown_category_is_kept_as_printed_with_a_warning_at_its_line() -> None:
    text = """\
2022年度项目支出绩效目标表 | 预算单位: | 某局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出指标 | 数量指标 | 次数 | 5次 |
奇怪指标 | 某某事项 | 10个 |
"""
    parsed = read_text(text, "u.txt")
    odd = parsed.indicators[1]
    assert (odd.name, odd.target, odd.source.line) == ("某某事项", "10个", 4)
    # nothing places 奇怪指标: the indicator is kept, not classified, its labels as printed
    assert (odd.level1, odd.level2) == ("未分类指标", "未分类")
    assert (odd.level1_printed, odd.level2_printed) == ("产出指标", "奇怪指标")
    assert [(w.source.file, w.source.line) for w in parsed.warnings] == [("u.txt", 4)]
    assert "奇怪指标" in parsed.warnings[0].message


def test_a_label_with_clear_words_goes_to_the_nearest_framework_category() -> None:
    text = """\
2022年度项目支出绩效目标表 | 预算单位: | 某局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出类指标 | 数量类指标 | 次数 | 5次 |
"""
    (ind,) = read_text(text, "n.txt").indicators
    assert (ind.level1, ind.level2) == ("产出指标", "数量指标")
    assert (ind.level1_printed, ind.level2_printed) == ("产出类指标", "数量类指标")


def test_row_without_target_is_kept_and_placeholder_rows_are_warnings() -> None:
    text = """\
2021年度项目支出绩效目标表
单位名称 某局
一级指标 二级指标 三级指标 指标值
产出指标 数量指标 指标1.检查次数 ≥3
指标2.抽检批次
指标3.培训人次 ≥20
成本指标 经济成本指标 0 0.00%
"""
    parsed = read_text(text, "w.txt")
    assert [(i.code, i.name, i.target) for i in parsed.indicators] == [
        ("指标1", "检查次数", "≥3"),
        ("指标2", "抽检批次", ""),  # a name and no value: kept, the review asks for it
        ("指标3", "培训人次", "≥20"),
    ]
    assert warnings(parsed) == [
        (5, "三级指标没有指标值（表中未填写），已读入，指标值为空"),
        (7, "三级指标为 '0'，视为空行，未读入"),
    ]


def test_concatenated_rows() -> None:
    text = """\
2020年度绩效目标表
项目主管部门某区教育局项目执行单位某学校
绩效指标一级指标二级指标指标内容指标值
产出指标数量指标学校改造覆盖率100%
质量指标校舍维修合格率100%
效益指标可持续影响指标均衡发展情况稳步提高
满意度指标服务对象满意度指标家长满意度≥90%
附件:
"""
    parsed = read_text(text, "c.txt")
    assert parsed.table.department == "某区教育局"
    assert rows(parsed) == [
        ("产出指标", "数量指标", "学校改造覆盖率", "100%"),
        ("产出指标", "质量指标", "校舍维修合格率", "100%"),
        ("效益指标", "可持续影响指标", "均衡发展情况", "稳步提高"),
        ("满意度指标", "服务对象满意度指标", "家长满意度", "≥90%"),
    ]
    assert [i.source.line for i in parsed.indicators] == [4, 5, 6, 7]


# --------------------------------------------------------------------------- characters


@pytest.mark.skipif(not _hanzi.available(), reason="opencc-python-reimplemented not installed")
def test_traditional_characters_are_matched_and_kept() -> None:
    text = """\
2024年度項目支出績效目標表 | 預算單位: | 某某局 |
一級指標 | 二級指標 | 三級指標 | 指標值 |
產出指標 | 數量指標 | 培訓場次 | ≥5場 |
效益指標 | 社會效益指標 | 群衆知曉率 | ≥90% |
滿意度指標 | 服務對象滿意度指標 | 滿意度 | ≥95% |
"""
    parsed = read_text(text, "tw.txt")
    assert [(i.level1, i.level2) for i in parsed.indicators] == [
        ("产出指标", "数量指标"),
        ("效益指标", "社会效益指标"),
        ("满意度指标", "服务对象满意度指标"),
    ]
    first = parsed.indicators[0]
    assert first.name == "培訓場次" and first.name_simplified == "培训场次"
    assert first.target == "≥5場"
    assert parsed.table.title == "2024年度項目支出績效目標表"
    assert parsed.table.table_type == "项目支出绩效目标表"


def test_simplified_names_have_no_simplified_copy() -> None:
    parsed = read_text(PIPE_TABLE, "t.txt")
    assert all(i.name_simplified is None for i in parsed.indicators)


# --------------------------------------------------------------------------- sniff, errors


def test_no_indicator_header_is_not_a_target_table() -> None:
    with pytest.raises(NotATargetTableError) as err:
        read_text("2024年县级部门整体支出绩效目标申报表\n预算部门:文化部门\n总额 | 100\n", "n.txt")
    assert "一级指标" in err.value.message and "指标值" in err.value.message


def test_empty_text_is_not_a_target_table() -> None:
    with pytest.raises(NotATargetTableError):
        read_text("  \n", "e.txt")


def test_sniff_claims_flattened_tables_only(tmp_path: Path) -> None:
    table = tmp_path / "t.txt"
    table.write_text(PIPE_TABLE, encoding="utf-8")
    prose = tmp_path / "p.txt"
    prose.write_text("关于下达资金的通知\n各单位：现将资金下达给你们。\n", encoding="utf-8")
    assert flat_text.sniff(table)
    assert not flat_text.sniff(prose)
    assert not seed_text.sniff(table)


def test_the_seed_layout_is_left_to_the_pdf_text_reader() -> None:
    assert not flat_text.sniff(DEMO_SEED)
    with pytest.raises(NotATargetTableError) as err:
        flat_text.read(DEMO_SEED)
    assert "pdf-text" in err.value.message


def test_comment_lines_at_the_top_are_skipped() -> None:
    parsed = read_text("# source: http://example.org/x\n# kind: test\n" + PIPE_TABLE, "c.txt")
    assert parsed.table.source.line == 3
    assert parsed.indicators[0].source.line == 8


def test_registered_reader_is_chosen_for_txt_tables(tmp_path: Path) -> None:
    from kg.readers import choose, readers

    if flat_text.NAME not in readers():
        pytest.skip("flat_text is not yet in kg.readers._MODULES")
    table = tmp_path / "t.txt"
    table.write_text(PIPE_TABLE, encoding="utf-8")
    assert choose(table).name == flat_text.NAME
    assert choose(DEMO_SEED).name == seed_text.NAME


def test_tab_separated_rows_keep_spaces_inside_cells() -> None:
    text = (
        "2023年度项目支出绩效目标表\n预算单位\t某局\n"
        "一级指标\t二级指标\t三级指标\t指标值\n"
        "产出指标\t数量指标\tGIS 系统 上线模块数\t≥3个\n"
        "\t\t培训人次\t≥100人次\n"
        "满意度指标\t服务对象满意度指标\t用户满意度\t≥90%\n"
    )
    parsed = read_text(text, "tab.txt")
    assert rows(parsed) == [
        ("产出指标", "数量指标", "GIS 系统 上线模块数", "≥3个"),
        ("产出指标", "数量指标", "培训人次", "≥100人次"),
        ("满意度指标", "服务对象满意度指标", "用户满意度", "≥90%"),
    ]


def test_a_header_repeated_after_a_page_break_is_skipped() -> None:
    text = """\
2023年度项目支出绩效目标表 | 预算单位: | 某局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出指标 | 数量指标 | 次数 | 5次 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
| 质量指标 | 合格率 | 100% |
"""
    parsed = read_text(text, "p.txt")
    assert rows(parsed) == [
        ("产出指标", "数量指标", "次数", "5次"),
        ("产出指标", "质量指标", "合格率", "100%"),
    ]
    assert parsed.warnings == []


def test_a_gbk_file_is_read_with_a_warning(tmp_path: Path) -> None:
    text = (
        TABLES / "sichuan_guangyuan_zhaohua_cdc_2021_leprosy_project_declaration.txt"
    ).read_text(encoding="utf-8")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(text.encode("gb18030"))
    utf8 = read(TABLES / "sichuan_guangyuan_zhaohua_cdc_2021_leprosy_project_declaration.txt")
    parsed = read(gbk)
    assert [i.name for i in parsed.indicators] == [i.name for i in utf8.indicators]
    assert parsed.warnings[0].message == "文件不是 UTF-8 编码，已按 GB18030 读入"
    assert parsed.warnings[0].source.line == 1


def test_binary_junk_is_refused_saying_what_was_found(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(NotATargetTableError) as err:
        read(junk)
    assert "不是 UTF-8" in err.value.message and "GB18030" in err.value.message


# --------------------------------------------------------------------------- layouts, on
# tables written here (not the corpus files the rules were first seen in)


def _rows(text: str, **hints: object) -> list[tuple[str, str, str, str]]:
    parsed = read_text(text, "made.txt", **hints)
    return [(i.level1, i.level2, i.name, i.target) for i in parsed.indicators]


def test_a_bracketed_list_of_another_department() -> None:
    text = """\
某县卫生健康局2024年项目绩效目标
【项目概况】:乡村医生培训
【产出指标-数量指标】
指标1:培训乡村医生人数(≥120人)
指标2:培训场次(6场)
【效益指标-社会效益指标】
指标1:群众就医便利度(明显提升)
"""
    assert _rows(text) == [
        ("产出指标", "数量指标", "培训乡村医生人数", "≥120人"),
        ("产出指标", "数量指标", "培训场次", "6场"),
        ("效益指标", "社会效益指标", "群众就医便利度", "明显提升"),
    ]


def test_side_by_side_period_and_annual_blocks_are_one_indicator() -> None:
    text = """\
2025年度项目支出绩效目标表 | 预算单位: | 某区水务局 |
一级指标 | 二级指标 | 三级指标 | 指标值 | 二级指标 | 三级指标 | 指标值 |
产出指标 | 数量指标 | 清淤河道长度 | ≥30公里 | 数量指标 | 清淤河道长度 | ≥10公里 |
质量指标 | 验收合格率 | 100% | 质量指标 | 验收合格率 | 100% |
"""
    parsed = read_text(text, "twin.txt")
    assert [(i.name, i.target, i.long_term_target) for i in parsed.indicators] == [
        ("清淤河道长度", "≥10公里", "≥30公里"),  # the second block is the annual one
        ("验收合格率", "100%", "100%"),
    ]


def test_name_weight_unit_sign_value_run_together() -> None:
    text = """\
2023年部门整体绩效目标表
部门(单位)名称某街道办事处
绩效指标指标名称指标权重计量单位指标性质指标值
公共厕所保洁覆盖率20%=100
开展文艺演出场次1512
"""
    parsed = read_text(text, "run.txt")
    assert [(i.name, i.weight, i.target) for i in parsed.indicators] == [
        ("公共厕所保洁覆盖率", Decimal(20), "=100%"),
        ("开展文艺演出场次", Decimal(15), "12"),
    ]
    assert {(i.level1, i.level2) for i in parsed.indicators} == {("未分类指标", "未分类")}


def test_direction_and_word_comparisons_are_attributes() -> None:
    text = """\
2025年项目绩效目标表 预算单位: 某县法院
一级指标 二级指标 三级指标 指标性质 指标方向 目标值 计量单位 分值
产出指标 数量指标 审结案件数 正向 大于等于 500 件 10
成本指标 案均成本 反向 小于等于 0.3 万元 10
"""
    parsed = read_text(text, "dir.txt")
    got = [(i.name, i.target, i.direction, i.weight) for i in parsed.indicators]
    assert got == [
        ("审结案件数", "≥500件", "正向", Decimal(10)),
        ("案均成本", "≤0.3万元", "反向", Decimal(10)),
    ]


def test_a_fragment_without_header_is_read_by_cell_shape() -> None:
    text = """\
健康档案建档率 | ≥ | 90 | % | 92 | 5 | 5 |
| |||
质量指标 | 随访完成率 | ≥ | 85 | % | 88 | 5 | 4 |
满意度指标 | 服务对象满意度指标 | 居民满意度 | ≥ | 90 | % | 95 | 10 | 10 |
合计 | 100 | 96 |
"""
    parsed = read_text(text, "某县2023年自评.txt")
    assert parsed.table.fiscal_year == 2023 and parsed.table.self_evaluation
    got = [(i.level2, i.name, i.target, i.actual, i.score) for i in parsed.indicators]
    assert got == [
        ("未分类", "健康档案建档率", "≥90%", "92", Decimal(5)),
        ("质量指标", "随访完成率", "≥85%", "88", Decimal(4)),
        ("服务对象满意度指标", "居民满意度", "≥90%", "95", Decimal(10)),
    ]


def test_a_self_evaluation_run_into_one_line_is_split_at_its_value_runs() -> None:
    text = (
        "2024年度项目绩效自评表 预算单位:某市人社局\n"
        "评价内容绩效内容绩效目标值实际完成值累计完成率"
        "产出目标数量目标新增就业人数>=500人620人124%技能培训人次>=300人次310人次103%"
        "质量目标培训合格率>=90%93%103%(二)项目资金使用情况本项目资金10万元\n"
    )
    rows = _rows(text)
    assert rows == [
        ("产出指标", "数量指标", "新增就业人数", ">=500人"),
        ("产出指标", "数量指标", "技能培训人次", ">=300人次"),
        ("产出指标", "质量指标", "培训合格率", ">=90%"),
    ]


def test_pages_of_a_run_together_table_are_joined_at_their_numbers() -> None:
    # a document-sharing site's text: each page one line, numbered 1、 2、 3、, rows cut
    # mid-cell; a doubled plain number (00) is target and actual, 高高 two grade values,
    # 100%无 a target and a word actual followed by the row's 偏差原因
    text = (
        "1、2023年度县级专项资金绩效目标自评表 主管部门某县水利局 一级指标二级指标三级指标"
        "年度指标值全年完成值未完成原因和改进措施产出指标数量指标新建灌溉渠道长度12公里12公里"
        "渠道验收合\n"
        "2、格率100%100%工程安全事故发生数00效益指标社会效益指标灌区农户受益率100%无"
        "资金未到位满意度指标服务对象满意度指标群众满意度调查90%95%可持续影响指标工程长效运\n"
        "3、行保障高高说明无\n"
    )
    parsed = read_text(text, "pages.txt")
    got = [(i.level2, i.name, i.target, i.actual) for i in parsed.indicators]
    assert got == [
        ("数量指标", "新建灌溉渠道长度", "12公里", "12公里"),
        ("数量指标", "渠道验收合格率", "100%", "100%"),
        ("数量指标", "工程安全事故发生数", "0", "0"),
        ("社会效益指标", "灌区农户受益率", "100%", "无"),
        ("服务对象满意度指标", "群众满意度调查", "90%", "95%"),
        ("可持续影响指标", "工程长效运行保障", "高", "高"),
    ]
    assert parsed.indicators[3].deviation == "资金未到位"
    assert [i.source.line for i in parsed.indicators] == [1, 1, 2, 2, 2, 2]
    assert parsed.indicators[1].source.end_line == 2  # cut by the page: cites both lines


def test_a_year_after_a_name_is_not_read_as_two_values() -> None:
    text = (
        "2024年度项目绩效自评表 预算单位:某区教育局\n"
        "一级指标二级指标三级指标年度指标值全年完成值"
        "产出指标数量指标2020年建成校舍维修数量3所3所改造教室数量1010质量指标验收合格率100%100%\n"
    )
    got = [(i.name, i.target, i.actual) for i in read_text(text, "y.txt").indicators]
    assert got == [
        ("2020年建成校舍维修数量", "3所", "3所"),
        ("改造教室数量", "10", "10"),
        ("验收合格率", "100%", "100%"),
    ]


def test_numbered_names_with_values_printed_ahead_of_their_rows() -> None:
    # a spreadsheet flattened out of order: header words between a name and its values,
    # a name wrapped into pieces, the values of the last two rows printed before them
    text = (
        "某县项目支出绩效自评表(2022年度) 主管部门 某县民政局\n"
        "一级 指标 二级指标 三级指标 数量指标 指标1:救助困难群众 人数 产出 指标 (60分 ) "
        "实际 指标值 完成值 1200人 分值 得分 偏差原因 1180人 20 18 部分人员迁出 "
        "质量指标 指标1:救助资金 足额发放率 100% 100% 20 20 98% 97% 20 19 90% 96% 20 20 "
        "时效指标 指标1:救助资金发放及时率 满意度 指标 指标1:救助对象满意度 总分 100 97\n"
    )
    parsed = read_text(text, "coded.txt")
    got = [(i.level1, i.level2, i.name, i.target, i.actual, i.score) for i in parsed.indicators]
    assert got == [
        ("产出指标", "数量指标", "救助困难群众人数", "1200人", "1180人", Decimal(18)),
        ("产出指标", "质量指标", "救助资金足额发放率", "100%", "100%", Decimal(20)),
        ("产出指标", "时效指标", "救助资金发放及时率", "98%", "97%", Decimal(19)),
        ("满意度指标", "服务对象满意度指标", "救助对象满意度", "90%", "96%", Decimal(20)),
    ]
    assert parsed.indicators[0].deviation == "部分人员迁出"
    paired = [w for w in parsed.warnings if "按顺序配对" in w.message]
    assert len(paired) == 2 and "98% 97% 20 19" in paired[0].message
    assert parsed.table.department == "某县民政局" and parsed.table.fiscal_year == 2022


def test_a_name_run_into_its_explanation_is_split_at_its_measure() -> None:
    text = (
        "2022年部门整体支出绩效目标申报表 单位名称:某县农技站\n"
        "一级指标二级指标三级指标指标解释指标说明及公式预期达到目标\n"
        "产出指标数量指标推广新品种数量推广新品种数量\n"
        "5个\n"
        "技术培训覆盖率培训农户占种植户比例\n"
        "90%\n"
        "质量指标示范田增产率与上年同期比较\n"
    )
    parsed = read_text(text, "exp.txt")
    got = [(i.name, i.target) for i in parsed.indicators]
    assert got == [("推广新品种数量", "5个"), ("技术培训覆盖率", "90%"), ("示范田增产率", "")]
    cut = [w for w in parsed.warnings if "名称完整，指标值缺失" in w.message]
    assert [w.source.line for w in cut] == [7]


def test_a_name_cut_at_the_end_of_the_text_is_not_an_indicator() -> None:
    text = (
        "2022年项目绩效目标表 预算单位:某县文旅局\n"
        "一级指标 | 二级指标 | 三级指标 | 指标值 |\n"
        "产出指标 | 数量指标 | 开放天数 | ≥300天 |\n"
        "质量指标 | 设备完好\n"
    )
    parsed = read_text(text, "cut.txt")
    assert [i.name for i in parsed.indicators] == ["开放天数"]
    assert any("中断" in w.message and w.source.line == 4 for w in parsed.warnings)


def test_a_markdown_table_reads_without_its_rule_line() -> None:
    text = (
        "2023年度项目支出绩效目标表\n预算单位：某县文化馆\n"
        "| 一级指标 | 二级指标 | 三级指标 | 指标值 |\n| --- | :---: | --- | --- |\n"
        "| 产出指标 | 数量指标 | 举办展览次数 | ≥6次 |\n|  | 质量指标 | 展览合格率 | 100% |\n"
    )
    parsed = read_text(text, "md.txt")
    assert [(i.level2, i.name, i.target) for i in parsed.indicators] == [
        ("数量指标", "举办展览次数", "≥6次"),
        ("质量指标", "展览合格率", "100%"),
    ]
    assert parsed.warnings == []


def test_rows_written_as_key_value_pairs() -> None:
    text = """\
某县卫健局2024年项目绩效目标
一级指标：产出指标；二级指标：数量指标；三级指标：免费体检人数；指标值：≥3000人
一级指标：产出指标；二级指标：时效指标；三级指标：体检完成时间；指标值：2024年10月底前
一级指标：满意度指标；二级指标：服务对象满意度指标；三级指标：群众满意度；指标值：≥90%
"""
    parsed = read_text(text, "kv.txt")
    assert _rows(text) == [
        ("产出指标", "数量指标", "免费体检人数", "≥3000人"),
        ("产出指标", "时效指标", "体检完成时间", "2024年10月底前"),
        ("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%"),
    ]
    assert [i.source.line for i in parsed.indicators] == [2, 3, 4]
    assert parsed.table.department == "某县卫健局" and parsed.table.fiscal_year == 2024


def test_targets_listed_under_category_labels_as_budget_documents_print_them() -> None:
    text = """\
某县农业农村局2022年部门预算项目绩效目标
项目名称：高标准农田建设
绩效指标：
一、产出指标
（一）数量指标：新建高标准农田面积≥5000亩；新修机耕道12公里。
（二）质量指标：工程验收合格率100%。
（三）时效指标：项目完成时间2022年12月底前。
二、效益指标
（一）经济效益指标：亩均增产粮食达到50公斤以上
（二）可持续影响指标：农田设施长效管护机制逐步完善
三、满意度指标：受益群众满意度≥90%。
"""
    parsed = read_text(text, "list.txt")
    assert [(i.level1, i.level2, i.name, i.target) for i in parsed.indicators] == [
        ("产出指标", "数量指标", "新建高标准农田面积", "≥5000亩"),
        ("产出指标", "数量指标", "新修机耕道", "12公里"),
        ("产出指标", "质量指标", "工程验收合格率", "100%"),
        ("产出指标", "时效指标", "项目完成时间", "2022年12月底前"),
        ("效益指标", "经济效益指标", "亩均增产粮食", "50公斤以上"),
        ("效益指标", "可持续影响指标", "农田设施长效管护机制", "逐步完善"),
        ("满意度指标", "服务对象满意度指标", "受益群众满意度", "≥90%"),
    ]
    assert parsed.table.project_name == "高标准农田建设"
    assert [i.source.line for i in parsed.indicators] == [5, 5, 6, 7, 9, 10, 11]


def test_a_document_of_two_tables_is_two_tables() -> None:
    from kg.readers import projects

    text = """\
2024年度项目支出绩效目标表
项目名称：乡村道路养护 | 预算单位：某县交通运输局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出指标 | 数量指标 | 养护道路里程 | ≥120公里 |
满意度指标 | 服务对象满意度指标 | 群众满意度 | ≥90% |
填报人：张三
2024年度项目支出绩效目标表
项目名称：农村客运补贴 | 预算单位：某县交通运输局 |
一级指标 | 二级指标 | 三级指标 | 指标值 |
产出指标 | 数量指标 | 补贴客运班线 | 15条 |
效益指标 | 社会效益指标 | 农村群众出行便利度 | 明显提升 |
"""
    parsed = read_text(text, "two.txt")
    tables = projects.split(parsed)
    got = [(t.table.project_name, [i.name for i in t.indicators]) for t in tables]
    assert got == [
        ("乡村道路养护", ["养护道路里程", "群众满意度"]),
        ("农村客运补贴", ["补贴客运班线", "农村群众出行便利度"]),
    ]
    assert [t.table.source.line for t in tables] == [1, 7]
    assert [i.ordinal for i in tables[1].indicators] == [1, 2]
    footer = next(w for w in tables[0].warnings if "表格之后的文字" in w.message)
    assert (footer.source.line, footer.source.end_line) == (6, None)  # not the next table
