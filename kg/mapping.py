"""Records → RDF triples (pure: no I/O).

Strings are plain literals (no datatype, no language tag) so that an exact
match such as ``?i ikg:name "预算执行率"`` finds them in rdflib and in the
pyoxigraph store alike (oxigraph reports them as xsd:string, which
:mod:`kg.store` maps back to plain literals).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, XSD

from . import categories, uris
from .errors import UnknownCategoryError
from .namespaces import DATA, IKG, PREFIXES
from .records import IndicatorRecord, ParsedLibrary, ParsedTable, Source, TargetValue

_FORM_CLASS = {
    "numeric": IKG.NumericTarget,
    "range": IKG.RangeTarget,
    "deadline": IKG.DeadlineTarget,
    "recurring": IKG.RecurringDeadlineTarget,
    "duration": IKG.DurationTarget,
    "schedule": IKG.ScheduleTarget,
    "qualitative": IKG.QualitativeTarget,
    "not_applicable": IKG.NotApplicableTarget,
    "text": IKG.UnrecognizedTarget,
}


def lit(value: object) -> Literal:
    """The one literal convention of the graph."""
    if isinstance(value, bool):
        return Literal(value, datatype=XSD.boolean)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, Decimal):
        # the canonical lexical form oxigraph stores ('480.00' → '480'), so that
        # the same literal is equal in rdflib and in the store
        return Literal(format(value.normalize(), "f"), datatype=XSD.decimal)
    if isinstance(value, dt.date):
        return Literal(value, datatype=XSD.date)
    return Literal(str(value))


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    return g


def table_uri(parsed: ParsedTable) -> URIRef:
    t = parsed.table
    return uris.table(t.department, t.fiscal_year, t.table_type, t.project_name)


def _provenance(g: Graph, node: URIRef, source: Source) -> None:
    g.add((node, IKG.sourceFile, lit(source.file)))
    g.add((node, IKG.sourceLine, lit(source.line)))
    g.add((node, IKG.sourceEndLine, lit(source.end_line or source.line)))


def _category(file: str, source: Source, label: str, level: int, scheme: str) -> URIRef:
    cat = categories.resolve(label, level, scheme)
    if cat is None:
        raise UnknownCategoryError(
            file,
            source.line,
            f"unknown level-{level} category {label!r} in the {scheme} scheme; "
            f"expected one of {', '.join(sorted(categories.labels(level)))}",
        )
    return cat.concept


def _target(g: Graph, node: URIRef, tv: TargetValue) -> None:
    g.add((node, RDF.type, IKG.TargetValue))
    g.add((node, RDF.type, _FORM_CLASS[tv.form]))
    g.add((node, IKG.rawText, lit(tv.raw)))
    g.add((node, IKG.recognized, lit(tv.recognized)))
    optional = {
        IKG.comparison: tv.comparison,
        IKG.lowerBound: tv.lower,
        IKG.upperBound: tv.upper,
        IKG.lowerInclusive: tv.lower_inclusive,
        IKG.upperInclusive: tv.upper_inclusive,
        IKG.unitText: tv.unit,
        IKG.deadline: tv.deadline,
        IKG.deadlineRelation: tv.deadline_relation,
        IKG.recurrencePeriod: tv.recurrence_period,
        IKG.recurrenceDay: tv.recurrence_day,
        IKG.durationValue: tv.duration_value,
        IKG.durationUnit: tv.duration_unit,
        IKG.scheduleText: tv.schedule,
        IKG.grade: tv.grade,
    }
    for prop, value in optional.items():
        if value is not None:
            g.add((node, prop, lit(value)))
    g.add((node, IKG.isPercent, lit(tv.percent)))
    for flag in tv.flags:
        g.add((node, IKG.flag, lit(flag)))


def to_graph(parsed: ParsedTable, *, reader: str = "", sha256: str = "") -> Graph:
    """One table's own triples, for its named graph.

    Organisations are shared across tables and years, so what is said about
    them (type, name, supervising department) goes into the shared graph of
    :func:`organisations_graph` instead: a triple repeated in two named graphs
    would be counted twice in the union default graph.
    """
    g = new_graph()
    tab = table_uri(parsed)
    _add_table(g, tab, parsed, reader, sha256)
    _add_units(g, tab, parsed)
    seen: dict[tuple, int] = {}  # how many times a task or indicator key was met
    _add_tasks(g, tab, parsed, seen)
    _add_totals(g, tab, parsed)
    _add_goals(g, tab, parsed)
    _add_indicators(g, tab, parsed, seen)
    _add_not_applicable(g, tab, parsed)
    return g


def _occurrence(seen: dict[tuple, int], key: tuple) -> int:
    """Count one more occurrence of ``key``: 1 the first time, 2 the second …"""
    seen[key] = seen.get(key, 0) + 1
    return seen[key]


def _add_table(g: Graph, tab: URIRef, parsed: ParsedTable, reader: str, sha256: str) -> None:
    """The table node's facts and, with a checksum, the source document it was read from."""
    t = parsed.table
    file = t.source.file
    g.add((tab, RDF.type, IKG.TargetTable))
    g.add((tab, DCTERMS.title, lit(t.title)))
    g.add((tab, IKG.fiscalYear, lit(t.fiscal_year)))
    g.add((tab, IKG.currencyUnit, lit(t.currency_unit)))
    g.add((tab, IKG.tableType, lit(t.table_type)))
    g.add((tab, IKG.categoryScheme, categories.SCHEMES[t.category_scheme]))
    if t.project_name:
        g.add((tab, IKG.projectName, lit(t.project_name)))
    if t.self_evaluation:
        g.add((tab, IKG.isSelfEvaluation, lit(True)))
    _provenance(g, tab, t.source)
    g.add((tab, IKG.department, uris.organisation(t.department)))
    if sha256:
        doc = uris.source_document(sha256)
        g.add((tab, PROV.wasDerivedFrom, doc))
        g.add((doc, RDF.type, IKG.SourceDocument))
        g.add((doc, IKG.fileName, lit(file)))
        g.add((doc, IKG.sha256, lit(sha256)))
        if reader:
            g.add((doc, IKG.reader, lit(reader)))


