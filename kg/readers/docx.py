"""Reader for Word files (.docx) holding a 绩效目标表 as tables (python-docx).

Sources: ``file`` is the path as given; ``line`` counts the document body in reading
order, one for each paragraph and one for each table row (so line 12 is the twelfth
paragraph-or-table-row of the file). Merged cells: python-docx gives a merged cell in
each grid position it covers, so level-1/level-2 labels are carried down; a cell
merged across columns is printed once. What is read, see :mod:`kg.readers._grid`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import NotATargetTableError
from ..i18n import tr
from ..records import ParsedTable
from ._grid import Block, read_blocks

NAME = "docx"
SUFFIXES = (".docx",)


def sniff(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def blocks(path: Path) -> list[Block]:
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several kinds for a broken file
        raise NotATargetTableError(
            str(path),
            None,
            tr(f"不是可读的 .docx 文件（{exc}）", f"not a readable .docx file ({exc})"),
        ) from exc
    file = str(path)
    out: list[Block] = []
    line = 0
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            line += 1
            if item.text.strip():
                out.append(Block(text=item.text, where=[(file, line)]))
        elif isinstance(item, Table):
            block = Block()
            for row in item.rows:
                line += 1
                block.rows.append([c.text.strip() for c in row.cells])
                block.where.append((file, line))
            out.append(block)
    return out


def read(path: Path) -> ParsedTable:
    return read_blocks(str(path), blocks(path))
