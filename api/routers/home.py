"""``GET /``: the landing page — the store's counts and its tables, links to the reviewer
pages, and a plain SPARQL form. Rendered on the server: no script, CSS inlined, so it works
in any browser and even with scripts off (the other pages need JavaScript)."""

from __future__ import annotations

from functools import cache
from html import escape

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pyoxigraph import Literal, Store

from api.routers.health import _count
from api.routers.pages import STATIC_DIR, render
from api.routers.sparql import EXAMPLE_QUERY
from kg.namespaces import PREFIXES

router = APIRouter(tags=["home"])

_TABLES = """
SELECT ?department ?year ?project ?file (COUNT(?i) AS ?indicators) WHERE {
  ?t a ikg:TargetTable .
  OPTIONAL { ?t ikg:department/ikg:name ?department }
  OPTIONAL { ?t ikg:fiscalYear ?year }
  OPTIONAL { ?t ikg:projectName ?project }
  OPTIONAL { ?t ikg:sourceFile ?file }
  OPTIONAL { ?i a ikg:Indicator ; ikg:inTable ?t }
} GROUP BY ?t ?department ?year ?project ?file ORDER BY ?department ?year ?project
"""


@cache
def _css() -> str:
    return (STATIC_DIR / "css" / "site.css").read_text(encoding="utf-8")


def _value(term: object) -> str:
    if term is None:
        return ""
    return term.value if isinstance(term, Literal) else str(term)


def _tables(store: Store) -> list[dict[str, str]]:
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    rows = store.query(_TABLES, prefixes=prefixes, use_default_graph_as_union=True)
    names = ("department", "year", "project", "file", "indicators")
    return [{n: _value(row[n]) for n in names} for row in rows]


@router.get("/", response_class=HTMLResponse, summary="首页 / home page", include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    store = request.app.state.store
    health = await anyio.to_thread.run_sync(_count, store)
    tables = await anyio.to_thread.run_sync(_tables, store)
    settings = request.app.state.settings
    return render(
        request,
        "home.html",
        "home",
        "首页",
        inline_css=_css(),
        health=health,
        tables=tables,
        indicators=sum(int(t["indicators"] or 0) for t in tables),
        example_query=Markup(escape(EXAMPLE_QUERY)),  # &quot; as html.escape writes it
        max_rows=settings.sparql_max_rows,
        timeout=f"{settings.sparql_timeout_s:g}",
    )
