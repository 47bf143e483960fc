"""Benchmarks of the foundation: parse, build, load and query, with figures printed.

    python benchmarks/run.py                 # seed figures + 10k and 100k synthetic indicators
    python benchmarks/run.py --sizes 10000   # smaller
    python benchmarks/run.py --json out.json # also write the figures

Synthetic data: copies of the real seed table (166 indicators each) under other
department names and years, mapped with the project's own code, so the
triples have the real shapes. Each store is measured in a fresh subprocess so
its memory (resident set growth) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "demo" / "000_3b89ef93caa61199.txt"
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def readme_queries() -> dict[str, str]:
    from kg.examples import example_queries

    return {q.id: q.sparql for q in example_queries()}


def synthetic_tables(n_indicators: int):
    """Yield (table URI, table graph, organisations graph) until n indicators."""
    from kg import mapping
    from kg.readers import seed_text

    seed = seed_text.read(SEED)
    per = len(seed.indicators)
    copies = max(1, -(-n_indicators // per))
    for k in range(copies):
        t = seed.model_copy(deep=True)
        t.table.department = f"合成部门{k:05d}"
        t.table.fiscal_year = 2020 + k % 6
        keep = min(per, n_indicators - k * per)
        t.indicators = t.indicators[:keep]
        yield mapping.table_uri(t), mapping.to_graph(t), mapping.organisations_graph(t)


class _Budget(Exception):
    pass


def _alarm(signum, frame):
    raise _Budget


def _time(fn, repeat: int = 3, budget_s: int = 0) -> list[float]:
    """Run fn `repeat` times; with a budget, stop at the first run over it (None)."""
    import signal

    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        if budget_s:
            signal.signal(signal.SIGALRM, _alarm)
            signal.alarm(budget_s)
        try:
            fn()
        except _Budget:
            return [float("nan")]
        finally:
            if budget_s:
                signal.alarm(0)
        elapsed = time.perf_counter() - t0
        out.append(elapsed)
        if elapsed > 5:  # slow: one run says enough
            break
    return out


#: a query still running after this many seconds is stopped and reported as such
QUERY_BUDGET_S = 120


def one(kind: str, n: int) -> dict:
    """Load n synthetic indicators into one store kind, then time the README queries."""
    from rdflib import Dataset

    from kg.namespaces import ORGANISATIONS_GRAPH, PREFIXES, sparql_prefixes
    from kg.store import GraphStore

    queries = readme_queries()
    base = rss_mb()
    t0 = time.perf_counter()
    triples = 0
    if kind == "pyoxigraph":
        tmp = tempfile.mkdtemp(prefix="ikg-bench-")
        store = GraphStore(Path(tmp) / "store")
        store.load_ontology()
        for uri, g, orgs in synthetic_tables(n):
            store.bulk_add(uri, g)
            store.bulk_add(ORGANISATIONS_GRAPH, orgs)
            triples += len(g) + len(orgs)
        store.flush()
        store.optimize()

        def run(q: str) -> int:
            return len(list(store.query(q)))
    else:
        import ontology

        ds = Dataset(default_union=True)
        for p, ns in PREFIXES.items():
            ds.bind(p, ns)
        onto = ds.graph(ds.namespace_manager.expand_curie("data:graph/ontology"))
        for name in ("indicators.ttl", "categories.ttl"):
            onto.parse(ontology.path(name), format="turtle")
        shared = ds.graph(ORGANISATIONS_GRAPH)
        for uri, g, orgs in synthetic_tables(n):
            target = ds.graph(uri)
            for tr in g:
                target.add(tr)
            for tr in orgs:
                shared.add(tr)
            triples += len(g) + len(orgs)
        prefixes = sparql_prefixes()

        def run(q: str) -> int:
            return len(list(ds.query(prefixes + q)))

    load_s = time.perf_counter() - t0
    mem = rss_mb() - base
    timings = {}
    answers = {}
    for qid, q in queries.items():
        ts = _time(
            lambda q=q, qid=qid: answers.__setitem__(qid, run(q)), repeat=3, budget_s=QUERY_BUDGET_S
        )
        timings[qid] = statistics.median(ts)
        answers.setdefault(qid, None)
    return {
        "kind": kind,
        "indicators": n,
        "triples": triples,
        "load_s": load_s,
        "rss_mb": mem,
        "query_s": timings,
        "rows": answers,
    }


def seed_figures() -> dict:
    from kg.build import build, prepare
    from kg.readers import seed_text

    parse = _time(lambda: seed_text.read(SEED), repeat=20)
    prep = _time(lambda: prepare(SEED), repeat=5)
    with tempfile.TemporaryDirectory() as tmp:
        full = _time(lambda: build([SEED], Path(tmp) / "store"), repeat=3)
    return {
        "parse_ms": 1000 * statistics.median(parse),
        "map_validate_ms": 1000 * statistics.median(prep),
        "build_ms": 1000 * statistics.median(full),
    }


def print_store_rows(ox: dict, rl: dict) -> None:
    """One size: load figures, then each README query on both stores with the ratio."""
    print(f"\n{ox['indicators']:,} indicators, {ox['triples']:,} triples")
    print(
        f"  load:   pyoxigraph {ox['load_s']:.1f} s, {ox['rss_mb']:.0f} MB RSS growth | "
        f"rdflib {rl['load_s']:.1f} s, {rl['rss_mb']:.0f} MB"
    )
    print(f"  {'query':6} {'pyoxigraph':>12} {'rdflib':>12} {'ratio':>8} rows")
    for qid in ox["query_s"]:
        a, b = ox["query_s"][qid], rl["query_s"][qid]
        if b != b:  # NaN: rdflib was stopped at the budget
            print(
                f"  {qid:6} {a * 1000:10.1f}ms {'>' + str(QUERY_BUDGET_S) + ' s':>12} "
                f"{'>' + format(QUERY_BUDGET_S / a, '.0f') + '×':>8} {ox['rows'][qid]} (rdflib stopped)"
            )
            continue
        same = (
            "same"
            if ox["rows"][qid] == rl["rows"][qid]
            else f"DIFFER {ox['rows'][qid]}≠{rl['rows'][qid]}"
        )
        print(
            f"  {qid:6} {a * 1000:10.1f}ms {b * 1000:10.1f}ms {b / a:7.1f}× {ox['rows'][qid]} ({same})"
        )


def print_figures(figures: dict) -> None:
    s = figures["seed"]
    print(
        f"seed table (166 indicators): parse {s['parse_ms']:.1f} ms, read+map+SHACL {s['map_validate_ms']:.0f} ms, "
        f"full build into a new store {s['build_ms']:.0f} ms (medians)"
    )
    by_size: dict[int, dict] = {}
    for row in figures["stores"]:
        by_size.setdefault(row["indicators"], {})[row["kind"]] = row
    for n in sorted(by_size):
        print_store_rows(by_size[n]["pyoxigraph"], by_size[n]["rdflib"])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated indicator counts")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--show", type=Path, help="print the figures saved in this JSON file, run nothing"
    )
    ap.add_argument("--_one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._one:
        print(json.dumps(one(args._one[0], int(args._one[1]))))
        return
    if args.show:
        print_figures(json.loads(args.show.read_text(encoding="utf-8")))
        return
    figures: dict = {"seed": seed_figures(), "stores": []}
    for n in [int(x) for x in args.sizes.split(",") if x]:
        for kind in ("pyoxigraph", "rdflib"):
            proc = subprocess.run(
                [sys.executable, __file__, "--_one", kind, str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            figures["stores"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print_figures(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
