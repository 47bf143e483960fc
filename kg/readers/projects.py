"""One table per project: a file listing several projects becomes several tables.

A reader that meets project rows (名称 项目单位 项目类别 预算数 …, or a 【项目概况】 line)
lists them in :attr:`ParsedTable.projects`; every item printed after a project row, up to
the next one, is that project's. :func:`split` makes one :class:`ParsedTable` per project
that holds indicators: the file's header facts, the project's name (so each table has its
own URI), its unit as the department when the file names none, its 预算数 as the totals,
and the items and warnings of its lines. Items printed before the first project row stay
with a table of their own when they hold indicators, else with the first project. A
project row with no indicator after it (a list cut short) is not a table: a warning says
so, on the table before it.
"""

from __future__ import annotations

import bisect

from ..records import ParsedTable, ProjectRecord, TotalsRecord, WarningRecord

#: Departments a reader records when the file names none (see flat_text's _Facts).
UNNAMED = "未注明单位"


def split(parsed: ParsedTable) -> list[ParsedTable]:
    """The tables of a parsed file: itself when it lists fewer than two projects with rows."""
    if not parsed.projects:
        return [parsed]
    starts = [p.source.line for p in parsed.projects]
    first = starts[0]

    def part_of(line: int) -> int:
        """-1 before the first project row, else the index of the project the line is in
        (project rows are in reading order)."""
        return bisect.bisect_right(starts, line) - 1

    counts = [0] * len(parsed.projects)
    before = 0
    for ind in parsed.indicators:
        k = part_of(ind.source.line)
        if k < 0:
            before += 1
        else:
            counts[k] += 1
    holding = [k for k, n in enumerate(counts) if n]
    if len(holding) + (1 if before else 0) < 2:
        return [_single(parsed, holding)]

    parts: dict[int, ParsedTable] = {}
    keys = ([-1] if before else []) + holding
    for k in keys:
        parts[k] = _empty_part(parsed, parsed.projects[k] if k >= 0 else None)

    def home(line: int) -> int:
        k = part_of(line)
        while k not in parts and k > -1:  # a project without indicators: the one before
            k -= 1
        return k if k in parts else keys[0]

    for ind in parsed.indicators:
        parts[home(ind.source.line)].indicators.append(ind)
    for item_list in ("units", "tasks", "goals", "not_applicable", "warnings"):
        for item in getattr(parsed, item_list):
            line = item.source.line
            target = keys[0] if line < first else home(line)
            getattr(parts[target], item_list).append(item)
    if parsed.totals is not None and -1 in parts:
        parts[-1].totals = parsed.totals
    for k, project in enumerate(parsed.projects):
        if k not in parts:
            parts[home(project.source.line)].warnings.append(_without_rows(project))
    out = []
    for k in keys:
        part = parts[k]
        for n, ind in enumerate(part.indicators, start=1):
            ind.ordinal = n
        part.warnings.sort(key=lambda w: (w.source.line, w.source.end_line or 0))
        out.append(part)
    return out


def _without_rows(project: ProjectRecord) -> WarningRecord:
    """A project row with no indicator after it: a warning, not a table."""
    return WarningRecord(
        message=f"项目 {project.name} 之后没有指标行（文字中断？），未成表",
        text=project.text,
        source=project.source,
    )


def _empty_part(parsed: ParsedTable, project: ProjectRecord | None) -> ParsedTable:
    table = parsed.table.model_copy(deep=True)
    warnings = []
    if project is not None and project.table is not None:  # a table printed later in the file
        table = project.table.model_copy(deep=True)
    elif project is not None:
        table.project_name = project.name
        table.source = project.source
        if project.unit and (table.department == UNNAMED or not table.department):
            table.department = project.unit
            warnings.append(
                WarningRecord(
                    message=f"预算单位按项目行的项目单位记为 {project.unit}",
                    text=project.text,
                    source=project.source,
                )
            )
    totals = None
    if project is not None and project.amount is not None:
        totals = TotalsRecord(
            label="预算数", total=project.amount, fiscal=None, other=None, source=project.source
        )
    return ParsedTable(table=table, totals=totals, warnings=warnings)


def _single(parsed: ParsedTable, holding: list[int]) -> ParsedTable:
    """One table: the project rows are kept as warnings, the one project named."""
    out = parsed.model_copy(deep=True)
    out.projects = []
    only = parsed.projects[holding[0]] if len(holding) == 1 else None
    if only is not None and only.table is not None:
        out.table = only.table.model_copy(deep=True)  # the file's rows are all the later table's
    elif only is not None and not out.table.project_name:
        out.table.project_name = only.name
    for k, project in enumerate(parsed.projects):
        if k not in holding:
            out.warnings.append(_without_rows(project))
    out.warnings.sort(key=lambda w: (w.source.line, w.source.end_line or 0))
    return out
