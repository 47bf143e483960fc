"""Security of the SPARQL endpoint and of ``ikg query`` (docs/security.md).

* No ``SERVICE`` / ``LOAD`` gets evaluated, however it is written: the decision comes from
  the parse (kg.sparql_guard), and what the store runs is the text that was parsed. Checked
  against a real HTTP listener on 127.0.0.1 that records every hit, by hand-written bypass
  attempts and by a hypothesis fuzzer, both through the guard + pyoxigraph directly and
  through a real server process (which must stay up).
* Inputs that kill pyoxigraph (deep nesting, long chains) answer 400 quickly.
* A query past the time limit is killed with its process and frees its slot; a query whose
  process dies answers 500 ``query_crashed`` and the API goes on.
* ``FROM`` makes the dataset (a graph the store lacks contributes nothing).
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import api._execute
from api import _isolate
from api.app import create_app
from kg import sparql_guard
from kg.examples import example_queries
from kg.settings import Settings
from kg.sparql_guard import (
    QueryTooComplex,
    SparqlRefused,
    check,
)

ROOT = Path(__file__).resolve().parents[1]
EX = "http://example.org/"
G1 = EX + "g1"
G2 = EX + "g2"


# --- a listener that records every request it gets -------------------------------------------


class Listener:
    """HTTP on 127.0.0.1: answers every request with an empty SPARQL result, counts hits."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.hits.append(f"{self.command} {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.close_connection = True
                body = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    lis = Listener()
    yield lis
    lis.close()


def _quads() -> list[ox.Quad]:
    p = ox.NamedNode(EX + "p")
    return [
        ox.Quad(ox.NamedNode(EX + "a"), p, ox.Literal("in g1"), ox.NamedNode(G1)),
        ox.Quad(ox.NamedNode(EX + "b"), p, ox.Literal("in g2"), ox.NamedNode(G2)),
        ox.Quad(ox.NamedNode(EX + "c"), p, ox.Literal("default"), ox.DefaultGraph()),
    ]


def _store() -> ox.Store:
    store = ox.Store()
    store.extend(_quads())
    return store


def _settings(**kw: object) -> Settings:
    return Settings(data_dir=Path("/nonexistent-ikg-test"), **kw)  # type: ignore[arg-type]


def _client(**kw: object) -> TestClient:
    return TestClient(create_app(_settings(**kw), store=_store()))


@pytest.fixture(scope="module")
def client() -> TestClient:
    # network isolation off: what is tested here is the parse-based refusal itself
    return _client(sparql_isolate_network=False)


def _evaluate(store: ox.Store, text: str) -> None:
    """Run and read a query the way the endpoint would (union default graph)."""
    result = store.query(text, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryBoolean):
        return
    for _ in result:
        pass


def _guarded_run(store: ox.Store, text: str) -> str:
    """'refused' or 'ran': the guard's decision; when allowed, the checked text is evaluated."""
    try:
        checked = check(text)
    except SparqlRefused:
        return "refused"
    with contextlib.suppress(SyntaxError, OSError, RuntimeError, ValueError):
        _evaluate(store, checked.text)
    return "ran"


# --- hand-written bypass attempts ---------------------------------------------------------------


def _bypasses(url: str) -> list[str]:
    """Ways to write SERVICE <url> that a text scanner could miss."""
    escaped_url = url.replace("/", "\\u002f")
    return [
        # a '\' makes a lexer miss the IRI, then '#' looks like a comment
        f"SELECT * WHERE {{ BIND(<x:\\u0041#> AS ?q) SERVICE <{url}internal> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<x:\\u0041> AS ?q) SERVICE <{url}internal> {{ ?s ?p ?o }} }}",
        # a \u escape that becomes a quote for one parser and not the other
        f'SELECT * WHERE {{ ?s ?p "x\\u0022, " . SERVICE <{url}> {{ ?a ?b ?c }} #" }}',
        f"SELECT * WHERE {{ ?s ?p 'x\\u0027, ' . SERVICE <{url}> {{ ?a ?b ?c }} #' }}",
        # \r ends a comment for oxigraph, not for a '.*' regex
        f"SELECT * WHERE {{ ?s ?p ?o # note \r SERVICE <{url}> {{ ?a ?b ?c }} \n }}",
        f"SELECT * WHERE {{ ?s ?p ?o # note \\u000d SERVICE <{url}> {{ ?a ?b ?c }} \n }}",
        # escaped keyword and escaped IRI
        f"SELECT * WHERE {{ ?s ?p ?o . \\u0053ERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o . SERVIC\\u0045 <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o . \\U00000053ERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o . SERVICE <{escaped_url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o . SERVICE <{url}\\u0023x> {{ ?a ?b ?c }} }}",
        # case, SILENT, no spaces, comments inside the clause
        f"SELECT * WHERE {{ ?s ?p ?o . sErViCe SiLeNt <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT*WHERE{{?s ?p ?o.SERVICE<{url}>{{?a ?b ?c}}}}",
        f"SELECT * WHERE {{ ?s ?p ?o . SERVICE # c <\n <{url}> # c }}\n {{ ?a ?b ?c }} }}",
        # prefixed names, a variable bound to the IRI
        f"PREFIX lh: <{url}> SELECT * WHERE {{ ?s ?p ?o . SERVICE lh:x {{ ?a ?b ?c }} }}",
        f"PREFIX : <{url}> SELECT * WHERE {{ ?s ?p ?o . SERVICE:x {{ ?a ?b ?c }} }}",
        f"PREFIX lh: <{url}> SELECT * WHERE {{ ?s ?p ?o . SERVICE lh:\\#x {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ VALUES ?svc {{ <{url}> }} SERVICE ?svc {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ BIND(IRI('{url}') AS ?svc) SERVICE ?svc {{ ?a ?b ?c }} }}",
        # base IRI
        f"BASE <{url}> SELECT * WHERE {{ ?s ?p ?o . SERVICE <x> {{ ?a ?b ?c }} }}",
        # nested: sub-query, OPTIONAL, MINUS, EXISTS, NOT EXISTS, GRAPH, UNION, deep groups
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ ?s ?p ?o . SERVICE <{url}> {{ ?a ?b ?c }} }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{url}> {{ ?s ?b ?c }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER NOT EXISTS {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o . SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{{{{{ ?s ?p ?o . SERVICE <{url}> {{ ?a ?b ?c }} }}}}}}",
        f"ASK {{ ?s ?p ?o . SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o . SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"DESCRIBE ?s WHERE {{ ?s ?p ?o . SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT (EXISTS {{ SERVICE <{url}> {{ ?a ?b ?c }} }} AS ?x) WHERE {{ ?s ?p ?o }}",
        # strings, names and comments next to the keyword
        f"SELECT * WHERE {{ ?s ?p '''x'''SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f'SELECT * WHERE {{ ?s ?p "a\\"#" SERVICE <{url}> {{ ?a ?b ?c }} }}',
        f"SELECT * WHERE {{ ?s ?p ?x.SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p 1SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"PREFIX ex: <{url}> SELECT * WHERE {{ ?s ?p ?o . serviceex:x {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ <{EX}#a> ?p ?o # c\n SERVICE <{url}> {{ ?a ?b ?c }} }}",
        # unicode around it
        f"SELECT * WHERE {{ ?s ?p '指标' . SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"\ufeffSELECT * WHERE {{ ?s ?p ?o .\u3000SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o .\tSERVICE\t<{url}>\t{{ ?a ?b ?c }} }}",
    ]


def _ox_calls(store: ox.Store, listener: Listener, text: str) -> bool:
    """Whether pyoxigraph, given the raw text, would call the listener (test of the test)."""
    before = len(listener.hits)
    with contextlib.suppress(SyntaxError, OSError, RuntimeError, ValueError):
        _evaluate(store, text)
    return len(listener.hits) > before


def test_bypass_attempts_are_refused_or_harmless(listener: Listener) -> None:
    store = _store()
    queries = _bypasses(listener.url)
    effective = [q for q in queries if _ox_calls(store, listener, q)]
    # most of them really are SERVICE calls for pyoxigraph
    assert len(effective) >= len(queries) // 2, len(effective)
    listener.hits.clear()
    for q in queries:
        _guarded_run(store, q)
    assert listener.hits == []
    for q in effective:  # what oxigraph would have run as SERVICE is refused outright
        with pytest.raises(SparqlRefused):
            check(q)


@pytest.mark.slow  # all bypasses again via HTTP; the guard's own test stays fast
def test_bypass_attempts_through_the_api(client: TestClient, listener: Listener) -> None:
    listener.hits.clear()
    for q in _bypasses(listener.url):
        for r in (
            client.get("/sparql", params={"query": q}),
            client.post("/sparql", content=q, headers={"Content-Type": "application/sparql-query"}),
        ):
            assert r.status_code in (200, 400), (q, r.text)
            if r.status_code == 400:
                assert set(r.json()) == {"error", "detail"}
    assert listener.hits == []


def test_issue_probe_is_refused_as_service(client: TestClient, listener: Listener) -> None:
    q = f"SELECT * WHERE {{ BIND(<x:A#> AS ?q) SERVICE <{listener.url}internal> {{ ?s ?p ?o }} }}"
    r = client.get("/sparql", params={"query": q})
    assert r.status_code == 400 and r.json()["error"] == "service_not_allowed", r.text
    assert "SERVICE" in r.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?service WHERE { ?service ?p "SERVICE" }',
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:9/> { }",
        "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:publicService ?o }",
        "PREFIX service: <http://example.org/> SELECT * WHERE { ?s service:load ?o }",
        "SELECT * WHERE { ?s ?p '''\nSERVICE <http://127.0.0.1:9/> {}\n''' }",
        'SELECT * WHERE { ?s ?p "LOAD <http://127.0.0.1:9/>" }',
        'SELECT * WHERE { ?s ?p "\\u0053ERVICE" }',
        "SELECT * FROM <http://127.0.0.1:9/> WHERE { ?s ?p ?o }",
    ],
)
def test_the_word_elsewhere_is_allowed(client: TestClient, query: str) -> None:
    check(query)
    assert client.get("/sparql", params={"query": query}).status_code == 200


def test_updates_load_and_service_refused_even_when_enabled(listener: Listener) -> None:
    token = "t0ken"
    c = _client(sparql_allow_update=True, sparql_update_token=token, sparql_isolate_network=False)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"}
    url = listener.url
    refused = [
        f"LOAD <{url}x.ttl>",
        f"lOaD SILENT <{url}x.ttl> INTO GRAPH <urn:g>",
        f"\\u004cOAD <{url}x.ttl>",
        f"INSERT DATA {{ <urn:a> <urn:b> 1 }} ; LOAD <{url}x.ttl>",
        f"# LOAD \r LOAD <{url}x.ttl>",
        f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f'INSERT {{ <urn:a> <urn:b> "x\\u0022, " }} WHERE {{ SERVICE <{url}> {{ }} }} #"',
    ]
    listener.hits.clear()
    for u in refused:
        r = c.post("/sparql", content=u, headers=auth)
        assert r.status_code == 400, (u, r.text)
        assert r.json()["error"] in ("service_not_allowed", "malformed_query"), (u, r.text)
    assert listener.hits == []
    ok = c.post("/sparql", content="INSERT DATA { <urn:a> <urn:b> 'LOAD' }", headers=auth)
    assert ok.status_code == 200, ok.text


def test_updates_refused_where_disabled(client: TestClient) -> None:
    with pytest.raises(sparql_guard.UpdateNotAllowed):
        check("INSERT DATA { <urn:a> <urn:b> 1 }", update=True)
    r = client.post("/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> 1 }"})
    assert r.status_code == 403 and r.json()["error"] == "update_forbidden"
    # an update sent as a query is parsed with the query grammar: not a query
    r = client.post("/sparql", data={"query": "INSERT DATA { <urn:a> <urn:b> 1 }"})
    assert r.status_code == 400 and r.json()["error"] == "malformed_query"


# --- the fuzzer ---------------------------------------------------------------------------------

_KEYWORDS = [
    "SERVICE",
    "service",
    "SeRvIcE",
    "SERVICE SILENT",
    "\\u0053ERVICE",
    "SERVIC\\u0045",
    "\\U00000053ervice",
    "SER\\u0056ICE",
]
#: between tokens: mostly harmless, some of it meant to confuse a lexer
_SEPARATORS = [
    " ",
    "\n",
    "\t",
    "# c\n",
    "# '\" < SERVICE\n",
    "\\u0020",
    "\\u000a",
    "#\\u000a",
    "# x \r",
    "# x \\u000d",
    "\r",
    "\r\n",
    "\u3000",
    "\u2028",
    "\x0b",
    "\\u0022",
    "\\u0027",
    "\\u0023",
    "\\",
    "#",
    '"',
    "'",
    "<",
    ".",
]
#: whole group elements, valid on their own, with what a lexer trips on inside
_STATEMENTS = [
    "?s ?p ?o .",
    '?s ?p "#" .',
    "?s ?p '#' .",
    '?s ?p "\\"#" .',
    "?s ?p '\\'#' .",
    '?s ?p "\\u0022" .',
    '?s ?p "x\\u0022, " .',
    "?s ?p 'x\\u0027, ' .",
    '?s ?p """#\n""" .',
    "?s ?p '''\n#''' .",
    "?s ?p '''x''' .",
    "?s <x:a#> ?o .",
    "?s <x:\\u0041#> ?o .",
    "?s <x:a\\u0023> ?o .",
    "?s ex:a\\#b ?o .",
    "?s ex:a.b ?o .",
    "?s ex:SERVICE ?o .",
    "?s ?p '指标' .",
    "BIND(1 AS ?q)",
    "BIND(<x:a#> AS ?q2)",
    "FILTER(true)",
    'FILTER(?o != "SERVICE <x:a> {}")',
    "OPTIONAL { ?s ?p ?o2 }",
    "# SERVICE <x:a> {}\n",
]
_WRAPS = [
    "{@}",
    "OPTIONAL {@}",
    "MINUS {@}",
    "FILTER EXISTS {@}",
    "FILTER NOT EXISTS {@}",
    "{ SELECT * WHERE {@} }",
    "GRAPH ?g {@}",
    "{@} UNION { ?s ?p ?o }",
    "@",
    "@",
]


@st.composite
def _fuzz_query(draw: st.DrawFn, url: str) -> str:
    sep = st.sampled_from(_SEPARATORS[:5] * 40 + _SEPARATORS)
    statements = st.lists(st.sampled_from(_STATEMENTS), max_size=3).map(" ".join)
    keyword = draw(st.sampled_from(_KEYWORDS[:4] * 3 + _KEYWORDS))
    target = draw(
        st.sampled_from(
            [f"<{url}>", f"<{url}#x>", f"<{url}\\u0073>", "lh:s", ":s", "lh:\\#s", "?svc"]
        )
    )
    clause = f"{keyword}{draw(sep)}{target}{draw(sep)}{{{draw(sep)}?a ?b ?c{draw(sep)}}}"
    for wrap in draw(st.lists(st.sampled_from(_WRAPS), min_size=1, max_size=3)):
        inner = f"{draw(statements)}{draw(sep)}{clause}{draw(sep)}{draw(statements)}"
        clause = wrap.replace("@", f" {inner} ")
    return (
        f"PREFIX lh: <{url}> PREFIX : <{url}> PREFIX ex: <http://example.org/>\n"
        f"SELECT * WHERE {{ VALUES ?svc {{ <{url}> }} ?s ?p ?o .{draw(sep)}"
        f"{clause}{draw(sep)}}}{draw(sep)}"
    )


FUZZ_EXAMPLES = 600


def _on_large_stack(fn: Callable[[], None]) -> None:
    """Run ``fn`` in a thread with a large stack, where the guard parses in place (faster)."""
    errors: list[BaseException] = []

    def run() -> None:
        sparql_guard.on_large_stack()
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    old = threading.stack_size(sparql_guard.PARSE_STACK_BYTES)
    try:
        thread = threading.Thread(target=run)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if errors:
        raise errors[0]


def _fuzz(listener: Listener, examples: int) -> dict[str, int]:
    store = _store()
    seen = {"ran": 0, "refused": 0, "would_call": 0}
    samples: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_fuzz_query(listener.url))
    def run(q: str) -> None:
        if (seen["ran"] + seen["refused"]) % 4 == 0 and len(samples) < 300:
            samples.append(q)
        seen[_guarded_run(store, q)] += 1
        assert listener.hits == [], q

    listener.hits.clear()
    _on_large_stack(run)
    # the fuzzer does make queries that pyoxigraph, given them raw, would send out
    seen["would_call"] = sum(_ox_calls(store, listener, q) for q in samples)
    listener.hits.clear()
    return seen


