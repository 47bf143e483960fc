"""Search at the speed of the index: ``/api/search``, ``/similar`` and ``/duplicates`` at scale.

    python -m benchmarks.search_speed [--sizes 10000,100000] [--work DIR] [--model hash]
        [--json benchmarks/results/search_speed.json] [--label after] [--prepare-only]

For each size it builds (or reuses, from ``--work``) a data directory: a store of that many
indicators and its embedding index, built with the project's own ``index_for_store`` (which
also writes the similarity links and saves the duplicate report). The data are the 14 real
tables of data/demo copied under other department names and years, like
``benchmarks/scale``, but their indicator names vary: 30% keep a real name, the others join
the head of one real name to the tail of another (cut at a word boundary when jieba finds
one), so the dense neighbours are not a sea of ties and recall@10 means something.

Then, for each size, it prints and saves:

* FAISS alone: p50 of ``FaissIndex.search`` (k = 10) for cached query vectors, in-process;
  at sizes where the index is approximate (IVF), recall@10 against exact flat search;
* ``/api/search`` through ``ikg serve`` (one worker), sequential: p50/p95 for a cached query
  and for unseen queries (each one new to the server);
* req/s with 4 and 8 clients on 1 and 2 workers (``benchmarks/load_api.run_threads``);
* the hits of a filtered query (``培训人次`` in 中共深圳市福田区委组织部's tables);
* ``/api/indicators/{id}/similar`` and ``/api/duplicates`` first call and warm p50;
* the server's resident set.

``PYTHONPATH`` decides whose code the servers run: run it once with ``PYTHONPATH=/work/main``
(``--label before``) and once with this tree (``--label after``) on the same ``--work``
directory; ``--json`` merges the labels into one file. The machine is shared: compare ratios
within one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

FILTER_QUERY = ("培训人次", "中共深圳市福田区委组织部")
CACHED_QUERY = "离休干部慰问金发放"
#: share of the copies' indicators that keep their real name
REAL_SHARE = 0.3


def _pieces(names: list[str]) -> tuple[list[str], list[str]]:
    """Heads and tails of real names, cut at a word boundary (jieba) or in the middle."""
    try:
        import jieba

        jieba.setLogLevel(60)
        cut = lambda s: list(jieba.cut(s))  # noqa: E731
    except ImportError:  # pragma: no cover - jieba is a dependency of the project
        cut = lambda s: [s[: len(s) // 2], s[len(s) // 2 :]]  # noqa: E731
    heads, tails = [], []
    for name in sorted(set(names)):
        words = cut(name)
        if len(words) < 2:
            continue
        at = max(1, len(words) // 2)
        heads.append("".join(words[:at]))
        tails.append("".join(words[at:]))
    return heads, tails


def synthetic_tables(n: int, seed: int = 0):
    """Yield parsed tables (copies of the demo's real ones) until n indicators."""
    from scale.data import synthetic_name, template_tables

    templates = template_tables()
    heads, tails = _pieces([i.name for p in templates for i in p.indicators])
    rng = random.Random(seed)
    done = k = 0
    while done < n:
        for tpl in templates:
            if done >= n:
                break
            dept, year = synthetic_name(k, tpl.table.department)
            p = tpl.model_copy(deep=True)
            p.table.department, p.table.fiscal_year = dept, year
            p.indicators = p.indicators[: n - done]
            if k:  # the first round keeps the real tables as they are
                for ind in p.indicators:
                    if rng.random() >= REAL_SHARE:
                        ind.name = rng.choice(heads) + rng.choice(tails)
            done += len(p.indicators)
            yield p
        k += 1


def prepare(size: int, work: Path, model: str) -> tuple[Path, dict]:
    """The data directory for ``size`` indicators (built unless ``work`` has it)."""
    data = work / f"data-{size}-{model}"
    marker = data / "prepared.json"
    if marker.is_file():
        return data, json.loads(marker.read_text("utf-8"))
    from embeddings import index_for_store
    from kg import mapping
    from kg.namespaces import ORGANISATIONS_GRAPH
    from kg.settings import Settings
    from kg.store import GraphStore

    settings = Settings(data_dir=data, embedding_model=model)
    t0 = time.perf_counter()
    tables = 0
    with GraphStore(settings.store_path) as store:
        store.load_ontology()
        for p in synthetic_tables(size):
            store.bulk_add(mapping.table_uri(p), mapping.to_graph(p))
            store.bulk_add(ORGANISATIONS_GRAPH, mapping.organisations_graph(p))
            tables += 1
        store.flush()
        store.optimize()
    graph_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = index_for_store(settings.store_path, data, settings)
    info = {
        "indicators": rep.count,
        "tables": tables,
        "model": model,
        "index_kind": rep.kind,
        "graph_build_s": round(graph_s, 1),
        "index_build_s": round(time.perf_counter() - t0, 1),
        "links": rep.links,
    }
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=2), "utf-8")
    return data, info


def _prepare_main(args: argparse.Namespace) -> None:
    for size in args.sizes:
        t0 = time.perf_counter()
        data, info = prepare(size, args.work, args.model)
        print(f"[{size}] {data} {info} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__" and "--prepare-only" in sys.argv:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--model", default="hash")
    ap.add_argument("--prepare-only", action="store_true")
    _prepare_main(ap.parse_args())
