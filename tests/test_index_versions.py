"""The embedding index on disk: versions written then published atomically, checked on load,
the old flat layout still read, and the API following a rebuilt index without a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
faiss = pytest.importorskip("faiss")

from embeddings import faiss_index  # noqa: E402
from embeddings.faiss_index import (  # noqa: E402
    CURRENT_FILE,
    VERSIONS_DIR,
    FaissIndex,
    InconsistentIndexError,
    VersionGoneError,
)

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_3b89ef93caa61199.txt"
NEW_TABLE = (
    ROOT / "data" / "demo" / "corpus" / "anhui_chizhou_guichi_tangxi_town_2022_project_selfeval.csv"
)
#: an indicator of NEW_TABLE that the seed table does not have
NEW_NAME = "基建工程委托业务项目数量"
DIM = 16


def generation(k: int) -> tuple[list[str], np.ndarray]:
    """Version ``k``'s ids and vectors: 40 + k rows, every vector recognisably k's."""
    n = 40 + k
    ids = [f"g{k}-{i}" for i in range(n)]
    rng = np.random.default_rng(k)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    vecs[:, 0] = 0.0
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs[:, 0] = k / 1000.0  # the generation is readable back from every stored vector
    return ids, vecs


def save_generation(directory: Path, k: int) -> str:
    fi = FaissIndex(DIM, model_id="m", kind="flat")
    fi.index(*generation(k))
    return fi.save(directory, meta={"generation": k})


def version_dirs(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / VERSIONS_DIR).iterdir())


# --------------------------------------------------------------------------- layout
def test_save_publishes_a_complete_version_and_keeps_the_previous(tmp_path: Path) -> None:
    d = tmp_path / "idx"
    v1 = save_generation(d, 1)
    assert (d / CURRENT_FILE).read_text().strip() == v1 == FaissIndex.current_version(d)
    assert sorted(p.name for p in (d / VERSIONS_DIR / v1).iterdir()) == [
        "config.json",
        "ids.json",
        "index.faiss",
        "vectors.npy",
    ]
    config = FaissIndex.read_config(d)
    assert config["version"] == v1 and config["count"] == 41 and config["meta"]["generation"] == 1
    v2 = save_generation(d, 2)
    v3 = save_generation(d, 3)
    assert v1 < v2 < v3  # sortable names
    assert version_dirs(d) == [v2, v3]  # the previous kept for readers still loading it
    back = FaissIndex.load(d, model_id="m")
    assert back.version == v3 and back.count == 43 and back.meta["generation"] == 3
    old = FaissIndex.load(d, version=v2)
    assert old.version == v2 and old.count == 42
    with pytest.raises(VersionGoneError, match=v1):
        FaissIndex.load(d, version=v1)
    assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]


def test_crash_before_publishing_leaves_the_old_version_served(tmp_path, monkeypatch) -> None:
    d = tmp_path / "idx"
    v1 = save_generation(d, 1)
    real_replace = os.replace

    def crash_on_pointer(src, dst, *a, **kw):
        if Path(dst).name == CURRENT_FILE:
            raise OSError("simulated crash before publishing")
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(faiss_index.os, "replace", crash_on_pointer)
    with pytest.raises(OSError, match="simulated crash"):
        save_generation(d, 2)
    monkeypatch.setattr(faiss_index.os, "replace", real_replace)
    assert FaissIndex.current_version(d) == v1
    served = FaissIndex.load(d, model_id="m")
    assert served.version == v1 and served.meta["generation"] == 1
    assert served.ids == generation(1)[0]
    assert len(version_dirs(d)) == 2  # the unpublished version is complete but not served
    assert not [p for p in d.iterdir() if p.name.startswith(".")]  # no pointer temp file left

    # a crash while writing the version's files leaves no folder behind
    def broken_write(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(faiss_index, "_write_synced", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save_generation(d, 3)
    monkeypatch.undo()
    assert FaissIndex.current_version(d) == v1
    assert not [n for n in version_dirs(d) if n.endswith(".partial")]
    # later saves prune the orphan along with the older versions
    save_generation(d, 4)
    v5 = save_generation(d, 5)
    assert len(version_dirs(d)) == 2 and version_dirs(d)[-1] == v5


def test_inconsistent_version_is_refused_with_the_file_named(tmp_path: Path) -> None:
    d = tmp_path / "idx"
    v = save_generation(d, 1)
    ids_file = d / VERSIONS_DIR / v / "ids.json"
    ids = json.loads(ids_file.read_text())
    ids_file.write_text(json.dumps(ids[:-1]))
    with pytest.raises(InconsistentIndexError, match=r"40 ids but count 41"):
        FaissIndex.load(d)
    ids_file.write_text('["g1-0", ')
    with pytest.raises(InconsistentIndexError, match=r"ids\.json: not valid JSON"):
        FaissIndex.load(d)
    (d / CURRENT_FILE).write_text("20990101T000000000000Z-deadbeef\n")
    with pytest.raises(VersionGoneError, match="20990101T000000000000Z-deadbeef"):
        FaissIndex.load(d)
    (d / CURRENT_FILE).write_text("../elsewhere\n")
    with pytest.raises(InconsistentIndexError, match="expected a version name"):
        FaissIndex.current_version(d)


def write_flat(directory: Path, fi: FaissIndex) -> None:
    """The layout of releases before versions: three files directly in the folder."""
    directory.mkdir(parents=True)
    faiss.write_index(fi._index, str(directory / "index.faiss"))
    (directory / "ids.json").write_text(json.dumps(fi._ids), "utf-8")
    config = {
        "format": 1,
        "model_id": fi.model_id,
        "dim": fi.dim,
        "normalised": True,
        "metric": "inner_product",
        "kind": fi.kind,
        "requested_kind": fi.requested_kind,
        "count": fi.count,
        "meta": fi.meta,
    }
    (directory / "config.json").write_text(json.dumps(config), "utf-8")


def test_old_flat_layout_loads_and_the_next_save_moves_it(tmp_path: Path) -> None:
    d = tmp_path / "idx"
    fi = FaissIndex(DIM, model_id="m", kind="flat")
    ids, vecs = generation(7)
    fi.index(ids, vecs)
    fi.meta = {"generation": 7}
    write_flat(d, fi)
    assert FaissIndex.current_version(d) is None
    assert FaissIndex.read_config(d)["version"] is None
    back = FaissIndex.load(d, model_id="m")
    assert back.version is None and back.ids == ids
    assert back.search(vecs[:3], 1) == fi.search(vecs[:3], 1)
    v = back.save(d)
    assert FaissIndex.current_version(d) == v
    assert not (d / "config.json").exists() and not (d / "index.faiss").exists()
    assert FaissIndex.load(d).ids == ids


# --------------------------------------------------------------------------- mapped
def _mapped_files() -> set[str]:
    """The files this process has mapped into memory (Linux)."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return {line.split(maxsplit=5)[5].strip() for line in maps if len(line.split()) > 5}


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_a_loaded_version_is_mapped_and_answers_as_the_saved_one(tmp_path, kind) -> None:
    d = tmp_path / "idx"
    ids = [f"r{i}" for i in range(300)]
    vecs = np.random.default_rng(3).standard_normal((300, DIM)).astype(np.float32)
    fi = FaissIndex(DIM, model_id="m", kind=kind)
    fi.index(ids, vecs)
    v = fi.save(d)
    back = FaissIndex.load(d, model_id="m")
    where = d / VERSIONS_DIR / v
    every = back.all_vectors()
    assert not every.flags.writeable and not every.flags.owndata
    np.testing.assert_array_equal(every, fi.all_vectors())
    np.testing.assert_array_equal(back.vectors(ids[5:9]), fi.vectors(ids[5:9]))
    if Path("/proc/self/maps").is_file():
        assert {str(where / "index.faiss"), str(where / "vectors.npy")} <= _mapped_files()
    assert back.search(vecs[:20], 5) == fi.search(vecs[:20], 5)


