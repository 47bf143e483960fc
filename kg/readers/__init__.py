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
    read: Callable[[Path], ParsedTable]


def readers() -> dict[str, Reader]:
    out: dict[str, Reader] = {}
    for mod_name in _MODULES:
        mod = import_module(f"{__name__}.{mod_name}")
        out[mod.NAME] = Reader(mod.NAME, tuple(mod.SUFFIXES), mod.sniff, mod.read)
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
        f"no reader recognises this file as a 绩效目标表; readers: {expected}. "
        "Use --reader NAME to force one and see what it expects.",
    )


def read_table(path: Path, reader: str | None = None) -> tuple[Reader, ParsedTable]:
    if not path.is_file():
        raise NotATargetTableError(str(path), None, "no such file")
    chosen = choose(path, reader)
    return chosen, chosen.read(path)
