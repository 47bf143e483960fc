"""Build the graph store from source files: read → map → validate → commit.

Everything is read, mapped and validated before the store is opened for
writing, so bad input leaves the store exactly as it was. The files are read in
a pool of processes (``build_workers``), their results kept in input order; the
tables are then written in batches (:meth:`kg.store.GraphStore.write_tables`),
each replacing its earlier version.

A file built before is not read again when nothing about it changed: the build
records, beside the store (:func:`sources_file`), each file's path, SHA-256
digest, reader and tables; a file with the same digest whose tables the store
still holds with that digest and reader is skipped (``force`` reads everything).
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef

from . import mapping, processes, validate
from .errors import SourceError
from .readers import library, read_table, read_tables
from .records import ParsedLibrary, ParsedTable, WarningRecord
from .sources import classify_sources
from .sources import expand_sources as expand_sources  # re-exported, as before
from .sources import is_library as is_library  # re-exported, as before
from .store import LOAD_BATCH_TRIPLES, GraphStore, TableData, ntriples, table_sources

Progress = Callable[[str, int, int], None]


def _graph(data: bytes) -> Graph:
    g = mapping.new_graph()
    if data:
        g.parse(data=data, format="nt")
    return g


@dataclass
class BuiltTable:
    """One table read, mapped and validated. Its triples are kept as N-Triples bytes (what a
    build process hands back and the store loads), compressed (about 10x: a build of
    thousands of tables holds them all until it writes); ``graph`` parses them when asked."""

    file: Path
    reader: str
    uri: URIRef
    parsed: ParsedTable
    packed: bytes  # the table's own graph: zlib-compressed N-Triples
    packed_organisations: bytes  # what it says about organisations (the shared graph)
    triples: int
    sha256: str = ""
    #: :func:`file_stamp` of the file, taken before it was read
    stamp: list[int] | None = None

    @property
    def nt(self) -> bytes:
        return zlib.decompress(self.packed)

    @property
    def organisations_nt(self) -> bytes:
        return zlib.decompress(self.packed_organisations)

    @cached_property
    def graph(self) -> Graph:
        return _graph(self.nt)

    @cached_property
    def organisations(self) -> Graph:
        return _graph(self.organisations_nt)

    @property
    def counts(self) -> dict[str, int]:
        p = self.parsed
        return {
            "indicators": len(p.indicators),
            "tasks": len(p.tasks),
            "goals": len(p.goals),
            "units": len(p.units),
            "not_applicable": len(p.not_applicable),
            "warnings": len(p.warnings),
            "triples": self.triples,
        }


@dataclass
class UnchangedTable:
    """A table of a file that had not changed since it was built: not read again."""

    file: Path
    uri: URIRef
    sha256: str
    reader: str
    department: str
    fiscal_year: int | None
    indicators: int
    #: the file's :func:`file_stamp` when its digest was checked (recorded for next time)
    stamp: list[int] | None = None


@dataclass
class BuiltLibrary:
    """An indicator library (kg.readers.library), mapped to its own named graph."""

    file: Path
    uri: URIRef  # the named graph
    parsed: ParsedLibrary
    graph: Graph

    @property
    def counts(self) -> dict[str, int]:
        return {
            "library_indicators": len(self.parsed.indicators),
            "warnings": len(self.parsed.warnings),
            "triples": len(self.graph),
        }


@dataclass
class BuildReport:
    #: the tables read and written by this build
    tables: list[BuiltTable] = field(default_factory=list)
    libraries: list[BuiltLibrary] = field(default_factory=list)
    #: the tables of files that had not changed: already in the store, not read again
    unchanged: list[UnchangedTable] = field(default_factory=list)
    #: tables were written (by this build or one before) since the index step last finished
    #: (:func:`index_done`): ikg build runs it even when nothing changed this time
    index_pending: bool = False

    @property
    def warnings(self) -> list[WarningRecord]:
        return [w for t in self.tables for w in t.parsed.warnings] + [
            w for lib in self.libraries for w in lib.parsed.warnings
        ]

    @property
    def unchanged_files(self) -> int:
        return len({u.file for u in self.unchanged})


def prepare(
    path: Path,
    reader: str | None = None,
    *,
    shacl: bool = True,
    hints: dict[str, object] | None = None,
) -> BuiltTable:
    """Read, map and validate one file; nothing is written.

    hints (department, year) stand in for facts a file does not print.
    """
    chosen, parsed = read_table(path, reader, **(hints or {}))
    return _built(path, chosen.name, parsed, shacl=shacl, sha=file_digest(path))


def prepare_all(
    path: Path,
    reader: str | None = None,
    *,
    shacl: bool = True,
    hints: dict[str, object] | None = None,
    sha256: str | None = None,
) -> list[BuiltTable]:
    """Like :func:`prepare`, one per table the file holds (one per project it lists)."""
    stamp = None if sha256 else file_stamp(path)  # before the bytes are read and hashed
    chosen, tables = read_tables(path, reader, **(hints or {}))
    sha = sha256 or file_digest(path)
    out = [_built(path, chosen.name, parsed, shacl=shacl, sha=sha) for parsed in tables]
    for t in out:
        t.stamp = stamp
    return out


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_stamp(path: Path) -> list[int]:
    """Size and modification time (ns): while both are as recorded with a file's digest,
    the digest is taken from the record instead of reading the file again (as git and make
    do: hashing 10,000 source files took 4 s of a one-table rebuild). A file rewritten
    with the same size and its old time set back is not noticed: ``ikg build --all``."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _built(path: Path, reader: str, parsed: ParsedTable, *, shacl: bool, sha: str) -> BuiltTable:
    if parsed.table.fiscal_year is None:  # a table is stored by department, year and type
        raise SourceError(
            str(path),
            parsed.table.source.line,
            "no fiscal year in the text, the file name or the page; a table is stored by its "
            "year: give it with --year",
        )
    graph = mapping.to_graph(parsed, reader=reader, sha256=sha)
    organisations = mapping.organisations_graph(parsed)
    if shacl:
        validate.check(graph + organisations, str(path))
    uri = mapping.table_uri(parsed)
    nt, org = zlib.compress(ntriples(graph), 1), zlib.compress(ntriples(organisations), 1)
    return BuiltTable(path, reader, uri, parsed, nt, org, len(graph), sha)


