"""Reader for a 绩效目标表 as published, saved as a spreadsheet (.xlsx) or a .csv file.

A department's own table (not the drafting template: no 记录类型 column, no template
sheets) saved from Excel or WPS. Each worksheet (or the CSV) becomes one table block
(:class:`kg.readers._grid.Block`) and the blocks are read as a DOCX's or PDF's are
(:func:`kg.readers._grid.read_blocks`: template-shaped grids by the template's column
logic, anything else by the flat-text reader).

* **XLSX** is opened within the reading limits (:mod:`kg.readers.xlsx_limits`: the
  workbook is inspected before openpyxl reads it, over the used range only). Formula
  cells read their saved result. A merged range is read as a printed table means it:
  a range over several rows (a 一级指标 / 二级指标 label) repeats its value in every
  row; a range over several columns is one cell (printed once). Empty sheets, empty
  rows and a row's trailing empty cells are skipped; a sheet before the table (a cover
  page, notes) is read as text before it.
* **CSV**: UTF-8 (with or without BOM), else GB18030 (GBK's superset, with a warning);
  the delimiter (comma, tab or semicolon) is the one that splits the most rows. A cell
  a merge left empty stays empty: the flat-text reader carries category labels down.

Sources: XLSX ``file`` is ``PATH#SHEET`` (the sheet's name, as the template reader
cites a sheet) and ``line`` the spreadsheet's row number; CSV ``file`` is the path and
``line`` the file line where the record's row starts.

A workbook none of whose sheets holds an indicator row raises
:class:`~kg.errors.NotATargetTableError` naming the file, its sheets and what was
looked for.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from ..errors import NotATargetTableError, SourceError, SpreadsheetLimitError
from ..i18n import tr
from ..records import ParsedTable, Source, WarningRecord
from . import template
from ._grid import Block, read_blocks

NAME = "sheet"
SUFFIXES = (".xlsx", ".csv")
#: read() takes department= / year= for facts the table does not print (as flat-text).
HINTS = ("department", "year")
#: Delimiters a CSV may use, preferred in this order when they split as many rows.
DELIMITERS = (",", "\t", ";")
_SNIFF_BYTES = 8192
_SNIFF_WORKBOOK_BYTES = 1_000_000
_SHEET_NAME = re.compile(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"')
_LOOKED_FOR = (
    "looked for an indicator header (一级指标 二级指标 三级指标 指标值 …) or rows that "
    "start with a category label (产出指标, 数量指标 …)"
)
_LOOKED_FOR_ZH = (
    "查找了指标表头（一级指标 二级指标 三级指标 指标值 …）和以类别开头的行（产出指标、数量指标 …）"
)


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


_TEMPLATE_SHEETS = {_key(n) for n in (template.TABLE_SHEET, *template.TABLE_SHEET_ALIASES)}


def sniff(path: Path) -> bool:
    """A workbook or a delimited text file; the template's own CSV is left to it."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            with zipfile.ZipFile(path) as zf:
                if "xl/workbook.xml" not in zf.namelist():
                    return False
                info = zf.getinfo("xl/workbook.xml")
                if info.file_size > _SNIFF_WORKBOOK_BYTES:
                    return True  # not looked into here: reading applies the limits
                names = _SHEET_NAME.findall(zf.read(info).decode("utf-8", "replace"))
            # the drafting template's workbook (a 基本信息 sheet) is left to it
            return not any(_key(html.unescape(n)) in _TEMPLATE_SHEETS for n in names)
        if suffix == ".csv":
            with path.open("rb") as fh:
                head = fh.read(_SNIFF_BYTES)
            for enc in template.CSV_ENCODINGS:
                text = head.decode(enc, errors="ignore").lstrip("\ufeff")
                first = next((ln for ln in text.splitlines() if ln.strip()), "")
                if template.RECORD_TYPE in first:
                    return False  # the drafting template's CSV
            return any(d in text for d in DELIMITERS)
    except (OSError, zipfile.BadZipFile):
        return False
    return False


def blocks(path: Path) -> list[Block]:
    """The non-empty worksheets (or the CSV) as table blocks."""
    return _blocks(path)[0]


def _blocks(path: Path) -> tuple[list[Block], str]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return xlsx_blocks(path), "utf-8"
    if suffix == ".csv":
        return csv_blocks(path)
    raise NotATargetTableError(
        str(path),
        None,
        tr(
            f"sheet 读取器读取 .xlsx 和 .csv 文件，不读{suffix or '没有后缀的文件'}",
            f"the sheet reader reads .xlsx and .csv files, not {suffix or 'a file without suffix'}",
        ),
    )


