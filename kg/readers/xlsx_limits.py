"""Reading limits for .xlsx workbooks: a workbook is inspected before openpyxl opens it.

An .xlsx file is a zip of XML parts, and openpyxl builds whatever the XML declares: a
29 KB file with one ``<mergeCell ref="A2:XFD1048576"/>`` makes it create 17 billion
cells, a 2 MB file can inflate to half a gigabyte of sheet XML. So before a workbook is
opened :func:`inspect_workbook` checks

* the zip's central directory: the number of members, each member's uncompressed size,
  their total and the compression ratio of the large ones (Python's ``zipfile``, which
  openpyxl also reads through, never inflates a member past the size it declares);
* every part, stream-parsed with expat in 64 KB chunks and stopped at the first limit
  passed: the cells each sheet writes, its used range (rows × columns, merged ranges
  included), its merged ranges and the cells they cover, the shared strings, the XML
  elements of all parts; a DTD (``<!DOCTYPE``) is refused (no .xlsx part has one);
* the time it all takes (the same clock then runs while the sheets are read).

The limits are the ``xlsx_*`` settings (:class:`kg.settings.Settings`, ``IKG_XLSX_*``);
:func:`reading_limits` sets them for the code below it (the API uses its own settings).
A workbook past a limit raises :class:`kg.errors.SpreadsheetLimitError`, naming the file,
the part (and its sheet) and the limit. ``docs/security.md`` describes the limits.
"""

from __future__ import annotations

import posixpath
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from ..errors import NotATargetTableError, SpreadsheetLimitError
from ..i18n import tr
from ..settings import Settings

if TYPE_CHECKING:
    from ..settings import Settings

#: members smaller than this (uncompressed) may compress at any ratio
RATIO_MIN_BYTES = 1_000_000
#: XML elements allowed in all parts, per cell allowed (rows, values, styles, strings …)
ELEMENTS_PER_CELL = 4
_CHUNK = 64 * 1024
_CHECK_EVERY = 4096  # elements between two looks at the clock
_COORD = re.compile(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,9})")
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_REL_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass(frozen=True)
class SpreadsheetLimits:
    """What a workbook may hold; the defaults are those of :class:`kg.settings.Settings`."""

    max_uncompressed_bytes: int = 100_000_000
    max_member_bytes: int = 50_000_000
    max_ratio: float = 200.0
    max_members: int = 1000
    max_cells: int = 500_000
    max_merged_ranges: int = 10_000
    max_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SpreadsheetLimits:
        """The ``xlsx_*`` fields of a :class:`kg.settings.Settings`."""
        return cls(**{f.name: getattr(settings, f"xlsx_{f.name}") for f in fields(cls)})


_CURRENT: ContextVar[SpreadsheetLimits | None] = ContextVar("ikg_xlsx_limits", default=None)


def current_limits() -> SpreadsheetLimits:
    """The limits set by :func:`reading_limits`, else those of the environment's settings."""
    limits = _CURRENT.get()
    if limits is not None:
        return limits

    try:
        return SpreadsheetLimits.from_settings(Settings())
    except ValueError:  # settings that do not validate: the command reports them itself
        return SpreadsheetLimits()


@contextmanager
def reading_limits(limits: SpreadsheetLimits | Settings) -> Iterator[SpreadsheetLimits]:
    """Read workbooks within ``limits`` (a :class:`SpreadsheetLimits` or a Settings) here."""
    if not isinstance(limits, SpreadsheetLimits):
        limits = SpreadsheetLimits.from_settings(limits)
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def _refuse(file: str, what: str, limit: str, setting: str) -> SpreadsheetLimitError:
    return SpreadsheetLimitError(
        file,
        None,
        tr(
            f"工作簿超过读取上限：{what}，超过上限 {limit}（IKG_{setting}）；已拒绝，不再读取"
            "（疑为“表格炸弹”，或远大于一张绩效目标表）",
            f"workbook over a reading limit: {what}, above the limit of {limit} (IKG_{setting}); "
            "refused without reading it further (a spreadsheet bomb, or far larger than a 绩效目标表)",
        ),
    )


def _cells(n: int) -> str:
    return tr(f"{n:,} 个单元格", f"{n:,} cells")


class Deadline:
    """The clock of one workbook's inspection and reading (``max_seconds``)."""

    def __init__(self, file: str, limits: SpreadsheetLimits) -> None:
        self.file = file
        self.seconds = limits.max_seconds
        self.started = time.monotonic()

    def check(self, doing: str) -> None:
        spent = time.monotonic() - self.started
        if spent > self.seconds:
            raise _refuse(
                self.file,
                tr(f"{doing}用时 {spent:.2f} 秒", f"{doing} took {spent:.2f} s"),
                tr(f"{self.seconds:g} 秒", f"{self.seconds:g} s"),
                "XLSX_MAX_SECONDS",
            )


