"""The fast paths of search, similar and duplicates (issue 21) give the answers of the slow ones.

* filters inside the search: a filtered query returns k hits whenever k indicators match,
  at 100k synthetic indicators (hash encoder), on both the exact-subset and the faiss-selector
  paths;
* vectors read at once (``FaissIndex.all_vectors``) equal the ones read one by one;
* the duplicate report saved by the build answers ``/api/duplicates`` as a fresh sweep does;
* the query LRU is asked before SQLite; the thread pools are sized; pages are bounded in bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from api.routers.duplicates import _page
from embeddings.cache import CachedEncoder, EmbeddingCache
from embeddings.duplicates import find_duplicates
from embeddings.encoders import HashingEncoder
from embeddings.faiss_index import FaissIndex
from embeddings.index import BRUTE_FORCE_MAX, Filters, IndicatorIndex, open_index
from embeddings.lexical import LexicalIndex
from embeddings.precomputed import answer_duplicates, covers, load_duplicates, report_path
from embeddings.text import IndicatorText
from embeddings.threads import limit_threads
from kg.build import build
from kg.settings import Settings

CORPUS = Path(__file__).resolve().parents[1] / "data" / "demo" / "corpus"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_3b89ef93caa61199.txt"

HEADS = ["培训", "慰问金", "离休干部", "农村", "道路", "学校", "医疗", "垃圾", "水利", "档案"]
TAILS = ["人次", "发放覆盖率", "满意度", "完成率", "及时率", "数量", "合格率", "里程", "户数"]
TARGET_DEPT = "中共深圳市福田区委组织部"


def _items(n: int) -> list[IndicatorText]:
    """n synthetic indicators; 5,000 are named 培训人次 outside the target department, which
    holds 12 indicators (none of them named so)."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        if i < 12:
            dept, name = TARGET_DEPT, rng.choice(HEADS[1:]) + rng.choice(TAILS)
        elif i < 5012:
            dept, name = f"合成部门{i % 97:03d}", "培训人次"
        else:
            dept, name = f"合成部门{i % 997:03d}", rng.choice(HEADS) + rng.choice(TAILS)
        out.append(
            IndicatorText(
                id=f"urn:x:{i}", name=name, department=dept, year=2020 + i % 5, table=f"t{i % 50}"
            )
        )
    return out


@pytest.fixture(scope="module")
def big() -> IndicatorIndex:
    return IndicatorIndex.build(_items(100_000), HashingEncoder(32), kind="flat")


def _exact_scores(index: IndicatorIndex, text: str, rows: np.ndarray, k: int) -> list[float]:
    """The k best hybrid scores among ``rows``, every one scored."""
    q = index.encoder.encode([text])[0]
    lex = index.lexical.cosine_to_all([text])[0][rows]
    scores = index._combine(index.matrix[rows] @ q, lex)
    return sorted((round(float(s), 4) for s in scores), reverse=True)[:k]


def test_filtered_query_returns_k_hits_at_100k(big: IndicatorIndex) -> None:
    assert len(big.items) > BRUTE_FORCE_MAX  # the pooled path, where filters used to come last
    hits = big.search("培训人次", k=10, filters=Filters(department=TARGET_DEPT))
    assert len(hits) == 10 and {h.department for h in hits} == {TARGET_DEPT}
    rows = big.rows_matching(Filters(department=TARGET_DEPT))
    assert rows is not None and len(rows) == 12
    assert [h.score for h in hits] == _exact_scores(big, "培训人次", rows, 10)
    # all 12 when k asks for more; none when nothing matches
    assert len(big.search("培训人次", k=50, filters=Filters(department=TARGET_DEPT))) == 12
    assert big.search("培训人次", k=5, filters=Filters(department="没有这个部门")) == []


def test_the_pool_holds_the_exact_top_k_at_100k(big: IndicatorIndex) -> None:
    """The pooled search (each scorer's best pool_size(k) at 100k) gives the scores of
    scoring every row, for k = 10 and k = 50, unfiltered."""
    from embeddings.index import pool_size

    every = np.arange(len(big.items))
    assert pool_size(10, len(every)) < pool_size(50, len(every)) < len(every)
    for q in ["培训人次", "慰问金发放覆盖率", "农村道路里程", "学校满意度", "垃圾分类户数"]:
        for k in (10, 50):
            assert [h.score for h in big.search(q, k=k)] == _exact_scores(big, q, every, k)


