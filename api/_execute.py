"""Check and run one SPARQL operation against the store, from a worker thread.

Everything here blocks and is meant for ``anyio.to_thread``. For the embedded store a
query is checked (:mod:`api._guard`: the parse decides what it may do) and evaluated in a
child process of its own (:mod:`api._isolate`), so that:

* **time** — a query still running at the deadline is killed (``SIGKILL``) and answers 504;
  its CPU and its query slot are free at once. The deadline is also checked between rows,
  so a query that streams many rows answers 504 itself. A semaphore bounds how many queries
  run at once; a slot is held only while the query's process lives.
* **crashes** — a query that makes the engine die (a stack overflow in pyoxigraph is a
  segfault) answers 500 ``query_crashed``; the API process is untouched.
* **rows** — SELECT solutions and CONSTRUCT/DESCRIBE triples are read one by one and the
  reading stops after ``max_rows``; the answer then carries ``truncated=True`` (the router
  sends ``X-IKG-Truncated: true``). The rows kept are written out again with pyoxigraph's
  own serialisers (SELECT rows go through a SPARQL-JSON document parsed back by
  ``parse_query_results``, since pyoxigraph cannot serialise a list of solutions directly).
* **dataset** — :func:`dataset_arguments`: the protocol's graphs, else the query's own
  ``FROM`` / ``FROM NAMED``, else the union of every graph.

With the Oxigraph server as the store, only the check runs in a child; the query goes to
the server from the worker thread (the server applies its own timeout), and the router
abandons that thread at the deadline as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
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

from api import _guard
from api._formats import BOOLEAN, GRAPH, TABULAR, Choice, ResultFormat
from api._isolate import Channel, ChildCrashed, ChildTimedOut, run_in_child
from api.errors import (
    ApiError,
    MalformedQuery,
    NotAcceptable,
    QueryCrashed,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)
from api.sparql_functions import TEXT_SIMILARITY, ProxyTextSimilarity
from kg.namespaces import PREFIXES
from kg.remote import RemoteSolutions, RemoteStoreError, RemoteTriples, RemoteUnsupported
from kg.results import solutions_json
from kg.sparql_guard import Checked
from kg.sparql_guard import Limits as GuardLimits

log = logging.getLogger(__name__)

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


def _is_remote(store: Any) -> bool:
    return getattr(store, "url", None) is not None  # kg.remote.RemoteStore


def dataset_arguments(
    *,
    default_graphs: tuple[str, ...],
    named_graphs: tuple[str, ...],
    use_dataset: bool,
    query_has_dataset: bool,
) -> dict[str, Any]:
    """How the store is told the query's RDF dataset.

    The protocol's ``default-graph-uri`` / ``named-graph-uri`` win (Protocol §2.1.4); else a
    query's own ``FROM`` / ``FROM NAMED`` make the dataset (SPARQL 1.1 §13.2: the merge of
    the ``FROM`` graphs, a graph the store lacks adding nothing; only ``FROM NAMED`` gives an
    empty default graph); else the default graph is the union of every graph.
    """
    if use_dataset:
        return {
            "default_graph": [NamedNode(g) for g in default_graphs],
            "named_graphs": [NamedNode(g) for g in named_graphs],
        }
    if query_has_dataset:
        return {}
    return {"use_default_graph_as_union": True}


def run_query(
    store: Store,
    text: str,
    *,
    default_graphs: tuple[str, ...],
    named_graphs: tuple[str, ...],
    use_dataset: bool,
    base_iri: str | None,
    negotiated: Negotiated,
    limits: Limits,
    guard_limits: GuardLimits | None = None,
    isolate_network: bool = True,
    functions: Callable[[], dict[NamedNode, Any]] | None = None,
) -> Answer:
    """Check and evaluate ``text`` under a query slot; raise an :class:`api.errors.ApiError`.

    Embedded store: the check (:mod:`api._guard`) and the evaluation run in a child process
    (:func:`api._isolate.run_in_child`) killed at the deadline. Oxigraph server: the check
    runs in a child, the query in this thread (the server has its own timeout).
    ``functions()`` gives the SPARQL extension functions (``ikg:textSimilarity``); the child
    asks this process for their scores.
    """
    guard_limits = guard_limits or GuardLimits()
    remaining = limits.deadline - time.monotonic()
    if not limits.slots.acquire(timeout=max(remaining, 0)):
        raise QueryTimeout(timeout_message(limits.timeout_s) + " (waited for a free query slot)")
    query: dict[str, Any] = {
        "default_graphs": default_graphs,
        "named_graphs": named_graphs,
        "use_dataset": use_dataset,
        "base_iri": base_iri,
        "negotiated": negotiated,
        "limits": limits,
    }
    try:
        if _is_remote(store):
            return _remote_query(store, text, guard_limits, isolate_network, **query)
        return _embedded_query(store, text, guard_limits, isolate_network, functions, **query)
    finally:
        limits.slots.release()


def _remote_query(
    store: Store, text: str, guard_limits: GuardLimits, isolate_network: bool, **query: Any
) -> Answer:
    """Oxigraph server: the check in a child, the query in this thread. ``query``: the
    dataset, base IRI, negotiated format and limits of :func:`run_query`."""
    checked = _in_child(
        partial(_check_only, text, guard_limits, update=False),
        query["limits"],
        network=not isolate_network,
    )
    custom = {TEXT_SIMILARITY: _unavailable} if checked.calls("textSimilarity") else None
    return _in_this_thread(store, checked, custom_functions=custom, **query)


def _embedded_query(
    store: Store,
    text: str,
    guard_limits: GuardLimits,
    isolate_network: bool,
    functions: Callable[[], dict[NamedNode, Any]] | None,
    **query: Any,
) -> Answer:
    """Embedded store: the check and the evaluation in a child (the check's result cached
    per text and limits); the child asks this process for ``ikg:textSimilarity`` scores."""
    key = (text, guard_limits)
    target = partial(_query_in_child, store, text, guard_limits, _checked_cache.get(key), **query)
    handlers = {}
    if functions is not None:
        handlers[SCORES_CALL] = lambda t: functions()[TEXT_SIMILARITY].scores(t)
    answer, checked = _in_child(
        target, query["limits"], handlers=handlers, network=not isolate_network
    )
    _checked_cache.put(key, checked)
    return answer


#: the call a query's child makes to the parent for ``ikg:textSimilarity`` scores
SCORES_CALL = "textSimilarity.scores"


def _unavailable(*_: Any) -> None:  # pragma: no cover - never called: the server refuses it
    return None


def _in_child(
    target: Callable[[Channel], Any],
    limits: Limits,
    *,
    handlers: dict[str, Callable[[Any], Any]] | None = None,
    network: bool = True,
) -> Any:
    try:
        return run_in_child(target, deadline=limits.deadline, handlers=handlers, network=network)
    except ChildTimedOut:
        raise QueryTimeout(timeout_message(limits.timeout_s)) from None
    except ChildCrashed as exc:
        log.error("the process evaluating a SPARQL query died: %s", exc.status)
        raise QueryCrashed(
            f"查询进程异常退出 / the process evaluating the query died ({exc.status}); "
            "the server is unaffected, but this query cannot be answered: simplify it"
        ) from None


def _check_only(text: str, guard_limits: GuardLimits, _channel: Channel, *, update: bool) -> Any:
    return _guard.check(
        text, guard_limits, update=update, allow_update=update, prefixes=DEFAULT_PREFIXES
    )


def check_update(
    text: str,
    guard_limits: GuardLimits,
    *,
    deadline: float,
    timeout_s: float,
    isolate_network: bool = True,
) -> Any:
    """Check an update in a child process (the parse is stopped at the deadline)."""
    limits = Limits(deadline, 0, timeout_s, threading.Event(), threading.Semaphore())
    return _in_child(
        partial(_check_only, text, guard_limits, update=True), limits, network=not isolate_network
    )


class _CheckedCache:
    """The checks of recent query texts (a check is a function of the text and the limits:
    a text seen before need not be parsed again; rdflib takes 10-40 ms on a README query)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, GuardLimits], Checked] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, GuardLimits]) -> Checked | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, GuardLimits], checked: Checked) -> None:
        if len(key[0]) > CHECKED_CACHE_MAX_CHARS:
            return
        with self._lock:
            self._items[key] = checked
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