def _resident_kb(path: Path) -> int:
    """kB of ``path``'s mapping(s) resident in this process (Linux smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            head = line.split()
            if len(head) > 5 and "-" in head[0]:  # a mapping's first line
                inside = line.rstrip("\n").endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(head[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").is_file(), reason="Linux smaps")
@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_prefetch_brings_every_page_of_the_maps_in(tmp_path, kind) -> None:
    """A server's warm-up: after ``prefetch`` the whole vectors file and the index's stored
    vectors are resident, so no request waits for a page."""
    d = tmp_path / "idx"
    n = 3000  # 3000 x 16 float32: 188 kB of vectors, 47 pages
    ids = [f"r{i}" for i in range(n)]
    vecs = np.random.default_rng(5).standard_normal((n, DIM)).astype(np.float32)
    fi = FaissIndex(DIM, model_id="m", kind=kind)
    fi.index(ids, vecs)
    where = d / VERSIONS_DIR / fi.save(d)
    back = FaissIndex.load(d, model_id="m")
    sizes = {f: (where / f).stat().st_size for f in ("index.faiss", "vectors.npy")}
    assert back.prefetch() == sum(sizes.values())
    assert _resident_kb(where / "vectors.npy") * 1024 >= sizes["vectors.npy"] - 4096
    # the index's codes (n x 16 float32) are most of its file
    assert _resident_kb(where / "index.faiss") * 1024 >= n * DIM * 4


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_changing_a_loaded_version_leaves_the_saved_one_as_it_was(tmp_path, kind) -> None:
    d = tmp_path / "idx"
    ids, vecs = generation(1)
    fi = FaissIndex(DIM, model_id="m", kind=kind)
    fi.index(ids, vecs)
    fi.save(d)
    back = FaissIndex.load(d, model_id="m")
    new_ids, new_vecs = generation(2)
    back.add(new_ids[:3], new_vecs[:3])  # faiss aborts on a change to a mapped index
    if kind == "flat":
        assert back.remove(ids[:2]) == 2
    assert back.search(new_vecs[:3], 1) == [
        [(i, pytest.approx(1.0, abs=1e-5))] for i in new_ids[:3]
    ]
    every = back.all_vectors()
    assert every.flags.writeable and len(every) == len(ids) + 3
    np.testing.assert_allclose(every[-3:], new_vecs[:3], atol=1e-5)
    again = FaissIndex.load(d, model_id="m")
    assert again.ids == ids and again.search(vecs[:5], 1) == fi.search(vecs[:5], 1)


def test_a_version_without_its_vectors_file_reads_them_from_the_index(tmp_path) -> None:
    d = tmp_path / "idx"
    ids, vecs = generation(4)
    fi = FaissIndex(DIM, model_id="m", kind="ivf")
    fi.index(ids, vecs)
    v = fi.save(d)
    (d / VERSIONS_DIR / v / "vectors.npy").unlink()  # as an older release saved it
    back = FaissIndex.load(d, model_id="m")
    every = back.all_vectors()
    assert every.flags.writeable  # read from the index into memory
    np.testing.assert_allclose(every, fi.all_vectors(), atol=1e-6)
    np.testing.assert_allclose(back.vectors(ids[:4]), vecs[:4], atol=1e-5)


def test_a_vectors_file_that_does_not_fit_is_named_and_not_used(tmp_path, caplog) -> None:
    d = tmp_path / "idx"
    ids, vecs = generation(5)
    fi = FaissIndex(DIM, model_id="m", kind="flat")
    fi.index(ids, vecs)
    bad = d / VERSIONS_DIR / fi.save(d) / "vectors.npy"
    np.save(bad, np.zeros((3, DIM), dtype=np.float32))  # another index's rows
    with caplog.at_level("WARNING", logger="embeddings.faiss_index"):
        back = FaissIndex.load(d, model_id="m")
    assert str(bad) in caplog.text and "expected float32 (45, 16)" in caplog.text
    np.testing.assert_allclose(back.all_vectors(), fi.all_vectors(), atol=1e-6)
    bad.write_bytes(b"not a numpy file")
    caplog.clear()
    with caplog.at_level("WARNING", logger="embeddings.faiss_index"):
        again = FaissIndex.load(d, model_id="m")
    assert str(bad) in caplog.text and "unreadable" in caplog.text
    np.testing.assert_allclose(again.vectors(ids[:3]), fi.vectors(ids[:3]), atol=1e-6)


# --------------------------------------------------------------------------- concurrency
READER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numpy as np
    from embeddings.faiss_index import FaissIndex

    d, ready, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    seen, bad, errors, loads = {}, [], [], 0
    while not stop.exists():
        loads += 1
        try:
            fi = FaissIndex.load(d, model_id="m")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        k = fi.meta["generation"]
        ids = fi.ids
        gens = {int(i.split("-")[0][1:]) for i in ids}
        vec_gens = set(np.rint(fi.vectors(ids)[:, 0] * 1000).astype(int).tolist())
        if gens != {k} or vec_gens != {k} or len(ids) != 40 + k or fi.count != 40 + k:
            bad.append([fi.version, k, sorted(gens), sorted(vec_gens), len(ids)])
        seen[fi.version] = k
        ready.touch()
    print(json.dumps({"loads": loads, "versions": len(seen), "bad": bad, "errors": errors}))
    """
)
SAVES = 60


