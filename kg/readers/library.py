"""Reader for common-indicator lists (指标库 / 通用共性指标): :class:`ParsedLibrary`.

Not a 绩效目标表 reader (it yields a library, not a table), so it is not in the
registry of table readers; ``kg.sources`` (for ``ikg build`` and ``ikg review``) asks
:func:`sniff` first. Layouts read (the four lists of ``../shared/corpus/libraries/``, see
docs/readers.md):

* ``pipe``: ``code | 一级指标 | 二级指标 | 三级指标 | 指标解释`` a line (gx codes);
* ``dictionary``: records ``一级指标,二级指标,name/name/…---``, an empty 一级指标
  repeating the one before (a research-project dictionary);
* ``numbered``: ``N.name target (note)`` a line, no categories (a 2023 public-health
  list); the target and the notes in brackets become ``note``;
* ``by_project_type``: one cell a line: ``…类项目`` headings, level-1 and level-2
  labels, names with their unit in brackets (``培训出勤率(%)``), in traditional
  characters with pinyin glosses (``產(chǎn)出``) a mirror inserted: the glosses are
  removed, the name kept as printed otherwise and simplified into ``name_simplified``;
* the converted CSV (``data/demo/libraries/``), header ``指标库, 库名, …``, which keeps
  the source file and line of every entry.

Every entry keeps its source file and line; lines the reader cannot place are warnings.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .. import categories
from ..errors import NotATargetTableError
from ..i18n import tr
from ..records import LibraryIndicatorRecord, ParsedLibrary, Source, WarningRecord
from ._hanzi import simplified_chars

NAME = "library"
SUFFIXES = (".txt", ".csv")

CSV_HEADER = (
    "指标库",
    "库名",
    "序号",
    "指标编码",
    "项目类型",
    "一级指标",
    "二级指标",
    "三级指标",
    "简体名称",
    "计量单位",
    "指标解释",
    "说明",
    "来源文件",
    "来源行",
)

_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_PIPE_ROW = re.compile(r"^\s*([A-Za-z]{1,4}\d{2,})\s*\|(.+)$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})[.、．]\s*(\S.*)$")
_NUMBERED_TARGET = re.compile(
    r"(?P<t>(?:[≥≤＞＜><=]|不低于|不少于)\s*\d[\d.]*\s*%?|\d[\d.]*\s*万?人|较上年提高|不断提高|不断缩小)"
)
_UNIT = re.compile(r"\((?P<u>[^()]{1,16})\)$")


def _body(raw: str) -> list[tuple[int, str]]:
    """(line number, text) of the non-empty lines after the leading '# …' lines."""
    lines = raw.splitlines()
    out, head = [], True
    for n, line in enumerate(lines, start=1):
        if head and line.startswith("#"):
            continue
        head = False
        if line.strip():
            out.append((n, line.rstrip()))
    return out


def layout_of(raw: str) -> str | None:
    body = _body(raw)
    if not body or not raw.startswith("#"):
        return None
    texts = [t for _, t in body]
    if sum(bool(_PIPE_ROW.match(t)) for t in texts) >= max(2, len(texts) // 2):
        return "pipe"
    if sum(t.rstrip().endswith("---") for t in texts) >= 2 and "指标," in raw:
        return "dictionary"
    simple = simplified_chars(_PINYIN.sub("", raw))
    if "共性指标库" in simple and "类项目" in simple:
        return "by_project_type"
    if sum(bool(_NUMBERED.match(t)) for t in texts) >= max(5, len(texts) * 2 // 3) and (
        "指标" in raw[:600] or "indicator" in raw[:600].lower()
    ):
        return "numbered"
    return None


def sniff(path: Path) -> bool:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            head = path.read_text(encoding="utf-8-sig", errors="replace")[:400]
            return head.split(",", 1)[0].strip() == CSV_HEADER[0]
        if suffix == ".txt":
            return layout_of(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False
    return False


class _Lib:
    def __init__(self, file: str, key: str, title: str, title_line: int) -> None:
        self.file = file
        self.lib = ParsedLibrary(key=key, title=title, source=Source(file=file, line=title_line))

    def add(self, line: int, name: str, **kw: str | None) -> None:
        name = name.strip()
        simple = simplified_chars(name)
        self.lib.indicators.append(
            LibraryIndicatorRecord(
                name=name,
                name_simplified=simple if simple != name else None,
                ordinal=len(self.lib.indicators) + 1,
                source=Source(file=self.file, line=line),
                **kw,  # type: ignore[arg-type]
            )
        )

    def warn(self, line: int, message: str, text: str | None) -> None:
        self.lib.warnings.append(
            WarningRecord(message=message, text=text, source=Source(file=self.file, line=line))
        )


def _title(raw: str, fallback: str) -> str:
    m = re.search(r"^# kind:\s*(.+)$", raw, flags=re.M)
    text = m[1] if m else fallback
    for pat in (r"\"([^\"]*指标[^\"]*)\"", r"“([^”]*指标[^”]*)”", r"(表1\s*\S+)"):
        hit = re.search(pat, text)
        if hit:
            return hit[1]
    return fallback


def read(path: Path) -> ParsedLibrary:
    file = str(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    raw = path.read_text(encoding="utf-8")
    layout = layout_of(raw)
    if layout is None:
        raise NotATargetTableError(
            file,
            None,
            tr(
                "不是指标库：应为 '# source:' 行，其后为 'code | 一级指标 | 二级指标 | 三级指标 | "
                "指标解释' 行、'一级,二级,名称/名称---' 记录、'N.名称 目标值' 编号条目，"
                "或按项目类型列出的通用共性指标库",
                "not an indicator library: expected '# source:' lines, then rows "
                "'code | 一级指标 | 二级指标 | 三级指标 | 指标解释', records '一级,二级,名称/名称---', "
                "numbered entries 'N.名称 目标值', or a 通用共性指标库 by project type",
            ),
        )
    lib = _Lib(file, path.stem, _title(raw, path.stem), 1)
    body = _body(raw)
    if layout == "pipe":
        _read_pipe(lib, body)
    elif layout == "dictionary":
        _read_dictionary(lib, body)
    elif layout == "numbered":
        _read_numbered(lib, body)
    else:
        _read_by_project_type(lib, body)
    return lib.lib


def _read_pipe(lib: _Lib, body: list[tuple[int, str]]) -> None:
    """Rows 'code | 一级指标 | 二级指标 | 三级指标 | 指标解释'."""
    for n, text in body:
        m = _PIPE_ROW.match(text)
        cells = [c.strip() for c in m[2].split("|")] if m else []
        if not m or len(cells) < 3:
            lib.warn(n, "指标库行不是 编码 | 一级指标 | 二级指标 | 三级指标 | 指标解释", text)
            continue
        l1, l2, name, *rest = cells
        if not name:
            lib.warn(n, "三级指标为空（文字可能被截断）", text)
            continue
        lib.add(n, name, code=m[1], level1=l1, level2=l2, definition=rest[0] if rest else None)


def _read_dictionary(lib: _Lib, body: list[tuple[int, str]]) -> None:
    """Records '一级,二级,名称/名称' separated by '---' (an empty level 1 repeats the last)."""
    level1 = None
    for n, text in body:
        records = [r for r in text.split("---")]
        for rec in records:
            if not rec.strip():
                continue
            parts = rec.split(",", 2)
            if len(parts) < 3:
                lib.warn(n, "记录不是 一级指标,二级指标,名称/名称（文字可能被截断）", rec[:60])
                continue
            l1, l2, names = parts
            level1 = l1.strip() or level1
            for name in names.split("/"):
                if name.strip().rstrip(","):
                    lib.add(n, name.strip().rstrip(","), level1=level1, level2=l2.strip())


def _read_numbered(lib: _Lib, body: list[tuple[int, str]]) -> None:
    """Numbered entries 'N.名称 目标值 (note)'."""
    for n, text in body:
        m = _NUMBERED.match(text)
        if not m:
            lib.warn(n, "不是编号的指标行，未读入", text)
            continue
        entry = m[2].strip()
        notes = []
        while (tail := re.search(r"\(([^()]*)\)\s*$", entry)) is not None:
            notes.insert(0, tail[1])
            entry = entry[: tail.start()].strip()
        t = _NUMBERED_TARGET.search(entry)
        name, target = (entry[: t.start()], entry[t.start() :]) if t else (entry, "")
        if not name.strip() or (not t and len(entry) < 6):
            lib.warn(n, "指标行不完整（文字可能被截断），未读入", text)
            continue
        note = "；".join(x for x in [target.strip(), *notes] if x) or None
        lib.add(n, name, note=note)


def _read_by_project_type(lib: _Lib, body: list[tuple[int, str]]) -> None:
    project = level1 = level2 = None
    pending: tuple[int, str] | None = None  # a heading wrapped over two lines (…類項 / 目)
    for n, printed in body:
        text = _PINYIN.sub("", printed).strip()
        simple = simplified_chars(text)
        if pending is not None:
            simple = simplified_chars(pending[1]) + simple
            pending = None
            if simple.endswith("类项目"):
                project, level1, level2 = simple, None, None
                continue
        if simple.endswith("类项") or (simple.endswith("类") and project is not None):
            pending = (n, text)
            continue
        if simple.endswith("类项目"):
            project, level1, level2 = simple, None, None
            continue
        if project is None:
            continue  # the page heading before the first project type
        if set(simple) <= {"…", "."}:
            lib.warn(n, "省略号（示例表的其余部分未印出）", printed)
            continue
        if categories.resolve(simple, 2, "legacy") or categories.resolve(simple, 2, "2021"):
            level2 = simple  # first: 成本指标 / 满意度指标 are level 2 under 产出 / 效果 here
            continue
        if (
            categories.resolve(simple, 1, "legacy")
            or categories.resolve(simple, 1, "2021")
            or (simple == "效果指标")
        ):
            level1, level2 = simple, None
            continue
        if level2 is None:
            lib.warn(n, "指标名称前没有二级指标，未读入", printed)
            continue
        unit = _UNIT.search(text)
        lib.add(
            n,
            text,
            project_type=project,
            level1=level1,
            level2=level2,
            unit=simplified_chars(unit["u"]) if unit else None,
        )
    if pending is not None:
        lib.warn(pending[0], "文字在此中断", pending[1])


def _read_csv(path: Path) -> ParsedLibrary:
    file = str(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    if not rows or tuple(rows[0][: len(CSV_HEADER)]) != CSV_HEADER:
        raise NotATargetTableError(
            file,
            1,
            tr(
                f"不是指标库 CSV：应有表头 {', '.join(CSV_HEADER)}",
                f"not a library CSV: expected the header {', '.join(CSV_HEADER)}",
            ),
        )
    lib: ParsedLibrary | None = None
    for n, row in enumerate(rows[1:], start=2):
        cell = dict(zip(CSV_HEADER, row + [""] * len(CSV_HEADER), strict=False))
        src = Source(file=cell["来源文件"] or file, line=int(cell["来源行"] or n))
        if cell["指标库"] == "库":
            lib = ParsedLibrary(key=cell["库名"] or path.stem, title=cell["三级指标"], source=src)
            continue
        if lib is None:
            raise NotATargetTableError(
                file,
                n,
                tr(
                    "表头之后的第一行的指标库列应为 库",
                    "the first row after the header must be 指标库 库",
                ),
            )
        if cell["指标库"] == "警告":
            lib.warnings.append(
                WarningRecord(message=cell["说明"], text=cell["三级指标"] or None, source=src)
            )
            continue
        if cell["指标库"] != "指标":
            raise NotATargetTableError(
                file,
                n,
                tr(
                    f"指标库列应为 库、指标 或 警告，而不是 {cell['指标库']!r}",
                    f"指标库 column must be 库, 指标 or 警告, not {cell['指标库']!r}",
                ),
            )
        lib.indicators.append(_csv_indicator(cell, src))
    if lib is None:
        raise NotATargetTableError(
            file, None, tr("指标库 CSV 中没有 库 行", "the library CSV has no 库 row")
        )
    return lib


def _csv_indicator(cell: dict[str, str], src: Source) -> LibraryIndicatorRecord:
    """The indicator of one CSV row (指标库 指标), its cells by column name."""
    return LibraryIndicatorRecord(
        name=cell["三级指标"],
        name_simplified=cell["简体名称"] or None,
        level1=cell["一级指标"] or None,
        level2=cell["二级指标"] or None,
        project_type=cell["项目类型"] or None,
        code=cell["指标编码"] or None,
        unit=cell["计量单位"] or None,
        definition=cell["指标解释"] or None,
        note=cell["说明"] or None,
        ordinal=int(cell["序号"]),
        source=src,
    )


def write_csv(lib: ParsedLibrary, out: io.TextIOBase) -> None:
    """The converted form kept in data/demo/libraries/ (UTF-8 with BOM)."""
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)
    w.writerow(_library_row(lib))
    for i in lib.indicators:
        w.writerow(_indicator_row(lib, i))
    for x in lib.warnings:
        w.writerow(_warning_row(lib, x))


def _library_row(lib: ParsedLibrary) -> list[object]:
    """The CSV row (指标库 库) that names the library."""
    return [
        "库",
        lib.key,
        "",
        "",
        "",
        "",
        "",
        lib.title,
        "",
        "",
        "",
        "",
        lib.source.file,
        lib.source.line,
    ]


def _indicator_row(lib: ParsedLibrary, i: LibraryIndicatorRecord) -> list[object]:
    """The CSV row (指标库 指标) of one library entry."""
    return [
        "指标",
        lib.key,
        i.ordinal,
        i.code or "",
        i.project_type or "",
        i.level1 or "",
        i.level2 or "",
        i.name,
        i.name_simplified or "",
        i.unit or "",
        i.definition or "",
        i.note or "",
        i.source.file,
        i.source.line,
    ]


def _warning_row(lib: ParsedLibrary, x: WarningRecord) -> list[object]:
    """The CSV row (指标库 警告) of one warning."""
    return [
        "警告",
        lib.key,
        "",
        "",
        "",
        "",
        "",
        x.text or "",
        "",
        "",
        "",
        x.message,
        x.source.file,
        x.source.line,
    ]
