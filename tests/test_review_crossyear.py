"""Cross-year review: this year's table against the department's earlier tables.

On variants of the seed made for 2025 (targets lowered, one raised, indicators removed,
copied unchanged, last year as a self-evaluation) and on the corpus's two real series
(湘潭市环境卫生管理处 2023 → 2024; 大英县民政局 2020 → 2022).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from apps.review import review_files
from apps.review.crossyear import (
    PriorTable,
    bound,
    compare,
    lowered,
    name_score,
    prior_of,
)
from apps.review.rules import Context, run_rules
from apps.review.similarity import lexical_similarity
from kg.records import ParsedTable
from kg.targets import parse_target

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "demo" / "corpus"
XT_2023 = CORPUS / "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.csv"
XT_2024 = CORPUS / "hunan_xiangtan_sanitation_2024_fog_cannon_project_target.csv"
DY_2020 = CORPUS / "sichuan_daying_civil_affairs_2020_elderly_care_selfeval_fragment.csv"
DY_2022 = CORPUS / "sichuan_daying_civil_affairs_2022_orphan_grant_selfeval.csv"

HISTORY = {"target-lowered", "target-below-actual", "indicator-dropped", "copied-unchanged"}


def next_year(parsed: ParsedTable, changes: dict[int, str], drop: set[int] = frozenset()):
    """The seed as its 2025 table: targets changed by line, indicators at ``drop`` removed."""
    t = parsed.model_copy(deep=True)
    t.table.fiscal_year = 2025
    t.indicators = [i for i in t.indicators if i.source.line not in drop]
    for ind in t.indicators:
        if ind.source.line in changes:
            ind.target = changes[ind.source.line]
            ind.target_parsed = parse_target(ind.target, year=2025)
    return t


def run(parsed: ParsedTable, *priors: PriorTable, rule: str | None = None):
    ctx = Context(priors=lambda: list(priors))
    return run_rules(parsed, ctx, only={rule} if rule else HISTORY)


def of(findings, rule):
    return [f for f in findings if f.rule == rule]


# --------------------------------------------------------------------------- pieces


def test_lowered_and_raised_bounds():
    def lo(a, b):
        return lowered(bound(parse_target(a)), bound(parse_target(b)))

    assert lo("≥95%", "≥85%") and lo("≥300人次", "≥200人次") and lo("2700卷", "2000卷")
    assert lo("≤5天", "≤7天") and lo(">90%", "≥90%")
    assert not lo("≥85%", "≥95%") and not lo("≥200人次", "≥300人次")  # raised
    assert not lo("≥95%", "≥95%") and not lo("≤7天", "≤5天")
    assert not lo("≥90%", "≥85人")  # another unit: not compared
    assert bound(parse_target("2023.07-2024.01")) is None  # a period, not a quantity


def test_year_words_are_normalised_in_names():
    assert (
        name_score("2024年扫描在职干部档案卷数", "2025年度扫描在职干部档案卷数", lexical_similarity)
        == 1
    )
    assert name_score("市民满意度", "满意度", lexical_similarity) >= 0.8


# --------------------------------------------------------------------------- seed variants


def test_seed_2025_lowered_raised_dropped(seed_parsed):
    changes = {
        616: "2000卷",  # 2700卷 → 2000卷: lowered
        834: "≥85%",  # ≥95% → ≥85%: looser
        623: "≥60人",  # ≥40人 → ≥60人: raised, never flagged
        739: "≥150天",  # lowered
    }
    drop = {642, 826}
    cur = next_year(seed_parsed, changes, drop)
    fs = run(cur, prior_of(seed_parsed))
    low = of(fs, "target-lowered")
    assert sorted(f.line for f in low) == [616, 739, 834]
    f = next(f for f in low if f.line == 834)
    assert f.values["prev_target"] == "≥95%" and f.values["prev_line"] == "834"
    assert f.values["prev_year"] == "2024"
    assert "≥85%" in f.message_zh and "≥95%" in f.message_zh and "第834行" in f.message_zh
    assert all(f.line != 623 for f in fs)  # the raised target
    dropped = of(fs, "indicator-dropped")
    assert sorted(int(f.values["prev_line"]) for f in dropped) == sorted(drop)
    d = next(f for f in dropped if f.values["prev_line"] == "642")
    assert d.item_name == "举办机关群团活动" and d.line == seed_parsed.table.source.line
    assert "2024年" in d.message_zh and ":642" in d.message_zh


def test_seed_copied_unchanged(seed_parsed):
    same = next_year(seed_parsed, {})
    (f,) = of(run(same, prior_of(seed_parsed)), "copied-unchanged")
    assert f.values["share"] == "100%" and f.values["identical"] == str(len(same.indicators))
    assert not of(run(same, prior_of(seed_parsed)), "target-lowered")
    # a table with most targets rewritten is not a copy
    rewritten = {
        i.source.line: f"{i.target}（2025年）"
        for i in seed_parsed.indicators[: 2 * len(seed_parsed.indicators) // 3]
    }
    assert not of(run(next_year(seed_parsed, rewritten), prior_of(seed_parsed)), "copied-unchanged")


def test_seed_target_below_last_years_actual(seed_parsed):
    last = seed_parsed.model_copy(deep=True)
    last.table.self_evaluation = True
    for ind in last.indicators:
        if ind.source.line == 616:
            ind.actual = "3100卷"  # achieved more than the 2,700 planned
        if ind.source.line == 623:
            ind.actual = "52人"
    cur = next_year(seed_parsed, {623: "≥55人"})  # above last year's actual: fine
    fs = run(cur, prior_of(last), rule="target-below-actual")
    assert [(f.line, f.values["prev_actual"]) for f in fs] == [(616, "3100卷")]


def test_earlier_years_only_and_same_department(seed_parsed):
    same = next_year(seed_parsed, {616: "2000卷"})
    later = prior_of(next_year(seed_parsed, {}))
    assert compare(seed_parsed, [later], lexical_similarity).status == "no-earlier"
    other = prior_of(seed_parsed)
    other = PriorTable(**{**other.__dict__, "department": "深圳市福田区民政局"})
    assert compare(same, [other], lexical_similarity).status == "no-earlier"
    assert not run(same, other)


# --------------------------------------------------------------------------- real series


def test_xiangtan_2024_against_a_folder_of_2023(tmp_path):
    earlier = tmp_path / "2023"
    earlier.mkdir()
    shutil.copy(XT_2023, earlier)
    rep = review_files([XT_2024], earlier, scorer=False, compare_batch=False)
    (c,) = rep.comparisons
    assert c.status == "compared" and c.prior_year == 2023 and c.matched == 7
    assert c.dropped == 0 and c.identical == 1
    assert rep.against is not None and rep.against.years == [2023] and rep.against.tables == 1
    # 10辆→10, ≥80M→80M, ≥85%→85%, ≥90%→90%: unchanged; 2023.07-2024.01 → 180: not comparable
    assert not [f for f in rep.findings if f.section == "history"]


def _edit_csv(src: Path, dst: Path, edit) -> Path:
    with src.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = [r for r in (edit(r) for r in rows) if r is not None]
    with dst.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return dst


def test_xiangtan_2024_variant_lowered_and_dropped(tmp_path):
    def edit(r):
        if len(r) > 20 and r[19] == "雾炮车风炮射程":
            return None  # dropped
        if len(r) > 20 and r[19].startswith("服务周期内,市民"):
            r[20] = "75%"  # ≥85% → 75%: lowered
        if len(r) > 20 and r[19] == "满意度":
            r[20] = "95%"  # ≥90% → 95%: raised
        return r

    cur = _edit_csv(XT_2024, tmp_path / "xt2024.csv", edit)
    rep = review_files([XT_2023, cur], scorer=False)  # the batch compares 2024 with 2023
    hist = [f for f in rep.findings if f.section == "history"]
    (low,) = of(hist, "target-lowered")
    assert (
        low.line == 141 and low.values["prev_line"] == "80" and low.values["prev_target"] == "≥85%"
    )
    assert low.input_file == str(cur)
    (drop,) = of(hist, "indicator-dropped")
    assert drop.item_name == "雾炮车风炮射程" and drop.values["prev_line"] == "49"
    assert "hunan_xiangtan_sanitation_2024_fog_cannon_project_target.txt:3" in drop.message_zh
    summary = {t.file: t for t in rep.tables}
    assert summary[str(cur)].cross_year == 2 and summary[str(XT_2023)].cross_year == 0


def test_xiangtan_against_a_store(tmp_path):
    from kg.build import build

    build([XT_2023], tmp_path / "data" / "store", shacl=False)
    cur = _edit_csv(
        XT_2024,
        tmp_path / "xt2024.csv",
        lambda r: [*r[:20], "8", *r[21:]] if len(r) > 20 and r[19].endswith("配备车辆数") else r,
    )
    rep = review_files([cur], tmp_path / "data", scorer=False)
    (low,) = of(rep.findings, "target-lowered")
    assert low.values["prev_target"] == "10辆" and low.values["prev_line"] == "44"
    assert rep.against is not None and rep.against.years == [2023]


def test_daying_2022_is_another_project_than_2020():
    rep = review_files([DY_2020, DY_2022], scorer=False)
    c = next(c for c in rep.comparisons if c.fiscal_year == 2022)
    assert c.status == "other-project" and c.prior_year == 2020 and c.earlier_tables == 1
    assert not [f for f in rep.findings if f.section == "history"]
    assert rep.against is not None and rep.against.departments == 1


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_report_states_what_it_compared_with(fmt):
    from apps.review.render import render

    rep = review_files([XT_2023, XT_2024], scorer=False)
    out = render(rep, fmt)
    assert "与以前年度比较" in out and "2张表" in out and "2023" in out
    assert "对应指标7项" in out


@pytest.mark.slow  # a folder review; the rules are tested on the seed above
def test_seed_2025_as_a_file_against_a_folder_with_the_seed(seed_path, seed_parsed, tmp_path):
    """The whole path: the 2025 variant written as a template CSV, reviewed by the CLI against
    a folder holding the 2024 seed text."""
    import json

    from typer.testing import CliRunner

    from ikg.cli import app
    from kg.writers import write_csv

    earlier = tmp_path / "2024"
    earlier.mkdir()
    shutil.copy(seed_path, earlier)
    cur = next_year(seed_parsed, {616: "2000卷", 834: "≥85%", 623: "≥60人"}, {642})
    path = tmp_path / "seed_2025.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        write_csv(cur, fh)
    res = CliRunner().invoke(
        app, ["review", str(path), "--against", str(earlier), "--format", "json"]
    )
    assert res.exit_code in (0, 1), res.output
    rep = json.loads(res.stdout)
    got = {(f["rule"], f["line"]) for f in rep["findings"] if f["section"] == "history"}
    assert ("target-lowered", 616) in got and ("target-lowered", 834) in got
    assert ("target-lowered", 623) not in got
    assert [
        f["values"]["prev_line"] for f in rep["findings"] if f["rule"] == "indicator-dropped"
    ] == ["642"]
    assert rep["against"]["years"] == [2024] and rep["comparisons"][0]["status"] == "compared"
