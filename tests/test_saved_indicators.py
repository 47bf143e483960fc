"""The index step reads from the store only the tables changed since it last ran
(embeddings.saved_indicators): what it returns always equals reading the whole store."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

pytest.importorskip("faiss")

from embeddings import saved_indicators
from embeddings.corpus import load_indicators
from embeddings.index import index_dir
from embeddings.saved_indicators import FILE_NAME, load_indicators_saved
from embeddings.store_index import index_for_store
from kg.build import build
from kg.namespaces import IKG
from kg.settings import Settings
from kg.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_3b89ef93caa61199.txt"
CORPUS = ROOT / "data" / "demo" / "corpus"
EDITED = CORPUS / "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.csv"
TABLES = [
    SEED,
    EDITED,
    CORPUS / "hunan_xiangtan_sanitation_2024_fog_cannon_project_target.csv",
    CORPUS / "hubei_huangshi_party_school_2022_project_approval.csv",
]


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, embedding_model="hash-64")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    """Four tables built, indexed and linked: the saved file written, every table marked."""
    data = tmp_path_factory.mktemp("saved")
    build(TABLES, data / "store")
    index_for_store(data / "store", data, _settings(data))
    return data


@pytest.fixture
def work(indexed, tmp_path) -> Path:
    shutil.copytree(indexed, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def reads(monkeypatch) -> list:
    """The graphs each call reads from the store (None: the whole store)."""
    calls: list = []

    def spy(store, graphs=None):
        calls.append(None if graphs is None else sorted(graphs))
        return load_indicators(store, graphs)

    monkeypatch.setattr(saved_indicators, "load_indicators", spy)
    return calls


def _both(data: Path, **kw) -> tuple[list, list]:
    """(load_indicators_saved, load_indicators) on the store of ``data``."""
    with GraphStore(data / "store", read_only=True) as store:
        return (
            load_indicators_saved(store, index_dir(data) / FILE_NAME, **kw),
            load_indicators(store),
        )


def _seed_table(data: Path) -> str:
    with GraphStore(data / "store", read_only=True) as store:
        _, rows = store.select(
            "SELECT DISTINCT ?t WHERE { ?i ikg:inTable ?t ; ikg:sourceFile ?f "
            f"FILTER(CONTAINS(STR(?f), '{SEED.name}')) }}"
        )
    ((table,),) = rows
    return str(table)


def test_after_an_index_step_nothing_is_read_from_the_store(indexed, reads) -> None:
    saved, whole = _both(indexed)
    assert saved == whole and len(whole) > 100
    assert reads == [[]]  # no graph read


def test_a_replaced_table_is_read_again_and_only_it(work, tmp_path, reads) -> None:
    edited = tmp_path / EDITED.name
    text = EDITED.read_text("utf-8-sig")
    assert "雾炮车风炮射程," in text
    edited.write_text(text.replace("雾炮车风炮射程,", "雾炮车风炮有效射程,"), "utf-8-sig")
    build([edited], work / "store")  # the same table (department, year, title): replaced
    saved, whole = _both(work)
    assert saved == whole
    (table,) = {it.table for it in saved if it.name == "雾炮车风炮有效射程"}
    assert "雾炮车风炮射程" not in {it.name for it in saved if it.table == table}
    assert reads == [[table]]
    # until the links step marks the replaced table again, it stays to be read
    reads.clear()
    assert _both(work)[0] == whole and reads == [[table]]
    index_for_store(work / "store", work, _settings(work))
    reads.clear()
    assert _both(work)[0] == whole and reads == [[]]


def test_an_indicator_added_by_an_update_is_noticed(work, reads) -> None:
    table = _seed_table(work)
    with GraphStore(work / "store", read_only=True) as store:
        one = next(it.id for it in load_indicators(store, [table]))
    with GraphStore(work / "store") as store:  # a copy of one indicator, under another URI
        store.ox.update(
            f"INSERT {{ GRAPH <{table}> {{ <{one}-copy> ?p ?o }} }} "
            f"WHERE {{ GRAPH <{table}> {{ <{one}> ?p ?o }} }}"
        )
    saved, whole = _both(work)
    assert saved == whole and any(it.id.endswith("-copy") for it in whole)
    assert reads == [[table]]


def test_a_file_of_another_release_or_unreadable_means_reading_everything(work, reads) -> None:
    path = index_dir(work) / FILE_NAME
    data = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({**data, "code": "0.0.0-other"}))
    saved, whole = _both(work)
    assert saved == whole and reads == [None]
    path.write_bytes(path.read_bytes()[:100])  # cut short
    reads.clear()
    assert _both(work)[0] == whole and reads == [None]
    assert pickle.loads(path.read_bytes())["code"] == saved_indicators.__version__


def test_full_and_the_default_graph_read_everything(work, reads) -> None:
    saved, whole = _both(work, full=True)
    assert saved == whole and reads == [None]
    table = _seed_table(work)
    with GraphStore(work / "store") as store:  # an indicator outside every named graph
        store.ox.update(
            f"INSERT {{ ?i <{IKG.name}> 'x' }} WHERE {{ GRAPH <{table}> {{ ?i a <{IKG.Indicator}> }} }};"
            f"INSERT DATA {{ <urn:x:i> a <{IKG.Indicator}> }}"
        )
    reads.clear()
    saved, whole = _both(work)
    assert saved == whole and reads == [None]
