"""A table's records read back from its named graph: the inverse of :mod:`kg.mapping`.

What the mapping wrote comes back (header facts, tasks, totals, goals, indicators with their
target and actual values, not-applicable rows, each with its source file and line); what it
does not store (reader warnings, units) does not. Targets are parsed again with the table's
year, as a reader would.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCTERMS

from . import categories
from .errors import IkgError
from .namespaces import IKG
from .records import (
    CategoryNotApplicableRecord,
    GoalRecord,
    IndicatorRecord,
    ParsedTable,
    Source,
    TableRecord,
    TaskRecord,
    TotalsRecord,
)
from .targets import parse_target


class TableNotInGraph(IkgError, KeyError):
    """The graph holds no ``ikg:TargetTable`` of that URI."""


def parsed_from_graph(g: Graph, table_uri: str, department: str = "") -> ParsedTable:
    """The table ``table_uri`` of graph ``g`` as records (``department``: its name, which the
    organisations graph holds, not the table's)."""
    tab = URIRef(table_uri)
    if (tab, RDF.type, IKG.TargetTable) not in g:
        raise TableNotInGraph(table_uri)
    read = _GraphReader(g, tab)
    table = read.table(department)
    totals = read.totals()
    return ParsedTable(
        table=table,
        tasks=read.tasks(),
        totals=totals[0] if totals else None,
        goals=read.goals(),
        indicators=read.indicators(table.fiscal_year),
        not_applicable=read.not_applicable(),
    )


@dataclass
class _GraphReader:
    """Literal access to one table's nodes in its graph."""

    g: Graph
    tab: URIRef

    def val(self, node: Any, prop: Any) -> Any:
        v = self.g.value(node, prop)
        return None if v is None else v.toPython()

    def text(self, node: Any, prop: Any) -> str | None:
        v = self.g.value(node, prop)
        return None if v is None else str(v)

    def dec(self, node: Any, prop: Any) -> Decimal | None:
        v = self.g.value(node, prop)
        try:
            return None if v is None else Decimal(str(v))
        except InvalidOperation:
            return None

    def source(self, node: Any) -> Source:
        line = int(self.val(node, IKG.sourceLine) or 1)
        end = self.val(node, IKG.sourceEndLine)
        return Source(
            file=self.text(node, IKG.sourceFile) or "",
            line=line,
            end_line=int(end) if end is not None and int(end) != line else None,
        )

    def items(self, cls: Any) -> list[Any]:
        """The table's nodes of class ``cls`` in their printed order."""
        return sorted(
            (n for n in self.g.subjects(RDF.type, cls) if (n, IKG.inTable, self.tab) in self.g),
            key=lambda n: (
                int(self.val(n, IKG.ordinal) or 0),
                int(self.val(n, IKG.sourceLine) or 0),
            ),
        )

    def table(self, department: str) -> TableRecord:
        tab = self.tab
        scheme_uri = self.g.value(tab, IKG.categoryScheme)
        scheme = next((k for k, v in categories.SCHEMES.items() if v == scheme_uri), "legacy")
        year = self.val(tab, IKG.fiscalYear)
        return TableRecord(
            title=self.text(tab, DCTERMS.title) or "",
            department=department,
            fiscal_year=None if year is None else int(year),
            currency_unit=self.text(tab, IKG.currencyUnit) or "万元",
            table_type=self.text(tab, IKG.tableType) or "部门整体支出绩效目标表",
            category_scheme=scheme,  # type: ignore[arg-type]
            project_name=self.text(tab, IKG.projectName),
            self_evaluation=bool(self.val(tab, IKG.isSelfEvaluation)),
            source=self.source(tab),
        )

    def tasks(self) -> list[TaskRecord]:
        return [
            TaskRecord(
                name=self.text(n, IKG.name) or "",
                content=self.text(n, IKG.content) or "",
                total=self.dec(n, IKG.totalAmount),
                fiscal=self.dec(n, IKG.fiscalAmount),
                other=self.dec(n, IKG.otherAmount),
                unit=None,
                ordinal=int(self.val(n, IKG.ordinal) or 0),
                source=self.source(n),
            )
            for n in self.items(IKG.Task)
        ]

    def totals(self) -> list[TotalsRecord]:
        return [
            TotalsRecord(
                label=self.text(n, IKG.name) or "金额合计",
                total=self.dec(n, IKG.totalAmount),
                fiscal=self.dec(n, IKG.fiscalAmount),
                other=self.dec(n, IKG.otherAmount),
                source=self.source(n),
            )
            for n in self.items(IKG.StatedTotals)
        ]

    def goals(self) -> list[GoalRecord]:
        goals = (
            GoalRecord(
                number=int(self.val(n, IKG.goalNumber) or 0),
                text=self.text(n, IKG.text) or "",
                source=self.source(n),
            )
            for n in self.items(IKG.Goal)
        )
        return sorted(goals, key=lambda x: x.number)

    def indicators(self, year: int | None) -> list[IndicatorRecord]:
        return [self.indicator(n, year) for n in self.items(IKG.Indicator)]

    def indicator(self, n: Any, year: int | None) -> IndicatorRecord:
        l1, l2 = self.g.value(n, IKG.level1), self.g.value(n, IKG.level2)
        l1_label = categories.pref_label(str(l1)) if l1 is not None else ""
        l2_label = categories.pref_label(str(l2)) if l2 is not None else ""
        printed1, printed2 = self.text(n, IKG.level1Label), self.text(n, IKG.level2Label)
        tnode, anode = self.g.value(n, IKG.target), self.g.value(n, IKG.actual)
        target = (self.text(tnode, IKG.rawText) if tnode is not None else None) or ""
        actual = self.text(anode, IKG.rawText) if anode is not None else None
        return IndicatorRecord(
            level1=l1_label,
            level2=l2_label,
            name=self.text(n, IKG.name) or "",
            target=target,
            target_parsed=parse_target(target, year=year),
            ordinal=int(self.val(n, IKG.ordinal) or 0),
            code=self.text(n, IKG.indicatorCode),
            core=bool(self.val(n, IKG.isCoreIndicator)),
            name_simplified=self.text(n, IKG.nameSimplified),
            weight=self.dec(n, IKG.weight),
            actual=actual,
            actual_parsed=parse_target(actual, year=year) if actual else None,
            score=self.dec(n, IKG.score),
            deviation=self.text(n, IKG.deviationReason),
            level1_printed=printed1 if printed1 and printed1 != l1_label else None,
            level2_printed=printed2 if printed2 and printed2 != l2_label else None,
            direction=self.text(n, IKG.direction),
            value_kind=self.text(n, IKG.valueKind),
            long_term_target=self.text(n, IKG.longTermTarget),
            task=self.text(n, IKG.taskName),
            source=self.source(n),
        )

    def not_applicable(self) -> list[CategoryNotApplicableRecord]:
        return [
            CategoryNotApplicableRecord(
                level1=self.text(n, IKG.level1Label) or "",
                level2=self.text(n, IKG.level2Label) or "",
                text=self.text(n, IKG.rawText) or "",
                source=self.source(n),
            )
            for n in self.items(IKG.CategoryNotApplicable)
        ]
