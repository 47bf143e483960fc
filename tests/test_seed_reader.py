"""The PDF-text reader on the real seed table: every item, nothing lost, every line traceable."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest
from conftest import seed_lines

LEVEL2_COUNTS = {
    ("产出指标", "数量指标"): 51,
    ("产出指标", "质量指标"): 28,
    ("产出指标", "时效指标"): 20,
    ("产出指标", "成本指标"): 8,
    ("效益指标", "经济效益指标"): 1,
    ("效益指标", "社会效益指标"): 21,
    ("效益指标", "可持续影响指标"): 16,
    ("满意度指标", "服务对象满意度指标"): 21,
}


def _nospace(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_table_header(seed_parsed):
    t = seed_parsed.table
    assert t.department == "中共深圳市福田区委组织部"
    assert t.title == "中共深圳市福田区委组织部部门整体支出绩效目标表"
    assert t.fiscal_year == 2024
    assert t.currency_unit == "万元"
    assert t.category_scheme == "legacy"
    assert t.source.line == 2


def test_units_and_supervising_department(seed_parsed):
    assert [(u.name, u.supervising_department, u.source.line) for u in seed_parsed.units] == [
        ("中共深圳市福田区委组织部（本级）", "中共深圳市福田区委组织部", 7),
        ("深圳市福田区干部综合服务中心", "中共深圳市福田区委组织部", 9),
    ]


def test_exactly_166_indicators_in_their_categories(seed_parsed):
    inds = seed_parsed.indicators
    assert len(inds) == 166
    assert Counter((i.level1, i.level2) for i in inds) == LEVEL2_COUNTS
    assert [i.ordinal for i in inds] == list(range(1, 167))
    assert seed_parsed.warnings == []


@pytest.mark.parametrize(
    ("name", "target", "line", "end_line"),
    [
        # a page break splits the name, the value printed in the middle
        ("服务区一、二级保健对象人次", "≥2000人次", 771, 775),
        # the last word of the name comes after the value and a page break
        ("“一对一”心理疏导咨询及慰问困难青少年活动完成时效", "2024年12月20日前", 981, 990),
        ("报刊杂志订阅人次（区属离退休干部）", "17人次", 677, 681),
        ("持续优化队伍管理评价系统", "显著", 1196, 1200),
        # the value wraps
        ("体检人数（劳务派遣人员及特聘人员）", "100人≤n≤129人", 627, 632),
        ("开展党员组织生日会时效", "每季度首月第一个星期二下午三点", 913, 919),
        ("印刷个人事项报告表完成时效", "2024年8月30日前", 960, 965),
        ("发放市转企业离休干部“两贴”时效", "每月20日前", 936, 939),
        ("加强组织新颖的活动，促进老干部身心健康", "及时反馈建议或意见", 1127, 1133),
        ("按月发放市转企业离休干部“两贴”", "12个月", 708, 710),
        ("市转企业离休干部服务管理成本、“两贴”成本、慰问金", "95%≤n≤100%", 1019, 1025),
        ("两新党建“三同步”工作水平，“五类大型企业”单独组织率", "100%", 1217, 1223),
        ("全年辅助人员流失人数", "≦6人", 614, None),
        ("调研考察对象", "＞100人", 733, None),
    ],
)
def test_hard_indicators_whole(seed_parsed, name, target, line, end_line):
    found = [i for i in seed_parsed.indicators if i.name == name]
    assert len(found) == 1, f"{name} not found whole"
    ind = found[0]
    assert ind.target == target
    assert (ind.source.line, ind.source.end_line) == (line, end_line)


def test_no_fragment_lost_in_indicator_section(seed_parsed):
    """Every character of the indicator section is in a name, a target or a label."""
    lines = seed_lines()
    first = min(i.source.line for i in seed_parsed.indicators)
    section = [(no, text) for no, text in enumerate(lines, start=1) if no >= first and text.strip()]
    labels = {
        "数量指标",
        "质量指标",
        "时效指标",
        "成本指标",
        "效益",
        "指标",
        "经济效益指标",
        "社会效益指标",
        "可持续影响指标",
        "生态效益指标",
        "满意",
        "度指",
        "标",
        "服务对象满意度指标",
    }
    printed = Counter()
    for no, text in section:
        t = _nospace(text)
        if t in labels or no in {x.source.line for x in seed_parsed.not_applicable}:
            continue
        printed.update(t)
    parsed = Counter()
    for ind in seed_parsed.indicators:
        parsed.update(_nospace(ind.name) + ind.target)
    assert parsed == printed


def test_every_indicator_points_at_its_first_line(seed_parsed):
    lines = seed_lines()
    for ind in seed_parsed.indicators:
        first_line = _nospace(lines[ind.source.line - 1])
        assert _nospace(ind.name).startswith(first_line[:4]) or first_line.startswith(
            _nospace(ind.name)[:4]
        ), (ind.name, ind.source.line, first_line)
        end = ind.source.end_line or ind.source.line
        assert end >= ind.source.line


def test_not_applicable_categories(seed_parsed):
    na = [(x.level1, x.level2, x.text, x.source.line) for x in seed_parsed.not_applicable]
    assert na == [
        ("效益指标", "生态效益指标", "不适用 不适用", 1226),
        ("满意度指标", "其他满意度指标", "不适用 不适用", 1306),
    ]
    names = {i.name for i in seed_parsed.indicators}
    assert "不适用" not in names and "不适用 不适用" not in names


TASKS = [
    ("基本支出", "3133.45", "3128.46", "0.00", "中共深圳市福田区委组织部（本级）"),
    ("基本支出", "1236.67", "1236.67", "0.00", "深圳市福田区干部综合服务中心"),
    ("老干口业务", "1088.84", "1088.84", "0.00", None),
    ("干部人事业务", "489.30", "489.30", "0.00", None),
    ("组织工作业务", "462.23", "462.23", "0.00", None),
    ("人才工作业务", "480.00", "480.00", "0.00", None),
    ("部门日常管理业务", "2046.47", "2046.47", "0.00", None),
    ("上级转移支付", "224.72", "224.72", "0.00", None),
    ("一般管理事务", "355.89", "355.89", "0.00", None),
    ("修缮维护类项目（非政府投资项目）", "85.00", "85.00", "0.00", None),
    ("信息化新建项目（非政府投资项目）", "193.65", "193.65", "0.00", None),
    ("干部综合业务", "6686.88", "6686.88", "0.00", None),
    ("上年结转", "16.32", "16.32", "0.00", None),
]


def test_thirteen_task_rows_with_amounts(seed_parsed):
    got = [(t.name, str(t.total), str(t.fiscal), str(t.other), t.unit) for t in seed_parsed.tasks]
    assert got == TASKS
    assert all(isinstance(t.total, Decimal) for t in seed_parsed.tasks)


def test_task_content_across_page_breaks(seed_parsed):
    by_name = {t.name: t for t in seed_parsed.tasks if t.name != "基本支出"}
    # amounts printed mid-content, the content goes on after the page break
    cadre = by_name["干部人事业务"].content
    assert "在福田新三十年再出发的新征程中改革创新、攻坚克难。" in cadre
    assert cadre.splitlines()[-1].startswith("6.开展系列干部活动的支出")
    # name pieces after a page break, amounts on the line of the first piece
    general = by_name["干部综合业务"]
    assert general.content.startswith("1.承担全区机关工作人员预防保健、健康体检工作。\n2.组织制定")
    assert general.content.endswith("档案日常管理。")
    assert len(general.content.splitlines()) == 7
    assert (general.source.line, general.source.end_line) == (458, 540)
    basic = [t for t in seed_parsed.tasks if t.name == "基本支出"]
    assert basic[1].content == "主要用于人员、公用及对个人和家庭补助支出等。"


def test_no_fragment_lost_in_task_section(seed_parsed):
    lines = seed_lines()
    first = seed_parsed.tasks[0].source.line
    last = seed_parsed.tasks[-1].source.end_line
    printed = Counter()
    for text in lines[first - 1 : last]:
        printed.update(_nospace(text))
    parsed = Counter()
    previous = None
    for t in seed_parsed.tasks:
        amounts = "".join(f"{a:,.2f}" for a in (t.total, t.fiscal, t.other))
        name = "" if t.name == previous else t.name  # a merged name cell is printed once
        parsed.update(_nospace(name + t.content) + amounts)
        previous = t.name
    assert parsed == printed


def test_stated_totals(seed_parsed):
    tot = seed_parsed.totals
    assert (tot.total, tot.fiscal, tot.other) == (
        Decimal("16499.41"),
        Decimal("16499.41"),
        Decimal("0.00"),
    )
    assert tot.source.line == 554


def test_goals_in_full(seed_parsed):
    lines = seed_lines()
    goals = seed_parsed.goals
    assert [g.number for g in goals] == [0, 1, 2, 3]
    assert goals[0].text == "".join(lines[i - 1].strip() for i in (570, 572, 574))
    assert goals[1].text.startswith("围绕区委区政府中心工作") and goals[1].text.endswith(
        "各项工作；"
    )
    assert goals[2].text.endswith("关心关爱全区干部职工身心健康；")
    assert goals[3].text.startswith("完成全区公职人员（不含区属学校教师、区属医院医务人员）档案")
    assert goals[3].text.endswith("做好档案管理信息化建设工作。")
    assert [(g.source.line, g.source.end_line) for g in goals] == [
        (570, 574),
        (576, 578),
        (580, 584),
        (586, 590),
    ]


def test_targets_are_parsed(seed_parsed):
    forms = Counter(i.target_parsed.form for i in seed_parsed.indicators)
    assert forms["deadline"] == 12
    assert forms["recurring"] == 2
    assert forms["duration"] == 1
    assert forms["schedule"] == 1
    assert forms["text"] == 1
    assert forms["range"] == 7
    by_name = {i.name: i for i in seed_parsed.indicators}
    t = by_name["党员干部培训、党员教育管理经费、机关群团活动等党建工作时效"].target_parsed
    assert str(t.deadline) == "2023-12-20"
