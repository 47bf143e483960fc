"""The drafting template (XLSX / CSV), the JSON Lines form and the writers.

The fixture is real content of the seed table (000_3b89ef93caa61199.txt) with its
real line numbers: a table written to any form must read back equal, sources
included, and a drafter's workbook must read with carried-down categories.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kg import writers
from kg.errors import AmountError, NotATargetTableError, SourceError
from kg.readers import jsonl, template
from kg.readers._hanzi import to_simplified
from kg.records import (
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
from kg.targets import parse_target

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
SEED_FILE = "000_3b89ef93caa61199.txt"
DEPT = "中共深圳市福田区委组织部"
UNIT_SELF = "中共深圳市福田区委组织部（本级）"
UNIT_CENTRE = "深圳市福田区干部综合服务中心"

# (level1, level2, name, target, line, end_line) as printed in the seed
INDICATORS = [
    ("产出指标", "数量指标", "全年辅助人员流失人数", "≦6人", 614, None),
    ("产出指标", "数量指标", "扫描在职干部档案卷数", "2700卷", 616, None),
    ("产出指标", "数量指标", "组工学堂及部办公室廊道宣传栏进行更新次数", "≥2次", 618, 621),
    ("产出指标", "数量指标", "体检人数（劳务派遣人员及特聘人员）", "100人≤n≤129人", 627, 632),
    ("产出指标", "数量指标", "服务区一、二级保健对象人次", "≥2000人次", 771, 775),
    ("产出指标", "质量指标", "区属事业单位公开招聘完成合格率", "100%", 795, 798),
    ("产出指标", "质量指标", "教学费用支付及时性", "及时", 886, None),
    ("产出指标", "时效指标", "2024年编外人员选用时效", "2024年12月20日前", 900, 903),
    ("产出指标", "时效指标", "开展党员组织生日会时效", "每季度首月第一个星期二下午三点", 913, 919),
    ("产出指标", "时效指标", "发放市转企业离休干部“两贴”时效", "每月20日前", 936, 939),
    ("产出指标", "时效指标", "英才荟专项工作事项于申请工作时效", "20个工作日内", 997, 1000),
    ("产出指标", "成本指标", "离退休干部服务管理成本", "95%≤n≤100%", 1018, None),
    ("效益指标", "经济效益指标", "提升人才政策覆盖面", "显著", 1047, None),
    (
        "效益指标",
        "社会效益指标",
        "加强组织新颖的活动，促进老干部身心健康",
        "及时反馈建议或意见",
        1127,
        1133,
    ),
    ("效益指标", "可持续影响指标", "档案信息系统安全等级", "二级", 1157, None),
    ("满意度指标", "服务对象满意度指标", "基层党务工作者满意度", "≥90%", 1241, None),
    ("满意度指标", "服务对象满意度指标", "选拔任用干部满意度", "＞90%", 1242, None),
]

GOAL_0 = (
    "围绕中心服务大局，坚持组织路线服务保证政治路线，着力以高质量组织工作服务推动高质量发展，"
    "多措并举强化党建引领，“全链条”锻造中心城区“铁军”，建立健全人才服务工作体系，为福田区全"
    "面建设社会主义现代化典范城区，奋力打造中国式现代化典范城区提供坚强组织保证。"
)
GOAL_1 = (
    "围绕区委区政府中心工作，策划和制定开展全区老干部各项活动的计划、方案、并组织实"
    "施，承担离退休干部的教育培训工作和全区长青老龄大学各项工作；"
)


@pytest.fixture(scope="module")
def parsed() -> ParsedTable:
    """A realistic table: real seed content and line numbers, every record kind."""

    def src(line: int, end: int | None = None) -> Source:
        return Source(file=f"seeds/{SEED_FILE}", line=line, end_line=end)

    return ParsedTable(
        table=TableRecord(
            title=f"{DEPT}部门整体支出绩效目标表",
            department=DEPT,
            fiscal_year=2024,
            currency_unit="万元",
            table_type="部门整体支出绩效目标表",
            category_scheme="legacy",
            source=src(2, 4),
        ),
        units=[
            UnitRecord(name=UNIT_SELF, supervising_department=DEPT, ordinal=1, source=src(7)),
            UnitRecord(name=UNIT_CENTRE, supervising_department=DEPT, ordinal=2, source=src(9)),
        ],
        tasks=[
            TaskRecord(
                name="基本支出",
                content=(
                    "1.人员类项目：发放本部在编人员、雇员、退休人员相关薪酬、福利待遇、对个人与家庭补助。\n"
                    "2.运转类公用经费：主要包括公车购置和运行维护及其他机构公用经费。"
                ),
                total=Decimal("3133.45"),
                fiscal=Decimal("3128.46"),
                other=Decimal("0.00"),
                unit=UNIT_SELF,
                ordinal=1,
                source=src(36, 52),
            ),
            TaskRecord(
                name="基本支出",
                content="主要用于人员、公用及对个人和家庭补助支出等。",
                total=Decimal("1236.67"),
                fiscal=Decimal("1236.67"),
                other=Decimal("0.00"),
                unit=UNIT_CENTRE,
                ordinal=2,
                source=src(54, 57),
            ),
            TaskRecord(
                name="上年结转",
                content="主要用于保障到村工作的选调生各项补助支出，以及福田区人才联络员培训班项目启动。",
                total=Decimal("16.32"),
                fiscal=Decimal("16.32"),
                other=Decimal("0.00"),
                ordinal=3,
                source=src(542, 552),
            ),
        ],
        totals=TotalsRecord(
            total=Decimal("16499.41"),
            fiscal=Decimal("16499.41"),
            other=Decimal("0.00"),
            source=src(554),
        ),
        goals=[
            GoalRecord(number=0, text=GOAL_0, source=src(570, 574)),
            GoalRecord(number=1, text=GOAL_1, source=src(576, 578)),
        ],
        indicators=[
            IndicatorRecord(
                level1=l1,
                level2=l2,
                name=name,
                target=target,
                target_parsed=parse_target(target),
                ordinal=n,
                source=src(line, end),
            )
            for n, (l1, l2, name, target, line, end) in enumerate(INDICATORS, start=1)
        ],
        not_applicable=[
            CategoryNotApplicableRecord(
                level1="效益指标", level2="生态效益指标", text="不适用 不适用", source=src(1226)
            ),
            CategoryNotApplicableRecord(
                level1="满意度指标", level2="其他满意度指标", text="不适用 不适用", source=src(1306)
            ),
        ],
        warnings=[
            WarningRecord(
                message="目标值无法识别为数值、日期或等级，已按原文保留",
                text="及时反馈建议或",
                source=src(1131),
            )
        ],
    )


def _write(parsed: ParsedTable, path: Path) -> Path:
    fmt = path.suffix.lstrip(".")
    path.write_bytes(writers.to_bytes(parsed, fmt))
    return path


def _read(path: Path) -> ParsedTable:
    return (jsonl if path.suffix == ".jsonl" else template).read(path)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".jsonl"])
def test_roundtrip(parsed, tmp_path, suffix):
    path = _write(parsed, tmp_path / f"draft{suffix}")
    back = _read(path)
    assert back.model_dump() == parsed.model_dump()
    # the JSON form too: same Decimal digits (0.00 stays 0.00), same sources
    assert back.model_dump(mode="json") == parsed.model_dump(mode="json")


def test_roundtrip_via_file_objects(parsed, tmp_path):
    """write_xlsx to a path, write_csv / write_jsonl to text files opened as documented."""
    writers.write_xlsx(parsed, tmp_path / "t.xlsx")
    with (tmp_path / "t.csv").open("w", encoding="utf-8", newline="") as fh:
        writers.write_csv(parsed, fh)
    with (tmp_path / "t.jsonl").open("w", encoding="utf-8") as fh:
        writers.write_jsonl(parsed, fh)
    for name in ("t.xlsx", "t.csv", "t.jsonl"):
        assert _read(tmp_path / name) == parsed, name


def test_jsonl_shape(parsed):
    lines = writers.to_bytes(parsed, "jsonl").decode("utf-8").splitlines()
    objs = [json.loads(x) for x in lines]
    assert [o["kind"] for o in objs] == [r.kind for r in parsed.records()]
    assert objs[0]["kind"] == "table"
    assert "中共深圳市福田区委组织部" in lines[0]  # ensure_ascii=False
    task = objs[1 + len(parsed.units)]
    assert (task["total"], task["fiscal"], task["other"]) == ("3133.45", "3128.46", "0.00")


def test_csv_form(parsed, tmp_path):
    data = writers.to_bytes(parsed, "csv")
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    header, first, *_ = text.splitlines()
    assert header.split(",")[0] == "记录类型"
    assert first.startswith("表,")
    assert ",3133.45,3128.46,0.00," in text
    assert "合计,,,,,,,,,金额合计,,16499.41,16499.41,0.00," in text
    # GB18030 without BOM reads too, with the same line numbers
    gb = tmp_path / "gb.csv"
    gb.write_bytes(text.encode("gb18030"))
    assert template.read(gb) == parsed


def test_csv_undecodable_names_the_encodings(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("记录类型,表名\n表,".encode() + b"\xff\xff\x80\n")
    with pytest.raises(NotATargetTableError) as err:
        template.read(bad)
    assert "utf-8" in err.value.message and "gb18030" in err.value.message


def test_xlsx_is_readable_for_people(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "基本信息",
        "单位",
        "年度主要任务",
        "绩效目标",
        "绩效指标",
        "不适用指标类别",
        "警告",
    ]
    ws = wb["年度主要任务"]
    assert [c.value for c in ws[1]] == [
        "任务名称",
        "主要内容",
        "总额",
        "财政拨款",
        "其他资金",
        "所属单位",
        "来源文件",
        "来源行",
        "来源结束行",
    ]
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert ws["C2"].value == pytest.approx(3133.45) and ws["C2"].number_format == "#,##0.00"
    assert ws["A5"].value == "金额合计" and ws["C5"].value == pytest.approx(16499.41)
    assert ws.column_dimensions["B"].width > ws.column_dimensions["C"].width
    info = {r[0].value: r[1].value for r in wb["基本信息"].iter_rows(min_row=2)}
    assert info["年度"] == 2024 and info["指标体系"] == "legacy" and info["来源行"] == 2
    ind = wb["绩效指标"]
    assert [c.value for c in ind[2]][:4] == ["产出指标", "数量指标", "全年辅助人员流失人数", "≦6人"]


def test_text_that_looks_like_a_formula_stays_text(parsed, tmp_path):
    odd = parsed.model_copy(deep=True)
    odd.indicators[0].target = "=5"
    odd.indicators[0].target_parsed = parse_target("=5")
    back = _read(_write(odd, tmp_path / "odd.xlsx"))
    assert back.indicators[0].target == "=5"
    assert back.indicators[0].target_parsed.form == "numeric"


# Text a drafter's cells can hold: letters, digits, punctuation, symbols, inner spaces.
_chars = st.characters(categories=("L", "N", "P", "S"))
_inner = st.text(alphabet=st.one_of(_chars, st.just(" ")), min_size=0, max_size=20)
_one_line = st.builds(lambda a, b, c: a + b + c, _chars, _inner, _chars) | _chars.map(str)
_multi_line = st.lists(_one_line, min_size=1, max_size=3).map("\n".join)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_one_line, content=_multi_line, goal=_multi_line, message=_one_line, target=_one_line)
def test_roundtrip_any_text(parsed, tmp_path, name, content, goal, message, target):
    assume(template._norm(name) not in template.TOTALS_LABELS)
    assume(name != "不适用")
    odd = parsed.model_copy(deep=True)
    odd.tasks[0].name, odd.tasks[0].content = name, content
    odd.goals[0].text = goal
    odd.warnings[0].message, odd.warnings[0].text = message, content
    odd.indicators[0].name = name
    # name_simplified is derived from the name (set when it is printed in traditional ones)
    simplified = to_simplified(name)
    odd.indicators[0].name_simplified = simplified if simplified != name else None
    raw = "".join(target.split())
    odd.indicators[0].target, odd.indicators[0].target_parsed = raw, parse_target(raw)
    for suffix in (".xlsx", ".csv"):
        back = _read(_write(odd, tmp_path / f"any{suffix}"))
        assert back.model_dump(mode="json") == odd.model_dump(mode="json"), suffix


def test_amounts_get_two_decimals_from_numbers_and_strings(parsed, tmp_path):
    """A drafter types 5 or '1,236.6': the reader gives 5.00 and 1236.60, like a printed table."""
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["年度主要任务"]
    ws["C2"], ws["D2"], ws["E2"] = 5, "1,236.6", None
    wb.save(path)
    task = template.read(path).tasks[0]
    assert (str(task.total), str(task.fiscal), task.other) == ("5.00", "1236.60", None)


def test_registry_chooses_by_suffix_and_content(parsed, tmp_path):
    from kg.readers import choose

    for suffix, name in ((".xlsx", "template"), (".csv", "template"), (".jsonl", "jsonl")):
        path = _write(parsed, tmp_path / f"x{suffix}")
        assert choose(path).name == name
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert not template.sniff(other)


# --------------------------------------------------------------------------- the real seed


def test_seed_roundtrip_xlsx(tmp_path):
    seed_text = pytest.importorskip("kg.readers.seed_text")
    seed = SEEDS / SEED_FILE
    if not seed.exists():
        pytest.fail(f"seed table not found at {seed}; the tests need ../shared beside the checkout")
    parsed = seed_text.read(seed)
    assert len(parsed.indicators) > 100 and parsed.totals is not None
    for suffix in (".xlsx", ".csv", ".jsonl"):
        back = _read(_write(parsed, tmp_path / f"seed{suffix}"))
        assert back.model_dump(mode="json") == parsed.model_dump(mode="json"), suffix
    assert back.indicators[0].source.file == str(seed)


# --------------------------------------------------------------------------- a drafter's workbook


def _drafter_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "基本信息"
    for row in (
        ("项目", "内容"),
        ("表名", f"{DEPT}部门整体支出绩效目标表"),
        ("部门", DEPT),
        ("年度", "2024年"),
        ("金额单位", "万元"),
    ):
        info.append(row)

    # a title row, a header with synonyms, merged 一级/二级 cells, no provenance columns
    ws = wb.create_sheet("绩效指标表")
    ws.append(["2024年度绩效指标"])
    ws.merge_cells("A1:D1")
    ws.append(["一级指标", "二级指标", "指标名称", "指标值", "备注"])
    ws.append(["产出指标", "数量指标", "全年辅助人员流失人数", "≦6人", None])
    ws.append([None, None, "扫描在职干部档案卷数", "2700 卷", None])
    ws.append([None, "质量指标", "区属事业单位公开招聘完成\n合格率", 1, "见附件"])
    ws["D5"].number_format = "0%"
    ws.append([None, None, "培训考核合格率", "≥90%", None])
    ws.merge_cells("A3:A6")
    ws.merge_cells("B3:B4")
    ws.merge_cells("B5:B6")
    ws.append(["效益指标", "生态效益指标", "不适用", None, None])
    ws.merge_cells("C7:D7")
    ws.append([None, "社会效益指标", "提高求职人员就业机会", "显著", None])
    ws.append(["满意度指标", "服务对象满意度指标", "招聘单位满意度", "≥90%", None])

    # tasks with a two-row header (预算金额 over the three amounts) and units in headers
    tasks = wb.create_sheet("主要任务")
    tasks.append(["项目名称", "主要内容", "预算金额", None, None])
    tasks.append([None, None, "总额（万元）", "其中：财政拨款", "其中：其他资金"])
    tasks.merge_cells("A1:A2")
    tasks.merge_cells("B1:B2")
    tasks.merge_cells("C1:E1")
    tasks.append(["上年结转", "主要用于保障到村工作的选调生各项补助支出", 16.32, "16.32", 0])
    tasks.append(["金额合计", None, "16,499.41", 16499.41, 0])
    wb.save(path)


def test_drafter_xlsx(tmp_path):
    path = tmp_path / "draft.xlsx"
    _drafter_workbook(path)
    assert template.sniff(path)
    got = template.read(path)
    sheet = f"{path}#绩效指标表"
    assert got.table.fiscal_year == 2024
    assert got.table.source == Source(file=f"{path}#基本信息", line=2)
    assert got.table.category_scheme == "legacy"
    assert [
        (i.level1, i.level2, i.name, i.target, i.ordinal, i.source) for i in got.indicators
    ] == [
        ("产出指标", "数量指标", "全年辅助人员流失人数", "≦6人", 1, Source(file=sheet, line=3)),
        ("产出指标", "数量指标", "扫描在职干部档案卷数", "2700卷", 2, Source(file=sheet, line=4)),
        (
            "产出指标",
            "质量指标",
            "区属事业单位公开招聘完成合格率",
            "100%",
            3,
            Source(file=sheet, line=5),
        ),
        ("产出指标", "质量指标", "培训考核合格率", "≥90%", 4, Source(file=sheet, line=6)),
        ("效益指标", "社会效益指标", "提高求职人员就业机会", "显著", 5, Source(file=sheet, line=8)),
        (
            "满意度指标",
            "服务对象满意度指标",
            "招聘单位满意度",
            "≥90%",
            6,
            Source(file=sheet, line=9),
        ),
    ]
    assert got.indicators[1].target_parsed.lower == Decimal("2700")
    assert got.indicators[2].target_parsed.percent
    assert [(x.level1, x.level2, x.text, x.source.line) for x in got.not_applicable] == [
        ("效益指标", "生态效益指标", "不适用 不适用", 7)
    ]
    task_sheet = f"{path}#主要任务"
    assert [(t.name, str(t.total), str(t.fiscal), str(t.other), t.source) for t in got.tasks] == [
        ("上年结转", "16.32", "16.32", "0.00", Source(file=task_sheet, line=3))
    ]
    assert got.totals is not None
    assert (str(got.totals.total), got.totals.source) == (
        "16499.41",
        Source(file=task_sheet, line=4),
    )
    # the unknown 备注 column: a warning on the header row, not an error
    assert [(w.source.file, w.source.line, w.text) for w in got.warnings] == [(sheet, 2, "备注")]
    assert "备注" in got.warnings[0].message
    # and what was read writes and reads back unchanged
    again = _read(_write(got, tmp_path / "again.xlsx"))
    assert again.model_dump(mode="json") == got.model_dump(mode="json")


# --------------------------------------------------------------------------- bad input


def test_unparsable_amount_names_file_row_and_column(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["年度主要任务"]["D3"] = "3,13x.45"
    wb.save(path)
    with pytest.raises(AmountError) as err:
        template.read(path)
    e = err.value
    assert (e.file, e.line) == (f"{path}#年度主要任务", 3)
    assert "'3,13x.45'" in e.message and "财政拨款" in e.message and "D3" in e.message
    assert str(e).startswith(f"{path}#年度主要任务:3: ")


def test_unparsable_amount_in_csv(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.csv")
    text = path.read_text(encoding="utf-8-sig").replace(",3128.46,", ',"3,12八.46",', 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AmountError) as err:
        template.read(path)
    # line 1 header, 2 表, 3-4 单位, 5 the first 任务
    assert (
        err.value.line == 5
        and "财政拨款" in err.value.message
        and "'3,12八.46'" in err.value.message
    )


def test_unrelated_workbook_is_not_a_target_table(tmp_path):
    path = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["姓名", "电话"])
    wb.active.append(["张三", "123"])
    wb.create_sheet("汇总").append(["合计", 3])
    wb.save(path)
    assert not template.sniff(path)
    with pytest.raises(NotATargetTableError) as err:
        template.read(path)
    assert (
        "Sheet1" in err.value.message
        and "绩效指标" in err.value.message
        and "目标值" in err.value.message
    )


def test_not_an_xlsx_at_all(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("hello", encoding="utf-8")
    assert not template.sniff(path)
    with pytest.raises(NotATargetTableError):
        template.read(path)


def test_csv_unknown_record_type(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.csv")
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    assert lines[2].startswith("单位,")
    lines[2] = "部门," + lines[2].split(",", 1)[1]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        template.read(path)
    assert err.value.line == 3
    assert "'部门'" in err.value.message and "指标" in err.value.message


def test_csv_line_numbers_count_lines_inside_quoted_cells(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.csv")
    text = path.read_text(encoding="utf-8-sig")
    # the first task's content spans two lines (5-6), so the rows after it move down one line
    text = text.replace("seeds/000_3b89ef93caa61199.txt,614,", ",,").replace(
        "seeds/000_3b89ef93caa61199.txt,36,52", ",,"
    )
    path.write_text(text, encoding="utf-8")
    got = template.read(path)
    assert got.tasks[0].source == Source(file=str(path), line=5, end_line=6)
    first = got.indicators[0]
    physical = text.split("\n")
    line = next(n for n, x in enumerate(physical, start=1) if "全年辅助人员流失人数" in x)
    before = parsed.records().index(parsed.indicators[0])  # records above the first 指标 row
    assert line == 1 + before + 1 + 1  # header, those records, the extra content line, this row
    assert first.source == Source(file=str(path), line=line)


def test_jsonl_broken_line(parsed, tmp_path):
    path = _write(parsed, tmp_path / "t.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # blank lines are skipped but counted
    lines[4] = lines[4][:-5]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        jsonl.read(path)
    assert err.value.line == 5 and "JSON" in err.value.message


def test_jsonl_invalid_record(parsed, tmp_path):
    path = _write(parsed, tmp_path / "t.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[3])
    obj["total"] = "3,13x.45"
    lines[3] = json.dumps(obj, ensure_ascii=False)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        jsonl.read(path)
    assert err.value.line == 4 and "total" in err.value.message
    assert err.value.message.startswith("不是有效的记录")
    assert str(err.value).startswith(f"{path}:4: ")  # file and line kept, message in Chinese
    lines[3] = lines[0]  # a second table record: the records after it are its own
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match="文件中有 2 张表"):
        jsonl.read(path)
    from kg.i18n import set_lang

    set_lang("en")  # ikg --lang en: the reader's messages in English
    try:
        with pytest.raises(SourceError, match="2 tables"):
            jsonl.read(path)
    finally:
        set_lang("zh")
    first, second = jsonl.read_all(path)
    assert first.table == second.table and first.units and not second.units
    assert len(first.records()) + len(second.records()) == len(lines)


def test_jsonl_of_a_file_of_several_projects_reads_back(tmp_path):
    from kg.readers import read_tables

    corpus = (
        SEEDS.parent
        / "corpus"
        / "tables"
        / "neimenggu_zhalaite_procuratorate_2025_project_targets.txt"
    )
    _, tables = read_tables(corpus)
    path = tmp_path / "two.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for t in tables:
            writers.write_jsonl(t, fh)
    chosen, back = read_tables(path)
    assert chosen.name == "jsonl" and back == tables


def test_unknown_column_is_a_warning(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["单位"]
    ws["F1"], ws["F2"] = "联系人", "李四"
    wb.save(path)
    got = template.read(path)
    extra = [w for w in got.warnings if w.text == "联系人"]
    assert len(extra) == 1 and extra[0].source == Source(file=f"{path}#单位", line=1)
    assert got.units == parsed.units
    # in CSV as well
    csv_path = _write(parsed, tmp_path / "draft.csv")
    text = csv_path.read_text(encoding="utf-8-sig").replace("来源结束行", "来源结束行,联系人", 1)
    csv_path.write_text(text, encoding="utf-8")
    got = template.read(csv_path)
    assert [(w.text, w.source.line) for w in got.warnings[len(parsed.warnings) :]] == [
        ("联系人", 1)
    ]


def test_unknown_category_and_missing_target_are_kept_with_a_note(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["绩效指标"]["B4"] = "数量指" + "类"  # a drafter's typo: no scheme prints it
    wb["绩效指标"]["D6"] = None  # 目标值 left empty
    wb.save(path)
    read = template.read(path)
    odd = read.indicators[2]  # row 4 of the sheet
    assert (odd.level2, odd.level2_printed) == ("数量指标", "数量指类")
    assert any("数量指类" in w.message and "归入" in w.message for w in read.warnings)
    empty = read.indicators[4]  # row 6: kept, its target empty (the review asks for it)
    assert empty.target == "" and empty.target_parsed.flags == ["empty"]


def test_formula_without_saved_result(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["年度主要任务"]["C5"] = "=SUM(C2:C4)"
    wb.save(path)
    with pytest.raises(SourceError) as err:
        template.read(path)
    assert err.value.line == 5 and "C5" in err.value.message


def test_incomplete_provenance(parsed, tmp_path):
    path = _write(parsed, tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["绩效目标"]["D2"] = None  # 来源行 emptied, 来源文件 kept
    wb.save(path)
    with pytest.raises(SourceError, match="来源行") as err:
        template.read(path)
    assert err.value.line == 2


def test_to_bytes_unknown_format(parsed):
    with pytest.raises(ValueError, match="xlsx"):
        writers.to_bytes(parsed, "pdf")
    assert isinstance(writers.to_bytes(parsed, "xlsx"), bytes)
    assert io.BytesIO(writers.to_bytes(parsed, "xlsx")).read(2) == b"PK"


# --------------------------------------------------------------------------- optional columns


@pytest.fixture(scope="module")
def self_evaluation() -> ParsedTable:
    """A 自评表 with every optional column: real rows of the corpus's Yunnan table."""
    file = "../shared/corpus/tables/yunnan_yongde_minglang_school_2022_selfeval.txt"

    def ind(n, l1, l2, name, target, actual, weight, score, line, **kw):
        return IndicatorRecord(
            level1=l1,
            level2=l2,
            name=name,
            target=target,
            target_parsed=parse_target(target),
            ordinal=n,
            weight=Decimal(weight),
            actual=actual,
            actual_parsed=parse_target(actual),
            score=Decimal(score),
            source=Source(file=file, line=line),
            **kw,
        )

    return ParsedTable(
        table=TableRecord(
            title="2022年度项目支出绩效自评表",
            department="临沧市永德县明朗中学",
            fiscal_year=2022,
            currency_unit="元",
            table_type="项目支出绩效自评表",
            project_name="义务教育营养改善计划专项资金",
            self_evaluation=True,
            source=Source(file=file, line=3),
        ),
        totals=TotalsRecord(
            # printed 年度资金总额; the XLSX form knows a totals row by 金额合计 / 合计 / 总计
            label="金额合计",
            total=Decimal("387664.62"),
            fiscal=Decimal("387664.62"),
            other=None,
            source=Source(file=file, line=9, end_line=10),
        ),
        indicators=[
            ind(
                1,
                "产出指标",
                "数量指标",
                "学生受资助人数",
                "≧735人次",
                "735",
                "10",
                "10",
                17,
                code="指标1",
                core=True,
            ),
            ind(
                2,
                "产出指标",
                "时效指标",
                "资金到位及时率",
                "≧100%",
                "100%",
                "10",
                "7",
                19,
                deviation="资金晚到一周",
            ),
            ind(3, "效益指标", "社会效益指标", "政策知晓率", "=100%", "98%", "10", "9.5", 24),
        ],
        warnings=[
            WarningRecord(
                message="表格之后的文字（页脚、附注、页面元素）未读入",
                text="其他需要说明事项",
                source=Source(file=file, line=36),
            )
        ],
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".jsonl"])
def test_roundtrip_self_evaluation(self_evaluation, tmp_path, suffix):
    path = _write(self_evaluation, tmp_path / f"selfeval{suffix}")
    back = _read(path)
    assert back.model_dump(mode="json") == self_evaluation.model_dump(mode="json")
    assert back == self_evaluation
    first = back.indicators[0]
    assert (first.code, first.core, first.actual) == ("指标1", True, "735")
    assert back.table.project_name == "义务教育营养改善计划专项资金"
    assert back.table.self_evaluation


