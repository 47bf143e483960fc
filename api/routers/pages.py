"""Reviewer web pages (Chinese UI) and their bundled assets; nothing loads from a CDN.

- ``GET /search``, ``/duplicates``, ``/review``, ``/draft``, ``/query``: Jinja2 pages in ``api/templates``;
  the pages call the JSON API (``/api/...``) and ``/sparql`` from small vanilla scripts.
- ``GET /static/{path}``: files under ``api/static`` (CSS, JS and the vendored YASGUI and
  Swagger UI builds with their licences), served from the installed package.
- ``GET /docs``: FastAPI's Swagger UI pointing at the local Swagger UI files
  (``create_app`` sets ``docs_url=None`` so this route replaces the CDN default), under the
  site's navigation bar (the way back to the home page), its controls in Chinese.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from api.errors import ApiError
from api.middleware import csp_with_scripts
from apps.draft import LEVEL2
from kg.namespaces import PREFIXES

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))

#: the shared navigation bar: (href, page key, label)
NAV = (
    ("/", "home", "首页"),
    ("/search", "search", "检索"),
    ("/duplicates", "duplicates", "重复指标"),
    ("/review", "review", "审核"),
    ("/draft", "draft", "编制"),
    ("/query", "query", "SPARQL"),
    ("/docs", "docs", "API 文档"),
)

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")

router = APIRouter(tags=["pages"], include_in_schema=False)


class StaticNotFound(ApiError):
    status_code = 404
    code = "not_found"


def _version() -> str:
    try:
        return version("indicator-kg")
    except PackageNotFoundError:  # pragma: no cover
        return ""


def render(request: Request, template: str, page: str, title: str, **context) -> HTMLResponse:
    """Render ``template`` inside the shared layout (navigation bar, stylesheet)."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"page": page, "title": title, "nav": NAV, "version": _version(), **context},
    )


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: str = "") -> HTMLResponse:
    return render(request, "search.html", "search", "指标检索", q=q[:200])


@router.get("/duplicates", response_class=HTMLResponse)
async def duplicates_page(request: Request) -> HTMLResponse:
    return render(request, "duplicates.html", "duplicates", "重复指标")


@router.get("/review", response_class=HTMLResponse)
async def review_page(request: Request) -> HTMLResponse:
    return render(request, "review.html", "review", "审核")


@router.get("/draft", response_class=HTMLResponse)
async def draft_page(request: Request) -> HTMLResponse:
    from datetime import date

    return render(
        request,
        "draft.html",
        "draft",
        "编制绩效目标表",
        next_year=date.today().year + 1,
        level2=LEVEL2,
    )


@router.get("/query", response_class=HTMLResponse)
async def query_page(request: Request) -> HTMLResponse:
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    return render(request, "query.html", "query", "SPARQL 查询", prefixes=prefixes)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_docs(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title="API 文档 · 绩效目标知识图谱",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
    page = HTMLResponse(_with_site_header(page.body.decode("utf-8")))
    # the page starts Swagger UI from an inline script: allow exactly that script
    page.headers["Content-Security-Policy"] = csp_with_scripts(*_inline_script_hashes(page.body))
    return page


def _with_site_header(html: str) -> str:
    """Swagger UI's page with the site's navigation bar on top and its controls in Chinese."""
    from html import escape

    active = ' class="active" aria-current="page"'
    links = "".join(
        f'<a href="{href}"{active if key == "docs" else ""}>{escape(label)}</a>'
        for href, key, label in NAV
    )
    bar = (
        '<header class="topbar"><a class="brand" href="/">绩效目标知识图谱</a>'
        f'<nav class="nav" aria-label="主导航">{links}</nav></header>'
    )
    html = html.replace("<html>", '<html lang="zh-CN">', 1)
    html = html.replace(
        "<head>",
        '<head>\n<meta charset="utf-8">\n<link rel="stylesheet" href="/static/css/docs.css">',
        1,
    )
    html = html.replace("<body>", "<body>\n" + bar, 1)
    return html.replace("</body>", '<script src="/static/js/swagger-zh.js"></script>\n</body>', 1)


def _inline_script_hashes(html: bytes) -> list[str]:
    """``sha256-…`` of each inline ``<script>`` of a page (for its Content-Security-Policy)."""
    scripts = re.findall(rb"<script>(.*?)</script>", html, flags=re.S)
    return ["sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() for s in scripts]


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/static/{path:path}")
async def static_file(path: str) -> FileResponse:
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        raise StaticNotFound(f"no static file {path!r}")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    return FileResponse(
        target, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
    )
