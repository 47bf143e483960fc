"""Which reader reads a file: every reader whose suffix fits and whose sniff passes reads
it, the one that reads the most indicators wins (ties: fewer warnings, then the readers'
order), and the choice says why (``kg.readers.choose_and_read``)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from kg.errors import NotATargetTableError, SourceError
from kg.readers import (
    Candidate,
    choose,
    choose_and_read,
    pick,
    read_table,
    readers,
    try_readers,
)

TABLES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tables"
HUANGSHI = TABLES / "hubei_huangshi_party_school_2022_project_approval.txt"
LUAN = TABLES / "anhui_luan_agri_2024_quality_testing_project_target.txt"
#: a page about a table, with no table in it (the corpus has none left that is refused)
REFUSED_TEXT = "关于印发2024年度预算绩效管理工作方案的通知\n各单位：现将工作方案印发给你们，请结合实际认真贯彻落实。\n"


@pytest.fixture(scope="module", autouse=True)
def corpus_present() -> None:
    if not TABLES.is_dir():
        pytest.fail(f"corpus not found at {TABLES}; the tests need ../shared beside the checkout")


def as_xlsx(txt: Path, path: Path, edit=lambda cell: cell) -> Path:
    """The text's lines as spreadsheet rows, ``|``-separated cells as cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for line in txt.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            ws.append([edit(c.strip()) for c in line.split("|")])
    wb.save(path)
    return path


def test_the_seed_chooses_pdf_text_with_166(seed_path):
    choice = choose_and_read(seed_path)
    assert choice.reader.name == "pdf-text" and len(choice.parsed.indicators) == 166
    assert [(c.reader.name, c.sniffed, c.score) for c in choice.candidates] == [
        ("pdf-text", True, 166),
        ("flat-text", False, None),
    ]
    assert choice.reason == "pdf-text 是唯一通过初筛的读取器"
    assert "初筛未通过" in choice.candidates[1].reason


def test_corpus_tables_choose_flat_text():
    read = 0
    for txt in sorted(TABLES.glob("*.txt")):
        choice = choose_and_read(txt)
        assert choice.reader.name == "flat-text", txt.name
        assert choice.candidates[0].reader.name == "pdf-text"
        assert not choice.candidates[0].sniffed
        read += 1
    assert read == 35  # every corpus table


def test_a_file_both_readers_sniff_is_decided_by_score(tmp_path):
    """A published table as .xlsx with its indicator header near the top: the template
    reader's sniff takes it (a sheet headed like the template's 绩效指标), reading it fails
    (no 基本信息 sheet); the sheet reader reads its 13 indicators."""
    path = as_xlsx(HUANGSHI, tmp_path / "hubei_huangshi_2022.xlsx")
    choice = choose_and_read(path)
    template, sheet = choice.candidates
    assert (template.reader.name, template.sniffed, template.score) == ("template", True, None)
    assert "基本信息" in template.error.message and "读取失败" in template.reason
    assert (sheet.reader.name, sheet.sniffed, sheet.score) == ("sheet", True, 13)
    assert choice.reader.name == "sheet" and choice.parsed is sheet.parsed  # read once
    assert "sheet" in choice.reason and "template" in choice.reason
    assert choice.reason == "只有 sheet 读取成功；template 读取失败"


def test_score_then_warnings_then_order(tmp_path):
    """pick() on real readings: more indicators win over fewer warnings; among equal
    counts fewer warnings win over the readers' order; then the order decides."""
    all_readers = readers()
    full = read_table(LUAN)[1]  # 7 indicators, 1 warning
    fewer = full.model_copy(update={"indicators": full.indicators[:5]})
    noisier = full.model_copy(update={"warnings": full.warnings * 3})
    first, later = all_readers["template"], all_readers["sheet"]

    choice = pick(LUAN, [Candidate(first, True, fewer), Candidate(later, True, noisier)])
    assert choice.reader is later
    assert choice.reason == "sheet 读入的指标最多（7 条，template 5 条）"

    choice = pick(LUAN, [Candidate(first, True, noisier), Candidate(later, True, full)])
    assert choice.reader is later and "警告较少（1 条，template 3 条）" in choice.reason

    choice = pick(LUAN, [Candidate(first, True, full), Candidate(later, True, full)])
    assert choice.reader is first and "按读取器顺序取 template（先于 sheet）" in choice.reason


