"""The reviewer's desk API (api/routers/desk.py) on real tables: the corpus's two series of one
department in two years (湘潭市环境卫生管理处 2023 → 2024; 大英县民政局 2020 → 2022), a 2024
variant with a lowered target, a dropped and an added indicator, and a few other departments."""

from __future__ import annotations

import csv
import io
import urllib.parse
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from apps.review import review_files
from apps.review.xlsx import FINDING_HEADERS, FINDINGS_SHEET
from kg.build import build
from kg.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "demo" / "corpus"
XT_2023 = CORPUS / "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.csv"
XT_2024 = CORPUS / "hunan_xiangtan_sanitation_2024_fog_cannon_project_target.csv"
DY_2020 = CORPUS / "sichuan_daying_civil_affairs_2020_elderly_care_selfeval_fragment.csv"
DY_2022 = CORPUS / "sichuan_daying_civil_affairs_2022_orphan_grant_selfeval.csv"
OTHERS = [
    CORPUS / "anhui_luan_agri_2024_quality_testing_project_target.csv",
    CORPUS / "guangxi_baise_edu_2023_project_public.csv",
]
XT = "湘潭市环境卫生管理处"
DY = "大英县民政局"


def xt_2024_variant() -> bytes:
    """The 2024 table with ≥85% → 75% (lowered), 雾炮车风炮射程 removed (dropped) and a new
    indicator (added)."""
    with XT_2024.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    out = []
    for r in rows:
        if len(r) > 20 and r[19] == "雾炮车风炮射程":
            continue
        if len(r) > 20 and r[19].startswith("服务周期内,市民"):
            r[20] = "75%"
        out.append(r)
        if len(r) > 20 and r[19] == "雾炮车抑尘降尘服务配备车辆数":
            added = list(r)
            added[19], added[20], added[37], added[38] = (
                "雾炮车作业覆盖道路里程",
                "≥50公里",
                "99",
                "103",
            )
            out.append(added)
    buf = io.StringIO()
    csv.writer(buf).writerows(out)
    return buf.getvalue().encode("utf-8-sig")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from embeddings import index_for_store

    data = tmp_path_factory.mktemp("api-desk")
    s = Settings(data_dir=data, embedding_model="use-multilingual", api_review_max_files=4)
    build([XT_2023, XT_2024, DY_2020, DY_2022, *OTHERS], s.store_path)
    index_for_store(s.store_path, data, s)
    return s


@pytest.fixture(scope="module")
def client(settings: Settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


def upload(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "text/csv")) for name, data in items]


@pytest.fixture(scope="module")
def batch(client: TestClient) -> dict:
    files = upload(
        ("xt_2024_variant.csv", xt_2024_variant()),
        (DY_2022.name, DY_2022.read_bytes()),
        (OTHERS[0].name, OTHERS[0].read_bytes()),
    )
    r = client.post("/api/review/batch", files=files)
    assert r.status_code == 200, r.text
    return r.json()


# --------------------------------------------------------------------------- batch


def test_batch_summary_sorted_by_attention(batch: dict) -> None:
    tables = batch["tables"]
    assert [t["file"] for t in tables if t["department"] == XT] == ["xt_2024_variant.csv"]
    assert len(tables) == 3 and {t["department"] for t in tables} >= {XT, DY}
    keys = [(-t["counts"]["error"], -t["counts"]["warning"], -t["cross_year"]) for t in tables]
    assert keys == sorted(keys)
    assert all("/tmp" not in t["file"] and "ikg-desk" not in t["file"] for t in tables)
    # the same report the library makes (what ikg review gives), plus the side-by-side views
    assert {f["file"] for f in batch["files"]} == {t["file"] for t in tables}
    assert batch["summary"]["findings"] == len(batch["findings"]) > 0


def test_batch_cross_year_against_the_store(batch: dict) -> None:
    """The variant is compared with the store's 2023 table of the same department."""
    history = [f for f in batch["findings"] if f["section"] == "history"]
    (low,) = [f for f in history if f["rule"] == "target-lowered"]
    assert low["values"]["prev_target"] == "≥85%" and low["values"]["prev_line"] == "80"
    (drop,) = [f for f in history if f["rule"] == "indicator-dropped"]
    assert drop["item_name"] == "雾炮车风炮射程"
    xt = next(t for t in batch["tables"] if t["department"] == XT)
    assert xt["cross_year"] == 2 and xt["compared_with"].endswith(
        "2023_fog_cannon_project_declaration.txt"
    )
    comp = {c["department"]: c for c in batch["comparisons"]}
    assert comp[XT]["status"] == "compared" and comp[XT]["prior_year"] == 2023
    assert comp[DY]["status"] == "other-project" and comp[DY]["prior_year"] == 2020
    # what was compared: the store's tables and the batch, departments, years
    a = batch["against"]
    assert a["sources"] == ["earlier", "batch"]
    assert a["years"] == [2020, 2022, 2023, 2024] and a["departments"] == 4 and a["tables"] >= 6


