"""Readers: one module per source format, all yielding :class:`kg.records.ParsedTable`.

``read_table(path)`` picks the reader from the file's suffix and content;
``reader=NAME`` overrides the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from ..errors import NotATargetTableError
from ..records import ParsedTable

#: Reader modules, in the order they are tried.
_MODULES = ("seed_text", "template", "jsonl", "flat_text", "docx", "pdf")


@dataclass(frozen=True)
class Reader:
    name: str
    suffixes: tuple[str, ...]
    sniff: Callable[[Path], bool]
    read: Callable[..., ParsedTable]
    hints: tuple[str, ...] = ()  # facts read() takes from the caller when the file omits them


def readers() -> dict[str, Reader]:
    out: dict[str, Reader] = {}
    for mod_name in _MODULES:
        mod = import_module(f"{__name__}.{mod_name}")
        hints = tuple(getattr(mod, "HINTS", ()))
        out[mod.NAME] = Reader(mod.NAME, tuple(mod.SUFFIXES), mod.sniff, mod.read, hints)
    return out


def choose(path: Path, reader: str | None = None) -> Reader:
    available = readers()
    if reader is not None:
        if reader not in available:
            raise ValueError(f"unknown reader {reader!r}; available: {', '.join(available)}")
        return available[reader]
    if path.exists() and not path.read_bytes().strip():
        raise NotATargetTableError(str(path), None, "the file is empty; expected a 绩效目标表")
    suffix = path.suffix.lower()
    candidates = [r for r in available.values() if suffix in r.suffixes]
    for r in candidates:
        if r.sniff(path):
            return r
    expected = "; ".join(f"{r.name} ({', '.join(r.suffixes)})" for r in available.values())
    raise NotATargetTableError(
        str(path),
        None,
        "no reader recognises this file as a 绩效目标表: looked for an indicator header "
        "(一级指标 二级指标 三级指标 指标值 …), rows that start with a category label "
        "(产出指标, 数量指标 …), a bracketed list (【产出指标-数量指标】指标1:名称(值)), the "
        "PDF-text layout and the drafting template's columns, and found none of them; "
        f"readers: {expected}. Use --reader NAME to force one and see what it expects.",
    )


def read_table(
    path: Path, reader: str | None = None, **hints: object
) -> tuple[Reader, ParsedTable]:
    """Read one file; hints (department=, year=) stand in for facts the file does not print.

    A reader that prints the fact itself keeps it; hints a reader takes no hints for are
    ignored (a template CSV always states its department and year).
    """
    if not path.is_file():
        raise NotATargetTableError(str(path), None, "no such file")
    chosen = choose(path, reader)
    given = {k: v for k, v in hints.items() if v is not None and k in chosen.hints}
    return chosen, chosen.read(path, **given)


def read_tables(
    path: Path, reader: str | None = None, **hints: object
) -> tuple[Reader, list[ParsedTable]]:
    """Read one file as the tables it holds: one per project when it lists several.

    See :func:`read_table` for reader and hints, :mod:`kg.readers.projects` for the split.
    """
    from . import jsonl
    from .projects import split

    if reader == jsonl.NAME or (
        reader is None and path.suffix.lower() in jsonl.SUFFIXES and path.is_file()
    ):
        # JSON Lines hold tables already split (ikg parse of a file of several projects)
        return readers()[jsonl.NAME], jsonl.read_all(path)
    chosen, parsed = read_table(path, reader, **hints)
    return chosen, split(parsed)
