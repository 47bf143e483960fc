"""ontology/: the OWL ontology, the SKOS category schemes and the SHACL shapes.

The SHACL tests build a small table graph by hand with the exact properties of
ontology/indicators.ttl, validate it the way ontology/README.md says, and check
that broken variants fail with the expected (bilingual) message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS

import ontology
from kg.namespaces import CAT, DATA, IKG

# an open Namespace: pytest's collection probes module attributes, and the closed
# rdflib XSD namespace warns about every unknown name it is asked for
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_IRI = URIRef("https://w3id.org/indicator-kg/ontology")
LEGACY, FW2021 = CAT["legacy"], CAT["framework-2021"]

# --------------------------------------------------------------------------- loading


@cache
def load(name: str) -> Graph:
    g = Graph()
    g.parse(ontology.path(name), format="turtle")
    return g


def onto() -> Graph:
    return load("indicators.ttl")


def cats() -> Graph:
    return load("categories.ttl")


def shapes() -> Graph:
    return load("shapes.ttl")


def text_of(name: str) -> str:
    return ontology.path(name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ontology.FILES)
def test_file_parses(name: str) -> None:
    assert len(load(name)) > 50


# --------------------------------------------------------------------------- indicators.ttl

EXPECTED_CLASSES = {
    "TargetTable",
    "SourceDocument",
    "Department",
    "BudgetUnit",
    "UnitEntry",
    "Task",
    "StatedTotals",
    "Goal",
    "OverallGoal",
    "NumberedGoal",
    "Indicator",
    "TargetValue",
    "NumericTarget",
    "RangeTarget",
    "DeadlineTarget",
    "RecurringDeadlineTarget",
    "DurationTarget",
    "ScheduleTarget",
    "QualitativeTarget",
    "NotApplicableTarget",
    "UnrecognizedTarget",
    "CategoryNotApplicable",
    "IndicatorLibrary",
    "LibraryIndicator",
    "LibraryMatch",
}
EXPECTED_OBJECT_PROPERTIES = {
    "inTable": IKG.TargetTable,
    "department": IKG.Department,
    "reportingUnit": IKG.BudgetUnit,
    "supervisingDepartment": IKG.Department,
    "unit": IKG.BudgetUnit,
    "categoryScheme": SKOS.ConceptScheme,
    "level1": SKOS.Concept,
    "level2": SKOS.Concept,
    "target": IKG.TargetValue,
    "actual": IKG.TargetValue,
    "libraryLevel1": SKOS.Concept,
    "libraryLevel2": SKOS.Concept,
    "matchesLibraryIndicator": IKG.LibraryIndicator,
    "matchIndicator": IKG.Indicator,
    "matchLibraryIndicator": IKG.LibraryIndicator,
}
EXPECTED_DATATYPE_PROPERTIES = {
    "name": XSD.string,
    "fiscalYear": XSD.integer,
    "currencyUnit": XSD.string,
    "tableType": XSD.string,
    "fileName": XSD.string,
    "sha256": XSD.string,
    "reader": XSD.string,
    "sourceFile": XSD.string,
    "sourceLine": XSD.integer,
    "sourceEndLine": XSD.integer,
    "ordinal": XSD.integer,
    "totalAmount": XSD.decimal,
    "fiscalAmount": XSD.decimal,
    "otherAmount": XSD.decimal,
    "content": XSD.string,
    "goalNumber": XSD.integer,
    "text": XSD.string,
    "level1Label": XSD.string,
    "level2Label": XSD.string,
    "rawText": XSD.string,
    "comparison": XSD.string,
    "lowerBound": XSD.decimal,
    "upperBound": XSD.decimal,
    "lowerInclusive": XSD.boolean,
    "upperInclusive": XSD.boolean,
    "unitText": XSD.string,
    "isPercent": XSD.boolean,
    "deadline": XSD.date,
    "deadlineRelation": XSD.string,
    "recurrencePeriod": XSD.string,
    "recurrenceDay": XSD.integer,
    "durationValue": XSD.decimal,
    "durationUnit": XSD.string,
    "scheduleText": XSD.string,
    "grade": XSD.string,
    "recognized": XSD.boolean,
    "flag": XSD.string,
    "categoryLevel": XSD.integer,
    "projectName": XSD.string,
    "isSelfEvaluation": XSD.boolean,
    "indicatorCode": XSD.string,
    "isCoreIndicator": XSD.boolean,
    "nameSimplified": XSD.string,
    "weight": XSD.decimal,
    "score": XSD.decimal,
    "deviationReason": XSD.string,
    "direction": XSD.string,
    "valueKind": XSD.string,
    "longTermTarget": XSD.string,
    "taskName": XSD.string,
    "libraryLevel1Label": XSD.string,
    "libraryLevel2Label": XSD.string,
    "libraryUnit": XSD.string,
    "libraryNameSimplified": XSD.string,
    "projectType": XSD.string,
    "matchScore": XSD.decimal,
    "matchMethod": XSD.string,
}
FORM_CLASSES = {
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


def declared(kind: URIRef) -> set[URIRef]:
    return {s for s in onto().subjects(RDF.type, kind) if isinstance(s, URIRef)}


def all_declared() -> set[URIRef]:
    return declared(OWL.Class) | declared(OWL.ObjectProperty) | declared(OWL.DatatypeProperty)


def test_header() -> None:
    g = onto()
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in g
    titles = {t.language for t in g.objects(ONTOLOGY_IRI, DCTERMS.title)}
    assert {"zh", "en"} <= titles
    assert g.value(ONTOLOGY_IRI, DCTERMS.description) is not None
    assert str(g.value(ONTOLOGY_IRI, OWL.versionInfo)) == "0.1.0"
    assert "apache" in str(g.value(ONTOLOGY_IRI, DCTERMS.license)).lower()


def test_exactly_the_expected_terms_are_declared() -> None:
    assert {str(c).removeprefix(str(IKG)) for c in declared(OWL.Class)} == EXPECTED_CLASSES
    assert {str(p).removeprefix(str(IKG)) for p in declared(OWL.ObjectProperty)} == set(
        EXPECTED_OBJECT_PROPERTIES
    )
    assert {str(p).removeprefix(str(IKG)) for p in declared(OWL.DatatypeProperty)} == set(
        EXPECTED_DATATYPE_PROPERTIES
    )
    assert all(str(t).startswith(str(IKG)) for t in all_declared())


def test_every_term_has_zh_and_en_label_and_a_comment() -> None:
    g = onto()
    for term in sorted(all_declared()):
        langs = {lbl.language for lbl in g.objects(term, RDFS.label)}
        assert {"zh", "en"} <= langs, term
        comments = list(g.objects(term, RDFS.comment))
        assert any(c.language == "en" for c in comments), term
        assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in g, term


def test_ranges_and_domains() -> None:
    g = onto()
    for name, rng in {**EXPECTED_OBJECT_PROPERTIES, **EXPECTED_DATATYPE_PROPERTIES}.items():
        assert set(g.objects(IKG[name], RDFS.range)) == {rng}, name
    # properties used by one class only have that class as domain
    assert g.value(IKG.department, RDFS.domain) == IKG.TargetTable
    assert g.value(IKG.supervisingDepartment, RDFS.domain) == IKG.BudgetUnit
    assert g.value(IKG.target, RDFS.domain) == IKG.Indicator
    assert g.value(IKG.goalNumber, RDFS.domain) == IKG.Goal
    assert g.value(IKG.categoryLevel, RDFS.domain) == SKOS.Concept


def test_reused_vocabularies() -> None:
    g = onto()
    assert (IKG.TargetTable, RDFS.subClassOf, PROV.Entity) in g
    assert (IKG.SourceDocument, RDFS.subClassOf, PROV.Entity) in g
    org = "http://www.w3.org/ns/org#"
    assert (IKG.Department, RDFS.subClassOf, URIRef(org + "FormalOrganization")) in g
    assert (IKG.BudgetUnit, RDFS.subClassOf, URIRef(org + "Organization")) in g
    assert (IKG.supervisingDepartment, RDFS.subPropertyOf, URIRef(org + "subOrganizationOf")) in g
    assert (IKG.name, RDFS.subPropertyOf, RDFS.label) in g


def test_form_classes_match_records() -> None:
    from typing import get_args

    from kg.records import TargetForm

    assert set(get_args(TargetForm)) == set(FORM_CLASSES)
    for cls in FORM_CLASSES.values():
        assert (cls, RDFS.subClassOf, IKG.TargetValue) in onto()
    assert (IKG.OverallGoal, RDFS.subClassOf, IKG.Goal) in onto()
    assert (IKG.NumberedGoal, RDFS.subClassOf, IKG.Goal) in onto()


IKG_USE = re.compile(r"\bikg:([A-Za-z_][A-Za-z0-9_]*)")


@pytest.mark.parametrize("name", ["shapes.ttl", "categories.ttl"])
def test_ikg_terms_used_are_declared(name: str) -> None:
    # the text, so that terms inside SPARQL strings count too
    used = {IKG[t] for t in IKG_USE.findall(text_of(name))}
    assert used, name
    assert used <= all_declared(), sorted(used - all_declared())
    # and the parsed graph: every IRI in the ikg namespace
    in_graph = {
        t
        for triple in load(name)
        for t in triple
        if isinstance(t, URIRef) and str(t).startswith(str(IKG))
    }
    assert in_graph <= all_declared(), sorted(in_graph - all_declared())


def test_terms_the_code_uses_are_declared() -> None:
    """IKG.x / ikg:x in the package's sources: the ontology has to say what they mean."""
    pattern = re.compile(r"\bIKG\.([A-Za-z_][A-Za-z0-9_]*)|\bikg:([A-Za-z_][A-Za-z0-9_]*)")
    used: set[URIRef] = set()
    for py in (ROOT / "kg").rglob("*.py"):
        for a, b in pattern.findall(py.read_text(encoding="utf-8")):
            used.add(IKG[a or b])
    assert IKG.Indicator in used
    # the core may name the similarity vocabulary (ontology/similarity.ttl) too: a table's
    # replacement drops the links that name its indicators (kg.store.replace_table)
    sim = load("similarity.ttl")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    similarity = {s for k in kinds for s in sim.subjects(RDF.type, k) if isinstance(s, URIRef)}
    known = all_declared() | similarity
    assert used <= known, sorted(used - known)