@pytest.mark.slow  # fuzzer, 600 examples
def test_fuzz_no_query_reaches_the_network(listener: Listener) -> None:
    seen = _fuzz(listener, FUZZ_EXAMPLES)
    assert seen["ran"] + seen["refused"] >= FUZZ_EXAMPLES * 0.9, seen
    assert seen["would_call"] >= 10, seen
    assert seen["ran"] >= 3, seen  # some are allowed: SERVICE hidden in strings, comments …


# --- a real server process ----------------------------------------------------------------------

_SERVER = """
import sys
from pathlib import Path
import pyoxigraph as ox
import uvicorn
from api.app import create_app
from kg.settings import Settings
store = ox.Store()
p = ox.NamedNode("http://example.org/p")
store.extend(
    ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(f"v{i}"),
            ox.NamedNode("http://example.org/g1"))
    for i in range(3000)
)
settings = Settings(data_dir=Path("/nonexistent-ikg-test"), sparql_timeout_s=1.0,
                    sparql_isolate_network=False)
uvicorn.run(create_app(settings, store=store), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IKG_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    yield proc, base
    proc.terminate()
    proc.wait(timeout=10)


SERVER_FUZZ_EXAMPLES = 60

CRASHERS = {
    "2500 nested braces": "SELECT * WHERE " + "{" * 2500 + " ?s ?p ?o " + "}" * 2500,
    "3000 nested sub-selects": "SELECT * WHERE { "
    + "{ SELECT * WHERE " * 3000
    + "{ ?s ?p ?o }"
    + " }" * 3000
    + " }",
    "10000 1+ terms": "SELECT (" + "+".join(["1"] * 10_000) + " AS ?x) WHERE {}",
    "10000 UNION branches": "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 10_000) + " }",
    "1000 nested EXISTS": "SELECT * WHERE { ?s ?p ?o "
    + "FILTER EXISTS { ?s ?p ?o " * 1000
    + "}" * 1000
    + " }",
    "5000 nested parentheses": "SELECT (" + "(" * 5000 + "1" + ")" * 5000 + " AS ?x) WHERE {}",
    "brackets hidden by strings": "SELECT * WHERE { ?s ?p ?o "
    + 'FILTER EXISTS { ?s ?p ")" ' * 300
    + "}" * 300
    + " }",
    "5000 BINDs": "SELECT * WHERE { " + " ".join(f"BIND(1 AS ?b{i})" for i in range(5000)) + " }",
}


@pytest.mark.parametrize("name", list(CRASHERS))
def test_crash_inputs_answer_400_quickly(client: TestClient, name: str) -> None:
    q = CRASHERS[name]
    start = time.monotonic()
    r = client.post("/sparql", content=q, headers={"Content-Type": "application/sparql-query"})
    elapsed = time.monotonic() - start
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"] == "query_too_complex", r.text[:300]
    assert elapsed < 3, elapsed
    if name in ("2500 nested braces", "3000 nested sub-selects", "10000 1+ terms"):
        assert elapsed < 1, elapsed  # refused on the raw text, before parsing
    with pytest.raises(QueryTooComplex):
        check(q)


def test_limits_are_settings() -> None:
    deep = "SELECT * WHERE " + "{" * 20 + " ?s ?p ?o " + "}" * 20
    assert _client().get("/sparql", params={"query": deep}).status_code == 200
    r = _client(sparql_max_depth=10).get("/sparql", params={"query": deep})
    assert r.status_code == 400 and "IKG_SPARQL_MAX_DEPTH" in r.json()["detail"]
    big = "SELECT * WHERE { " + " . ".join(f"?s{i} ?p ?o" for i in range(40)) + " }"
    r = _client(sparql_max_size=100).get("/sparql", params={"query": big})
    assert r.status_code == 400 and "IKG_SPARQL_MAX_SIZE" in r.json()["detail"]


def test_every_packaged_example_query_passes_the_guard() -> None:
    for q in example_queries():
        checked = check(q.sparql)
        assert checked.depth <= 8 and checked.size <= 500, (q.id, checked.depth, checked.size)


@pytest.mark.slow  # a server subprocess, crashers and a fuzz run
def test_server_survives_everything(
    server: tuple[subprocess.Popen[bytes], str], listener: Listener
) -> None:
    proc, base = server
    listener.hits.clear()
    with httpx.Client(base_url=base, timeout=30) as http:
        for name, q in CRASHERS.items():
            r = http.post(
                "/sparql", content=q, headers={"Content-Type": "application/sparql-query"}
            )
            assert r.status_code == 400, (name, r.text[:200])
            assert r.json()["error"] == "query_too_complex"
        for q in _bypasses(listener.url):
            r = http.get("/sparql", params={"query": q})
            assert r.status_code in (200, 400), (q, r.text[:200])

        @settings(
            max_examples=SERVER_FUZZ_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(_fuzz_query(listener.url))
        def run(q: str) -> None:
            r = http.post("/sparql", data={"query": q})
            assert r.status_code in (200, 400), (q, r.text[:200])

        run()
        assert listener.hits == []
        assert proc.poll() is None
        r = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert r.status_code == 200 and r.json()["boolean"] is True


# --- time limit, crashes ------------------------------------------------------------------------

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?p ?y . ?c ?p ?z }"


def _children() -> list[int]:
    """Live (not zombie) forked copies of this process (query processes; a child another
    test or library started with its own command line is not one)."""
    found = []
    me = os.getpid()
    mine = Path(f"/proc/{me}/cmdline").read_bytes()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) != me or fields[0] == "Z":
            continue
        try:
            if Path(f"/proc/{entry}/cmdline").read_bytes() == mine:
                found.append(int(entry))
        except OSError:
            continue
    return found


def test_timed_out_queries_are_killed_and_free_their_slot() -> None:
    store = ox.Store()
    p = ox.NamedNode(EX + "p")
    store.extend(
        ox.Quad(ox.NamedNode(f"{EX}s{i}"), p, ox.Literal(str(i)), ox.NamedNode(G1))
        for i in range(2000)
    )
    app = create_app(_settings(sparql_timeout_s=0.8), store=store)
    c = TestClient(app)
    before = set(_children())
    with ThreadPoolExecutor(3) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda _: c.get("/sparql", params={"query": SLOW}), range(3)))
        elapsed = time.monotonic() - started
    for r in answers:
        assert r.status_code == 504, r.text
        assert r.json()["error"] == "query_timeout"
    # two slots on this machine: the third query waited for one, then timed out too
    assert elapsed < 4, elapsed
    # the query processes are gone (killed and reaped before their 504): no CPU burnt
    assert set(_children()) <= before, _children()
    start = time.monotonic()
    r = c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    ask = time.monotonic() - start
    assert r.status_code == 200 and r.json()["boolean"] is True, r.text
    assert ask < 1.0, ask


def test_a_crashing_query_answers_500_and_the_api_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _client()

    def segfault(*_args: object, **_kwargs: object) -> None:
        ctypes.string_at(0)  # a read at address 0: SIGSEGV, as pyoxigraph's stack overflow

    monkeypatch.setattr(api._execute, "_evaluate", segfault)  # inherited by the forked child
    was_enabled = faulthandler.is_enabled()  # pytest's: the child would print a traceback
    faulthandler.disable()
    try:
        r = c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    finally:
        if was_enabled:
            faulthandler.enable()
    assert r.status_code == 500, r.text
    body = r.json()
    assert body["error"] == "query_crashed" and "SIGSEGV" in body["detail"], body
    monkeypatch.undo()
    r = c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert r.status_code == 200 and r.json()["boolean"] is True


def test_child_without_network(listener: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind the parse: with isolation on, even a SERVICE that got past it reaches nothing."""

    def reach(_channel: object) -> bool:
        try:
            socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
            return True
        except OSError:
            return False

    assert _isolate.run_in_child(reach, deadline=time.monotonic() + 5, network=True)
    if _isolate.run_in_child(reach, deadline=time.monotonic() + 5, network=False):
        pytest.skip("this kernel does not let a process make a user + network namespace")
    listener.hits.clear()

    def allow_everything(text: str, **_: object) -> sparql_guard.Checked:
        return sparql_guard.Checked(text, "query", "SELECT", False, frozenset(), 1, 1)

    monkeypatch.setattr(sparql_guard, "check", allow_everything)  # inherited by the child
    monkeypatch.setattr(api._execute, "_checked_cache", api._execute._CheckedCache(8))
    listener.hits.clear()
    c = _client(sparql_isolate_network=True)
    q = f"SELECT * WHERE {{ ?s ?p ?o . SERVICE <{listener.url}> {{ ?a ?b ?c }} }}"
    r = c.get("/sparql", params={"query": q})
    assert listener.hits == []
    assert r.status_code in (400, 500), r.text  # the SERVICE call failed: no network


