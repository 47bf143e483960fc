"""A folder given to ``ikg build`` / ``ikg review`` holds tables and indicator libraries.

Both commands sort its files with ``kg.sources.classify_sources``: libraries are built as
libraries and left out of the review (a note, never a parse error), while a broken table is
still an error with its file and line. Runs on data/demo and on a folder made of copies of
its files.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikg.cli import app
from kg.errors import SourceError
from kg.sources import classify_sources, expand_sources

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SEED = DEMO / "000_3b89ef93caa61199.txt"
CORPUS = sorted((DEMO / "corpus").glob("*.csv"))
LIBRARIES = sorted((DEMO / "libraries").glob("*.csv"))
TABLE = DEMO / "corpus" / "hebei_ningjin_edu_2019_highschool_grant_eval.csv"
LIBRARY = DEMO / "libraries" / "generic_common_indicators_gx_codes_sample.csv"
SKIPPED = "识别为指标库，未作为绩效目标表审核"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A library, a table and a broken table (a 年度 that is no year, line 2), plus clutter."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(LIBRARY, folder / LIBRARY.name)
    shutil.copy(TABLE, folder / TABLE.name)
    lines = TABLE.read_text(encoding="utf-8-sig").splitlines()
    assert ",宁晋县教育局,2019," in lines[1]
    lines[1] = lines[1].replace(",宁晋县教育局,2019,", ",宁晋县教育局,去年,")
    (folder / "broken.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    (folder / "README.md").write_text("# 收件\n", encoding="utf-8")
    (folder / "scan.png").write_bytes(b"\x89PNG\r\n")
    (folder / ".hidden.csv").write_text("x\n", encoding="utf-8")
    return folder


def test_demo_folder_is_tables_and_libraries() -> None:
    found = classify_sources([DEMO])
    assert found.tables == [SEED, *CORPUS] and len(CORPUS) == 35  # 34 files, one two projects
    assert found.libraries == LIBRARIES and len(LIBRARIES) == 4
    assert found.other == []
    assert sorted(found.files) == sorted([*found.tables, *found.libraries])
    assert expand_sources([DEMO]) == found.files


def test_the_classes_of_a_mixed_folder(mixed: Path) -> None:
    found = classify_sources([mixed])
    assert found.tables == [mixed / "broken.csv", mixed / TABLE.name]
    assert found.libraries == [mixed / LIBRARY.name]
    assert found.other == [mixed / ".hidden.csv", mixed / "README.md", mixed / "scan.png"]


def test_a_forced_reader(mixed: Path) -> None:
    # a table reader forced: the folder's libraries are still libraries ...
    assert classify_sources([mixed], "template").libraries == [mixed / LIBRARY.name]
    # ... but a file named on the command line is read with it, as asked
    named = classify_sources([mixed / LIBRARY.name], "template")
    assert (named.tables, named.libraries) == ([mixed / LIBRARY.name], [])
    # --reader library: everything is a library, as before
    assert classify_sources([mixed], "library").tables == []


def test_a_folder_with_nothing_to_read_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("无\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no table or indicator-library files"):
        classify_sources([tmp_path])


@pytest.mark.slow  # reviews the whole data/demo folder
def test_review_of_data_demo_skips_the_libraries() -> None:
    result = invoke("review", str(DEMO), "--format", "json")
    assert result.exit_code == 1, result.stderr  # the seed's own 3 errors
    data = json.loads(result.stdout)
    assert [f["file"] for f in data["files"]] == [str(p) for p in [SEED, *CORPUS]]
    assert all(f["parsed"] for f in data["files"])
    assert not [f for f in data["findings"] if f["rule"] == "parse-error"]
    assert data["summary"]["by_severity"]["error"] == 3
    for lib in LIBRARIES:
        assert f"{SKIPPED}：{lib}" in result.stderr
    assert f"{1 + len(CORPUS)} 个文件：错误 3 条" in result.stderr


def test_review_of_a_mixed_folder(mixed: Path) -> None:
    result = invoke("review", str(mixed), "--format", "json")
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    assert [(f["file"], f["parsed"]) for f in data["files"]] == [
        (str(mixed / "broken.csv"), False),
        (str(mixed / TABLE.name), True),
    ]
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["file"], f["line"]) for f in errors] == [
        ("parse-error", str(mixed / "broken.csv"), 2)
    ]
    assert "去年" in errors[0]["message_zh"]
    assert f"{SKIPPED}：{mixed / LIBRARY.name}" in result.stderr
    assert "README.md" not in result.stdout + result.stderr


def test_review_of_libraries_only_is_bad_usage(mixed: Path) -> None:
    result = invoke("review", str(mixed / LIBRARY.name))
    assert result.exit_code == 2
    assert f"{SKIPPED}：{mixed / LIBRARY.name}" in result.stderr
    assert "没有可审核的绩效目标表（1 个文件识别为指标库）" in result.stderr


@pytest.mark.slow
def test_build_of_a_mixed_folder(mixed: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = invoke("build", str(mixed), "--data-dir", str(data))
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert re.search(r"broken\.csv:2: 年度为 '去年'", message), message
    assert not (data / "store").exists()  # nothing written
    (mixed / "broken.csv").unlink()
    result = invoke("build", str(mixed), "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    assert f"{mixed / LIBRARY.name}: 指标库 " in result.stderr
    assert "已将 1 张表和 1 个指标库载入" in result.stderr
    stats = json.loads(invoke("stats", "--data-dir", str(data), "--json").stdout)
    assert (stats["tables"], stats["libraries"], stats["library_indicators"]) == (1, 1, 10)
