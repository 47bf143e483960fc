"""Indicator libraries: read, mapped as SKOS concepts in their own graphs, linked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.library import LIBRARY_LINKS_GRAPH, lexical_score, link_library
from kg import categories
from kg.build import build, expand_sources, is_library
from kg.readers import library
from kg.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]
LIBS = ROOT.parent / "shared" / "corpus" / "libraries"
DEMO_LIBS = ROOT / "data" / "demo" / "libraries"
SEED = ROOT / "data" / "demo" / "000_3b89ef93caa61199.txt"

#: file stem → (entries read, warnings, lines of the warnings), counted by hand in the
#: source: 29 numbered entries (+ the date line and the page footer); 156 names in the
#: dictionary's 11 records; 36 names under 4 project types (+ 5 lines of ……); 10 gx rows.
EXPECTED = {
    "basic_public_health_service_2023_indicator_list": (29, 2, [3, 33]),
    "cams_innovation_project_generic_indicator_dictionary": (156, 0, []),
    "common_indicator_library_example_by_project_type": (36, 5, [82, 84, 85, 87, 88]),
    "generic_common_indicators_gx_codes_sample": (10, 0, []),
}


def _cat(label: str, level: int) -> str:
    cat = categories.resolve(label, level, "legacy")
    assert cat is not None
    return str(cat.concept)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_each_library_reads_and_its_demo_csv_is_the_same(stem: str) -> None:
    src = LIBS / f"{stem}.txt"
    assert library.sniff(src) and is_library(src)
    lib = library.read(src)
    n, w, lines = EXPECTED[stem]
    assert (len(lib.indicators), len(lib.warnings)) == (n, w)
    assert [x.source.line for x in lib.warnings] == lines
    assert all(i.source.file == str(src) for i in lib.indicators)
    demo = library.read(DEMO_LIBS / f"{stem}.csv")
    assert [i.model_dump(exclude={"source"}) for i in demo.indicators] == [
        i.model_dump(exclude={"source"}) for i in lib.indicators
    ]
    assert [(i.source.file, i.source.line) for i in demo.indicators] == [
        (f"../shared/corpus/libraries/{stem}.txt", i.source.line) for i in lib.indicators
    ]


def test_library_entries_as_printed() -> None:
    gx = library.read(LIBS / "generic_common_indicators_gx_codes_sample.txt").indicators
    first = gx[0]
    assert (first.code, first.level1, first.level2, first.name, first.definition) == (
        "gx010101",
        "产出指标",
        "数量指标",
        "培训班次（会议次数）",
        "反映组织会议培训数量情况。",
    )
    assert first.source.line == 3
    health = library.read(LIBS / "basic_public_health_service_2023_indicator_list.txt")
    by_name = {i.name: i for i in health.indicators}
    # brackets inside a name stay; a note in brackets at the end goes to note with the target
    assert by_name["以乡镇(街道)为单位适龄儿童国家免疫规划疫苗接种率"].note == "≥90%"
    assert by_name["社区在册居家严重精神障碍患者健康管理率"].note == "≥95%；2022:90%"
    assert by_name["高血压患者管理人数"].note == "142万人"
    typed = library.read(LIBS / "common_indicator_library_example_by_project_type.txt")
    first = typed.indicators[0]
    # pinyin glosses removed, traditional kept as printed and simplified beside it
    assert first.name == "購置**數量(臺/件/輛/套)"
    assert first.name_simplified == "购置**数量(台/件/辆/套)"
    assert (first.project_type, first.level1, first.level2, first.unit) == (
        "购置类项目",
        "产出指标",
        "数量指标",
        "台/件/辆/套",
    )
    cost = [i for i in typed.indicators if i.level2 == "成本指标"]
    assert [i.name_simplified or i.name for i in cost][:3] == [
        "单位购置成本(元/台、件、辆、套)",
        "政府采购率(%)",
        "政府采购节支率(%)",
    ]
    wrapped = [i for i in typed.indicators if i.project_type == "文字性成果编纂类项目"]
    # the heading printed over two lines (…類項 / 目); 4 数量, 1 质量, 2 时效, 2 社会效益,
    # 1 可持续影响, 1 满意度 under it (lines 66-81)
    assert len(wrapped) == 11


def test_a_table_is_not_a_library() -> None:
    assert not library.sniff(SEED)
    for p in (ROOT / "data" / "demo" / "corpus").glob("*.csv"):
        assert not library.sniff(p)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("lib")
    extra = tmp / "budget_library.txt"  # a common indicator no shared list has
    extra.write_text(
        "# source: test\n# columns: 指标编码 | 一级指标 | 二级指标 | 三级指标 | 指标解释\n"
        "gx990101 | 产出指标 | 时效指标 | 预算执行率 | 反映预算执行进度。\n"
        "gx990102 | 产出指标 | 数量指标 | 培训完成率 | 反映培训完成情况。\n",
        encoding="utf-8",
    )
    path = tmp / "store"
    files = expand_sources([DEMO_LIBS, SEED, extra])
    report = build(files, path)
    assert len(report.libraries) == 5 and len(report.tables) == 1
    link_library(path, tmp, None, method="lexical")
    return path


def test_library_concepts_in_their_graphs_with_categories(store: Path) -> None:
    with GraphStore(store, read_only=True) as s:
        _, rows = s.select(
            "SELECT ?g (COUNT(?c) AS ?n) WHERE { GRAPH ?g { ?c a ikg:LibraryIndicator ; "
            "skos:inScheme ?scheme . ?scheme a ikg:IndicatorLibrary } } GROUP BY ?g"
        )
        counts = {str(g).rsplit("/", 1)[1]: int(n.toPython()) for g, n in rows}
        assert counts == {
            **{stem: n for stem, (n, _, _) in EXPECTED.items()},
            "budget_library": 2,
        }
        _, rows = s.select(
            "SELECT ?l1 ?l2 ?f ?line WHERE { ?c skos:notation 'gx010901' ; "
            "ikg:libraryLevel1 ?l1 ; ikg:libraryLevel2 ?l2 ; ikg:sourceFile ?f ; "
            "ikg:sourceLine ?line }"
        )
        assert [[str(x) for x in r] for r in rows] == [
            [
                str(categories.resolve("服务对象满意度指标", 2, "legacy").broader),  # type: ignore[union-attr]
                _cat("服务对象满意度指标", 2),
                "../shared/corpus/libraries/generic_common_indicators_gx_codes_sample.txt",
                "10",
            ]
        ]
        # 效果指标 (not a label of the scheme) takes the level 1 of its level 2
        _, rows = s.select(
            "SELECT ?l1 WHERE { ?c ikg:libraryLevel1Label '效果指标' ; "
            "ikg:libraryLevel2Label '社会效益指标' ; ikg:libraryLevel1 ?l1 }"
        )
        assert {str(r[0]) for r in rows} == {_cat("效益指标", 1)}


def test_budget_execution_rate_links_and_a_readme_query_lists_it(store: Path) -> None:
    query = """
    SELECT ?name ?score ?method WHERE {
      ?c a ikg:LibraryIndicator ; skos:prefLabel "预算执行率" .
      ?i ikg:matchesLibraryIndicator ?c ; ikg:name ?name .
      ?m ikg:matchIndicator ?i ; ikg:matchLibraryIndicator ?c ;
         ikg:matchScore ?score ; ikg:matchMethod ?method .
    }"""
    with GraphStore(store, read_only=True) as s:
        _, rows = s.select(query)
        assert [(str(n), float(sc.toPython()), str(m)) for n, sc, m in rows] == [
            ("预算执行率", 1.0, "lexical")
        ]
        _, rows = s.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{LIBRARY_LINKS_GRAPH}> "
            "{ ?i ikg:matchesLibraryIndicator ?c } }"
        )
        assert int(rows[0][0].toPython()) > 1


def test_lexical_score() -> None:
    assert lexical_score("预算执行率", "预算执行率") == 1.0
    assert lexical_score("受训学员满意度", "受訓學員滿意度(%)") == 1.0  # traditional, unit
    assert lexical_score("培训完成率", "举办人才日活动") == 0.0


def test_ikg_stats_counts_the_libraries(store: Path) -> None:
    from typer.testing import CliRunner

    from ikg.cli import app

    result = CliRunner().invoke(app, ["stats", "--json", "--data-dir", str(store.parent)])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["libraries"] == 5
    assert stats["library_indicators"] == sum(n for n, _, _ in EXPECTED.values()) + 2
    with GraphStore(store, read_only=True) as s:
        _, rows = s.select("SELECT (COUNT(*) AS ?n) WHERE { ?i ikg:matchesLibraryIndicator ?c }")
    assert stats["indicators_linked_to_library"] >= 1
    assert stats["indicators_linked_to_library"] <= int(rows[0][0].toPython())