# --------------------------------------------------------------------------- categories.ttl

BOTH = {
    "output",
    "benefit",
    "satisfaction",
    "quantity",
    "quality",
    "timeliness",
    "economic-benefit",
    "social-benefit",
    "ecological-benefit",
    "sustainable-impact",
    "service-recipient-satisfaction",
    "other-satisfaction",
    # the evaluation frame (决策 / 过程) and "not classified", in both schemes
    "decision",
    "process",
    "project-approval",
    "target-setting",
    "funding-input",
    "fund-management",
    "implementation",
    "unclassified",
    "unclassified-level2",
}
EXTRA_TOP = {"decision", "process", "unclassified"}
IN_SCHEME = {
    LEGACY: BOTH | {"output-cost"},
    FW2021: BOTH | {"cost", "economic-cost", "social-cost", "ecological-cost"},
}
TOP = {
    LEGACY: {"output", "benefit", "satisfaction"} | EXTRA_TOP,
    FW2021: {"output", "benefit", "cost", "satisfaction"} | EXTRA_TOP,
}
BROADER = {
    "quantity": "output",
    "quality": "output",
    "timeliness": "output",
    "output-cost": "output",
    "economic-benefit": "benefit",
    "social-benefit": "benefit",
    "ecological-benefit": "benefit",
    "sustainable-impact": "benefit",
    "service-recipient-satisfaction": "satisfaction",
    "other-satisfaction": "satisfaction",
    "economic-cost": "cost",
    "social-cost": "cost",
    "ecological-cost": "cost",
    "project-approval": "decision",
    "target-setting": "decision",
    "funding-input": "decision",
    "fund-management": "process",
    "implementation": "process",
    "unclassified-level2": "unclassified",
}


