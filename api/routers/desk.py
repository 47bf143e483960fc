"""The reviewer's desk (``/review``): batch reviews, stored tables, the cross-year view, export.

* ``POST /api/review/batch`` — several uploaded files reviewed together (``apps.review.review_files``,
  as ``ikg review --against`` does): the summary per table sorted by attention, the findings,
  the cross-year findings against the store's earlier tables of the same department and the
  batch's own, what was compared, and the side-by-side view of each department compared.
* ``GET /api/review/tables`` — the tables in the store to pick from (department, year).
* ``POST /api/review/stored`` (and ``GET`` with ``department``/``year``) — tables already in the
  store (by URI, or a department's tables of a year) reviewed the same way.
* ``GET /api/review/crossyear`` — one department's two latest years (or chosen years) side by
  side (:func:`apps.review.desk.cross_year_view`).
* ``POST /api/review/export`` — the view (a report with filters department, rule, severity) as
  the review workbook (:mod:`apps.review.xlsx`).

Limits: ``api_review_max_files`` files per batch (their total size under the body limit,
``api_max_upload_bytes``), ``api_review_max_tables`` stored tables per review.
"""

from __future__ import annotations

import io
import tempfile
import urllib.parse
from pathlib import Path, PurePath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api import services
from api.errors import ApiError, BadRequest, PayloadTooLarge
from api.routers.review import NotATable, read_upload, review_scorer, store_priors
from apps.review import _unique, review_files
from apps.review.crossyear import priors_of_tables
from apps.review.desk import (
    CrossYearView,
    StoredTable,
    cross_year_view,
    filter_report,
    jsonl_name,
    parsed_from_store,
    paths_named,
    stored_tables,
    strip_prefix,
)
from apps.review.findings import ReviewReport, Severity
from apps.review.xlsx import write_xlsx
from kg.readers.xlsx_limits import reading_limits
from kg.writers import write_jsonl

