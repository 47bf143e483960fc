"""The embedded graph store: a pyoxigraph ``Store`` on disk under the data directory.

Each table lives in its own named graph (the table's URI), the ontology and
category schemes in :data:`~kg.namespaces.ONTOLOGY_GRAPH`. Queries see the
union of all named graphs as their default graph, and every namespace of
:mod:`kg.namespaces` is a predeclared prefix, so ``ikg:``/``cat:`` work
without PREFIX lines.

rdflib builds and validates a table's triples; this module moves them into
the store (one SPARQL update per table, so a replace is all-or-nothing) and
converts results back with one literal convention: oxigraph's ``xsd:string``
literals become rdflib plain literals, equal to the ones :mod:`kg.mapping` made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, XSD
from rdflib.term import Node

import ontology

from .namespaces import (
    IKG,
    LIBRARY_LINKS_GRAPH,
    ONTOLOGY_GRAPH,
    ORGANISATIONS_GRAPH,
    PREFIXES,
    SIMILARITY_GRAPH,
)
from .remote import RemoteStore

_XSD_STRING = str(XSD.string)


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot store {term!r}")


def to_rdflib(term: Any) -> Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unexpected term {term!r}")


def _quads(graph: Graph, graph_name: URIRef) -> Iterator[ox.Quad]:
    g = ox.NamedNode(str(graph_name))
    for s, p, o in graph:
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), g)  # type: ignore[arg-type]


def size_on_disk_mb(path: Path) -> float:
    """The embedded store's size on disk (MB, hard links counted once)."""
    total = 0
    seen: set[int] = set()
    for p in path.rglob("*"):
        if p.is_file():
            st = p.stat()
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    return total / 2**20


def memory_copy(store: ox.Store) -> ox.Store:
    """Every quad of ``store`` in a new in-memory pyoxigraph store.

    pyoxigraph's in-memory store answers the README queries 3-12x faster than its on-disk
    (RocksDB) store over the same quads at 10k-100k indicators and 26-104x at 1M
    (``benchmarks/scale.py``: every lookup of a query's nested-loop join walks the few quads of
    one subject or object in memory instead of a RocksDB seek and a string lookup), at about
    2.7x the on-disk size in RAM. The copy is a snapshot: later writes to ``store`` are not in it.
    """
    mem = ox.Store()
    quads = store.quads_for_pattern(None, None, None, None)
    # in batches: one call over every quad holds the GIL for the whole copy (minutes at 1M),
    # so nothing else in the process (uvicorn's health ping of a worker) could answer
    while batch := list(islice(quads, MEMORY_COPY_BATCH)):
        mem.bulk_extend(batch)
    return mem


#: quads copied per call by :func:`memory_copy` (about a second each)
MEMORY_COPY_BATCH = 50_000


#: The links the derived graphs hold for the indicators of the tables in ``values`` (similarity
#: nodes, library matches): deleted in the update that replaces the tables (GraphStore.replace_table).
_DROP_OLD_LINKS = """\
DELETE {{ GRAPH <{sim}> {{ ?link ?p ?o }} }} WHERE {{
  VALUES ?table {{ {values} }}
  GRAPH ?table {{ ?ind a <{Indicator}> }}
  GRAPH <{sim}> {{ ?link <{linksIndicator}> ?ind ; ?p ?o }} }} ;
DELETE {{ GRAPH <{sim}> {{ ?table <{computed}> ?how }} }} WHERE {{
  VALUES ?table {{ {values} }}
  GRAPH <{sim}> {{ ?table <{computed}> ?how }} }} ;
DELETE {{ GRAPH <{lib}> {{ ?m ?p ?o }} }} WHERE {{
  VALUES ?table {{ {values} }}
  GRAPH ?table {{ ?ind a <{Indicator}> }}
  GRAPH <{lib}> {{ ?m <{matchIndicator}> ?ind ; ?p ?o }} }} ;
DELETE {{ GRAPH <{lib}> {{ ?ind <{matches}> ?c }} }} WHERE {{
  VALUES ?table {{ {values} }}
  GRAPH ?table {{ ?ind a <{Indicator}> }}
  GRAPH <{lib}> {{ ?ind <{matches}> ?c }} }} ;
"""

#: One table to write: its URI (the named graph), its triples and the triples of its
#: organisations (for the shared graph), both as N-Triples bytes (rdflib's serialisation).
TableData = tuple[URIRef, bytes, bytes]