# --- FROM -----------------------------------------------------------------------------------------


def _values(r: httpx.Response) -> set[str]:
    assert r.status_code == 200, r.text
    return {b["o"]["value"] for b in r.json()["results"]["bindings"]}


def test_from_makes_the_dataset(client: TestClient) -> None:
    q = "SELECT ?o {FROM} WHERE {{ ?s ?p ?o }}"
    assert _values(client.get("/sparql", params={"query": q.format(FROM="")})) == {
        "in g1",
        "in g2",
        "default",
    }
    nothing = q.format(FROM="FROM <urn:nonexistent>")
    assert _values(client.get("/sparql", params={"query": nothing})) == set()
    one = q.format(FROM=f"FROM <{G1}>")
    assert _values(client.get("/sparql", params={"query": one})) == {"in g1"}
    merged = q.format(FROM=f"FROM <{G1}> FROM <{G2}> FROM <urn:nonexistent>")
    assert _values(client.get("/sparql", params={"query": merged})) == {"in g1", "in g2"}
    # only FROM NAMED: the default graph is empty; GRAPH sees the named one
    named = q.format(FROM=f"FROM NAMED <{G1}>")
    assert _values(client.get("/sparql", params={"query": named})) == set()
    g = f"SELECT ?o FROM NAMED <{G1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert _values(client.get("/sparql", params={"query": g})) == {"in g1"}
    # the protocol's default-graph-uri wins over the query's FROM
    r = client.get("/sparql", params={"query": one, "default-graph-uri": G2})
    assert _values(r) == {"in g2"}


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-security")
    store = ox.Store(str(data / "store"))
    store.extend(_quads())
    store.flush()
    del store
    return data