def _add_units(g: Graph, tab: URIRef, parsed: ParsedTable) -> None:
    """The reporting units and one unit entry each."""
    for u in parsed.units:
        unit = uris.organisation(u.name)
        g.add((tab, IKG.reportingUnit, unit))
        entry = uris.unit_entry(tab, u.ordinal)
        g.add((entry, RDF.type, IKG.UnitEntry))
        g.add((entry, IKG.inTable, tab))
        g.add((entry, IKG.unit, unit))
        g.add((entry, IKG.name, lit(u.name)))
        g.add((entry, IKG.ordinal, lit(u.ordinal)))
        _provenance(g, entry, u.source)


def _add_tasks(g: Graph, tab: URIRef, parsed: ParsedTable, seen: dict[tuple, int]) -> None:
    """The tasks with their amounts and units."""
    for task in parsed.tasks:
        occurrence = _occurrence(seen, ("task", task.name, task.unit))
        node = uris.task(tab, task.name, task.unit, occurrence)
        g.add((node, RDF.type, IKG.Task))
        g.add((node, IKG.inTable, tab))
        g.add((node, IKG.name, lit(task.name)))
        g.add((node, IKG.content, lit(task.content)))
        g.add((node, IKG.ordinal, lit(task.ordinal)))
        for prop, value in (
            (IKG.totalAmount, task.total),
            (IKG.fiscalAmount, task.fiscal),
            (IKG.otherAmount, task.other),
        ):
            if value is not None:
                g.add((node, prop, lit(value)))
        if task.unit is not None:
            g.add((node, IKG.reportingUnit, uris.organisation(task.unit)))
        _provenance(g, node, task.source)