router = APIRouter(prefix="/api/review", tags=["review"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DeskReport(ReviewReport):
    """A review report (``ikg review --format json``) with the desk's side-by-side views."""

    cross_year: list[CrossYearView] = Field(
        default_factory=list,
        description="per department of the review with an earlier table: this year beside last",
    )


class StoredRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[str] = Field(
        default_factory=list, max_length=1000, description="table URIs (from /api/review/tables)"
    )
    department: str | None = Field(default=None, max_length=200)
    year: int | None = Field(default=None, ge=1900, le=2200)


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report: DeskReport
    department: str | None = Field(default=None, max_length=200)
    rule: str | None = Field(default=None, max_length=100)
    severity: Severity | None = None


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


# --------------------------------------------------------------------------- the store


def _stored(app: Any) -> list[StoredTable]:

    return stored_tables(services.graph_store(app))


def _views(app: Any, batch: list[Any]) -> list[CrossYearView]:
    """The side-by-side view of each department of the batch that has an earlier table."""

    store = store_priors(app)
    priors = _unique([*store, *priors_of_tables(batch)])
    out = []
    for dept in dict.fromkeys(p.table.department for p in batch):
        years = {p.fiscal_year for p in priors if p.department == dept and p.fiscal_year}
        view = cross_year_view(dept, batch, priors, years=sorted(years))
        view.pairs = [pair for pair in view.pairs if pair.status != "no-earlier"]
        if view.pairs:
            out.append(view)
    return out


def _review_paths(app: Any, paths: list[Path], batch: list[Any], prefix: str) -> DeskReport:

    report = review_files(
        paths,
        services.other_indicators(app),
        scorer=review_scorer(app),
        earlier=store_priors(app),
        settings=app.state.settings,
    )
    report = strip_prefix(report, prefix)
    views = [strip_prefix(v, prefix) for v in _views(app, batch)]
    return DeskReport(**report.model_dump(), cross_year=views)


# --------------------------------------------------------------------------- batch


def _batch(app: Any, uploads: list[tuple[str, bytes]]) -> DeskReport:

    with reading_limits(app.state.settings), tempfile.TemporaryDirectory(prefix="ikg-desk-") as tmp:
        prefix = str(Path(tmp)) + "/"
        paths = paths_named(Path(tmp), [name for name, _ in uploads])
        batch: list[Any] = []
        for path, (_, data) in zip(paths, uploads, strict=True):
            path.write_bytes(data)
            batch += read_upload(path, prefix)
        return _review_paths(app, paths, batch, prefix)


@router.post(
    "/batch",
    response_model=DeskReport,
    summary="批量审核 / review a batch of files",
    description=(
        "上传多个表格文件（字段 `files`，可重复）。每张表与库中同部门以前年度的表、"
        "本批次中同部门的其他年度比较（跨年检查），并与库中其他部门的指标查重。"
        "文件数上限 `api_review_max_files`，总大小上限 `api_max_upload_bytes`。"
    ),
)
async def batch(
    request: Request,
    files: Annotated[
        list[UploadFile] | None,
        File(description="表格文件 .txt/.csv/.xlsx/.docx/.pdf/.html/.jsonl，可多个"),
    ] = None,
) -> JSONResponse:
    settings = request.app.state.settings
    files = [f for f in files or [] if f.filename or f.size]
    if not files:
        raise BadRequest("请上传至少一个文件（files） / send at least one file")
    if len(files) > settings.api_review_max_files:
        raise BadRequest(
            f"一次最多审核 {settings.api_review_max_files} 个文件，收到 {len(files)} 个 / "
            f"at most {settings.api_review_max_files} files per batch, got {len(files)}"
        )
    limit = settings.api_max_upload_bytes
    uploads: list[tuple[str, bytes]] = []
    for f in files:
        data = await f.read(limit + 1)
        name = PurePath(f.filename or "upload.txt").name or "upload.txt"
        if PurePath(name).suffix == "":
            name += ".txt"
        if len(data) > limit:
            raise PayloadTooLarge(
                f"文件 {name} 超过 {limit:,} 字节 / {name}: larger than {limit:,} bytes"
            )
        if not data.strip():
            raise NotATable(f"文件 {name} 是空的 / {name}: empty file")
        uploads.append((name, data))
    report = await anyio.to_thread.run_sync(_batch, request.app, uploads)
    return JSONResponse(report.model_dump(mode="json"))


# --------------------------------------------------------------------------- stored tables


class TablesList(BaseModel):
    total: int
    items: list[StoredTable]


@router.get("/tables", response_model=TablesList, summary="库中可审核的表 / stored tables")
async def tables(request: Request) -> dict[str, Any]:
    items = await anyio.to_thread.run_sync(_stored, request.app)
    return {"total": len(items), "items": [t.model_dump() for t in items]}


def _review_stored(app: Any, req: StoredRequest) -> DeskReport:

    known = _stored(app)
    if req.tables:
        by_uri = {t.uri: t for t in known}
        missing = [u for u in req.tables if u not in by_uri]
        if missing:
            raise NotFound(f"库中没有这张表 / no table {missing[0]}")
        chosen = [by_uri[u] for u in dict.fromkeys(req.tables)]
    elif req.department:
        chosen = [
            t
            for t in known
            if t.department == req.department and (req.year is None or t.fiscal_year == req.year)
        ]
        if not chosen:
            year = f" {req.year} 年" if req.year else ""
            raise NotFound(
                f"库中没有 {req.department}{year} 的表 / no table of {req.department} {req.year or ''}"
            )
    else:
        raise BadRequest("请给出表（tables）或部门（department） / give tables or a department")
    limit = app.state.settings.api_review_max_tables
    if len(chosen) > limit:
        raise BadRequest(
            f"一次最多审核 {limit} 张表，选了 {len(chosen)} 张 / at most {limit} tables, got {len(chosen)}"
        )
    gs = services.graph_store(app)
    parsed = [parsed_from_store(gs, t.uri) for t in chosen]
    with tempfile.TemporaryDirectory(prefix="ikg-desk-") as tmp:
        prefix = str(Path(tmp)) + "/"
        paths = paths_named(Path(tmp), [jsonl_name(p) for p in parsed])
        for path, p in zip(paths, parsed, strict=True):
            with path.open("w", encoding="utf-8") as fh:
                write_jsonl(p, fh)
        return _review_paths(app, paths, parsed, prefix)


@router.post(
    "/stored",
    response_model=DeskReport,
    summary="审核库中的表 / review stored tables",
    description="按表 URI（`tables`）或部门与年度（`department`、`year`）审核库中已有的表。",
)
async def stored(request: Request, body: StoredRequest) -> JSONResponse:
    report = await anyio.to_thread.run_sync(_review_stored, request.app, body)
    return JSONResponse(report.model_dump(mode="json"))


@router.get(
    "/stored", response_model=DeskReport, summary="审核库中某部门的表 / review a department"
)
async def stored_get(
    request: Request,
    department: Annotated[str, Query(min_length=1, max_length=200)],
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> JSONResponse:
    body = StoredRequest(department=department, year=year)
    report = await anyio.to_thread.run_sync(_review_stored, request.app, body)
    return JSONResponse(report.model_dump(mode="json"))


# --------------------------------------------------------------------------- cross-year view


def _crossyear(
    app: Any, department: str, year: int | None, prior_year: int | None
) -> CrossYearView:

    mine = [t for t in _stored(app) if t.department == department]
    if not mine:
        raise NotFound(f"库中没有部门“{department}”的表 / no table of {department}")
    years = sorted({t.fiscal_year for t in mine})
    if year is None:
        year = years[-1]
    if year not in years:
        raise NotFound(f"库中没有 {department} {year} 年的表 / no table of {department} in {year}")
    if prior_year is None:
        earlier = [y for y in years if y < year]
        prior_year = earlier[-1] if earlier else None
    elif prior_year >= year:
        raise BadRequest(
            f"上年（{prior_year}）须早于今年（{year}） / prior_year must be before year"
        )
    gs = services.graph_store(app)
    current = [parsed_from_store(gs, t.uri) for t in mine if t.fiscal_year == year]
    priors = [p for p in store_priors(app) if p.fiscal_year == prior_year] if prior_year else []
    return cross_year_view(
        department, current, priors, years=years, year=year, prior_year=prior_year
    )


@router.get(
    "/crossyear",
    response_model=CrossYearView,
    summary="某部门跨年对照 / one department, two years side by side",
    description=(
        "库中某部门两个年度的表并排：默认最近两年（或 `year`、`prior_year`）。指标按跨年检查的"
        "同一匹配方法对应，标出目标降低、提高、改写、未变、今年新增、今年未设置。"
    ),
)
async def crossyear(
    request: Request,
    department: Annotated[str, Query(min_length=1, max_length=200)],
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    prior_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> JSONResponse:
    view = await anyio.to_thread.run_sync(_crossyear, request.app, department, year, prior_year)
    return JSONResponse(view.model_dump(mode="json"))


# --------------------------------------------------------------------------- export


def _xlsx(body: ExportRequest) -> bytes:

    report = ReviewReport(**body.report.model_dump(exclude={"cross_year"}))
    view = filter_report(report, department=body.department, rule=body.rule, severity=body.severity)
    buf = io.BytesIO()
    write_xlsx(view, buf)
    return buf.getvalue()


def attachment(filename: str, fallback: str) -> str:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"


@router.post(
    "/export",
    summary="导出当前视图为 Excel / export the view as XLSX",
    description=(
        "请求体：审核报告（`report`，批量审核的返回值）与筛选条件（`department`、`rule`、"
        "`severity`）；返回审核工作簿（概况、问题清单两页），只含筛选后的问题。"
    ),
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def export(request: Request, body: ExportRequest) -> Response:
    data = await anyio.to_thread.run_sync(_xlsx, body)
    parts = [p for p in (body.department, body.rule, body.severity) if p]
    name = "审核问题清单" + ("_" + "_".join(parts) if parts else "") + ".xlsx"
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": attachment(name, "review.xlsx")},
    )
