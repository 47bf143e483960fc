"""The page routes without a browser: every page renders in the shared layout, the bundled
assets are served from the package (no CDN anywhere), and /docs uses the local Swagger UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Store

from api.app import create_app
from api.routers.pages import NAV, STATIC_DIR
from kg.settings import Settings

PAGES = ["/", "/search", "/duplicates", "/review", "/draft", "/query"]
TEMPLATES = Path(STATIC_DIR).parent / "templates"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("pages-data"))
    return TestClient(create_app(settings, store=Store()))


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_with_nav(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert '<html lang="zh-CN">' in html
    assert [m for m in re.findall(r'<nav class="nav".*?</nav>', html, re.S)]
    for href, _, label in NAV:
        assert f'href="{href}"' in html and label in html
    assert 'aria-current="page"' in html
    if path == "/":  # the landing page works without scripts
        assert "<script" not in html
    else:  # the shared helpers load before the page's own script
        scripts = re.findall(r'<script src="([^"]+)"', html)
        assert scripts[0] == "/static/js/common.js" and len(scripts) >= 2, scripts
    # every local asset the page references is served
    for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(ref).status_code == 200, ref


def test_search_page_prefills_query(client):
    html = client.get("/search", params={"q": "培训<b>"}).text
    assert 'value="培训&lt;b&gt;"' in html


def test_static_types_and_traversal(client):
    js = client.get("/static/js/common.js")
    assert js.headers["content-type"].startswith("text/javascript")
    css = client.get("/static/vendor/yasgui/yasgui.min.css")
    assert css.headers["content-type"].startswith("text/css")
    for bad in ["/static/../app.py", "/static/%2e%2e/app.py", "/static/nope.js", "/static/js"]:
        resp = client.get(bad)
        assert resp.status_code == 404, bad
        assert "app.py" not in resp.text or resp.json()["error"] == "not_found"


def test_vendored_licences_present():
    for name in ["yasgui/LICENSE.txt", "swagger-ui/LICENSE", "swagger-ui/NOTICE"]:
        assert (STATIC_DIR / "vendor" / name).stat().st_size > 0, name


def test_no_cdn_reference_in_pages_or_scripts():
    files = [*TEMPLATES.glob("*.html"), *(STATIC_DIR / "js").glob("*.js")]
    assert files
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", text), f
        assert "cdn" not in text.lower(), f


def test_docs_uses_local_swagger_ui(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").status_code == 200
