"""The W3C SPARQL 1.1 Protocol tests, replayed against the app.

The manifest (../shared/w3c-sparql-protocol/manifest.ttl beside the checkout) describes each test as HTTP
requests in RDF (method, path under ``/sparql/``, headers, body) with the expected status
class, result format and boolean. This runner reads it with rdflib, loads the data files a
test names (``ut:graphData``: file + graph IRI) into a fresh store, sends each request
through TestClient (path prefix ``/sparql/`` replaced by our ``/sparql``) and checks the
answer. Test ids are the manifest's test names (``query_post_form`` …).

Two runs:

* ``test_w3c_protocol`` — the endpoint as deployed (updates disabled): every query test and
  every ``bad_*`` test must pass; the positive ``update_*`` tests are skipped (read-only).
* ``test_w3c_protocol_update_enabled`` — the update tests again with updates enabled and the
  bearer token sent; ``using-graph-uri`` / ``using-named-graph-uri`` are skipped there, since
  pyoxigraph cannot override an update's dataset.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pyoxigraph as ox
import pytest
import rdflib
from conftest import SHARED
from fastapi.testclient import TestClient
from rdflib.namespace import RDF, RDFS

from api.app import create_app
from kg.settings import Settings

W3C_DIR = SHARED / "w3c-sparql-protocol"
MANIFEST = W3C_DIR / "manifest.ttl"

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")

TOKEN = "w3c-test-token"
SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@dataclass
class W3CRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]  # acceptable status classes: 2, 3, 4 …
    expected_format: str | None
    expected_boolean: bool | None


@dataclass
class W3CTest:
    name: str  # local name in the manifest, e.g. query_post_form
    label: str  # mf:name
    graphs: list[tuple[Path, str]] = field(default_factory=list)  # (file, graph IRI)
    requests: list[W3CRequest] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return "update" in self.name  # update_*, bad_update_*, bad_multiple_updates

    @property
    def uses_update_dataset(self) -> bool:
        return any(
            "using-graph-uri" in r.path or "using-named-graph-uri" in r.path for r in self.requests
        )


def _load_manifest() -> list[W3CTest]:
    if not MANIFEST.is_file():
        return []
    g = rdflib.Graph()
    g.parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in rdflib.collection.Collection(g, g.value(manifest, MF.entries)):
        test = W3CTest(name=str(entry).rsplit("#", 1)[-1], label=str(g.value(entry, MF.name)))
        for data in g.objects(entry, UT.graphData):
            file_iri = g.value(data, UT.graph)
            test.graphs.append(
                (Path(url2pathname(urlparse(str(file_iri)).path)), str(g.value(data, RDFS.label)))
            )
        action = g.value(entry, MF.action)
        for req in rdflib.collection.Collection(g, g.value(action, HT.requests)):
            headers = {}
            header_list = g.value(req, HT.headers)
            if header_list is not None:
                for h in rdflib.collection.Collection(g, header_list):
                    headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body = None
            body_node = g.value(req, HT.body)
            if body_node is not None:
                encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(g.value(body_node, CNT.chars)).encode(encoding)
            resp = g.value(req, HT.resp)
            statuses = {
                int(str(s).rsplit("StatusCode", 1)[-1][0])
                for s in g.objects(resp, MF.expectedStatus)
            }
            fmt = g.value(resp, MF.expectedFormat)
            boolean = g.value(resp, MF.expectedBoolean)
            test.requests.append(
                W3CRequest(
                    method=str(g.value(req, HT.methodName)),
                    path=str(g.value(req, HT.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses=statuses,
                    expected_format=str(fmt) if fmt is not None else None,
                    expected_boolean=bool(boolean.toPython()) if boolean is not None else None,
                )
            )
        tests.append(test)
    return tests


TESTS = _load_manifest()
UPDATE_TESTS = [t for t in TESTS if t.is_update]


def _store_for(test: W3CTest) -> ox.Store:
    store = ox.Store()
    for path, graph in test.graphs:
        store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    return store


def _endpoint_path(path: str) -> str:
    assert path.startswith("/sparql/"), path
    return "/sparql" + path[len("/sparql/") :]


def _media(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _boolean_of(response) -> bool:
    media = _media(response)
    if media in (SPARQL_JSON, "application/json"):
        doc = json.loads(response.content)
        assert "boolean" in doc, doc
        return bool(doc["boolean"])
    if media in (SPARQL_XML, "application/xml", "text/xml"):
        root = ET.fromstring(response.content)
        node = root.find(f"{SRX}boolean")
        assert node is not None
        return node.text.strip() == "true"
    raise AssertionError(f"not a boolean result format: {media}")


def _check_tabular(response) -> None:
    media = _media(response)
    if media in (SPARQL_JSON, "application/json"):
        doc = json.loads(response.content)
        assert "vars" in doc["head"] and "bindings" in doc["results"]
    elif media in (SPARQL_XML, "application/xml", "text/xml"):
        root = ET.fromstring(response.content)
        assert root.find(f"{SRX}results") is not None
    elif media in ("text/csv", "text/tab-separated-values"):
        rows = list(
            csv.reader(io.StringIO(response.text), delimiter="," if media == "text/csv" else "\t")
        )
        assert rows and rows[0]
    else:
        raise AssertionError(f"not a tabular result format: {media}")


_RDF_PARSERS = {
    "application/rdf+xml": "xml",
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "text/plain": "nt",
}


def _check_rdf(response) -> None:
    media = _media(response)
    assert media in _RDF_PARSERS, f"not an RDF format the test accepts: {media}"
    rdflib.Graph().parse(data=response.content, format=_RDF_PARSERS[media])


def _replay(client: TestClient, test: W3CTest, extra_headers: dict[str, str] | None = None) -> None:
    for i, req in enumerate(test.requests):
        headers = {**req.headers, **(extra_headers or {})}
        response = client.request(
            req.method, _endpoint_path(req.path), headers=headers, content=req.body
        )
        where = (
            f"{test.name} request {i + 1}: {req.method} {req.path} -> "
            f"{response.status_code} {response.text[:300]}"
        )
        assert response.status_code // 100 in req.statuses, where
        if response.status_code >= 400:
            # our error shape, for every refusal
            body = response.json()
            assert set(body) == {"error", "detail"}, where
        if req.expected_format == "boolean":
            assert _boolean_of(response) is not None, where
        elif req.expected_format == "tabular":
            _check_tabular(response)
        elif req.expected_format == "RDF":
            _check_rdf(response)
        if req.expected_boolean is not None:
            assert _boolean_of(response) is req.expected_boolean, where


def test_manifest_found() -> None:
    assert MANIFEST.is_file(), f"W3C protocol manifest not found at {MANIFEST}"
    assert len(TESTS) == 34
    assert len(UPDATE_TESTS) == 14
    names = [t.name for t in TESTS]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_w3c_protocol(test: W3CTest) -> None:
    if test.name.startswith("update_"):
        pytest.skip("read-only endpoint (IKG_SPARQL_ALLOW_UPDATE=false): update tests do not apply")
    client = TestClient(create_app(Settings(), store=_store_for(test)))
    _replay(client, test)


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=[t.name for t in UPDATE_TESTS])
def test_w3c_protocol_update_enabled(test: W3CTest) -> None:
    if test.uses_update_dataset and not test.name.startswith("bad_"):
        pytest.skip(
            "using-graph-uri / using-named-graph-uri: "
            "pyoxigraph cannot override an update's dataset"
        )
    settings = Settings(sparql_allow_update=True, sparql_update_token=TOKEN)
    client = TestClient(create_app(settings, store=_store_for(test)))
    _replay(client, test, {"Authorization": f"Bearer {TOKEN}"})
