"""ASGI middleware of the app: security headers on every response, a body size limit.

:class:`SecurityHeaders` adds a Content-Security-Policy (the pages load scripts, styles and
images from ``/static`` only; a route that needs more, like ``/docs`` and its inline
Swagger UI start-up script, sets its own policy), ``X-Frame-Options: DENY``,
``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``.

:class:`BodyLimit` refuses a request body under ``/api/`` larger than
``settings.api_max_json_bytes`` (forms, i.e. ``POST /api/review``: ``api_max_upload_bytes``
plus :data:`MULTIPART_OVERHEAD`, three times that URL-encoded) with 413
``payload_too_large``: by its ``Content-Length`` before a byte is read, else (chunked) as
soon as the bytes received pass the limit.
``docs/security.md`` describes both.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ErrorResponse
from kg.settings import Settings

#: The policy of every response that does not set its own. Styles may be inline: the home
#: page inlines its stylesheet, the review report (shown in an ``iframe srcdoc``, which
#: inherits this policy) carries inline styles, and YASGUI injects its own.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
#: what a response that sets none of them gets (the common case: built once)
ALL_HEADERS = [(b"content-security-policy", CSP.encode()), *HEADERS]
_NAMES = {name for name, _ in ALL_HEADERS}
#: bytes a multipart upload may carry beside the file (boundaries, part headers, fields)
MULTIPART_OVERHEAD = 64 * 1024


def csp_with_scripts(*hashes: str) -> str:
    """:data:`CSP` that also runs the inline scripts with these ``sha256-…`` hashes."""
    extra = " ".join(f"'{h}'" for h in hashes)
    return CSP.replace("script-src 'self'", f"script-src 'self' {extra}".rstrip())


class SecurityHeaders:
    """Adds the security headers to every HTTP response (a route's own CSP is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers} & _NAMES
                headers += [(k, v) for k, v in ALL_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> bytes:
    """A request header's value (the last one, as ``dict(headers)`` keeps), b"" if none."""
    found = b""
    for key, value in scope.get("headers", ()):
        if key == name:
            found = value
    return found


def _too_large(limit: int) -> str:
    return f"请求体超过 {limit:,} 字节 / request body larger than {limit:,} bytes"


class BodyLimit:
    """413 for a request body under ``/api/`` past the app's limit (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def limit(scope: Scope) -> int | None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return None
        settings: Settings = scope["app"].state.settings
        kind = _header(scope, b"content-type").lower()
        if kind.startswith(b"multipart/form-data"):
            return int(settings.api_max_upload_bytes) + MULTIPART_OVERHEAD
        if kind.startswith(b"application/x-www-form-urlencoded"):  # %E4%B8%AD: 3 bytes each
            return 3 * int(settings.api_max_upload_bytes) + MULTIPART_OVERHEAD
        return int(settings.api_max_json_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit(scope)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # raised where the route reads its body: the API's handler answers 413
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counting_receive, send)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = ErrorResponse(error="payload_too_large", detail=_too_large(limit))
        data = body.model_dump_json().encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
