"""``/sparql``: the SPARQL 1.1 Protocol over the pyoxigraph store.

A thin router: :mod:`api._protocol` reads the request, :mod:`api._formats` negotiates the
result format and :mod:`api._execute` checks the operation from its parse (:mod:`api._guard`:
no ``SERVICE`` or ``LOAD``, depth and size limits) and runs it in a process of its own under
the row cap and the deadline. See docs/security.md.

Answers beyond the standard:

* ``X-IKG-Truncated: true|false`` on every query answer; ``true`` means the result was cut
  at ``settings.sparql_max_rows`` rows (triples for CONSTRUCT/DESCRIBE), whose value is
  then given in ``X-IKG-Max-Rows``. The body is a complete, valid document of the first
  rows.
* A query that runs past ``settings.sparql_timeout_s`` answers **504** with
  ``{"error": "query_timeout", "detail": "查询超时 / query exceeded N s …"}``; it is stopped.
* Queries are evaluated over the union of all named graphs (every table's graph and the
  ontology graph) unless the request names ``default-graph-uri`` / ``named-graph-uri`` or
  the query has ``FROM`` / ``FROM NAMED``.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pyoxigraph import NamedNode

from api import _formats, _guard
from api._execute import (
    Answer,
    Limits,
    Negotiated,
    check_update,
    run_query,
    run_update,
    timeout_message,
)
from api._protocol import FORM, SPARQL_QUERY, SPARQL_UPDATE, Operation, parse_request
from api.errors import (
    ErrorResponse,
    NotAcceptable,
    PayloadTooLarge,
    QueryTimeout,
    Unauthorized,
    UpdateForbidden,
)
from api.services import get_index, similarity_functions

#: largest request body accepted (a query or update text), bytes
MAX_BODY_BYTES = 1_000_000

EXAMPLE_QUERY = """PREFIX ikg: <https://w3id.org/indicator-kg/ontology#>
SELECT ?indicator ?name WHERE {
  ?indicator ikg:name ?name .
  FILTER(CONTAINS(?name, "预算执行率"))
} LIMIT 10"""

router = APIRouter(tags=["SPARQL"])


class UpdateResult(BaseModel):
    status: str = "ok"
    detail: str = "update applied"


def _error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "bad request: malformed SPARQL, duplicate or missing `query`, SERVICE refused, "
        "query nested too deep or too large …",
        401: "update without the right `Authorization: Bearer` token",
        403: "SPARQL Update is disabled (IKG_SPARQL_ALLOW_UPDATE=false)",
        406: "no offered result format matches Accept / format",
        413: "body larger than 1 MB",
        415: "POST with a Content-Type other than form, sparql-query or sparql-update",
        500: "the process evaluating the query died (`query_crashed`); the server is unaffected",
        504: "query exceeded the time limit (IKG_SPARQL_TIMEOUT_S); it was stopped",
    }
    return {c: {"model": ErrorResponse, "description": described[c]} for c in codes}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "SELECT/ASK: SPARQL results (JSON by default; XML, CSV, TSV by Accept). "
            "CONSTRUCT/DESCRIBE: RDF (Turtle by default; N-Triples, JSON-LD, RDF/XML). "
            "An update answers a small JSON status. Header `X-IKG-Truncated: true` when "
            "the result was cut at IKG_SPARQL_MAX_ROWS rows."
        ),
        "content": {
            "application/sparql-results+json": {
                "example": {
                    "head": {"vars": ["indicator", "name"]},
                    "results": {
                        "bindings": [
                            {
                                "indicator": {
                                    "type": "uri",
                                    "value": "https://w3id.org/indicator-kg/data/indicator/…",
                                },
                                "name": {"type": "literal", "value": "预算执行率"},
                            }
                        ]
                    },
                }
            },
            "application/sparql-results+xml": {},
            "text/csv": {},
            "text/tab-separated-values": {},
            "text/turtle": {},
            "application/n-triples": {},
            "application/ld+json": {},
            "application/rdf+xml": {},
        },
        "headers": {
            "X-IKG-Truncated": {
                "description": "true when the result was cut at the row limit",
                "schema": {"type": "string", "enum": ["true", "false"]},
            }
        },
    },
    **_error_responses(400, 401, 403, 406, 413, 415, 500, 504),
}

_PARAMETERS = [
    {
        "name": "query",
        "in": "query",
        "required": False,
        "description": "SPARQL query (GET). 常用前缀 ikg:, cat:, data:, skos:, rdfs: … 可不声明。",
        "schema": {"type": "string"},
        "example": EXAMPLE_QUERY,
    },
    {
        "name": "default-graph-uri",
        "in": "query",
        "required": False,
        "description": "graph(s) forming the default graph (default: union of all graphs)",
        "schema": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "explode": True,
    },
    {
        "name": "named-graph-uri",
        "in": "query",
        "required": False,
        "description": "graph(s) visible to GRAPH (default: all named graphs)",
        "schema": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "explode": True,
    },
    {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "overrides Accept: json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml",
        "schema": {"type": "string"},
    },
]

_GET_OPENAPI: dict[str, Any] = {"parameters": _PARAMETERS}
_POST_OPENAPI: dict[str, Any] = {
    "parameters": _PARAMETERS[1:],
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "example": EXAMPLE_QUERY},
                        "update": {"type": "string"},
                        "format": {"type": "string"},
                    },
                }
            },
            SPARQL_QUERY: {"schema": {"type": "string"}, "example": EXAMPLE_QUERY},
            SPARQL_UPDATE: {
                "schema": {"type": "string"},
                "example": 'INSERT DATA { GRAPH <urn:x:notes> { <urn:x:a> <urn:x:b> "备注" } }',
            },
        },
    },
}


async def _read_body(request: Request) -> bytes:
    if request.method != "POST":
        return b""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _negotiate(op: Operation, accept: str | None) -> Negotiated:
    families = (_formats.TABULAR, _formats.BOOLEAN, _formats.GRAPH)
    if op.format:
        choices = [_formats.from_format_param(f, op.format) for f in families]
        asked = f"format={op.format}"
    else:
        choices = [_formats.negotiate(f, accept) for f in families]
        asked = f"Accept: {accept}"
    if not any(choices):
        offered = _formats.describe(_formats.TABULAR + _formats.GRAPH)
        raise NotAcceptable(f"nothing offered matches {asked}; offered: {offered}")
    return Negotiated(*choices)


def _base_iri(request: Request) -> str | None:
    """The endpoint's URL, the base for relative IRIs (Protocol: it "MAY be the service
    endpoint"); None if the Host header makes it no IRI (relative IRIs are then errors)."""
    base = str(request.url.replace(query="", fragment=""))
    try:
        NamedNode(base)
    except ValueError:
        return None
    return base