def _add_totals(g: Graph, tab: URIRef, parsed: ParsedTable) -> None:
    """The stated totals, when printed."""
    if parsed.totals is None:
        return
    tot = parsed.totals
    node = uris.totals(tab)
    g.add((node, RDF.type, IKG.StatedTotals))
    g.add((node, IKG.inTable, tab))
    g.add((node, IKG.name, lit(tot.label)))
    for prop, value in (
        (IKG.totalAmount, tot.total),
        (IKG.fiscalAmount, tot.fiscal),
        (IKG.otherAmount, tot.other),
    ):
        if value is not None:
            g.add((node, prop, lit(value)))
    _provenance(g, node, tot.source)


def _add_goals(g: Graph, tab: URIRef, parsed: ParsedTable) -> None:
    """The overall goal (number 0) and the numbered goals."""
    for goal in parsed.goals:
        node = uris.goal(tab, goal.number)
        g.add((node, RDF.type, IKG.Goal))
        g.add((node, RDF.type, IKG.OverallGoal if goal.number == 0 else IKG.NumberedGoal))
        g.add((node, IKG.inTable, tab))
        g.add((node, IKG.goalNumber, lit(goal.number)))
        g.add((node, IKG.text, lit(goal.text)))
        _provenance(g, node, goal.source)


def _add_indicators(g: Graph, tab: URIRef, parsed: ParsedTable, seen: dict[tuple, int]) -> None:
    """The indicators with their categories, target and actual values."""
    file = parsed.table.source.file
    scheme = parsed.table.category_scheme
    for ind in parsed.indicators:
        node = uris.indicator(
            tab,
            ind.level1,
            ind.level2,
            ind.name,
            _occurrence(seen, ("ind", ind.level1, ind.level2, ind.name)),
        )
        g.add((node, RDF.type, IKG.Indicator))
        g.add((node, IKG.inTable, tab))
        g.add((node, IKG.name, lit(ind.name)))
        g.add((node, IKG.ordinal, lit(ind.ordinal)))
        g.add((node, IKG.level1, _category(file, ind.source, ind.level1, 1, scheme)))
        g.add((node, IKG.level2, _category(file, ind.source, ind.level2, 2, scheme)))
        g.add((node, IKG.level1Label, lit(ind.level1_printed or ind.level1)))
        g.add((node, IKG.level2Label, lit(ind.level2_printed or ind.level2)))
        tnode = uris.target(node)
        g.add((node, IKG.target, tnode))
        _target(g, tnode, ind.target_parsed)
        if ind.actual_parsed is not None:
            anode = uris.actual(node)
            g.add((node, IKG.actual, anode))
            _target(g, anode, ind.actual_parsed)
        _indicator_details(g, node, ind)
        _provenance(g, node, ind.source)


def _indicator_details(g: Graph, node: URIRef, ind: IndicatorRecord) -> None:
    """An indicator's optional facts (code, weight, score, direction …) and its core mark."""
    optional = {
        IKG.indicatorCode: ind.code,
        IKG.nameSimplified: ind.name_simplified,
        IKG.weight: ind.weight,
        IKG.score: ind.score,
        IKG.deviationReason: ind.deviation,
        IKG.direction: ind.direction,
        IKG.valueKind: ind.value_kind,
        IKG.longTermTarget: ind.long_term_target,
        IKG.taskName: ind.task,
    }
    for prop, value in optional.items():
        if value is not None:
            g.add((node, prop, lit(value)))
    if ind.core:
        g.add((node, IKG.isCoreIndicator, lit(True)))


def _add_not_applicable(g: Graph, tab: URIRef, parsed: ParsedTable) -> None:
    """The categories marked not applicable (不适用)."""
    file = parsed.table.source.file
    scheme = parsed.table.category_scheme
    for na in parsed.not_applicable:
        node = uris.not_applicable(tab, na.level1, na.level2)
        g.add((node, RDF.type, IKG.CategoryNotApplicable))
        g.add((node, IKG.inTable, tab))
        g.add((node, IKG.level1, _category(file, na.source, na.level1, 1, scheme)))
        g.add((node, IKG.level2, _category(file, na.source, na.level2, 2, scheme)))
        g.add((node, IKG.level1Label, lit(na.level1)))
        g.add((node, IKG.level2Label, lit(na.level2)))
        g.add((node, IKG.rawText, lit(na.text)))
        _provenance(g, node, na.source)


