"""Writers: a :class:`~kg.records.ParsedTable` as JSON Lines, CSV or an XLSX workbook.

What they write reads back to an equal ParsedTable: JSON Lines with
:mod:`kg.readers.jsonl`, CSV and XLSX with :mod:`kg.readers.template` (the
drafting template, whose columns are defined in that module and documented in
``docs/template.md``).

Amounts (:class:`~decimal.Decimal`):

* JSON Lines: pydantic's JSON form, a string with the Decimal's own digits (``"3133.45"``);
* CSV: the plain digits, no thousands separators, no exponent (``3133.45``, ``0.00``);
* XLSX: a number cell (the Decimal's digits in the file) shown with ``#,##0.00``.

The template reader gives amounts at least two decimals, so an amount with
fewer (``Decimal("5")``) comes back from CSV / XLSX as ``5.00``; readers of
printed tables always have two.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

from .readers.template import (
    CSV_COLUMNS,
    PROVENANCE,
    SHEETS,
    TABLE_ITEMS,
    TABLE_KEY_HEADER,
    TABLE_SHEET,
    TABLE_VALUE_HEADER,
    Column,
    Sheet,
    csv_rows,
    sheet_rows,
    table_items,
)
from .records import ParsedTable

Format = Literal["jsonl", "csv", "xlsx"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "xlsx")

AMOUNT_FORMAT = "#,##0.00"
_BOM = "\ufeff"


# --------------------------------------------------------------------------- JSON Lines


def write_jsonl(parsed: ParsedTable, out: TextIO) -> None:
    """One JSON object per record (``model_dump(mode="json")``), table first, in records() order."""
    for record in parsed.records():
        out.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False))
        out.write("\n")


# --------------------------------------------------------------------------- CSV


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_csv(parsed: ParsedTable, out: TextIO) -> None:
    """The template's CSV form: a BOM, a header row, one row per record (记录类型 first).

    ``out`` should be opened with ``encoding="utf-8"`` (not ``utf-8-sig``: this
    writes the BOM itself) and ``newline=""``.
    """
    out.write(_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(parsed):
        writer.writerow([_csv_cell(row.get(col)) for col in CSV_COLUMNS])


# --------------------------------------------------------------------------- XLSX


@dataclass(frozen=True)
class _Styles:
    """The fonts, fills and alignments of the template workbook."""

    bold: Any
    header_fill: Any
    provenance_font: Any
    provenance_fill: Any
    grey: Any
    top: Any
    wrap: Any

    @classmethod
    def make(cls) -> _Styles:
        """The styles, made with openpyxl (imported here: only the XLSX form needs it)."""
        from openpyxl.styles import Alignment, Font, PatternFill

        return cls(
            bold=Font(bold=True),
            header_fill=PatternFill("solid", fgColor="DDEBF7"),
            provenance_font=Font(bold=True, color="808080"),
            provenance_fill=PatternFill("solid", fgColor="EDEDED"),
            grey=Font(color="808080"),
            top=Alignment(vertical="top"),
            wrap=Alignment(vertical="top", wrap_text=True),
        )


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write one cell; a text stays text (never a formula)."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # a text like '=5' stays text, never a formula
    else:
        cell.value = value
    return cell


def _workbook(parsed: ParsedTable) -> Any:
    from openpyxl import Workbook

    styles = _Styles.make()
    wb = Workbook()
    _table_sheet(wb.active, parsed, styles)
    rows = sheet_rows(parsed)
    for sheet in SHEETS:
        _record_sheet(wb.create_sheet(sheet.name), sheet, rows[sheet.kind], styles)
    return wb


def _table_sheet(ws: Any, parsed: ParsedTable, styles: _Styles) -> None:
    """The 基本信息 sheet: 项目 / 内容, one row per table item, provenance in grey."""
    ws.title = TABLE_SHEET
    for col, text in enumerate((TABLE_KEY_HEADER, TABLE_VALUE_HEADER), start=1):
        cell = _put(ws, 1, col, text)
        cell.font, cell.fill = styles.bold, styles.header_fill
    items = table_items(parsed)
    for r, column in enumerate((*TABLE_ITEMS, *PROVENANCE), start=2):
        key = _put(ws, r, 1, column.header)
        value = _put(ws, r, 2, items.get(column.header))
        key.font = styles.bold if column not in PROVENANCE else styles.provenance_font
        if column in PROVENANCE:
            value.font = styles.grey
        value.alignment = styles.top
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 60
    ws.freeze_panes = "A2"


def _record_sheet(ws: Any, sheet: Sheet, data_rows: list[dict[str, Any]], styles: _Styles) -> None:
    """One record list's sheet: a bold frozen header, one row per record, a filter."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    columns: list[Column] = [*sheet.columns, *PROVENANCE]
    for c, column in enumerate(columns, start=1):
        cell = _put(ws, 1, c, column.header)
        is_prov = column in PROVENANCE
        cell.font = styles.provenance_font if is_prov else styles.bold
        cell.fill = styles.provenance_fill if is_prov else styles.header_fill
        cell.alignment = Alignment(vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = column.width
    for r, data in enumerate(data_rows, start=2):
        for c, column in enumerate(columns, start=1):
            cell = _put(ws, r, c, data.get(column.header))
            if column.amount:
                cell.number_format = AMOUNT_FORMAT
            cell.alignment = styles.wrap if column.wrap else styles.top
            if column in PROVENANCE:
                cell.font = styles.grey
    ws.freeze_panes = "A2"
    if data_rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(data_rows) + 1}"


def write_xlsx(parsed: ParsedTable, path: Path | BinaryIO) -> None:
    """The template workbook: one sheet per record list, bold frozen headers, amounts as numbers."""
    _workbook(parsed).save(path)


# --------------------------------------------------------------------------- bytes


def to_bytes(parsed: ParsedTable, fmt: str) -> bytes:
    """``parsed`` in ``fmt`` ("jsonl", "csv" or "xlsx") as the bytes of a file."""
    if fmt == "jsonl":
        buf = io.StringIO()
        write_jsonl(parsed, buf)
        return buf.getvalue().encode("utf-8")
    if fmt == "csv":
        buf = io.StringIO(newline="")
        write_csv(parsed, buf)
        return buf.getvalue().encode("utf-8")
    if fmt == "xlsx":
        bio = io.BytesIO()
        write_xlsx(parsed, bio)
        return bio.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


#: Media types of the formats, for an API that serves them.
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
