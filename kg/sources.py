"""Which of the files given to ``ikg build`` / ``ikg review`` are tables, libraries or neither.

A folder holds 绩效目标表 (read by the table readers, :mod:`kg.readers`) beside
indicator libraries (指标库, read by :mod:`kg.readers.library`). :func:`classify_sources`
walks the files and folders given once, for both commands: ``build`` loads the
libraries as libraries, ``review`` leaves them out of the review. A file a table reader
would take that turns out not to be readable stays a *table*, so that it is reported as a
broken table (file and line), never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SourceError
from .readers import library, readers

#: Names in a folder that are never input, whatever their suffix.
_IGNORED_NAMES = ("readme.md",)
_IGNORED_PREFIXES = (".", "~$")  # hidden files, Office lock files


@dataclass
class Sources:
    """The files of the sources, in the order given (a folder's files sorted)."""

    tables: list[Path] = field(default_factory=list)
    libraries: list[Path] = field(default_factory=list)
    #: Files found in a folder that no reader takes (by suffix or name); skipped.
    other: list[Path] = field(default_factory=list)
    #: Tables and libraries together, in the order given.
    files: list[Path] = field(default_factory=list)

    def add(self, path: Path, kind: str) -> None:
        if kind == "other":
            self.other.append(path)
            return
        (self.libraries if kind == "library" else self.tables).append(path)
        self.files.append(path)


def suffixes() -> set[str]:
    """The suffixes some reader (a table reader or the library reader) knows."""

    return {s for r in readers().values() for s in r.suffixes} | set(library.SUFFIXES)


def is_library(path: Path, reader: str | None = None) -> bool:
    """An indicator library (not a table): ``kg.readers.library`` recognises it."""

    if reader is not None:
        return reader == library.NAME
    return path.suffix.lower() in library.SUFFIXES and library.sniff(path)


def kind_of(path: Path, reader: str | None = None, *, named: bool = True) -> str:
    """``"table"`` or ``"library"`` for a file to read.

    ``reader`` is the one forced with ``--reader``: ``library`` makes every file a library;
    a table reader applies to the files named on the command line (``named``), while the
    files found in a folder are still told apart by their content, so that the libraries
    beside the tables are not forced through a table reader.
    """

    if reader == library.NAME:
        return "library"
    if reader is not None and named:
        return "table"
    return "library" if is_library(path) else "table"


def classify_sources(sources: Iterable[Path], reader: str | None = None) -> Sources:
    """Sort the files of ``sources`` into tables, libraries and other files.

    A file named is read, whatever its suffix (a table unless it is a library). A folder is
    walked recursively; its files with a suffix no reader knows, hidden files, Office lock
    files and README.md are ``other``. A folder with nothing to read is an error.
    """
    known = suffixes()
    out = Sources()
    for src in sources:
        if not src.is_dir():
            out.add(src, kind_of(src, reader, named=True))
            continue
        found = 0
        for p in sorted(p for p in src.rglob("*") if p.is_file()):
            if (
                p.suffix.lower() not in known
                or p.name.startswith(_IGNORED_PREFIXES)
                or p.name.lower() in _IGNORED_NAMES
            ):
                out.add(p, "other")
                continue
            out.add(p, kind_of(p, reader, named=False))
            found += 1
        if not found:
            raise SourceError(
                str(src),
                None,
                f"no table or indicator-library files ({', '.join(sorted(known))}) in this folder",
            )
    return out


def expand_sources(sources: Iterable[Path], reader: str | None = None) -> list[Path]:
    """Files as given; folders expanded to the tables and libraries in them, sorted."""
    return classify_sources(sources, reader).files