def test_forced_reader(seed_path, tmp_path):
    choice = choose_and_read(LUAN, "flat-text")
    assert choice.forced and choice.reason == "按 --reader 指定"
    assert [c.reader.name for c in choice.candidates] == ["flat-text"]
    assert len(choice.parsed.indicators) == 7
    assert choose(LUAN, "pdf-text").name == "pdf-text"  # forcing names it without reading
    with pytest.raises(NotATargetTableError, match="请用 pdf-text 读取器"):
        read_table(seed_path, "flat-text")  # forced: its own error, no other reader tried
    path = as_xlsx(HUANGSHI, tmp_path / "hubei_huangshi_2022.xlsx")
    with pytest.raises(SourceError, match="基本信息"):
        read_table(path, "template")
    assert read_table(path, "sheet")[0].name == "sheet"
    with pytest.raises(ValueError, match="unknown reader"):
        read_table(LUAN, "nonesuch")


def test_the_error_when_nothing_reads(tmp_path):
    # no reader's sniff passes: the refusal says what was looked for
    refused = tmp_path / "notice.txt"
    refused.write_text(REFUSED_TEXT, encoding="utf-8")
    with pytest.raises(NotATargetTableError) as err:
        read_table(refused)
    assert err.value.file == str(refused)
    assert "没有读取器认出此文件" in err.value.message
    assert "一级指标 二级指标 三级指标 指标值" in err.value.message
    # one candidate raised (the template reader: no 基本信息 sheet), the other read a table
    # that prints no year (read, year empty, the warning at its sheet row)
    path = as_xlsx(HUANGSHI, tmp_path / "table.xlsx", lambda c: re.sub(r"20\d\d", "", c))
    chosen, parsed = read_table(path)
    assert chosen.name == "sheet" and parsed.table.fiscal_year is None
    assert any(w.source.file == f"{path}#Sheet1" and "--year" in w.message for w in parsed.warnings)
    errors = [(c.reader.name, c.error) for c in try_readers(path)]
    assert [name for name, _ in errors] == ["template", "sheet"]
    assert "基本信息" in errors[0][1].message and errors[1][1] is None
    assert len(read_table(path, year=2022)[1].indicators) == 13
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(NotATargetTableError, match="文件为空"):
        read_table(empty)
    with pytest.raises(NotATargetTableError, match="文件不存在"):
        read_table(tmp_path / "missing.txt")


def test_parse_explain_prints_the_candidates_and_the_choice(tmp_path):
    from typer.testing import CliRunner

    from ikg.cli import app

    def explain(path: Path, *more: str) -> str:
        result = CliRunner().invoke(app, ["parse", str(path), "--explain", *more])
        assert result.exit_code == 0, result.output
        return result.stdout

    path = as_xlsx(HUANGSHI, tmp_path / "hubei_huangshi_2022.xlsx")
    out = explain(path)
    lines = out.splitlines()
    assert lines[1].startswith("候选读取器")
    assert lines[2].startswith("  template（起草模板）: 未得分 — 读取失败：没有工作表 基本信息")
    assert lines[3] == "  sheet（另存为电子表格的绩效目标表）: 指标 13, 警告 3"
    assert lines[4] == "读取器: sheet（只有 sheet 读取成功；template 读取失败）"
    assert "读入的表格: 1 个\n  Sheet1 第 1–23 行，23 行非空，指标 13\n" in out
    assert "读入: 指标 13" in out and "  Sheet1 第 10 行: 一级指标未印出" in out

    out = explain(LUAN)
    assert "  pdf-text（PDF 转出的文字，竖排表头、一格一行）: 未得分 — 初筛未通过" in out
    assert "  flat-text（按阅读顺序展开的表格文字）: 指标 7, 警告 1" in out
    assert "读取器: flat-text（flat-text 是唯一通过初筛的读取器）" in out
    assert "版式: “|”分隔" in out and "  第 28 行: 表格文字在此行中断" in out

    out = explain(LUAN, "--reader", "flat-text")
    assert "读取器: flat-text（按 --reader 指定）" in out and "pdf-text" not in out
