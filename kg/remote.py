"""The graph store on an Oxigraph server, behind the part of ``pyoxigraph.Store`` the project uses.

``IKG_STORE=oxigraph-server`` with ``IKG_STORE_URL=http://host:7878`` makes
:class:`kg.store.GraphStore` (and so ``ikg build``, ``ikg query``, the API …) talk to a running
``oxigraph serve`` (loader) or ``oxigraph serve-read-only`` (readers) instead of opening the
embedded store. The server runs the same engine as pyoxigraph, so queries give the same answers.

* Queries go through the SPARQL 1.1 Protocol (``POST /query``); the answer is streamed into
  pyoxigraph's own parsers, so callers get the same ``QuerySolutions`` / ``QueryBoolean`` rows
  and ``Triple`` objects as from the embedded store, and a caller that stops reading (the
  API's row cap) closes the connection instead of downloading the rest. The project's
  prefixes are declared in front of the query (a declaration in the query itself wins);
  error positions in the server's messages are shifted back to the caller's lines.
* Loading goes through the SPARQL 1.1 Graph Store Protocol (``/store?graph=``), one named
  graph per table: ``PUT`` replaces a table's graph in one request, ``POST`` adds.
* Updates (``DROP GRAPH`` …) go to ``POST /update``.

Failures are explicit: a server that cannot be reached, resets the connection or times out
raises :class:`RemoteStoreError` (an ``OSError``); a malformed query raises ``SyntaxError``
with the server's message, as pyoxigraph does. Oxigraph answers a query that hits its
``--timeout-s`` while results stream with HTTP 200 and a body cut short, ending in
"The SPARQL operation has been cancelled": the parsers then fail on the cut, and that is
raised as a :class:`RemoteStoreError` saying the server cut the answer, never as a short result.
"""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from http.client import HTTPException, HTTPResponse
from typing import Any

import pyoxigraph as ox

from kg.errors import RemoteStoreError, RemoteUnsupported

from .results import solutions_json

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
CANCELLED = b"The SPARQL operation has been cancelled"
_ERROR_AT = re.compile(r"error at (\d+):(\d+)")


class _TailReader:
    """A response body read through, keeping its last bytes (to explain a cut answer)."""

    def __init__(self, resp: HTTPResponse) -> None:
        self.resp = resp
        self.tail = b""

    def read(self, n: int = -1) -> bytes:
        try:
            chunk = self.resp.read(n)
        except (OSError, HTTPException) as exc:
            raise RemoteStoreError(f"Oxigraph 服务器连接中断 / connection lost: {exc}") from exc
        if chunk:
            self.tail = (self.tail + chunk)[-512:]
        return chunk

    def readinto(self, buf: Any) -> int:  # some parsers prefer readinto
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.resp.close()


def _cut_error(reader: _TailReader, exc: Exception) -> RemoteStoreError:
    if CANCELLED in reader.tail:
        return RemoteStoreError(
            "Oxigraph 服务器超时并截断了结果 / the server hit its query timeout "
            "(oxigraph --timeout-s) while sending the answer; narrow the query or add LIMIT"
        )
    return RemoteStoreError(
        f"Oxigraph 服务器返回的结果不完整 / the server's answer was cut short: {exc}"
    )


class RemoteSolutions:
    """SELECT rows streamed from the server (pyoxigraph ``QuerySolution`` objects)."""

    def __init__(self, solutions: ox.QuerySolutions, reader: _TailReader) -> None:
        self._solutions = solutions
        self._reader = reader
        self.variables = solutions.variables

    def serialize(self, output: Any = None, format: Any = ox.QueryResultsFormat.JSON) -> Any:
        """As ``QuerySolutions.serialize`` (rows read from the server, then written out)."""

        names = [v.value for v in self.variables]
        rows = [[sol[n] for n in names] for sol in self]
        doc = ox.parse_query_results(solutions_json(names, rows), ox.QueryResultsFormat.JSON)
        return doc.serialize(output, format)

    def __iter__(self) -> Iterator[ox.QuerySolution]:
        try:
            yield from self._solutions
        except SyntaxError as exc:
            raise _cut_error(self._reader, exc) from exc
        finally:
            self._reader.close()