def _functions(app: Any) -> Callable[[], dict[NamedNode, Any]]:
    """The SPARQL extension functions, loading the embedding index on first use only."""
    return lambda: similarity_functions(app, get_index(app))


async def _query(request: Request, op: Operation) -> Response:
    settings = request.app.state.settings
    _guard.precheck(op.text, settings)  # size and nesting of the raw text, before any fork
    negotiated = _negotiate(op, request.headers.get("accept"))
    timeout = settings.sparql_timeout_s
    limits = Limits(
        deadline=time.monotonic() + timeout,
        max_rows=settings.sparql_max_rows,
        timeout_s=timeout,
        cancel=threading.Event(),
        slots=request.app.state.query_slots,
    )
    job = partial(
        run_query,
        request.app.state.store,
        op.text,
        default_graphs=op.default_graphs,
        named_graphs=op.named_graphs,
        use_dataset=op.has_dataset,
        base_iri=_base_iri(request),
        negotiated=negotiated,
        limits=limits,
        guard_limits=_guard.limits(settings),
        isolate_network=settings.sparql_isolate_network,
        functions=_functions(request.app),
    )
    try:
        with anyio.fail_after(timeout):
            answer: Answer = await anyio.to_thread.run_sync(job, abandon_on_cancel=True)
    except TimeoutError:
        # the worker thread kills the query's process at the same deadline (an Oxigraph
        # server's query: its thread stops at the next row)
        limits.cancel.set()
        raise QueryTimeout(timeout_message(timeout)) from None
    headers = {"Vary": "Accept", "X-IKG-Truncated": "true" if answer.truncated else "false"}
    if answer.truncated:
        headers["X-IKG-Max-Rows"] = str(settings.sparql_max_rows)
    return Response(answer.body, headers=headers, media_type=answer.content_type)


