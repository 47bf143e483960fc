"""The native SHACL engine (shapes compiled to SPARQL, kg/shacl_sparql.py) gives pyshacl's
results, one by one: the same (focus node, result path, source shape, constraint component,
severity) set on the seed, on every table and library of the demo corpus, and on a broken
graph made from the seed so that every constraint component shapes.ttl uses fires.

The broken graph: for each shape with a class target and each of its property shapes'
constraints, a copy of one focus node (all its triples, under a new IRI) is changed so that
the constraint fails (a required value removed, one value too many, a wrong datatype, a
value outside sh:in …); the node-level constraints (sh:or, sh:xone, the SPARQL-based
category checks) get a copy changed by hand. All copies live in one graph, so pyshacl runs
once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import test_ontology as hand_made
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node

from apps.library import Link, links_graph
from kg import shacl_sparql, validate
from kg.build import prepare, prepare_library
from kg.namespaces import IKG
from kg.store import to_ox

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
CORPUS = sorted((DEMO / "corpus").glob("*.csv"))
LIBRARIES = sorted((DEMO / "libraries").glob("*.csv"))

Key = tuple[Node, Node | None, Node, URIRef, URIRef]


def reference(data: Graph) -> set[Key]:
    """pyshacl's results, as validate.conforms(engine="pyshacl") runs it."""
    from pyshacl import validate as pyshacl_validate

    mixed = Graph()
    for triple in itertools.chain(data, validate.ontology_graph()):
        mixed.add(triple)
    _, report, _ = pyshacl_validate(
        mixed,
        shacl_graph=validate.shapes_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return {
        (
            report.value(r, SH.focusNode),
            report.value(r, SH.resultPath),
            report.value(r, SH.sourceShape),
            report.value(r, SH.sourceConstraintComponent),
            report.value(r, SH.resultSeverity),
        )  # type: ignore[misc]
        for r in report.objects(None, SH.result)  # not the nested ones (sh:detail)
    }


def native(data: Graph) -> set[Key]:
    return {v.key() for v in validate.violations(data)}


def assert_same(data: Graph) -> set[Key]:
    mine, theirs = native(data), reference(data)
    assert mine == theirs, (
        f"native only: {sorted(mine - theirs, key=str)}\npyshacl only: {sorted(theirs - mine, key=str)}"
    )
    return mine


@pytest.fixture(scope="module")
def seed_graph(seed_path: Path) -> Graph:
    built = prepare(seed_path, shacl=False)
    return built.graph + built.organisations


# --------------------------------------------------------------------------- real inputs


def test_seed_conforms_in_both_engines(seed_graph: Graph) -> None:
    assert assert_same(seed_graph) == set()
    assert validate.conforms(seed_graph, "native")[0] is True


@pytest.mark.slow  # pyshacl on the 35 tables and 4 libraries: 20-30 s
@pytest.mark.parametrize("path", CORPUS + LIBRARIES, ids=lambda p: p.stem)
def test_demo_corpus_same_results(path: Path) -> None:
    if path.parent.name == "libraries":
        graph = prepare_library(path, shacl=False).graph
    else:
        built = prepare(path, shacl=False)
        graph = built.graph + built.organisations
    assert_same(graph)


def test_demo_corpus_is_there() -> None:
    assert len(CORPUS) >= 30 and len(LIBRARIES) >= 4


@pytest.mark.parametrize("case", sorted(hand_made.BROKEN))
def test_the_hand_made_tables_of_test_ontology_same_results(case: str) -> None:
    """tests/test_ontology.py's small table graph with each of its faults (and valid, below)."""
    assert assert_same(hand_made.broken(hand_made.BROKEN[case][0]))


def test_the_hand_made_valid_table_conforms_in_both() -> None:
    assert assert_same(hand_made.valid_graph()) == set()


# --------------------------------------------------------------------------- the broken graph

SG = validate.shapes_graph()
BAD_IRI = URIRef("urn:x-test:untyped")  # no type, no triples: fails sh:class and sh:node


def instances(g: Graph, cls: Node) -> list[Node]:
    classes = set(g.transitive_subjects(RDFS.subClassOf, cls))
    return sorted({s for c in classes for s in g.subjects(RDF.type, c)}, key=str)


class Broken:
    """The base graph and the copies of its nodes, each changed to break one constraint."""

    def __init__(self, base: Graph) -> None:
        self.g = Graph()
        for triple in base:
            self.g.add(triple)
        self.n = itertools.count()

    def copy(self, node: Node) -> URIRef:
        new = URIRef(f"{node}/broken-{next(self.n)}")
        for p, o in list(self.g.predicate_objects(node)):
            self.g.add((new, p, o))
        return new

    def replace(self, node: Node, path: Node, *values: Node) -> None:
        self.g.remove((node, path, None))
        for v in values:
            self.g.add((node, path, v))


RANGES = {SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive}


def bad_values(param: URIRef, arg: Node, values: list[Node], ranged: bool) -> list[list[Node]]:
    """Value sets for a property that fail the constraint ``param arg``; [] when none is known.

    sh:datatype gets a value of another datatype and an ill-typed one ("abc"^^xsd:integer, kept
    as written: rdflib would make "abc"^^xsd:boolean "false"), the latter only where no range
    constraint compares the value: pyshacl compares an ill-typed literal by rdflib's rules (and
    may let it pass sh:maxInclusive), where SPARQL, and so the native engine, fails it."""
    some = values[0] if values else Literal("x")
    ill_typed = [] if ranged else [[Literal("abc", datatype=arg, normalize=False)]]
    by_param: dict[URIRef, Callable[[], list[list[Node]]]] = {
        SH.minCount: lambda: [[]],
        SH.maxCount: lambda: [[*values, *(Literal(f"多余{i}") for i in range(int(arg) + 1))]],
        SH.datatype: lambda: [*ill_typed, [Literal(12) if arg == XSD.string else Literal("abc")]],
        SH["class"]: lambda: [[BAD_IRI]],
        SH["in"]: lambda: [[Literal("不在列表中")]],
        SH.hasValue: lambda: [[Literal(99) if arg != Literal(99) else Literal(98)]],
        SH.nodeKind: lambda: [[Literal("x")]],
        SH.minLength: lambda: [[Literal("")]],
        SH.pattern: lambda: [[Literal("NOT-HEX")]],
        SH.minInclusive: lambda: [[Literal(arg.toPython() - 1)]],  # type: ignore[union-attr]
        SH.maxInclusive: lambda: [[Literal(arg.toPython() + 1)]],  # type: ignore[union-attr]
        SH.node: lambda: [[BAD_IRI], [some, BAD_IRI]],
    }
    return by_param[param]() if param in by_param else []


def compared(shape: Node) -> dict[Node, Node]:
    """path -> the other path of each sh:lessThanOrEquals pair of the shape's properties."""
    out: dict[Node, Node] = {}
    for prop in SG.objects(shape, SH.property):
        for other in SG.objects(prop, SH.lessThanOrEquals):
            path = SG.value(prop, SH.path)
            out[path], out[other] = other, path  # type: ignore[index]
    return out


def property_mutations(b: Broken) -> Iterator[URIRef]:
    """For each class-targeted shape, property shape and constraint: a broken copy of a focus
    node. Yields the parameters it broke.

    A copy whose value is compared by sh:lessThanOrEquals (ikg:sourceLine) loses the other side
    of the comparison: pyshacl raises TypeError comparing an ill-typed literal."""
    onto = validate.ontology_graph()
    for shape in sorted(set(SG.subjects(SH.targetClass, None)), key=str):
        focus = instances(b.g + onto, SG.value(shape, SH.targetClass))
        if not focus:
            continue
        pairs = compared(shape)
        for prop in SG.objects(shape, SH.property):
            path = SG.value(prop, SH.path)
            ranged = any(SG.value(prop, r) is not None for r in RANGES)
            for param, arg in SG.predicate_objects(prop):
                if param == SH.lessThanOrEquals:
                    node = b.copy(focus[0])
                    b.replace(node, path, Literal(10))
                    b.replace(node, arg, Literal(5))
                    yield param
                for values in bad_values(param, arg, list(b.g.objects(focus[0], path)), ranged):
                    node = b.copy(focus[0])
                    b.replace(node, path, *values)
                    if path in pairs:
                        b.replace(node, pairs[path])
                    yield param


def scheme_pairs(onto: Graph) -> dict[Node, list[tuple[Node, Node]]]:
    """scheme -> (level-1, level-2) concepts that are linked by skos:broader."""
    out: dict[Node, list[tuple[Node, Node]]] = {}
    for l2, l1 in onto.subject_objects(SKOS.broader):
        for scheme in onto.objects(l2, SKOS.inScheme):
            out.setdefault(scheme, []).append((l1, l2))
    return out


def node_mutations(b: Broken) -> Iterator[URIRef]:
    """The node-level constraints: sh:or, sh:xone and the SPARQL-based category checks."""
    numeric = instances(b.g, IKG.NumericTarget)[0]
    empty = b.copy(numeric)  # empty raw text, not an unrecognized target flagged empty
    b.replace(empty, IKG.rawText, Literal(""))
    bounds = b.copy(numeric)  # a numeric target without bounds
    b.replace(bounds, IKG.lowerBound)
    b.replace(bounds, IKG.upperBound)
    yield SH["or"]
    b.g.add((b.copy(numeric), RDF.type, IKG.RangeTarget))  # two forms
    formless = b.copy(numeric)  # no form
    b.replace(formless, RDF.type, IKG.TargetValue)
    yield SH.xone
    indicator = instances(b.g, IKG.Indicator)[0]
    table = b.g.value(indicator, IKG.inTable)
    scheme = b.g.value(table, IKG.categoryScheme)
    level1 = b.g.value(indicator, IKG.level1)
    pairs = scheme_pairs(validate.ontology_graph())
    onto = validate.ontology_graph()
    elsewhere = next(l2 for _, l2 in pairs[scheme] if (l2, SKOS.broader, level1) not in onto)
    b.replace(b.copy(indicator), IKG.level2, elsewhere)  # level 2 not under level 1
    outside = next(
        p for s, ps in pairs.items() if s != scheme for p in ps if p not in pairs[scheme]
    )
    wrong_scheme = b.copy(indicator)  # both categories from the other scheme
    b.replace(wrong_scheme, IKG.level1, outside[0])
    b.replace(wrong_scheme, IKG.level2, outside[1])
    yield SH.sparql


def used_components() -> set[URIRef]:
    return {
        shacl_sparql.COMPONENTS[p] for p in set(SG.predicates()) if p in shacl_sparql.COMPONENTS
    }


@pytest.fixture(scope="module")
def broken(seed_graph: Graph) -> tuple[Graph, list[URIRef]]:
    library = prepare_library(LIBRARIES[0], shacl=False).graph
    concept = sorted(library.subjects(RDF.type, IKG.LibraryIndicator), key=str)[0]
    indicator = instances(seed_graph, IKG.Indicator)[0]
    match = links_graph([Link(str(indicator), str(concept), "s", 0.9, "embedding")])
    base = seed_graph + library + match
    assert assert_same(base) == set()  # the copies start from conforming nodes
    b = Broken(base)
    broke = [*property_mutations(b), *node_mutations(b)]
    return b.g, broke


def test_broken_graph_same_results_every_component_fires(broken) -> None:
    graph, broke = broken
    found = assert_same(graph)
    fired = {key[3] for key in found}
    assert used_components() - fired == set()
    assert len(used_components()) >= 16  # shapes.ttl's: the test covers what the file uses
    assert len(broke) > 100 and len(found) > len(broke) / 2
    ok, text = validate.conforms(graph, "native")
    assert not ok and "sh:SPARQLConstraintComponent" in text and "不在列表中" in text


# --------------------------------------------------------------------------- the compiler


def test_a_shape_the_compiler_cannot_run_is_refused_at_load() -> None:
    shapes = Graph()
    for triple in SG:
        shapes.add(triple)
    shape = URIRef("urn:x-test:shape")
    shapes.add((shape, SH.targetClass, IKG.Indicator))
    shapes.add((shape, SH.uniqueLang, Literal(True)))
    with pytest.raises(shacl_sparql.UnsupportedShapes, match="uniqueLang"):
        shacl_sparql.compile_shapes(shapes)
    path = BNode()
    shapes.remove((shape, SH.uniqueLang, None))
    shapes.add((shape, SH.property, path))
    shapes.add((path, SH.path, BNode()))  # a complex path
    shapes.add((path, SH.minCount, Literal(1)))
    with pytest.raises(shacl_sparql.UnsupportedShapes, match="sh:path"):
        shacl_sparql.compile_shapes(shapes)


def test_warnings_do_not_break_conformance_in_either_engine(
    seed_graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sh:severity sh:Warning: reported, but the table conforms (allow_warnings)."""
    g = Graph()
    for triple in seed_graph:
        g.add(triple)
    task = instances(g, IKG.Task)[0]
    g.add((task, IKG.content, Literal("第二条内容")))  # ikg:content: at most one
    warned = Graph()
    for s, p, o in SG:
        warned.add((s, p, o))
    (prop,) = [s for s in SG.subjects(SH.path, IKG.content)]
    warned.add((prop, SH.severity, SH.Warning))
    assert validate.conforms(g, "native")[0] is False
    monkeypatch.setattr(validate, "shapes_graph", lambda: warned)
    monkeypatch.setattr(validate, "compiled_shapes", lambda: shacl_sparql.compile_shapes(warned))
    assert {(v.focus, v.component, v.severity) for v in validate.violations(g)} == {
        (task, SH.MaxCountConstraintComponent, SH.Warning)
    }
    for engine in ("native", "pyshacl"):
        ok, text = validate.conforms(g, engine)  # type: ignore[arg-type]
        assert ok and "Warning" in text and "MaxCountConstraintComponent" in text, engine


def test_amounts_are_decimal(seed_graph: Graph) -> None:
    """The decimal check sees the mapping's literals: a float total is refused by both."""
    g = Graph()
    for triple in seed_graph:
        g.add(triple)
    task = instances(g, IKG.Task)[0]
    g.set((task, IKG.totalAmount, Literal(1.5)))
    g.set((task, IKG.fiscalAmount, Literal(Decimal("1.5"))))
    keys = assert_same(g)
    assert {(k[0], k[1], k[3]) for k in keys} == {
        (task, IKG.totalAmount, SH.DatatypeConstraintComponent)
    }


# --------------------------------------------------------------------------- what shapes.ttl does not use yet

OTHER_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <urn:x-test:> .
ex:Nodes a sh:NodeShape ; sh:targetNode ex:a , ex:b ;
    sh:property [ sh:path ex:p ; sh:maxLength 3 ; sh:minExclusive 0 ; sh:maxExclusive 10 ] ,
        [ sh:path ex:lo ; sh:lessThan ex:hi ] , [ sh:path ex:p ; sh:disjoint ex:q ] ;
    sh:not [ sh:class ex:Bad ] .
ex:Subjects a sh:NodeShape ; sh:targetSubjectsOf ex:r ;
    sh:and ( [ sh:path ex:r ; sh:minCount 2 ] [ sh:nodeKind sh:IRI ] ) .
ex:Objects a sh:NodeShape ; sh:targetObjectsOf ex:r ; sh:nodeKind sh:BlankNodeOrIRI .
ex:C a rdfs:Class , sh:NodeShape ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype rdf:langString ;
                  sh:severity sh:Warning ] .
ex:Off a sh:NodeShape ; sh:targetNode ex:a ; sh:deactivated true ; sh:class ex:Nothing .
"""
OTHER_DATA = """
@prefix ex: <urn:x-test:> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Sub rdfs:subClassOf ex:C .
ex:a ex:p 5 , "abcd" , 12 ; ex:lo 3 ; ex:hi 2 ; ex:q 5 .
ex:b a ex:Bad ; ex:p 0 .
ex:c ex:r ex:d . ex:e ex:r ex:d , ex:f . ex:g ex:r "lit" .
ex:x a ex:Sub ; ex:name "plain" . ex:y a ex:C ; ex:name "n"@zh . ex:z a ex:C .
"""


def test_the_other_components_and_targets_match_pyshacl() -> None:
    """Components and targets the compiler implements beyond shapes.ttl's, against pyshacl:
    sh:maxLength, sh:minExclusive, sh:maxExclusive, sh:lessThan, sh:disjoint, sh:not, sh:and,
    node, subjects-of, objects-of and implicit class targets, rdf:langString, sh:Warning and
    sh:deactivated."""
    from pyshacl import validate as pyshacl_validate

    shapes = Graph().parse(data=OTHER_SHAPES, format="turtle")
    data = Graph().parse(data=OTHER_DATA, format="turtle")
    _, report, _ = pyshacl_validate(data, shacl_graph=shapes, inference="none", advanced=True)
    theirs = {
        tuple(report.value(r, p) for p in (SH.focusNode, SH.resultPath, SH.sourceShape,
              SH.sourceConstraintComponent, SH.resultSeverity))
        for r in report.objects(None, SH.result)
    }  # fmt: skip
    store = ox.Store()
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)  # type: ignore[arg-type]
    mine = {v.key() for v in shacl_sparql.compile_shapes(shapes).validate(store)}
    assert mine == theirs
    components = {k[3] for k in mine}
    assert {SH.MaxLengthConstraintComponent, SH.MinExclusiveConstraintComponent,
            SH.MaxExclusiveConstraintComponent, SH.LessThanConstraintComponent,
            SH.DisjointConstraintComponent, SH.NotConstraintComponent,
            SH.AndConstraintComponent, SH.NodeKindConstraintComponent,
            SH.DatatypeConstraintComponent, SH.MinCountConstraintComponent} <= components  # fmt: skip
    assert {k[4] for k in mine} == {SH.Violation, SH.Warning}
