"""Reader for PDF files with a text layer holding a 绩效目标表 (pdfplumber tables).

Tables are found by pdfplumber from their ruling lines (``find_tables``); the text
outside them is kept as paragraphs (title, 单位 …). Sources: ``file`` is
``PATH#page=N`` (the PDF fragment that opens page N, RFC 8118) and ``line`` counts
that page from the top, one for each text line outside a table and one for each
table row. A line break inside a cell is a wrap (CJK text wraps anywhere), so a
cell's lines are joined without a space; a cell a merge left empty (``None``) takes
the value above it, so merged level-1/level-2 labels are carried down. A table
whose first row is not a header, right at the top of a page, continues the table
on the page before it when it has as many columns. Scanned PDFs (no text layer)
are refused with a message saying so. What is read, see :mod:`kg.readers._grid`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import NotATargetTableError
from ..i18n import tr
from ..records import ParsedTable
from . import template
from ._grid import Block, fill_down, read_blocks

NAME = "pdf"
SUFFIXES = (".pdf",)


def sniff(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError:
        return False


def _cell(value: str | None) -> str | None:
    if value is None:
        return None
    return "".join(part.strip() for part in value.splitlines())


def _is_header(row: list[str | None]) -> bool:
    grid = [[c or "" for c in row]]
    if template.is_table_items_grid(grid):
        return True
    for sheet in template.SHEETS:
        header = template.find_sheet_header(grid, sheet)
        if header is not None and len(header.columns) >= 2:
            return True
    return False


def _page_items(page: Any) -> list[tuple[float, Any]]:
    """A page's text lines outside its tables and its tables' rows ((table, cells)),
    top to bottom."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside(obj: dict[str, Any], boxes: list[Any] = boxes) -> bool:
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    items: list[tuple[float, Any]] = []
    for ln in page.filter(outside).extract_text_lines():
        if ln["text"].strip():
            items.append((ln["top"], ln["text"]))
    for k, t in enumerate(tables):
        for row, cells in zip(t.rows, t.extract(), strict=True):
            items.append((row.bbox[1], (k, [_cell(c) for c in cells])))
    items.sort(key=lambda it: it[0])
    return items


def _add_page(out: list[Block], label: str, items: list[tuple[float, Any]]) -> None:
    """Append a page's items to the blocks: a text line as a paragraph, table rows to
    their table (a table continued from the page before joins it)."""
    current: Block | None = None  # the table being collected on this page
    current_k = -1
    first_on_page = True
    for line, (_, item) in enumerate(items, start=1):
        if isinstance(item, str):
            out.append(Block(text=item, where=[(label, line)]))
            current = None
            first_on_page = False
            continue
        k, item = item
        if current is None or k != current_k:
            current_k = k
            prev = out[-1] if out else None
            if (
                first_on_page
                and prev is not None
                and prev.is_table
                and len(prev.rows[-1]) == len(item)
                and not _is_header(item)
            ):
                current = prev  # continued from the page before
            else:
                current = Block()
                out.append(current)
        first_on_page = False
        last = current.rows[-1] if current.rows else None
        filled = [
            (last[c] if last is not None and c < len(last) else "") if v is None else v
            for c, v in enumerate(item)
        ]
        current.rows.append(filled)
        current.where.append((label, line))


def blocks(path: Path) -> list[Block]:
    import pdfplumber

    file = str(path)
    out: list[Block] = []
    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:  # pdfminer raises several kinds for a broken file
        raise NotATargetTableError(
            file, None, tr(f"不是可读的 PDF（{exc}）", f"not a readable PDF ({exc})")
        ) from exc
    with pdf:
        any_text = False
        for page_no, page in enumerate(pdf.pages, start=1):
            label = f"{file}#page={page_no}"
            items = _page_items(page)
            any_text = any_text or bool(items)
            _add_page(out, label, items)
        if not any_text:
            raise NotATargetTableError(
                file,
                None,
                tr(
                    "PDF 没有文字层（扫描件？）；应为带文字的 PDF，或先做文字识别（OCR）",
                    "the PDF has no text layer (a scan?); expected a PDF with text, or run OCR first",
                ),
            )
    for b in out:
        if b.is_table:
            b.rows = fill_down(b.rows)  # type: ignore[arg-type]
    return out


def read(path: Path) -> ParsedTable:
    return read_blocks(str(path), blocks(path))
