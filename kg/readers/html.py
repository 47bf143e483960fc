"""Reader for a 绩效目标表 published as a web page (.html / .htm), the form most tables
take on a government site before anyone copies or crawls them.

The page is parsed by lxml (already installed with python-docx); every ``<table>`` becomes
a table block (:class:`kg.readers._grid.Block`), its ``rowspan`` / ``colspan`` cells laid
out on the grid they cover (a label spanning rows repeats in each of them, a cell
spanning columns is one cell); the text between tables (the title, 预算单位, notes) becomes
paragraph blocks. The blocks are read as a DOCX's or a spreadsheet's are
(:func:`kg.readers._grid.read_blocks`). Scripts, styles and the page's navigation text
are not table text; nested tables (a layout table around the real one) are read once,
at the innermost level.

Sources: ``file`` is the path as given, ``line`` the line of the page's HTML source
where the record's row (``<tr>``) or paragraph starts, so a reviewer can find it with
"view source".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import NotATargetTableError
from ..i18n import tr
from ..records import ParsedTable
from ._grid import Block, read_blocks

NAME = "html"
SUFFIXES = (".html", ".htm")
HINTS = ("department", "year")

#: Elements whose text is never table text.
_SKIP = {"script", "style", "noscript", "template", "head", "title", "select", "option"}
#: Elements after which paragraph text breaks.
_BLOCKS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section", "article"}
#: The most rows/columns one cell may span (a page cannot make the grid explode).
MAX_SPAN = 200


def sniff(path: Path) -> bool:
    try:
        head = path.read_bytes()[:65536].lower()
    except OSError:
        return False
    return b"<table" in head or (b"<html" in head and b"<t" in head)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise NotATargetTableError(
        str(path),
        None,
        tr(
            "不是 UTF-8 或 GB18030 编码的文字；应为网页",
            "not UTF-8 or GB18030 text; expected a web page",
        ),
    )


def _document(path: Path) -> Any:
    """The page's parsed document (lxml); raises when it is empty or cannot be parsed."""
    from lxml import etree
    from lxml import html as lxml_html

    text = _decode(path)
    if not text.strip():
        raise NotATargetTableError(
            str(path), None, tr("文件为空；应为网页", "the file is empty; expected a web page")
        )
    try:
        return lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise NotATargetTableError(
            str(path), None, tr(f"不是可读的网页（{exc}）", f"not a readable web page ({exc})")
        ) from exc


def blocks(path: Path) -> list[Block]:
    root = _document(path)
    file = str(path)
    out: list[Block] = []
    pending: list[str] = []
    pending_line = [0]

    def flush() -> None:
        words = " ".join(" ".join(pending).split())
        if words:
            out.append(Block(text=words, where=[(file, pending_line[0] or 1)]))
        pending.clear()
        pending_line[0] = 0

    def add_text(s: str | None, line: int | None) -> None:
        if s and s.strip():
            if not pending:
                pending_line[0] = line or 0
            pending.append(s)

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            add_text(None, None)
        elif tag == "table" and not el.xpath(".//table"):  # innermost tables hold the data
            flush()
            table = _table(el, file)
            if table.rows:
                out.append(table)
        else:
            if tag in _BLOCKS:
                flush()
            add_text(el.text, el.sourceline)
            for child in el:
                walk(child)
            if tag in _BLOCKS:
                flush()
        if el.getparent() is not None:
            add_text(el.tail, el.sourceline)

    body = root.find("body")
    walk(body if body is not None else root)
    flush()
    if not any(b.is_table for b in out):
        raise NotATargetTableError(
            file,
            None,
            tr(
                "网页中没有 <table>；应为以表格印出的绩效目标表",
                "the page holds no <table>; expected a 绩效目标表 printed as a table",
            ),
        )
    return out


def _cell_text(cell: Any) -> str:
    return " ".join(cell.text_content().split())


def _span(cell: Any, name: str) -> int:
    try:
        return max(1, min(MAX_SPAN, int(str(cell.get(name, "1")).strip() or 1)))
    except ValueError:
        return 1


def _covered(cells: list[str], below: dict[int, tuple[str, int]], col: int) -> int:
    """Add the cells of rows above that span down over this row from column ``col`` on;
    the next free column."""
    while col in below:
        text, left = below[col]
        cells.append(text)
        if left > 1:
            below[col] = (text, left - 1)
        else:
            del below[col]
        col += 1
    return col


def _table(table: Any, file: str) -> Block:
    """The table's rows as a grid: a cell spanning rows is repeated below (a merged
    category label), a cell spanning columns is printed once."""
    block = Block(repeats_merged=False)  # colspan is printed once already: equal cells are two
    below: dict[int, tuple[str, int]] = {}  # column → (text, rows still covered)
    rows = [row for row in table.iter("tr") if row.xpath("ancestor::table[1]")[0] is table]
    for row_el in rows:
        cells: list[str] = []
        col = 0
        for td in row_el:
            if not isinstance(td.tag, str) or td.tag not in ("td", "th"):
                continue
            col = _covered(cells, below, col)
            text = _cell_text(td)
            down, across = _span(td, "rowspan"), _span(td, "colspan")
            cells.append(text)
            if down > 1:
                below[col] = (text, down - 1)
            col += across
        col = _covered(cells, below, col)
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            block.rows.append(cells)
            block.where.append((file, row_el.sourceline or 1))
    return block


def read(path: Path, **hints: object) -> ParsedTable:
    return read_blocks(str(path), blocks(path), **hints)
