"""The project's error family: every error the project raises derives from :class:`IkgError`.

Input errors name the file and the line, so a user can fix the input. The embedding
index and model errors derive from :class:`EmbeddingError`: a caller that can do without
the index (lexical matching instead) catches that class by name and logs why. Errors that
were built-in errors before keep that base too (``StaleIndexError`` is still a
``RuntimeError``, ``RemoteStoreError`` an ``OSError`` …), so callers that catch the
built-in keep working.
"""

from __future__ import annotations


class IkgError(Exception):
    """Base class of the project's own errors."""


class SourceError(IkgError):
    """Bad input: says which file, which line, what was found and what was expected."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # pickled as its constructor's arguments: raised in a build worker, it reaches the
        # parent process (kg.build) as the same class with the same file, line and message
        return (type(self), (self.file, self.line, self.message))


class UnknownCategoryError(SourceError):
    """A category word that is in neither of the national schemes (nor their variants)."""


class AmountError(SourceError):
    """An amount that is not a number with up to two decimals."""


class NotATargetTableError(SourceError):
    """The file is not a performance target table in any layout a reader knows."""


class SpreadsheetLimitError(NotATargetTableError):
    """A workbook past a reading limit (``IKG_XLSX_*``): refused before or while it is read.

    A spreadsheet bomb (a huge merged range, a sheet that inflates to gigabytes) or a
    workbook far larger than any performance target table; the message names the limit.
    """


class ValidationFailed(IkgError):
    """The graph of a table does not conform to the SHACL shapes."""

    def __init__(self, file: str, report: str) -> None:
        self.file = file
        self.report = report
        super().__init__(f"{file}: the graph does not conform to ontology/shapes.ttl:\n{report}")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.file, self.report))  # see SourceError.__reduce__


class EmbeddingError(IkgError):
    """The embedding index or its model cannot serve (missing, stale, unreadable, no model)."""


class StaleIndexError(EmbeddingError, RuntimeError):
    """The saved index does not describe the graph store any more (or there is none)."""


class ModelMismatchError(EmbeddingError, ValueError):
    """A saved index was built with another model than the one asked for."""


class InconsistentIndexError(EmbeddingError, ValueError):
    """A saved version whose files do not agree (count, ids, vectors, version name)."""


class IndexFormatError(EmbeddingError, ValueError):
    """A saved index written in another on-disk format than this version reads."""


class VersionGoneError(EmbeddingError, FileNotFoundError):
    """The version asked for is not on disk (pruned after newer saves, or never written)."""


class ModelUnavailableError(EmbeddingError, OSError):
    """The embedding model cannot be loaded (offline and not cached, no such folder, a
    broken model file). A missing optional package raises ImportError instead."""


class RemoteStoreError(IkgError, OSError):
    """The Oxigraph server could not be reached, failed, or cut its answer short."""


class RemoteUnsupported(IkgError, ValueError):
    """Something only the embedded store can do (custom SPARQL functions run in Python)."""