#: triples per write when a build loads its tables (GraphStore.write_tables): one bulk load of
#: the new tables and one update of the replaced ones per batch of about this many
LOAD_BATCH_TRIPLES = 500_000


def ntriples(graph: Graph | None) -> bytes:
    """A graph as N-Triples bytes (empty for None)."""
    if graph is None or not len(graph):
        return b""
    return graph.serialize(format="nt", encoding="utf-8")


def nquads(data: bytes, graph_name: URIRef) -> bytes:
    """N-Triples as N-Quads in ``graph_name``.

    Every N-Triples line ends with `` .`` and a newline, and no term holds a raw newline
    (N-Triples escapes it), so the graph name goes before each line's `` .``.
    """
    return data.replace(b" .\n", f" <{graph_name}> .\n".encode())


def _drop_links(tables: Iterable[URIRef]) -> str:
    return _DROP_OLD_LINKS.format(
        values=" ".join(f"<{t}>" for t in tables),
        sim=SIMILARITY_GRAPH,
        lib=LIBRARY_LINKS_GRAPH,
        Indicator=IKG.Indicator,
        linksIndicator=IKG.linksIndicator,
        matchIndicator=IKG.matchIndicator,
        matches=IKG.matchesLibraryIndicator,
        computed=IKG.similarityLinksComputed,
    )


def _replace_update(tables: list[TableData]) -> str:
    """One SPARQL update (one transaction) that replaces these tables: their links dropped,
    their graphs dropped and inserted again, their organisations added to the shared graph."""
    parts = [_drop_links(uri for uri, _, _ in tables)]
    parts += [f"DROP SILENT GRAPH <{uri}> ;" for uri, _, _ in tables]
    parts.append("INSERT DATA {")
    parts += [f"GRAPH <{uri}> {{\n{nt.decode()}\n}}" for uri, nt, _ in tables]
    shared = b"".join(org for _, _, org in tables)
    if shared:
        parts.append(f"GRAPH <{ORGANISATIONS_GRAPH}> {{\n{shared.decode()}\n}}")
    return "\n".join(parts) + "\n}"


#: Links (similarity nodes, library matches) that name an indicator no table holds.
DANGLING_LINKS = f"""\
SELECT DISTINCT ?graph ?link ?indicator WHERE {{
  {{ GRAPH ?graph {{ ?link <{IKG.linksIndicator}> ?indicator }} }}
  UNION {{ GRAPH ?graph {{ ?link <{IKG.matchIndicator}> ?indicator }} }}
  UNION {{ GRAPH ?graph {{ ?indicator <{IKG.matchesLibraryIndicator}> ?c BIND(?indicator AS ?link) }} }}
  FILTER (?graph IN (<{SIMILARITY_GRAPH}>, <{LIBRARY_LINKS_GRAPH}>))
  FILTER NOT EXISTS {{ GRAPH ?t {{ ?indicator a <{IKG.Indicator}> }} }}
}}"""


