"""Records → RDF on the real seed: declared terms, stable URIs, literals equal in both engines."""

from __future__ import annotations

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic, to_isomorphic
from rdflib.namespace import OWL

import ontology
from kg import mapping
from kg.namespaces import IKG, ORGANISATIONS_GRAPH, sparql_prefixes
from kg.store import GraphStore
from kg.unmapping import TableNotInGraph, parsed_from_graph


def seed_graph(parsed) -> Graph:
    return mapping.to_graph(
        parsed, reader="pdf-text", sha256="0" * 64
    ) + mapping.organisations_graph(parsed)


def test_every_emitted_term_is_declared(seed_parsed):
    onto = Graph().parse(ontology.path("indicators.ttl"))
    declared = {s for s in onto.subjects(RDF.type, None) if isinstance(s, URIRef)}
    g = seed_graph(seed_parsed)
    used = {p for p in g.predicates() if str(p).startswith(str(IKG))}
    used |= {o for o in g.objects(None, RDF.type) if str(o).startswith(str(IKG))}
    assert used, "nothing emitted?"
    assert used - declared == set()
    for term in used:
        kinds = set(onto.objects(term, RDF.type))
        assert kinds & {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}, term


def test_same_input_same_uris(seed_parsed):
    a, b = seed_graph(seed_parsed), seed_graph(seed_parsed.model_copy(deep=True))
    assert set(a) == set(b)  # no blank nodes: equal as sets, not only isomorphic
    assert not any(isinstance(t, type(None)) for t in a.all_nodes())


def test_uris_do_not_shift_when_a_row_is_inserted(seed_parsed):
    before = {str(s) for s in seed_graph(seed_parsed).subjects(RDF.type, IKG.Indicator)}
    changed = seed_parsed.model_copy(deep=True)
    extra = changed.indicators[0].model_copy(deep=True)
    extra.name = "新增指标"
    changed.indicators.insert(0, extra)
    after = {str(s) for s in seed_graph(changed).subjects(RDF.type, IKG.Indicator)}
    assert before < after and len(after - before) == 1


def test_serialise_and_parse_back(seed_parsed):
    g = seed_graph(seed_parsed)
    back = Graph().parse(data=g.serialize(format="nt"), format="nt")
    assert isomorphic(g, back)
    assert to_isomorphic(g) == to_isomorphic(back)
    # Turtle writes the decimal 6 as 6.0: equal in value, so compare values
    ttl = Graph().parse(data=g.serialize(format="turtle"), format="turtle")
    values = {(s, p, o.toPython()) for s, p, o in g}
    assert {(s, p, o.toPython()) for s, p, o in ttl} == values


def test_counts_in_graph(seed_parsed):
    g = seed_graph(seed_parsed)
    assert len(set(g.subjects(RDF.type, IKG.Indicator))) == 166
    assert len(set(g.subjects(RDF.type, IKG.Task))) == 13
    assert len(set(g.subjects(RDF.type, IKG.Goal))) == 4
    assert len(set(g.subjects(RDF.type, IKG.CategoryNotApplicable))) == 2
    assert len(set(g.subjects(RDF.type, IKG.UnitEntry))) == 2


EXACT = 'SELECT ?raw WHERE { ?i ikg:name "预算执行率" ; ikg:target ?t . ?t ikg:rawText ?raw ; ikg:comparison ">=" }'


def test_exact_match_query_in_rdflib_and_pyoxigraph(seed_parsed):
    """The oxrdflib trap: plain vs xsd:string literals. Both engines must find the same."""
    g = seed_graph(seed_parsed)
    in_rdflib = [row[0] for row in g.query(sparql_prefixes() + EXACT)]
    assert in_rdflib == [Literal("≥90%")]

    store = GraphStore(None)
    store.replace_graph(
        mapping.table_uri(seed_parsed),
        mapping.to_graph(seed_parsed),
        mapping.organisations_graph(seed_parsed),
    )
    _, rows = store.select(EXACT)
    assert [r[0] for r in rows] == in_rdflib
    # and back out of the store, the table graph is the same set of triples as rdflib built
    assert set(store.graph(mapping.table_uri(seed_parsed))) == set(mapping.to_graph(seed_parsed))
    assert set(store.graph(ORGANISATIONS_GRAPH)) == set(mapping.organisations_graph(seed_parsed))


def test_self_evaluation_attributes_map_and_validate(seed_parsed):
    """Target and outcome side by side: actual value, weight, score, deviation, ★, code."""
    from decimal import Decimal

    from kg import validate
    from kg.targets import parse_target

    t = seed_parsed.model_copy(deep=True)
    t.table.self_evaluation = True
    t.table.project_name = "测试项目"
    ind = next(i for i in t.indicators if i.name == "预算执行率")
    ind.actual, ind.actual_parsed = "87.5%", parse_target("87.5%")
    ind.weight, ind.score, ind.deviation = Decimal("10"), Decimal("8.5"), "部分项目延期支付"
    ind.core, ind.code = True, "指标1"
    g = seed_graph(t)
    ok, report = validate.conforms(g)
    assert ok, report
    q = """SELECT ?target ?actual ?low ?w ?s ?why ?code ?core WHERE {
      ?i ikg:name "预算执行率" ; ikg:target/ikg:rawText ?target ; ikg:actual ?a ; ikg:weight ?w ;
         ikg:score ?s ; ikg:deviationReason ?why ; ikg:indicatorCode ?code ; ikg:isCoreIndicator ?core .
      ?a ikg:rawText ?actual ; ikg:lowerBound ?low .
      ?table ikg:isSelfEvaluation true ; ikg:projectName "测试项目" .
    }"""
    rows = [[v.toPython() for v in r] for r in g.query(sparql_prefixes() + q)]
    assert rows == [
        [
            "≥90%",
            "87.5%",
            Decimal("87.5"),
            Decimal("10"),
            Decimal("8.5"),
            "部分项目延期支付",
            "指标1",
            True,
        ]
    ]


def test_records_read_back_from_the_graph(seed_parsed):
    """kg.unmapping is the inverse of the mapping for what the graph stores: the seed's table
    facts, tasks, totals, goals and indicators (target, actual, sources) come back equal."""
    g = mapping.to_graph(seed_parsed, reader="pdf-text", sha256="0" * 64)
    table_uri = str(next(g.subjects(RDF.type, IKG.TargetTable)))
    back = parsed_from_graph(g, table_uri, seed_parsed.table.department)
    assert back.table == seed_parsed.table
    assert back.goals == seed_parsed.goals
    assert back.totals == seed_parsed.totals
    assert [(t.name, t.total, t.source) for t in back.tasks] == [
        (t.name, t.total, t.source) for t in seed_parsed.tasks
    ]
    assert len(back.indicators) == len(seed_parsed.indicators) == 166
    for got, want in zip(back.indicators, seed_parsed.indicators, strict=True):
        assert (got.name, got.level1, got.level2, got.target, got.source) == (
            want.name,
            want.level1,
            want.level2,
            want.target,
            want.source,
        )
        assert got.target_parsed == want.target_parsed
    try:
        parsed_from_graph(g, table_uri + "-other")
    except TableNotInGraph as exc:
        assert "-other" in str(exc)
    else:
        raise AssertionError("a URI the graph does not hold was read")
