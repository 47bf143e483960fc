"""Run the API: ``serve(settings)`` (what ``ikg serve`` calls), or answer one request.

``serve`` runs uvicorn on ``settings.host:settings.port`` with one worker by default, or
several worker processes (``ikg serve --workers N``) that each open the store read-only. ``request_once`` answers a single request in
process, without a socket, for smoke tests (``ikg serve --get /healthz``, datasette-style).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import MutableMapping
from typing import Any

from api import services
from api.app import create_app
from embeddings.threads import limit_threads
from kg.settings import Settings, get_settings


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info") -> None:
    """Serve the API until interrupted.

    One worker serves the app made here. Several workers are separate processes started by
    uvicorn from :func:`app_from_env`, each opening the store read-only (the embedded store's
    directory, or the Oxigraph server) and the embedding index; the settings reach them as
    ``IKG_`` variables.
    """
    import uvicorn

    _log_to_stderr(log_level)
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "proxy_headers": False,
    }
    if workers <= 1:
        limit_threads(settings.api_threads)
        uvicorn.run(_ready_app(settings), workers=1, **common)
        return
    os.environ.update(settings_env(settings))
    uvicorn.run(
        "api.server:app_from_env",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        **common,
    )


#: seconds uvicorn's supervisor waits for a worker to answer its health ping before it kills
#: and restarts the worker. Its default (5 s) killed workers that were still copying a 100k
#: store into memory (a long call into pyoxigraph holds the GIL), again and again.
WORKER_HEALTHCHECK_S = 120


def _log_to_stderr(level: str) -> None:
    """The api package's own messages (store copied into memory, index versions) on stderr,
    like uvicorn's."""
    logger = logging.getLogger("api")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``IKG_`` variables that rebuild it in another process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"IKG_{name.upper()}"] = str(value)
    return env


def app_from_env() -> Any:
    """The app of one worker process (``uvicorn --factory``), settings from ``IKG_`` variables."""

    _log_to_stderr("info")
    settings = get_settings()
    limit_threads(settings.api_threads)
    return _ready_app(settings)


def _ready_app(settings: Settings) -> Any:
    """The app of a server process, its embedding index loaded and warmed up first (setting
    ``api_preload_index``): uvicorn only accepts connections once this returns, so each
    worker's first requests are answered at full speed and a worker still loading leaves
    the requests to the others."""
    app = create_app(settings)
    if settings.api_preload_index:
        services.preload(app)
    return app


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
