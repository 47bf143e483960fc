"""The JSON API (/api/*) and the SPARQL similarity function, over the seed table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("faiss")

from fastapi.testclient import TestClient

from api.app import create_app
from apps.review import review_file
from kg.build import build
from kg.examples import example_queries
from kg.settings import Settings

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_3b89ef93caa61199.txt"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "demo" / "corpus"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from embeddings import index_for_store

    data = tmp_path_factory.mktemp("api-json")
    s = Settings(data_dir=data, embedding_model="use-multilingual")
    sources = [SEED, *sorted(CORPUS.glob("*"))[:2]]
    build(sources, s.store_path)
    index_for_store(s.store_path, data, s)
    return s


@pytest.fixture(scope="module")
def client(settings: Settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


def _search(client: TestClient, q: str, **params: object) -> dict:
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_search_ranks_exact_name_first(client: TestClient) -> None:
    body = _search(client, "慰问金发放覆盖率", k=5)
    assert body["query"] == "慰问金发放覆盖率"
    assert body["total"] == len(body["hits"]) == 5
    top = body["hits"][0]
    assert top["name"] == "慰问金发放覆盖率"
    assert top["source"]["line"] == 896
    assert top["uri"].endswith(top["id"]) and top["id"].startswith("table/")
    assert top["table_id"] and top["id"].startswith(top["table_id"] + "/")
    assert [h["score"] for h in body["hits"]] == sorted(
        (h["score"] for h in body["hits"]), reverse=True
    )


def test_search_filters(client: TestClient) -> None:
    all_hits = _search(client, "满意度", k=50)["hits"]
    departments = {h["department"] for h in all_hits}
    assert len(departments) >= 2
    dept = "中共深圳市福田区委组织部"
    only = _search(client, "满意度", k=50, department=dept)["hits"]
    assert only and all(h["department"] == dept for h in only)
    lv2 = _search(client, "满意度", k=50, level2="数量指标")["hits"]
    assert lv2 and all("数量指标" in h["level2"] for h in lv2)


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "a", "k": 0}])
def test_search_bad_query_is_422(client: TestClient, params: dict) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"


def test_indicator_detail_and_similar(client: TestClient) -> None:
    top = _search(client, "慰问金发放覆盖率", k=1)["hits"][0]
    r = client.get(f"/api/indicators/{top['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "慰问金发放覆盖率" and body["uri"] == top["uri"]
    assert body["target_parsed"]["rawText"] == "100%"
    assert body["target_parsed"]["isPercent"] == "true"
    assert "老干口业务" in body["tasks"]
    # its qualified sibling (市转企业离休干部…) is related, not a review-or-better link
    assert body["similar_count"] == 0
    twin = _search(client, "受训学员满意度", k=1)["hits"][0]
    assert client.get(f"/api/indicators/{twin['id']}").json()["similar_count"] >= 1
    r = client.get(f"/api/indicators/{top['id']}/similar", params={"k": 5})
    assert r.status_code == 200, r.text
    sim = r.json()
    assert sim["indicator"]["id"] == top["id"]
    assert sim["hits"][0]["name"] == "市转企业离休干部慰问金发放覆盖率"
    assert sim["hits"][0]["band"] == "related"  # the qualifier narrows the people
    assert sim["hits"][0]["reasons"]
    assert all(h["id"] != top["id"] for h in sim["hits"])


@pytest.mark.parametrize("suffix", ["", "/similar"])
def test_unknown_indicator_is_404(client: TestClient, suffix: str) -> None:
    r = client.get(f"/api/indicators/table/2024-000000000000/indicator/nothing{suffix}")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_duplicates_paginate_and_scope(client: TestClient) -> None:
    full = client.get("/api/duplicates", params={"limit": 200}).json()
    assert full["total"] == len(full["clusters"]) >= 2
    assert full["bands"]["duplicate"] >= full["bands"]["review"] >= full["bands"]["related"]
    page = client.get("/api/duplicates", params={"offset": 1, "limit": 1}).json()
    assert page["total"] == full["total"] and len(page["clusters"]) == 1
    assert page["clusters"][0]["id"] == full["clusters"][1]["id"]
    names = {m["name"] for c in full["clusters"] for m in c["members"]}
    assert {"受训学员满意度", "参训人员满意度"} <= names
    assert full["shown_bands"] == ["duplicate"]
    assert {p["band"] for c in full["clusters"] for p in c["pairs"]} == {"duplicate"}
    # a qualifier that narrows the people: related, listed only when the listing is widened
    assert "慰问金发放覆盖率" not in names
    wide = client.get("/api/duplicates", params={"limit": 200, "band": "related"}).json()
    assert wide["shown_bands"] == ["duplicate", "review", "related"]
    wide_pairs = {
        frozenset((p["a"], p["b"])): p["band"] for c in wide["clusters"] for p in c["pairs"]
    }
    assert len(wide_pairs) > sum(len(c["pairs"]) for c in full["clusters"])
    assert "related" in wide_pairs.values()
    assert client.get("/api/duplicates", params={"band": "none"}).status_code == 422
    within = client.get("/api/duplicates", params={"scope": "within-table"}).json()
    assert within["scope"] == "within-table"
    assert all(
        p["a"] and p["score"] >= within["threshold"] for c in within["clusters"] for p in c["pairs"]
    )
    assert client.get("/api/duplicates", params={"scope": "nowhere"}).status_code == 422


def test_tables(client: TestClient) -> None:
    body = client.get("/api/tables").json()
    assert body["total"] == 3
    seed = next(t for t in body["items"] if t["source_file"].endswith(SEED.name))
    assert (seed["indicators"], seed["tasks"]) == (166, 13)
    assert seed["year"] == 2024
    page = client.get("/api/tables", params={"offset": 2, "limit": 5}).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert client.get("/api/tables", params={"limit": 201}).status_code == 422


def test_examples_are_the_readme_queries(client: TestClient) -> None:
    body = client.get("/api/examples").json()
    assert [e["query"] for e in body] == [q.sparql for q in example_queries()]
    assert body[0]["id"] == "q01" and body[0]["title"].startswith("各表各类指标数量")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert all(e["query"].strip() in readme for e in body)


@pytest.fixture(scope="module")
def seed_summary() -> dict:
    return review_file(SEED).summary.model_dump(mode="json")


def test_review_upload_and_paste_give_the_seed_findings(
    client: TestClient, seed_summary: dict
) -> None:
    r = client.post("/api/review", files={"file": (SEED.name, SEED.read_bytes(), "text/plain")})
    assert r.status_code == 200, r.text
    up = r.json()
    assert up["summary"] == seed_summary
    assert up["files"][0]["file"] == SEED.name
    r = client.post("/api/review", data={"text": SEED.read_text(encoding="utf-8")})
    assert r.status_code == 200, r.text
    assert r.json()["summary"] == seed_summary
    assert r.json()["summary"]["by_severity"]["error"] == 3


def test_review_html(client: TestClient) -> None:
    r = client.post(
        "/api/review",
        files={"file": (SEED.name, SEED.read_bytes(), "text/plain")},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text and "提升人才政策覆盖面" in r.text  # a vague-target finding


def test_review_against_store(client: TestClient) -> None:
    # the seed as another department's table of the same district and year: its indicators
    # are all in the served store (a department of another district funds its own work: the
    # bands' region cap keeps such pairs at related)
    text = SEED.read_text(encoding="utf-8").replace("区委组织部", "区委宣传部")
    findings = {}
    for against in ("false", "true"):
        r = client.post("/api/review", data={"text": text, "against": against})
        assert r.status_code == 200, r.text
        findings[against] = [
            f for f in r.json()["findings"] if f["rule"] == "duplicate-across-departments"
        ]
    assert not findings["false"]
    assert findings["true"]
    assert any("组织部" in json.dumps(f, ensure_ascii=False) for f in findings["true"])


def test_review_not_a_table_is_422(client: TestClient) -> None:
    r = client.post(
        "/api/review", files={"file": ("notes.txt", "今天天气很好\n".encode(), "text/plain")}
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "not_a_table"
    assert "notes.txt" in body["detail"] and "/tmp" not in body["detail"]
    r = client.post("/api/review", data={})
    assert r.status_code == 422


def test_review_too_large_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"api_max_upload_bytes": 1000})
    with TestClient(create_app(small)) as c:
        r = c.post("/api/review", files={"file": (SEED.name, SEED.read_bytes(), "text/plain")})
        assert r.status_code == 413
        assert r.json()["error"] == "payload_too_large"


def test_sparql_text_similarity_ranks(client: TestClient) -> None:
    q = """SELECT ?name ?score WHERE {
      ?i a ikg:Indicator ; ikg:name ?name .
      BIND(ikg:textSimilarity(?i, "离休干部慰问金覆盖") AS ?score)
    } ORDER BY DESC(?score) LIMIT 3"""
    r = client.get(
        "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"]
    assert rows[0]["name"]["value"] == "市转企业离休干部慰问金发放覆盖率"
    assert rows[0]["score"]["datatype"].endswith("#double")
    scores = [float(x["score"]["value"]) for x in rows]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    # by name, as a filter
    q2 = """SELECT DISTINCT ?name WHERE { ?i ikg:name ?name .
      FILTER(ikg:textSimilarity(?name, "慰问金发放覆盖率") > 0.6) }"""
    r = client.get(
        "/sparql", params={"query": q2}, headers={"Accept": "application/sparql-results+json"}
    )
    names = {b["name"]["value"] for b in r.json()["results"]["bindings"]}
    assert "慰问金发放覆盖率" in names and "干部满意度" not in names


def test_similarity_links_are_queryable(client: TestClient) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/indicator-kg/data/graph/similarity> { ?a ?p ?b } }"
    r = client.get(
        "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.status_code == 200
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_no_index_is_503(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, embedding_model="nonexistent-model-alias")
    build([SEED], s.store_path)
    with TestClient(create_app(s)) as c:
        r = c.get("/api/search", params={"q": "慰问金"})
    assert r.status_code == 503
    body = r.json()
    assert body["error"] == "index_unavailable" and "ikg build" in body["detail"]


def test_openapi_lists_every_route(client: TestClient) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    for p in [
        "/api/search",
        "/api/indicators/{id}",
        "/api/indicators/{id}/similar",
        "/api/duplicates",
        "/api/tables",
        "/api/examples",
        "/api/review",
    ]:
        assert p in paths, p


def test_ikg_query_text_similarity(settings: Settings) -> None:
    from typer.testing import CliRunner

    from ikg.cli import app

    q = """SELECT ?name WHERE { ?i a ikg:Indicator ; ikg:name ?name .
      BIND(ikg:textSimilarity(?i, "离休干部慰问金覆盖") AS ?s) } ORDER BY DESC(?s) LIMIT 1"""
    r = CliRunner().invoke(
        app, ["query", q, "--format", "csv", "--data-dir", str(settings.data_dir)]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1] == "市转企业离休干部慰问金发放覆盖率"


# --------------------------------------------------------------------------- the draft table
DRAFT = {
    "department": "测试区委老干部局",
    "fiscal_year": 2025,
    "tasks": [
        {"name": "老干口业务", "content": "做好节日慰问工作，发放离休干部慰问金", "total": 12.5}
    ],
    "indicators": [
        {"level2": "数量指标", "name": "慰问离休干部人数", "target": "≥100人"},
        {"level2": "时效指标", "name": "慰问金发放时间", "target": "2025年2月10日前"},
        {"level2": "社会效益指标", "name": "提升人才政策知晓度", "target": "明显"},
    ],
}


def test_draft_review_points_at_lines_of_the_exported_csv(client: TestClient) -> None:
    r = client.post("/api/draft/review", json=DRAFT)
    assert r.status_code == 200, r.text
    rep = r.json()
    exported = client.post("/api/draft/export", params={"format": "csv"}, json=DRAFT)
    lines = exported.content.decode("utf-8-sig").splitlines()
    vague = [f for f in rep["findings"] if f["rule"] == "vague-target"]
    assert [f["item_name"] for f in vague] == ["提升人才政策知晓度"]
    assert vague[0]["file"] == "绩效目标表草稿.csv"
    # the finding's line is the row of that indicator in the file the department downloads
    assert "提升人才政策知晓度" in lines[vague[0]["line"] - 1]
    missing = {
        f["values"].get("category") or f["item_name"]
        for f in rep["findings"]
        if f["rule"] == "missing-category"
    }
    assert missing, rep["findings"]  # no 质量/成本/满意度 indicator yet
    fixed = json.loads(json.dumps(DRAFT))
    fixed["indicators"][2]["target"] = "≥90%"
    fixed["indicators"][2]["name"] = "人才政策知晓率"
    again = client.post("/api/draft/review", json=fixed).json()
    assert not [f for f in again["findings"] if f["rule"] == "vague-target"]


def test_draft_export_reads_back_as_the_same_table(client: TestClient, tmp_path: Path) -> None:
    from kg.readers import read_table

    for fmt in ("csv", "xlsx"):
        r = client.post("/api/draft/export", params={"format": fmt}, json=DRAFT)
        assert r.status_code == 200, r.text
        assert "attachment" in r.headers["content-disposition"]
        path = tmp_path / f"draft.{fmt}"
        path.write_bytes(r.content)
        _, parsed = read_table(path)
        assert parsed.table.department == "测试区委老干部局" and parsed.table.fiscal_year == 2025
        assert [t.name for t in parsed.tasks] == ["老干口业务"]
        assert parsed.tasks[0].total == 12.5
        got = [(i.level1, i.level2, i.name, i.target) for i in parsed.indicators]
        assert got == [
            ("产出指标", "数量指标", "慰问离休干部人数", "≥100人"),
            ("产出指标", "时效指标", "慰问金发放时间", "2025年2月10日前"),
            ("效益指标", "社会效益指标", "提升人才政策知晓度", "明显"),
        ]
        assert parsed.indicators[0].target_parsed.lower == 100


def test_draft_export_keeps_each_indicators_task(client: TestClient, tmp_path: Path) -> None:
    """The exported draft has a 所属任务 column: an indicator added from a task's suggestions
    keeps its task in the file, read back by the template reader and kept in the graph."""
    from kg.mapping import to_graph
    from kg.namespaces import IKG
    from kg.readers import read_table

    draft = json.loads(json.dumps(DRAFT))
    draft["indicators"][0]["task"] = "老干口业务"
    draft["indicators"][1]["task"] = "老干口业务"
    for fmt in ("csv", "xlsx"):
        r = client.post("/api/draft/export", params={"format": fmt}, json=draft)
        assert r.status_code == 200, r.text
        path = tmp_path / f"draft.{fmt}"
        path.write_bytes(r.content)
        if fmt == "csv":
            header = r.content.decode("utf-8-sig").splitlines()[0].split(",")
            assert "所属任务" in header
        _, parsed = read_table(path)
        assert [i.task for i in parsed.indicators] == ["老干口业务", "老干口业务", None]
    g = to_graph(parsed)
    assert sorted(str(o) for o in g.objects(None, IKG.taskName)) == ["老干口业务"] * 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"indicators": [{"level2": "数量指标", "name": "人数", "target": ""}]}, "target"),
        ({"fiscal_year": 1800}, "fiscal_year"),
        ({"indicators": [{"level2": "数量指标", "target": "1人"}]}, "name"),
    ],
)
def test_bad_draft_is_422_naming_the_field(client: TestClient, change: dict, where: str) -> None:
    r = client.post("/api/draft/review", json={**DRAFT, **change})
    assert r.status_code == 422
    assert r.json()["error"] and where in json.dumps(r.json()["detail"])


def test_draft_with_an_unknown_category_is_422_naming_it(client: TestClient) -> None:
    bad = {**DRAFT, "indicators": [{"level2": "奇怪指标", "name": "某指标", "target": "1个"}]}
    for route in ("/api/draft/export", "/api/draft/review"):
        r = client.post(route, json=bad)
        assert r.status_code == 422 and "奇怪指标" in json.dumps(r.json(), ensure_ascii=False)


# --------------------------------------------------------------------------- limits, headers


def _merge_bomb() -> bytes:
    """A workbook with one merged range over (almost) a whole sheet: 17 billion cells."""
    import io
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["一级指标", "二级指标", "三级指标", "目标值"])
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    merge = b'</sheetData><mergeCells count="1"><mergeCell ref="A2:XFD1048576"/></mergeCells>'
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", merge)
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_review_refuses_a_spreadsheet_bomb_fast(client: TestClient) -> None:
    import time

    started = time.monotonic()
    r = client.post("/api/review", files={"file": ("bomb.xlsx", _merge_bomb(), "application/zip")})
    assert time.monotonic() - started < 20
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["error"] == "payload_too_large"
    assert "bomb.xlsx" in body["detail"] and "/tmp" not in body["detail"]
    assert "A2:XFD1048576" in body["detail"] and "IKG_XLSX_MAX_CELLS" in body["detail"]


def test_review_uses_the_apps_spreadsheet_limits(settings: Settings) -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    for n in range(30):
        wb.active.append(["产出指标", "数量指标", f"指标{n}", "1个"])
    data = io.BytesIO()
    wb.save(data)
    small = settings.model_copy(update={"xlsx_max_cells": 100})
    with TestClient(create_app(small)) as c:
        r = c.post("/api/review", files={"file": ("t.xlsx", data.getvalue(), "application/zip")})
    assert r.status_code == 413 and "100 个单元格" in r.json()["detail"]


def test_json_body_limit_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"api_max_json_bytes": 1000})
    body = json.dumps({"task": "慰问", "content": "x" * 2000}).encode()
    with TestClient(create_app(small)) as c:
        r = c.post("/api/suggest", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        assert "1,000" in r.json()["detail"]
        # chunked, without Content-Length: counted as it arrives
        chunks = iter([body[:600], body[600:]])
        r = c.post("/api/suggest", content=chunks, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        r = c.post("/api/draft/review", json=DRAFT)  # a draft under the limit still passes
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"task": "慰" * 201}, "task"),
        ({"task": "慰问", "content": "x" * 4001}, "content"),
        ({"task": "慰问", "department": "部" * 101}, "department"),
        ({"task": "慰问", "draft": [{"name": "名" * 201}]}, "name"),
        ({"task": "慰问", "draft": [{"name": "a", "target": "1" * 201}]}, "target"),
        ({"task": "慰问", "draft": [{"name": "a"}] * 1001}, "draft"),
    ],
)
def test_suggest_field_too_long_is_422(client: TestClient, body: dict, where: str) -> None:
    r = client.post("/api/suggest", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_error" and where in r.json()["detail"]


@pytest.mark.parametrize(
    "params", [{"q": "满意度", "department": "部" * 101}, {"q": "满意度", "level2": "类" * 41}]
)
def test_search_filter_too_long_is_422(client: TestClient, params: dict) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 422 and r.json()["error"] == "validation_error"


def test_review_filename_too_long_is_422(client: TestClient) -> None:
    r = client.post("/api/review", data={"text": "x", "filename": "a" * 256 + ".txt"})
    assert r.status_code == 422 and "filename" in r.json()["detail"]


def test_queries_do_not_grow_the_vector_cache_on_disk(settings: Settings) -> None:
    from embeddings.cache import EmbeddingCache
    from embeddings.index import CACHE_FILE

    small = settings.model_copy(update={"api_query_cache_size": 3})
    cache = EmbeddingCache(settings.data_dir / CACHE_FILE)
    before = cache.count()
    with TestClient(create_app(small)) as c:
        for n in range(8):
            assert c.get("/api/search", params={"q": f"慰问金发放覆盖率 {n}"}).status_code == 200
        encoder = c.app.state.embedding_encoder
        assert encoder.memory_count() == 3  # the last three queries, in memory only
        misses = encoder.misses
        assert c.get("/api/search", params={"q": "慰问金发放覆盖率 7"}).status_code == 200
        assert encoder.misses == misses  # answered from memory
    assert cache.count() == before
    cache.close()


def test_small_unfiltered_searches_run_on_the_event_loop(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to ``api_search_inline_max`` indicators an unfiltered search skips the hand-off to a
    thread; a filtered one, and every one with the setting at 0, runs in a thread; the
    answers are the same."""
    import asyncio

    from api import services
    from api.routers import search as route

    # no version check falls inside the test (one a second sends a search to the thread)
    monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 3600.0)
    where: list[str] = []
    answer = route._answer

    def spy(*args: object, **kwargs: object) -> dict:
        try:
            asyncio.get_running_loop()
            where.append("loop")
        except RuntimeError:
            where.append("thread")
        return answer(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(route, "_answer", spy)
    asks = [{"q": "慰问金发放覆盖率"}, {"q": "慰问金发放覆盖率", "year": 2024}, {"q": "满意度"}]
    got = {}
    for inline in (200_000, 0):
        update = {"api_search_inline_max": inline}
        with TestClient(create_app(settings.model_copy(update=update))) as c:
            assert c.get("/api/search", params={"q": "预热"}).status_code == 200
            where.clear()
            got[inline] = [_search(c, **ask) for ask in asks]
            assert got[inline][1]["hits"] and got[inline][2]["hits"]
            placed = list(where)
        want = ["loop", "thread", "loop"] if inline else ["thread"] * 3
        assert placed == want, inline
    assert got[200_000] == got[0]


def test_direct_search_answers_as_the_route(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``DirectSearch`` answers an unfiltered search before the framework's routing: with the
    same status, headers and bytes as the route (``api_search_direct`` off); a filtered, an
    invalid or a failing request goes on to the route, which answers it as before."""
    from api import services
    from api.routers import search as route

    monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 3600.0)
    direct: list[bool] = []
    answer = route.direct_answer

    def spy(scope: dict) -> bytes | None:
        body = answer(scope)
        direct.append(body is not None)
        return body

    monkeypatch.setattr(route, "direct_answer", spy)
    asks = [
        "q=慰问金发放覆盖率",
        "q=%E6%BB%A1%E6%84%8F%E5%BA%A6&k=3",
        "q=满意度&k=1&k=4",  # repeated: the last counts, as the route reads it
        "q=满意度&year=2024",  # a filter: the route's thread
        "q=满意度&k=0",  # invalid: the route's 422
        "q=&k=5",
        "q=满意度&year=",
        "k=5",
        "q=满意度&unknown=1",
    ]
    got, took = {}, {}
    for on in (True, False):
        with TestClient(create_app(settings.model_copy(update={"api_search_direct": on}))) as c:
            assert c.get("/api/search", params={"q": "预热"}).status_code == 200
            direct.clear()
            got[on] = [c.get(f"/api/search?{ask}") for ask in asks]
            took[on] = list(direct)
    assert took[True] == [True, True, True, False, False, False, False, False, True]
    assert not any(took[False])
    for ask, a, b in zip(asks, got[True], got[False], strict=True):
        assert (a.status_code, a.content) == (b.status_code, b.content), ask
        assert a.headers.items() == b.headers.items(), ask
    assert [r.status_code for r in got[True]] == [200] * 4 + [422] * 4 + [200]
    assert len(got[True][2].json()["hits"]) == 4

    def broken(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("索引坏了")

    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        monkeypatch.setattr(route, "_answer", broken)
        r = c.get("/api/search", params={"q": "满意度"})
    assert r.status_code == 500 and r.json()["error"]  # the app's JSON error, not a bare 500


def test_security_headers(client: TestClient) -> None:
    for path in ("/api/tables", "/search", "/", "/healthz", "/api/nowhere"):
        r = client.get(path)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-eval" not in csp
    r = client.get("/docs")  # Swagger UI starts from one inline script: only that one runs
    import base64
    import hashlib
    import re

    (script,) = re.findall(r"<script>(.*?)</script>", r.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in r.headers["content-security-policy"]
