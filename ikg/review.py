"""``ikg review``: the reviewer's first pass over one or more tables.

Registered in :mod:`ikg.cli` with ``app.command("review")(review)``. Exit codes:
0 — no error-severity finding; 1 — the tables have errors (amounts, dates, an
unreadable file …); 2 — bad usage (no such file, no store at ``--against``,
unknown format).
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from apps.review import is_store, review_files
from apps.review.render import render
from apps.review.xlsx import write_xlsx
from kg.errors import SourceError
from kg.i18n import error_prefix, tr
from kg.readers import readers
from kg.settings import Settings, get_settings
from kg.sources import classify_sources

log = logging.getLogger(__name__)

err = Console(stderr=True, soft_wrap=True, highlight=False)


#: Batches of at least this many files show progress on stderr.
PROGRESS_FROM = 20


def _progress(done: int, total: int, file: str) -> None:
    if done == total or done % 10 == 0:
        err.print(
            tr(f"已审核 {done}/{total} 个文件", f"reviewed {done}/{total} file(s)"), highlight=False
        )


class ReviewFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"
    xlsx = "xlsx"


def review(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="table files (PDF text, flattened table text, template XLSX/CSV, JSONL) or folders "
            "of them; indicator libraries (指标库) among them are recognised and not reviewed"
        ),
    ],
    format: Annotated[
        ReviewFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, json, markdown, html or xlsx (a workbook: summary and findings sheets; "
            "needs --output)",
        ),
    ] = ReviewFormat.text,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="data directory of a built store, or a folder of tables: report indicators that "
            "duplicate another department's (same fiscal year), and compare each table with its "
            "department's earlier years (lowered targets, dropped indicators, targets below last "
            "year's actual values, tables copied unchanged)",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the report here (default: stdout)")
    ] = None,
    reader: Annotated[
        str | None,
        typer.Option("--reader", help="force a reader (pdf-text, flat-text, template, jsonl)"),
    ] = None,
) -> None:
    """Review tables: vague and mis-filed indicators, amounts, dates, duplicates, task coverage.

    Every finding names the rule, the severity, the item with its values as printed, the file and
    line, and a message in Chinese to send back to the department. Exit code 1 when any finding
    is an error.
    """

    paths = _tables_to_review(files, reader)
    _check_options(against, format, output)
    progress = _progress if len(paths) >= PROGRESS_FROM else None
    try:
        report = review_files(
            paths, against, reader=reader, progress=progress, settings=_settings()
        )
    except OSError as exc:  # the store vanished or is not one
        raise _usage_error(str(exc)) from exc
    _write(report, format, output)
    _print_totals(report)
    if report.has_errors:
        raise typer.Exit(1)


def _settings() -> Settings | None:
    """The settings, or None (the review's defaults) when they do not validate, with a warning."""
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError: the review runs on the defaults
        log.warning("review: settings do not validate, default model used: %s", exc)
        return None


def _print_totals(report: Any) -> None:
    """The files reviewed and the findings per severity, on stderr."""
    s = report.summary.by_severity
    err.print(
        tr(
            f"{len(report.files)} 个文件：错误 {s['error']} 条，警告 {s['warning']} 条，"
            f"提示 {s['note']} 条",
            f"{len(report.files)} file(s): {s['error']} error(s), {s['warning']} warning(s), "
            f"{s['note']} note(s)",
        ),
        highlight=False,
    )


def _usage_error(message: str) -> typer.Exit:
    """Print a usage error on stderr; the exit (code 2) to raise."""
    err.print(f"[red]{error_prefix()}[/red]{message}", highlight=False)
    return typer.Exit(2)


def _tables_to_review(files: list[Path], reader: str | None) -> list[Path]:
    """The table files among ``files`` (folders walked, indicator libraries set aside with
    a note); exit 2 on a missing file, an unknown reader or no table at all."""

    missing = [p for p in files if not p.exists()]
    if missing:
        raise _usage_error(tr("没有这个文件：", "no such file: ") + ", ".join(map(str, missing)))
    if reader is not None and reader not in readers():
        raise _usage_error(
            tr(
                f"没有读取器 {reader!r}；可用：{'、'.join(readers())}",
                f"unknown reader {reader!r}; available: {', '.join(readers())}",
            )
        )
    try:
        found = classify_sources(files, reader)
    except SourceError as exc:
        raise _usage_error(str(exc)) from exc
    for lib in found.libraries:  # a library is not a table: not reviewed, not a parse error
        err.print(
            tr(
                f"注意：识别为指标库，未作为绩效目标表审核：{lib}",
                f"note: an indicator library, not reviewed as a table: {lib}",
            ),
            markup=False,
        )
    if not found.tables:
        raise _usage_error(
            tr(
                f"没有可审核的绩效目标表（{len(found.libraries)} 个文件识别为指标库）",
                f"no table to review ({len(found.libraries)} file(s) are indicator libraries)",
            )
        )
    return found.tables


def _check_options(against: Path | None, format: ReviewFormat, output: Path | None) -> None:
    """Exit 2 when --against holds neither a store nor tables, or xlsx has no --output."""

    if against is not None and not (is_store(against) or against.exists()):
        raise _usage_error(
            tr(
                f"--against {against}：那里既没有图存储也没有表格；请先运行 "
                f"`ikg build --data-dir {against}`，或给出存放以前年度表格的文件夹",
                f"--against {against}: neither a graph store nor tables there; run "
                f"`ikg build --data-dir {against}` first, or give a folder of earlier tables",
            )
        )
    if format is ReviewFormat.xlsx and output is None:
        raise _usage_error(
            tr("--format xlsx 需要 --output 文件", "--format xlsx needs --output FILE")
        )


def _write(report: Any, format: ReviewFormat, output: Path | None) -> None:
    """The report in ``format`` to ``output`` (stdout when None; xlsx needs a file)."""

    if format is ReviewFormat.xlsx:
        assert output is not None
        write_xlsx(report, output)
        err.print(tr(f"已写入 {output}", f"wrote {output}"), highlight=False)
    else:
        text = render(report, format.value)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
            err.print(tr(f"已写入 {output}", f"wrote {output}"), highlight=False)
