"""Reader for the JSON Lines form: what :func:`kg.writers.write_jsonl` (and ``ikg parse``) writes.

One record per line, each a JSON object with a ``kind`` key (``table``,
``unit``, ``task``, ``totals``, ``goal``, ``indicator``,
``category_not_applicable``, ``warning``); blank lines are skipped. Exactly
one ``table`` record and at most one ``totals`` record. A line that is not
JSON, or not a record, raises :class:`~kg.errors.SourceError` with its number
and pydantic's message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

from pydantic import TypeAdapter, ValidationError

from ..errors import NotATargetTableError, SourceError
from ..i18n import tr
from ..records import ParsedTable, Record, TableRecord, TotalsRecord

NAME = "jsonl"
SUFFIXES = (".jsonl", ".ndjson")

_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record)
_KINDS = frozenset(
    {"table", "unit", "task", "totals", "goal", "indicator", "category_not_applicable", "warning"}
)


def _lines(text: str) -> list[tuple[int, str]]:
    # split on "\n" only: str.splitlines would also cut at U+2028 inside a JSON string
    return [
        (no, line.rstrip("\r"))
        for no, line in enumerate(text.lstrip("\ufeff").split("\n"), start=1)
    ]


def sniff(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    for _no, line in _lines(head.decode("utf-8", errors="replace")):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            return False
        return isinstance(obj, dict) and obj.get("kind") in _KINDS
    return False


def _message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in err['loc']) or 'record'}: {err['msg']}" for err in exc.errors()
    )


def read(path: Path) -> ParsedTable:
    """One table; a file of several (ikg parse of a file listing projects) is refused here:
    :func:`read_all` (and ``kg.readers.read_tables``) read them all."""
    tables = read_all(path)
    if len(tables) > 1:
        raise SourceError(
            str(path),
            None,
            tr(
                f"文件中有 {len(tables)} 张表（每个项目一张）；请用 read_tables 读取"
                "（ikg build 和 ikg review 会这样读）",
                f"{len(tables)} tables (one per project); read them with read_tables "
                "(ikg build and ikg review do)",
            ),
        )
    return tables[0]


def _record(file: str, no: int, line: str) -> Record:
    """The record on line ``no``; raises when it is not JSON, not an object or not a record."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SourceError(
            file,
            no,
            tr(
                f"不是有效的 JSON：第 {exc.colno} 列 {exc.msg}；每行应为一个 JSON 对象",
                f"not valid JSON: {exc.msg} at column {exc.colno}; "
                "expected one JSON object per line",
            ),
        ) from exc
    if not isinstance(obj, dict):
        raise SourceError(
            file,
            no,
            tr(
                f"是 JSON {type(obj).__name__}，不是对象；应为带 'kind' 键的记录",
                f"a JSON {type(obj).__name__}, not an object; expected a record with a 'kind' key",
            ),
        )
    try:
        return _ADAPTER.validate_python(obj)
    except ValidationError as exc:
        raise SourceError(
            file, no, tr(f"不是有效的记录：{_message(exc)}", f"not a valid record: {_message(exc)}")
        ) from exc


def _text(path: Path) -> str:
    """The file's text; raises when it is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotATargetTableError(
            str(path),
            None,
            tr(
                f"不是 UTF-8 编码的文字（第 {exc.start} 字节：{exc.reason}）",
                f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            ),
        ) from exc


def read_all(path: Path) -> list[ParsedTable]:
    """Every table of the file: each 'table' record starts one, the records after it are its."""
    file = str(path)
    text = _text(path)
    tables: list[list[Record]] = []
    records: list[Record] = []
    table_line: int | None = None
    totals_line: int | None = None
    for no, line in _lines(text):
        if not line.strip():
            continue
        record = _record(file, no, line)
        if isinstance(record, TableRecord):
            if table_line is None and records:
                raise SourceError(
                    file,
                    no,
                    tr(
                        "第一条 'table' 记录之前有其他记录；表记录应在最前",
                        "records before the first 'table' record; expected the table first",
                    ),
                )
            if table_line is not None:
                tables.append(records)
                records = []
            table_line, totals_line = no, None
        elif isinstance(record, TotalsRecord):
            if totals_line is not None:
                raise SourceError(
                    file,
                    no,
                    tr(
                        f"第 {table_line} 行的表有第二条合计记录（第一条在第 {totals_line} 行）；"
                        "每张表只应有一条",
                        f"a second totals record for the table on line {table_line} (the first "
                        f"is on line {totals_line}); expected one a table",
                    ),
                )
            totals_line = no
        records.append(record)
    if table_line is None:
        _no_table(file, records)
    tables.append(records)
    return [ParsedTable.from_records(t) for t in tables]


def _no_table(file: str, records: list[Record]) -> NoReturn:
    """Raise for a file without a 'table' record: empty, or records but no table."""
    if not records:
        raise NotATargetTableError(
            file,
            None,
            tr(
                "没有记录；应为 JSON Lines，第一条为 'table' 记录",
                "no records; expected JSON Lines with a 'table' record first",
            ),
        )
    raise SourceError(
        file,
        None,
        tr(
            "没有 kind 为 'table' 的记录；每张表应有一条",
            "no record with kind 'table'; expected one a table",
        ),
    )
