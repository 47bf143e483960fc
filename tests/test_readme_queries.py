"""Every example query in the README runs on a real graph and gives the right answer.

The graph: the seed table, plus a second department derived from it in this
file (no cost indicators, one satisfaction target at 85%, fiscal year 2025) so
that the queries that look for what a table lacks have something to find.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from kg import mapping
from kg.examples import example_queries
from kg.records import ParsedTable
from kg.store import GraphStore
from kg.targets import parse_target

README = Path(__file__).resolve().parents[1] / "README.md"
VARIANT_DEPT = "深圳市福田区测试局（测试用变体）"
SEED_DEPT = "中共深圳市福田区委组织部"


def readme_queries() -> dict[str, tuple[str, str]]:
    """Q-id → (title, query text) as the README shows them."""
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"^### (Q\d+) ([^\n]*)\n+```sparql\n(.*?)```", text, flags=re.M | re.S)
    return {qid: (title, body) for qid, title, body in found}


QUERIES = {q.id: q.sparql for q in example_queries()}


def test_readme_has_at_least_eight_queries():
    assert len(QUERIES) >= 8
    assert list(QUERIES) == [f"Q{n}" for n in range(1, len(QUERIES) + 1)]


def test_readme_shows_the_packaged_queries():
    """The README and kg/queries/*.rq say the same, title and text."""
    assert readme_queries() == {q.id: (q.title, q.sparql) for q in example_queries()}


def make_variant(seed: ParsedTable) -> ParsedTable:
    v = seed.model_copy(deep=True)
    v.table.department = VARIANT_DEPT
    v.table.title = VARIANT_DEPT + "部门整体支出绩效目标表"
    v.table.fiscal_year = 2025
    v.indicators = [i for i in v.indicators if i.level2 != "成本指标"]
    sat = next(i for i in v.indicators if i.name == "招聘单位满意度")
    sat.target = "≥85%"
    sat.target_parsed = parse_target("≥85%")
    for item in [v.table, *v.units, *v.tasks, *v.goals, *v.indicators, *v.not_applicable]:
        item.source.file = "variant.jsonl"
    if v.totals:
        v.totals.source.file = "variant.jsonl"
    return v


@pytest.fixture(scope="module")
def store(seed_parsed):
    s = GraphStore(None)  # in-memory pyoxigraph store, same code path as on disk
    s.load_ontology()
    for parsed in (seed_parsed, make_variant(seed_parsed)):
        s.replace_graph(
            mapping.table_uri(parsed), mapping.to_graph(parsed), mapping.organisations_graph(parsed)
        )
    return s


def rows(store, q: str) -> list[dict[str, object]]:
    names, data = store.select(QUERIES[q])
    assert data, f"{q} gave no rows"
    return [
        {n: (None if v is None else v.toPython()) for n, v in zip(names, r, strict=True)}
        for r in data
    ]


def of(dept: str, result: list[dict]) -> list[dict]:
    return [r for r in result if r["department"] == dept]


def test_q1_indicators_per_category(store, seed_parsed):
    result = of(SEED_DEPT, rows(store, "Q1"))
    assert {r["year"] for r in result} == {2024}
    got = {(r["level1"], r["level2"]): r["indicators"] for r in result}
    assert got == dict(Counter((i.level1, i.level2) for i in seed_parsed.indicators))
    variant = {(r["level1"], r["level2"]) for r in of(VARIANT_DEPT, rows(store, "Q1"))}
    assert ("产出指标", "成本指标") not in variant


def test_q2_qualitative_targets(store, seed_parsed, seed_path):
    result = of(SEED_DEPT, rows(store, "Q2"))
    expected = [
        (i.name, i.target, i.source.line)
        for i in seed_parsed.indicators
        if i.target_parsed.form in ("qualitative", "text")
    ]
    assert [(r["indicator"], r["target"], r["line"]) for r in result] == expected
    assert {r["file"] for r in result} == {str(seed_path)}
    assert ("提升人才政策覆盖面", "显著", 1047) in expected
    assert ("教学费用支付及时性", "及时", 886) in expected
    assert ("档案信息系统安全等级", "二级", 1157) in expected
    assert (
        len(expected) == 36
    )  # counted by hand in the seed: 2 及时, 33 显著/明显/二级, 1 free text


def test_q3_tables_without_cost_indicators(store):
    assert rows(store, "Q3") == [{"department": VARIANT_DEPT, "year": 2025}]


def test_q4_satisfaction_below_90(store):
    assert rows(store, "Q4") == [
        {"department": VARIANT_DEPT, "indicator": "招聘单位满意度", "target": "≥85%", "line": 1249}
    ]


def test_q5_budget_per_task(store, seed_parsed):
    result = of(SEED_DEPT, rows(store, "Q5"))
    assert [(r["task"], r["total"], r["line"]) for r in result] == sorted(
        ((t.name, t.total, t.source.line) for t in seed_parsed.tasks), key=lambda x: -x[1]
    )
    assert result[0]["task"] == "干部综合业务" and result[0]["total"] == Decimal("6686.88")
    units = {r["unit"] for r in result if r["task"] == "基本支出"}
    assert units == {"中共深圳市福田区委组织部（本级）", "深圳市福田区干部综合服务中心"}


def test_q6_unbalanced_rows(store):
    result = of(SEED_DEPT, rows(store, "Q6"))
    assert result == [
        {
            "department": SEED_DEPT,
            "task": "基本支出",
            "total": Decimal("3133.45"),
            "fiscal": Decimal("3128.46"),
            "other": Decimal("0.00"),
            "line": 36,
        }
    ]


def test_q7_totals_against_rows(store, seed_parsed):
    (r,) = of(SEED_DEPT, rows(store, "Q7"))
    assert r["statedTotal"] == Decimal("16499.41") and r["statedFiscal"] == Decimal("16499.41")
    assert r["sumTotal"] == sum(t.total for t in seed_parsed.tasks) == Decimal("16499.42")
    assert r["sumFiscal"] == sum(t.fiscal for t in seed_parsed.tasks) == Decimal("16494.43")


def test_q8_deadline_outside_fiscal_year(store):
    result = of(SEED_DEPT, rows(store, "Q8"))
    assert result == [
        {
            "department": SEED_DEPT,
            "year": 2024,
            "indicator": "党员干部培训、党员教育管理经费、机关群团活动等党建工作时效",
            "target": "2023年12月20日前",
            "line": 927,
        }
    ]


def test_q9_cost_not_money(store, seed_parsed):
    result = of(SEED_DEPT, rows(store, "Q9"))
    expected = sorted((i.name, i.target) for i in seed_parsed.indicators if i.level2 == "成本指标")
    assert sorted((r["indicator"], r["target"]) for r in result) == expected
    assert len(expected) == 8


def test_q10_not_applicable(store):
    result = of(SEED_DEPT, rows(store, "Q10"))
    assert [(r["level2"], r["line"]) for r in result] == [
        ("生态效益指标", 1226),
        ("其他满意度指标", 1306),
    ]


def test_q11_find_by_word(store, seed_parsed, seed_path):
    result = rows(store, "Q11")
    expected = [i for i in seed_parsed.indicators if "慰问金" in i.name]
    seed_rows = [r for r in result if r["file"] == str(seed_path)]
    assert [(r["indicator"], r["line"]) for r in seed_rows] == [
        (i.name, i.source.line) for i in expected
    ]
    assert len(expected) >= 4


def test_q12_unrecognised_targets(store):
    result = of(SEED_DEPT, rows(store, "Q12"))
    assert [(r["indicator"], r["target"], r["line"]) for r in result] == [
        ("加强组织新颖的活动，促进老干部身心健康", "及时反馈建议或意见", 1127)
    ]


def test_memory_copy_answers_every_query_like_the_store_on_disk(store, tmp_path, monkeypatch):
    """``GraphStore(path, read_only=True, in_memory=True)`` (what the API serves with
    IKG_STORE_IN_MEMORY) holds every quad of the store on disk and gives the same answers,
    copied in many small batches (97 quads: a size that does not divide the count)."""
    import kg.store

    monkeypatch.setattr(kg.store, "MEMORY_COPY_BATCH", 97)
    disk = GraphStore(tmp_path / "store")
    disk.ox.bulk_extend(store.ox.quads_for_pattern(None, None, None, None))
    disk.close()
    on_disk = GraphStore(tmp_path / "store", read_only=True)
    copy = GraphStore(tmp_path / "store", read_only=True, in_memory=True)
    assert len(copy) == len(on_disk) == len(store) > 10 * 97
    assert set(copy.ox.quads_for_pattern(None, None, None, None)) == set(
        on_disk.ox.quads_for_pattern(None, None, None, None)
    )
    assert set(copy.named_graphs()) == set(on_disk.named_graphs())
    for qid, q in QUERIES.items():
        a, b = on_disk.select(q), copy.select(q)
        assert a[0] == b[0] and sorted(map(str, a[1])) == sorted(map(str, b[1])), qid
    with pytest.raises(ValueError, match="read-only"):
        GraphStore(tmp_path / "store", in_memory=True)
