"""The HTTP API: /sparql (SPARQL 1.1 Protocol), /healthz, /, errors and limits.

A small graph in the ikg vocabulary (three named graphs: two tables and the ontology) is
loaded into an in-memory pyoxigraph Store and served through ``create_app``. Answers are
parsed back (SPARQL JSON / XML / CSV / TSV, Turtle and friends into rdflib) and compared on
meaning.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from api.app import StoreNotFound, create_app
from api.server import request_once
from kg.namespaces import DATA, IKG, ONTOLOGY_GRAPH
from kg.settings import Settings
from kg.sparql_guard import ForbiddenOperation, SparqlSyntaxError
from kg.sparql_guard import check as check_sparql

pytestmark = pytest.mark.filterwarnings("ignore:Dataset.contexts is deprecated:DeprecationWarning")

SRX = "{http://www.w3.org/2005/sparql-results#}"
XSD_INTEGER = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#integer")
SPARQL_JSON = "application/sparql-results+json"
TOKEN = "s3cret-token"

T1 = DATA["graph/table/t1"]
T2 = DATA["graph/table/t2"]

# (graph, indicator id, name, target value, unit)
INDICATORS = [
    (T1, "t1-1", "预算执行率", "≥90%", "%"),
    (T1, "t1-2", "群众满意度", "≥95%", "%"),
    (T1, "t1-3", "档案整理数量", "2700", "卷"),
    (T1, "t1-4", "按时完成率", "100%", "%"),
    (T2, "t2-1", "预算执行率", "≥85%", "%"),
    (T2, "t2-2", "服务对象满意度", "较好", None),
    (T2, "t2-3", "培训人次", "＞100", "人次"),
]


def _dataset() -> rdflib.Dataset:
    ds = rdflib.Dataset()
    onto = ds.graph(rdflib.URIRef(str(ONTOLOGY_GRAPH)))
    onto.add((IKG.Indicator, RDF.type, OWL.Class))
    onto.add((IKG.Indicator, RDFS.label, rdflib.Literal("绩效指标", lang="zh")))
    onto.add((IKG.name, RDF.type, OWL.DatatypeProperty))
    onto.add((IKG.targetValue, RDF.type, OWL.DatatypeProperty))
    for graph, ident, name, value, unit in INDICATORS:
        g = ds.graph(rdflib.URIRef(str(graph)))
        ind = DATA[f"indicator/{ident}"]
        table = DATA[f"table/{ident.split('-')[0]}"]
        g.add((ind, RDF.type, IKG.Indicator))
        g.add((ind, IKG.name, rdflib.Literal(name)))
        g.add((ind, IKG.targetValue, rdflib.Literal(value)))
        g.add((ind, IKG.inTable, table))
        if unit:
            g.add((ind, IKG.unit, rdflib.Literal(unit)))
        if value.isdigit():
            g.add((ind, IKG.targetNumber, rdflib.Literal(int(value), datatype=XSD_INTEGER)))
    return ds


def _store() -> ox.Store:
    store = ox.Store()
    data = _dataset().serialize(format="nquads").encode()
    store.load(data, format=ox.RdfFormat.N_QUADS)
    return store


def _settings(**kw: object) -> Settings:
    return Settings(data_dir=Path("/nonexistent-ikg-test"), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api_store() -> ox.Store:
    return _store()


@pytest.fixture(scope="module")
def api_client(api_store: ox.Store) -> TestClient:
    return TestClient(create_app(_settings(), store=api_store))


def _client(**kw: object) -> TestClient:
    return TestClient(create_app(_settings(**kw), store=_store()))


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def bindings(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == SPARQL_JSON
    doc = response.json()
    return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]


NAMES_QUERY = "SELECT ?i ?name WHERE { ?i a ikg:Indicator ; ikg:name ?name } ORDER BY ?i"
EXACT_QUERY = 'SELECT ?i WHERE { ?i ikg:name "预算执行率" } ORDER BY ?i'
ALL_NAMES = {(str(DATA[f"indicator/{i}"]), n) for _, i, n, _, _ in INDICATORS}


# --- query forms and transports ---------------------------------------------------------


def test_get_exact_match_on_chinese_literal(api_client: TestClient) -> None:
    rows = bindings(api_client.get("/sparql", params={"query": EXACT_QUERY}))
    assert rows == [{"i": str(DATA["indicator/t1-1"])}, {"i": str(DATA["indicator/t2-1"])}]


def test_default_graph_is_union_of_named_graphs(api_client: TestClient) -> None:
    rows = bindings(api_client.get("/sparql", params={"query": NAMES_QUERY}))
    assert {(r["i"], r["name"]) for r in rows} == ALL_NAMES
    # the ontology graph is part of the union too
    label = bindings(
        api_client.get("/sparql", params={"query": "SELECT ?l { ikg:Indicator rdfs:label ?l }"})
    )
    assert label == [{"l": "绩效指标"}]


def test_post_form_and_direct_give_the_same_answer(api_client: TestClient) -> None:
    by_get = bindings(api_client.get("/sparql", params={"query": EXACT_QUERY}))
    by_form = bindings(api_client.post("/sparql", data={"query": EXACT_QUERY}))
    by_direct = bindings(
        api_client.post(
            "/sparql",
            content=EXACT_QUERY.encode(),
            headers={"Content-Type": "application/sparql-query"},
        )
    )
    by_slash = bindings(api_client.get("/sparql/", params={"query": EXACT_QUERY}))
    assert by_get == by_form == by_direct == by_slash
    assert len(by_get) == 2


@pytest.mark.parametrize("transport", ["get", "form", "direct", "raw-utf8-form"])
def test_percent_signs_are_decoded_once(api_client: TestClient, transport: str) -> None:
    query = 'SELECT ?x WHERE { BIND("%2B%25 +≥90%" AS ?x) }'
    if transport == "get":
        r = api_client.get("/sparql?query=" + quote(query, safe=""))
    elif transport == "form":
        r = api_client.post(
            "/sparql",
            content=("query=" + quote(query, safe="")).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    elif transport == "raw-utf8-form":  # '+' for spaces and raw UTF-8 bytes, as some clients send
        body = "query=" + query.replace("%", "%25").replace("+", "%2B").replace(" ", "+")
        r = api_client.post(
            "/sparql",
            content=body.encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        )
    else:
        r = api_client.post(
            "/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"}
        )
    assert bindings(r) == [{"x": "%2B%25 +≥90%"}]


def test_dataset_parameters(api_client: TestClient) -> None:
    r = api_client.get("/sparql", params={"query": EXACT_QUERY, "default-graph-uri": str(T1)})
    assert bindings(r) == [{"i": str(DATA["indicator/t1-1"])}]
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = api_client.get("/sparql", params={"query": q, "named-graph-uri": [str(T2)]})
    assert bindings(r) == [{"g": str(T2)}]
    # two default graphs are merged
    r = api_client.post(
        f"/sparql?default-graph-uri={quote(str(T1))}&default-graph-uri={quote(str(T2))}",
        content=EXACT_QUERY,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert len(bindings(r)) == 2
    # without a dataset the store's named graphs are all visible
    r = api_client.get("/sparql", params={"query": q})
    assert {b["g"] for b in bindings(r)} == {str(T1), str(T2), str(ONTOLOGY_GRAPH)}


def test_ask(api_client: TestClient) -> None:
    r = api_client.get("/sparql", params={"query": 'ASK { ?i ikg:name "群众满意度" }'})
    assert r.headers["content-type"] == SPARQL_JSON
    assert r.json() == {"head": {}, "boolean": True}
    r = api_client.get(
        "/sparql",
        params={"query": 'ASK { ?i ikg:name "不存在的指标" }'},
        headers={"Accept": "application/sparql-results+xml"},
    )
    root = ET.fromstring(r.content)
    assert root.find(f"{SRX}boolean").text == "false"


def test_typed_and_language_literals_in_json(api_client: TestClient) -> None:
    q = (
        "SELECT ?n ?l ?u WHERE { ?i ikg:targetNumber ?n . ikg:Indicator rdfs:label ?l "
        "OPTIONAL { ?i ikg:nothing ?u } }"
    )
    doc = api_client.get("/sparql", params={"query": q}).json()
    assert doc["head"]["vars"] == ["n", "l", "u"]
    (b,) = doc["results"]["bindings"]
    assert b["n"] == {"type": "literal", "value": "2700", "datatype": str(XSD_INTEGER)}
    assert b["l"] == {"type": "literal", "value": "绩效指标", "xml:lang": "zh"}
    assert "u" not in b  # unbound


# --- content negotiation ------------------------------------------------------------------


def _xml_bindings(content: bytes) -> list[dict[str, str]]:
    root = ET.fromstring(content)
    out = []
    for result in root.iter(f"{SRX}result"):
        row = {}
        for binding in result.findall(f"{SRX}binding"):
            row[binding.get("name")] = "".join(binding.itertext())
        out.append(row)
    return out


def test_select_as_xml_csv_tsv(api_client: TestClient) -> None:
    expected = sorted(ALL_NAMES)
    r = api_client.get(
        "/sparql",
        params={"query": NAMES_QUERY},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert r.headers["content-type"].startswith("application/sparql-results+xml")
    assert [(b["i"], b["name"]) for b in _xml_bindings(r.content)] == expected

    r = api_client.get("/sparql", params={"query": NAMES_QUERY}, headers={"Accept": "text/csv"})
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows[0] == ["i", "name"]
    assert [tuple(row) for row in rows[1:]] == expected

    r = api_client.get(
        "/sparql", params={"query": NAMES_QUERY}, headers={"Accept": "text/tab-separated-values"}
    )
    assert r.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    lines = r.content.decode("utf-8").splitlines()
    assert lines[0] == "?i\t?name"
    assert [tuple(line.split("\t")) for line in lines[1:]] == [
        (f"<{i}>", f'"{n}"') for i, n in expected
    ]
    # TSV parses back to the same solutions
    parsed = ox.parse_query_results(r.content, ox.QueryResultsFormat.TSV)
    assert [(s["i"].value, s["name"].value) for s in parsed] == expected


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, SPARQL_JSON),
        ("*/*", SPARQL_JSON),
        ("text/html,application/xhtml+xml,*/*;q=0.8", SPARQL_JSON),
        ("application/json", "application/json"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*;q=0.9, application/sparql-results+json;q=0.1", "text/csv"),
        ("text/tab-separated-values, text/csv;q=0.99", "text/tab-separated-values"),
        ("application/sparql-results+json;q=0, */*;q=0.5", "application/sparql-results+xml"),
    ],
)
def test_accept_with_q_values(api_client: TestClient, accept: str | None, media: str) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    r = api_client.get("/sparql", params={"query": EXACT_QUERY}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media
    assert r.headers["vary"] == "Accept"


def test_format_parameter_overrides_accept(api_client: TestClient) -> None:
    r = api_client.get(
        "/sparql", params={"query": EXACT_QUERY, "format": "tsv"}, headers={"Accept": SPARQL_JSON}
    )
    assert r.headers["content-type"].startswith("text/tab-separated-values")
    r = api_client.post("/sparql", data={"query": EXACT_QUERY, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    r = api_client.get("/sparql", params={"query": EXACT_QUERY, "format": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv")


def test_not_acceptable_lists_what_is_offered(api_client: TestClient) -> None:
    r = api_client.get("/sparql", params={"query": EXACT_QUERY}, headers={"Accept": "image/png"})
    body = assert_error(r, 406, "not_acceptable")
    for media in ("application/sparql-results+json", "text/csv", "text/turtle"):
        assert media in body["detail"]
    # CSV is not a boolean format (SPARQL 1.1 CSV/TSV results cover SELECT only)
    r = api_client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/csv"})
    body = assert_error(r, 406, "not_acceptable")
    assert "application/sparql-results+json" in body["detail"]
    # a tabular format asked for a graph result
    r = api_client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "csv"})
    assert_error(r, 406, "not_acceptable")
    r = api_client.get("/sparql", params={"query": EXACT_QUERY, "format": "yaml"})
    assert_error(r, 400, "bad_request")


CONSTRUCT_QUERY = """CONSTRUCT { ?i ikg:name ?n ; ikg:targetValue ?v }
WHERE { ?i ikg:name ?n ; ikg:targetValue ?v FILTER(?n = "预算执行率") }"""


def _expected_construct() -> rdflib.Graph:
    g = rdflib.Graph()
    for _, ident, name, value, _ in INDICATORS:
        if name == "预算执行率":
            ind = DATA[f"indicator/{ident}"]
            g.add((ind, IKG.name, rdflib.Literal(name)))
            g.add((ind, IKG.targetValue, rdflib.Literal(value)))
    return g


@pytest.mark.parametrize(
    ("accept", "media", "parser"),
    [
        (None, "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
    ],
)
def test_construct_formats(
    api_client: TestClient, accept: str | None, media: str, parser: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    r = api_client.get("/sparql", params={"query": CONSTRUCT_QUERY}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    got = rdflib.Graph().parse(data=r.content, format=parser)
    assert isomorphic(got, _expected_construct())


def test_turtle_uses_prefixes_only_when_used(api_client: TestClient) -> None:
    r = api_client.get("/sparql", params={"query": CONSTRUCT_QUERY})
    text = r.text
    assert "@prefix ikg:" in text and "@prefix data:" in text
    assert "@prefix prov:" not in text
    assert "预算执行率" in text  # UTF-8, not \u escapes


def test_describe(api_client: TestClient) -> None:
    iri = DATA["indicator/t1-3"]
    r = api_client.get("/sparql", params={"query": f"DESCRIBE <{iri}>", "format": "nt"})
    g = rdflib.Graph().parse(data=r.content, format="nt")
    assert (iri, IKG.name, rdflib.Literal("档案整理数量")) in g
    assert (iri, IKG.targetNumber, rdflib.Literal(2700)) in g
    assert set(g.subjects()) == {iri}


# --- bad requests: one error shape ----------------------------------------------------------


def test_malformed_query_gives_parser_message(api_client: TestClient) -> None:
    body = assert_error(
        api_client.get("/sparql", params={"query": "SELECT ?x WHERE {"}), 400, "malformed_query"
    )
    assert "error at 1:" in body["detail"]


@pytest.mark.parametrize(
    ("method", "url", "headers", "content", "status", "code"),
    [
        ("GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", {}, None, 400, "bad_request"),
        ("GET", "/sparql", {}, None, 400, "bad_request"),
        ("GET", "/sparql?query=", {}, None, 400, "bad_request"),
        ("GET", "/sparql?query=%20%0A", {}, None, 400, "bad_request"),
        ("GET", "/sparql?update=CLEAR%20ALL", {}, None, 400, "bad_request"),
        ("GET", "/sparql?query=%FF%FE", {}, None, 400, "bad_request"),
        (
            "GET",
            "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri",
            {},
            None,
            400,
            "bad_request",
        ),
        (
            "POST",
            "/sparql",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"query=ASK%7B%7D&update=CLEAR%20ALL",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/sparql?query=ASK%7B%7D",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"query=ASK%7B%7D",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/sparql?query=ASK%7B%7D",
            {"Content-Type": "application/sparql-query"},
            b"ASK {}",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/sparql",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"format=json",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/sparql",
            {"Content-Type": "text/plain"},
            b"ASK {}",
            415,
            "unsupported_media_type",
        ),
        ("POST", "/sparql", {}, b"query=ASK%7B%7D", 415, "unsupported_media_type"),
        (
            "POST",
            "/sparql",
            {"Content-Type": "application/sparql-query; charset=UTF-16"},
            "ASK {}".encode("utf-16"),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/sparql",
            {"Content-Type": "application/sparql-query"},
            b"ASK { \xff }",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/sparql",
            {"Content-Type": "application/sparql-query"},
            b"ASK {} # " + b"x" * 1_000_001,
            413,
            "payload_too_large",
        ),
        ("PUT", "/sparql?query=ASK%7B%7D", {}, None, 405, "method_not_allowed"),
        ("DELETE", "/sparql", {}, None, 405, "method_not_allowed"),
        ("GET", "/no-such-page", {}, None, 404, "not_found"),
    ],
    ids=[
        "two-queries",
        "missing-query",
        "empty-query",
        "blank-query",
        "get-update",
        "non-utf8-param",
        "bad-graph-iri",
        "query-and-update",
        "query-in-url-and-form",
        "query-in-url-and-body",
        "form-without-query",
        "text-plain",
        "no-content-type",
        "utf16",
        "invalid-utf8-body",
        "too-large",
        "put",
        "delete",
        "404",
    ],
)
def test_bad_requests(
    api_client: TestClient,
    method: str,
    url: str,
    headers: dict,
    content: bytes | None,
    status: int,
    code: str,
) -> None:
    r = api_client.request(method, url, headers=headers, content=content)
    assert_error(r, status, code)
    if status == 405:
        assert r.headers["allow"] == "GET, POST"


def test_validation_errors_use_the_error_shape() -> None:
    app = create_app(_settings(), store=_store())

    @app.get("/_probe/{n}")
    def probe(n: int) -> dict[str, int]:
        return {"n": n}

    body = assert_error(TestClient(app).get("/_probe/abc"), 422, "validation_error")
    assert "n" in body["detail"]


# --- SERVICE ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o .SERVICE<http://127.0.0.1:9/>{?a ?b ?c} }",
        "SELECT * WHERE { ?s ?p ?x.SERVICE <http://127.0.0.1:9/> {?a ?b ?c} }",
        "SELECT * WHERE { ?s ?p 1SERVICE <http://127.0.0.1:9/> {?a ?b ?c} }",
        "SELECT * WHERE { ?s ?p '''x'''SERVICE <http://127.0.0.1:9/> {?a ?b ?c} }",
        "PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:x {?a ?b ?c} }",
        "PREFIX ex: <http://127.0.0.1:9/> SELECT * WHERE { serviceex:x {?a ?b ?c} }",
        "SELECT * WHERE { <http://x/#a> ?p ?o # c\n SERVICE <http://127.0.0.1:9/> {?a ?b ?c} }",
        'SELECT * WHERE { ?s ?p "a\\"#" SERVICE <http://127.0.0.1:9/> {?a ?b ?c} }',
        "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://127.0.0.1:9/> {?a ?b ?c} } }",
    ],
)
def test_service_is_refused(api_client: TestClient, query: str) -> None:
    # the parse decides: oxigraph reads '1SERVICE' and 'serviceex:x' as SERVICE too, rdflib's
    # stricter grammar does not parse them: refused as malformed. Either way nothing is
    # evaluated (tests/test_sparql_security.py)
    for r in (
        api_client.get("/sparql", params={"query": query}),
        api_client.post("/sparql", data={"query": query}),
    ):
        assert r.status_code == 400, r.text
        assert r.json()["error"] in ("service_not_allowed", "malformed_query"), r.text
        if r.json()["error"] == "malformed_query":
            with pytest.raises(SparqlSyntaxError):
                check_sparql(query)
        else:
            with pytest.raises(ForbiddenOperation):
                check_sparql(query)


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?service WHERE { ?service ikg:name "SERVICE" }',
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:9/> { }",
        "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:publicService ?o }",
        "SELECT * WHERE { ?s ?p '''\nSERVICE <http://127.0.0.1:9/> {}\n''' }",
        'SELECT * WHERE { ?s ?p "#" } LIMIT 1',
    ],
)
def test_service_word_elsewhere_is_allowed(api_client: TestClient, query: str) -> None:
    check_sparql(query)  # the parse finds no SERVICE
    assert api_client.get("/sparql", params={"query": query}).status_code == 200


# --- limits ------------------------------------------------------------------------------------


def test_truncation_at_max_rows() -> None:
    client = _client(sparql_max_rows=3)
    r = client.get("/sparql", params={"query": NAMES_QUERY})
    assert r.headers["x-ikg-truncated"] == "true"
    assert r.headers["x-ikg-max-rows"] == "3"
    assert len(bindings(r)) == 3
    r = client.get("/sparql", params={"query": NAMES_QUERY, "format": "csv"})
    assert r.headers["x-ikg-truncated"] == "true"
    assert len(r.text.splitlines()) == 4
    r = client.get(
        "/sparql", params={"query": "CONSTRUCT WHERE { ?s ikg:name ?n }", "format": "nt"}
    )
    assert r.headers["x-ikg-truncated"] == "true"
    assert len(rdflib.Graph().parse(data=r.content, format="nt")) == 3
    # exactly max_rows rows is not truncated
    r = client.get("/sparql", params={"query": NAMES_QUERY + " LIMIT 3"})
    assert r.headers["x-ikg-truncated"] == "false"
    assert "x-ikg-max-rows" not in r.headers
    assert len(bindings(r)) == 3


def _big_store(n: int) -> ox.Store:
    store = ox.Store()
    p = ox.NamedNode(str(IKG.name))
    g = ox.NamedNode(str(T1))
    store.extend(
        ox.Quad(ox.NamedNode(f"{DATA}indicator/big{i}"), p, ox.Literal(f"指标{i}"), g)
        for i in range(n)
    )
    return store


def test_timeout_while_streaming_rows() -> None:
    """A cross product yields rows fast; the deadline is hit between rows -> 504."""
    settings = _settings(sparql_timeout_s=0.2, sparql_max_rows=10_000_000)
    client = TestClient(create_app(settings, store=_big_store(2000)))
    start = time.monotonic()
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?a ?p ?x . ?b ?p ?y }"})
    elapsed = time.monotonic() - start
    body = assert_error(r, 504, "query_timeout")
    assert "查询超时" in body["detail"] and "0.2 s" in body["detail"]
    assert elapsed < 5


def test_timeout_before_first_row_abandons_the_query() -> None:
    """COUNT over a cross product yields nothing until done: the router gives up at the deadline."""
    settings = _settings(sparql_timeout_s=0.1)
    client = TestClient(create_app(settings, store=_big_store(3000)))  # ~9M pairs: seconds
    start = time.monotonic()
    r = client.get(
        "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?p ?y }"}
    )
    elapsed = time.monotonic() - start
    assert_error(r, 504, "query_timeout")
    assert elapsed < 1.0, elapsed


def test_slow_query_does_not_block_other_requests() -> None:
    settings = _settings(sparql_timeout_s=5)
    app = create_app(settings, store=_big_store(1500))

    async def scenario() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            t0 = time.monotonic()

            async def slow() -> float:
                r = await client.get(
                    "/sparql",
                    params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?p ?y }"},
                )
                assert r.status_code == 200
                assert r.json()["results"]["bindings"][0]["n"]["value"] == str(1500 * 1500)
                return time.monotonic() - t0

            async def quick() -> float:
                await asyncio.sleep(0.05)
                r = await client.get("/healthz")
                assert r.status_code == 200
                return time.monotonic() - t0

            slow_t, quick_t = await asyncio.gather(slow(), quick())
            return slow_t, quick_t

    slow_t, quick_t = asyncio.run(scenario())
    assert quick_t < slow_t


# --- updates -------------------------------------------------------------------------------------

INSERT = 'INSERT DATA { GRAPH data:graph\\/notes { data:indicator\\/t1-1 ikg:note "已复核" } }'
ASK_NOTE = 'ASK { ?i ikg:note "已复核" }'


@pytest.mark.parametrize("transport", ["form", "direct"])
def test_update_forbidden_by_default(api_client: TestClient, transport: str) -> None:
    if transport == "form":
        r = api_client.post("/sparql", data={"update": INSERT})
    else:
        r = api_client.post(
            "/sparql", content=INSERT, headers={"Content-Type": "application/sparql-update"}
        )
    body = assert_error(r, 403, "update_forbidden")
    assert "禁用" in body["detail"]
    assert api_client.get("/sparql", params={"query": ASK_NOTE}).json()["boolean"] is False


def test_update_with_token_when_enabled() -> None:
    client = _client(sparql_allow_update=True, sparql_update_token=TOKEN)
    r = client.post("/sparql", data={"update": INSERT})
    assert_error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = client.post("/sparql", data={"update": INSERT}, headers={"Authorization": "Bearer wrong"})
    assert_error(r, 401, "unauthorized")
    r = client.post("/sparql", data={"update": INSERT}, headers={"Authorization": f"Basic {TOKEN}"})
    assert_error(r, 401, "unauthorized")

    r = client.post(
        "/sparql", data={"update": INSERT}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"
    assert client.get("/sparql", params={"query": ASK_NOTE}).json()["boolean"] is True

    r = client.post(
        "/sparql",
        # updates see the store's own default graph (not the union): name the graph
        content="DELETE WHERE { GRAPH ?g { ?i ikg:note ?n } }",
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 200
    assert client.get("/sparql", params={"query": ASK_NOTE}).json()["boolean"] is False

    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert_error(
        client.post("/sparql", data={"update": "CLEAR XYZ"}, headers=auth), 400, "malformed_query"
    )
    r = client.post("/sparql", data={"update": "LOAD <http://127.0.0.1:9/x.ttl>"}, headers=auth)
    assert_error(r, 400, "service_not_allowed")
    r = client.post(
        "/sparql",
        data={"update": "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},
        headers=auth,
    )
    assert_error(r, 400, "service_not_allowed")


# --- health, home page, OpenAPI -----------------------------------------------------------------


def test_healthz(api_client: TestClient, api_store: ox.Store) -> None:
    r = api_client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "triples": len(api_store),
        "graphs": 3,
        "in_memory": False,
    }
    assert r.json()["triples"] == len(_dataset())


def test_home_page(api_client: TestClient) -> None:
    r = api_client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'lang="zh-CN"' in html
    for href in ('href="/docs"', 'href="/sparql"', 'href="/healthz"'):
        assert href in html
    assert 'action="/sparql"' in html and 'method="post"' in html and 'name="query"' in html
    assert "<script" not in html and "<link" not in html  # no CDN, inline CSS only
    # the form's example query runs
    r = api_client.post(
        "/sparql",
        data={
            "query": html.split('name="query" rows="8">')[1]
            .split("</textarea>")[0]
            .replace("&quot;", '"')
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        },
    )
    assert {b["name"] for b in bindings(r)} == {"预算执行率"}


def test_openapi(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    assert set(spec["paths"]["/sparql"]) == {"get", "post"}
    assert "/sparql/" not in spec["paths"]
    assert "预算执行率" in json.dumps(spec, ensure_ascii=False)
    schemas = spec["components"]["schemas"]
    assert {"ErrorResponse", "Health"} <= set(schemas)
    assert "404" not in spec["paths"]["/sparql"]["get"]["responses"]
    assert "504" in spec["paths"]["/sparql"]["get"]["responses"]


# --- the store on disk --------------------------------------------------------------------


def _disk_store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    store = ox.Store(str(path))
    store.extend(_store())
    store.flush()
    del store
    return path


def test_store_opened_read_only_from_path(tmp_path: Path) -> None:
    _disk_store(tmp_path)
    app = create_app(Settings(data_dir=tmp_path))
    assert app.state.store_read_only is True
    client = TestClient(app)
    assert len(bindings(client.get("/sparql", params={"query": EXACT_QUERY}))) == 2

    # another process (ikg build) can open the same store read-write meanwhile
    code = (
        "import pyoxigraph as ox, sys; s = ox.Store(sys.argv[1]); "
        "s.add(ox.Quad(ox.NamedNode('urn:x:a'), ox.NamedNode('urn:x:b'), ox.Literal('c'), "
        "ox.NamedNode('urn:x:g'))); s.flush(); print(len(s))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # the server keeps answering from the state it opened
    assert client.get("/healthz").json()["triples"] == len(_dataset())


def test_store_served_from_a_memory_copy(tmp_path: Path) -> None:
    """IKG_STORE_IN_MEMORY: small stores are copied into memory by default; the answers are
    the on-disk store's, and the copy is a snapshot (a later build needs a restart)."""
    _disk_store(tmp_path)
    answers = {}
    for mode, max_mb, expected in (
        ("auto", 512, True),
        ("auto", 0, False),
        ("yes", 0, True),
        ("no", 512, False),
    ):
        settings = Settings(data_dir=tmp_path, store_in_memory=mode, store_in_memory_max_mb=max_mb)
        app = create_app(settings)
        assert app.state.store_in_memory is expected, (mode, max_mb)
        assert isinstance(app.state.store, ox.Store)
        client = TestClient(app)
        health = client.get("/healthz").json()
        assert health["in_memory"] is expected
        assert health["triples"] == len(_dataset())
        r = client.get("/sparql", params={"query": EXACT_QUERY}, headers={"Accept": "text/csv"})
        answers[(mode, max_mb)] = sorted(r.text.splitlines())
    assert len({tuple(a) for a in answers.values()}) == 1 and len(answers["no", 512]) == 3

    # a copy in memory is a snapshot: a write to the store on disk is not in it
    app = create_app(Settings(data_dir=tmp_path, store_in_memory="yes"))
    store = ox.Store(str(tmp_path / "store"))
    store.add(
        ox.Quad(
            ox.NamedNode("urn:x:a"),
            ox.NamedNode("urn:x:b"),
            ox.Literal("c"),
            ox.NamedNode("urn:x:g"),
        )
    )
    store.flush()
    del store
    assert TestClient(app).get("/healthz").json()["triples"] == len(_dataset())

    # updates go to the store on disk, never to a copy
    settings = Settings(
        data_dir=tmp_path,
        store_in_memory="yes",
        sparql_allow_update=True,
        sparql_update_token="t0ken",
    )
    app = create_app(settings)
    assert app.state.store_in_memory is False and app.state.store_read_only is False
    del app


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound, match="ikg build"):
        create_app(Settings(data_dir=tmp_path / "nothing"))


def test_request_once_without_a_server(tmp_path: Path) -> None:
    _disk_store(tmp_path)
    status, headers, body = request_once(Settings(data_dir=tmp_path), "/healthz")
    assert status == 200
    assert json.loads(body)["graphs"] == 3
    status, headers, body = request_once(
        Settings(data_dir=tmp_path),
        "/sparql?query=" + quote(EXACT_QUERY),
        headers={"Accept": "text/csv"},
    )
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert body.decode().splitlines()[0] == "i"


def test_healthz_counts_a_read_only_store_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A read-only store is a snapshot: /healthz counts it once (a count walks every quad:
    minutes at 1M indicators on disk), with the same answer every time."""
    from api.routers import health

    _disk_store(tmp_path)
    calls = []
    real = health._count
    monkeypatch.setattr(health, "_count", lambda s: calls.append(1) or real(s))
    client = TestClient(create_app(Settings(data_dir=tmp_path, store_in_memory="no")))
    answers = [client.get("/healthz").json() for _ in range(3)]
    assert answers[0]["triples"] == len(_dataset()) and answers.count(answers[0]) == 3
    assert len(calls) == 1