def concepts() -> set[URIRef]:
    return {c for c in cats().subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef)}


def level(c: URIRef) -> int:
    return int(cats().value(c, IKG.categoryLevel))  # type: ignore[arg-type]


def in_scheme(scheme: URIRef) -> set[URIRef]:
    return set(cats().subjects(SKOS.inScheme, scheme))  # type: ignore[arg-type]


def zh_labels(c: URIRef, prop: URIRef) -> set[str]:
    return {str(x) for x in cats().objects(c, prop) if x.language == "zh"}


def local(c: URIRef) -> str:
    return str(c).removeprefix(str(CAT))


def test_schemes() -> None:
    g = cats()
    assert set(g.subjects(RDF.type, SKOS.ConceptScheme)) == {LEGACY, FW2021}
    assert zh_labels(LEGACY, SKOS.prefLabel) == {"绩效指标体系（成本指标属产出指标）"}
    assert "legacy indicator framework (cost under output)" in {
        str(x) for x in g.objects(LEGACY, SKOS.prefLabel) if x.language == "en"
    }
    for scheme in (LEGACY, FW2021):
        assert {local(c) for c in in_scheme(scheme)} == IN_SCHEME[scheme]


def test_every_concept_is_complete() -> None:
    g = cats()
    assert {local(c) for c in concepts()} == IN_SCHEME[LEGACY] | IN_SCHEME[FW2021]
    for c in concepts():
        assert len(zh_labels(c, SKOS.prefLabel)) == 1, c
        assert any(x.language == "en" for x in g.objects(c, SKOS.prefLabel)), c
        assert any(x.language in ("zh", "en") for x in g.objects(c, SKOS.definition)), c
        assert level(c) in (1, 2), c
        assert all(x.language == "zh" for x in g.objects(c, SKOS.altLabel)), c


@pytest.mark.parametrize("scheme", [LEGACY, FW2021], ids=["legacy", "2021"])
def test_top_concepts(scheme: URIRef) -> None:
    g = cats()
    tops = {local(c) for c in g.objects(scheme, SKOS.hasTopConcept)}
    assert tops == TOP[scheme]
    assert {local(c) for c in g.subjects(SKOS.topConceptOf, scheme)} == TOP[scheme]
    assert {local(c) for c in in_scheme(scheme) if level(c) == 1} == TOP[scheme]


