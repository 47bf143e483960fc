"""The indicators of a graph store, as the similarity code sees them (one SPARQL query)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kg.namespaces import IKG

from .text import DEFAULT_RECIPE, IndicatorText, Recipe, embed_text

#: target classes → the record's form names (kg.records.TargetForm)
_FORMS = {
    "NumericTarget": "numeric",
    "RangeTarget": "range",
    "DeadlineTarget": "deadline",
    "RecurringDeadlineTarget": "recurring",
    "DurationTarget": "duration",
    "ScheduleTarget": "schedule",
    "QualitativeTarget": "qualitative",
    "NotApplicableTarget": "not_applicable",
    "UnrecognizedTarget": "text",
}

INDICATORS_QUERY = """
SELECT ?i ?name ?simplified ?l1 ?l2 ?raw ?unit ?formClass ?table ?title ?year ?deptName ?file ?line
WHERE {
  ?i a ikg:Indicator ; ikg:name ?name ; ikg:inTable ?table ;
     ikg:level1Label ?l1 ; ikg:level2Label ?l2 ; ikg:sourceFile ?file ; ikg:sourceLine ?line .
  ?table ikg:fiscalYear ?year ; dcterms:title ?title ; ikg:department ?dept .
  OPTIONAL { ?dept ikg:name ?deptName }
  OPTIONAL { ?i ikg:nameSimplified ?simplified }
  OPTIONAL {
    ?i ikg:target ?t . ?t ikg:rawText ?raw .
    OPTIONAL { ?t ikg:unitText ?unit }
    OPTIONAL { ?t a ?formClass . FILTER(?formClass != ikg:TargetValue) }
  }
}
"""
# (the table's triples are joined before the OPTIONALs: the same rows, 3.6x faster at 8,000
# indicators than joining them after, which grew faster than the data)


def _s(term: Any) -> str:
    return "" if term is None else str(term)


def _within(graphs: Iterable[str] | None) -> str:
    """A ``VALUES ?g`` clause for ``graphs`` ("" for the whole store)."""
    if graphs is None:
        return ""
    return "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " }"


def load_indicators(store: Any, graphs: Iterable[str] | None = None) -> list[IndicatorText]:
    """Every indicator in ``store`` (a :class:`kg.store.GraphStore`), sorted by table and line.

    With ``graphs``, only the indicators in those named graphs (the tables' graphs), each
    property scanned within them.

    The same records as :data:`INDICATORS_QUERY` (a test checks it), read as one scan per
    property and joined here: a scan walks one index in order, where the join looks each
    indicator's properties up one by one. On the on-disk store at 1M indicators the join
    took over 30 minutes (random reads) and the scans take about a minute.
    """
    ikg = str(IKG)
    if graphs is not None:
        graphs = list(graphs)
        if not graphs:
            return []
    within = _within(graphs)
    typed = f"?s a <{ikg}Indicator>"
    where = f"{within} GRAPH ?g {{ {typed} }}" if within else typed
    indicators = [
        sol["s"].value
        for sol in store.query(f"SELECT ?s WHERE {{ {where} }}")
        if not isinstance(sol["s"], ox.BlankNode)
    ]
    scans = _Scans.of(store, graphs)
    out: dict[str, IndicatorText] = {}
    for i in indicators:
        if i not in out and (it := scans.indicator(i)) is not None:
            out[i] = it
    return sorted(out.values(), key=lambda x: (x.table, x.source_line or 0, x.id))


@dataclass
class _Scans:
    """Each property :func:`load_indicators` reads, scanned once: subject → its first object
    (``form_of``: a target → its form class's local name)."""

    name: dict[str, Any]
    in_table: dict[str, Any]
    l1: dict[str, Any]
    l2: dict[str, Any]
    files: dict[str, Any]
    lines: dict[str, Any]
    simplified: dict[str, Any]
    target: dict[str, Any]
    years: dict[str, Any]
    titles: dict[str, Any]
    depts: dict[str, Any]
    raw: dict[str, Any]
    unit: dict[str, Any]
    form_of: dict[str, str]

    @classmethod
    def of(cls, store: Any, graphs: Iterable[str] | None = None) -> _Scans:
        """The scans of ``store``, or of its named ``graphs`` only (the names of the tables'
        departments, kept in the organisations graph, are then looked up one by one)."""
        ikg = str(IKG)
        within = _within(graphs)

        def scan(pred: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            pattern = f"?s <{pred}> ?o"
            where = f"{within} GRAPH ?g {{ {pattern} }}" if within else pattern
            for sol in store.query(f"SELECT ?s ?o WHERE {{ {where} }}"):
                out.setdefault(sol["s"].value, sol["o"])
            return out

        name, in_table = scan(ikg + "name"), scan(ikg + "inTable")
        l1, l2 = scan(ikg + "level1Label"), scan(ikg + "level2Label")
        files, lines = scan(ikg + "sourceFile"), scan(ikg + "sourceLine")
        simplified, target = scan(ikg + "nameSimplified"), scan(ikg + "target")
        years, titles = scan(ikg + "fiscalYear"), scan("http://purl.org/dc/terms/title")
        depts = scan(ikg + "department")
        raw, unit = scan(ikg + "rawText"), scan(ikg + "unitText")
        forms = " ".join(f"<{ikg}{c}>" for c in _FORMS)
        typed = f"{within} GRAPH ?g {{ ?s a ?o }}" if within else "?s a ?o"
        form_of: dict[str, str] = {}
        for sol in store.query(f"SELECT ?s ?o WHERE {{ VALUES ?o {{ {forms} }} {typed} }}"):
            form_of.setdefault(sol["s"].value, sol["o"].value.removeprefix(ikg))
        if within:  # the departments' names, from the organisations graph
            missing = sorted({d.value for d in depts.values()} - name.keys())
            if missing:
                values = " ".join(f"<{d}>" for d in missing)
                query = f"SELECT ?s ?o WHERE {{ VALUES ?s {{ {values} }} ?s <{ikg}name> ?o }}"
                for sol in store.query(query):
                    name.setdefault(sol["s"].value, sol["o"])
        return cls(
            name, in_table, l1, l2, files, lines, simplified, target, years, titles, depts,
            raw, unit, form_of,
        )  # fmt: skip

    def indicator(self, i: str) -> IndicatorText | None:
        """Indicator ``i`` joined from the scans; None when a property it needs is missing."""
        name, lines, files = self.name, self.lines, self.files
        table = self.in_table.get(i)
        need = (name.get(i), table, self.l1.get(i), self.l2.get(i), files.get(i), lines.get(i))
        if any(x is None for x in need):
            return None
        tv = table.value  # type: ignore[union-attr]
        year, title, dept = self.years.get(tv), self.titles.get(tv), self.depts.get(tv)
        if year is None or title is None or dept is None:
            return None
        dept_name = name.get(dept.value)
        simp = self.simplified.get(i)
        t = self.target.get(i)
        raw_text = unit_text = form = None
        if t is not None and self.raw.get(t.value) is not None:
            raw_text = self.raw[t.value].value
            u = self.unit.get(t.value)
            unit_text = u.value if u is not None else None
            form = _FORMS.get(self.form_of.get(t.value, ""))
        return IndicatorText(
            id=i,
            name=simp.value if simp is not None and simp.value else name[i].value,
            level1=self.l1[i].value,
            level2=self.l2[i].value,
            target=raw_text or "",
            unit=unit_text or None,
            form=form,
            department=dept_name.value if dept_name is not None else "",
            year=int(year.value),
            table=tv,
            table_title=title.value,
            source_file=files[i].value,
            source_line=int(lines[i].value),
            extra={"printed_name": name[i].value} if simp is not None else {},
        )


def load_indicators_by_query(store: Any) -> list[IndicatorText]:
    """:func:`load_indicators` as one SPARQL join (:data:`INDICATORS_QUERY`): the reference
    the scans are tested against."""
    _, rows = store.select(INDICATORS_QUERY)
    out: dict[str, IndicatorText] = {}
    for r in rows:
        (i, name, simplified, l1, l2, raw, unit, form_cls, table, title, year, dept, f, line) = r
        uri = _s(i)
        if uri in out:  # a second type row; keep the first
            continue
        form = _FORMS.get(_s(form_cls).removeprefix(str(IKG))) if form_cls is not None else None
        out[uri] = IndicatorText(
            id=uri,
            name=_s(simplified) or _s(name),
            level1=_s(l1),
            level2=_s(l2),
            target=_s(raw),
            unit=_s(unit) or None,
            form=form,
            department=_s(dept),
            year=int(year.toPython()) if year is not None else None,  # type: ignore[union-attr]
            table=_s(table),
            table_title=_s(title),
            source_file=_s(f),
            source_line=int(line.toPython()) if line is not None else None,  # type: ignore[union-attr]
            extra={"printed_name": _s(name)} if simplified is not None else {},
        )
    return sorted(out.values(), key=lambda x: (x.table, x.source_line or 0, x.id))


def fingerprint(
    items: Iterable[IndicatorText], model_id: str, recipe: Recipe = DEFAULT_RECIPE
) -> str:
    """What an index was built from: the (uri, embedded text) pairs and the model."""
    h = hashlib.sha256(f"{model_id}\x1e{recipe}\x1e".encode())
    for it in sorted(items, key=lambda x: x.id):
        h.update(f"{it.id}\x1f{embed_text(it, recipe)}\x1e".encode())
    return h.hexdigest()


def text_hashes(items: Iterable[IndicatorText], recipe: Recipe = DEFAULT_RECIPE) -> dict[str, str]:
    return {it.id: hashlib.sha1(embed_text(it, recipe).encode()).hexdigest()[:16] for it in items}