#: query texts whose check is kept, and the longest text kept
CHECKED_CACHE_SIZE = 256
CHECKED_CACHE_MAX_CHARS = 20_000
_checked_cache = _CheckedCache(CHECKED_CACHE_SIZE)


def _query_in_child(
    store: Store,
    text: str,
    guard_limits: GuardLimits,
    checked: Checked | None,
    channel: Channel,
    **kwargs: Any,
) -> tuple[Answer, Checked]:
    """The child's work: check (unless the same text passed before), then evaluate; every
    failure as an ApiError."""
    if checked is None:
        checked = _guard.check(text, guard_limits, prefixes=DEFAULT_PREFIXES)
    custom = None
    if checked.calls("textSimilarity"):
        custom = {TEXT_SIMILARITY: ProxyTextSimilarity(partial(channel.call, SCORES_CALL))}
    try:
        return _evaluate(store, checked, custom_functions=custom, **kwargs), checked
    except ApiError:
        raise
    except Exception as exc:  # a failure inside the engine, as a JSON error
        raise StoreError(f"the query failed: {type(exc).__name__}: {exc}") from None


def _in_this_thread(store: Store, checked: Checked, **kwargs: Any) -> Answer:
    try:
        return _evaluate(store, checked, **kwargs)
    except Exception as exc:
        _drop_tracebacks(exc)
        raise exc from exc.__cause__


def _evaluate(
    store: Store,
    checked: Checked,
    *,
    default_graphs: tuple[str, ...],
    named_graphs: tuple[str, ...],
    use_dataset: bool,
    base_iri: str | None,
    negotiated: Negotiated,
    limits: Limits,
    custom_functions: dict[NamedNode, Any] | None = None,
) -> Answer:
    limits.check()
    kwargs = dataset_arguments(
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        use_dataset=use_dataset,
        query_has_dataset=checked.has_dataset,
    )
    if custom_functions:  # ikg:textSimilarity (api.sparql_functions)
        kwargs["custom_functions"] = custom_functions
    try:
        result = store.query(checked.text, base_iri=base_iri, prefixes=DEFAULT_PREFIXES, **kwargs)
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