def prepare_library(path: Path, *, shacl: bool = True) -> BuiltLibrary:
    """Read, map and validate one indicator library; nothing is written."""

    parsed = library.read(path)
    graph = mapping.library_graph(parsed)
    if shacl:
        validate.check(graph, str(path))
    return BuiltLibrary(path, mapping.library_uris(parsed)[1], parsed, graph)


# -- reading the files, in a pool of processes ---------------------------------------------


@dataclass(frozen=True)
class _Job:
    """One file to read (in a build process): what :func:`_prepare_job` needs."""

    path: Path
    is_library: bool
    reader: str | None
    shacl: bool
    hints: dict[str, Any] | None
    sha256: str | None = None
    #: the validation engine of the building process (a worker started from a fork server
    #: has imported kg.validate afresh, with the default)
    engine: str = field(default_factory=validate.current_engine)


def _prepare_job(job: _Job) -> list[BuiltTable] | BuiltLibrary:
    validate.use_engine(job.engine)  # type: ignore[arg-type]
    if job.is_library:
        return prepare_library(job.path, shacl=job.shacl)
    return prepare_all(job.path, job.reader, shacl=job.shacl, hints=job.hints, sha256=job.sha256)


def pool_context() -> Any:
    """How build processes start (:func:`kg.processes.pool_context`); a fork server imports
    this module once for all its workers."""
    return processes.pool_context([__name__])


def _read_all(jobs: list[_Job], workers: int, progress: Progress | None) -> list[Any]:
    """Each job's result, in input order. The first error in input order is raised, as a
    build reading the files one after the other would raise it."""
    if workers <= 1 or len(jobs) <= 1:
        out = []
        for n, job in enumerate(jobs, start=1):
            if progress:
                progress(f"读取 {job.path.name}", n, len(jobs))
            out.append(_prepare_job(job))
        return out
    results: list[Any] = [None] * len(jobs)
    failed: dict[int, BaseException] = {}
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=pool_context())
    try:
        futures = {pool.submit(_prepare_job, job): i for i, job in enumerate(jobs)}
        _collect(futures, jobs, results, failed, progress)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failed:
        raise failed[min(failed)]
    return results


def _collect(
    futures: dict[Future[Any], int],
    jobs: list[_Job],
    results: list[Any],
    failed: dict[int, BaseException],
    progress: Progress | None,
) -> None:
    """Results as they come; after an error, the files after it are not read (cancelled)."""
    done = 0
    for future in as_completed(futures):
        i = futures[future]
        if future.cancelled():
            continue
        error = future.exception()
        if error is not None:
            failed[i] = error
            first = min(failed)
            for other, k in futures.items():
                if k > first:
                    other.cancel()
            continue
        results[i] = future.result()
        done += 1
        if progress:
            progress(f"读取 {jobs[i].path.name}", done, len(jobs))


# -- files that have not changed -------------------------------------------------------------


