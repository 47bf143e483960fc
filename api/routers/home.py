"""``GET /``: a small Chinese page pointing at the API (no scripts, no CDN, inline CSS)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.routers.sparql import EXAMPLE_QUERY

router = APIRouter(tags=["home"])

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>绩效目标知识图谱 · indicator-kg</title>
<style>
body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:46rem;
margin:2rem auto;padding:0 1rem;line-height:1.6;color:#222}}
h1{{font-size:1.4rem}} textarea{{width:100%;font-family:monospace;font-size:.9rem}}
a{{color:#0b5cad}} code{{background:#f3f3f3;padding:0 .2rem}}
</style>
</head>
<body>
<h1>绩效目标知识图谱（indicator-kg）</h1>
<p>绩效目标表中的单位、任务、目标与指标，以 RDF 知识图谱提供查询。</p>
<ul>
<li><a href="/sparql">/sparql</a>：SPARQL 1.1 查询端点（GET 或 POST）</li>
<li><a href="/docs">/docs</a>：接口文档（OpenAPI）</li>
<li><a href="/healthz">/healthz</a>：健康检查（三元组与命名图数量）</li>
</ul>
<form method="post" action="/sparql">
<p><label for="q">SPARQL 查询（默认图为所有命名图的并集；常用前缀可省略）：</label></p>
<textarea id="q" name="query" rows="8">{query}</textarea>
<p><label>结果格式：<select name="format">
<option value="">自动</option><option value="json">JSON</option><option value="xml">XML</option>
<option value="csv">CSV</option><option value="tsv">TSV</option>
<option value="turtle">Turtle（CONSTRUCT）</option></select></label>
<button type="submit">查询</button></p>
</form>
<p>限制：每次最多返回 {max_rows} 行（超出时响应头 <code>X-IKG-Truncated: true</code>），
超过 {timeout} 秒的查询会被中止，不允许 <code>SERVICE</code>。</p>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse, summary="首页 / home page", include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    html = _PAGE.format(
        query=escape(EXAMPLE_QUERY),
        max_rows=settings.sparql_max_rows,
        timeout=f"{settings.sparql_timeout_s:g}",
    )
    return HTMLResponse(html)