class GraphStore:
    """A thin wrapper that keeps the project's conventions in one place."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        read_only: bool = False,
        timeout_s: float = 60.0,
        in_memory: bool = False,
    ) -> None:
        """``path``: the embedded store's directory, an Oxigraph server's ``http://`` URL
        (:mod:`kg.remote`), or None for a store in memory. ``in_memory`` (read-only embedded
        store only): query a copy of the store held in memory (:func:`memory_copy`)."""
        if in_memory and not (read_only and isinstance(path, Path)):
            raise ValueError("in_memory needs a read-only embedded store (a directory)")
        self.url: str | None = None
        if isinstance(path, str) and path.startswith(("http://", "https://")):
            self.path = None
            self.url = path
            self.ox = RemoteStore(path, timeout_s=timeout_s, read_only=read_only)  # type: ignore[assignment]
            self.read_only = read_only
            return
        path = Path(path) if isinstance(path, str) else path
        self.path = path
        if path is None:
            self.ox = ox.Store()
        elif read_only:
            if not path.exists():
                raise FileNotFoundError(f"no graph store at {path}; run `ikg build` first")
            self.ox = ox.Store.read_only(str(path))
            if in_memory:
                self.ox = memory_copy(self.ox)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.ox = ox.Store(str(path))
        self.read_only = read_only

    @classmethod
    def from_store(cls, store: ox.Store, *, read_only: bool) -> GraphStore:
        """Wrap an already open pyoxigraph store (the API's) without reopening it."""
        self = cls.__new__(cls)
        self.path = None
        self.url = getattr(store, "url", None)
        self.ox = store
        self.read_only = read_only
        return self

    # -- writing ---------------------------------------------------------------
    def replace_graph(self, graph_name: URIRef, graph: Graph, shared: Graph | None = None) -> None:
        """Drop a named graph and insert ``graph`` in its place, in one transaction.

        ``shared`` triples (organisations) are added to the shared graph in the
        same transaction; that graph is a set, so adding them again is a no-op.
        On an Oxigraph server the table's graph is replaced by one Graph Store Protocol
        ``PUT`` (atomic on the server) and the shared triples follow in a ``POST``.
        """
        shared_nt = shared.serialize(format="nt") if shared is not None and len(shared) else ""
        self._replace_nt(graph_name, graph.serialize(format="nt"), shared_nt)

    def _replace_nt(self, graph_name: URIRef, body: str, shared: str = "") -> None:
        """:meth:`replace_graph` with the graphs as N-Triples text."""
        if self.url is not None:  # Graph Store Protocol: PUT replaces the table's graph
            self.ox.put_graph(str(graph_name), body.encode("utf-8"))  # type: ignore[attr-defined]
            if shared:
                self.ox.post_graph(str(ORGANISATIONS_GRAPH), shared.encode("utf-8"))  # type: ignore[attr-defined]
            return
        update = f"DROP SILENT GRAPH <{graph_name}> ;\nINSERT DATA {{ GRAPH <{graph_name}> {{\n{body}\n}}"
        if shared:
            update += f"\nGRAPH <{ORGANISATIONS_GRAPH}> {{\n{shared}\n}}"
        self.ox.update(update + " }")

    def replace_table(self, graph_name: URIRef, graph: Graph, shared: Graph | None = None) -> None:
        """Replace a table's graph; in the same transaction (embedded store), drop the links
        the derived graphs hold for the indicators of the table being replaced.

        A link never outlives its indicator: a build killed at any point leaves either the
        old table with its links or the new table without them (the index step that follows
        the build writes the new ones). On an Oxigraph server the links go first, in one
        update, then the table's graph is replaced.
        """
        table = (graph_name, ntriples(graph), ntriples(shared))
        if self.url is not None:
            self._replace_remote(table)
            return
        self.ox.update(_replace_update([table]))

    def write_tables(self, tables: list[TableData]) -> None:
        """Write a batch of tables, each replacing its earlier version (its named graph and the
        links to its indicators); their organisations are merged into the shared graph.

        Embedded store: the tables already in the store are replaced in one SPARQL update (one
        transaction, as :meth:`replace_table`); the tables new to it are bulk-loaded in one
        call, 3-4x faster than an update. A bulk load is not a transaction: a build killed
        during it can leave a new table partly loaded, never a link to a missing indicator (a
        new table has none yet), and the next build of its file replaces it (kg.build records
        a file as built only after its tables are written). Server: one table at a time.
        """
        if self.url is not None:
            for table in tables:
                self._replace_remote(table)
            return
        there = {
            uri for uri, _, _ in tables if self.ox.contains_named_graph(ox.NamedNode(str(uri)))
        }
        new = [t for t in tables if t[0] not in there]
        if new:
            data = b"".join(
                nquads(nt, uri) + nquads(org, ORGANISATIONS_GRAPH) for uri, nt, org in new
            )
            self.ox.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        if there:
            self.ox.update(_replace_update([t for t in tables if t[0] in there]))

    def _replace_remote(self, table: TableData) -> None:
        """On an Oxigraph server: the table's links, then its graph (one Graph Store Protocol
        ``PUT``, atomic on the server), then its organisations (a ``POST``)."""
        uri, nt, org = table
        self.ox.update(_drop_links([uri]).rstrip().rstrip(";"))
        self.ox.put_graph(str(uri), nt)  # type: ignore[attr-defined]
        if org:
            self.ox.post_graph(str(ORGANISATIONS_GRAPH), org)  # type: ignore[attr-defined]

    def replace_graph_from_file(self, graph_name: URIRef, path: Path) -> None:
        """Replace a named graph with the triples of an N-Triples file, without holding them in
        memory (derived graphs that grow with the corpus: the similarity links).

        Embedded: the graph is dropped, then bulk-loaded (not one transaction: a reader may see
        it empty for a moment). Server: one Graph Store Protocol ``PUT`` streaming the file.
        """
        if self.url is not None:
            self.ox.put_graph_file(str(graph_name), path)  # type: ignore[attr-defined]
            return
        self.drop_graph(graph_name)
        self.ox.bulk_load(
            path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph_name))
        )

    def add_from_file(self, graph_name: URIRef, path: Path) -> None:
        """Add the triples of an N-Triples file to a named graph, in one transaction (embedded)
        or one Graph Store Protocol ``POST`` (server): new similarity links beside the old."""
        if self.url is not None:
            self.ox.post_graph(str(graph_name), path.read_bytes())  # type: ignore[attr-defined]
            return
        self.ox.load(
            path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph_name))
        )

    def bulk_add(self, graph_name: URIRef, graph: Graph) -> None:
        """Fast, non-transactional load (benchmarks, a fresh store)."""
        self.ox.bulk_extend(_quads(graph, graph_name))

    def drop_graph(self, graph_name: URIRef) -> None:
        self.ox.update(f"DROP SILENT GRAPH <{graph_name}>")

    def load_ontology(self) -> None:
        """The ontology and the category schemes (not the SHACL shapes) into their graph."""
        body = "".join(
            ox.serialize(ontology.triples(name), format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
            for name in ("indicators.ttl", "categories.ttl", "similarity.ttl")
        )  # parsed by pyoxigraph: rdflib's Turtle parser took 0.3 s of a one-table rebuild
        self._replace_nt(ONTOLOGY_GRAPH, body)

    def flush(self) -> None:
        if not self.read_only and self.path is not None:
            self.ox.flush()

    def optimize(self) -> None:
        if not self.read_only and self.path is not None:
            self.ox.optimize()

    # -- reading ---------------------------------------------------------------
    def query(self, sparql: str, **kwargs: Any) -> Any:
        """Run a query over the union of all graphs, with the project's prefixes."""
        kwargs.setdefault("use_default_graph_as_union", True)
        return self.ox.query(sparql, prefixes={p: str(ns) for p, ns in PREFIXES.items()}, **kwargs)

    def select(self, sparql: str) -> tuple[list[str], list[list[Node | None]]]:
        """A SELECT query's variables and rows as rdflib terms."""
        res = self.query(sparql)
        if isinstance(res, (ox.QueryBoolean, ox.QueryTriples)) or not hasattr(res, "variables"):
            raise ValueError("expected a SELECT query")
        names = [v.value for v in res.variables]
        rows = [[to_rdflib(sol[name]) for name in names] for sol in res]
        return names, rows

    def named_graphs(self) -> list[URIRef]:
        return [URIRef(g.value) for g in self.ox.named_graphs() if isinstance(g, ox.NamedNode)]

    def graph(self, graph_name: URIRef) -> Graph:
        """One named graph as an rdflib in-memory graph (plain literals kept plain)."""
        out = Graph()
        for q in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(graph_name))):
            out.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))  # type: ignore[arg-type]
        return out

    def __len__(self) -> int:
        return len(self.ox)

    def close(self) -> None:
        self.flush()
        del self.ox

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table_graphs(store: GraphStore) -> Iterable[URIRef]:
    """The named graphs that hold one table each."""
    shared = (ONTOLOGY_GRAPH, ORGANISATIONS_GRAPH, SIMILARITY_GRAPH)
    return (g for g in store.named_graphs() if g not in shared)


#: Each table's source document: the SHA-256 digest of the file and the reader that read it.
_TABLE_SOURCES = f"""\
SELECT ?table ?sha ?reader WHERE {{
  GRAPH ?table {{
    ?table a <{IKG.TargetTable}> ; <{PROV.wasDerivedFrom}> ?doc .
    ?doc <{IKG.sha256}> ?sha .
    OPTIONAL {{ ?doc <{IKG.reader}> ?reader }} }} }}"""


def table_sources(store: GraphStore) -> dict[URIRef, tuple[str, str]]:
    """For each table in the store: the SHA-256 digest of the file it was read from and the
    reader ("" when not recorded); tables built without a digest are left out."""
    _, rows = store.select(_TABLE_SOURCES)
    return {URIRef(str(t)): (str(sha), str(r or "")) for t, sha, r in rows}