@pytest.mark.parametrize("scheme", [LEGACY, FW2021], ids=["legacy", "2021"])
def test_level2_has_exactly_one_broader_level1_in_scheme(scheme: URIRef) -> None:
    g = cats()
    members = in_scheme(scheme)
    for c in members:
        if level(c) != 2:
            continue
        broader = [b for b in g.objects(c, SKOS.broader) if b in members]
        assert len(broader) == 1, c
        assert level(broader[0]) == 1  # type: ignore[arg-type]
        assert local(broader[0]) == BROADER[local(c)]  # type: ignore[arg-type]
        assert (broader[0], SKOS.narrower, c) in g


def test_broader_and_narrower_are_stated_both_ways() -> None:
    g = cats()
    assert {(s, o) for s, o in g.subject_objects(SKOS.broader)} == {
        (o, s) for s, o in g.subject_objects(SKOS.narrower)
    }
    for c in concepts():
        if level(c) == 1:
            assert g.value(c, SKOS.broader) is None


def test_crosswalk() -> None:
    g = cats()
    assert (CAT["output-cost"], SKOS.closeMatch, CAT["cost"]) in g
    assert (CAT["cost"], SKOS.closeMatch, CAT["output-cost"]) in g
    for c in ("economic-cost", "social-cost", "ecological-cost"):
        assert (CAT[c], SKOS.broadMatch, CAT["output-cost"]) in g
        assert (CAT["output-cost"], SKOS.narrowMatch, CAT[c]) in g


@pytest.mark.parametrize("scheme", [LEGACY, FW2021], ids=["legacy", "2021"])
def test_labels_are_unambiguous_within_a_scheme(scheme: URIRef) -> None:
    members = in_scheme(scheme)
    prefs: dict[str, URIRef] = {}
    for c in members:
        (label,) = zh_labels(c, SKOS.prefLabel)
        assert label not in prefs, (label, c, prefs.get(label))
        prefs[label] = c
    # a printed label (pref or alt) names at most one concept per level in a scheme
    by_level: dict[tuple[int, str], URIRef] = {}
    for c in members:
        for label in zh_labels(c, SKOS.prefLabel) | zh_labels(c, SKOS.altLabel):
            key = (level(c), label)
            assert key not in by_level, (key, c, by_level.get(key))
            by_level[key] = c


def test_the_one_intended_cross_scheme_clash() -> None:
    owners = {c for c in concepts() if "成本指标" in zh_labels(c, SKOS.prefLabel)}
    assert owners == {CAT["output-cost"], CAT["cost"]}


def test_alt_labels() -> None:
    alt = {local(c): zh_labels(c, SKOS.altLabel) for c in concepts()}
    assert {"产出数量指标", "数量"} <= alt["quantity"]
    assert {"产出质量指标", "质量"} <= alt["quality"]
    assert {"产出时效指标", "时效"} <= alt["timeliness"]
    assert "产出成本指标" in alt["output-cost"]
    assert "经济效益" in alt["economic-benefit"]
    assert "社会效益" in alt["social-benefit"]
    assert {"生态效益", "生态环境效益指标"} <= alt["ecological-benefit"]
    assert "可持续影响" in alt["sustainable-impact"]
    assert "服务对象满意度" in alt["service-recipient-satisfaction"]
    with_satisfaction = {c for c, labels in alt.items() if "满意度" in labels}
    assert with_satisfaction == {"satisfaction"}
    every_label = {x for labels in alt.values() for x in labels} | {
        lbl for c in concepts() for lbl in zh_labels(c, SKOS.prefLabel)
    }
    # 项目完成指标 is what some project tables print for the level-1 产出指标 (corpus: hunan, zhaohua)
    assert "项目完成指标" in alt["output"]
    assert "项目完成指标" in every_label


SEED_CATEGORIES = {  # level-1 label → level-2 labels the seed table prints
    "产出指标": {"数量指标", "质量指标", "时效指标", "成本指标"},
    "效益指标": {"经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"},
    "满意度指标": {"服务对象满意度指标", "其他满意度指标"},
}


def test_seed_labels_resolve_in_legacy() -> None:
    from kg import categories

    for l1, l2s in SEED_CATEGORIES.items():
        top = categories.resolve(l1, 1, "legacy")
        assert top is not None, l1
        for l2 in l2s:
            cat = categories.resolve(l2, 2, "legacy")
            assert cat is not None and cat.broader == top.concept, l2
    assert categories.resolve("成本指标", 2, "legacy").concept == CAT["output-cost"]  # type: ignore[union-attr]
    assert categories.resolve("成本指标", 1, "2021").concept == CAT["cost"]  # type: ignore[union-attr]
    assert categories.resolve("满意度", 2, "legacy") is None
    assert categories.layout_of(list(SEED_CATEGORIES)) == "legacy"
    assert categories.layout_of(["产出指标", "成本指标", "效益指标", "满意度指标"]) == "2021"


