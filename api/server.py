"""Run the API: ``serve(settings)`` (what ``ikg serve`` calls), or answer one request.

``serve`` runs uvicorn with one worker on ``settings.host:settings.port``: the store is
opened once in this process (a second worker could not open it read-write, and would only
double the memory for a read-only one). ``request_once`` answers a single request in
process, without a socket, for smoke tests (``ikg serve --get /healthz``, datasette-style).
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from api.app import create_app
from kg.settings import Settings


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Serve the API until interrupted."""
    import uvicorn

    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        log_level=log_level,
        proxy_headers=False,
    )


def request_once(
    settings: Settings,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """Answer one request to ``path`` (query string included) in process.

    Returns (status, headers, body).
    """
    app = create_app(settings)
    raw_path, _, query = path.partition("?")
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if body:
        hdrs.setdefault("content-length", str(len(body)))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in hdrs.items()],
        "client": ("127.0.0.1", 0),
        "server": (settings.host, settings.port),
    }
    status = 500
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # pragma: no cover - only on disconnect waits
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for k, v in message.get("headers", []):
                out_headers[k.decode("latin-1")] = v.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    asyncio.run(app(scope, receive, send))
    return status, out_headers, b"".join(chunks)