def test_batch_side_by_side_view(batch: dict) -> None:
    views = {v["department"]: v for v in batch["cross_year"]}
    assert set(views) == {XT, DY}
    xt = views[XT]
    assert (xt["prior_year"], xt["year"]) == (2023, 2024) and xt["years"] == [2023, 2024]
    (pair,) = xt["pairs"]
    rows = {(r["name"] or r["prev_name"]): r for r in pair["rows"]}
    assert rows["服务周期内,市民对空气质量改善的满意程度"]["change"] == "lowered"
    assert rows["服务周期内,市民对空气质量改善的满意程度"]["change_zh"] == "目标降低"
    assert rows["雾炮车风炮射程"]["change"] == "dropped" and rows["雾炮车风炮射程"]["name"] is None
    assert rows["雾炮车作业覆盖道路里程"]["change"] == "added"
    assert rows["雾炮车作业覆盖道路里程"]["prev_name"] is None
    assert rows["服务周期内空气质量"]["change"] == "unchanged"
    assert pair["counts"]["lowered"] == 1 and pair["counts"]["dropped"] == 1
    assert pair["counts"]["added"] == 1
    (dy,) = views[DY]["pairs"]
    assert dy["status"] == "other-project" and dy["rows"] == []


# --------------------------------------------------------------------------- the store


def test_stored_tables_list(client: TestClient) -> None:
    items = client.get("/api/review/tables").json()["items"]
    assert {(t["department"], t["fiscal_year"]) for t in items} >= {
        (XT, 2023),
        (XT, 2024),
        (DY, 2020),
        (DY, 2022),
    }
    assert all(t["uri"].startswith("https://w3id.org/indicator-kg/data/table/") for t in items)


def test_review_stored_by_uri_is_the_review_of_the_file(client: TestClient) -> None:
    """A stored table read back from the graph gives the findings of its source file."""
    items = client.get("/api/review/tables").json()["items"]
    uri = next(t["uri"] for t in items if t["department"] == XT and t["fiscal_year"] == 2024)
    r = client.post("/api/review/stored", json={"tables": [uri]})
    assert r.status_code == 200, r.text
    got = r.json()
    direct = review_files([XT_2024], scorer=False).model_dump(mode="json")["findings"]
    own = lambda fs: {  # noqa: E731 - the table's own findings (not those comparing with others)
        (f["rule"], f["line"], f["message_zh"])
        for f in fs
        if f["section"] not in ("duplicates", "history")
    }
    assert own(got["findings"]) == own(direct) != set()
    assert got["tables"][0]["department"] == XT and got["tables"][0]["file"].endswith(".jsonl")
    assert [c["status"] for c in got["comparisons"]] == ["compared"]  # with the stored 2023


def test_review_stored_by_department(client: TestClient) -> None:
    r = client.get("/api/review/stored", params={"department": DY})
    assert r.status_code == 200, r.text
    assert sorted(t["fiscal_year"] for t in r.json()["tables"]) == [2020, 2022]
    r = client.post("/api/review/stored", json={"department": DY, "year": 2022})
    assert [t["fiscal_year"] for t in r.json()["tables"]] == [2022]


def test_cross_year_view_of_the_store(client: TestClient) -> None:
    r = client.get("/api/review/crossyear", params={"department": XT})
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["prior_year"], view["year"], view["years"]) == (2023, 2024, [2023, 2024])
    (pair,) = view["pairs"]
    assert pair["status"] == "compared" and len(pair["rows"]) == 7
    changes = {r["name"]: r["change"] for r in pair["rows"]}
    assert changes["服务周期内,市民对空气质量改善的满意程度"] == "unchanged"  # ≥85% → 85%
    assert changes["控制在预算成本内"] == "changed"  # 250万 → 控制在预算内
    r = client.get("/api/review/crossyear", params={"department": DY, "prior_year": 2020})
    assert r.json()["pairs"][0]["status"] == "other-project"


# --------------------------------------------------------------------------- export