# --------------------------------------------------------------------------- README example


def readme_query() -> str:
    text = (ROOT / "ontology" / "README.md").read_text(encoding="utf-8")
    (query,) = re.findall(r"```sparql\n(.*?)```", text, flags=re.S)
    return query


def test_readme_query_counts_across_both_layouts() -> None:
    g = Graph()
    g += cats()
    rows = [  # indicator, level 1, level 2 (legacy and 2021 concepts mixed)
        ("a", CAT["output"], CAT["quantity"]),
        ("b", CAT["output"], CAT["output-cost"]),  # legacy cost → counts under cat:cost
        ("c", CAT["cost"], CAT["economic-cost"]),  # 2021 cost
        ("d", CAT["benefit"], CAT["social-benefit"]),
        ("e", CAT["output"], CAT["timeliness"]),
    ]
    for key, l1, l2 in rows:
        ind = DATA[f"x/indicator/{key}"]
        g.add((ind, RDF.type, IKG.Indicator))
        g.add((ind, IKG.level1, l1))
        g.add((ind, IKG.level2, l2))
    counts = {local(r[0]): int(r[2]) for r in g.query(readme_query())}  # type: ignore[index]
    assert counts == {"output": 2, "cost": 2, "benefit": 1}


# --------------------------------------------------------------------------- shapes.ttl

TABLE = DATA["table/2024-test"]
IND = URIRef(f"{TABLE}/indicator/1")
TGT = URIRef(f"{IND}/target")
FILE = "seeds/000_test.txt"


def s(x: str) -> Literal:
    return Literal(x)  # plain literal, as kg.mapping makes


def i(x: int) -> Literal:
    return Literal(x, datatype=XSD.integer)


def d(x: str) -> Literal:
    return Literal(Decimal(x), datatype=XSD.decimal)


def b(x: bool) -> Literal:
    return Literal(x, datatype=XSD.boolean)


def prov(g: Graph, node: URIRef, line: int, end: int | None = None) -> None:
    g.add((node, IKG.sourceFile, s(FILE)))
    g.add((node, IKG.sourceLine, i(line)))
    g.add((node, IKG.sourceEndLine, i(end or line)))


