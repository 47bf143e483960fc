"""Real clients against a real server: uvicorn on 127.0.0.1, queried with SPARQLWrapper and httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: a real uvicorn server over the seed and its index; the API itself is tested in process
#: (test_api_json, test_api_sparql)
pytestmark = pytest.mark.slow

pytest.importorskip("fastapi")
SPARQLWrapper = pytest.importorskip("SPARQLWrapper")
uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from api.app import create_app  # noqa: E402
from kg.build import build  # noqa: E402
from kg.examples import example  # noqa: E402
from kg.settings import Settings  # noqa: E402

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_3b89ef93caa61199.txt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from embeddings import index_for_store

    data = tmp_path_factory.mktemp("api-client")
    settings = Settings(data_dir=data, embedding_model="use-multilingual")
    build([SEED], settings.store_path)
    index_for_store(settings.store_path, data, settings)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_sparqlwrapper_readme_query(base_url: str) -> None:
    sw = SPARQLWrapper.SPARQLWrapper(f"{base_url}/sparql")
    sw.setQuery(example("Q11").sparql)
    sw.setReturnFormat(SPARQLWrapper.JSON)
    rows = sw.query().convert()["results"]["bindings"]
    names = [r["indicator"]["value"] for r in rows]
    assert "慰问金发放覆盖率" in names and "市转企业离休干部慰问金发放覆盖率" in names
    assert all(int(r["line"]["value"]) > 0 for r in rows)


def test_sparqlwrapper_similarity_function_post(base_url: str) -> None:
    sw = SPARQLWrapper.SPARQLWrapper(f"{base_url}/sparql")
    sw.setMethod(SPARQLWrapper.POST)
    sw.setQuery(
        """SELECT ?name ?score WHERE { ?i a ikg:Indicator ; ikg:name ?name .
        BIND(ikg:textSimilarity(?i, "离休干部慰问金覆盖") AS ?score) }
        ORDER BY DESC(?score) LIMIT 1"""
    )
    sw.setReturnFormat(SPARQLWrapper.JSON)
    rows = sw.query().convert()["results"]["bindings"]
    assert rows[0]["name"]["value"] == "市转企业离休干部慰问金发放覆盖率"


def test_httpx_csv_and_json_api(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.get(
            "/sparql",
            params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?i a ikg:Indicator }"},
            headers={"Accept": "text/csv"},
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.text.splitlines() == ["n", "166"]
        hits = c.get("/api/search", params={"q": "慰问金发放覆盖率", "k": 2}).json()["hits"]
        assert hits[0]["name"] == "慰问金发放覆盖率"
