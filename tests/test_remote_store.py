"""The graph store on a real Oxigraph server (``IKG_STORE=oxigraph-server``).

The tests start the ``oxigraph`` server binary the project installs (PyPI package
``oxigraph``, dev extra) on 127.0.0.1, load the demo data into it with ``ikg build --store
oxigraph-server`` and check that it gives the same answers as the embedded store: the
README's reviewer queries, ``ikg stats``, the SPARQL endpoint (including the W3C protocol
tests), search and review over the API; that a server timeout which cuts an answer is an
error and not a short result; and that killing the server gives the API's clients a 503 with a
message, with the API recovering when the server is back and nothing lost.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from api.app import create_app
from ikg.cli import app as cli
from kg.build import build
from kg.examples import example_queries
from kg.namespaces import SIMILARITY_GRAPH
from kg.remote import RemoteStore, RemoteStoreError
from kg.settings import Settings
from kg.store import DANGLING_LINKS, GraphStore

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SEED = DEMO / "000_3b89ef93caa61199.txt"
CORPUS = sorted((DEMO / "corpus").glob("*.csv"))[:3]
SOURCES = [SEED, *CORPUS]


def _oxigraph() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


OXIGRAPH = _oxigraph()
pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(
        OXIGRAPH is None,
        reason="the oxigraph server binary is not installed (pip install -e '.[dev]' brings it)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ``oxigraph serve`` / ``serve-read-only`` process over a directory."""

    def __init__(self, location: Path, *, read_only: bool = False, timeout_s: int | None = None):
        self.location = location
        self.read_only = read_only
        self.timeout_s = timeout_s
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        cmd = [OXIGRAPH, "serve-read-only" if self.read_only else "serve"]
        cmd += ["--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"]
        if self.timeout_s:
            cmd += ["--timeout-s", str(self.timeout_s)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                RemoteStore(self.url, timeout_s=2).ping()
                return self
            except RemoteStoreError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode()) from None  # type: ignore[union-attr]
                time.sleep(0.1)
        raise RuntimeError(f"oxigraph did not start on {self.url}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The same tables in the embedded store (the reference)."""
    data = tmp_path_factory.mktemp("embedded")
    args = ["build", *map(str, SOURCES), "--data-dir", str(data)]
    result = CliRunner().invoke(cli, args, env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 0, result.output + result.stderr
    return Settings(data_dir=data)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = Server(tmp_path_factory.mktemp("oxigraph-db")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def remote(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The demo tables loaded into the server by ``ikg build --store oxigraph-server``."""
    data = tmp_path_factory.mktemp("remote-data")
    args = ["build", *map(str, SOURCES), "--data-dir", str(data)]
    args += ["--store", "oxigraph-server", "--store-url", server.url]
    result = CliRunner().invoke(cli, args, env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 0, result.output + result.stderr
    assert f"已将 {len(SOURCES)} 张表载入 {server.url}" in result.stderr
    return Settings(data_dir=data, store="oxigraph-server", store_url=server.url)


def _rows(store: GraphStore, sparql: str) -> list[tuple[str, ...]]:
    _, rows = store.select(sparql)
    return sorted(tuple("" if t is None else str(t) for t in row) for row in rows)


@pytest.mark.slow  # an oxigraph server subprocess, built by ikg build
def test_readme_queries_answer_the_same(embedded: Settings, remote: Settings) -> None:
    local = GraphStore(embedded.store_path, read_only=True)
    server = GraphStore(remote.store_target, read_only=True)
    try:
        assert len(server) == len(local) > 5_000
        assert sorted(server.named_graphs()) == sorted(local.named_graphs())
        non_empty = 0
        for q in example_queries():
            want = _rows(local, q.sparql)
            assert _rows(server, q.sparql) == want, q.id
            non_empty += bool(want)
        assert non_empty >= 10
    finally:
        local.close()
        server.close()


@pytest.mark.slow  # an oxigraph server subprocess
def test_rebuilding_a_table_replaces_it_on_the_server(remote: Settings) -> None:
    store = GraphStore(remote.store_target)
    before = len(store)
    graphs = sorted(g for g in store.named_graphs() if g != SIMILARITY_GRAPH)
    seed_graph = next(g for g in graphs if len(store.graph(g)) > 3_000)
    seed_triples = len(store.graph(seed_graph))
    build([SEED], remote.store_target)
    # the table is replaced, not added; its links go with the old indicators (the similarity
    # graph goes when they were its only ones) ...
    assert sorted(g for g in store.named_graphs() if g != SIMILARITY_GRAPH) == graphs
    assert len(store.graph(seed_graph)) == seed_triples
    assert len(store) < before
    assert not store.select(DANGLING_LINKS)[1]
    # ... and the index step that follows a build (as `ikg build` runs it) writes them again
    args = ["build", str(SEED), "--store", "oxigraph-server", "--store-url", remote.store_url]
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(remote.data_dir)])
    assert result.exit_code == 0, result.output + result.stderr
    assert len(store) == before
    store.close()


@pytest.mark.slow  # an oxigraph server subprocess
def test_ikg_stats_and_query_against_the_server(embedded: Settings, remote: Settings) -> None:
    runner = CliRunner()
    local = runner.invoke(cli, ["stats", "--json", "--data-dir", str(embedded.data_dir)])
    server = runner.invoke(
        cli, ["stats", "--json", "--store", "oxigraph-server", "--store-url", remote.store_url]
    )
    assert local.exit_code == server.exit_code == 0, server.output
    assert json.loads(server.stdout) == json.loads(local.stdout)
    q = runner.invoke(
        cli,
        ["query", 'ASK { ?i ikg:name "慰问金发放覆盖率" }', "--store-url", remote.store_url],
    )
    assert q.exit_code == 0 and q.stdout.strip() == "true"
    bad = runner.invoke(cli, ["query", "SELECT * WHERE {", "--store-url", remote.store_url])
    assert bad.exit_code == 2 and "malformed SPARQL" in bad.stderr


@pytest.mark.slow  # an oxigraph server subprocess
def test_sparql_endpoint_over_the_server(embedded: Settings, remote: Settings) -> None:
    q = next(q for q in example_queries() if q.id == "Q11")
    with (
        TestClient(create_app(embedded)) as local,
        TestClient(create_app(remote)) as server,
    ):
        answers = []
        for client in (local, server):
            r = client.get("/sparql", params={"query": q.sparql}, headers={"Accept": "text/csv"})
            assert r.status_code == 200, r.text
            answers.append(sorted(r.text.splitlines()[1:]))
        assert answers[0] == answers[1] and answers[0]
        r = server.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
        assert r.status_code == 400 and "malformed" in r.json()["detail"]
        r = server.post(
            "/sparql",
            content="CONSTRUCT { ?i ikg:name ?n } WHERE { ?i ikg:name ?n } LIMIT 3",
            headers={"Content-Type": "application/sparql-query", "Accept": "text/turtle"},
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
        g = ox.Store()
        g.load(r.content, format=ox.RdfFormat.TURTLE)
        assert len(g) == 3
        r = server.post(
            "/sparql", data={"update": "DROP ALL"}, headers={"Accept": "application/json"}
        )
        assert r.status_code == 403  # read-only by default, whatever the store
        health = server.get("/healthz").json()
        assert health["triples"] == local.get("/healthz").json()["triples"]


@pytest.mark.slow  # an oxigraph server subprocess
def test_search_and_review_over_the_server(remote: Settings) -> None:
    pytest.importorskip("faiss")
    with TestClient(create_app(remote)) as client:
        hits = client.get("/api/search", params={"q": "慰问金发放覆盖率", "k": 3}).json()["hits"]
        assert hits[0]["name"] == "慰问金发放覆盖率" and hits[0]["source"]["line"] == 896
        r = client.post(
            "/api/review",
            files={"file": (SEED.name, SEED.read_bytes(), "text/plain")},
            data={"against": "true"},
        )
        assert r.status_code == 200, r.text
        rules = {f["rule"] for f in r.json()["findings"]}
        assert {"vague-target", "task-row-sum", "duplicate-in-table"} <= rules
        # textSimilarity runs in Python beside the embedded store: a clear 400 here
        r = client.get(
            "/sparql",
            params={
                "query": 'SELECT ?i WHERE { ?i ikg:name ?n BIND(ikg:textSimilarity(?i, "培训") AS ?s) }'
            },
        )
        assert r.status_code == 400 and "oxigraph-server" in r.json()["detail"]


@pytest.mark.slow  # an oxigraph server subprocess
def test_w3c_protocol_against_the_server(tmp_path: Path) -> None:
    """The W3C SPARQL 1.1 Protocol query tests, replayed with a server of their own as the store."""
    from tests.test_w3c_protocol import _load_manifest, _replay, _store_for

    server = Server(tmp_path / "w3c-db").start()
    try:
        store = RemoteStore(server.url)
        ran = 0
        for test in _load_manifest():
            if test.is_update:
                continue
            store.update("DROP SILENT ALL")
            store.bulk_extend(_store_for(test).quads_for_pattern(None, None, None, None))
            client = TestClient(create_app(Settings(), store=store))
            _replay(client, test)
            ran += 1
        assert ran >= 20
    finally:
        server.stop()


@pytest.fixture
def read_only_server(embedded: Settings, tmp_path: Path):
    """A read replica with a 1 s query timeout over a copy of the embedded store."""
    location = tmp_path / "replica"
    shutil.copytree(embedded.store_path, location)
    srv = Server(location, read_only=True, timeout_s=1).start()
    yield srv
    srv.stop()


CROSS = "SELECT ?a ?b WHERE { ?a ikg:name ?x . ?b ikg:name ?y . ?c ikg:name ?z }"


@pytest.mark.slow  # an oxigraph server subprocess
def test_a_server_timeout_that_cuts_the_answer_is_an_error(read_only_server: Server) -> None:
    store = GraphStore(read_only_server.url, read_only=True)
    rows = store.query(CROSS)
    with pytest.raises(RemoteStoreError, match="timeout"):
        for _ in rows:
            pass
    settings = Settings(
        data_dir=Path("unused"),
        store="oxigraph-server",
        store_url=read_only_server.url,
        sparql_max_rows=10_000_000,
        sparql_timeout_s=60,
    )
    with TestClient(create_app(settings)) as client:
        r = client.get("/sparql", params={"query": CROSS})
        assert r.status_code == 503
        assert r.json()["error"] == "store_unavailable" and "timeout" in r.json()["detail"]


@pytest.mark.slow  # kills an oxigraph server subprocess
def test_killing_the_server_gives_503_and_the_api_recovers(
    embedded: Settings, tmp_path: Path
) -> None:
    location = tmp_path / "db"
    shutil.copytree(embedded.store_path, location)
    srv = Server(location).start()
    settings = Settings(
        data_dir=tmp_path / "data",
        store="oxigraph-server",
        store_url=srv.url,
        sparql_max_rows=10_000_000,
        sparql_timeout_s=120,
        store_timeout_s=10,
    )
    try:
        with TestClient(create_app(settings)) as client:
            before = client.get("/healthz").json()["triples"]
            answer: dict[str, object] = {}

            def long_query() -> None:
                answer["r"] = client.get("/sparql", params={"query": CROSS})

            t = threading.Thread(target=long_query)
            t.start()
            time.sleep(1.0)  # the answer is streaming
            srv.kill()
            t.join(60)
            r = answer["r"]
            assert r.status_code == 503, r.text  # type: ignore[attr-defined]
            assert r.json()["error"] == "store_unavailable"  # type: ignore[attr-defined]
            down = client.get("/healthz")
            assert down.status_code == 503 and "unavailable" in down.json()["detail"]
            page = client.get("/api/tables")
            assert page.status_code == 503 and page.headers.get("retry-after")
            restarted = Server(location)  # the same data and address, as a restarted service
            restarted.port, restarted.url = srv.port, srv.url
            restarted.start()
            try:
                up = client.get("/healthz")
                assert up.status_code == 200 and up.json()["triples"] == before
                q = client.get(
                    "/sparql", params={"query": 'ASK { ?i ikg:name "慰问金发放覆盖率" }'}
                )
                assert q.status_code == 200 and q.json()["boolean"] is True
            finally:
                restarted.stop()
    finally:
        srv.stop()


def test_server_url_is_validated() -> None:
    with pytest.raises(ValueError, match="IKG_STORE_URL"):
        Settings(store="oxigraph-server")
    with pytest.raises(ValueError, match="http://host:port"):
        RemoteStore("ftp://example.org")
    with pytest.raises(RemoteStoreError, match="unavailable"):
        RemoteStore(f"http://127.0.0.1:{_free_port()}", timeout_s=2).ping()


def test_health_of_an_unreachable_server_is_503_json() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    settings = Settings(data_dir=Path("unused"), store="oxigraph-server", store_url=url)
    with TestClient(create_app(settings)) as client:
        r = client.get("/healthz")
        assert r.status_code == 503 and url in r.json()["detail"]


@pytest.mark.slow  # ikg serve subprocess, 2 workers
def test_serve_with_two_workers_against_the_server(remote: Settings) -> None:
    """``ikg serve --workers 2 --store oxigraph-server``: two processes answer from one server."""
    import os
    import urllib.parse
    import urllib.request

    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "ikg.cli", "serve", "--data-dir", str(remote.data_dir)]
    cmd += ["--store", "oxigraph-server", "--store-url", str(remote.store_url)]
    cmd += ["--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    health = json.load(r)
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "ikg serve --workers 2 did not start"
                time.sleep(0.3)
        assert health["triples"] == len(RemoteStore(str(remote.store_url)))
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2, children  # uvicorn's parent and its two workers
        q = urllib.parse.urlencode({"q": "慰问金发放覆盖率", "k": 1})
        for _ in range(4):  # whichever worker answers, the same hit
            with urllib.request.urlopen(f"{base}/api/search?{q}", timeout=60) as r:
                assert json.load(r)["hits"][0]["source"]["line"] == 896
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


# an oxigraph server subprocess, the demo tables built into it by ikg build with the default
# model (the module's remote fixture, shared with the slow tests above); the desk's routes over
# the embedded store stay in the fast lane (tests/test_api_review_desk.py)
@pytest.mark.slow
def test_review_desk_over_the_server(remote: Settings) -> None:
    """The desk's routes read the store through the server: its tables listed, a stored table
    read back from its graph and reviewed, the cross-year view, a batch against the store."""
    pytest.importorskip("faiss")
    with TestClient(create_app(remote)) as client:
        items = client.get("/api/review/tables").json()["items"]
        assert len(items) == len(SOURCES)
        seed = next(t for t in items if t["indicators"] > 100)
        r = client.post("/api/review/stored", json={"tables": [seed["uri"]]})
        assert r.status_code == 200, r.text
        assert {"vague-target", "task-row-sum"} <= {f["rule"] for f in r.json()["findings"]}
        r = client.get("/api/review/crossyear", params={"department": seed["department"]})
        assert r.status_code == 200 and r.json()["year"] == seed["fiscal_year"]
        r = client.post(
            "/api/review/batch", files=[("files", (CORPUS[0].name, CORPUS[0].read_bytes()))]
        )
        assert r.status_code == 200 and r.json()["against"]["tables"] >= len(SOURCES)