def valid_graph() -> Graph:
    """One small table with every kind of item, built with the ontology's properties."""
    g = Graph()
    dept, unit = DATA["org/dept"], DATA["org/unit"]
    g.add((TABLE, RDF.type, IKG.TargetTable))
    g.add((TABLE, DCTERMS.title, s("某部门部门整体支出绩效目标表")))
    g.add((TABLE, IKG.department, dept))
    g.add((TABLE, IKG.fiscalYear, i(2024)))
    g.add((TABLE, IKG.currencyUnit, s("万元")))
    g.add((TABLE, IKG.tableType, s("部门整体支出绩效目标表")))
    g.add((TABLE, IKG.categoryScheme, LEGACY))
    g.add((TABLE, IKG.reportingUnit, unit))
    prov(g, TABLE, 2, 4)
    doc = DATA["source/0123456789abcdef"]
    g.add((TABLE, PROV.wasDerivedFrom, doc))
    g.add((doc, RDF.type, IKG.SourceDocument))
    g.add((doc, IKG.fileName, s(FILE)))
    g.add((doc, IKG.sha256, s("0123456789abcdef" * 4)))
    g.add((doc, IKG.reader, s("seed_text")))
    # organisations
    g.add((dept, RDF.type, IKG.Department))
    g.add((dept, IKG.name, s("某部门")))
    g.add((unit, RDF.type, IKG.BudgetUnit))
    g.add((unit, IKG.name, s("某部门（本级）")))
    g.add((unit, IKG.supervisingDepartment, dept))
    entry = URIRef(f"{TABLE}/unit/1")
    g.add((entry, RDF.type, IKG.UnitEntry))
    g.add((entry, IKG.inTable, TABLE))
    g.add((entry, IKG.unit, unit))
    g.add((entry, IKG.name, s("某部门（本级）")))
    g.add((entry, IKG.ordinal, i(1)))
    prov(g, entry, 7)
    # task and totals
    task = URIRef(f"{TABLE}/task/1")
    g.add((task, RDF.type, IKG.Task))
    g.add((task, IKG.inTable, TABLE))
    g.add((task, IKG.name, s("基本支出")))
    g.add((task, IKG.content, s("主要用于人员、公用支出。")))
    g.add((task, IKG.totalAmount, d("3133.45")))
    g.add((task, IKG.fiscalAmount, d("3128.46")))
    g.add((task, IKG.otherAmount, d("0.00")))
    g.add((task, IKG.reportingUnit, unit))
    g.add((task, IKG.ordinal, i(1)))
    prov(g, task, 30, 45)
    tot = URIRef(f"{TABLE}/totals")
    g.add((tot, RDF.type, IKG.StatedTotals))
    g.add((tot, IKG.inTable, TABLE))
    g.add((tot, IKG.name, s("金额合计")))
    g.add((tot, IKG.totalAmount, d("3133.45")))
    prov(g, tot, 50)
    # goals
    for n, cls in ((0, IKG.OverallGoal), (1, IKG.NumberedGoal)):
        goal = URIRef(f"{TABLE}/goal/{n}")
        g.add((goal, RDF.type, IKG.Goal))
        g.add((goal, RDF.type, cls))
        g.add((goal, IKG.inTable, TABLE))
        g.add((goal, IKG.goalNumber, i(n)))
        g.add((goal, IKG.text, s(f"目标{n}")))
        prov(g, goal, 60 + n)
    # one indicator: 预算执行率 ≥90%
    g.add((IND, RDF.type, IKG.Indicator))
    g.add((IND, IKG.inTable, TABLE))
    g.add((IND, IKG.name, s("预算执行率")))
    g.add((IND, IKG.ordinal, i(1)))
    g.add((IND, IKG.level1, CAT["output"]))
    g.add((IND, IKG.level2, CAT["output-cost"]))
    g.add((IND, IKG.level1Label, s("产出指标")))
    g.add((IND, IKG.level2Label, s("成本指标")))
    g.add((IND, IKG.target, TGT))
    prov(g, IND, 1020)
    g.add((TGT, RDF.type, IKG.TargetValue))
    g.add((TGT, RDF.type, IKG.NumericTarget))
    g.add((TGT, IKG.rawText, s("≥90%")))
    g.add((TGT, IKG.recognized, b(True)))
    g.add((TGT, IKG.comparison, s(">=")))
    g.add((TGT, IKG.lowerBound, d("90")))
    g.add((TGT, IKG.lowerInclusive, b(True)))
    g.add((TGT, IKG.unitText, s("%")))
    g.add((TGT, IKG.isPercent, b(True)))
    # a deadline target on a second indicator
    ind2, tgt2 = URIRef(f"{TABLE}/indicator/2"), URIRef(f"{TABLE}/indicator/2/target")
    g.add((ind2, RDF.type, IKG.Indicator))
    g.add((ind2, IKG.inTable, TABLE))
    g.add((ind2, IKG.name, s("“首善讲堂”完成时效")))
    g.add((ind2, IKG.ordinal, i(2)))
    g.add((ind2, IKG.level1, CAT["output"]))
    g.add((ind2, IKG.level2, CAT["timeliness"]))
    g.add((ind2, IKG.target, tgt2))
    prov(g, ind2, 1000, 1003)
    g.add((tgt2, RDF.type, IKG.TargetValue))
    g.add((tgt2, RDF.type, IKG.DeadlineTarget))
    g.add((tgt2, IKG.rawText, s("2024年12月20日前")))
    g.add((tgt2, IKG.recognized, b(True)))
    g.add((tgt2, IKG.deadline, Literal(dt.date(2024, 12, 20), datatype=XSD.date)))
    g.add((tgt2, IKG.deadlineRelation, s("before")))
    g.add((tgt2, IKG.isPercent, b(False)))
    # a not-applicable category
    na = URIRef(f"{TABLE}/not-applicable/1")
    g.add((na, RDF.type, IKG.CategoryNotApplicable))
    g.add((na, IKG.inTable, TABLE))
    g.add((na, IKG.level1, CAT["benefit"]))
    g.add((na, IKG.level2, CAT["ecological-benefit"]))
    g.add((na, IKG.level1Label, s("效益指标")))
    g.add((na, IKG.level2Label, s("生态效益指标")))
    g.add((na, IKG.rawText, s("不适用 不适用")))
    prov(g, na, 1225, 1226)
    return g


def validate(data: Graph, **kwargs: object) -> tuple[bool, list[str]]:
    """The call ontology/README.md prescribes: ontology and categories merged into the data."""
    mixed = Graph()
    mixed += data
    mixed += onto()
    mixed += cats()
    return run(mixed, **kwargs)


def run(data: Graph, **kwargs: object) -> tuple[bool, list[str]]:
    options: dict[str, object] = {"inference": "none", "advanced": True}
    options.update(kwargs)
    ok, report, _text = pyshacl.validate(data, shacl_graph=shapes(), **options)
    messages = sorted(str(m) for m in report.objects(None, SH.resultMessage))
    return bool(ok), messages


