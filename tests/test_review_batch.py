"""Batch review: many tables in one report, the summary per table, and the XLSX workbook."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from apps.review import review_files
from apps.review.render import render
from apps.review.xlsx import FINDING_HEADERS
from ikg.cli import app

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "demo" / "corpus"
SERIES = sorted(CORPUS.glob("hunan_xiangtan_sanitation_*.csv")) + sorted(
    CORPUS.glob("sichuan_daying_civil_affairs_*.csv")
)


def test_text_report_lists_the_findings_of_csv_tables():
    """Template CSVs record the text they were read from: their findings still land under the
    CSV's section (they used to be missing from the text report)."""
    rep = review_files(SERIES, scorer=False)
    text = render(rep, "text")
    listed = sum(line.startswith(("[错误]", "[警告]", "[提示]")) for line in text.splitlines())
    assert listed == len(rep.findings) > 0
    for fs in rep.files:
        assert f"######## {fs.file}" in text
        assert sum(fs.counts.values()) > 0


def test_summary_sorted_by_attention():
    rep = review_files(SERIES, scorer=False)
    assert len(rep.tables) == 4
    keys = [(-t.counts["error"], -t.counts["warning"], -t.cross_year) for t in rep.tables]
    assert keys == sorted(keys)
    assert all(0 <= t.vague_share <= 1 for t in rep.tables)
    text = render(rep, "text")
    assert "各表概况（按需关注程度排序）" in text


def test_xlsx_workbook(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "review.xlsx"
    runner = CliRunner()
    res = runner.invoke(app, ["review", *map(str, SERIES), "--format", "xlsx", "-o", str(out)])
    assert res.exit_code in (0, 1), res.output
    js = runner.invoke(app, ["review", *map(str, SERIES), "--format", "json"])
    report = json.loads(js.stdout)
    wb = load_workbook(out)
    assert wb.sheetnames == ["概况", "问题清单"]
    summary, findings = wb["概况"], wb["问题清单"]
    for ws in (summary, findings):
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert ws.column_dimensions["A"].width >= 10
    head = [c.value for c in findings[1]]
    assert head == FINDING_HEADERS
    for col in (
        "部门",
        "表",
        "规则",
        "严重程度",
        "指标或项目",
        "来源文件",
        "行号",
        "问题说明",
        "修改建议",
    ):
        assert col in head
    assert findings.max_row - 1 == len(report["findings"])
    assert summary.max_row - 1 >= len(report["tables"])
    rows = [[c.value for c in r] for r in findings.iter_rows(min_row=2)]
    vague = [r for r in rows if r[4] == "vague-target"]
    assert vague and vague[0][3] == "目标值为定性描述" and vague[0][5] == "警告"
    assert {r[0] for r in rows} == {"湘潭市环境卫生管理处", "大英县民政局"}
    assert all(isinstance(r[9], int) for r in rows if r[9] is not None)


def test_xlsx_needs_an_output():
    res = CliRunner().invoke(app, ["review", str(SERIES[0]), "--format", "xlsx"])
    assert res.exit_code == 2


def test_against_a_folder_of_tables(tmp_path):
    res = CliRunner().invoke(
        app, ["review", str(SERIES[1]), "--against", str(CORPUS), "--format", "json"]
    )
    assert res.exit_code in (0, 1), res.output
    rep = json.loads(res.stdout)
    assert rep["against"]["tables"] == 35 and 2023 in rep["against"]["years"]  # each once
    (c,) = rep["comparisons"]
    assert c["status"] == "compared" and c["prior_year"] == 2023