def sources_file(store_path: Path | str) -> Path | None:
    """Where a build records the files it read, beside an embedded store (``store`` →
    ``store-sources.json``); None for a server (give one to :func:`build`)."""
    if isinstance(store_path, str) and store_path.startswith(("http://", "https://")):
        return None
    path = Path(store_path)
    return path.with_name(f"{path.name}-sources.json")


def _read_record(path: Path | None) -> dict[str, Any]:
    """The record of the files built: ``files`` (path → digest, reader, options, tables) and
    ``index_pending`` (tables were written since the index step last finished)."""
    record: Any = None
    if path is not None and path.is_file():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None  # unreadable: every file is read again
    files = record.get("files") if isinstance(record, dict) else None
    pending = record.get("index_pending", True) if isinstance(record, dict) else True
    return {
        "format": 1,
        "files": files if isinstance(files, dict) else {},
        "index_pending": pending,
    }


def _write_record(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _load_record(path: Path | None) -> dict[str, Any]:
    return _read_record(path)["files"]


def index_done(record_path: Path | None) -> None:
    """The index step after a build finished (ikg build): until then a build that finds
    nothing changed still reports the index as pending (BuildReport.index_pending)."""
    if record_path is not None and record_path.is_file():
        _write_record(record_path, {**_read_record(record_path), "index_pending": False})


def _stored(store_path: Path | str) -> dict[URIRef, tuple[str, str]]:
    """The tables of the store with their digest and reader; nothing when there is no store
    (opened read-only: a build that fails later must not have created it)."""
    if sources_file(store_path) is not None and not Path(store_path).exists():
        return {}
    with GraphStore(store_path, read_only=True) as store:
        return table_sources(store)


def _key(reader: str | None, shacl: bool, hints: dict[str, Any] | None) -> dict[str, Any]:
    """What else a file's tables depend on besides its bytes."""
    return {"hints": {k: v for k, v in (hints or {}).items() if v is not None}, "shacl": shacl}


def _unchanged(
    tables: list[Path],
    store_path: Path | str,
    record_path: Path | None,
    reader: str | None,
    key: dict[str, Any],
) -> list[UnchangedTable]:
    """The tables of the files that are as they were built and still in the store so."""
    record = _load_record(record_path)
    entries = {p: record.get(str(p.resolve())) for p in tables}
    if not any(entries.values()):
        return []
    stored = _stored(store_path)
    out: list[UnchangedTable] = []
    for path, entry in entries.items():
        if not isinstance(entry, dict) or not _same_build(entry, reader, key):
            continue
        try:
            stamp = file_stamp(path)
            sha = entry.get("sha256") if entry.get("stamp") == stamp else file_digest(path)
        except OSError:
            continue  # read as usual: the reader says what is wrong
        tables_of = entry.get("tables", [])
        held = [t for t in tables_of if stored.get(URIRef(t["uri"])) == (sha, entry["reader"])]
        if sha == entry.get("sha256") and held and len(held) == len(tables_of):
            out += [_unchanged_table(path, sha, entry["reader"], t, stamp) for t in held]
    return out


def _same_build(entry: dict[str, Any], reader: str | None, key: dict[str, Any]) -> bool:
    """Built with the same hints, the reader asked for, and validated if validation is asked."""
    if reader is not None and entry.get("reader") != reader:
        return False
    return entry.get("hints") == key["hints"] and (entry.get("shacl") or not key["shacl"])


def _unchanged_table(
    path: Path, sha: str, reader: str, t: dict[str, Any], stamp: list[int]
) -> UnchangedTable:
    return UnchangedTable(
        path,
        URIRef(t["uri"]),
        sha,
        reader,
        t.get("department", ""),
        t.get("fiscal_year"),
        int(t.get("indicators", 0)),
        stamp,
    )


def _save_record(record_path: Path | None, report: BuildReport, key: dict[str, Any]) -> None:
    """Record the files this build wrote (after the store has them); entries of other files
    whose tables this build replaced are dropped. Sets ``report.index_pending``."""
    if record_path is None:
        report.index_pending = bool(report.tables)
        return
    record = _read_record(record_path)
    written = {str(t.uri) for t in report.tables}
    read = {str(t.file.resolve()) for t in report.tables}
    files = {
        f: e
        for f, e in record["files"].items()
        if f not in read
        and isinstance(e, dict)
        and not written & {t.get("uri") for t in e.get("tables", [])}
    }
    for t in report.tables:
        entry = files.setdefault(
            str(t.file.resolve()), {"sha256": t.sha256, "reader": t.reader, "tables": [], **key}
        )
        if t.stamp is not None:
            entry["stamp"] = t.stamp
        entry["tables"].append(_table_entry(t))
    for u in report.unchanged:  # digests checked by reading: not read next time
        kept = files.get(str(u.file.resolve()))
        if kept is not None and u.stamp is not None and kept.get("sha256") == u.sha256:
            kept["stamp"] = u.stamp
    report.index_pending = bool(report.tables) or bool(record["index_pending"])
    _write_record(record_path, {"format": 1, "files": files, "index_pending": report.index_pending})


def _table_entry(t: BuiltTable) -> dict[str, Any]:
    table = t.parsed.table
    return {
        "uri": str(t.uri),
        "department": table.department,
        "fiscal_year": table.fiscal_year,
        "indicators": len(t.parsed.indicators),
    }


# -- the build --------------------------------------------------------------------------------


def build(
    sources: Iterable[Path],
    store_path: Path | str,
    *,
    reader: str | None = None,
    shacl: bool = True,
    progress: Progress | None = None,
    hints: dict[str, object] | None = None,
    workers: int | None = None,
    force: bool = False,
    record: Path | None = None,
) -> BuildReport:
    """Read every table and library of the sources into the store (hints: see prepare).

    ``workers``: processes reading the files (default: the ``build_workers`` setting).
    ``force``: read every file, also those that have not changed since they were built.
    ``record``: where the files built are recorded (default :func:`sources_file`).
    """
    found = classify_sources(sources, reader)
    libraries = set(found.libraries)
    record = record or sources_file(store_path)
    key = _key(reader, shacl, hints)
    report = BuildReport()
    if not force:
        report.unchanged = _unchanged(found.tables, store_path, record, reader, key)
        if progress and report.unchanged:
            n = report.unchanged_files
            progress(f"未变 {n} 个文件，不再读取", n, len(found.files))
    skipped = {u.file for u in report.unchanged}
    jobs = [_Job(p, p in libraries, reader, shacl, hints) for p in found.files if p not in skipped]
    results = _read_all(jobs, processes.worker_count(workers), progress)
    _gather(report, jobs, results)
    _write(report, store_path, progress)
    _save_record(record, report, key)
    return report


def _gather(report: BuildReport, jobs: list[_Job], results: list[Any]) -> None:
    """The results into the report, in input order; the same table (or library) twice is an
    error that names both files."""
    seen: dict[URIRef, Path] = {u.uri: u.file for u in report.unchanged}
    for job, result in zip(jobs, results, strict=True):
        if isinstance(result, BuiltLibrary):
            if result.uri in seen:
                raise SourceError(
                    str(job.path),
                    None,
                    f"same indicator library ({result.parsed.key}) as {seen[result.uri]}",
                )
            seen[result.uri] = job.path
            report.libraries.append(result)
            continue
        for built in result:
            if built.uri in seen:
                raise _same_table(built, seen[built.uri])
            seen[built.uri] = job.path
            report.tables.append(built)


def _same_table(built: BuiltTable, other: Path) -> SourceError:
    t = built.parsed.table
    return SourceError(
        str(built.file),
        t.source.line,
        f"same table ({t.department}, {t.fiscal_year}, {t.table_type}"
        f"{', ' + t.project_name if t.project_name else ''}) as {other}; "
        "build one of them",
    )


def _batches(tables: list[BuiltTable]) -> Iterable[list[BuiltTable]]:
    """The tables in batches of about LOAD_BATCH_TRIPLES triples."""
    batch: list[BuiltTable] = []
    size = 0
    for t in tables:
        batch.append(t)
        size += t.triples
        if size >= LOAD_BATCH_TRIPLES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


#: triples a build writes before the store is compacted (RocksDB ``optimize``): about 1 s on a
#: store of 1,000 tables, not worth paying for one changed table
OPTIMIZE_MIN_TRIPLES = 100_000


def _write(report: BuildReport, store_path: Path | str, progress: Progress | None) -> None:
    """Open the store for writing (only now) and write the tables and libraries read."""
    if not report.tables and not report.libraries and report.unchanged:
        return  # nothing changed: the store stays as it is
    with GraphStore(store_path) as store:
        store.load_ontology()
        done = 0
        for batch in _batches(report.tables):
            data: list[TableData] = [(t.uri, t.nt, t.organisations_nt) for t in batch]
            store.write_tables(data)
            done += len(batch)
            if progress:
                progress(f"写入 {batch[-1].file.name}", done, len(report.tables))
        for lib in report.libraries:
            store.replace_graph(lib.uri, lib.graph)
        if sum(t.triples for t in report.tables) >= OPTIMIZE_MIN_TRIPLES:
            store.optimize()  # a compaction of the whole store: worth it after a large load
