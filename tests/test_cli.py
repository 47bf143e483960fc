"""The ikg command line on the real seed: parse, build, query, validate, stats, bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikg.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


#: the builds here index with the small hash encoder: these tests are about the command line,
#: not the model (tests/test_embeddings_* and the api tests cover the default model)
FAST_MODEL = {"IKG_EMBEDDING_MODEL": "hash"}


@pytest.fixture(autouse=True)
def _fast_model(monkeypatch):
    for k, v in FAST_MODEL.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="module")
def built(seed_path, tmp_path_factory) -> Path:
    """The seed built once by ``ikg build`` into a data dir that the tests only read (a test
    that writes copies it, see ``built_copy``)."""
    data = tmp_path_factory.mktemp("cli-built") / "data"
    with pytest.MonkeyPatch.context() as mp:
        for k, v in FAST_MODEL.items():
            mp.setenv(k, v)
        result = invoke("build", str(seed_path), "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    return data


@pytest.fixture
def built_copy(built, tmp_path) -> Path:
    """A copy of ``built`` of the test's own, to write to."""
    data = tmp_path / "data"
    shutil.copytree(built, data)
    return data


@pytest.fixture(scope="module")
def seed_jsonl(seed_path) -> list[dict]:
    result = invoke("parse", str(seed_path), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_parse_jsonl_record_kinds(seed_jsonl):
    kinds = [r["kind"] for r in seed_jsonl]
    assert kinds[0] == "table"
    assert kinds.count("indicator") == 166
    assert kinds.count("task") == 13
    assert kinds.count("unit") == 2
    assert kinds.count("goal") == 4
    assert kinds.count("totals") == 1
    assert kinds.count("category_not_applicable") == 2
    assert "warning" not in kinds


def test_parse_jsonl_indicator_shape(seed_jsonl, seed_path):
    inds = [r for r in seed_jsonl if r["kind"] == "indicator"]
    for r in inds:
        assert {"kind", "level1", "level2", "name", "target", "target_parsed", "source"} <= set(r)
        assert r["name"] and r["level1"] and r["level2"]
        assert not re.search(r"\s", r["target"])
        assert r["source"]["file"] == str(seed_path)
        assert isinstance(r["source"]["line"], int)
        assert r["target_parsed"]["raw"] == r["target"]
    first = inds[0]
    assert (first["name"], first["target"], first["source"]["line"]) == (
        "全年辅助人员流失人数",
        "≦6人",
        614,
    )
    assert first["target_parsed"]["comparison"] == "<=" and first["target_parsed"]["upper"] == "6"


def test_parse_jsonl_other_kinds(seed_jsonl):
    table = seed_jsonl[0]
    assert (table["department"], table["fiscal_year"], table["currency_unit"]) == (
        "中共深圳市福田区委组织部",
        2024,
        "万元",
    )
    task = next(r for r in seed_jsonl if r["kind"] == "task")
    assert (task["name"], task["total"], task["fiscal"], task["other"]) == (
        "基本支出",
        "3133.45",
        "3128.46",
        "0.00",
    )
    assert task["source"]["line"] == 36
    na = [r for r in seed_jsonl if r["kind"] == "category_not_applicable"]
    assert [r["level2"] for r in na] == ["生态效益指标", "其他满意度指标"]


def test_build_query_stats_validate(tmp_path, seed_path):
    data = tmp_path / "data"
    result = invoke("build", str(seed_path), "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    assert "指标 166" in result.output
    q = 'SELECT ?t WHERE { ?i ikg:name "预算执行率" ; ikg:target/ikg:rawText ?t }'
    result = invoke("query", q, "--data-dir", str(data), "--format", "json")
    assert result.exit_code == 0, result.output
    bindings = json.loads(result.stdout)["results"]["bindings"]
    assert [b["t"]["value"] for b in bindings] == ["≥90%"]
    result = invoke("query", q, "--data-dir", str(data), "--format", "csv")
    assert result.stdout.splitlines() == ["t", "≥90%"]
    result = invoke("stats", "--data-dir", str(data), "--json")
    stats = json.loads(result.stdout)
    assert stats["tables"] == 1 and stats["indicators"] == 166 and stats["tasks"] == 13
    by = {(r["level1"], r["level2"]): r["count"] for r in stats["indicators_by_category"]}
    assert by[("产出指标", "数量指标")] == 51
    result = invoke("validate", "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    assert "1/1 个表图符合约束" in result.output


def test_rebuild_replaces_instead_of_duplicating(tmp_path, seed_path):
    data = tmp_path / "data"
    assert invoke("build", str(seed_path), "--data-dir", str(data)).exit_code == 0
    first = json.loads(invoke("stats", "--data-dir", str(data), "--json").stdout)
    assert invoke("build", str(seed_path), "--data-dir", str(data)).exit_code == 0
    second = json.loads(invoke("stats", "--data-dir", str(data), "--json").stdout)
    assert first == second


def test_malformed_query_is_an_error(built):
    result = invoke("query", "SELECT ?x WHERE { ?x ", "--data-dir", str(built))
    assert result.exit_code == 2
    assert "SPARQL 语法错误" in result.output


# -- bad input: non-zero exit, a message naming file and line, the store untouched --


def _variant(tmp_path: Path, seed_path: Path, name: str, edit) -> Path:
    lines = seed_path.read_text(encoding="utf-8").splitlines()
    out = tmp_path / name
    out.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return out


def _replace(line_no: int, old: str, new: str):
    def edit(lines: list[str]) -> list[str]:
        assert old in lines[line_no - 1]
        lines[line_no - 1] = lines[line_no - 1].replace(old, new)
        return lines

    return edit


BAD = {
    "empty.txt": (lambda lines: [], r"empty\.txt: 文件为空"),
    "not_a_table.txt": (
        lambda lines: ["会议纪要", "", "今天讨论了下一年度的工作安排。"],
        r"not_a_table\.txt: 没有读取器认出此文件",
    ),
    "truncated.txt": (lambda lines: lines[:1000], r"truncated\.txt:\d+: .*截断"),
    "bad_amount.txt": (
        _replace(52, "3,128.46", "3,12x.46"),
        r"bad_amount\.txt:52: .*无法读取的金额 '3,12x\.46'",
    ),
    "bad_category.txt": (
        _replace(793, "质量指标", "品质指标"),
        r"bad_category\.txt:793: 未知的指标类别 '品质指标'",
    ),
}


#: one bad input in the fast lane; the others each build the seed again (slow)
BAD_FAST = {"bad_amount.txt"}


@pytest.mark.parametrize(
    "name", [n if n in BAD_FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(BAD)]
)
def test_bad_input_names_file_and_line_and_leaves_store(tmp_path, seed_path, built_copy, name):
    data = built_copy  # the seed as built by ``ikg build``
    before = invoke(
        "query",
        "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        "--data-dir",
        str(data),
        "--format",
        "csv",
    ).stdout
    edit, pattern = BAD[name]
    bad = _variant(tmp_path, seed_path, name, edit)
    for cmd in (["parse", str(bad)], ["build", str(bad), "--data-dir", str(data)]):
        result = invoke(*cmd)
        assert result.exit_code == 2, (cmd, result.output)
        message = " ".join(result.output.split())
        assert re.search(pattern, message), message
    after = invoke(
        "query",
        "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        "--data-dir",
        str(data),
        "--format",
        "csv",
    ).stdout
    assert sorted(after.splitlines()) == sorted(before.splitlines())
    assert len(before.splitlines()) > 2000


def test_build_of_several_files_is_all_or_nothing(tmp_path, seed_path):
    """A bad file among good ones: nothing of the good ones is written either."""
    data = tmp_path / "data"
    bad = _variant(tmp_path, seed_path, "bad_amount.txt", _replace(52, "3,128.46", "3,12x.46"))
    result = invoke("build", str(seed_path), str(bad), "--data-dir", str(data))
    assert result.exit_code == 2
    assert (
        not (data / "store").exists()
        or invoke("stats", "--data-dir", str(data), "--json").exit_code != 0
        or json.loads(invoke("stats", "--data-dir", str(data), "--json").stdout)["tables"] == 0
    )


def test_serve_in_memory_option(built_copy, monkeypatch):
    """``ikg serve --in-memory yes|no|auto`` reaches the settings; anything else is refused."""
    import api.server

    tmp_path = built_copy  # the seed as built by ``ikg build``
    seen = []
    monkeypatch.setattr(api.server, "serve", lambda settings, workers=1: seen.append(settings))
    result = invoke("serve", "--data-dir", str(tmp_path), "--in-memory", "yes")
    assert result.exit_code == 0, result.output
    assert seen[-1].store_in_memory == "yes"
    assert invoke("serve", "--data-dir", str(tmp_path)).exit_code == 0
    assert seen[-1].store_in_memory == "auto"
    result = invoke("serve", "--data-dir", str(tmp_path), "--in-memory", "always")
    assert result.exit_code == 2 and "只能是 auto、yes 或 no" in result.output
    assert len(seen) == 2


def test_serve_workers_are_given_time_to_copy_the_store(tmp_path, monkeypatch):
    """With several workers, uvicorn's supervisor kills a worker that does not answer its ping
    in time; a worker copying a large store into memory must not be killed (and restarted,
    forever) for it."""
    import uvicorn

    import api.server
    from kg.settings import Settings

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setattr(api.server, "_log_to_stderr", lambda level: None)
    # serve() hands the settings to the workers as IKG_ variables: keep them out of this process
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k[:4] != "IKG_"})
    api.server.serve(Settings(data_dir=tmp_path), workers=2)
    app, kw = calls[-1]
    assert app == "api.server:app_from_env" and kw["workers"] == 2 and kw["factory"]
    assert kw["timeout_worker_healthcheck"] >= 60
    # the copy itself gives the ping a chance: batches, not one call over every quad
    import kg.store

    assert 0 < kg.store.MEMORY_COPY_BATCH <= 100_000


CORPUS_TABLES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tables"


def test_parse_explain_says_layout_header_roles_and_skipped_lines():
    name = "anhui_luan_agri_2024_quality_testing_project_target.txt"
    result = invoke("parse", str(CORPUS_TABLES / name), "--explain")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "读取器: flat-text" in out
    assert "版式: “|”分隔" in out
    # the header, each word with its role, and the row's columns in order
    assert "表头（第 19–20 行）" in out and "三级指标=三级指标" in out and "指标值=指标值" in out
    assert "每行的列: 三级指标 → 指标值" in out
    assert "并排的两组（中期/年度）" in out
    assert "读入: 指标 7" in out
    assert "第 28 行: 表格文字在此行中断（行不完整），未读入 ‹开展质›" in out  # the cut name


def test_parse_explain_of_a_fragment_and_the_seed(seed_path):
    name = "sichuan_daying_culture_tourism_2022_library_selfeval_fragment.txt"
    out = invoke("parse", str(CORPUS_TABLES / name), "--explain").stdout
    assert "版式: 表格片段" in out and "每行的列: 三级指标 → 指标方向 → 符号 → 指标值" in out
    seed = invoke("parse", str(seed_path), "--explain")
    assert seed.exit_code == 0 and "读取器: pdf-text" in seed.stdout
    assert "读入: 指标 166" in seed.stdout


def test_parse_year_and_department_for_a_table_that_prints_neither():
    name = "sichuan_dyrmt_railway_environment_selfeval_fragment.txt"
    missing = invoke("parse", str(CORPUS_TABLES / name))  # read, its year empty, a warning
    assert missing.exit_code == 0, missing.output
    assert json.loads(missing.stdout.splitlines()[0])["fiscal_year"] is None
    assert f"{name}:3" in missing.stderr and "--year" in missing.stderr
    given = invoke("parse", str(CORPUS_TABLES / name), "--year", "2022", "--department", "某局")
    assert given.exit_code == 0, given.output
    table = json.loads(given.stdout.splitlines()[0])
    assert (table["fiscal_year"], table["department"]) == (2022, "某局")
    kinds = [json.loads(line)["kind"] for line in given.stdout.splitlines() if line.strip()]
    assert kinds.count("indicator") == 8
