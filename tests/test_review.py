"""ikg review's rules on the real seed table (and on real seed lines changed one at a time)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from apps.review import RULES, OtherIndicator, review_file, review_files
from apps.review.rules import Context, run_rules
from apps.review.similarity import lexical_alignment, lexical_similarity
from kg.records import ParsedTable
from kg.targets import parse_target

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "review_labels.csv"

EXPECTED_RULES = {
    "parse-error",
    "vague-target",
    "vague-name",
    "misfiled-count-under-quality",
    "cost-not-money",
    "timeliness-without-time",
    "satisfaction-outside-category",
    "percent-over-100",
    "range-inverted",
    "deadline-outside-year",
    "task-row-sum",
    "column-total",
    "missing-category",
    "not-applicable-without-reason",
    "duplicate-in-table",
    "duplicate-across-departments",
    "task-without-indicator",
    "indicator-without-task",
    "target-lowered",
    "target-below-actual",
    "indicator-dropped",
    "copied-unchanged",
}


@pytest.fixture(scope="module")
def report(seed_path):
    return review_file(seed_path)


def by_rule(report, rule):
    return [f for f in report.findings if f.rule == rule]


def lines_of(report, rule):
    return sorted(f.line for f in by_rule(report, rule))


def run(parsed: ParsedTable, rule: str, ctx: Context | None = None):
    return run_rules(parsed, ctx or Context(), only={rule})


def retarget(parsed: ParsedTable, line: int, target: str, name: str | None = None) -> ParsedTable:
    """A copy of the table with the indicator at ``line`` given another target (and name)."""
    t = parsed.model_copy(deep=True)
    ind = next(i for i in t.indicators if i.source.line == line)
    ind.target = target
    ind.target_parsed = parse_target(target, year=t.table.fiscal_year)
    if name is not None:
        ind.name = name
    return t


# --------------------------------------------------------------------------- registry


def test_registry_has_every_rule_with_a_severity_and_section():
    assert set(RULES) == EXPECTED_RULES
    for r in RULES.values():
        assert r.severity in ("error", "warning", "note")
        assert r.title_zh and r.description
    assert {r.id for r in RULES.values() if r.severity == "error"} == {
        "parse-error",
        "range-inverted",
        "deadline-outside-year",
        "task-row-sum",
        "column-total",
    }


def test_every_finding_points_at_the_source(report, seed_path):
    assert report.findings
    for f in report.findings:
        assert f.file == str(seed_path)
        assert f.line is not None and f.line >= 1
        assert f.message_zh and any("\u4e00" <= c <= "\u9fff" for c in f.message_zh)
        assert f.item_name
        assert f.source_text, f  # the seed is text: every finding shows its lines


# --------------------------------------------------------------------------- acceptance


def test_task_row_total_not_fiscal_plus_other(report):
    (f,) = by_rule(report, "task-row-sum")
    assert (f.severity, f.item_kind, f.item_name, f.line) == ("error", "task", "基本支出", 36)
    assert f.values == {"total": "3,133.45", "fiscal": "3,128.46", "other": "0.00", "gap": "4.99"}
    assert "3,133.45" in f.message_zh and "3,128.46" in f.message_zh
    # the total column adds up, the fiscal column does not: the fiscal amount is the suspect
    assert "财政拨款疑应为3,133.45" in f.fix_zh


def test_fiscal_column_does_not_add_up(report):
    (f,) = by_rule(report, "column-total")  # the total column is off by 0.01 only: tolerated
    assert f.severity == "error" and f.line == 554
    assert f.values == {
        "column": "财政拨款",
        "stated": "16,499.41",
        "rows_sum": "16,494.43",
        "gap": "4.98",
    }
    assert "第36行" in f.message_zh


def test_deadline_outside_fiscal_year(report):
    (f,) = by_rule(report, "deadline-outside-year")
    assert f.line == 927 and f.severity == "error"
    assert f.item_name == "党员干部培训、党员教育管理经费、机关群团活动等党建工作时效"
    assert f.values["target"] == "2023年12月20日前"
    assert f.fix_zh == "将时限改为“2024年12月20日前”。"


def test_every_qualitative_target_is_vague(report, seed_parsed):
    expected = {
        i.source.line
        for i in seed_parsed.indicators
        if i.target in ("显著", "明显", "及时") or i.target == "及时反馈建议或意见"
    }
    assert len(expected) == 35
    assert set(lines_of(report, "vague-target")) == expected
    text = next(f for f in by_rule(report, "vague-target") if f.line == 1127)
    assert "及时反馈建议或意见" in text.message_zh and "文字" in text.message_zh


def test_level_grade_and_schedule_are_not_vague(report):
    flagged = set(lines_of(report, "vague-target"))
    assert 1157 not in flagged  # 档案信息系统安全等级 二级
    assert 913 not in flagged  # 每季度首月第一个星期二下午三点


def test_vague_target_message_is_ready_to_send(report):
    f = next(f for f in by_rule(report, "vague-target") if f.line == 1047)
    assert f.message_zh == (
        "指标“提升人才政策覆盖面”的目标值“显著”为定性描述，无法考核；"
        "建议改为可量化的目标值（如“覆盖率≥90%”）。"
    )
    assert f.values == {"level1": "效益指标", "level2": "经济效益指标", "target": "显著"}


def test_all_cost_indicators_are_not_money(report, seed_parsed):
    cost = [i.source.line for i in seed_parsed.indicators if i.level2 == "成本指标"]
    assert len(cost) == 8
    assert lines_of(report, "cost-not-money") == sorted(cost)
    f = next(f for f in by_rule(report, "cost-not-money") if f.line == 1028)  # 预算执行率
    assert "不是成本" in f.message_zh


def test_headcount_under_quality(report):
    (f,) = by_rule(report, "misfiled-count-under-quality")
    assert (f.line, f.item_name, f.values["target"]) == (861, "党组织书记培训覆盖人数", "≥15人")
    assert "党组织书记培训覆盖率" in f.message_zh


def test_timeliness_without_time(report):
    # 及时; and two actions with 100%; 政府采购完成及时率 100% is a named on-time rate: accepted
    assert lines_of(report, "timeliness-without-time") == [905, 908, 926]


def test_vague_names(report):
    flagged = set(lines_of(report, "vague-name"))
    assert {806, 1058, 1088, 1212} <= flagged  # 组织好…工作 100%, …工作水平, 提高人员工作效率
    # names a measure: a ratio, a 知晓度, an index, a 满意度, a rate after 做好
    assert not flagged & {1053, 1060, 1181, 1236, 863, 1217}


def test_nothing_raised_on_well_formed_indicators(report):
    """Precision on the hand-labelled set: an indicator labelled clean gets no target/name/category finding."""
    with LABELS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labelled_rules = [c for c in rows[0] if c not in ("line", "name", "level2", "target", "reason")]
    assert len(rows) == 166
    clean = {int(r["line"]) for r in rows if all(r[c] == "0" for c in labelled_rules)}
    assert len(clean) > 80
    checked = {c.replace("_", "-") for c in labelled_rules}
    noisy = [f for f in report.findings if f.rule in checked and f.line in clean]
    assert noisy == []


def test_labelled_set_precision_and_recall():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import review_eval
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    scores = {s.rule: s for s in review_eval.evaluate()}
    assert review_eval.passes(list(scores.values()))
    assert scores["vague-target"].recall == 1.0
    assert scores["(all)"].precision >= 0.9


def test_not_applicable_without_reason(report):
    fs = by_rule(report, "not-applicable-without-reason")
    assert [(f.line, f.item_name, f.severity) for f in fs] == [
        (1226, "效益指标/生态效益指标", "note"),
        (1306, "满意度指标/其他满意度指标", "note"),
    ]
    assert by_rule(report, "missing-category") == []


def test_summary_counts_match_findings(report):
    s = report.summary
    assert s.findings == len(report.findings)
    assert sum(s.by_severity.values()) == len(report.findings)
    assert sum(sum(v.values()) for v in s.by_rule.values()) == len(report.findings)
    assert sum(sum(v.values()) for v in s.by_category.values()) == len(report.findings)
    assert s.by_severity["error"] == 3
    assert report.has_errors
    (fs,) = report.files
    assert (fs.parsed, fs.indicators, fs.tasks, fs.department) == (
        True,
        166,
        13,
        "中共深圳市福田区委组织部",
    )


# --------------------------------------------------------------------------- changed seed lines


def test_percent_over_100(seed_parsed):
    t = retarget(seed_parsed, 1241, "≥120%")  # 基层党务工作者满意度
    (f,) = run(t, "percent-over-100")
    assert (f.line, f.values["target"], f.severity) == (1241, "≥120%", "warning")
    assert run(seed_parsed, "percent-over-100") == []


def test_range_inverted(seed_parsed):
    t = retarget(seed_parsed, 627, "129人≤n≤100人")  # 体检人数（劳务派遣人员及特聘人员）
    (f,) = run(t, "range-inverted")
    assert f.severity == "error" and "100人≤n≤129人" in f.fix_zh
    assert run(seed_parsed, "range-inverted") == []


def test_satisfaction_outside_category(seed_parsed):
    t = retarget(seed_parsed, 832, "≥90%", name="辅助人员满意度")  # under 质量指标
    (f,) = run(t, "satisfaction-outside-category")
    assert f.line == 832 and "产出指标/质量指标" in f.message_zh
    assert run(seed_parsed, "satisfaction-outside-category") == []


def test_deadline_before_next_year_is_inside(seed_parsed):
    t = retarget(seed_parsed, 900, "2025年前")  # before 2025-01-01: still 2024
    assert 900 not in [f.line for f in run(t, "deadline-outside-year")]
    t = retarget(seed_parsed, 900, "2025年3月底前")
    assert 900 in [f.line for f in run(t, "deadline-outside-year")]


def test_cost_in_money_passes(seed_parsed):
    t = retarget(seed_parsed, 1031, "≤12万元")
    assert 1031 not in [f.line for f in run(t, "cost-not-money")]


def test_missing_category_and_not_applicable_required(seed_parsed):
    t = seed_parsed.model_copy(deep=True)
    t.indicators = [i for i in t.indicators if i.level2 != "时效指标"]
    (f,) = run(t, "missing-category")
    assert f.item_name == "产出指标/时效指标" and f.severity == "warning"
    t.indicators = [i for i in t.indicators if i.level1 != "满意度指标"]
    names = [f.item_name for f in run(t, "missing-category")]
    assert names == ["满意度指标", "产出指标/时效指标"]  # 服务对象满意度 folded into its level 1


def test_not_applicable_with_reason_passes(seed_parsed):
    t = seed_parsed.model_copy(deep=True)
    t.not_applicable[0].text = "不适用（本部门支出不涉及生态环境）"
    assert [f.line for f in run(t, "not-applicable-without-reason")] == [1306]


def test_amounts_balanced_when_fixed(seed_parsed):
    t = seed_parsed.model_copy(deep=True)
    t.tasks[0].fiscal = Decimal("3133.45")
    assert run(t, "task-row-sum") == [] and run(t, "column-total") == []


# --------------------------------------------------------------------------- duplicates


def test_duplicates_in_table(report):
    fs = {f.line: f for f in by_rule(report, "duplicate-in-table")}
    assert fs[1293].values["other_name"] == "受训学员满意度"  # 参训人员满意度: a rewording
    assert fs[1293].values["other_line"] == "1287"
    # different people or work in the same words: the bands cap them at related
    assert 896 not in fs  # 慰问金发放覆盖率 (保健对象) / 市转企业离休干部慰问金发放覆盖率
    assert 784 not in fs  # 干部疗养完成人数 (一、二级保健对象) / 区属离退休干部疗养人次
    assert 656 not in fs  # 节日重点慰问 30人次 / 节日慰问 649人次
    # same people, different things: not duplicates
    assert 816 not in fs and 821 not in fs  # “两贴” vs 慰问金 发放覆盖率
    assert all(f.severity == "note" for f in fs.values())


def test_lexical_similarity():
    assert lexical_similarity("慰问金发放覆盖率", "市转企业离休干部慰问金发放覆盖率") == 1.0
    assert (
        lexical_similarity("市转企业离休干部“两贴”发放覆盖率", "市转企业离休干部慰问金发放覆盖率")
        < 0.85
    )
    assert lexical_similarity("干部满意度", "选拔任用干部满意度") == 0.0  # too generic to say
    assert lexical_similarity("预算执行率", "预算执行率") == 1.0


def test_similarity_is_pluggable(seed_path):
    none = review_file(seed_path, similarity=lambda a, b: 0.0)
    assert by_rule(none, "duplicate-in-table") == []

    def same_first_two(a: str, b: str) -> float:
        return 1.0 if a[:2] == b[:2] == "举办" else 0.0

    fs = by_rule(review_file(seed_path, similarity=same_first_two), "duplicate-in-table")
    assert {f.line for f in fs} == {642, 671, 725, 727}


def test_duplicates_across_departments_from_the_store(seed_path, tmp_path):
    from kg.build import build

    other = tmp_path / "other.txt"
    text = seed_path.read_text(encoding="utf-8").replace(
        "中共深圳市福田区委组织部", "深圳市福田区人力资源局"
    )
    other.write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    build([seed_path, other], data / "store", shacl=False)  # the seed itself is in the store too
    rep = review_file(seed_path, against=data)
    fs = by_rule(rep, "duplicate-across-departments")
    assert fs, "the other department's copy should be found"
    assert {f.values["other_department"] for f in fs} == {"深圳市福田区人力资源局"}
    f = next(f for f in fs if f.line == 616)
    assert f.values["other_name"] == "扫描在职干部档案卷数" and f.values["other_line"] == "616"
    assert "可能存在重复安排资金" in f.message_zh
    # outputs only (数量, 质量, 时效), never the generic ones
    assert {f.category for f in fs} <= {"数量指标", "质量指标", "时效指标"}
    assert all(f.line != 1275 for f in fs)  # 干部满意度


def test_duplicates_across_departments_from_a_list(seed_parsed, seed_path):
    other = OtherIndicator(
        name="扫描在职干部档案卷数",
        target="3000卷",
        department="某某局",
        fiscal_year=2024,
        file="x.txt",
        line=9,
        concept="quantity",
    )
    last_year = OtherIndicator(
        name="扫描在职干部档案卷数",
        target="3000卷",
        department="某某局",
        fiscal_year=2023,
        file="y.txt",
        line=9,
        concept="quantity",
    )
    rep = review_file(seed_path, against=[other, last_year])
    (f,) = by_rule(rep, "duplicate-across-departments")
    assert (f.line, f.values["other_file"]) == (616, "x.txt")


# --------------------------------------------------------------------------- coverage


def test_coverage_matrix(report, seed_parsed):
    (c,) = report.coverage
    assert [r.task for r in c.rows] == [t.name for t in seed_parsed.tasks]
    assert c.columns == ["数量", "质量", "时效", "成本", "效益", "满意度"]
    assert (
        c.table_wide["成本"] == 4
    )  # 预算执行率, 支出进度达标率, 部门整体支出预算范围内, 按采购限额标准
    rows = {r.ordinal: r for r in c.rows}
    assert rows[3].counts["数量"] >= 8  # 老干口业务: the 慰问 and 疗养 counts
    assert rows[1].indicators == 0 and rows[1].note and not rows[1].uncovered  # 基本支出
    assert len(c.alignments) == 166


def test_tasks_without_indicator(report):
    fs = by_rule(report, "task-without-indicator")
    assert [(f.line, f.item_name) for f in fs] == [
        (432, "信息化新建项目（非政府投资项目）"),
        (542, "上年结转"),
    ]
    assert "193.65" in fs[0].message_zh


def test_indicators_without_task_are_output_indicators(report):
    fs = by_rule(report, "indicator-without-task")
    assert fs and all(f.severity == "note" for f in fs)
    assert {f.category for f in fs} <= {"数量指标", "质量指标", "时效指标", "成本指标"}
    assert 725 in {f.line for f in fs}  # 举办“首善讲堂”次数: no task text mentions it
    assert 1028 not in {f.line for f in fs}  # 预算执行率 is whole-table


def test_alignment_is_pluggable(seed_path):
    def first_task(indicators, tasks):
        return [[1.0] + [0.0] * (len(tasks) - 1) for _ in indicators]

    rep = review_file(seed_path, align=first_task)
    (c,) = rep.coverage
    assert c.rows[0].indicators == 166 - sum(c.table_wide.values())
    assert c.method == "first_task"
    assert by_rule(rep, "indicator-without-task") == []
    assert lexical_alignment(["a"], []) == [[]]


# --------------------------------------------------------------------------- files


def test_unparsable_file_is_a_finding_not_a_crash(seed_path, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(
        seed_path.read_text(encoding="utf-8").replace("3,128.46", "3,12x.46"), encoding="utf-8"
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    rep = review_files([bad, seed_path, empty])
    errors = by_rule(rep, "parse-error")
    assert [(Path(f.file).name, f.line) for f in errors] == [("bad.txt", 52), ("empty.txt", None)]
    assert all(f.severity == "error" and f.item_kind == "file" for f in errors)
    assert "3,12x.46" in errors[0].message_zh
    assert [fs.parsed for fs in rep.files] == [False, True, False]
    assert len(rep.coverage) == 1 and len(by_rule(rep, "vague-target")) == 35
    # findings come file by file, in the order given
    files = [f.file for f in rep.findings]
    assert files.index(str(seed_path)) > files.index(str(bad))
    assert files[-1] == str(empty)


def test_docs_describe_every_rule():
    doc = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    for rule_id, r in RULES.items():
        assert f"### `{rule_id}` — {r.title_zh} ({r.severity})" in doc, rule_id


def test_docs_counts_match_the_seed(report):
    import re

    doc = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| \w+ \| [^|]+ \| (\d+) \|$", doc, re.M)
    assert len(rows) >= 16
    for rule_id, n in rows:
        assert sum(report.summary.by_rule.get(rule_id, {}).values()) == int(n), rule_id


def test_duplicates_use_the_embedding_scorer_when_installed(seed_path, report):
    from apps.review.similarity import embedding_scorer

    assert embedding_scorer() is not None  # the test install has the embeddings extra
    emb = {f.line: f for f in by_rule(report, "duplicate-in-table")}
    lex = {f.line: f for f in by_rule(review_file(seed_path, scorer=False), "duplicate-in-table")}
    assert all("method" not in f.values for f in lex.values())
    assert emb[1293].values["method"].startswith("hybrid+structure:")
    assert 896 in lex and 896 not in emb  # 慰问金发放覆盖率: the object cap (different people)
    # a monthly payment and a head count of it share every word but measure different things
    assert 666 in lex and 666 not in emb  # 按月发放…慰问金 / 发放…慰问金人次
    # rewordings the lexical measure misses
    assert 1293 in emb and 1293 not in lex  # 参训人员满意度 / 受训学员满意度