def _check_update_allowed(request: Request) -> None:
    settings = request.app.state.settings
    if not settings.sparql_allow_update:
        raise UpdateForbidden(
            "SPARQL Update 已禁用 / SPARQL Update is disabled on this endpoint "
            "(IKG_SPARQL_ALLOW_UPDATE=false); the graph is built with `ikg build`"
        )
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    expected = (settings.sparql_update_token or "").encode()
    if (
        scheme.lower() != "bearer"
        or not expected
        or not hmac.compare_digest(token.strip().encode(), expected)
    ):
        raise Unauthorized("SPARQL Update needs the header 'Authorization: Bearer <token>'")


async def _update(request: Request, op: Operation) -> Response:
    _check_update_allowed(request)
    settings = request.app.state.settings
    _guard.precheck(op.text, settings)
    check = partial(
        check_update,
        op.text,
        _guard.limits(settings),
        deadline=time.monotonic() + settings.sparql_timeout_s,
        timeout_s=settings.sparql_timeout_s,
        isolate_network=settings.sparql_isolate_network,
    )
    checked = await anyio.to_thread.run_sync(check)
    job = partial(run_update, request.app.state.store, checked.text, base_iri=_base_iri(request))
    await anyio.to_thread.run_sync(job)
    return JSONResponse(UpdateResult().model_dump())


async def sparql_endpoint(request: Request) -> Response:
    body = await _read_body(request)
    op = parse_request(
        request.method,
        request.scope.get("query_string", b""),
        request.headers.get("content-type"),
        body,
    )
    if op.kind == "update":
        return await _update(request, op)
    return await _query(request, op)


_summary = "SPARQL 1.1 查询 / SPARQL 1.1 Protocol endpoint"
_description = (
    "SPARQL 1.1 Protocol: `GET ?query=`, `POST` form (`query=` or `update=`) or "
    "`POST application/sparql-query`. The default graph is the union of all graphs. "
    "Results are chosen by Accept (or `format=`). Limits: IKG_SPARQL_MAX_ROWS rows "
    "(`X-IKG-Truncated: true` when cut), IKG_SPARQL_TIMEOUT_S seconds (504), no SERVICE, "
    "IKG_SPARQL_MAX_DEPTH / IKG_SPARQL_MAX_SIZE (400 query_too_complex). "
    "示例查询：\n\n```sparql\n" + EXAMPLE_QUERY + "\n```"
)

for _path, _schema in (("/sparql", True), ("/sparql/", False)):
    router.add_api_route(
        _path,
        sparql_endpoint,
        methods=["GET"],
        summary=_summary,
        description=_description,
        responses=_RESPONSES,
        openapi_extra=_GET_OPENAPI,
        include_in_schema=_schema,
        operation_id="sparql_get" if _schema else "sparql_get_slash",
        response_class=Response,
    )
    router.add_api_route(
        _path,
        sparql_endpoint,
        methods=["POST"],
        summary=_summary,
        description=_description,
        responses=_RESPONSES,
        openapi_extra=_POST_OPENAPI,
        include_in_schema=_schema,
        operation_id="sparql_post" if _schema else "sparql_post_slash",
        response_class=Response,
    )

__all__ = ["EXAMPLE_QUERY", "UpdateResult", "router"]