def test_optional_columns_in_the_csv_form(self_evaluation):
    text = writers.to_bytes(self_evaluation, "csv").decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[-12:] == [
        "项目名称",
        "自评表",
        "编码",
        "核心指标",
        "分值",
        "实际完成值",
        "得分",
        "偏差原因",
        "所属任务",  # added after 偏差原因: the columns of earlier files keep their places
        "来源文件",
        "来源行",
        "来源结束行",
    ]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["自评表"] == "是" and rows[0]["项目名称"] == "义务教育营养改善计划专项资金"
    first = next(r for r in rows if r["记录类型"] == "指标")
    assert (
        first["编码"],
        first["核心指标"],
        first["分值"],
        first["实际完成值"],
        first["得分"],
    ) == (
        "指标1",
        "是",
        "10",
        "735",
        "10",
    )


def test_a_drafters_optional_columns(tmp_path):
    path = tmp_path / "draft.csv"
    path.write_text(
        "记录类型,表名,部门,年度,自评表,一级指标,二级指标,三级指标,目标值,核心指标,权重,完成值,得分,偏差原因分析及改进措施\n"
        "表,某局项目支出绩效自评表,某局,2023,否,,,,,,,,,\n"
        "指标,,,,,产出指标,数量指标,培训人次,≥100人次,★,10分,96人次,8,学员请假\n"
        "指标,,,,,,,合格率,100%,,,,,\n",
        encoding="utf-8",
    )
    back = template.read(path)
    assert not back.table.self_evaluation
    first, second = back.indicators
    assert (first.core, first.weight, first.actual, first.score, first.deviation) == (
        True,
        Decimal("10"),
        "96人次",
        Decimal("8"),
        "学员请假",
    )
    assert first.actual_parsed is not None and first.actual_parsed.lower == Decimal("96")
    assert (second.core, second.weight, second.actual, second.actual_parsed) == (
        False,
        None,
        None,
        None,
    )
    assert back.warnings == []


