"""The review as a workbook a reviewer filters and sends back (``ikg review --format xlsx``).

Two sheets: 概况 — one row per table, sorted by what needs attention (errors, warnings,
cross-year changes, vague share), with what each was compared with; 问题清单 — one row per
finding of the report (department, table, rule in Chinese, severity, indicator, source file
and line, message, suggested fix …). Headers are frozen, auto-filters on, widths set.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from .findings import SECTIONS, SEVERITY_ZH, VALUE_LABELS, ReviewReport
from .render import SUMMARY_HEADERS, _owner, _summary_rows, against_lines

#: Headers of the findings sheet, in order.
FINDING_HEADERS = [
    "部门",
    "年度",
    "表",
    "规则",
    "规则编号",
    "严重程度",
    "类别",
    "指标或项目",
    "来源文件",
    "行号",
    "问题说明",
    "修改建议",
    "相关数值",
    "审核文件",
]
_FINDING_WIDTHS = [22, 7, 30, 22, 22, 9, 16, 30, 40, 7, 70, 40, 50, 40]
_SUMMARY_WIDTHS = [22, 7, 34, 40, 7, 7, 7, 7, 10, 10, 10, 40]

SUMMARY_SHEET = "概况"
FINDINGS_SHEET = "问题清单"


def write_xlsx(report: ReviewReport, out: Path | IO[bytes]) -> None:
    """The report as a workbook: the tables' summary sheet, then one row per finding."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    _summary_sheet(ws, report)
    _findings_sheet(wb.create_sheet(FINDINGS_SHEET), report)
    wb.save(out)


def _header(ws: Any, headers: list[str], widths: list[int]) -> None:
    """The bold, shaded first row and the columns' widths."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F3")
    ws.append(headers)
    for k, (cell, w) in enumerate(zip(ws[1], widths, strict=True), 1):
        cell.font = bold
        cell.fill = fill
        ws.column_dimensions[get_column_letter(k)].width = w


def _summary_sheet(ws: Any, report: ReviewReport) -> None:
    """A row per table (counts as numbers), frozen header and filter, then what the tables
    were compared with."""
    from openpyxl.utils import get_column_letter

    _header(ws, SUMMARY_HEADERS, _SUMMARY_WIDTHS)
    rows = _summary_rows(report)
    for r in rows:
        ws.append([_num(c) for c in r])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SUMMARY_HEADERS))}{len(rows) + 1}"
    notes = against_lines(report)
    if notes:
        ws.append([])
        for x in notes:
            ws.append([x.strip()])


def _findings_sheet(ws: Any, report: ReviewReport) -> None:
    """A row per finding with its table's department, year and title; long texts wrapped."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    _header(ws, FINDING_HEADERS, _FINDING_WIDTHS)
    titles = {r.id: r.title_zh for r in report.rules}
    by_file = {fs.file: fs for fs in report.files}
    tables = {t.file: t for t in report.tables}
    for f in report.findings:
        owner = _owner(report, f)
        fs = by_file.get(owner)
        t = tables.get(owner)
        ws.append(
            [
                fs.department if fs and fs.department else "",
                fs.fiscal_year if fs and fs.fiscal_year else None,
                t.title if t else (fs.title if fs and fs.title else ""),
                titles.get(f.rule, f.rule),
                f.rule,
                SEVERITY_ZH[f.severity],
                f.category or SECTIONS[f.section],
                f.item_name,
                f.file,
                f.line,
                f.message_zh,
                f.fix_zh or "",
                "；".join(f"{VALUE_LABELS.get(k, k)}：{v}" for k, v in f.values.items() if v),
                owner,
            ]
        )
    for row in ws.iter_rows(min_row=2, min_col=11, max_col=13):
        for cell in row:
            cell.alignment = wrap
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(FINDING_HEADERS))}{len(report.findings) + 1}"


def _num(text: str) -> object:
    """Counts as numbers (so the reviewer can sort and sum them), the rest as printed."""
    return int(text) if text.isdigit() else text