def test_cli_query_uses_the_guard(data_dir: Path, listener: Listener) -> None:
    from ikg.cli import app

    runner = CliRunner()

    def run(q: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["query", q, "--data-dir", str(data_dir), "-f", "csv"])

    listener.hits.clear()
    for q in _bypasses(listener.url)[:12]:
        result = run(q)
        assert listener.hits == [], q
        assert result.exit_code in (0, 2), result.output
    r = run(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}")
    assert r.exit_code == 2 and "SERVICE" in r.output
    start = time.monotonic()
    r = run(CRASHERS["10000 1+ terms"])
    assert r.exit_code == 2 and "IKG_SPARQL_MAX_SIZE" in r.output
    r = run(CRASHERS["2500 nested braces"])
    assert r.exit_code == 2 and "IKG_SPARQL_MAX_DEPTH" in r.output
    assert time.monotonic() - start < 2
    r = run("SELECT ?o FROM <urn:nonexistent> WHERE { ?s ?p ?o }")
    assert r.exit_code == 0 and r.stdout.strip() == "o", r.output
    r = run(f"SELECT ?o FROM <{G1}> WHERE {{ ?s ?p ?o }}")
    assert r.exit_code == 0 and r.stdout.split() == ["o", "in", "g1"], r.output


@pytest.mark.slow
def test_fuzz_more(listener: Listener) -> None:
    seen = _fuzz(listener, 3_000)
    assert seen["ran"] + seen["refused"] >= 2_700, seen
