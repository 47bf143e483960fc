"""Run one SPARQL operation against the pyoxigraph store, inside a worker thread.

Everything here blocks and is meant for ``anyio.to_thread``; pyoxigraph objects are made
and consumed in that one thread. Limits:

* **rows** — SELECT solutions and CONSTRUCT/DESCRIBE triples are read one by one and the
  reading stops after ``max_rows``; the answer then carries ``truncated=True`` (the router
  sends ``X-IKG-Truncated: true``). The rows kept are written out again with pyoxigraph's
  own serialisers (SELECT rows go through a SPARQL-JSON document parsed back by
  ``parse_query_results``, since pyoxigraph cannot serialise a list of solutions directly).
* **time** — pyoxigraph has no query timeout and cannot cancel a query. The deadline is
  checked between rows here (and a ``cancel`` event set by the router after a timeout stops
  the loop); a query that computes long before yielding its first row is abandoned by the
  router at the deadline and its thread finishes on its own. A semaphore bounds how many
  queries run at once, abandoned ones included, so timed-out queries cannot pile up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyoxigraph import (
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    Store,
    Triple,
    parse_query_results,
    serialize,
)

from api._formats import BOOLEAN, GRAPH, TABULAR, Choice, ResultFormat
from api.errors import MalformedQuery, NotAcceptable, QueryTimeout, StoreError, StoreUnavailable
from kg.namespaces import PREFIXES
from kg.remote import RemoteSolutions, RemoteStoreError, RemoteTriples, RemoteUnsupported
from kg.results import solutions_json

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

#: prefixes a query may use without declaring them (ikg:, cat:, data:, skos: …)
DEFAULT_PREFIXES: dict[str, str] = {p: str(ns) for p, ns in PREFIXES.items()}


@dataclass(frozen=True)
class Negotiated:
    """The format chosen per result family; None where nothing acceptable was offered."""

    tabular: Choice | None
    boolean: Choice | None
    graph: Choice | None


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    truncated: bool
    rows: int | None  # solutions or triples returned; None for ASK


@dataclass
class Limits:
    deadline: float  # time.monotonic() value
    max_rows: int
    timeout_s: float
    cancel: threading.Event
    slots: threading.Semaphore

    def check(self) -> None:
        if self.cancel.is_set() or time.monotonic() > self.deadline:
            raise QueryTimeout(timeout_message(self.timeout_s))


def timeout_message(timeout_s: float) -> str:
    return f"查询超时 / query exceeded {timeout_s:g} s and was stopped; narrow it or add LIMIT"


def _not_acceptable(kind: str, offers: tuple[ResultFormat, ...]) -> NotAcceptable:
    return NotAcceptable(
        f"no acceptable format for a {kind} result; offered: "
        + ", ".join(f.media_type for f in offers)
    )


def _take(iterator: Iterable[Any], limits: Limits) -> tuple[list[Any], bool]:
    """Up to ``max_rows`` items, and whether more were left; checks the deadline per item."""
    items: list[Any] = []
    for item in iterator:
        limits.check()
        if len(items) >= limits.max_rows:
            return items, True
        items.append(item)
    limits.check()
    return items, False


def _drop_tracebacks(exc: BaseException) -> None:
    """Free the frames of a failed query here, in the worker thread.

    pyoxigraph's result iterators may only be dropped on the thread that made them; a
    traceback carried to the event loop would drop them there (a RuntimeError at exit).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


def run_query(
    store: Store,
    text: str,
    **kwargs: Any,
) -> Answer:
    """Evaluate ``text``; raise MalformedQuery, NotAcceptable, QueryTimeout or StoreError.

    Keyword arguments as :func:`_run_query`.
    """
    try:
        return _run_query(store, text, **kwargs)
    except Exception as exc:
        _drop_tracebacks(exc)
        raise exc from exc.__cause__