def test_every_message_is_bilingual() -> None:
    g = shapes()
    messages = list(g.objects(None, SH.message))
    assert len(messages) > 40
    for m in messages:
        zh, sep, en = str(m).partition(" / ")
        assert sep and re.search(r"[\u4e00-\u9fff]", zh) and re.search(r"[A-Za-z]", en), m
    # every shape that reports results (named shapes, their property shapes and the
    # SPARQL constraints) has a message wherever it constrains something itself
    # (a shape with sh:sparql reports the message of its SPARQL constraint);
    # shapes inside sh:or / sh:xone lists report through the shape holding the list
    constraining = {
        SH[x]
        for x in (
            "minCount",
            "maxCount",
            "datatype",
            "class",
            "in",
            "hasValue",
            "minLength",
            "pattern",
            "minInclusive",
            "maxInclusive",
            "or",
            "xone",
            "nodeKind",
            "node",
            "lessThanOrEquals",
            "select",
        )
    }
    named = {x for x in g.subjects(RDF.type, None) if isinstance(x, URIRef)}
    reporting = named | {p for n in named for p in g.objects(n, SH.property)}
    checked = 0
    for shape in reporting:
        if any(g.value(shape, p) is not None for p in constraining):
            assert g.value(shape, SH.message) is not None, shape
            checked += 1
    assert checked > 40


def test_sh_in_lists_use_plain_literals() -> None:
    g = shapes()
    for lst in g.objects(None, SH["in"]):
        for item in Collection(g, lst):  # type: ignore[arg-type]
            if isinstance(item, Literal):
                assert item.datatype is None and item.language is None, item


def test_valid_graph_conforms() -> None:
    ok, messages = validate(valid_graph())
    assert ok, messages


def broken(change: Callable[[Graph], None]) -> Graph:
    g = valid_graph()
    change(g)
    return g


def broader_message(l2: URIRef, l1: URIRef) -> str:
    return (
        f"二级指标类别 {l2} 不属于一级指标类别 {l1}（缺少 skos:broader） / "
        f"level-2 category {l2} is not under level-1 category {l1} (no skos:broader)"
    )


BROKEN: dict[str, tuple[Callable[[Graph], None], str]] = {
    "indicator without name": (
        lambda g: g.remove((IND, IKG.name, None)),
        "指标缺少名称 / indicator has no name",
    ),
    "quality under benefit": (
        lambda g: (
            g.set((IND, IKG.level1, CAT["benefit"])),
            g.set((IND, IKG.level2, CAT["quality"])),
        ),
        broader_message(CAT["quality"], CAT["benefit"]),
    ),
    "numeric target without bound": (
        lambda g: g.remove((TGT, IKG.lowerBound, None)),
        "数值目标既无下限也无上限 / numeric target has neither a lower nor an upper bound",
    ),
    "comparison ≈": (
        lambda g: g.set((TGT, IKG.comparison, s("≈"))),
        "比较关系至多一个，且为 >=、<=、>、<、=、range 之一 / "
        "comparison must be at most one of >=, <=, >, <, =, range",
    ),
    "level-2 concept as level 1": (
        lambda g: g.set((IND, IKG.level1, CAT["quantity"])),
        "一级指标类别必须唯一，且是层级为 1 的类别概念（ikg:categoryLevel 1） / "
        "level-1 category must be a single category concept of level 1 (ikg:categoryLevel 1)",
    ),
    "2021 concept in a legacy table": (
        lambda g: (
            g.set((IND, IKG.level1, CAT["cost"])),
            g.set((IND, IKG.level2, CAT["economic-cost"])),
        ),
        f"指标类别 {CAT['cost']} 不在该表所用的指标体系 {LEGACY} 中 / "
        f"category {CAT['cost']} is not in the table's category scheme {LEGACY}",
    ),
    "two forms": (
        lambda g: g.add((TGT, RDF.type, IKG.RangeTarget)),
        "目标值必须恰好属于一种形式（ikg:NumericTarget 等子类之一） / "
        "target value must have exactly one form (one subclass of ikg:TargetValue)",
    ),
    "empty raw text on a numeric target": (
        lambda g: g.set((TGT, IKG.rawText, s(""))),
        "目标值原文为空，但不是标注为 empty 的未识别目标值 / "
        "target value has empty raw text but is not an unrecognized target flagged empty",
    ),
    "deadline target without date": (
        lambda g: g.remove((URIRef(f"{TABLE}/indicator/2/target"), IKG.deadline, None)),
        "截止日期目标缺少日期 / deadline target has no date",
    ),
    "fiscal year 2200": (
        lambda g: g.set((TABLE, IKG.fiscalYear, i(2200))),
        "绩效目标表必须恰好有一个财政年度，为 1990–2100 之间的整数 / "
        "target table must have exactly one fiscal year, an integer between 1990 and 2100",
    ),
    "currency 美元": (
        lambda g: g.set((TABLE, IKG.currencyUnit, s("美元"))),
        "金额单位必须恰好一个，为“元”或“万元” / currency unit must be exactly one of 元 or 万元",
    ),
    "amount as a string": (
        lambda g: g.set((URIRef(f"{TABLE}/task/1"), IKG.totalAmount, s("3,133.45"))),
        "总额至多一个，且为 xsd:decimal / total amount must be at most one xsd:decimal",
    ),
    "not-applicable category under the wrong level 1": (
        lambda g: g.set((URIRef(f"{TABLE}/not-applicable/1"), IKG.level1, CAT["output"])),
        broader_message(CAT["ecological-benefit"], CAT["output"]),
    ),
    "overall goal numbered 1": (
        lambda g: g.set((URIRef(f"{TABLE}/goal/0"), IKG.goalNumber, i(1))),
        "年度总体目标的编号必须为 0 / the overall goal must have goal number 0",
    ),
    "end line before line": (
        lambda g: g.set((IND, IKG.sourceEndLine, i(3))),
        "起始行号大于结束行号 / source line is after source end line",
    ),
}