class RemoteTriples:
    """CONSTRUCT / DESCRIBE triples streamed from the server (pyoxigraph ``Triple`` objects)."""

    def __init__(self, reader: _TailReader) -> None:
        self._reader = reader

    def serialize(self, output: Any = None, format: Any = ox.RdfFormat.N_TRIPLES) -> Any:
        """As ``QueryTriples.serialize``."""
        return ox.serialize(list(self), output, format)

    def __iter__(self) -> Iterator[ox.Triple]:
        try:
            for q in ox.parse(self._reader, format=ox.RdfFormat.N_TRIPLES):
                yield ox.Triple(q.subject, q.predicate, q.object)
        except SyntaxError as exc:
            raise _cut_error(self._reader, exc) from exc
        finally:
            self._reader.close()


def _iri(node: Any) -> str:
    return node.value if isinstance(node, ox.NamedNode) else str(node)


def _graphs(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [_iri(v) for v in value if not isinstance(v, ox.DefaultGraph)]
    return [] if isinstance(value, ox.DefaultGraph) else [_iri(value)]


class RemoteStore:
    """An Oxigraph server as a store: ``query``, ``update``, Graph Store Protocol loading."""

    def __init__(self, url: str, *, timeout_s: float = 60.0, read_only: bool = False) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"store URL {url!r}: expected http://host:port of an Oxigraph server")
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    # -- HTTP ------------------------------------------------------------------
    def _open(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        shift: int = 0,
    ) -> HTTPResponse:
        url = self.url + path
        if params:
            url += "?" + "&".join(
                urllib.parse.quote(k, safe="-")
                + ("=" + urllib.parse.quote(v, safe="") if v else "")
                for k, v in params
            )
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip()
            exc.close()
            if exc.code == 400:
                raise SyntaxError(_shift_positions(detail, shift)) from None
            raise RemoteStoreError(
                f"Oxigraph 服务器 {self.url} 返回 HTTP {exc.code} / the server answered "
                f"{exc.code} to {method} {path}: {detail[:500]}"
            ) from None
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.timeout) or isinstance(exc, TimeoutError):
                why = f"no answer within {self.timeout_s:g} s"
            else:
                why = str(reason)
            raise RemoteStoreError(
                f"Oxigraph 服务器 {self.url} 不可用 / the graph store server is unavailable: {why}"
            ) from None

    @staticmethod
    def _prologue(prefixes: dict[str, str] | None, base_iri: str | None) -> str:
        lines = [f"PREFIX {p}: <{ns}>" for p, ns in (prefixes or {}).items()]
        if base_iri:
            lines.append(f"BASE <{base_iri}>")
        return "".join(line + "\n" for line in lines)

    # -- the pyoxigraph.Store surface the project uses -------------------------
    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: Any = None,
        named_graphs: Any = None,
        custom_functions: dict[Any, Any] | None = None,
        **_: Any,
    ) -> RemoteSolutions | ox.QueryBoolean | RemoteTriples:
        if custom_functions:
            names = ", ".join(_iri(k) for k in custom_functions)
            raise RemoteUnsupported(
                f"{names} 只能在内嵌存储上使用 / runs in Python next to the embedded store and is "
                "not available with IKG_STORE=oxigraph-server"
            )
        prologue = self._prologue(prefixes, base_iri)
        params: list[tuple[str, str]] = []
        if use_default_graph_as_union:
            params.append(("union-default-graph", ""))
        params += [("default-graph-uri", g) for g in _graphs(default_graph)]
        params += [("named-graph-uri", g) for g in _graphs(named_graphs)]
        resp = self._open(
            "POST",
            "/query",
            params=params,
            body=(prologue + query).encode("utf-8"),
            headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
            shift=prologue.count("\n"),
        )
        reader = _TailReader(resp)
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype == "application/n-triples":
            return RemoteTriples(reader)
        if ctype != "application/sparql-results+json":
            reader.close()
            raise RemoteStoreError(f"the server answered with an unexpected type {ctype!r}")
        try:
            result = ox.parse_query_results(reader, ox.QueryResultsFormat.JSON)
        except SyntaxError as exc:
            reader.close()
            raise _cut_error(reader, exc) from exc
        if isinstance(result, ox.QueryBoolean):
            reader.close()
            return result
        return RemoteSolutions(result, reader)

    def update(
        self, update: str, *, base_iri: str | None = None, prefixes: dict[str, str] | None = None
    ) -> None:
        prologue = self._prologue(prefixes, base_iri)
        resp = self._open(
            "POST",
            "/update",
            body=(prologue + update).encode("utf-8"),
            headers={"Content-Type": "application/sparql-update"},
            shift=prologue.count("\n"),
        )
        resp.read()
        resp.close()

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Replace one named graph (Graph Store Protocol ``PUT``), in one request."""
        self._gsp("PUT", graph, ntriples)

    def put_graph_file(self, graph: str, path: Any) -> None:
        """Replace one named graph with an N-Triples file, streamed (``PUT``)."""
        from pathlib import Path

        size = Path(path).stat().st_size
        with open(path, "rb") as fh:
            resp = self._open(
                "PUT",
                "/store",
                params=[("graph", graph)],
                body=fh,  # type: ignore[arg-type]
                headers={"Content-Type": "application/n-triples", "Content-Length": str(size)},
            )
            resp.read()
            resp.close()

    def post_graph(self, graph: str, ntriples: bytes) -> None:
        """Add triples to one named graph (Graph Store Protocol ``POST``)."""
        self._gsp("POST", graph, ntriples)

    def _gsp(self, method: str, graph: str | None, ntriples: bytes) -> None:
        """``graph`` None: the default graph."""
        resp = self._open(
            method,
            "/store",
            params=[("default", "")] if graph is None else [("graph", graph)],
            body=ntriples,
            headers={"Content-Type": "application/n-triples"},
        )
        resp.read()
        resp.close()

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        """Load quads, one Graph Store Protocol ``POST`` per named graph."""
        by_graph: dict[str | None, list[ox.Triple]] = {}
        for q in quads:
            g = None if isinstance(q.graph_name, ox.DefaultGraph) else _iri(q.graph_name)
            by_graph.setdefault(g, []).append(ox.Triple(q.subject, q.predicate, q.object))
        for graph, triples in by_graph.items():
            self._gsp("POST", graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")

    extend = bulk_extend

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(rows, RemoteSolutions)
        for row in rows:
            yield row["g"]

    def quads_for_pattern(
        self, subject: Any, predicate: Any, object: Any, graph_name: Any = None
    ) -> Iterator[ox.Quad]:
        """All quads of one named graph (``GET /store?graph=``); other patterns are not needed."""
        if subject is not None or predicate is not None or object is not None or graph_name is None:
            raise RemoteUnsupported("RemoteStore.quads_for_pattern reads whole named graphs only")
        reader = _TailReader(
            self._open(
                "GET",
                "/store",
                params=[("graph", _iri(graph_name))],
                headers={"Accept": "application/n-triples"},
            )
        )
        for t in RemoteTriples(reader):
            yield ox.Quad(t.subject, t.predicate, t.object, graph_name)

    def __len__(self) -> int:
        rows = self.query(
            "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
        )
        assert isinstance(rows, RemoteSolutions)
        return int(next(iter(rows))["n"].value)

    def ping(self) -> None:
        """Raise :class:`RemoteStoreError` unless the server answers a trivial query."""
        result = self.query("ASK { }")
        assert isinstance(result, ox.QueryBoolean)

    def flush(self) -> None:  # the server persists on its own
        pass

    def optimize(self) -> None:
        pass


def _shift_positions(message: str, lines: int) -> str:
    """Shift ``error at L:C`` back over the prologue lines the client put in front."""
    if not lines:
        return message
    return _ERROR_AT.sub(lambda m: f"error at {max(1, int(m[1]) - lines)}:{m[2]}", message)