@dataclass
class SheetExtent:
    """What a worksheet part declares: its used range, cells and merged ranges (1-based)."""

    part: str
    name: str | None = None
    max_row: int = 0
    max_col: int = 0
    cells: int = 0
    #: (min_row, min_col, max_row, max_col) of each merged range, in document order
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def area(self) -> int:
        return self.max_row * self.max_col

    @property
    def label(self) -> str:
        if not self.name:
            return self.part
        return tr(f"工作表“{self.name}”（{self.part}）", f"sheet {self.name!r} ({self.part})")


@dataclass
class WorkbookScan:
    """The worksheet parts of a workbook that passed :func:`inspect_workbook`, by zip name."""

    sheets: dict[str, SheetExtent]


def column_letter(col: int) -> str:
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out or "A"


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def check_archive(zf: zipfile.ZipFile, file: str, limits: SpreadsheetLimits) -> None:
    """Members, sizes and compression ratios from the central directory (nothing inflated)."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _refuse(
            file,
            tr(f"压缩包内有 {len(infos):,} 个成员", f"the zip holds {len(infos):,} members"),
            f"{limits.max_members:,}",
            "XLSX_MAX_MEMBERS",
        )
    total = 0
    for info in infos:
        size = info.file_size
        if size > limits.max_member_bytes:
            raise _refuse(
                file,
                tr(
                    f"成员 {info.filename} 解压后为 {size:,} 字节",
                    f"member {info.filename} inflates to {size:,} bytes",
                ),
                tr(f"{limits.max_member_bytes:,} 字节", f"{limits.max_member_bytes:,} bytes"),
                "XLSX_MAX_MEMBER_BYTES",
            )
        ratio = size / max(info.compress_size, 1)
        if size > RATIO_MIN_BYTES and ratio > limits.max_ratio:
            raise _refuse(
                file,
                tr(
                    f"成员 {info.filename} 解压后膨胀 {ratio:,.0f} 倍"
                    f"（{info.compress_size:,} → {size:,} 字节）",
                    f"member {info.filename} inflates {ratio:,.0f} times "
                    f"({info.compress_size:,} → {size:,} bytes)",
                ),
                tr(f"{limits.max_ratio:g} 倍", f"{limits.max_ratio:g} times"),
                "XLSX_MAX_RATIO",
            )
        total += size
    if total > limits.max_uncompressed_bytes:
        raise _refuse(
            file,
            tr(
                f"压缩包成员解压后共 {total:,} 字节",
                f"the zip's members inflate to {total:,} bytes",
            ),
            tr(
                f"{limits.max_uncompressed_bytes:,} 字节",
                f"{limits.max_uncompressed_bytes:,} bytes",
            ),
            "XLSX_MAX_UNCOMPRESSED_BYTES",
        )


class _Scanner:
    """Stream-parses every part of one workbook, counting against the limits as it goes."""

    def __init__(self, file: str, limits: SpreadsheetLimits, deadline: Deadline) -> None:
        self.file = file
        self.limits = limits
        self.deadline = deadline
        self.elements = 0
        self.cells = 0
        self.area = 0  # used ranges of the sheets scanned before the current one
        self.merged_ranges = 0
        self.merged_cells = 0
        self.strings = 0
        self.sheet_names: dict[str, str] = {}  # relationship id → sheet name
        self.targets: dict[str, str] = {}  # relationship id → part
        self.sheets: dict[str, SheetExtent] = {}

    # -- one part ------------------------------------------------------------------------
    def scan(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        part = info.filename
        self.part = part
        self.root: str | None = None
        self.sheet: SheetExtent | None = None
        self.in_data = self.in_merges = False
        self.row = 0
        self.col = 0
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        try:
            with zf.open(info) as src:
                read = 0
                while chunk := src.read(_CHUNK):
                    read += len(chunk)
                    if read > info.file_size:  # zipfile stops there: belt and braces
                        raise self._bad(
                            tr(
                                f"解压后超过其声明的 {info.file_size:,} 字节",
                                f"inflates past the {info.file_size:,} bytes it declares",
                            )
                        )
                    parser.Parse(chunk, False)
                    self.deadline.check(tr("检查工作簿", "inspecting the workbook"))
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            if self.sheet is not None:  # openpyxl would fail on it as well
                raise NotATargetTableError(
                    self.file,
                    None,
                    tr(
                        f"不是可读的 .xlsx 工作簿（{part}：{exc}）",
                        f"not a readable .xlsx workbook ({part}: {exc})",
                    ),
                ) from exc
            # another part (an image, VML, custom XML): what openpyxl does not read stays unread
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
            raise NotATargetTableError(
                self.file,
                None,
                tr(
                    f"不是可读的 .xlsx 工作簿（{part}：{exc}）",
                    f"not a readable .xlsx workbook ({part}: {exc})",
                ),
            ) from exc
        if self.sheet is not None:
            self.area += self.sheet.area
            self.sheets[part] = self.sheet

    def _doctype(self, *_args: Any) -> None:
        raise NotATargetTableError(
            self.file,
            None,
            tr(
                f"不是可读的 .xlsx 工作簿（{self.part} 声明了 DTD，.xlsx 的部件不应有 DTD）",
                f"not a readable .xlsx workbook ({self.part} declares a DTD, which no .xlsx part has)",
            ),
        )

    def _entity(self, *_args: Any) -> None:
        self._doctype()

    # -- elements --------------------------------------------------------------------------
    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if self.elements % _CHECK_EVERY == 0:
            self.deadline.check(tr("检查工作簿", "inspecting the workbook"))
            cap = self.limits.max_cells * ELEMENTS_PER_CELL
            if self.elements > cap:
                raise _refuse(
                    self.file,
                    tr(
                        f"各部件的 XML 元素超过 {cap:,} 个（至 {self.part}）",
                        f"its parts hold more than {cap:,} XML elements (up to {self.part})",
                    ),
                    tr(
                        f"IKG_XLSX_MAX_CELLS 每个单元格 {ELEMENTS_PER_CELL} 个",
                        f"{ELEMENTS_PER_CELL} per cell of IKG_XLSX_MAX_CELLS",
                    ),
                    "XLSX_MAX_CELLS",
                )
        local = tag.rpartition("}")[2]
        if self.root is None:
            self.root = local
            if local == "worksheet":
                self.sheet = SheetExtent(self.part, self._sheet_name(self.part))
            return
        if self.sheet is not None:
            if local == "sheetData":
                self.in_data = True
            elif local == "mergeCells":
                self.in_merges = True
            elif self.in_data and local == "row":
                self._row(attrs.get("r"))
            elif self.in_data and local == "c":
                self._cell(attrs.get("r"))
            elif self.in_merges and local == "mergeCell":
                self._merge(attrs.get("ref", ""))
        elif self.root == "sst" and local == "si":
            self.strings += 1
            if self.strings > self.limits.max_cells:
                raise _refuse(
                    self.file,
                    tr(
                        f"{self.part} 的共享字符串超过 {self.limits.max_cells:,} 个",
                        f"{self.part} holds more than {self.limits.max_cells:,} shared strings",
                    ),
                    f"{self.limits.max_cells:,}",
                    "XLSX_MAX_CELLS",
                )
        elif self.root == "workbook" and local == "sheet":
            rid = attrs.get(_REL_ID)
            if rid and "name" in attrs:
                self.sheet_names[rid] = attrs["name"]
        elif (
            self.part == _WORKBOOK_RELS
            and local == "Relationship"
            and "Id" in attrs
            and "Target" in attrs
        ):
            target = attrs["Target"]
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            self.targets[attrs["Id"]] = posixpath.normpath(path)

    def _end(self, tag: str) -> None:
        local = tag.rpartition("}")[2]
        if local == "sheetData":
            self.in_data = False
        elif local == "mergeCells":
            self.in_merges = False

    def _sheet_name(self, part: str) -> str | None:
        for rid, target in self.targets.items():
            if target == part:
                return self.sheet_names.get(rid)
        return None

    def _bad(self, what: str) -> NotATargetTableError:
        return NotATargetTableError(
            self.file,
            None,
            tr(
                f"不是可读的 .xlsx 工作簿（{self.part}：{what}）",
                f"not a readable .xlsx workbook ({self.part}: {what})",
            ),
        )

    def _row(self, r: str | None) -> None:
        if r:
            try:
                self.row = int(float(r))
            except (ValueError, OverflowError):
                raise self._bad(tr(f"行号 {r!r}", f"row number {r!r}")) from None
        else:
            self.row += 1
        self.col = 0

    def _coordinate(self, ref: str) -> tuple[int, int]:
        m = _COORD.fullmatch(ref.strip())
        if m is None:
            raise self._bad(tr(f"单元格引用 {ref!r}", f"cell reference {ref!r}"))
        return int(m[2]), _column_number(m[1])

    def _cell(self, r: str | None) -> None:
        assert self.sheet is not None
        if r:
            row, self.col = self._coordinate(r)
        else:
            row, self.col = self.row, self.col + 1
        self.cells += 1
        self.sheet.cells += 1
        if self.cells > self.limits.max_cells:
            raise _refuse(
                self.file,
                tr(
                    f"各工作表写入的单元格超过 {self.limits.max_cells:,} 个（至 {self.sheet.label}）",
                    f"its sheets write more than {self.limits.max_cells:,} cells "
                    f"(up to {self.sheet.label})",
                ),
                _cells(self.limits.max_cells),
                "XLSX_MAX_CELLS",
            )
        ref = r or column_letter(self.col) + str(row)
        self._extend(row, self.col, tr(f"单元格 {ref}", f"cell {ref}"))

    def _extend(self, row: int, col: int, what: str) -> None:
        sheet = self.sheet
        assert sheet is not None
        if row <= sheet.max_row and col <= sheet.max_col:
            return
        sheet.max_row, sheet.max_col = max(sheet.max_row, row), max(sheet.max_col, col)
        if self.area + sheet.area > self.limits.max_cells:
            raise _refuse(
                self.file,
                tr(
                    f"{sheet.label} 的范围为 A1:{column_letter(sheet.max_col)}{sheet.max_row}"
                    f"（{sheet.area:,} 个单元格，由{what}达到）",
                    f"{sheet.label} spans A1:{column_letter(sheet.max_col)}{sheet.max_row} "
                    f"({sheet.area:,} cells, reached by {what})",
                ),
                _cells(self.limits.max_cells),
                "XLSX_MAX_CELLS",
            )

    def _merge(self, ref: str) -> None:
        sheet = self.sheet
        assert sheet is not None
        first, _, last = ref.partition(":")
        r1, c1 = self._coordinate(first)
        r2, c2 = self._coordinate(last) if last else (r1, c1)
        r1, r2, c1, c2 = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
        area = (r2 - r1 + 1) * (c2 - c1 + 1)
        self.merged_ranges += 1
        if self.merged_ranges > self.limits.max_merged_ranges:
            raise _refuse(
                self.file,
                tr(
                    f"各工作表合并的区域超过 {self.limits.max_merged_ranges:,} 个（至 {sheet.label}）",
                    f"its sheets merge more than {self.limits.max_merged_ranges:,} ranges "
                    f"(up to {sheet.label})",
                ),
                tr(
                    f"{self.limits.max_merged_ranges:,} 个区域",
                    f"{self.limits.max_merged_ranges:,} ranges",
                ),
                "XLSX_MAX_MERGED_RANGES",
            )
        self.merged_cells += area
        if self.merged_cells > self.limits.max_cells:
            raise _refuse(
                self.file,
                tr(
                    f"{sheet.label} 合并 {ref}（{area:,} 个单元格"
                    + (f"；共合并 {self.merged_cells:,} 个" if self.merged_cells != area else "")
                    + "）",
                    f"{sheet.label} merges {ref} ({area:,} cells"
                    + (
                        f"; {self.merged_cells:,} merged in all"
                        if self.merged_cells != area
                        else ""
                    )
                    + ")",
                ),
                _cells(self.limits.max_cells),
                "XLSX_MAX_CELLS",
            )
        sheet.merges.append((r1, c1, r2, c2))
        self._extend(r2, c2, tr(f"合并区域 {ref}", f"the merged range {ref}"))


def inspect_workbook(
    path: Path,
    limits: SpreadsheetLimits | None = None,
    deadline: Deadline | None = None,
) -> WorkbookScan:
    """Check ``path`` against ``limits`` (default :func:`current_limits`) before it is opened.

    Raises :class:`~kg.errors.SpreadsheetLimitError` past a limit and
    :class:`~kg.errors.NotATargetTableError` when the file is no readable zip.
    """
    file = str(path)
    limits = limits or current_limits()
    deadline = deadline or Deadline(file, limits)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotATargetTableError(
            file,
            None,
            tr(f"不是可读的 .xlsx 工作簿（{exc}）", f"not a readable .xlsx workbook ({exc})"),
        ) from exc
    with zf:
        check_archive(zf, file, limits)
        scanner = _Scanner(file, limits, deadline)
        first = {_WORKBOOK: 0, _WORKBOOK_RELS: 1}  # the sheets' names before the sheets
        infos = sorted(zf.infolist(), key=lambda i: first.get(i.filename, 2))
        for info in infos:
            if not info.is_dir():
                scanner.scan(zf, info)
    return WorkbookScan(scanner.sheets)