# cases whose one fault also breaks a neighbouring rule, so they report more than one result
SEVERAL = {"level-2 concept as level 1", "2021 concept in a legacy table", "two forms"}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_variant_fails_with_message(case: str) -> None:
    change, message = BROKEN[case]
    ok, messages = validate(broken(change))
    assert not ok
    if case in SEVERAL:
        assert message in messages, messages
    else:
        assert messages == [message]


def test_empty_raw_text_allowed_only_when_flagged_empty() -> None:
    def empty_cell(g: Graph) -> None:
        g.remove((TGT, RDF.type, IKG.NumericTarget))
        for p in (IKG.comparison, IKG.lowerBound, IKG.lowerInclusive, IKG.unitText):
            g.remove((TGT, p, None))
        g.add((TGT, RDF.type, IKG.UnrecognizedTarget))
        g.set((TGT, IKG.rawText, s("")))
        g.set((TGT, IKG.recognized, b(False)))
        g.add((TGT, IKG.flag, s("empty")))

    ok, messages = validate(broken(empty_cell))
    assert ok, messages


def test_real_not_applicable_target_conforms() -> None:
    def not_applicable(g: Graph) -> None:
        g.remove((TGT, RDF.type, IKG.NumericTarget))
        for p in (IKG.comparison, IKG.lowerBound, IKG.lowerInclusive, IKG.unitText):
            g.remove((TGT, p, None))
        g.add((TGT, RDF.type, IKG.NotApplicableTarget))
        g.set((TGT, IKG.rawText, s("不适用")))

    ok, messages = validate(broken(not_applicable))
    assert ok, messages


# --------------------------------------------------------------------------- how to call pyshacl


def test_ont_graph_alone_does_not_bring_the_categories() -> None:
    """pyshacl 0.40 'inoculates' ont_graph: RDFS/OWL axioms only, no SKOS concepts.

    So the categories must be merged into the data graph (ontology/README.md).
    """
    ont = Graph()
    ont += onto()
    ont += cats()
    ok, messages = run(valid_graph(), ont_graph=ont)
    assert not ok
    assert any("level-1 category must be" in m for m in messages), messages
    # merging and also passing ont_graph is harmless
    mixed = Graph()
    mixed += valid_graph()
    mixed += ont
    ok, messages = run(mixed, ont_graph=ont)
    assert ok, messages


def test_relational_checks_need_advanced_mode() -> None:
    """The broader / scheme / one-form checks use sh:SPARQLTarget (SHACL-AF)."""
    change, message = BROKEN["quality under benefit"]
    ok, messages = validate(broken(change), advanced=False)
    assert ok and message not in messages  # the trap ontology/README.md warns about
    ok, messages = validate(broken(change), advanced=True)
    assert not ok and message in messages


def test_the_store_holds_the_ontology_rdflib_reads() -> None:
    """load_ontology parses the files with pyoxigraph: the graph it stores is the one rdflib
    reads from the same files (blank nodes compared up to renaming)."""
    from rdflib.compare import isomorphic

    from kg.namespaces import ONTOLOGY_GRAPH
    from kg.store import GraphStore

    expected = Graph()
    for name in ("indicators.ttl", "categories.ttl", "similarity.ttl"):
        expected.parse(ontology.path(name), format="turtle")
    with GraphStore(None) as store:
        store.load_ontology()
        stored = store.graph(ONTOLOGY_GRAPH)
    assert len(stored) == len(expected) > 100
    assert isomorphic(stored, expected)


def test_validation_reads_the_ontology_rdflib_reads() -> None:
    from rdflib.compare import isomorphic

    from kg import validate
    from kg.store import to_rdflib

    quads = validate._ontology_quads()
    got = Graph()
    for q in quads:
        got.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    assert isomorphic(got, validate.ontology_graph())
