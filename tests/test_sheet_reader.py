"""The sheet reader on real tables saved as spreadsheets: a department's 绩效目标表 as .xlsx
or .csv (not the drafting template).

The spreadsheets are built here from real corpus tables whose lines print a row's cells
separated by ``|`` (../shared/corpus/tables): each line becomes a spreadsheet row (the
corpus file's ``#`` provenance lines become empty rows, so row N is line N of the text),
its cells the row's cells. One form writes the cells as the line prints them; another
places each indicator row's cells under the header's columns, as the printed table has
them, and writes each 一级/二级 label once with a merged range over the rows it covers.
Either is read with ``read_table`` and must give the indicators reading the text gives,
each citing the sheet and the row.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest

from kg import writers
from kg.errors import NotATargetTableError, SourceError, SpreadsheetLimitError
from kg.readers import choose_and_read, read_table, sheet, template

TABLES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tables"
SHEET = "绩效目标表"

#: Tables of different layouts whose rows are lines of ``|``-separated cells.
PLAIN = (
    # 中期/年度 side by side, header over two lines, cut last row
    "anhui_luan_agri_2024_quality_testing_project_target.txt",
    # a two-row header with columns no record keeps, labels missing from rows
    "hubei_huangshi_party_school_2022_project_approval.txt",
    # scores printed with the category labels, placeholder cost rows
    "chongqing_fengjie_emergency_mgmt_2025_project_approval.txt",
    # a self-evaluation fragment: sign, value, unit, actual, weight, score (5 | 5)
    "sichuan_daying_culture_tourism_2022_library_selfeval_fragment.txt",
    # a self-evaluation whose header and first rows are run into one line
    "yunnan_yongde_minglang_school_2022_selfeval.txt",
    # one cell a line, cells ending with |
    "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.txt",
    "sichuan_daying_consumer_city_creation_2020_project_selfeval.txt",
)
#: Tables whose indicator rows can be placed under their header's columns (merged form).
MERGED = (
    "anhui_luan_agri_2024_quality_testing_project_target.txt",
    "anhui_unknown_county_urban_management_2023_enforcement_vehicle_fuel_repair_project_target.txt",
)


@pytest.fixture(scope="module", autouse=True)
def corpus_present() -> None:
    if not TABLES.is_dir():
        pytest.fail(f"corpus not found at {TABLES}; the tests need ../shared beside the checkout")


# --------------------------------------------------------------------------- helpers


def rows_of(txt: Path) -> list[list[str]]:
    """One row a line of the text (``#`` lines empty), its ``|``-separated cells."""
    out = []
    for line in txt.read_text(encoding="utf-8").splitlines():
        cells = [] if line.startswith("#") else [c.strip() for c in line.split("|")]
        while cells and not cells[-1]:
            cells.pop()
        out.append(cells)
    return out


def _key(text: str) -> str:
    return re.sub(r"\s", "", text)


def placed(txt: Path) -> tuple[list[list[str | None]], list[tuple[int, int, int]]]:
    """The table as printed: each indicator row's name under the header's 三级指标 column,
    the label cells it lacks empty (``None``), and the vertical merges that give them their
    label: (first row, last row, column), 0-based."""
    rows = rows_of(txt)
    parsed = read_table(txt)[1]
    by_line = {i.source.line: i for i in parsed.indicators}
    h = next(k for k, r in enumerate(rows) if any(_key(c) == "三级指标" for c in r))
    name_col = next(j for j, c in enumerate(rows[h]) if _key(c) == "三级指标")
    grid: list[list[str | None]] = [list(r) for r in rows]
    shifted = set()
    for k in range(h + 1, len(rows)):
        ind = by_line.get(k + 1)
        if ind is None:
            continue
        at = next(j for j, c in enumerate(rows[k]) if _key(c) == _key(ind.name))
        grid[k] = [None] * (name_col - at) + rows[k]
        shifted.add(k)
    merges = []
    for c in range(name_col):
        k = h + 1
        while k < len(grid):
            if k in shifted and grid[k][c] is None and c < len(grid[k - 1]) and grid[k - 1][c]:
                end = k
                while end + 1 in shifted and grid[end + 1][c] is None:
                    end += 1
                merges.append((k - 1, end, c))
                k = end + 1
            else:
                k += 1
    return grid, merges


def merge_equal_values(
    grid: list[list[str | None]], first_col: int
) -> tuple[list[list[str | None]], list[tuple[int, int, int]]]:
    """Equal values of adjacent rows in a column from ``first_col`` on (two indicators
    with the same 指标值) written once over a merged range, as printed tables do."""
    out = [list(r) for r in grid]
    merges = []
    for c in range(first_col, max(len(r) for r in grid)):
        k = 0
        while k < len(grid):
            value = grid[k][c] if c < len(grid[k]) else None
            end = k
            while value and end + 1 < len(grid) and c < len(grid[end + 1]):
                if grid[end + 1][c] != value:
                    break
                end += 1
            if end > k:
                for r in range(k + 1, end + 1):
                    out[r][c] = None
                merges.append((k, end, c))
            k = end + 1
    return out, merges


def write_xlsx(
    path: Path,
    grid: list[list[str | None]],
    merges: list[tuple[int, int, int]] = (),  # type: ignore[assignment]
    before: dict[str, list[list[str]]] | None = None,
) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in (before or {}).items():
        ws = wb.create_sheet(title)
        for cells in rows:
            ws.append(cells)
    ws = wb.create_sheet(SHEET)
    for r, cells in enumerate(grid, start=1):
        for c, value in enumerate(cells, start=1):
            if value:
                ws.cell(r, c, value)
    for r1, r2, c in merges:
        ws.merge_cells(start_row=r1 + 1, start_column=c + 1, end_row=r2 + 1, end_column=c + 1)
    wb.save(path)
    return path


def write_csv(path: Path, grid: list[list[str | None]], encoding: str, delimiter: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows([[c or "" for c in r] for r in grid])
    return path


def indicators(parsed):
    return [
        (i.level1, i.level2, i.name, i.target, i.actual, i.weight, i.score)
        for i in parsed.indicators
    ]


def same_as_text(path: Path, txt: Path, label: str, **hints) -> None:
    """``path`` is read by the sheet reader into the text's indicators, citing its rows."""
    expected = read_table(txt, **hints)[1]
    chosen, parsed = read_table(path, **hints)
    assert chosen.name == sheet.NAME
    assert parsed.indicators, txt.name
    assert indicators(parsed) == indicators(expected)
    # row N of the spreadsheet is line N of the text
    assert [(i.source.file, i.source.line) for i in parsed.indicators] == [
        (label, i.source.line) for i in expected.indicators
    ]
    assert (parsed.table.department, parsed.table.fiscal_year) == (
        expected.table.department,
        expected.table.fiscal_year,
    )


# --------------------------------------------------------------------------- real tables


@pytest.mark.parametrize("name", PLAIN)
def test_a_table_saved_as_xlsx_reads_as_its_text(name, tmp_path):
    txt = TABLES / name
    path = write_xlsx(tmp_path / f"{txt.stem}.xlsx", rows_of(txt))  # type: ignore[arg-type]
    same_as_text(path, txt, f"{path}#{SHEET}")


@pytest.mark.parametrize("name", PLAIN)
def test_a_table_saved_as_csv_reads_as_its_text(name, tmp_path):
    txt = TABLES / name
    grid: list[list[str | None]] = rows_of(txt)  # type: ignore[assignment]
    path = write_csv(tmp_path / f"{txt.stem}.csv", grid, "utf-8-sig", ",")
    same_as_text(path, txt, str(path))
    gbk = write_csv(tmp_path / f"{txt.stem}.gbk.csv", grid, "gbk", ",")
    same_as_text(gbk, txt, str(gbk))
    assert read_table(gbk)[1].warnings[0].message == "文件不是 UTF-8 编码，已按 GB18030 读入"
    assert not any("UTF-8" in w.message for w in read_table(path)[1].warnings)


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_csv_delimiter_is_sniffed(delimiter, tmp_path):
    txt = TABLES / PLAIN[0]
    path = write_csv(tmp_path / f"{txt.stem}.csv", rows_of(txt), "utf-8", delimiter)  # type: ignore[arg-type]
    assert sheet.delimiter_of(path.read_text(encoding="utf-8")) == delimiter
    same_as_text(path, txt, str(path))


def test_year_hint_and_errors_cite_the_sheet_row(tmp_path):
    """A fragment without a year: read, the warning names the sheet and the row; --year
    gives the year; storing it without one is an error at that row."""
    from kg.build import prepare

    txt = TABLES / "sichuan_dyrmt_railway_environment_selfeval_fragment.txt"
    path = write_xlsx(tmp_path / "表.xlsx", rows_of(txt))  # type: ignore[arg-type]
    sheet, text = read_table(path)[1], read_table(txt)[1]
    assert sheet.table.fiscal_year is None and len(sheet.indicators) == len(text.indicators)
    (w,) = [w for w in sheet.warnings if "没有预算年度" in w.message]
    (tw,) = [w for w in text.warnings if "没有预算年度" in w.message]
    assert (w.source.file, w.source.line) == (f"{path}#{SHEET}", tw.source.line)
    with pytest.raises(SourceError) as err:
        prepare(path)
    assert "--year" in err.value.message
    same_as_text(path, txt, f"{path}#{SHEET}", year=2022)


@pytest.mark.parametrize("name", MERGED)
def test_merged_category_cells_as_printed(name, tmp_path):
    """一级/二级 labels written once with a merged range over their rows (XLSX), or left
    blank under the first (CSV); in the XLSX a 指标值 shared by adjacent rows is merged too."""
    txt = TABLES / name
    grid, merges = placed(txt)
    # the workbook really is a printed table: labels merged over several rows
    labels = {grid[r1][c] for r1, r2, c in merges if r2 > r1}
    assert {"产出指标", "质量指标"} <= labels
    header = next(r for r in grid if any(_key(c or "") == "三级指标" for c in r))
    name_col = next(j for j, c in enumerate(header) if _key(c or "") == "三级指标")
    values, shared = merge_equal_values(grid, name_col + 1)
    assert any(grid[r1][c] and grid[r1][c].startswith("≥") for r1, _, c in shared)
    path = write_xlsx(tmp_path / f"{txt.stem}.xlsx", values, merges + shared)
    assert len(openpyxl.load_workbook(path)[SHEET].merged_cells.ranges) == len(merges + shared)
    same_as_text(path, txt, f"{path}#{SHEET}")
    blank = write_csv(tmp_path / f"{txt.stem}.csv", grid, "gbk", ",")
    same_as_text(blank, txt, str(blank))


def test_a_range_over_columns_is_one_cell_and_equal_neighbours_are_two(tmp_path):
    """A title merged across the columns is printed once; 分值 10 | 得分 10 stay two cells."""
    txt = TABLES / "yunnan_yongde_minglang_school_2022_selfeval.txt"
    rows = rows_of(txt)
    title = "永德县明朗中学2022年度项目支出绩效自评表"
    rows[0] = [title]  # a # line: now the title, over all the columns
    path = write_xlsx(tmp_path / f"{txt.stem}.xlsx", rows)  # type: ignore[arg-type]
    wb = openpyxl.load_workbook(path)
    wb[SHEET].merge_cells("A1:K1")
    wb.save(path)
    parsed = read_table(path)[1]
    assert parsed.table.title == title
    assert indicators(parsed) == indicators(read_table(txt)[1])
    scored = [i for i in parsed.indicators if i.name == "营养改善计划覆盖率"]
    assert [(i.actual, i.weight, i.score) for i in scored] == [("100%", 10, 10)]


def test_a_cover_sheet_before_the_table_and_empty_sheets(tmp_path):
    txt = TABLES / "hubei_huangshi_party_school_2022_project_approval.txt"
    cover = {"封面": [["2022年度项目支出绩效目标批复"], [], ["中共黄石市委党校"]], "Sheet2": []}
    path = write_xlsx(tmp_path / f"{txt.stem}.xlsx", rows_of(txt), before=cover)  # type: ignore[arg-type]
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("空白")
    wb.save(path)
    assert wb.sheetnames == ["封面", "Sheet2", SHEET, "空白"]
    same_as_text(path, txt, f"{path}#{SHEET}")


def test_nothing_table_like_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "会议.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["会议纪要"])
    wb.active.append(["时间", "2024年3月1日"])
    wb.active.append(["议题", "讨论下一年度的工作安排"])
    wb.create_sheet("Sheet2")
    wb.save(path)
    with pytest.raises(NotATargetTableError) as err:
        read_table(path)
    assert err.value.file == str(path)
    assert "一级指标" in err.value.message and "Sheet" in err.value.message
    empty = tmp_path / "空.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(NotATargetTableError, match="每个工作表都是空的"):
        read_table(empty)
    notes = write_csv(tmp_path / "notes.csv", [["会议纪要", "讨论工作安排"]], "utf-8", ",")
    with pytest.raises(NotATargetTableError) as err:
        read_table(notes)
    assert err.value.file == str(notes) and "一级指标" in err.value.message


def test_the_templates_own_files_are_still_read_as_template(seed_parsed, tmp_path):
    for suffix in (".xlsx", ".csv"):
        path = tmp_path / f"draft{suffix}"
        path.write_bytes(writers.to_bytes(seed_parsed, suffix.lstrip(".")))
        choice = choose_and_read(path)
        assert choice.reader.name == template.NAME
        assert len(choice.parsed.indicators) == len(seed_parsed.indicators) == 166
        assert not sheet.sniff(path)  # left to the template reader, never read twice
        assert [c.reader.name for c in choice.candidates] == ["template", "sheet"]


@pytest.mark.slow  # bomb workbooks; test_xlsx_limits keeps the limits fast
def test_a_spreadsheet_bomb_is_refused_by_the_sheet_reader_too(tmp_path):
    """Forced or chosen, a workbook past the limits is refused before it is read."""
    txt = TABLES / PLAIN[0]
    path = write_xlsx(tmp_path / "表.xlsx", rows_of(txt))  # type: ignore[arg-type]
    wb = openpyxl.load_workbook(path)
    wb[SHEET].merge_cells("A40:Z60000")
    wb.save(path)
    for reader in (None, "sheet"):
        with pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_CELLS"):
            read_table(path, reader)
