"""Spreadsheets are read within limits (kg.readers.xlsx_limits): bombs are refused fast.

Two bombs reported against ``ikg serve`` are generated here: a 5 KB workbook with one
``<mergeCell ref="A2:XFD1048576"/>`` (openpyxl took > 6 GB on it) and a 1.5 MB workbook
whose sheet inflates to 505 MB. Both must be refused by ``ikg parse`` in under 20 s using
under 1 GB; the API's ``POST /api/review`` refusal is tested in test_api_json.py.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kg.errors import NotATargetTableError, SourceError, SpreadsheetLimitError
from kg.readers import read_table, template
from kg.readers.xlsx_limits import (
    SpreadsheetLimits,
    current_limits,
    inspect_workbook,
    reading_limits,
)

ROOT = Path(__file__).resolve().parents[1]
SHEET = "xl/worksheets/sheet2.xml"  # the 绩效指标 sheet of _workbook()


def _workbook(path: Path, *, rows: int = 2) -> Path:
    """A small template workbook: 基本信息 and 绩效指标 (``rows`` indicators)."""
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "基本信息"
    for row in (
        ("项目", "内容"),
        ("表名", "测试部门部门整体支出绩效目标表"),
        ("部门", "测试部门"),
        ("年度", "2024年"),
        ("金额单位", "万元"),
    ):
        info.append(row)
    ws = wb.create_sheet("绩效指标")
    ws.append(["一级指标", "二级指标", "三级指标", "目标值"])
    for n in range(rows):
        ws.append(["产出指标", "数量指标", f"慰问人数{n}", "≥100人"])
    wb.save(path)
    return path


def _rewrite(path: Path, part: str, edit) -> Path:
    """Rewrite one member of the zip at ``path`` through ``edit(bytes) -> bytes``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, edit(data) if info.filename == part else data)
    path.write_bytes(buf.getvalue())
    return path


def merge_bomb(path: Path, ref: str = "A2:XFD1048576", title: str = "绩效指标") -> Path:
    """The reported bomb: one merged range over (almost) the whole sheet."""
    _workbook(path)
    if title != "绩效指标":
        wb = openpyxl.load_workbook(path)
        wb["绩效指标"].title = title
        wb.save(path)
    merge = f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    return _rewrite(path, SHEET, lambda d: d.replace(b"</sheetData>", merge.encode()))


def huge_sheet_bomb(path: Path, mb: int = 505) -> Path:
    """The reported bomb: sheet XML of ``mb`` MB (one tiny row repeated) in ~1.5 MB."""
    _workbook(path)
    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    head, _, tail = members.pop(SHEET).partition(b"</sheetData>")
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    block = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for name, data in members.items():
            dst.writestr(name, data)
        with dst.open(SHEET, "w", force_zip64=True) as out:
            out.write(head)
            for _ in range(mb):
                out.write(block)
            out.write(b"</sheetData>" + tail)
    return path


@pytest.fixture(scope="module")
def huge(tmp_path_factory) -> Path:
    return huge_sheet_bomb(tmp_path_factory.mktemp("bomb") / "huge.xlsx")


# --------------------------------------------------------------------------- the two bombs


def test_merge_bomb_is_refused_fast(tmp_path):
    path = merge_bomb(tmp_path / "merge.xlsx")
    assert path.stat().st_size < 30_000
    started = time.monotonic()
    with pytest.raises(SpreadsheetLimitError) as err:
        read_table(path)
    assert time.monotonic() - started < 5
    msg = str(err.value)
    assert str(path) in msg and "A2:XFD1048576" in msg and "IKG_XLSX_MAX_CELLS" in msg
    assert "绩效指标" in msg  # the sheet is named


def test_merge_bomb_in_an_unknown_sheet_is_refused_not_skipped(tmp_path):
    # the sniffer opens a workbook whose sheet names it does not know: it must not turn the
    # refusal into "no reader recognises this file"
    path = merge_bomb(tmp_path / "merge.xlsx", title="Sheet1")
    with pytest.raises(SpreadsheetLimitError, match="A2:XFD1048576"):
        read_table(path)


@pytest.mark.slow  # writes a bomb workbook; the limits are tested small below
def test_huge_sheet_bomb_is_refused_fast(huge):
    assert huge.stat().st_size < 2_500_000
    started = time.monotonic()
    with pytest.raises(SpreadsheetLimitError) as err:
        read_table(huge)
    assert time.monotonic() - started < 5
    assert "xl/worksheets/sheet2.xml" in str(err.value)
    assert "IKG_XLSX_MAX_MEMBER_BYTES" in str(err.value)


@pytest.mark.slow  # writes a bomb workbook; the limits are tested small below
def test_huge_sheet_bomb_each_zip_limit(huge):
    big = 10**10
    with (
        reading_limits(SpreadsheetLimits(max_member_bytes=big)),
        pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_RATIO"),
    ):
        read_table(huge)
    with (
        reading_limits(SpreadsheetLimits(max_member_bytes=big, max_ratio=10_000)),
        pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_UNCOMPRESSED_BYTES"),
    ):
        read_table(huge)
    # every zip limit lifted: the sheet's cells are counted while it streams, and it stops
    lifted = SpreadsheetLimits(max_member_bytes=big, max_ratio=10_000, max_uncompressed_bytes=big)
    started = time.monotonic()
    with reading_limits(lifted), pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_CELLS"):
        read_table(huge)
    assert time.monotonic() - started < 10