def test_bad_optional_values_name_the_cell(tmp_path):
    path = tmp_path / "draft.csv"
    head = "记录类型,表名,部门,年度,一级指标,二级指标,三级指标,目标值,核心指标,分值\n"
    head += "表,某局项目支出绩效目标表,某局,2023,,,,,,\n"
    path.write_text(head + "指标,,,,产出指标,数量指标,培训人次,≥100人次,也许,\n", encoding="utf-8")
    with pytest.raises(SourceError, match="核心指标") as err:
        template.read(path)
    assert err.value.line == 3
    path.write_text(head + "指标,,,,产出指标,数量指标,培训人次,≥100人次,,十分\n", encoding="utf-8")
    with pytest.raises(SourceError, match="分值") as err:
        template.read(path)
    assert err.value.line == 3


def test_refusals_are_chinese_and_name_file_and_line(tmp_path: Path) -> None:
    """The template reader's refusals speak the output language (Chinese unless ``--lang en``),
    always after the file and line."""
    from kg.i18n import set_lang

    path = tmp_path / "草稿.csv"
    path.write_text("一级指标,二级指标,三级指标\n产出指标,数量指标,培训人次\n", encoding="utf-8")
    with pytest.raises(NotATargetTableError) as err:
        template.read(path)
    assert str(err.value).startswith(f"{path}:1: 表头中没有 记录类型 列"), err.value
    set_lang("en")
    try:
        with pytest.raises(NotATargetTableError, match="no 记录类型 column in the header"):
            template.read(path)
    finally:
        set_lang("zh")
