"""The benchmarks still run: the scale package's generator and the review-speed benchmark."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # 3 s on a quiet machine, 15 s on a busy one: every demo table is mapped
def test_scale_generator_makes_the_asked_number_of_indicators(tmp_path):
    import pyoxigraph as ox

    from benchmarks.scale.data import generate
    from kg.namespaces import IKG

    n = 250  # not a sum of whole tables: the last one is cut
    out = tmp_path / "n.nq"
    info = generate(n, out)
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    indicator = ox.NamedNode(str(IKG.Indicator))
    subjects = {
        q.subject
        for q in ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)
        if q.predicate == rdf_type and q.object == indicator
    }
    assert info["indicators"] == n
    assert len(subjects) == n
    assert info["tables"] > 1


@pytest.mark.slow  # every demo table is mapped once
def test_search_speed_store_is_the_tables_it_names(tmp_path):
    """benchmarks/search_speed writes its store from the templates' N-Quads: the store holds the
    indicators the parsed copies (synthetic_tables) hold, with the same names."""
    from collections import Counter

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import search_speed

    from benchmarks.scale.data import template_tables
    from embeddings.corpus import load_indicators
    from kg.store import GraphStore

    sizes = [len(p.indicators) for p in template_tables()]
    n = sum(sizes) + sizes[0] + sizes[1]  # the real tables, then two renamed copies
    out = tmp_path / "s.nq"
    info = search_speed.synthetic_nquads(n, out)
    with GraphStore(tmp_path / "store") as store:
        store.ox.bulk_load(path=str(out), format=search_speed_format())
        items = load_indicators(store)
    expected = [i for p in search_speed.synthetic_tables(n) for i in p.indicators]
    assert info["indicators"] == len(items) == len(expected) == n
    assert Counter(it.name for it in items) == Counter(
        i.name_simplified or i.name for i in expected
    )
    assert len({it.name for it in items}) > len({i.name for i in expected[: sum(sizes)]})


def search_speed_format():  # type: ignore[no-untyped-def]
    import pyoxigraph as ox

    return ox.RdfFormat.N_QUADS


def _run_benchmark(script: str, args: list[str], out: Path) -> subprocess.CompletedProcess:
    """``python benchmarks/SCRIPT ARGS --json OUT`` as a user runs it; it must succeed."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_review_speed_runs_end_to_end(tmp_path):
    from kg.readers import read_tables

    out = tmp_path / "figures.json"
    proc = _run_benchmark(
        "review_speed.py",
        ["--tables", "3", "--store-size", "300", "--data-dir", str(tmp_path / "data")],
        out,
    )
    m = re.search(r"time per table: mean ([\d,.]+) ms", proc.stdout)
    assert m, proc.stdout
    assert float(m.group(1).replace(",", "")) > 0
    fig = json.loads(out.read_text(encoding="utf-8"))
    tables = sorted((tmp_path / "data" / "tables-3").iterdir())
    parsed = [t for f in tables for t in read_tables(f)[1]]
    # copies under the store's round-0 departments, the year after their tables in the store
    assert all(t.table.department.startswith("合成00000") for t in parsed)
    assert {t.table.fiscal_year for t in parsed} == {2021}
    assert fig["files"] == 3
    assert fig["indicators"] == sum(len(t.indicators) for t in parsed)
    assert fig["store"]["indicators"] == 300
    assert fig["per_table_mean_s"] > 0 and fig["peak_rss_mb"] > 0
    assert fig["findings"] == sum(fig["by_severity"].values()) > 0
    assert fig["against"]["sources"][0].endswith("store-300")


@pytest.mark.slow  # builds eight tables three times (index and links included)
def test_ingest_runs_end_to_end_and_rebuilds_only_what_changed(tmp_path):
    from kg.readers import read_tables

    out = tmp_path / "figures.json"
    proc = _run_benchmark(
        "ingest.py",
        ["--sizes", "8", "--sample", "4", "--no-acceptance", "--work", str(tmp_path / "work")],
        out,
    )
    size = json.loads(out.read_text(encoding="utf-8"))["sizes"]["8"]
    files = sorted((tmp_path / "work" / "tables-8").glob("*.csv"))
    parsed = [t for f in files for t in read_tables(f)[1]]
    assert len(files) == 8 and size["full"]["read"] == len(parsed)
    assert size["full"]["indicators"] == sum(len(t.indicators) for t in parsed)
    assert size["stages_one_process"]["tables"] == 4
    for key in ("rebuild_one", "rebuild"):  # one table changed each time: only it is read
        again = size[key]
        assert again["changed_tables"] == 1 and again["read"] == 1
        assert again["unchanged"] == len(parsed) - 1
        assert again["share_of_full"] > 0
    revised = [i.name for t in parsed for i in t.indicators if i.name.endswith("（修订）")]
    assert len(revised) == 2  # the two changes, in the tables as they are now
    assert "rebuild after 1 table(s) changed" in proc.stdout


def test_search_split_times_a_search_and_each_of_its_parts(demo_data):
    """benchmarks/search_split opens the index as a server does and times the whole search and
    its parts, for a cached query and for unseen ones (on data/demo: every indicator scored)."""
    from benchmarks.search_split import PARTS, split
    from kg.settings import Settings

    fig = split(demo_data, Settings().embedding_model, runs=5)
    assert fig["indicators"] > 100 and fig["pool"] == min(200, fig["indicators"])
    assert fig["beside"] is True  # opened as a server opens it (api_search_beside)
    for kind in ("cached", "unseen"):
        times = fig[kind]
        assert all(times[p] > 0 for p in PARTS), times
        parts = times["encode"] + times["lexical"] + times["faiss_pool"]
        assert times["rest"] == round(times["search"] - parts, 3)
    # an unseen query is encoded by the model; a cached one is a look-up in the server's LRU
    assert fig["unseen"]["encode"] > fig["cached"]["encode"]
