"""An IVF index rebuilt after a small change is made on the published version's centroids
instead of training k-means again (FaissIndex.reusable_centroids): recall stays that of a
fresh training; a large change, another model or ``--all`` trains afresh."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faiss")

from embeddings.faiss_index import CENTROIDS_FILE, FaissIndex

DIM = 32


def _clustered(n: int, seed: int) -> np.ndarray:
    """Vectors around 200 centres, like names of a few hundred kinds (not uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).standard_normal((200, DIM)).astype(np.float32)
    v = centres[rng.integers(0, 200, n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _recall_at_10(fi: FaissIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = 0
    for q, truth in zip(queries, exact, strict=True):
        hits = {fi.position(h) for h, _ in fi.search(q[None, :], 10)[0]}
        found += len(hits & set(truth.tolist()))
    return found / exact.size


def _saved_ivf(folder: Path, n: int) -> tuple[np.ndarray, list[str], FaissIndex]:
    """``n`` clustered vectors indexed as IVF and saved in ``folder``."""
    vectors = _clustered(n, 1)
    ids = [f"i{k}" for k in range(n)]
    fi = FaissIndex(DIM, model_id="m", kind="ivf")
    fi.index(ids, vectors)
    fi.save(folder)
    return vectors, ids, fi


def test_a_small_change_reuses_the_centroids_with_the_same_recall(tmp_path: Path) -> None:
    old, ids, first = _saved_ivf(tmp_path, 6000)
    saved = np.load(tmp_path / "versions" / first.version / CENTROIDS_FILE)
    assert np.array_equal(saved, first.centroids())
    assert not first.centroids_reused

    # one table changed: 60 vectors replaced by new ones
    new = old.copy()
    new[:60] = _clustered(60, 2)
    new_ids = [f"j{n}" for n in range(60)] + ids[60:]
    centroids = FaissIndex.reusable_centroids(tmp_path, new_ids, model_id="m", dim=DIM)
    assert centroids is not None and np.array_equal(centroids, saved)
    reused = FaissIndex(DIM, model_id="m", kind="ivf")
    reused.index(new_ids, new, centroids=centroids)
    assert reused.centroids_reused and np.array_equal(reused.centroids(), saved)
    fresh = FaissIndex(DIM, model_id="m", kind="ivf")
    fresh.index(new_ids, new)
    assert not fresh.centroids_reused

    queries = _clustered(200, 3)
    r_reused, r_fresh = _recall_at_10(reused, new, queries), _recall_at_10(fresh, new, queries)
    assert r_reused >= 0.9
    assert r_reused >= r_fresh - 0.02


def test_a_large_change_another_model_or_no_ivf_trains_afresh(tmp_path: Path) -> None:
    old, ids, _ = _saved_ivf(tmp_path, 3000)
    half = [f"k{n}" for n in range(1500)] + ids[1500:]
    assert FaissIndex.reusable_centroids(tmp_path, half, model_id="m", dim=DIM) is None
    assert FaissIndex.reusable_centroids(tmp_path, ids, model_id="other", dim=DIM) is None
    assert FaissIndex.reusable_centroids(tmp_path, ids, model_id="m", dim=DIM * 2) is None
    assert FaissIndex.reusable_centroids(tmp_path / "none", ids, model_id="m", dim=DIM) is None
    flat = FaissIndex(DIM, model_id="m", kind="flat")
    flat.index(ids, old)
    flat.save(tmp_path / "flat")
    assert flat.centroids() is None
    assert FaissIndex.reusable_centroids(tmp_path / "flat", ids, model_id="m", dim=DIM) is None


def test_the_index_step_reuses_them_and_all_trains_again(tmp_path: Path) -> None:
    """ikg build's index step with an IVF index: a rebuild after one table changed keeps the
    centroids; ``full_links`` (ikg build --all) trains them again."""
    from embeddings.store_index import index_for_store
    from kg.build import build
    from kg.settings import Settings

    root = Path(__file__).resolve().parents[1]
    corpus = sorted((root / "data" / "demo" / "corpus").glob("*.csv"))[:6]
    settings = Settings(data_dir=tmp_path, embedding_model="hash-64", embedding_index="ivf")
    build(corpus, tmp_path / "store", shacl=False)
    index_for_store(tmp_path / "store", tmp_path, settings)
    first = FaissIndex.load(tmp_path / "embeddings" / "index")
    edited = tmp_path / corpus[0].name  # one indicator renamed
    rows = list(csv.DictReader(io.StringIO(corpus[0].read_text(encoding="utf-8-sig"))))
    next(r for r in rows if r["记录类型"] == "指标")["三级指标"] += "（修订）"
    with edited.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    build([edited, *corpus[1:]], tmp_path / "store", shacl=False)
    index_for_store(tmp_path / "store", tmp_path, settings)
    second = FaissIndex.load(tmp_path / "embeddings" / "index")
    assert second.version != first.version
    assert np.array_equal(second.centroids(), first.centroids())
    index_for_store(tmp_path / "store", tmp_path, settings, full_links=True)
    third = FaissIndex.load(tmp_path / "embeddings" / "index")
    assert third.kind == "ivf" and third.centroids() is not None
