"""Leave-one-table-out evaluation of the indicator suggestions.

    python benchmarks/suggest_eval.py [--data-dir DIR] [--k 10] [--json benchmarks/results/suggest_eval.json]

The demo data (data/demo: the seed and the corpus tables) is built into DIR (a temporary
folder by default) with the default, offline embedding model. Then, for every table that has
both tasks and indicators:

* its indicators are **hidden at query time**: ``suggest(..., exclude_tables={table})`` drops
  them from the candidate pool, from the name groups (a group whose only members are hidden
  disappears), from the typical targets and from the evidence; the index itself is not rebuilt
  (the vectors of the other indicators do not depend on the hidden ones; the TF-IDF weights do,
  slightly: documented in docs/suggest.md);
* each of its tasks (name + 主要内容; a project table, which has no task rows, sends its
  project name with the table title as content) is sent to ``suggest`` for at most ``k``
  suggestions (completeness fillers included; none below the relevance floors, so a task with
  few relevant peers gets fewer);
* a real indicator of the table counts as **recalled** when one of the suggestion's peer rows
  (its evidence) scores at the duplicate band of the embedding scorer against it
  (``IndicatorIndex.pairs``, the scorer of ``ikg duplicates``).

Figures: recall@k per task (the share of the table's indicators one task's suggestions
recall — the graph does not say which indicator measures which task, so a table with many
tasks has a low per-task ceiling), per table (the union over its tasks), micro over all
indicators; the share of recalled indicators whose suggestion had the right level-2 category
(cost categories of the two layouts count as one); the share of all suggestions whose
category is one of the framework's (always 1 by construction; checked, not assumed); and the
latency of one ``suggest`` call after warm-up (p50/p95, every seed task and every table task).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASKS = """
SELECT ?table ?name ?content ?line WHERE {
  ?k a ikg:Task ; ikg:name ?name ; ikg:inTable ?table ; ikg:sourceLine ?line .
  OPTIONAL { ?k ikg:content ?content }
} ORDER BY ?table ?line
"""
#: a project table has no task rows: its project name (and title) stand for the task
PROJECTS = """
SELECT ?table ?project ?title WHERE {
  ?table a ikg:TargetTable ; dcterms:title ?title .
  OPTIONAL { ?table ikg:projectName ?project }
}
"""


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse or build the demo here")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "suggest_eval.json"
    )
    args = ap.parse_args(argv)

    from apps.suggest import engine_for
    from apps.suggest.engine import _slot_of
    from embeddings.index import index_for_store
    from kg.build import build
    from kg.store import GraphStore

    tmp = None
    data = args.data_dir
    if data is None:
        tmp = tempfile.TemporaryDirectory(prefix="ikg-suggest-eval-")
        data = Path(tmp.name)
    if not (data / "store" / "CURRENT").is_file():
        print(f"building data/demo into {data} …", file=sys.stderr)
        build([ROOT / "data" / "demo"], data / "store")
    index_for_store(data / "store", data, None, write_links=False)
    eng = engine_for(data)
    index, items = eng.index, eng.index.items
    with GraphStore(data / "store", read_only=True) as store:
        _, rows = store.select(TASKS)
        _, projects = store.select(PROJECTS)
    tasks: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, name, content, _line in rows:
        tasks[str(table)].append((str(name), str(content or "")))
    for table, project, title in projects:
        if str(table) not in tasks and project is not None:
            tasks[str(table)].append((str(project), str(title)))
    rows_of: dict[str, list[int]] = defaultdict(list)
    for r, it in enumerate(items):
        rows_of[it.table].append(r)

    def slot(r: int) -> str | None:
        c = eng.cat[r]
        return _slot_of(c.key) if c else None

    per_task: list[dict] = []
    per_table: list[dict] = []
    matched_total = right_cat = 0
    n_suggestions = in_framework = 0
    for table in sorted(rows_of):
        real = rows_of[table]
        if not tasks.get(table):
            continue
        hidden = frozenset({table})
        union: set[int] = set()
        title = items[real[0]].table_title
        for name, content in tasks[table]:
            res = eng.suggest(_req(name, content, args.k), exclude_tables=hidden)
            ranked = res.suggestions[: args.k]
            n_suggestions += len(ranked)
            in_framework += sum(
                1
                for s in ranked
                if s.level2_concept.startswith("https://w3id.org/indicator-kg/category/")
            )
            recalled: dict[int, str] = {}
            pairs = []
            for s_i, s in enumerate(ranked):
                for link in s.evidence.links:
                    j = index.by_id[link.uri]
                    pairs.extend(((i, j), s_i) for i in real)
            if pairs:
                scores = index.pairs([p for p, _ in pairs])
                for ((i, _j), s_i), ps in zip(pairs, scores, strict=True):
                    if ps.band == "duplicate" and i not in recalled:
                        recalled[i] = ranked[s_i].level2_concept.rsplit("/", 1)[-1]
            for i, concept in recalled.items():
                if i not in union:
                    matched_total += 1
                    right_cat += int(_slot_of(concept) == slot(i))
            union |= set(recalled)
            per_task.append(
                {
                    "table": title,
                    "task": name,
                    "indicators": len(real),
                    "recalled": len(recalled),
                    "recall": len(recalled) / len(real),
                }
            )
        # the ceiling: real indicators with any duplicate-level peer in another table
        cand = [
            (i, j) for i in real for j in index.candidates_for(i, 50) if items[j].table != table
        ]
        reachable = {
            i for (i, _), ps in zip(cand, index.pairs(cand), strict=True) if ps.band == "duplicate"
        }
        per_table.append(
            {
                "reachable": len(reachable),
                "table": title,
                "department": items[real[0]].department,
                "tasks": len(tasks[table]),
                "indicators": len(real),
                "recalled": len(union),
                "recall": len(union) / len(real),
            }
        )

    # latency after warm-up: every task of every table, nothing hidden
    all_tasks = [t for ts in tasks.values() for t in ts]
    for name, content in all_tasks[:5]:
        eng.suggest(_req(name, content, args.k))
    lat: list[float] = []
    for _ in range(3):
        for name, content in all_tasks:
            t0 = time.perf_counter()
            eng.suggest(_req(name, content, args.k))
            lat.append((time.perf_counter() - t0) * 1000)

    total_ind = sum(t["indicators"] for t in per_table)
    total_rec = sum(t["recalled"] for t in per_table)
    total_reach = sum(t["reachable"] for t in per_table)
    out = {
        "k": args.k,
        "model": index.model_id,
        "indicators": len(items),
        "tables_evaluated": len(per_table),
        "tasks_evaluated": len(per_task),
        "recall_at_k": {
            "per_task_mean": statistics.mean(t["recall"] for t in per_task),
            "per_table_mean": statistics.mean(t["recall"] for t in per_table),
            "micro": total_rec / total_ind if total_ind else 0.0,
            "ceiling_micro": total_reach / total_ind if total_ind else 0.0,
            "micro_of_reachable": total_rec / total_reach if total_reach else 0.0,
        },
        "recalled_with_right_category": right_cat / matched_total if matched_total else None,
        "recalled_indicators": matched_total,
        "suggestions_in_framework": in_framework / n_suggestions if n_suggestions else None,
        "suggestions": n_suggestions,
        "latency_ms": {"p50": _pct(lat, 0.5), "p95": _pct(lat, 0.95), "calls": len(lat)},
        "per_table": per_table,
        "per_task": per_task,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print(
        f"leave-one-table-out over {len(per_table)} tables, {len(per_task)} tasks, k={args.k}, model {index.model_id}"
    )
    print(f"{'table':40s} {'tasks':>5s} {'ind':>4s} {'peer':>4s} {'rec':>4s} {'recall':>7s}")
    for t in per_table:
        print(
            f"{t['table'][:38]:40s} {t['tasks']:5d} {t['indicators']:4d} {t['reachable']:4d} "
            f"{t['recalled']:4d} {t['recall']:7.3f}"
        )
    print("(peer: indicators with any duplicate-level peer in another table, the ceiling)")
    r = out["recall_at_k"]
    print(
        f"recall@{args.k}: per task (mean) {r['per_task_mean']:.3f}, per table (mean) "
        f"{r['per_table_mean']:.3f}, micro {r['micro']:.3f} ({total_rec}/{total_ind}); "
        f"ceiling {r['ceiling_micro']:.3f} ({total_reach}/{total_ind}), "
        f"recalled of reachable {r['micro_of_reachable']:.3f}"
    )
    rc = out["recalled_with_right_category"]
    print(
        f"recalled indicators whose suggestion had the right level-2 category: "
        f"{'n/a' if rc is None else f'{rc:.3f}'} ({right_cat}/{matched_total}); "
        f"suggestions in the framework's categories: {out['suggestions_in_framework']:.3f} of {n_suggestions}"
    )
    lt = out["latency_ms"]
    print(
        f"latency per suggest call after warm-up: p50 {lt['p50']:.1f} ms, p95 {lt['p95']:.1f} ms ({lt['calls']} calls)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if tmp is not None:
        tmp.cleanup()
    return 0


def _req(name: str, content: str, k: int):  # type: ignore[no-untyped-def]
    from apps.suggest import SuggestRequest

    return SuggestRequest(task=name, content=content, k=k)


if __name__ == "__main__":
    raise SystemExit(main())