def _parse_in_subprocess(path: Path) -> tuple[subprocess.CompletedProcess, float, float]:
    """``ikg parse path`` in a child: (result, seconds, peak RSS in MB)."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "r = subprocess.run([sys.executable, '-m', 'ikg.cli', 'parse', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "print(r.returncode, time.monotonic() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
        "sys.stderr.write(r.stderr)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT, env=env
    )
    rc, seconds, rss = out.stdout.split()
    out.returncode = int(rc)
    return out, float(seconds), float(rss)


@pytest.mark.parametrize("bomb", ["merge", "huge"])
@pytest.mark.slow  # ikg parse subprocesses on bomb workbooks
def test_ikg_parse_refuses_bombs_within_time_and_memory(bomb, tmp_path, huge):
    path = merge_bomb(tmp_path / "merge.xlsx") if bomb == "merge" else huge
    result, seconds, rss_mb = _parse_in_subprocess(path)
    assert result.returncode == 2, result.stderr
    assert "工作簿超过读取上限" in result.stderr and path.name in result.stderr
    assert seconds < 20
    assert rss_mb < 1024, f"ikg parse peaked at {rss_mb:.0f} MB"


# --------------------------------------------------------------------------- each limit


def test_a_table_within_the_limits_reads(tmp_path):
    path = _workbook(tmp_path / "ok.xlsx", rows=3)
    got = template.read(path)
    assert [i.name for i in got.indicators] == ["慰问人数0", "慰问人数1", "慰问人数2"]
    scan = inspect_workbook(path)
    sheet = scan.sheets[SHEET]
    assert (sheet.name, sheet.max_row, sheet.max_col, sheet.cells) == ("绩效指标", 4, 4, 16)


def test_cells_limit(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", rows=300)  # 1,200 cells in 绩效指标
    with (
        reading_limits(SpreadsheetLimits(max_cells=1000)),
        pytest.raises(SpreadsheetLimitError, match="1,000"),
    ):
        template.read(path)
    with reading_limits(SpreadsheetLimits(max_cells=2000)):
        assert len(template.read(path).indicators) == 300


def test_one_far_cell_is_a_huge_used_range(tmp_path):
    path = _workbook(tmp_path / "t.xlsx")
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    _rewrite(path, SHEET, lambda d: d.replace(b"</sheetData>", far + b"</sheetData>"))
    with pytest.raises(SpreadsheetLimitError, match="的范围为 A1:XFD1048576"):
        template.read(path)


def test_declared_dimension_is_not_trusted(tmp_path):
    # openpyxl's read-only mode would pad every row to the declared dimension
    path = _workbook(tmp_path / "t.xlsx")
    _rewrite(
        path,
        SHEET,
        lambda d: d.replace(b'<dimension ref="A1:D3"/>', b'<dimension ref="A1:XFD1048576"/>'),
    )
    assert b"XFD1048576" in zipfile.ZipFile(path).read(SHEET)
    started = time.monotonic()
    assert len(template.read(path).indicators) == 2
    assert time.monotonic() - started < 5


def test_merged_ranges_limit(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", rows=20)
    refs = "".join(f'<mergeCell ref="A{r}:B{r}"/>' for r in range(2, 22))
    merges = f'</sheetData><mergeCells count="20">{refs}</mergeCells>'.encode()
    _rewrite(path, SHEET, lambda d: d.replace(b"</sheetData>", merges))
    with (
        reading_limits(SpreadsheetLimits(max_merged_ranges=10)),
        pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_MERGED_RANGES"),
    ):
        template.read(path)


def test_members_limit(tmp_path):
    path = _workbook(tmp_path / "t.xlsx")
    with reading_limits(SpreadsheetLimits(max_members=3)):
        with pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_MEMBERS"):
            template.read(path)
        with pytest.raises(SpreadsheetLimitError):  # the sniffer as well
            template.sniff(path)


def test_time_limit(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", rows=50)
    with (
        reading_limits(SpreadsheetLimits(max_seconds=1e-6)),
        pytest.raises(SpreadsheetLimitError, match="IKG_XLSX_MAX_SECONDS"),
    ):
        template.read(path)


def test_a_dtd_is_refused(tmp_path):
    path = _workbook(tmp_path / "t.xlsx")
    lol = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    _rewrite(path, SHEET, lambda d: lol + d)
    with pytest.raises(NotATargetTableError, match="DTD"):
        template.read(path)


def test_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("IKG_XLSX_MAX_CELLS", "1234")
    monkeypatch.setenv("IKG_XLSX_MAX_SECONDS", "5")
    limits = current_limits()
    assert (limits.max_cells, limits.max_seconds) == (1234, 5.0)
    with reading_limits(SpreadsheetLimits(max_cells=7)):
        assert current_limits().max_cells == 7
    assert current_limits().max_cells == 1234


# --------------------------------------------------------------------------- read-only reading


def test_formula_reads_its_saved_result(tmp_path):
    path = _workbook(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["绩效指标"]["D3"] = '="≥"&"100人"'
    wb.save(path)
    with pytest.raises(SourceError, match="没有保存的计算结果"):
        template.read(path)
    # what Excel writes: the formula and its result
    saved = '<c r="D3" t="str"><f>"≥"&amp;"100人"</f><v>≥100人</v></c>'.encode()
    _rewrite(path, SHEET, lambda d: re.sub(rb'<c r="D3"[^>]*>.*?</c>', saved, d))
    assert b"<f>" in zipfile.ZipFile(path).read(SHEET)
    got = template.read(path)
    assert [i.target for i in got.indicators] == ["≥100人", "≥100人"]


def test_formula_under_a_merged_range_is_not_read(tmp_path):
    # a covered cell reads as its range's top-left, whatever it holds (as openpyxl did)
    path = _workbook(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["绩效指标"]
    ws["A3"] = "=A2"  # no saved result, but covered by A2:A3
    ws.merge_cells("A2:A3")
    wb.save(path)
    got = template.read(path)
    assert [i.level1 for i in got.indicators] == ["产出指标", "产出指标"]
