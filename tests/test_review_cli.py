"""`ikg review` as a command: registered on a local Typer app exactly as ikg/cli.py would."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from ikg.review import review

app = typer.Typer()
app.command("review")(review)


@app.callback()
def _root() -> None:
    """A callback makes `review` a subcommand, as in ikg.cli.app."""


runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["review", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def clean_seed(seed_path, tmp_path_factory):
    """The seed with its two errors corrected: warnings and notes only."""
    text = seed_path.read_text(encoding="utf-8")
    text = text.replace("3,133.45 3,128.46 0.00", "3,133.45 3,133.45 0.00").replace(
        "2023年12月20", "2024年12月20"
    )
    path = tmp_path_factory.mktemp("clean") / "clean.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_has_errors_exit_1(seed_path):
    result = invoke(str(seed_path))
    assert result.exit_code == 1
    assert "task-row-sum" in result.stdout and "基本支出" in result.stdout
    assert "错误 3 条" in result.stderr


def test_clean_table_exit_0(clean_seed):
    result = invoke(str(clean_seed), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["by_severity"]["error"] == 0
    assert data["summary"]["by_severity"]["warning"] > 0


# one format in the fast lane; each is a full review with the embedding model (slow)
@pytest.mark.parametrize(
    "fmt",
    ["json", *(pytest.param(f, marks=pytest.mark.slow) for f in ["text", "markdown", "html"])],
)
def test_formats_to_file(seed_path, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = invoke(str(seed_path), "--format", fmt, "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    body = out.read_text(encoding="utf-8")
    assert "基本支出" in body


def test_folder_and_bad_file_together(seed_path, tmp_path):
    (tmp_path / "a.txt").write_text(seed_path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.txt").write_text("这不是绩效目标表\n", encoding="utf-8")
    result = invoke(str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [f["parsed"] for f in data["files"]] == [True, False]
    assert any(f["rule"] == "parse-error" and f["file"].endswith("b.txt") for f in data["findings"])


def test_bad_usage_exit_2(seed_path, tmp_path):
    assert invoke(str(tmp_path / "missing.txt")).exit_code == 2
    assert invoke(str(seed_path), "--format", "pdf").exit_code == 2
    result = invoke(str(seed_path), "--against", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "没有图存储" in result.stderr
    assert invoke(str(seed_path), "--reader", "nope").exit_code == 2
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    assert invoke(str(empty)).exit_code == 2


def test_against_a_built_store(seed_path, tmp_path):
    from kg.build import build

    other = tmp_path / "other.txt"
    other.write_text(
        seed_path.read_text(encoding="utf-8").replace(
            "中共深圳市福田区委组织部", "深圳市福田区民政局"
        ),
        encoding="utf-8",
    )
    build([other], tmp_path / "data" / "store", shacl=False)
    result = invoke(str(seed_path), "--against", str(tmp_path / "data"), "--format", "json")
    assert result.exit_code == 1
    found = [
        f
        for f in json.loads(result.stdout)["findings"]
        if f["rule"] == "duplicate-across-departments"
    ]
    assert found and found[0]["values"]["other_department"] == "深圳市福田区民政局"