def test_reader_process_never_sees_a_mixed_or_half_written_index(tmp_path: Path) -> None:
    """A separate process loads in a loop while this one saves new versions without pause."""
    d = tmp_path / "idx"
    save_generation(d, 0)
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(d), str(ready), str(stop)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        while not ready.exists() and reader.poll() is None:
            time.sleep(0.01)  # the reader imports faiss first
        for k in range(1, SAVES + 1):  # overwrite under its loop
            save_generation(d, k)
        stop.touch()
        out, err = reader.communicate(timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["errors"] == [] and result["bad"] == []
    assert result["versions"] >= 2, result  # it did read across saves
    assert len(version_dirs(d)) == 2


def test_reader_thread_with_open_index_follows_versions(tmp_path: Path) -> None:
    """In one process too: loads interleaved with saves always give one whole version."""
    import threading

    d = tmp_path / "idx"
    save_generation(d, 0)
    stop = threading.Event()
    problems: list[str] = []
    loaded: set[str | None] = set()

    def read() -> None:
        while not stop.is_set():
            try:
                fi = FaissIndex.load(d)
            except Exception as exc:  # collected, asserted below
                problems.append(repr(exc))
                continue
            k = fi.meta["generation"]
            if fi.ids != generation(k)[0]:
                problems.append(f"{fi.version}: ids of another generation than {k}")
            loaded.add(fi.version)

    t = threading.Thread(target=read)
    t.start()
    try:
        for k in range(1, 60):
            save_generation(d, k)
            if k > 30 and len(loaded) >= 3:
                break
    finally:
        stop.set()
        t.join()
    assert problems == [] and len(loaded) >= 2


# --------------------------------------------------------------------------- store + API
fastapi = pytest.importorskip("fastapi")


@pytest.fixture()
def seeded(tmp_path: Path):
    from embeddings import index_for_store
    from kg.build import build
    from kg.settings import Settings

    s = Settings(data_dir=tmp_path / "data", embedding_model="hash")
    build([SEED], s.store_path)
    index_for_store(s.store_path, s.data_dir, s)
    return s


def test_open_index_reads_an_old_flat_data_dir(seeded) -> None:
    from embeddings.index import index_dir, open_index
    from kg.store import GraphStore

    d = index_dir(seeded.data_dir)
    fi = FaissIndex.load(d)
    shutil.rmtree(d)
    write_flat(d, fi)
    with GraphStore(seeded.store_path, read_only=True) as store:
        index, report = open_index(store, seeded.data_dir, seeded, on_stale="error")
    assert report is None and index.version is None and len(index.items) == 166
    assert index.search("市转企业离休干部慰问金发放覆盖率", k=1)[0].name == (
        "市转企业离休干部慰问金发放覆盖率"
    )


def _names(client, q: str, k: int = 5) -> list[str]:
    r = client.get("/api/search", params={"q": q, "k": k})
    assert r.status_code == 200, r.text
    return [h["name"] for h in r.json()["hits"]]


def test_api_picks_up_a_rebuilt_index_without_restart(seeded, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from api import services
    from api.app import create_app
    from embeddings import index_for_store
    from embeddings.index import index_dir
    from kg.build import build

    with TestClient(create_app(seeded)) as client:
        app = client.app
        assert NEW_NAME not in _names(client, NEW_NAME)
        before = app.state.embedding_index
        assert before.version == FaissIndex.current_version(index_dir(seeded.data_dir))
        assert client.get("/api/duplicates").status_code == 200
        assert app.state.duplicates_cache

        build([NEW_TABLE], seeded.store_path)  # the loader, while the API serves
        report = index_for_store(seeded.store_path, seeded.data_dir, seeded)
        assert report.rebuilt
        published = FaissIndex.current_version(index_dir(seeded.data_dir))
        assert published != before.version

        monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 0.0)
        assert _names(client, NEW_NAME)[0] == NEW_NAME
        after = app.state.embedding_index
        assert after is not before and after.version == published
        assert len(after.items) > len(before.items) == 166
        assert app.state.duplicates_cache == {} and app.state.suggest_engine is None
        # the old object still answers for a request that holds it
        assert before.search("慰问金发放覆盖率", k=1)[0].name == "慰问金发放覆盖率"


@pytest.mark.slow  # builds the seed again; the API's pick-up is tested above
def test_api_version_check_waits_for_the_interval(seeded, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from api import services
    from api.app import create_app
    from embeddings import index_for_store
    from kg.build import build

    monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 3600.0)
    with TestClient(create_app(seeded)) as client:
        before_names = _names(client, NEW_NAME)
        build([NEW_TABLE], seeded.store_path)
        index_for_store(seeded.store_path, seeded.data_dir, seeded)
        assert _names(client, NEW_NAME) == before_names  # not looked at the pointer yet
        old = client.app.state.embedding_index
        monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 0.0)
        assert _names(client, NEW_NAME)[0] == NEW_NAME
        new = client.app.state.embedding_index
        # the new version gets the app's one search helper thread, not one more
        assert new is not old and new.beside is old.beside is not None