def test_top_unordered_is_the_top_k_of_every_score(big: IndicatorIndex) -> None:
    """The sampled threshold selects what a partition of all the scores selects (the same
    values; of ties at the k-th place, any), on real lexical scores (mostly zeros and ties)
    and on the shapes that defeat a sample: all equal, sorted, rare non-zeros, negatives."""
    from embeddings.index import _top_unordered

    rng = np.random.default_rng(5)
    n = 100_000
    shapes = [big.lexical.cosine_to_all([q])[0] for q in ("培训人次", "率", "慰问金发放覆盖率")]
    shapes += [
        np.zeros(n, dtype=np.float32),
        rng.random(n).astype(np.float32),
        np.sort(rng.random(n)).astype(np.float32),
        -np.sort(rng.random(n)).astype(np.float32),
        (rng.random(n) < 0.001).astype(np.float32),  # 100 non-zeros: fewer than k = 200
        np.repeat(rng.random(100), 1000).astype(np.float32),
    ]
    for x in shapes:
        for k in (1, 10, 200, 5000):
            got = _top_unordered(x, k)
            assert len(got) == k == len(set(got.tolist()))
            want = np.argpartition(-x, k - 1)[:k]
            assert np.array_equal(np.sort(x[got]), np.sort(x[want]))
    assert list(_top_unordered(np.ones(3, dtype=np.float32), 5)) == [0, 1, 2]
    assert len(_top_unordered(np.ones(3, dtype=np.float32), 0)) == 0


def test_the_lexical_pool_from_distinct_names_is_the_top_k_rows(big: IndicatorIndex) -> None:
    """The pool picked from each distinct name's score (a name's rows, best names first)
    holds the values of the k best rows by every row's score, for k below and above the
    5,000 rows that share one name, and distinct rows."""
    from embeddings.index import _top_rows

    lex = big.lexical
    assert len(lex.text_counts) < len(big.items) // 10  # the synthetic names repeat
    for q in ("培训人次", "率", "慰问金发放覆盖率", "从未出现的字龘"):
        per_text, per_row = lex.distinct_scores(q), lex.scores(q)
        for k in (1, 10, 200, 4999, 5000, 5001, 20_000):
            got = _top_rows(lex, per_text, k)
            assert len(got) == k == len(set(got.tolist()))
            want = np.argpartition(-per_row, k - 1)[:k]
            assert np.array_equal(np.sort(per_row[got]), np.sort(per_row[want]))