def read(path: Path, **hints: object) -> ParsedTable:
    found, encoding = _blocks(path)
    file = str(path)
    if not found:
        raise NotATargetTableError(
            file,
            None,
            tr(
                f"没有单元格有文字（每个工作表都是空的）；应为绩效目标表（{_LOOKED_FOR_ZH}）",
                f"no cell holds text (every sheet is empty); expected a 绩效目标表 ({_LOOKED_FOR})",
            ),
        )
    try:
        parsed = read_blocks(file, found, **hints)
    except NotATargetTableError as exc:
        if isinstance(exc, SpreadsheetLimitError):
            raise
        raise NotATargetTableError(
            exc.file if exc.line else file,  # with a line: the sheet it is on
            exc.line,
            tr(
                f"{_sheets_of(found)}中没有指标行：{exc.message}",
                f"no indicator rows in {_sheets_of(found)}: {exc.message}",
            ),
        ) from exc
    if not parsed.indicators:
        raise NotATargetTableError(
            file,
            None,
            tr(
                f"{_sheets_of(found)}中没有指标行；{_LOOKED_FOR_ZH}",
                f"no indicator rows in {_sheets_of(found)}; {_LOOKED_FOR}",
            ),
        )
    if encoding != "utf-8":
        parsed.warnings.insert(
            0,
            WarningRecord(
                message=f"文件不是 UTF-8 编码，已按 {encoding.upper()} 读入",
                text=None,
                source=Source(file=file, line=1),
            ),
        )
    return parsed


def _sheets_of(found: list[Block]) -> str:
    labels = list(dict.fromkeys(label for b in found for label, _ in b.where))
    names = [label.rpartition("#")[2] if "#" in label else Path(label).name for label in labels]
    return tr(
        "工作表 " + "、".join(names),
        ("the sheets " if len(names) > 1 else "the sheet ") + ", ".join(names),
    )


def _row_cells(cells: list[str]) -> list[str]:
    """A row's cells without its trailing empty ones."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _block(rows: list[tuple[int, list[str]]], label: str) -> Block | None:
    block = Block(repeats_merged=False)
    for number, cells in rows:
        kept = _row_cells(cells)
        if kept:
            block.rows.append(kept)
            block.where.append((label, number))
    return block if block.rows else None


# --------------------------------------------------------------------------- XLSX


def xlsx_blocks(path: Path) -> list[Block]:
    """One block a non-empty worksheet, in the workbook's order."""
    out: list[Block] = []
    for title, grid, merges in _workbook_grids(path):
        # a range over several columns is one cell: its repeats (the template's grid
        # fills every cell of a range from its top-left) are dropped
        across = {
            (r, c) for r1, c1, r2, c2 in merges for r in range(r1 - 1, r2) for c in range(c1, c2)
        }
        rows = [
            (
                r + 1,
                [template.text_of(v).strip() for c, v in enumerate(row) if (r, c) not in across],
            )
            for r, row in enumerate(grid)
        ]
        block = _block(rows, f"{path}#{title}")
        if block is not None:
            out.append(block)
    return out


def _workbook_grids(
    path: Path,
) -> list[tuple[str, list[list[Any]], list[tuple[int, int, int, int]]]]:
    """(sheet name, cell values with merged ranges filled, merged ranges) of each sheet.

    Read through the template reader's limited workbook reading (inspection first, the
    used range only, formulas' saved results), the one way an .xlsx is opened here.
    """
    return template.workbook_grids(path)


# --------------------------------------------------------------------------- CSV


def _decode(path: Path) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (BOM or not), else GB18030 as the template's CSV."""
    try:
        return path.read_bytes().decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return template.decode_csv(path), "gb18030"  # its error names what failed where


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(first file line, cells) of each record; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    line = 1
    for cells in reader:
        out.append((line, cells))
        line = reader.line_num + 1
    return out


def delimiter_of(text: str) -> str:
    """The delimiter that splits the most of the first rows (ties: comma, tab, semicolon)."""
    sample = "\n".join(text.splitlines()[:200])
    best, best_rows = DELIMITERS[0], -1
    for d in DELIMITERS:
        try:
            rows = _rows(sample, d)
        except csv.Error:
            continue
        split = sum(1 for _, cells in rows if len(_row_cells(cells)) > 1)
        if split > best_rows:
            best, best_rows = d, split
    return best


def csv_blocks(path: Path) -> tuple[list[Block], str]:
    """The CSV as one block, and the encoding it was read in."""
    text, encoding = _decode(path)
    delimiter = delimiter_of(text)
    try:
        rows = _rows(text, delimiter)
    except csv.Error as exc:
        raise SourceError(
            str(path), None, tr(f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")
        ) from exc
    block = _block([(n, [c.strip() for c in cells]) for n, cells in rows], str(path))
    return ([block] if block is not None else []), encoding
