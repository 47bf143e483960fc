"""The html reader: a 绩效目标表 as a web page, read through the same blocks as DOCX, PDF
and spreadsheets, on pages written from the real corpus tables and on a page with
rowspan/colspan cells as government sites print them."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from kg.errors import NotATargetTableError
from kg.readers import html as html_reader
from kg.readers import read_table, read_tables

TABLES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tables"

#: Corpus tables of different layouts whose rows are lines of ``|``-separated cells.
PLAIN = (
    "anhui_luan_agri_2024_quality_testing_project_target.txt",  # 中期/年度 side by side
    "hubei_huangshi_party_school_2022_project_approval.txt",  # two-row header
    "sichuan_daying_culture_tourism_2022_library_selfeval_fragment.txt",  # a fragment
    "yunnan_yongde_minglang_school_2022_selfeval.txt",  # sign, value, unit columns
)


def as_page(txt: Path, path: Path) -> Path:
    """The text as a page: line N of the text is the <tr> on line N of the page source."""
    lines = txt.read_text(encoding="utf-8").splitlines()
    out = []
    for k, line in enumerate(lines):
        head = "<html><body><table>" if k == 0 else ""
        if line.startswith("#") or not line.strip():
            out.append(head)
            continue
        cells = [c.strip() for c in line.split("|")]
        while cells and not cells[-1]:
            cells.pop()
        out.append(head + "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    out.append("</table></body></html>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def rows(parsed):
    return [(i.level1, i.level2, i.name, i.target, i.actual, i.score) for i in parsed.indicators]


@pytest.mark.parametrize("name", PLAIN)
def test_a_table_published_as_a_page_reads_as_its_text(name, tmp_path):
    txt = TABLES / name
    page = as_page(txt, tmp_path / f"{txt.stem}.html")
    expected = read_table(txt)[1]
    chosen, parsed = read_table(page)
    assert chosen.name == "html" and parsed.indicators
    assert rows(parsed) == rows(expected)
    assert [i.source.line for i in parsed.indicators] == [
        i.source.line for i in expected.indicators
    ]
    assert {i.source.file for i in parsed.indicators} == {str(page)}


PAGE = """\
<!DOCTYPE html>
<html><head><title>某县交通运输局</title><script>var t = "<table><tr><td>x</td></tr>";</script></head>
<body>
<div class="nav">首页 &gt; 财务公开</div>
<h2>2024年度项目支出绩效目标表</h2>
<p>项目名称：乡村道路养护　预算单位：某县交通运输局</p>
<table border="1">
<tr><th>一级指标</th><th>二级指标</th><th>三级指标</th><th colspan="2">指标值</th></tr>
<tr><td rowspan="3">产出指标</td><td rowspan="2">数量指标</td><td>养护道路里程</td><td colspan="2">≥120公里</td></tr>
<tr><td>修复桥梁数量</td><td colspan="2">3座</td></tr>
<tr><td>质量指标</td><td>养护合格率</td><td colspan="2">≥95%</td></tr>
<tr><td>效益指标</td><td>社会效益指标</td><td>农村群众出行便利度</td><td colspan="2">明显提升</td></tr>
<tr><td>满意度指标</td><td>服务对象满意度指标</td><td>群众满意度</td><td colspan="2">≥90%</td></tr>
</table>
<p>注：本表由财务科填报。</p>
</body></html>
"""


def test_row_and_column_spans_as_a_site_prints_them(tmp_path):
    page = tmp_path / "乡村道路养护.html"
    page.write_text(PAGE, encoding="gb18030")  # many sites still serve GBK pages
    _, tables = read_tables(page)
    (parsed,) = tables
    assert rows(parsed) == [
        ("产出指标", "数量指标", "养护道路里程", "≥120公里", None, None),
        ("产出指标", "数量指标", "修复桥梁数量", "3座", None, None),
        ("产出指标", "质量指标", "养护合格率", "≥95%", None, None),
        ("效益指标", "社会效益指标", "农村群众出行便利度", "明显提升", None, None),
        ("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", None, None),
    ]
    assert [i.source.line for i in parsed.indicators] == [9, 10, 11, 12, 13]  # the <tr> lines
    t = parsed.table
    assert (t.title, t.department, t.fiscal_year, t.project_name) == (
        "2024年度项目支出绩效目标表",
        "某县交通运输局",
        2024,
        "乡村道路养护",
    )
    assert any(w.source.line == 15 and "注" in (w.text or "") for w in parsed.warnings)


def test_a_page_without_a_table_is_refused_naming_the_file(tmp_path):
    page = tmp_path / "notice.html"
    page.write_text("<html><body><p>关于印发预算绩效管理办法的通知</p></body></html>", "utf-8")
    assert not html_reader.sniff(page)
    with pytest.raises(NotATargetTableError) as err:
        read_table(page, reader="html")
    assert err.value.file == str(page) and "<table>" in err.value.message


def test_a_huge_span_does_not_blow_up_the_grid(tmp_path):
    page = tmp_path / "span.html"
    page.write_text(PAGE.replace('rowspan="3"', 'rowspan="99999999"'), encoding="utf-8")
    parsed = read_table(page)[1]
    assert len(parsed.indicators) == 5