def test_faiss_beside_the_lexical_side_gives_the_same_hits(
    big: IndicatorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server's index runs FAISS in a helper thread beside the lexical scores: the same
    hits, unfiltered and filtered, and an error in between frees the helper."""
    from embeddings.beside import Beside

    asks = [("培训人次", None), ("慰问金发放覆盖率", None), ("学校满意度", Filters(level1=""))]
    before = [big.search(q, k=10, filters=f) for q, f in asks]
    big.beside = Beside()
    try:
        assert [big.search(q, k=10, filters=f) for q, f in asks] == before
        with monkeypatch.context() as m:  # fails while FAISS runs in the helper

            def broken(text: str) -> None:
                raise RuntimeError("lexical side failed")

            m.setattr(big.lexical, "distinct_scores", broken)
            with pytest.raises(RuntimeError, match="lexical side failed"):
                big.search("培训人次", k=10)
        job = big.beside.start(lambda: "free")
        assert job is not None and job.result() == "free"
        job.close()
    finally:
        big.beside.close()
        big.beside = None


def test_sorted_distinct_is_numpys_unique() -> None:
    from embeddings.index import _sorted_distinct

    rng = np.random.default_rng(3)
    for x in (rng.integers(0, 500, 400), np.arange(10), np.zeros(0, dtype=np.int64), [7], [2, 2]):
        x = np.asarray(x, dtype=np.int64)
        assert _sorted_distinct(x).tolist() == np.unique(x).tolist()


def test_large_filter_goes_through_the_faiss_selector(big: IndicatorIndex) -> None:
    f = Filters(level1="")  # matches every indicator: more than BRUTE_FORCE_MAX rows kept
    rows = big.rows_matching(f)
    assert rows is not None and len(rows) == len(big.items)
    year = Filters(year=2021)
    kept = big.rows_matching(year)
    assert kept is not None and len(kept) == 20_000 < BRUTE_FORCE_MAX
    wide = Filters(table="t1")  # 2,000 rows: the exact path
    assert len(big.search("学校满意度", k=7, filters=wide)) == 7
    # more than BRUTE_FORCE_MAX rows kept: dense hits come from faiss with an ID selector
    odd = big.rows_matching(Filters())
    assert odd is None
    sel = np.arange(0, len(big.items), 2)
    hits = big.vectors.search(big.matrix[:1], 20, rows=big.positions[sel])[0]
    assert len(hits) == 20 and all(int(h.rsplit(":", 1)[1]) % 2 == 0 for h, _ in hits)
    hybrid = big.search("道路里程", k=10, filters=f)
    assert [h.score for h in hybrid] == [h.score for h in big.search("道路里程", k=10)]


def test_rows_matching_is_the_filter(big: IndicatorIndex) -> None:
    for f in (
        Filters(department="合成部门01"),
        Filters(year=2022, table="t3"),
        Filters(department="合成部门00", year=2020),
    ):
        rows = big.rows_matching(f)
        assert rows is not None
        assert rows.tolist() == [n for n, it in enumerate(big.items) if f(it)]


def test_region_filter() -> None:
    items = [
        IndicatorText(id="a", name="培训人次", department="深圳市福田区教育局"),
        IndicatorText(id="b", name="培训人次", department="深圳市南山区教育局"),
    ]
    index = IndicatorIndex.build(items, HashingEncoder(32))
    hits = index.search("培训人次", k=5, filters=Filters(region="福田"))
    assert [h.uri for h in hits] == ["a"]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_all_vectors_are_the_stored_ones(kind: str) -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((600, 16)).astype(np.float32)
    ids = [f"i{n}" for n in range(600)]
    fi = FaissIndex(16, model_id="m", kind=kind)
    fi.index(ids, v)
    every = fi.all_vectors()
    assert np.array_equal(every[[fi.position(i) for i in ids[:40]]], fi.vectors(ids[:40]))
    if kind == "flat":  # a removal compacts faiss's storage: rows stay where they were
        fi.remove(["i3"])
        after = fi.all_vectors()
        assert not after[3].any() and np.array_equal(after[4], fi.vectors(["i4"])[0])


def test_index_matrix_follows_item_order() -> None:
    items = _items(300)
    built = IndicatorIndex.build(items, HashingEncoder(32))
    reloaded = IndicatorIndex(list(reversed(items)), built.vectors, encoder=None, floor=0.0)
    assert np.array_equal(reloaded.matrix[0], built.matrix[-1])


def test_query_lru_is_asked_before_sqlite(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    enc = CachedEncoder(HashingEncoder(32), cache, store_new=False, memory=4)
    first = enc.encode(["培训人次"])
    calls = []
    real = cache.get_many
    cache.get_many = lambda *a, **kw: calls.append(a) or real(*a, **kw)  # type: ignore[method-assign]
    again = enc.encode(["培训人次"])
    assert np.array_equal(first, again) and calls == [] and cache.count() == 0


def test_limit_threads_caps_the_pools() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    faiss = pytest.importorskip("faiss")
    before = faiss.omp_get_max_threads()
    with threadpoolctl.threadpool_limits(limits=None):  # restored afterwards
        done = limit_threads(1)
        assert done["faiss"] == 1 and faiss.omp_get_max_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpoolctl.threadpool_info())
    faiss.omp_set_num_threads(before)
    assert limit_threads(0) == {}


def test_limit_threads_also_caps_the_libraries_loaded_later() -> None:
    """A fresh server process: the pools of numpy and scipy (loaded with the index, after
    the limit was set) have one thread too."""
    import subprocess
    import sys

    pytest.importorskip("threadpoolctl")
    code = (
        "from embeddings.threads import limit_threads; limit_threads(1); "
        "import embeddings.lexical, scipy.sparse, numpy, threadpoolctl; "
        "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info()}))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.strip() == "[1]"


def test_limit_threads_reaches_the_request_threads() -> None:
    """OpenMP's cap is per thread: a request thread (not the one that set the cap) runs FAISS
    and the OpenMP pools with one thread once it has picked up the index (get_index)."""
    import subprocess
    import sys

    pytest.importorskip("threadpoolctl")
    code = (
        "import threading, faiss, threadpoolctl\n"
        "from embeddings.threads import limit_threads, limit_this_thread\n"
        "limit_threads(1)\n"
        "def pools():\n"
        "    return faiss.omp_get_max_threads(), max(\n"
        "        p['num_threads'] for p in threadpoolctl.threadpool_info()\n"
        "        if p['internal_api'] == 'openmp')\n"
        "out = []\n"
        "def request():\n"
        "    out.append(pools()); limit_this_thread(); out.append(pools())\n"
        "t = threading.Thread(target=request); t.start(); t.join()\n"
        "print(out)\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "2"}  # the 2-core machine's default
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        check=True,
    )
    before, after = eval(out.stdout.strip())
    assert before == (2, 2)  # what the request threads ran with before limit_this_thread
    assert after == (1, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, IndicatorIndex]:
    from embeddings import index_for_store

    data = tmp_path_factory.mktemp("precomputed")
    s = Settings(data_dir=data, embedding_model="hash")
    build([SEED, *sorted(CORPUS.glob("*"))[:4]], s.store_path)
    index_for_store(s.store_path, data, s)
    from kg.store import GraphStore

    with GraphStore(s.store_path, read_only=True) as store:
        index, _ = open_index(store, data, s, on_stale="error")
    return s, index


def _shape(rep) -> tuple:  # type: ignore[no-untyped-def]
    clusters = sorted(
        (
            tuple(sorted(m.id for m in c.members)),
            round(c.min_similarity, 6),
            c.label,
            tuple(sorted(c.scopes)),
            tuple(sorted((p.a.id, p.b.id, p.score.score, p.label) for p in c.pairs)),
        )
        for c in rep.clusters
    )
    pairs = [(p.a.id, p.b.id, p.score.score, p.scope, p.label) for p in rep.pairs]
    return rep.threshold, rep.pairs_total, rep.shown_bands, clusters, pairs


def test_saved_report_answers_as_a_fresh_sweep(demo: tuple[Settings, IndicatorIndex]) -> None:
    s, index = demo
    saved = load_duplicates(s.data_dir / "embeddings" / "index", index)
    assert saved is not None and saved.pairs_total == len(saved.pairs)  # small: all listed
    asked = 0
    for scope in ("all", "within-table", "across-departments"):
        for threshold, band in ((None, None), (None, "duplicate"), (None, "review"), (0.9, None)):
            if not covers(saved, index, threshold, band):
                continue
            asked += 1
            fresh = find_duplicates(index, threshold=threshold, scope=scope, band=band)
            read = answer_duplicates(saved, index, scope, threshold, band)
            assert _shape(read) == _shape(fresh), (scope, threshold, band)
    assert asked >= 9
    assert not covers(saved, index, None, "related")  # wider than saved: computed instead


def test_saved_report_names_the_index_own_indicators(
    demo: tuple[Settings, IndicatorIndex],
) -> None:
    """A loaded report holds no copy of the indicators it names (a gigabyte per server worker
    at 1M): its pairs' ends and clusters' members are the index's objects, equal to what was
    saved."""
    s, index = demo
    saved = load_duplicates(s.data_dir / "embeddings" / "index", index)
    assert saved is not None and saved.pairs and saved.clusters
    mine = {id(it) for it in index.items}
    ends = [e for p in saved.pairs for e in (p.a, p.b)]
    assert all(id(e) in mine for e in ends)
    assert all(id(m) in mine for c in saved.clusters for m in c.members)
    assert all(e == index.items[index.by_id[e.id]] for e in ends)


def test_pages_order_the_clusters_once_per_report(
    demo: tuple[Settings, IndicatorIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing's order (sections, year, region) is worked out on the first page and
    kept with the report: at 1M it was 1.5 s of every page. Pages still follow it."""
    import embeddings.duplicates as dup
    from embeddings.duplicates import listing_sections

    _, index = demo
    rep = find_duplicates(index, band="review")
    expected = [c.id for _, cs in listing_sections(rep) for c in cs]
    assert len(expected) >= 4
    calls = []
    monkeypatch.setattr(dup, "listing_sections", lambda r: calls.append(r) or listing_sections(r))
    seen, offset = [], 0
    while offset is not None:
        page = _page(rep, "all", offset, 3)
        seen += [c["id"] for c in page["clusters"]]
        offset = page["next_offset"]
    assert seen == expected and len(calls) == 1


def test_saved_report_is_keyed_by_the_index(demo: tuple[Settings, IndicatorIndex]) -> None:
    s, index = demo
    folder = s.data_dir / "embeddings" / "index"
    assert report_path(folder, index).is_file()
    other = IndicatorIndex.build(index.items[:-1], HashingEncoder(256))
    assert load_duplicates(folder, other) is None  # another graph: never a stale report
    assert load_duplicates(folder, index, common_share=0.9) is None  # other settings


def test_api_reads_the_saved_report_and_bounds_pages(
    demo: tuple[Settings, IndicatorIndex],
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    s, index = demo
    with TestClient(create_app(s)) as client:
        body = client.get("/api/duplicates", params={"limit": 200}).json()
        assert body["precomputed"] is True and body["truncated"] is False
        assert body["next_offset"] is None and body["total"] == len(body["clusters"]) >= 2
        wide = client.get("/api/duplicates", params={"band": "related", "limit": 5}).json()
        assert wide["precomputed"] is False
    fresh = find_duplicates(index)
    page = _page(fresh, "all", 0, 200, budget=1)
    assert len(page["clusters"]) == 1 and page["truncated"] is True and page["next_offset"] == 1


def test_each_server_worker_loads_and_warms_its_index_before_it_serves(
    demo: tuple[Settings, IndicatorIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ikg serve --workers N``: a worker's app (``app_from_env``, which uvicorn calls before
    the worker accepts connections) comes with its index loaded and warmed up (vectors, the
    saved default duplicate listing), so no worker's first requests pay for them; the
    setting turns it off, and an unavailable index does not stop the worker."""
    import api.server

    s, _ = demo
    monkeypatch.setattr(api.server, "limit_threads", lambda n: {})  # this process keeps its pools
    monkeypatch.setattr(api.server, "_log_to_stderr", lambda level: None)
    monkeypatch.setattr(api.server, "get_settings", lambda: s)
    app = api.server.app_from_env()
    index = app.state.embedding_index
    assert index is not None and index._matrix is not None and index._item_rows is not None
    assert not app.state.embedding_warm_up.is_alive()
    assert app.state.duplicates_default[0] is index  # the first /api/duplicates page is ready

    off = s.model_copy(update={"api_preload_index": False})
    monkeypatch.setattr(api.server, "get_settings", lambda: off)
    assert getattr(api.server.app_from_env().state, "embedding_index", None) is None

    broken = s.model_copy(update={"embedding_model": "no-such-model"})
    monkeypatch.setattr(api.server, "get_settings", lambda: broken)
    app = api.server.app_from_env()  # logged; the requests get their 503 as before
    assert getattr(app.state, "embedding_index", None) is None


def test_warm_up_reads_the_vectors_and_the_tokenizer() -> None:
    from embeddings import residues

    items = _items(200)
    built = IndicatorIndex.build(items, HashingEncoder(32))
    index = IndicatorIndex(items, built.vectors, encoder=None, floor=0.0)
    assert index._matrix is None
    index.warm_up()
    assert index._matrix is not None and np.array_equal(index.matrix, built.matrix)
    assert residues._tokenizer.cache_info().currsize == 1


def test_one_query_lexical_cosines_are_the_sparse_product() -> None:
    """The search's cosines (the query's n-gram rows added up) are bitwise the product of
    scikit-learn's query vector with the whole matrix (what the index did before)."""
    names = [it.name for it in _items(600)] + ["离休干部慰问金发放覆盖率", "ABC 满意度"]
    lex = LexicalIndex(names)
    for q in ("培训人次", "离休干部慰问金", "abc满意度", "没有的词", "率"):
        product = (lex.transform([q]) @ lex.matrix.T).toarray().astype(np.float32)
        assert np.array_equal(lex.cosine_to_all([q]), product)
    both = lex.cosine_to_all(["培训人次", "率"])  # several queries: the sparse product itself
    assert np.array_equal(both[1], lex.cosine_to_all(["率"])[0])


def test_a_query_row_is_scikit_learns_bit_for_bit() -> None:
    """A query's TF-IDF row, made without scikit-learn, is its own bit for bit: repeated
    n-grams (sublinear tf), unknown ones, case and spaces (the preprocessor), none."""
    import random

    from embeddings.text import clean

    sk = pytest.importorskip("sklearn.feature_extraction.text")
    names = [it.name for it in _items(2000)] + ["离休干部慰问金发放覆盖率", "ABC 满意度"]
    lex = LexicalIndex(names)
    vec = sk.TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), preprocessor=clean, sublinear_tf=True
    ).fit(names)
    rng = random.Random(5)
    chars = "".join(sorted(set("".join(names)))) + "ABC abc没有的词"
    queries = ["", " ", "没有的词", "率", "率率率率", "ABC 满意度", "abc满意度", "培训人次培训人次"]
    queries += ["".join(rng.choice(chars) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    queries += [rng.choice(names) + rng.choice(names) for _ in range(200)]
    for q in queries:
        ref = vec.transform([q])
        ref.sort_indices()
        row = lex.transform([q])
        cols, weights = row.indices, row.data
        assert np.array_equal(cols, ref.indices) and np.array_equal(weights, ref.data), q
        assert weights.dtype == ref.data.dtype == np.float64


def test_pooled_search_equals_scoring_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pooled path (faiss rows mapped to items with arrays) with a pool as large as the
    index gives the answers of scoring every indicator, also when the items are not in the
    faiss rows' order."""
    import embeddings.index as ei

    items = _items(400)
    built = IndicatorIndex.build(items, HashingEncoder(32), kind="flat")
    reordered = IndicatorIndex(
        list(reversed(items)), built.vectors, encoder=built.encoder, floor=built.floor
    )
    queries = ["培训人次", "道路里程", "慰问金发放覆盖率", "学校"]
    exact = {q: [(h.uri, h.score) for h in built.search(q, k=15)] for q in queries}
    monkeypatch.setattr(ei, "BRUTE_FORCE_MAX", 50)
    monkeypatch.setattr(ei, "SEARCH_POOL", 400)
    for q in queries:
        assert [(h.uri, h.score) for h in built.search(q, k=15)] == exact[q]
        # another item order breaks the ties of equal scores otherwise: the scores are the same
        assert [h.score for h in reordered.search(q, k=15)] == [s for _, s in exact[q]]


@pytest.mark.slow
def test_ivf_search_keeps_recall_above_flat_max() -> None:
    """Above FLAT_MAX the index is IVF: the hybrid search's top 10 keeps >= 95% of the exact
    (flat) index's over item and free-text queries."""
    from embeddings.faiss_index import FLAT_MAX

    items = _items(FLAT_MAX + 10_000)
    ivf = IndicatorIndex.build(items, HashingEncoder(32))
    assert ivf.vectors.kind == "ivf" and len(items) > BRUTE_FORCE_MAX
    flat = IndicatorIndex(
        items, FaissIndex(32, model_id=ivf.model_id, kind="flat"), encoder=ivf.encoder,
        floor=ivf.floor,
    )  # fmt: skip
    flat.vectors.index([it.id for it in items], ivf.matrix)
    rng = random.Random(3)
    queries = [items[rng.randrange(len(items))].name for _ in range(40)]
    queries += [rng.choice(HEADS) + rng.choice(TAILS) + "情况" for _ in range(20)]
    found = total = 0
    for q in queries:
        exact = flat.search(q, k=10)
        kth = exact[-1].score
        got = ivf.search(q, k=10)
        found += sum(1 for h in got if h.score >= kth - 1e-4)
        total += len(exact)
    assert found / total >= 0.95
