"""One language per run: the CLI's text output is Chinese unless ``--lang en``;
an indicator name several tables carry is refused with the candidates listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikg.cli import app as ikg

CORPUS = Path(__file__).resolve().parents[1] / "data" / "demo" / "corpus"
#: two demo tables of different departments that both carry 政策知晓率
TABLES = [
    CORPUS / "yunnan_yongde_minglang_school_2022_selfeval.csv",
    CORPUS / "sichuan_daying_civil_affairs_2022_orphan_grant_selfeval.csv",
]
#: ASCII words a Chinese line may carry: option names, commands, formats, the model's name
ALLOWED = {"ikg", "SPARQL", "ID", "URI", "JSON", "CSV"}


def english_words(text: str) -> list[str]:
    """ASCII words of ``text`` that are not ids, paths, options or numbers."""
    words = []
    for token in text.split():
        if re.search(r"[/\\.:@_=<>-]", token):  # paths, ids, --options, model ids, URIs
            continue
        words += [w for w in re.findall(r"[A-Za-z]{2,}", token) if w not in ALLOWED]
    return words


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("IKG_EMBEDDING_MODEL", "hash-128")
    data = tmp_path_factory.mktemp("lang-data")
    r = CliRunner().invoke(ikg, ["build", *map(str, TABLES), "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    yield data
    mp.undo()


def run(data_dir, *args: str):
    return CliRunner().invoke(ikg, [*args, "--data-dir", str(data_dir)])


def test_ambiguous_name_lists_the_candidates(data_dir) -> None:
    r = run(data_dir, "similar", "政策知晓率")
    assert r.exit_code == 2
    msg = r.stderr
    assert msg.startswith("错误：“政策知晓率”对应 2 条指标")
    # each candidate with its department, year, table, line and id
    for department in ("临沧市永德县明朗中学", "大英县民政局"):
        line = next(x for x in msg.splitlines() if department in x)
        assert "2022 年《" in line and re.search(r"第 \d+ 行", line), line
    assert len(re.findall(r"指标 ID：table/2022-[0-9a-f]+/indicator/[0-9a-f]+", msg)) == 2
    assert "--of-department" in msg and "--of-year" in msg
    assert english_words(msg) == [], english_words(msg)
    # picked by department: the other table's 政策知晓率 is the first hit
    r = run(data_dir, "similar", "政策知晓率", "--of-department", "大英", "--k", "3")
    assert r.exit_code == 0, r.output
    first = r.stdout.splitlines()[0]
    assert "政策知晓率" in first and "临沧市永德县明朗中学" in first
    # picked by id: the same answer
    lines = msg.splitlines()
    k = next(n for n, x in enumerate(lines) if "大英县民政局" in x)
    uid = lines[k + 1].split("指标 ID：")[1].strip()
    r2 = run(data_dir, "similar", uid, "--k", "3")
    assert r2.exit_code == 0 and r2.stdout == r.stdout
    # a department without that name
    r = run(data_dir, "similar", "政策知晓率", "--of-department", "没有的部门")
    assert r.exit_code == 2 and "索引中没有指标" in r.stderr


def test_ambiguity_in_english_when_asked(data_dir) -> None:
    r = CliRunner().invoke(
        ikg, ["--lang", "en", "similar", "政策知晓率", "--data-dir", str(data_dir)]
    )
    assert r.exit_code == 2
    assert r.stderr.startswith("error: '政策知晓率' matches 2 indicators; pick one:")
    assert "大英县民政局, 2022, table" in r.stderr and "id: table/" in r.stderr
    assert not re.search(r"[，；：（）]|指标 ID|对应", r.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ("similar", "政策知晓率", "--of-year", "2022", "--of-department", "永德"),
        ("search", "知晓率", "--k", "5"),
        ("duplicates", "--threshold", "0.1"),
        ("stats",),
        ("validate",),
    ],
)
def test_text_output_is_chinese(data_dir, args) -> None:
    r = run(data_dir, *args)
    assert r.exit_code == 0, r.output
    text = r.stdout + r.stderr
    assert re.search(r"[\u4e00-\u9fff]", text)
    assert english_words(text) == [], english_words(text)


def test_lang_en_gives_english_and_json_keys_stay(data_dir) -> None:
    r = CliRunner().invoke(ikg, ["--lang", "en", "stats", "--data-dir", str(data_dir)])
    assert r.exit_code == 0 and "tables" in r.stdout and "indicators" in r.stdout
    assert "绩效目标表" not in r.stdout
    r = CliRunner().invoke(
        ikg, ["--lang", "en", "duplicates", "--threshold", "0.1", "--data-dir", str(data_dir)]
    )
    assert "bands: duplicate ≥" in r.stdout and "分档" not in r.stdout
    # JSON: English keys in either language; reasons follow the language asked for
    r = run(data_dir, "stats", "--json")
    assert '"tables"' in r.stdout and '"indicators_by_category"' in r.stdout
    r = run(data_dir, "duplicates", "--threshold", "0.1", "--format", "jsonl")
    assert '"reasons"' in r.stdout and "语义相似度" in r.stdout and "dense 0" not in r.stdout
