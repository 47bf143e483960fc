"""One JSON error shape for every error the API answers: ``{"error": code, "detail": message}``.

Domain errors are raised as :class:`ApiError` subclasses anywhere below the routers and
mapped to a response here, at the edge; FastAPI's validation errors (422) and Starlette's
HTTP errors (404, 405 …) are rewritten to the same shape. An unexpected exception answers
500 with a fixed message (the traceback goes to the log, not to the client).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from kg.errors import IkgError
from kg.remote import RemoteStoreError

log = logging.getLogger(__name__)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: str = Field(description="short machine-readable code", examples=["malformed_query"])
    detail: str = Field(
        description="what was wrong, for a person",
        examples=["SPARQL 语法错误 / malformed query: error at 1:6: expected …"],
    )


class ApiError(IkgError):
    """Base of the API's own errors: a status, a short code and a message."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(ApiError):
    """The request does not follow the SPARQL protocol (duplicate or missing parameters …)."""


class MalformedQuery(ApiError):
    """The query or update text does not parse."""

    code = "malformed_query"


class ServiceNotAllowed(ApiError):
    """A federated ``SERVICE`` clause (or an update ``LOAD``): it would make outbound requests."""

    code = "service_not_allowed"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class NotAcceptable(ApiError):
    """No result format the server offers matches the Accept header (or ``format``)."""

    status_code = 406
    code = "not_acceptable"


class UpdateForbidden(ApiError):
    """SPARQL Update while ``settings.sparql_allow_update`` is false."""

    status_code = 403
    code = "update_forbidden"


class Unauthorized(ApiError):
    """SPARQL Update without the right ``Authorization: Bearer`` token."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="sparql-update"'})


class QueryTimeout(ApiError):
    """The query ran past ``settings.sparql_timeout_s``; it was stopped."""

    status_code = 504
    code = "query_timeout"


class QueryTooComplex(ApiError):
    """Nested deeper or larger than ``settings.sparql_max_depth`` / ``sparql_max_size``."""

    code = "query_too_complex"


class QueryCrashed(ApiError):
    """The process evaluating the query died (a crash of the query engine); nothing else did."""

    status_code = 500
    code = "query_crashed"


class StoreUnavailable(ApiError):
    """The Oxigraph server (IKG_STORE=oxigraph-server) is down, timed out or cut its answer."""

    status_code = 503
    code = "store_unavailable"


class StoreError(ApiError):
    """The store failed while reading or writing (I/O, a read-only store asked to write)."""

    status_code = 500
    code = "store_error"


def error_response(
    status_code: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=code, detail=detail).model_dump()
    return JSONResponse(body, status_code=status_code, headers=headers)


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
    return "; ".join(parts) or "invalid request"


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts on this path (Starlette names only the first route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to :class:`ErrorResponse`."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", _validation_message(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.url.path}; see /docs"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request) or headers.get("Allow", "")
            if allowed:
                headers["Allow"] = allowed
            if detail == "Method Not Allowed":
                detail = f"{request.method} is not allowed on {request.url.path}" + (
                    f"; use {allowed}" if allowed else ""
                )
        return error_response(exc.status_code, code, detail, headers)

    @app.exception_handler(RemoteStoreError)
    async def _store_unavailable(_request: Request, exc: RemoteStoreError) -> JSONResponse:
        # any route whose store call failed against the Oxigraph server (search, review …)
        return error_response(503, StoreUnavailable.code, str(exc), {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "internal server error; see the server log")