def test_export_filtered_view(client: TestClient, batch: dict) -> None:
    from openpyxl import load_workbook

    want = [f for f in batch["findings"] if f["severity"] == "warning" and f["rule"] != "x"]
    dept_of = {fs["file"]: fs["department"] for fs in batch["files"]}
    want = [f for f in want if dept_of.get(f.get("input_file") or f["file"]) == XT]
    assert want
    r = client.post(
        "/api/review/export", json={"report": batch, "department": XT, "severity": "warning"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;") and "filename*=UTF-8''" in cd
    name = urllib.parse.unquote(cd.split("filename*=UTF-8''")[1])
    assert name == f"审核问题清单_{XT}_warning.xlsx"
    ws = load_workbook(io.BytesIO(r.content))[FINDINGS_SHEET]
    assert [c.value for c in ws[1]] == FINDING_HEADERS
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) == len(want)
    assert {r[0] for r in rows} == {XT} and {r[5] for r in rows} == {"警告"}
    assert sorted(r[4] for r in rows) == sorted(f["rule"] for f in want)


def test_export_rule_filter_and_everything(client: TestClient, batch: dict) -> None:
    from openpyxl import load_workbook

    titles = {r["id"]: r["title_zh"] for r in batch["rules"]}
    r = client.post("/api/review/export", json={"report": batch, "rule": "target-lowered"})
    ws = load_workbook(io.BytesIO(r.content))[FINDINGS_SHEET]
    assert ws.max_row == 2 and ws.cell(2, 4).value == titles["target-lowered"]
    r = client.post("/api/review/export", json={"report": batch})
    ws = load_workbook(io.BytesIO(r.content))[FINDINGS_SHEET]
    assert ws.max_row - 1 == len(batch["findings"])


# --------------------------------------------------------------------------- bad input


def test_no_files(client: TestClient) -> None:
    r = client.post("/api/review/batch", data={"x": "1"})
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request" and "至少一个文件" in r.json()["detail"]


def test_too_many_files(client: TestClient) -> None:
    files = upload(*[(f"t{k}.csv", XT_2023.read_bytes()) for k in range(5)])
    r = client.post("/api/review/batch", files=files)
    assert r.status_code == 400
    assert "最多审核 4 个文件" in r.json()["detail"] and "收到 5 个" in r.json()["detail"]


def test_unreadable_file_is_named(client: TestClient) -> None:
    files = upload(
        (XT_2023.name, XT_2023.read_bytes()), ("会议纪要.txt", "今天开会。\n散会。".encode())
    )
    r = client.post("/api/review/batch", files=files)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "not_a_table" and "会议纪要.txt" in body["detail"]
    assert "/tmp" not in body["detail"]


def test_empty_file_is_named(client: TestClient) -> None:
    r = client.post("/api/review/batch", files=upload(("空.csv", b"")))
    assert r.status_code == 422 and "空.csv" in r.json()["detail"]


def test_bad_store_requests(client: TestClient) -> None:
    r = client.post("/api/review/stored", json={})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = client.post("/api/review/stored", json={"tables": ["https://example.org/nope"]})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = client.post("/api/review/stored", json={"tables": "x", "extra": 1})
    assert r.status_code == 422 and r.json()["error"] == "validation_error"
    r = client.get("/api/review/crossyear", params={"department": "没有这个部门"})
    assert r.status_code == 404 and "没有这个部门" in r.json()["detail"]
    r = client.get(
        "/api/review/crossyear", params={"department": XT, "year": 2023, "prior_year": 2024}
    )
    assert r.status_code == 400
    r = client.post("/api/review/export", json={"report": {"files": []}, "severity": "fatal"})
    assert r.status_code == 422 and r.json()["error"] == "validation_error"


def test_single_review_runs_the_cross_year_checks_against_the_store(client: TestClient) -> None:
    """POST /api/review with against=true compares with the store's earlier tables too."""
    got = {}
    for against in ("false", "true"):
        r = client.post(
            "/api/review",
            files={"file": ("xt_2024_variant.csv", xt_2024_variant(), "text/csv")},
            data={"against": against},
        )
        assert r.status_code == 200, r.text
        got[against] = r.json()
    assert not [f for f in got["false"]["findings"] if f["section"] == "history"]
    rules = {f["rule"] for f in got["true"]["findings"] if f["section"] == "history"}
    assert rules == {"target-lowered", "indicator-dropped"}
    assert got["true"]["comparisons"][0]["prior_year"] == 2023
    assert got["true"]["against"]["years"] == [2020, 2022, 2023, 2024]
