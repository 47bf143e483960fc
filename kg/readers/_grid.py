"""Shared logic of the readers of documents holding tables (DOCX, PDF).

A document is a list of :class:`Block` in reading order: a paragraph (one text) or
a table (a grid of cell texts, merged cells already filled). Each block row knows the
``(file label, line)`` its records cite. Two layouts are read:

* **template-shaped tables** (the drafting template's sheets printed as tables: a
  项目 / 内容 table with 表名 …, and tables headed like the template's sheets, header
  synonyms included) are read by :func:`kg.readers.template.read_grids`, the same
  column logic as the XLSX and CSV template;
* **a 绩效目标表 as published** (one or more tables holding the header facts and the
  indicator rows): the blocks are written out as text, one paragraph or table row a
  line with cells separated by `` | ``, and read by the flat-text reader
  (:func:`kg.readers.flat_text.read_text`), whose header synonyms and category rules
  apply; each record's source is then mapped back to the block row it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NotATargetTableError, SourceError
from ..i18n import tr
from ..records import ParsedTable, Source
from . import flat_text, template


@dataclass
class Block:
    """A paragraph (``text``) or a table (``rows``), with the source of each line/row."""

    text: str | None = None
    rows: list[list[str]] = field(default_factory=list)
    where: list[tuple[str, int]] = field(default_factory=list)  # per row (one for a paragraph)
    #: a cell merged across columns is repeated in each it covers (python-docx does so),
    #: so equal neighbours are printed once; False when the front end dropped the repeats
    #: itself (a spreadsheet knows its merged ranges) and equal neighbours are two cells
    repeats_merged: bool = True

    @property
    def is_table(self) -> bool:
        return self.text is None


def fill_down(rows: list[list[str | None]]) -> list[list[str]]:
    """Cells a merge left empty (``None``) take the value of the cell above."""
    out: list[list[str]] = []
    for r, cells in enumerate(rows):
        row = []
        for c, value in enumerate(cells):
            if value is None:
                value = out[r - 1][c] if r > 0 and c < len(out[r - 1]) else ""
            row.append(value)
        out.append(row)
    return out


def _title_of(blocks: list[Block], i: int) -> str:
    """The heading a table is printed under: the last paragraph before it."""
    for b in reversed(blocks[:i]):
        if not b.is_table:
            return (b.text or "").strip()
        break
    return f"表{sum(1 for x in blocks[:i] if x.is_table) + 1}"


def read_blocks(file: str, blocks: list[Block], **hints: object) -> ParsedTable:
    """Read a document's blocks; hints (department=, year=) go to the flat-text reading
    (a template-shaped table states its own)."""
    tables = [(i, b) for i, b in enumerate(blocks) if b.is_table and b.rows]
    if not tables:
        raise NotATargetTableError(
            file,
            None,
            tr(
                "文档中没有表格；应为以表格印出的绩效目标表",
                "the document holds no table; expected a 绩效目标表 printed as a table",
            ),
        )
    sheets: list[template.GridSheet] = []
    for i, b in tables:
        title = _title_of(blocks, i)
        if template.is_table_items_grid(b.rows):
            title = template.TABLE_SHEET
        sheets.append(template.GridSheet(title, list(b.rows), locate=list(b.where)))
    classified = template.classify_grids([(s.title, s.grid) for s in sheets])
    if any(spec == template.TABLE_SHEET for _, spec, _, _ in classified):
        return template.read_grids(file, sheets)
    return _read_flat(file, blocks, hints)


def _read_flat(file: str, blocks: list[Block], hints: dict[str, object]) -> ParsedTable:
    lines: list[str] = []
    where: list[tuple[str, int]] = []
    for b in blocks:
        if b.is_table:
            for cells, w in zip(b.rows, b.where, strict=True):
                texts = [" ".join(c.split()) for c in cells]
                # a cell merged across columns is repeated in each: print it once (a run of
                # empty cells is printed once either way)
                kept = [
                    t
                    for k, t in enumerate(texts)
                    if k == 0 or t != texts[k - 1] or not (b.repeats_merged or t == "")
                ]
                lines.append(" | ".join(kept))
                where.append(w)
        else:
            lines.append(" ".join((b.text or "").split()))
            where.append(b.where[0])
    try:
        parsed = flat_text.read_text("\n".join(lines), file=file, **hints)
    except SourceError as exc:  # its line is one of the lines written here: cite the block row
        if exc.line is None or not 1 <= exc.line <= len(where):
            raise
        label, line = where[exc.line - 1]
        raise type(exc)(label, line, exc.message) from exc
    for record in parsed.records():
        src: Source = record.source
        label, first = where[src.line - 1]
        last = None
        if src.end_line is not None and src.end_line != src.line:
            label_end, last = where[min(src.end_line, len(where)) - 1]
            if label_end != label:
                last = None  # spans pages: cite the first
        record.source = Source(file=label, line=first, end_line=last)
    return parsed