def organisations_graph(parsed: ParsedTable) -> Graph:
    """What a table says about its department and units, for the shared graph."""
    g = new_graph()
    t = parsed.table
    dept = uris.organisation(t.department)
    g.add((dept, RDF.type, IKG.Department))
    g.add((dept, IKG.name, lit(t.department)))
    for u in parsed.units:
        unit = uris.organisation(u.name)
        g.add((unit, RDF.type, IKG.BudgetUnit))
        g.add((unit, IKG.name, lit(u.name)))
        if u.supervising_department:
            sup = uris.organisation(u.supervising_department)
            g.add((unit, IKG.supervisingDepartment, sup))
            g.add((sup, RDF.type, IKG.Department))
            g.add((sup, IKG.name, lit(u.supervising_department)))
    return g


# --------------------------------------------------------------------------- indicator libraries


def library_uris(lib: ParsedLibrary) -> tuple[URIRef, URIRef]:
    """(concept scheme, named graph) of a library; stable across rebuilds (by its key)."""

    return DATA[f"library/{lib.key}"], DATA[f"graph/library/{lib.key}"]


def library_concept(lib: ParsedLibrary, ordinal: int) -> URIRef:

    return DATA[f"library/{lib.key}/{ordinal}"]


def _library_category(
    level1: str | None, level2: str | None
) -> tuple[URIRef | None, URIRef | None]:
    """Category concepts of a library entry: either scheme; a level 2 without 指标 tried with
    it (服务对象满意度); a level 1 no scheme knows (效果指标) taken from level 2's broader."""

    def find(label: str | None, level: int) -> categories.Category | None:
        if not label:
            return None
        for text in (label, f"{label}指标"):
            for scheme in ("legacy", "2021"):
                cat = categories.resolve(text, level, scheme)
                if cat is not None:
                    return cat
        return None

    c2 = find(level2, 2)
    c1 = find(level1, 1)
    if c2 is not None and (c1 is None or (c2.broader is not None and c2.broader != c1.concept)):
        broader = c2.broader
        if broader is not None:
            return broader, c2.concept
    return (c1.concept if c1 else None), (c2.concept if c2 else None)


def library_graph(lib: ParsedLibrary) -> Graph:
    """A library as a SKOS concept scheme: one ikg:LibraryIndicator concept per entry."""
    from rdflib.namespace import SKOS

    scheme, _ = library_uris(lib)
    g = new_graph()
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, RDF.type, IKG.IndicatorLibrary))
    g.add((scheme, DCTERMS.title, lit(lib.title)))
    g.add((scheme, IKG.sourceFile, lit(lib.source.file)))
    for ind in lib.indicators:
        node = library_concept(lib, ind.ordinal)
        g.add((node, RDF.type, SKOS.Concept))
        g.add((node, RDF.type, IKG.LibraryIndicator))
        g.add((node, SKOS.inScheme, scheme))
        g.add((node, SKOS.prefLabel, lit(ind.name)))
        g.add((node, IKG.ordinal, lit(ind.ordinal)))
        if ind.name_simplified:
            g.add((node, IKG.libraryNameSimplified, lit(ind.name_simplified)))
        l1, l2 = _library_category(ind.level1, ind.level2)
        if l1 is not None:
            g.add((node, IKG.libraryLevel1, l1))
        if l2 is not None:
            g.add((node, IKG.libraryLevel2, l2))
        if ind.level1:
            g.add((node, IKG.libraryLevel1Label, lit(ind.level1)))
        if ind.level2:
            g.add((node, IKG.libraryLevel2Label, lit(ind.level2)))
        if ind.project_type:
            g.add((node, IKG.projectType, lit(ind.project_type)))
        if ind.code:
            g.add((node, SKOS.notation, lit(ind.code)))
        if ind.unit:
            g.add((node, IKG.libraryUnit, lit(ind.unit)))
        if ind.definition:
            g.add((node, SKOS.definition, lit(ind.definition)))
        if ind.note:
            g.add((node, SKOS.scopeNote, lit(ind.note)))
        _provenance(g, node, ind.source)
    return g
