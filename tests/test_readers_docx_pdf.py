"""The DOCX and PDF readers read back a 绩效目标表 generated from the seed's records."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.readers import choose, read_table
from kg.records import ParsedTable

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_3b89ef93caa61199.txt"

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason="the seed table is not available")


@pytest.fixture(scope="module")
def seed() -> ParsedTable:
    reader, parsed = read_table(SEED)
    assert reader.name == "pdf-text"
    return parsed


def _sections(p: ParsedTable) -> list[tuple[str, list[str], list[list[str]]]]:
    """The table as printed: (heading, header, rows); the generated files print these."""
    t = p.table
    return [
        (
            "基本信息",
            ["项目", "内容"],
            [
                ["表名", t.title],
                ["部门", t.department],
                ["年度", str(t.fiscal_year)],
                ["金额单位", t.currency_unit],
                ["表类型", t.table_type],
            ],
        ),
        (
            "单位",
            ["单位名称", "主管部门"],
            [[u.name, u.supervising_department or ""] for u in p.units],
        ),
        (
            "年度主要任务",
            ["任务名称", "主要内容", "总额", "财政拨款", "其他资金", "所属单位"],
            [
                [k.name, k.content, str(k.total), str(k.fiscal), str(k.other), k.unit or ""]
                for k in p.tasks
            ]
            + [
                ["金额合计", "", str(p.totals.total), str(p.totals.fiscal), str(p.totals.other), ""]
            ],
        ),
        ("年度目标", ["目标编号", "目标内容"], [[str(g.number), g.text] for g in p.goals]),
        (
            "年度绩效指标",
            ["一级指标", "二级指标", "三级指标", "指标值"],
            [[i.level1, i.level2, i.name, i.target] for i in p.indicators],
        ),
    ]


def _merge_runs(rows: list[list[str]], col: int) -> list[tuple[int, int]]:
    """Runs of equal values in a label column: (first, last) row indexes to merge."""
    runs, start = [], 0
    for r in range(1, len(rows) + 1):
        if (
            r == len(rows)
            or rows[r][col] != rows[start][col]
            or (col == 1 and rows[r][0] != rows[start][0])
        ):
            if r - 1 > start:
                runs.append((start, r - 1))
            start = r
    return runs


@pytest.fixture(scope="module")
def docx_file(seed: ParsedTable, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import docx

    doc = docx.Document()
    for heading, header, rows in _sections(seed):
        doc.add_paragraph(heading)
        table = doc.add_table(rows=len(rows) + 1, cols=len(header))
        for c, h in enumerate(header):
            table.cell(0, c).text = h
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                table.cell(r, c).text = v
        if header[0] == "一级指标":  # merged label cells, as printed
            for col in (0, 1):
                for a, b in _merge_runs(rows, col):
                    top = table.cell(a + 1, col)
                    merged = top.merge(table.cell(b + 1, col))
                    merged.text = rows[a][col]
    path = tmp_path_factory.mktemp("docx") / "seed.docx"
    doc.save(str(path))
    return path


@pytest.fixture(scope="module")
def pdf_file(seed: ParsedTable, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cjk", fontName="STSong-Light", fontSize=7, leading=9)
    story = []
    for heading, header, rows in _sections(seed):
        story.append(Paragraph(heading, style))
        data = [[Paragraph(h, style) for h in header]]
        data += [[Paragraph(v.replace("\n", "<br/>"), style) for v in row] for row in rows]
        width = 500 / len(header)
        cols = [width] * len(header)
        if header[1] == "主要内容":
            cols = [80, 220, 45, 45, 45, 65]
        cmds = [("GRID", (0, 0), (-1, -1), 0.5, "black")]
        if header[0] == "一级指标":
            cols = [70, 70, 260, 100]
            # a label printed on the first row of its group only (a merged cell that
            # reportlab could split over pages): the reader carries it down
            for col in (0, 1):
                for a, b in _merge_runs(rows, col):
                    for r in range(a + 1, b + 1):
                        data[r + 1][col] = ""
        table = Table(data, colWidths=cols, repeatRows=0)
        table.setStyle(TableStyle(cmds))
        story.append(table)
    path = tmp_path_factory.mktemp("pdf") / "seed.pdf"
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def _compare(got: ParsedTable, seed: ParsedTable) -> None:
    def plain(text: str) -> str:
        return "".join(text.split())

    assert got.table.title == seed.table.title
    assert got.table.department == seed.table.department
    assert got.table.fiscal_year == seed.table.fiscal_year
    assert [(u.name, u.supervising_department) for u in got.units] == [
        (u.name, u.supervising_department) for u in seed.units
    ]
    assert [(k.name, k.total, k.fiscal, k.other, k.unit) for k in got.tasks] == [
        (k.name, k.total, k.fiscal, k.other, k.unit) for k in seed.tasks
    ]
    assert [plain(k.content) for k in got.tasks] == [plain(k.content) for k in seed.tasks]
    assert got.totals is not None and seed.totals is not None
    assert (got.totals.total, got.totals.fiscal, got.totals.other) == (
        seed.totals.total,
        seed.totals.fiscal,
        seed.totals.other,
    )
    assert [(g.number, plain(g.text)) for g in got.goals] == [
        (g.number, plain(g.text)) for g in seed.goals
    ]
    assert len(got.indicators) == len(seed.indicators) == 166
    assert [(i.level1, i.level2, i.name, i.target) for i in got.indicators] == [
        (i.level1, i.level2, i.name, i.target) for i in seed.indicators
    ]
    assert [i.target_parsed for i in got.indicators] == [i.target_parsed for i in seed.indicators]


@pytest.mark.slow  # writes the whole seed as a .docx (8 s); the docx reader is tested below
def test_docx_reads_back_the_seed(docx_file: Path, seed: ParsedTable) -> None:
    assert choose(docx_file).name == "docx"
    _, got = read_table(docx_file)
    _compare(got, seed)
    # provenance: the file and the body position (paragraphs and table rows, in order)
    first = got.indicators[0]
    assert first.source.file == str(docx_file)
    # each section before the indicators: a heading, a header row and its rows
    before = sum(2 + len(rows) for _, _, rows in _sections(seed)[:-1])
    assert first.source.line == before + 3  # then the heading and the header row
    assert got.goals[0].source.line == before - len(seed.goals) + 1
    assert got.indicators[-1].source.line == first.source.line + len(seed.indicators) - 1


def test_pdf_reads_back_the_seed(pdf_file: Path, seed: ParsedTable) -> None:
    assert choose(pdf_file).name == "pdf"
    _, got = read_table(pdf_file)
    _compare(got, seed)
    pages = {i.source.file for i in got.indicators}
    assert len(pages) > 1  # the indicator table runs over several pages
    assert all(f.startswith(f"{pdf_file}#page=") for f in pages)
    # on each page the rows are numbered down from the top, one per table row
    for f in pages:
        lines = [i.source.line for i in got.indicators if i.source.file == f]
        assert lines == sorted(lines) and len(set(lines)) == len(lines)


def test_docx_without_a_table_is_refused(tmp_path: Path) -> None:
    import docx

    from kg.errors import NotATargetTableError

    doc = docx.Document()
    doc.add_paragraph("会议纪要")
    path = tmp_path / "memo.docx"
    doc.save(str(path))
    with pytest.raises(NotATargetTableError, match="文档中没有表格") as err:
        read_table(path)
    assert str(err.value).startswith(f"{path}: ")  # the file named, the message in Chinese


def test_docx_in_the_published_layout(tmp_path: Path, seed: ParsedTable) -> None:
    """One table as departments publish it: header facts, then the indicator rows."""
    import docx

    doc = docx.Document()
    doc.add_paragraph("2024年泸县文化广电旅游局部门整体支出绩效目标表")
    rows = [
        ["预算部门", "泸县文化广电旅游局", "", ""],
        ["一级指标", "二级指标", "三级指标", "指标值"],
    ]
    picked = [seed.indicators[k] for k in (0, 1, 2)] + [
        i for i in seed.indicators if i.level1 != "产出指标"
    ][:3]
    rows += [[i.level1, i.level2, i.name, i.target] for i in picked]
    table = doc.add_table(rows=len(rows), cols=4)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            table.cell(r, c).text = v
    table.cell(0, 1).merge(table.cell(0, 3)).text = "泸县文化广电旅游局"
    for col in (0, 1):
        for a, b in _merge_runs(rows[2:], col):
            table.cell(a + 2, col).merge(table.cell(b + 2, col)).text = rows[a + 2][col]
    path = tmp_path / "published.docx"
    doc.save(str(path))
    _, got = read_table(path)
    assert got.table.department == "泸县文化广电旅游局"
    assert got.table.fiscal_year == 2024
    assert [(i.level1, i.level2, i.name, i.target) for i in got.indicators] == [
        (i.level1, i.level2, i.name, i.target) for i in picked
    ]
    # line: the title paragraph is 1, the table rows 2.. (the first indicator row is 4)
    assert [i.source.line for i in got.indicators] == list(range(4, 4 + len(picked)))
