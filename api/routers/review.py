"""``POST /api/review``: review an uploaded or pasted table (apps.review), as JSON or HTML."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path, PurePath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api import services
from api.errors import ApiError, PayloadTooLarge
from apps.review import render, review_file
from apps.review.crossyear import priors_in_store
from apps.review.desk import strip_prefix
from kg.errors import NotATargetTableError, SourceError, SpreadsheetLimitError
from kg.readers import read_tables
from kg.readers.xlsx_limits import reading_limits

router = APIRouter(prefix="/api", tags=["review"])
log = logging.getLogger(__name__)


class NotATable(ApiError):
    status_code = 422
    code = "not_a_table"


def _suffix(filename: str | None, default: str) -> str:
    name = PurePath(filename or "").name
    suffix = "".join(PurePath(name).suffixes[-1:]).lower()
    return suffix if suffix and len(suffix) <= 8 else default


def _review(app: Any, data: bytes, filename: str, against: bool) -> Any:

    with reading_limits(app.state.settings):  # the app's xlsx_* limits, in this thread
        return _review_within_limits(app, data, filename, against)


def read_upload(path: Path, prefix: str) -> Any:
    """The tables of an uploaded file (``read_tables``); a file that is no table, or past the
    spreadsheet limits, is refused naming the file (``prefix``: the temporary folder, hidden).
    A table with a problem at a line reads as an empty list: the review reports it."""

    try:
        return read_tables(path)[1]
    except SpreadsheetLimitError as exc:
        detail = str(exc).replace(prefix, "")
        raise PayloadTooLarge(f"表格超出读取限制 / spreadsheet refused: {detail}") from exc
    except NotATargetTableError as exc:
        detail = str(exc).replace(prefix, "")
        raise NotATable(f"不是可识别的绩效目标表 / not a table: {detail}") from exc
    except SourceError:
        return []  # a table with a problem at a line: the review reports it (parse-error)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotATable(f"不是可识别的绩效目标表 / not a table: {path.name}: {exc}") from exc


def review_scorer(app: Any) -> Any:
    """The duplicate scorer of a review: the served index's encoder, else the review's own."""
    try:
        from apps.review.similarity import EmbeddingScorer

        return EmbeddingScorer(services.get_index(app).encoder)
    except (ImportError, ApiError) as exc:  # the review's own scorer (configured model)
        log.info("review: the served embedding index is unavailable: %s", exc)
        return True


def store_priors(app: Any) -> list[Any]:
    """Every table of the served store as an earlier table for the cross-year rules (read once
    per app, like the indicators of :func:`api.services.other_indicators`)."""
    cached = getattr(app.state, "review_priors", None)
    if cached is None:
        cached = priors_in_store(services.graph_store(app).select)  # type: ignore[arg-type]
        app.state.review_priors = cached
    return cached


def _review_within_limits(app: Any, data: bytes, filename: str, against: bool) -> Any:

    name = PurePath(filename).name or "table.txt"
    with tempfile.TemporaryDirectory(prefix="ikg-review-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        prefix = str(Path(tmp)) + "/"
        read_upload(path, prefix)
        scorer = review_scorer(app)
        others = services.other_indicators(app) if against else None
        earlier = store_priors(app) if against else None  # the cross-year checks, as --against
        report = review_file(
            path, others, scorer=scorer, earlier=earlier, settings=app.state.settings
        )
        # the report names the uploaded file, not the temporary copy
        return strip_prefix(report, prefix)


@router.post(
    "/review",
    summary="审核一张表 / review a table",
    description=(
        "上传表格文件（字段 `file`）或粘贴表格文本（字段 `text`，可选 `filename`）。"
        "`against=true` 时与服务中的图谱比对：跨部门重复，以及与同部门以前年度的表比较"
        "（跨年检查）。`Accept: text/html` 返回 HTML 报告。"
    ),
)
async def review(
    request: Request,
    file: Annotated[
        UploadFile | None, File(description="表格文件 .txt/.csv/.xlsx/.docx/.pdf/.html")
    ] = None,
    text: Annotated[str | None, Form(description="粘贴的表格文本")] = None,
    filename: Annotated[
        str | None, Form(max_length=255, examples=["部门整体支出绩效目标表.txt"])
    ] = None,
    against: Annotated[bool, Form()] = False,
) -> Response:
    limit = request.app.state.settings.api_max_upload_bytes
    if file is not None:
        data = await file.read(limit + 1)
        name = PurePath(file.filename or "upload.txt").name
        if PurePath(name).suffix == "":
            name += _suffix(filename, ".txt")
    elif text:
        data = text.encode("utf-8")
        name = PurePath(filename or "pasted.txt").stem + ".txt"
    else:
        raise NotATable("请上传文件（file）或粘贴表格文本（text） / send a file or text")
    if len(data) > limit:
        raise PayloadTooLarge(f"文件超过 {limit:,} 字节 / upload larger than {limit:,} bytes")
    report = await anyio.to_thread.run_sync(_review, request.app, data, name, against)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(await anyio.to_thread.run_sync(render, report, "html"))
    return JSONResponse(report.model_dump(mode="json"))
