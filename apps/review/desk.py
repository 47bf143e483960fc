"""The reviewer's desk (``/review`` in the web app): stored tables, the cross-year view, filters.

* :func:`stored_tables` / :func:`parsed_from_store` — tables already in the store, read back
  as :class:`~kg.records.ParsedTable` from their named graph (what the mapping wrote: header
  facts, tasks, totals, goals, indicators, not-applicable rows), so that the review of a stored
  table runs the same :func:`apps.review.review_files` over them (written as JSONL).
* :func:`cross_year_view` — one department's tables of this year beside last year's, indicator
  by indicator: matched by :func:`apps.review.crossyear.compare` (the matching the cross-year
  rules use), each row marked lowered / raised / changed / unchanged / added / dropped with
  the bound reading the ``target-lowered`` rule uses (:func:`apps.review.crossyear.lowered`).
* :func:`filter_report` — the report restricted to a department, a rule and a severity (what
  the desk shows, and what its XLSX export writes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, Field
from rdflib import URIRef

from kg import uris
from kg.namespaces import IKG
from kg.records import ParsedTable
from kg.unmapping import parsed_from_graph

from . import crossyear
from .findings import SEVERITIES, ReviewReport, summarize
from .render import _owner
from .similarity import Similarity, lexical_similarity

if TYPE_CHECKING:
    from kg.store import GraphStore

M = TypeVar("M", bound=BaseModel)

Change = Literal["lowered", "raised", "changed", "unchanged", "added", "dropped"]

#: Chinese labels of the marks (the page and the export show them with the colour).
CHANGE_ZH: dict[str, str] = {
    "lowered": "目标降低",
    "raised": "目标提高",
    "changed": "目标值改写",
    "unchanged": "未变",
    "added": "今年新增",
    "dropped": "今年未设置",
}

# --------------------------------------------------------------------------- stored tables

_IKG = "https://w3id.org/indicator-kg/ontology#"

#: Every table of the store with its department, year, title and indicator count.
STORED_TABLES_QUERY = f"""PREFIX ikg: <{_IKG}>
SELECT ?t ?dept ?year ?title ?project (COUNT(?i) AS ?n) WHERE {{
  ?t a ikg:TargetTable ; ikg:department/ikg:name ?dept ; ikg:fiscalYear ?year .
  OPTIONAL {{ ?t <http://purl.org/dc/terms/title> ?title }}
  OPTIONAL {{ ?t ikg:projectName ?project }}
  OPTIONAL {{ ?i a ikg:Indicator ; ikg:inTable ?t }}
}} GROUP BY ?t ?dept ?year ?title ?project ORDER BY ?dept ?year ?title"""


class StoredTable(BaseModel):
    uri: str
    department: str
    fiscal_year: int
    title: str
    project: str | None = None
    indicators: int = 0


def stored_tables(store: GraphStore) -> list[StoredTable]:
    """The tables of a store, by department and year."""
    _, rows = store.select(STORED_TABLES_QUERY)
    return [
        StoredTable(
            uri=str(t),
            department=str(dept),
            fiscal_year=int(str(year)),
            title="" if title is None else str(title),
            project=None if project is None else str(project),
            indicators=int(str(n or 0)),
        )
        for t, dept, year, title, project, n in rows
    ]


def parsed_from_store(store: GraphStore, table_uri: str) -> ParsedTable:
    """A stored table read back from its named graph (warnings and units are not stored)."""

    tab = URIRef(table_uri)
    dept = store.select(
        f"SELECT ?n WHERE {{ <{table_uri}> <{IKG.department}>/<{IKG.name}> ?n }} LIMIT 1"
    )[1]
    return parsed_from_graph(
        store.graph(uris.graph_of(tab)), table_uri, str(dept[0][0]) if dept else ""
    )


def jsonl_name(parsed: ParsedTable) -> str:
    """A file name for a stored table written out for the review (department, year, title)."""
    t = parsed.table
    raw = f"{t.department}_{t.fiscal_year or ''}_{t.project_name or t.title}"
    safe = "".join(ch if ch.isalnum() or ch in "-_（）()" else "_" for ch in raw)
    return safe[:120] + ".jsonl"


# --------------------------------------------------------------------------- the cross-year view


class SideRow(BaseModel):
    """One line of the side-by-side view: this year's indicator, last year's, and the mark."""

    change: Change
    change_zh: str
    level1: str = ""
    level2: str = ""
    name: str | None = Field(default=None, description="this year's indicator (None: dropped)")
    target: str | None = None
    line: int | None = None
    prev_name: str | None = Field(default=None, description="last year's (None: added)")
    prev_target: str | None = None
    prev_actual: str | None = None
    prev_line: int | None = None
    score: float | None = Field(default=None, description="name match score (1: same name)")


class SidePair(BaseModel):
    """One table of the later year beside the department's earlier table."""

    title: str
    file: str
    fiscal_year: int | None
    status: Literal["compared", "other-project", "no-earlier"]
    prior_title: str | None = None
    prior_year: int | None = None
    prior_file: str | None = None
    rows: list[SideRow] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict, description="rows per change")


class CrossYearView(BaseModel):
    department: str
    years: list[int] = Field(description="the department's years available")
    year: int | None = Field(description="the later year shown")
    prior_year: int | None = Field(description="the earlier year shown")
    pairs: list[SidePair]
    other_prior_tables: list[str] = Field(
        default_factory=list, description="earlier tables no later table was compared with"
    )


def change_of(prev_target: str, target: str, year: int | None) -> Change:
    """How a target moved between two years (the bound reading of ``target-lowered``)."""
    if crossyear._flat(prev_target) == crossyear._flat(target):
        return "unchanged"
    prev = crossyear.read_bound(prev_target, None if year is None else year - 1)
    cur = crossyear.read_bound(target, year)
    if prev is not None and cur is not None and crossyear.comparable(prev, cur):
        if crossyear.lowered(prev, cur):
            return "lowered"
        if crossyear.lowered(cur, prev):
            return "raised"
        return "unchanged"  # ≥85% and 85%: the same bound, written another way
    return "changed"


def side_pair(
    parsed: ParsedTable, priors: Sequence[crossyear.PriorTable], similarity: Similarity
) -> SidePair:
    """One table beside its department's earlier table, chosen and matched as the rules do."""
    t = parsed.table
    c = crossyear.compare(parsed, priors, similarity)
    pair = SidePair(
        title=t.project_name or t.title,
        file=t.source.file,
        fiscal_year=t.fiscal_year,
        status=c.status,
        prior_title=(c.prior.project or c.prior.title) if c.prior else None,
        prior_year=c.prior.fiscal_year if c.prior else None,
        prior_file=c.prior.file if c.prior else None,
    )
    if c.status != "compared":
        return pair
    by_current = {p.current: p for p in c.pairs}
    rows: list[SideRow] = []
    for k, ind in enumerate(parsed.indicators):
        p = by_current.get(k)
        change: Change = (
            "added" if p is None else change_of(p.prior.target, ind.target, t.fiscal_year)
        )
        rows.append(
            SideRow(
                change=change,
                change_zh=CHANGE_ZH[change],
                level1=ind.level1_printed or ind.level1,
                level2=ind.level2_printed or ind.level2,
                name=ind.name,
                target=ind.target,
                line=ind.source.line,
                prev_name=p.prior.name if p else None,
                prev_target=p.prior.target if p else None,
                prev_actual=p.prior.actual if p else None,
                prev_line=p.prior.line if p else None,
                score=round(p.score, 3) if p else None,
            )
        )
    for d in c.dropped:
        rows.append(
            SideRow(
                change="dropped",
                change_zh=CHANGE_ZH["dropped"],
                level2=d.level2,
                prev_name=d.name,
                prev_target=d.target,
                prev_actual=d.actual,
                prev_line=d.line,
            )
        )
    pair.rows = rows
    pair.counts = {k: sum(r.change == k for r in rows) for k in CHANGE_ZH}
    return pair


def cross_year_view(
    department: str,
    current: Iterable[ParsedTable],
    priors: Sequence[crossyear.PriorTable],
    *,
    years: Sequence[int] = (),
    year: int | None = None,
    prior_year: int | None = None,
    similarity: Similarity = lexical_similarity,
) -> CrossYearView:
    """The department's tables of ``year`` beside its earlier ones (of ``prior_year`` when
    given, else the latest earlier year each table has, as the rules pick it)."""
    mine = [p for p in current if p.table.department == department]
    earlier = [
        p
        for p in priors
        if p.department == department and (prior_year is None or p.fiscal_year == prior_year)
    ]
    pairs = [side_pair(p, earlier, similarity) for p in mine]
    used = {(p.prior_file, p.prior_title, p.prior_year) for p in pairs if p.prior_file}
    if prior_year is None:
        shown = [p.prior_year for p in pairs if p.prior_year is not None]
        prior_year = max(shown) if shown else None
    others = [
        p.label
        for p in earlier
        if p.fiscal_year == prior_year and (p.file, p.project or p.title, p.fiscal_year) not in used
    ]
    if year is None:
        ys = [p.table.fiscal_year for p in mine if p.table.fiscal_year is not None]
        year = max(ys) if ys else None
    return CrossYearView(
        department=department,
        years=sorted(set(years)),
        year=year,
        prior_year=prior_year,
        pairs=pairs,
        other_prior_tables=others,
    )


# --------------------------------------------------------------------------- filters


def department_of(report: ReviewReport) -> Callable[[Any], str]:
    """The department a finding belongs to (by the reviewed file it is listed under)."""

    by_file = {fs.file: fs.department or "" for fs in report.files}
    return lambda f: by_file.get(_owner(report, f), "")


def filter_report(
    report: ReviewReport,
    *,
    department: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
) -> ReviewReport:
    """The report with only the findings (and the tables and files) that pass the filters, the
    summary recounted. None or "" means no filter on that field."""

    dept = department_of(report)
    findings = [
        f
        for f in report.findings
        if (not department or dept(f) == department)
        and (not rule or f.rule == rule)
        and (not severity or f.severity == severity)
    ]
    files = [
        fs.model_copy() for fs in report.files if not department or fs.department == department
    ]
    for fs in files:
        mine = [f for f in findings if _owner(report, f) == fs.file]
        fs.counts = {s: sum(f.severity == s for f in mine) for s in SEVERITIES}
    return report.model_copy(
        update={
            "files": files,
            "findings": findings,
            "summary": summarize(findings),
            "tables": [t for t in report.tables if not department or t.department == department],
            "comparisons": [
                c for c in report.comparisons if not department or c.department == department
            ],
        }
    )


def strip_prefix(model: M, prefix: str) -> M:
    """A report (or any model) with a temporary folder's path removed from every file name:
    uploads are reviewed from a temporary copy, the answer names the file as uploaded."""
    text = model.model_dump_json().replace(json.dumps(prefix)[1:-1], "")
    return type(model).model_validate_json(text)


def paths_named(folder: Path, names: Iterable[str]) -> list[Path]:
    """Unique paths under ``folder`` for the given file names (a repeated name gets a suffix)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        p = Path(name)
        out.append(folder / (name if k == 0 else f"{p.stem}-{k + 1}{p.suffix}"))
    return out
