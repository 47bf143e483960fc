"""Readers: one module per source format, all yielding :class:`kg.records.ParsedTable`.

``read_table(path)`` picks the reader by a score: every reader whose suffix fits and
whose ``sniff`` passes (a cheap look at the file) reads it, and the one that reads the
most indicators is chosen (ties: fewer warnings, then the order of :data:`_MODULES`);
a reader that raises scores nothing and its error is its reason. ``choose_and_read``
returns the whole :class:`Choice` (``ikg parse --explain`` prints it); ``reader=NAME``
forces one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import NotATargetTableError, SourceError, SpreadsheetLimitError
from ..i18n import tr
from ..records import ParsedTable
from . import jsonl
from .projects import split

#: Reader modules, in the order they are tried: a reader whose sniff is more specific
#: comes first (it wins a tie, and its error is raised when every reader fails).
_MODULES = ("seed_text", "template", "jsonl", "flat_text", "docx", "pdf", "sheet", "html")

#: What ``ikg parse --explain`` calls each reader's layout.
LAYOUT_NAMES = {
    "pdf-text": "PDF 转出的文字，竖排表头、一格一行",
    "template": "起草模板",
    "jsonl": "ikg parse 输出的 JSONL 记录",
    "flat-text": "按阅读顺序展开的表格文字",
    "docx": "Word 文档中的表格",
    "pdf": "有文字层的 PDF 中的表格",
    "sheet": "另存为电子表格的绩效目标表",
    "html": "网页中的表格",
}


@dataclass(frozen=True)
class Reader:
    name: str
    suffixes: tuple[str, ...]
    sniff: Callable[[Path], bool]
    read: Callable[..., ParsedTable]
    hints: tuple[str, ...] = ()  # facts read() takes from the caller when the file omits them
    #: the document as tables and paragraphs (kg.readers._grid.Block), for the readers
    #: that read one (docx, pdf, sheet): what ikg parse --explain lists
    blocks: Callable[[Path], list[Any]] | None = None

    @property
    def layout_name(self) -> str:
        return LAYOUT_NAMES.get(self.name, self.name)


@dataclass(frozen=True)
class Candidate:
    """One reader tried on a file: passed its sniff or not, and what reading gave."""

    reader: Reader
    sniffed: bool
    parsed: ParsedTable | None = None
    error: SourceError | None = None

    @property
    def score(self) -> int | None:
        """Indicators read; None when the reader did not read the file or raised."""
        return None if self.parsed is None else len(self.parsed.indicators)

    @property
    def warnings(self) -> int | None:
        return None if self.parsed is None else len(self.parsed.warnings)

    @property
    def reason(self) -> str:
        if not self.sniffed:
            return "初筛未通过：文件不像此读取器的版式，未读取"
        if self.error is not None:
            where = f"第 {self.error.line} 行：" if self.error.line else ""
            return f"读取失败：{where}{self.error.message}"
        return f"读入指标 {self.score} 条，警告 {self.warnings} 条"


@dataclass(frozen=True)
class Choice:
    """The reader chosen for a file, what it read, every candidate and why."""

    path: Path
    reader: Reader
    parsed: ParsedTable
    candidates: tuple[Candidate, ...]
    reason: str
    forced: bool = False


def readers() -> dict[str, Reader]:
    out: dict[str, Reader] = {}
    for mod_name in _MODULES:
        mod = import_module(f"{__name__}.{mod_name}")
        hints = tuple(getattr(mod, "HINTS", ()))
        out[mod.NAME] = Reader(
            mod.NAME,
            tuple(mod.SUFFIXES),
            mod.sniff,
            mod.read,
            hints,
            getattr(mod, "blocks", None),
        )
    return out


def _refusal(path: Path, available: dict[str, Reader]) -> NotATargetTableError:
    expected = "; ".join(f"{r.name} ({', '.join(r.suffixes)})" for r in available.values())
    return NotATargetTableError(
        str(path),
        None,
        tr(
            "没有读取器认出此文件是绩效目标表：查找了指标表头（一级指标 二级指标 三级指标 "
            "指标值 …）、以类别开头的行（产出指标、数量指标 …）、括号列表"
            "（【产出指标-数量指标】指标1:名称(值)）、PDF 文字版式和起草模板的列，均未找到；"
            f"读取器：{expected}。可用 --reader 名称 指定一个读取器，查看它要求的格式。",
            "no reader recognises this file as a 绩效目标表: looked for an indicator header "
            "(一级指标 二级指标 三级指标 指标值 …), rows that start with a category label "
            "(产出指标, 数量指标 …), a bracketed list (【产出指标-数量指标】指标1:名称(值)), the "
            "PDF-text layout and the drafting template's columns, and found none of them; "
            f"readers: {expected}. Use --reader NAME to force one and see what it expects.",
        ),
    )


def _try(reader: Reader, path: Path, hints: dict[str, object]) -> Candidate:
    given = {k: v for k, v in hints.items() if v is not None and k in reader.hints}
    try:
        return Candidate(reader, True, parsed=reader.read(path, **given))
    except SpreadsheetLimitError:
        raise  # a bomb is refused by name, never passed on to the next reader
    except SourceError as exc:
        return Candidate(reader, True, error=exc)


def _why(best: Candidate, read: list[Candidate], failed: list[Candidate], skipped: int) -> str:
    """Why ``best`` was chosen; ``read`` is sorted best first, ``skipped`` counts the
    readers whose sniff did not pass."""
    name = best.reader.name
    if len(read) + len(failed) == 1:
        if not skipped:
            return f"{name} 是唯一读取此后缀的读取器"
        return f"{name} 是唯一通过初筛的读取器"
    others = [c for c in read if c is not best]
    failed_names = "、".join(c.reader.name for c in failed)
    tail = f"；{failed_names} 读取失败" if failed else ""
    if not others:
        return f"只有 {name} 读取成功{tail}"
    runner = others[0]  # the candidates are sorted: the best of the others
    versus = f"{runner.reader.name} {runner.score} 条"
    if best.score != runner.score:
        return f"{name} 读入的指标最多（{best.score} 条，{versus}）{tail}"
    if best.warnings != runner.warnings:
        return (
            f"指标数相同（{best.score} 条），{name} 的警告较少"
            f"（{best.warnings} 条，{runner.reader.name} {runner.warnings} 条）{tail}"
        )
    return (
        f"指标数和警告数都相同（{best.score} 条、{best.warnings} 条），"
        f"按读取器顺序取 {name}（先于 {runner.reader.name}）{tail}"
    )


def _best_error(failed: list[Candidate]) -> SourceError:
    """The error to report when every candidate raised: one that names a line of a layout
    the reader did recognise (a table without a year) before one that names no line (a
    missing template sheet), before a refusal (not this reader's layout); among equals the
    first reader's (the most specific sniff: module order)."""

    def rank(c: Candidate) -> tuple[bool, bool]:
        assert c.error is not None
        return isinstance(c.error, NotATargetTableError), c.error.line is None

    error = min(failed, key=rank).error  # min is stable: module order among equals
    assert error is not None
    return error


def try_readers(path: Path, reader: str | None = None, **hints: object) -> list[Candidate]:
    """Every reader whose suffix fits ``path``, in module order: sniffed, and read if so.

    ``reader=NAME`` tries that reader alone, without its sniff. hints (department=,
    year=) go only to the readers that take them. A workbook past a reading limit
    raises at once (:class:`SpreadsheetLimitError`), as does a missing or empty file.
    """
    available = readers()
    if reader is not None and reader not in available:
        raise ValueError(f"unknown reader {reader!r}; available: {', '.join(available)}")
    if not path.is_file():
        raise NotATargetTableError(str(path), None, tr("文件不存在", "no such file"))
    if reader is not None:
        return [_try(available[reader], path, hints)]
    if not path.read_bytes().strip():
        raise NotATargetTableError(
            str(path),
            None,
            tr("文件为空；应为绩效目标表", "the file is empty; expected a 绩效目标表"),
        )
    suffix = path.suffix.lower()
    return [
        _try(r, path, hints) if r.sniff(path) else Candidate(r, False)
        for r in available.values()
        if suffix in r.suffixes
    ]


def pick(path: Path, tried: list[Candidate], forced: bool = False) -> Choice:
    """The candidate that read the most indicators (ties: fewer warnings, module order).

    Raises the most telling error when every candidate raised (:func:`_best_error`), and :class:`NotATargetTableError` saying what was looked for when none
    passed its sniff.
    """
    read = [c for c in tried if c.parsed is not None]
    failed = [c for c in tried if c.error is not None]
    if not read:
        if failed:
            raise _best_error(failed)
        raise _refusal(path, readers())
    order = {id(c): k for k, c in enumerate(tried)}
    read.sort(key=lambda c: (-(c.score or 0), c.warnings or 0, order[id(c)]))
    best = read[0]
    assert best.parsed is not None
    skipped = len(tried) - len(read) - len(failed)
    why = "按 --reader 指定" if forced else _why(best, read, failed, skipped)
    return Choice(path, best.reader, best.parsed, tuple(tried), why, forced)


def choose_and_read(path: Path, reader: str | None = None, **hints: object) -> Choice:
    """Read ``path`` with every fitting reader and keep the best (see the module doc)."""
    return pick(path, try_readers(path, reader, **hints), forced=reader is not None)


def choose(path: Path, reader: str | None = None) -> Reader:
    """The reader :func:`choose_and_read` picks (it reads the file to score the readers);
    ``reader=NAME`` returns that reader without reading."""
    available = readers()
    if reader is not None:
        if reader not in available:
            raise ValueError(f"unknown reader {reader!r}; available: {', '.join(available)}")
        return available[reader]
    return choose_and_read(path).reader


def read_table(
    path: Path, reader: str | None = None, **hints: object
) -> tuple[Reader, ParsedTable]:
    """Read one file; hints (department=, year=) stand in for facts the file does not print.

    A reader that prints the fact itself keeps it; hints a reader takes no hints for are
    ignored (a template CSV always states its department and year).
    """
    choice = choose_and_read(path, reader, **hints)
    return choice.reader, choice.parsed


def read_tables(
    path: Path, reader: str | None = None, **hints: object
) -> tuple[Reader, list[ParsedTable]]:
    """Read one file as the tables it holds: one per project when it lists several.

    See :func:`read_table` for reader and hints, :mod:`kg.readers.projects` for the split.
    """

    if reader == jsonl.NAME or (
        reader is None and path.suffix.lower() in jsonl.SUFFIXES and path.is_file()
    ):
        # JSON Lines hold tables already split (ikg parse of a file of several projects)
        return readers()[jsonl.NAME], jsonl.read_all(path)
    chosen, parsed = read_table(path, reader, **hints)
    return chosen, split(parsed)