def _run_query(
    store: Store,
    text: str,
    *,
    default_graphs: tuple[str, ...],
    named_graphs: tuple[str, ...],
    use_dataset: bool,
    base_iri: str | None,
    negotiated: Negotiated,
    limits: Limits,
    custom_functions: dict[NamedNode, Any] | None = None,
) -> Answer:
    remaining = limits.deadline - time.monotonic()
    if not limits.slots.acquire(timeout=max(remaining, 0)):
        raise QueryTimeout(timeout_message(limits.timeout_s) + " (waited for a free query slot)")
    try:
        limits.check()
        kwargs: dict[str, Any] = {}
        if use_dataset:
            kwargs["default_graph"] = [NamedNode(g) for g in default_graphs]
            kwargs["named_graphs"] = [NamedNode(g) for g in named_graphs]
        else:
            kwargs["use_default_graph_as_union"] = True
        if custom_functions:  # ikg:textSimilarity (api.sparql_functions)
            kwargs["custom_functions"] = custom_functions
        try:
            result = store.query(text, base_iri=base_iri, prefixes=DEFAULT_PREFIXES, **kwargs)
        except SyntaxError as exc:
            raise MalformedQuery(f"SPARQL 语法错误 / malformed query: {exc}") from exc
        except RemoteUnsupported as exc:
            raise MalformedQuery(str(exc)) from exc
        except RemoteStoreError as exc:
            raise StoreUnavailable(str(exc)) from exc
        except OSError as exc:
            raise StoreError(f"the store failed: {exc}") from exc
        try:
            return _answer(result, negotiated, limits)
        except RemoteStoreError as exc:
            raise StoreUnavailable(str(exc)) from exc
        except OSError as exc:
            raise StoreError(f"the store failed while evaluating the query: {exc}") from exc
    finally:
        limits.slots.release()


def _as_bytes(value: bytes | None) -> bytes:
    # pyoxigraph's serialisers return bytes when no output is given
    return value if value is not None else b""


def _answer(result: Any, negotiated: Negotiated, limits: Limits) -> Answer:
    if isinstance(result, QueryBoolean):
        limits.check()
        if negotiated.boolean is None:
            raise _not_acceptable("ASK (boolean)", BOOLEAN)
        fmt = negotiated.boolean.fmt.serializer
        assert isinstance(fmt, QueryResultsFormat)
        body = _as_bytes(result.serialize(format=fmt))
        return Answer(body, negotiated.boolean.content_type, False, None)
    if isinstance(result, (QuerySolutions, RemoteSolutions)):
        if negotiated.tabular is None:
            raise _not_acceptable("SELECT (tabular)", TABULAR)
        variables = [v.value for v in result.variables]
        rows, truncated = _take(result, limits)
        doc = solutions_json(variables, rows)
        fmt = negotiated.tabular.fmt.serializer
        assert isinstance(fmt, QueryResultsFormat)
        reparsed = parse_query_results(doc, QueryResultsFormat.JSON)
        assert isinstance(reparsed, QuerySolutions)
        body = _as_bytes(reparsed.serialize(format=fmt))
        return Answer(body, negotiated.tabular.content_type, truncated, len(rows))
    if isinstance(result, (QueryTriples, RemoteTriples)):
        if negotiated.graph is None:
            raise _not_acceptable("CONSTRUCT/DESCRIBE (graph)", GRAPH)
        triples, truncated = _take(result, limits)
        fmt = negotiated.graph.fmt.serializer
        assert not isinstance(fmt, QueryResultsFormat)
        body = _as_bytes(serialize(triples, format=fmt, prefixes=_used_prefixes(triples)))
        return Answer(body, negotiated.graph.content_type, truncated, len(triples))
    raise TypeError(f"unexpected query result {type(result).__name__}")  # pragma: no cover


def _used_prefixes(triples: list[Triple]) -> dict[str, str]:
    """The default prefixes that some IRI of ``triples`` starts with (for Turtle output)."""
    iris: set[str] = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, NamedNode):
                iris.add(term.value)
            elif isinstance(term, Literal) and not term.language:
                iris.add(term.datatype.value)
    iris.discard(XSD_STRING)  # plain strings are written without a datatype
    return {p: ns for p, ns in DEFAULT_PREFIXES.items() if any(i.startswith(ns) for i in iris)}


def run_update(store: Store, text: str, *, base_iri: str | None) -> None:
    """Run a SPARQL Update (transactional in pyoxigraph); no deadline, it cannot be abandoned."""
    try:
        store.update(text, base_iri=base_iri, prefixes=DEFAULT_PREFIXES)
    except SyntaxError as exc:
        raise MalformedQuery(f"SPARQL Update 语法错误 / malformed update: {exc}") from exc
    except RemoteStoreError as exc:
        raise StoreUnavailable(str(exc)) from exc
    except (OSError, RuntimeError) as exc:
        raise StoreError(f"the store could not apply the update: {exc}") from exc
