"""Build the graph store from source files: read → map → validate → commit.

Everything is read, mapped and validated before the store is opened for
writing, so bad input leaves the store exactly as it was. Each table then
replaces its own named graph in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef

from . import mapping, validate
from .errors import SourceError
from .readers import library, read_table, read_tables
from .records import ParsedLibrary, ParsedTable, WarningRecord
from .sources import classify_sources
from .sources import expand_sources as expand_sources  # re-exported, as before
from .sources import is_library as is_library  # re-exported, as before
from .store import GraphStore


@dataclass
class BuiltTable:
    file: Path
    reader: str
    uri: URIRef
    parsed: ParsedTable
    graph: Graph
    organisations: Graph

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
            "triples": len(self.graph),
        }


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
    tables: list[BuiltTable] = field(default_factory=list)
    libraries: list[BuiltLibrary] = field(default_factory=list)

    @property
    def warnings(self) -> list[WarningRecord]:
        return [w for t in self.tables for w in t.parsed.warnings] + [
            w for lib in self.libraries for w in lib.parsed.warnings
        ]


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
    return _built(path, chosen.name, parsed, shacl=shacl)


def prepare_all(
    path: Path,
    reader: str | None = None,
    *,
    shacl: bool = True,
    hints: dict[str, object] | None = None,
) -> list[BuiltTable]:
    """Like :func:`prepare`, one per table the file holds (one per project it lists)."""
    chosen, tables = read_tables(path, reader, **(hints or {}))
    return [_built(path, chosen.name, parsed, shacl=shacl) for parsed in tables]


def _built(path: Path, reader: str, parsed: ParsedTable, *, shacl: bool) -> BuiltTable:
    if parsed.table.fiscal_year is None:  # a table is stored by department, year and type
        raise SourceError(
            str(path),
            parsed.table.source.line,
            "no fiscal year in the text, the file name or the page; a table is stored by its "
            "year: give it with --year",
        )
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    graph = mapping.to_graph(parsed, reader=reader, sha256=sha)
    organisations = mapping.organisations_graph(parsed)
    if shacl:
        validate.check(graph + organisations, str(path))
    return BuiltTable(path, reader, mapping.table_uri(parsed), parsed, graph, organisations)


def prepare_library(path: Path, *, shacl: bool = True) -> BuiltLibrary:
    """Read, map and validate one indicator library; nothing is written."""

    parsed = library.read(path)
    graph = mapping.library_graph(parsed)
    if shacl:
        validate.check(graph, str(path))
    return BuiltLibrary(path, mapping.library_uris(parsed)[1], parsed, graph)


def build(
    sources: Iterable[Path],
    store_path: Path | str,
    *,
    reader: str | None = None,
    shacl: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    hints: dict[str, object] | None = None,
) -> BuildReport:
    """Read every table and library of the sources into the store (hints: see prepare)."""
    found = classify_sources(sources, reader)
    files, libraries = found.files, set(found.libraries)
    report = BuildReport()
    seen: dict[URIRef, Path] = {}
    for n, path in enumerate(files, start=1):
        if progress:
            progress(f"读取 {path.name}", n, len(files))
        if path in libraries:
            lib = prepare_library(path, shacl=shacl)
            if lib.uri in seen:
                raise SourceError(
                    str(path), None, f"same indicator library ({lib.parsed.key}) as {seen[lib.uri]}"
                )
            seen[lib.uri] = path
            report.libraries.append(lib)
            continue
        for built in prepare_all(path, reader, shacl=shacl, hints=hints):
            if built.uri in seen:
                t = built.parsed.table
                raise SourceError(
                    str(path),
                    built.parsed.table.source.line,
                    f"same table ({t.department}, {t.fiscal_year}, {t.table_type}"
                    f"{', ' + t.project_name if t.project_name else ''}) as {seen[built.uri]}; "
                    "build one of them",
                )
            seen[built.uri] = path
            report.tables.append(built)
    with GraphStore(store_path) as store:
        store.load_ontology()
        for n, built in enumerate(report.tables, start=1):
            if progress:
                progress(f"写入 {built.file.name}", n, len(report.tables))
            store.replace_table(built.uri, built.graph, built.organisations)
        for lib in report.libraries:
            store.replace_graph(lib.uri, lib.graph)
        store.optimize()
    return report
