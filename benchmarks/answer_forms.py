"""Where the time of a many-row README query goes, and whether the form of the answer changes
the pyoxigraph / rdflib ratio. A companion to the scale benchmark (``python -m
benchmarks.scale``) for its four slowest ratios.

    python benchmarks/answer_forms.py FILE.nq [--queries Q2,Q5,Q10,Q12] [--runs 3]
                                      [--json benchmarks/results/answer_forms.json]

FILE.nq: N-Quads as the scale benchmark writes them (``--work DIR --keep`` leaves
``DIR/n{N}.nq``). Each engine runs in its own process, loaded from the same file: pyoxigraph's
in-memory store (bulk-loaded, as ``python -m benchmarks.scale --memory-from nquads``) and
rdflib's in-memory ``Graph`` (``rdflib_graph`` in benchmarks/scale/engines.py). For every
query, p50 of ``--runs`` runs of:

* ``eval`` (pyoxigraph only): the solutions iterated, no value read: the engine's own work;
* ``rows``: every row read as the engine's terms (the scale benchmark's measure);
* ``json``: the answer serialised as SPARQL JSON results, what ``/sparql`` sends (pyoxigraph's
  serialiser in Rust, rdflib's in Python).

Then, on pyoxigraph, Q2 built up one step at a time (the qualitative targets alone, then the
indicator holding each, its properties, the department path, the ORDER BY), so the cost of
each step shows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Q2 (README) one step at a time; each adds patterns to the one before
Q2_STEPS = {
    "typed targets": """SELECT ?t WHERE {
  VALUES ?form { ikg:QualitativeTarget ikg:UnrecognizedTarget } ?t a ?form }""",
    "+ the indicator": """SELECT ?i ?t WHERE {
  VALUES ?form { ikg:QualitativeTarget ikg:UnrecognizedTarget } ?t a ?form . ?i ikg:target ?t }""",
    "+ 4 properties": """SELECT ?indicator ?target ?file ?line WHERE {
  VALUES ?form { ikg:QualitativeTarget ikg:UnrecognizedTarget }
  ?t a ?form ; ikg:rawText ?target .
  ?i ikg:target ?t ; ikg:name ?indicator ; ikg:sourceFile ?file ; ikg:sourceLine ?line . }""",
    "+ department path": """SELECT ?department ?indicator ?target ?file ?line WHERE {
  VALUES ?form { ikg:QualitativeTarget ikg:UnrecognizedTarget }
  ?t a ?form ; ikg:rawText ?target .
  ?i ikg:target ?t ; ikg:name ?indicator ; ikg:inTable/ikg:department/ikg:name ?department ;
     ikg:sourceFile ?file ; ikg:sourceLine ?line . }""",
}


def p50(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 4)


def worker(engine: str, nq: str, qids: list[str], runs: int) -> None:
    from scale import engines as scale  # benchmarks/scale/, the scale benchmark

    from kg.examples import example_queries
    from kg.namespaces import sparql_prefixes

    emit = lambda **kw: print(json.dumps(kw, ensure_ascii=False), flush=True)  # noqa: E731
    queries = {q.id: q.sparql for q in example_queries() if q.id in qids}
    t0 = time.perf_counter()
    forms: dict = {}
    if engine == "pyoxigraph":
        import pyoxigraph as ox

        store = scale.memory_store_from_nquads(Path(nq))

        def evaluate(q: str) -> None:
            for _ in store.query(q):
                pass

        forms["eval"] = evaluate
        forms["rows"] = lambda q: scale.ox_rows(store, q)
        forms["json"] = lambda q: store.query(q).serialize(format=ox.QueryResultsFormat.JSON)
    else:
        g = scale.rdflib_graph(Path(nq))
        prefixes = sparql_prefixes()
        forms["rows"] = lambda q: scale.rdflib_rows(g, prefixes + q)
        forms["json"] = lambda q: g.query(prefixes + q).serialize(format="json")
    emit(engine=engine, ready_s=round(time.perf_counter() - t0, 1))
    for qid, q in queries.items():
        for form, fn in forms.items():
            emit(engine=engine, query=qid, form=form, p50_s=p50(lambda: fn(q), runs))  # noqa: B023
    if engine == "pyoxigraph":
        for step, q in Q2_STEPS.items():
            emit(engine=engine, q2_step=step, p50_s=p50(lambda: forms["eval"](q), runs))  # noqa: B023


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("nquads", type=Path, help="N-Quads file (the scale benchmark's n{N}.nq)")
    ap.add_argument("--queries", default="Q2,Q5,Q10,Q12", help="README query ids")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--_worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    qids = [q.strip() for q in args.queries.split(",") if q.strip()]
    if args._worker:
        worker(args._worker[0], args._worker[1], qids, args.runs)
        return
    if not args.nquads.is_file():
        sys.exit(
            f"{args.nquads}: no such N-Quads file (make one with python -m benchmarks.scale --keep)"
        )
    fig: dict = {"nquads": str(args.nquads), "runs": args.runs, "engines": {}}
    for engine in ("pyoxigraph", "rdflib"):
        print(f"{engine}: loading {args.nquads} ...", file=sys.stderr, flush=True)
        out = subprocess.run(
            [
                *(sys.executable, __file__, str(args.nquads), "--queries", args.queries),
                *("--runs", str(args.runs), "--_worker", engine, str(args.nquads)),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        fig["engines"][engine] = [json.loads(line) for line in out.splitlines() if line]
    t = {
        (m["engine"], m["query"], m["form"]): m["p50_s"]
        for ms in fig["engines"].values()
        for m in ms
        if "query" in m
    }
    print(f"{'query':6}{'form':6}{'pyoxigraph s':>14}{'rdflib s':>10}{'ratio':>8}")
    for q in qids:
        for form in ("eval", "rows", "json"):
            ox_s = t.get(("pyoxigraph", q, form))
            rd = t.get(("rdflib", q, "rows" if form == "eval" else form))
            if ox_s is None or rd is None:
                continue
            print(f"{q:6}{form:6}{ox_s:14.3f}{rd:10.3f}{rd / ox_s:7.1f}×")
    print("Q2 on pyoxigraph, one step at a time (eval):")
    for m in fig["engines"]["pyoxigraph"]:
        if "q2_step" in m:
            print(f"  {m['q2_step']:20}{m['p50_s']:8.3f} s")
    if args.json:
        args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"written {args.json}")


if __name__ == "__main__":
    main()
