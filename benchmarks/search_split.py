"""Where one ``/api/search`` goes, in process: the search's own parts against FAISS alone.

    python -m benchmarks.search_split --size 100000 [--runs 300] [--work /tmp/ikg-search-speed]

The index is opened as a server opens it (``api.services.get_index``, one thread, warmed up)
on a data directory :mod:`benchmarks.search_speed` prepared. For each query, in turn:

* ``IndicatorIndex.search`` (k = 10, no filter): the whole search;
* its parts, each alone: the encoder (through the server's cached encoder), the lexical
  scores of every distinct name (``LexicalIndex.distinct_scores``, as the search reads
  them), FAISS at the pool the search asks (``pool_size(10)``) and at k = 10;

for a cached query (asked before) and for unseen ones (each new). ``rest`` is the search
minus its three parts: merging the pools, reading the candidates' vectors, the hits, less
what scoring the lexical side beside FAISS saves (``beside``: a server's search does).
:mod:`benchmarks.search_speed` runs this in a child process (``--parts split``), so that the
index's memory is freed before its servers start, and adds the HTTP side: a request's p50
minus the in-process search is what the server, the framework and the client cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

PARTS = ("search", "encode", "lexical", "faiss_pool", "faiss_k10")


def _p50(times: list[float]) -> float:
    return round(statistics.median(times) * 1000, 3)


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _round(  # type: ignore[no-untyped-def]
    index, query: str, other: str, pool: int, times: dict[str, list[float]]
) -> None:
    """The whole search for ``query``, then each part alone for ``other``: an unseen query's
    parts meet it new, as a request's search does (the search has encoded ``query``)."""
    times["search"].append(_timed(lambda: index.search(query, 10)))
    times["encode"].append(_timed(lambda: index.encoder.encode([other])))
    # what the search reads: per distinct name (older code: per name; older still: float32)
    lexical = getattr(index.lexical, "distinct_scores", None) or getattr(
        index.lexical, "scores", None
    )
    if lexical is not None:
        times["lexical"].append(_timed(lambda: lexical(other)))
    else:
        times["lexical"].append(_timed(lambda: index.lexical.cosine_to_all([other])))
    q = index.encoder.encode([other])
    times["faiss_pool"].append(_timed(lambda: index.vectors.search_rows(q, pool)))
    # after the pool's search, as FAISS alone in benchmarks.search_speed (lists read once)
    times["faiss_k10"].append(_timed(lambda: index.vectors.search_rows(q, 10)))


def split(data: Path, model: str, runs: int = 300, seed: int = 7) -> dict:
    """p50 (ms) of the search and of each part, for a cached query and for unseen ones."""
    from search_speed import CACHED_QUERY, unseen_queries

    from api import services
    from api.app import create_app
    from embeddings.index import pool_size
    from embeddings.threads import limit_threads
    from kg.settings import Settings

    settings = Settings(data_dir=data, embedding_model=model, api_threads=1)
    limit_threads(settings.api_threads)
    app = create_app(settings)
    services.preload(app)
    index = services.get_index(app)
    pool = pool_size(10, len(index.items))
    for q in (CACHED_QUERY, *unseen_queries(20, seed=seed + 1)):  # warm: as a served index
        index.search(q, 10)
    # a server's search scores the lexical side beside FAISS (api_search_beside): its time is
    # then less than the parts' sum, and ``rest`` is what the overlap leaves of the others
    out: dict = {
        "indicators": len(index.items),
        "pool": pool,
        "runs": runs,
        "beside": getattr(index, "beside", None) is not None,
    }
    cached = [CACHED_QUERY] * runs
    unseen = unseen_queries(2 * runs, seed)
    for kind, queries, others in (
        ("cached", cached, cached),
        ("unseen", unseen[:runs], unseen[runs:]),
    ):
        times: dict[str, list[float]] = {p: [] for p in PARTS}
        for q, other in zip(queries, others, strict=True):
            _round(index, q, other, pool, times)
        fig = {p: _p50(times[p]) for p in PARTS}
        parts = fig["encode"] + fig["lexical"] + fig["faiss_pool"]
        fig["rest"] = round(fig["search"] - parts, 3)
        out[kind] = fig
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/ikg-search-speed"))
    ap.add_argument("--model", default="hash-512")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--data", type=Path, help="a prepared data directory (default: from --work)")
    args = ap.parse_args()
    data = args.data or args.work / f"data-{args.size}-{args.model}"
    if not (data / "store").is_dir():
        raise SystemExit(
            f"{data}: no prepared data; run python -m benchmarks.search_speed --sizes "
            f"{args.size} --prepare-only first"
        )
    print(json.dumps(split(data, args.model, args.runs), ensure_ascii=False))


if __name__ == "__main__":
    main()
