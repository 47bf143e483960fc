"""Errors that name the file and the line, so a user can fix the input."""

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
