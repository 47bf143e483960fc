"""ikg build reads its files in a pool of processes and skips the files that have not changed.

Real demo tables (template CSVs of data/demo/corpus) are built into stores on disk: a build
in a pool writes the same store as one in the build's own process; an error in a worker
reaches the caller with its file and line, the store untouched; a rebuild reads only the
files that changed; the command line says how many tables were unchanged.
"""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import threading
from pathlib import Path

import pytest
from rdflib import RDF
from rdflib.compare import isomorphic
from typer.testing import CliRunner

import ikg.cli
from kg import errors
from kg.build import build, pool_context, sources_file
from kg.errors import SourceError, ValidationFailed
from kg.namespaces import IKG, LIBRARY_LINKS_GRAPH, SIMILARITY_GRAPH
from kg.store import DANGLING_LINKS, GraphStore

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo" / "corpus"
#: four small real tables of four departments
NAMES = (
    "hebei_ningjin_edu_2019_highschool_grant_eval.csv",
    "hubei_wuhan_qingshan_edu_2020_project_rural_school.csv",
    "hubei_huangshi_party_school_2022_project_approval.csv",
    "sichuan_guangyuan_zhaohua_health_2021_project_special_family.csv",
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The four tables, copied: a test may change them."""
    out = tmp_path / "tables"
    out.mkdir()
    for name in NAMES:
        shutil.copy(DEMO / name, out / name)
    return out


def _quads(store_path: Path) -> dict[str, object]:
    """Every named graph of the store, as an rdflib graph."""
    with GraphStore(store_path, read_only=True) as store:
        return {str(g): store.graph(g) for g in store.named_graphs()}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8-sig")


def test_a_build_in_a_pool_writes_what_a_build_in_process_writes(
    folder: Path, tmp_path: Path
) -> None:
    one = build([folder], tmp_path / "one" / "store", shacl=False, workers=1)
    seen: list[tuple[str, int, int]] = []
    pool = build(
        [folder],
        tmp_path / "pool" / "store",
        shacl=False,
        workers=2,
        progress=lambda m, n, t: seen.append((m, n, t)),
    )
    assert [t.uri for t in pool.tables] == [t.uri for t in one.tables]  # input order
    assert [t.file.name for t in pool.tables] == sorted(NAMES)
    assert [t.counts for t in pool.tables] == [t.counts for t in one.tables]
    assert isomorphic(pool.tables[0].graph, one.tables[0].graph)
    a, b = _quads(tmp_path / "one" / "store"), _quads(tmp_path / "pool" / "store")
    assert a.keys() == b.keys() and len(a) == len(NAMES) + 2  # + ontology, organisations
    for name, graph in a.items():
        assert isomorphic(graph, b[name]), name
    # each file's progress as it is read, then the write
    reads = [(m, n) for m, n, t in seen if m.startswith("读取 ")]
    assert sorted(m for m, _ in reads) == sorted(f"读取 {n}" for n in NAMES)
    assert [n for _, n in reads] == [1, 2, 3, 4]
    assert seen[-1][0].startswith("写入 ")


@pytest.mark.slow  # a fork server starts (14 s on the shared cores)
def test_beside_other_threads_the_workers_come_from_a_fork_server(
    folder: Path, tmp_path: Path
) -> None:
    """A process running other threads (a server, a notebook) does not fork its workers
    itself: they start from a fork server, and write the same store."""
    assert pool_context().get_start_method() == "fork"  # pytest runs one thread
    one = build([folder], tmp_path / "one" / "store", shacl=False, workers=1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert pool_context().get_start_method() == "forkserver"
        pool = build([folder], tmp_path / "pool" / "store", shacl=False, workers=2)
    finally:
        stop.set()
        other.join()
    assert [t.uri for t in pool.tables] == [t.uri for t in one.tables]
    a, b = _quads(tmp_path / "one" / "store"), _quads(tmp_path / "pool" / "store")
    assert a.keys() == b.keys() and all(isomorphic(a[g], b[g]) for g in a)


@pytest.mark.slow  # a fork server starts (8 s on the shared cores)
def test_workers_from_a_fork_server_validate_with_the_chosen_engine(folder: Path) -> None:
    """IKG_VALIDATE_ENGINE reaches workers that imported kg.validate afresh (the engine
    travels with each job)."""
    from concurrent.futures import ProcessPoolExecutor

    from kg import validate
    from kg.build import _Job, _prepare_job

    chosen, other = "pyshacl", "native"
    assert validate.current_engine() == other
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kg.build"])
    validate.use_engine(chosen)
    try:
        job = _Job(folder / NAMES[0], False, None, True, None)
    finally:
        validate.use_engine(other)
    assert job.engine == chosen
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        assert pool.submit(validate.current_engine).result() == other  # a fresh import
        (built,) = pool.submit(_prepare_job, job).result()
        assert pool.submit(validate.current_engine).result() == chosen
    assert built.triples > 0


def test_errors_pickle_as_they_were_raised() -> None:
    for cls in (SourceError, errors.UnknownCategoryError, errors.NotATargetTableError):
        error = cls("a.csv", 3, "bad")
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is cls and (again.file, again.line, again.message) == ("a.csv", 3, "bad")
        assert str(again) == str(error)
    failed = pickle.loads(pickle.dumps(ValidationFailed("a.csv", "report")))
    assert (failed.file, failed.report) == ("a.csv", "report")


def test_an_error_in_a_worker_names_file_and_line_and_leaves_the_store(
    folder: Path, tmp_path: Path
) -> None:
    store = tmp_path / "data" / "store"
    build([folder], store, shacl=False, workers=1)
    before = _quads(store)
    record = sources_file(store).read_bytes()
    bad = folder / "bad.csv"
    shutil.copy(folder / NAMES[1], bad)
    _edit(bad, ",2020,万元,", ",去年,万元,")
    later = folder / "zz_bad.csv"  # a second bad file after it: the first one is reported
    shutil.copy(bad, later)
    _edit(folder / NAMES[0], "享受资助人数", "享受资助学生人数")  # a change that is not written
    with pytest.raises(SourceError) as info:
        build([folder], store, shacl=False, workers=2)
    assert info.value.file == str(bad) and info.value.line == 2
    assert "年度为 '去年'" in str(info.value)
    after = _quads(store)
    assert after.keys() == before.keys()
    assert all(isomorphic(after[g], before[g]) for g in before)
    assert sources_file(store).read_bytes() == record


def test_a_rebuild_reads_only_the_files_that_changed(folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "data" / "store"
    first = build([folder], store, shacl=False, workers=2)
    assert len(first.tables) == 4 and not first.unchanged
    again = build([folder], store, shacl=False, workers=2)
    assert again.tables == [] and again.unchanged_files == 4
    assert [u.uri for u in again.unchanged] == [t.uri for t in first.tables]
    assert {u.department for u in again.unchanged} == {
        t.parsed.table.department for t in first.tables
    }
    _edit(folder / NAMES[0], "享受资助人数", "享受资助学生人数")
    third = build([folder], store, shacl=False, workers=2)
    assert [t.file.name for t in third.tables] == [NAMES[0]] and third.unchanged_files == 3
    changed = third.tables[0].uri
    assert changed == first.tables[[t.file.name for t in first.tables].index(NAMES[0])].uri
    with GraphStore(store, read_only=True) as s:
        names = {str(o) for o in s.graph(changed).objects(None, IKG.name)}
    assert "享受资助学生人数" in names and "享受资助人数" not in names
    # asked to, or asked for another reading (validation), every file is read again
    assert len(build([folder], store, shacl=False, workers=1, force=True).tables) == 4
    assert len(build([folder], store, shacl=True, workers=1).tables) == 4
    assert build([folder], store, shacl=False, workers=1).unchanged_files == 4


def test_a_changed_table_replaced_in_a_batch_loses_its_links(folder: Path, tmp_path: Path) -> None:
    """The links to the indicators of a replaced table go with it (one update per batch);
    the links of a table left as it was stay."""
    store = tmp_path / "data" / "store"
    first = build([folder], store, shacl=False, workers=1)
    with GraphStore(store) as s:
        for n, t in enumerate(first.tables[:2]):
            ind = next(t.graph.subjects(RDF.type, IKG.Indicator))
            s.ox.update(
                f"INSERT DATA {{ GRAPH <{SIMILARITY_GRAPH}> {{ <urn:link:{n}> "
                f"<{IKG.linksIndicator}> <{ind}> ; <urn:p> 1 }} "
                f"GRAPH <{LIBRARY_LINKS_GRAPH}> {{ <{ind}> <{IKG.matchesLibraryIndicator}> "
                f"<urn:c> . <urn:m:{n}> <{IKG.matchIndicator}> <{ind}> }} }}"
            )
    _edit(folder / first.tables[0].file.name, ",2100,", ",2200,")
    again = build([folder], store, shacl=False, workers=2)
    assert [t.uri for t in again.tables] == [first.tables[0].uri]
    with GraphStore(store, read_only=True) as s:
        links = {str(x) for x in s.graph(SIMILARITY_GRAPH).subjects()}
        matches = {str(x) for x in s.graph(LIBRARY_LINKS_GRAPH).subjects()}
        _, dangling = s.select(DANGLING_LINKS)
    assert links == {"urn:link:1"} and dangling == []
    assert len(matches) == 2 and "urn:m:1" in matches and "urn:m:0" not in matches


def test_a_table_the_store_lost_is_read_again(folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "data" / "store"
    first = build([folder], store, shacl=False, workers=1)
    with GraphStore(store) as s:
        s.drop_graph(first.tables[2].uri)
    again = build([folder], store, shacl=False, workers=1)
    assert [t.uri for t in again.tables] == [first.tables[2].uri]
    assert again.unchanged_files == 3


def test_the_command_line_says_what_was_unchanged(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed: list[object] = []
    monkeypatch.setattr(ikg.cli, "_index_after_build", lambda s, p, **kw: indexed.append(s))
    data = str(tmp_path / "data")

    def run(*args: str):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(ikg.cli.app, ["build", str(folder), "--data-dir", data, *args])
        assert result.exit_code == 0, result.output
        return " ".join(result.stderr.split())

    first = run("--no-shacl")
    assert f"已将 4 张表载入 {Path(data) / 'store'}" in first and "未变" not in first
    assert len(indexed) == 1
    second = run("--no-shacl")
    assert "已将 0 张表载入" in second
    assert "未变 4 张（4 个文件未改动，未重读），这些来源的 4 张表都在存储中" in second
    assert len(indexed) == 1  # nothing changed: no index step
    # a build (not ikg build) wrote a table and ran no index step: the next ikg build does
    build([DEMO / "hunan_yueyang_county_agri_2022_farmland_project.csv"], Path(data) / "store")
    assert "已将 0 张表载入" in run("--no-shacl") and len(indexed) == 2
    assert "已将 0 张表载入" in run("--no-shacl") and len(indexed) == 2
    _edit(folder / NAMES[0], "享受资助人数", "享受资助学生人数")
    third = run("--no-shacl")
    assert "宁晋县教育局 2019" in third and "已将 1 张表载入" in third
    assert "未变 3 张" in third and "这些来源的 4 张表都在存储中" in third
    assert len(indexed) == 3
    assert "已将 4 张表载入" in run("--no-shacl", "--all") and len(indexed) == 4


def test_an_unchanged_file_is_not_read_while_its_size_and_time_are_as_recorded(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest of a file whose size and modification time are as recorded is taken from
    the record; a file touched is hashed again (and found unchanged), one edited is read."""
    import os

    from kg import build as build_module

    store = tmp_path / "data" / "store"
    build([folder], store, shacl=False, workers=1)
    hashed: list[str] = []
    real = build_module.file_digest
    monkeypatch.setattr(build_module, "file_digest", lambda p: hashed.append(p.name) or real(p))
    assert build([folder], store, shacl=False, workers=1).unchanged_files == 4
    assert hashed == []
    touched = folder / NAMES[1]
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert build([folder], store, shacl=False, workers=1).unchanged_files == 4
    assert hashed == [NAMES[1]]
    assert build([folder], store, shacl=False, workers=1).unchanged_files == 4
    assert hashed == [NAMES[1]]  # its new time was recorded
    _edit(folder / NAMES[0], "享受资助人数", "享受资助学生人数")
    again = build([folder], store, shacl=False, workers=1)
    assert [t.file.name for t in again.tables] == [NAMES[0]]