@pytest.mark.slow  # builds the seed again; the API's pick-up is tested above
def test_worker_waits_for_the_loader_instead_of_rebuilding(seeded, monkeypatch) -> None:
    """A worker (index_rebuild False) with a stale index answers 503, writes nothing, and serves
    the loader's version once published."""
    from fastapi.testclient import TestClient

    from api import services
    from api.app import create_app
    from embeddings import index_for_store
    from embeddings.index import index_dir
    from kg.build import build

    monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 0.0)
    d = index_dir(seeded.data_dir)
    build([NEW_TABLE], seeded.store_path)  # the store moved on; the index not yet
    published = FaissIndex.current_version(d)
    app = create_app(seeded)
    app.state.index_rebuild = False
    with TestClient(app) as client:
        r = client.get("/api/search", params={"q": NEW_NAME})
        assert r.status_code == 503 and r.json()["error"] == "index_unavailable"
        assert "stale" in r.json()["detail"]
        assert FaissIndex.current_version(d) == published and len(version_dirs(d)) == 1
        index_for_store(seeded.store_path, seeded.data_dir, seeded)
        assert _names(client, NEW_NAME)[0] == NEW_NAME
        assert app.state.embedding_index.version == FaissIndex.current_version(d) != published


@pytest.mark.slow  # builds the seed again; the API's pick-up is tested above
def test_single_process_rebuild_is_published_as_a_version(seeded, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from api import services
    from api.app import create_app
    from embeddings.index import index_dir
    from kg.build import build

    monkeypatch.setattr(services, "INDEX_CHECK_INTERVAL_S", 0.0)
    d = index_dir(seeded.data_dir)
    old = FaissIndex.current_version(d)
    build([NEW_TABLE], seeded.store_path)
    with TestClient(create_app(seeded)) as client:
        assert _names(client, NEW_NAME)[0] == NEW_NAME  # rebuilt here from the store
        served = client.app.state.embedding_index
        assert served.version == FaissIndex.current_version(d) != old
        assert FaissIndex.load(d).count == len(served.items)
        assert _names(client, NEW_NAME)[0] == NEW_NAME
        assert client.app.state.embedding_index is served  # no reload of its own version
