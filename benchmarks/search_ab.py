"""Two codes' ``/api/search`` side by side, requests interleaved, with FAISS alone between them.

    python -m benchmarks.search_ab --base /path/to/other/checkout [--size 100000] [--runs 200]
        [--work /tmp/ikg-search-speed] [--json benchmarks/results/search_speed.json --key K]

On a shared machine the sequential latencies of :mod:`benchmarks.search_speed` move by half
between runs minutes apart, more than most changes being measured. Here both servers (``A``:
the code at ``--base``, ``B``: this tree; one worker each, on a data directory ``search_speed``
prepared) answer alternately, in alternating order, so that the machine's load falls on both
alike; each round also times FAISS alone in-process (the served index, k = 10 and k = 1,000,
one thread) and ``/healthz`` on both (the HTTP floor: a request doing no search). Rounds:
a cached query, an unseen one, ``/healthz``. It also counts the unseen queries whose hits
(ids and scores) are the same on both codes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _load() -> list[str]:
    """The load averages (1, 5, 15 minutes)."""
    return Path("/proc/loadavg").read_text().split()[:3]


def run(base: Path, data: Path, model: str, runs: int, seed: int) -> dict:
    import search_speed as ss

    from embeddings.encoders import load_encoder
    from embeddings.faiss_index import FaissIndex
    from embeddings.index import index_dir
    from embeddings.threads import limit_threads

    limit_threads(1)
    fi = FaissIndex.load(index_dir(data))
    unseen = ss.unseen_queries(runs, seed=seed)
    vecs = load_encoder(model).encode(unseen)
    keys = ("faiss_k10", "faiss_k1000")
    keys += tuple(f"{c}_{w}" for c in "AB" for w in ("cached", "unseen", "healthz"))
    times: dict[str, list[float]] = {k: [] for k in keys}
    mine = os.environ.get("PYTHONPATH", str(ROOT))

    def server(code: str) -> ss.Server:
        os.environ["PYTHONPATH"] = code  # the server's code (its environment is copied)
        try:
            return ss.Server(data, model)
        finally:
            os.environ["PYTHONPATH"] = mine

    def timed(client: ss.KeepAlive, url: str) -> tuple[float, ss._Answer]:
        t0 = time.perf_counter()
        r = client.get(url)
        dt = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {r.status_code} {r.text[:200]}")
        return dt, r

    same = 0
    with (
        server(str(base)) as a,
        server(mine) as b,
        ss.KeepAlive(a.base, timeout=600) as ca,
        ss.KeepAlive(b.base, timeout=600) as cb,
    ):
        for c in (ca, cb):
            for _ in range(10):
                timed(c, ss._search_url(ss.CACHED_QUERY))
        for n in range(runs):
            for k in (10, 1000):
                t0 = time.perf_counter()
                fi.search(vecs[n][None, :], k)
                times[f"faiss_k{k}"].append(time.perf_counter() - t0)
            hits = {}
            for name, c in [("A", ca), ("B", cb)][:: 1 if n % 2 else -1]:
                times[f"{name}_cached"].append(timed(c, ss._search_url(ss.CACHED_QUERY))[0])
                dt, r = timed(c, ss._search_url(unseen[n]))
                times[f"{name}_unseen"].append(dt)
                hits[name] = [(h["id"], h["score"]) for h in r.json()["hits"]]
                times[f"{name}_healthz"].append(timed(c, "/healthz")[0])
            same += hits["A"] == hits["B"]
    out: dict = {}
    for k, xs in times.items():
        q = statistics.quantiles(xs, n=20)
        out[k] = {
            "p50_ms": round(statistics.median(xs) * 1000, 2),
            "p95_ms": round(q[18] * 1000, 2),
        }
    f10 = out["faiss_k10"]["p50_ms"]
    for c in "AB":
        for w in ("cached", "unseen"):
            out[f"{c}_{w}"]["x_faiss_k10"] = round(out[f"{c}_{w}"]["p50_ms"] / f10, 1)
    out.update(
        runs=runs,
        same_hits=f"{same}/{runs}",
        load_average_after=_load(),
        A=str(base),
        B=mine,
        client=ss.KeepAlive.name,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--base", type=Path, required=True, help="the other code (a checkout)")
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--model", default="hash-512")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ikg-search-speed"))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--key", default="ab_interleaved", help="where in the JSON (a.b.c)")
    args = ap.parse_args()
    data = args.work / f"data-{args.size}-{args.model}"
    if not (data / "prepared.json").is_file():
        raise SystemExit(f"{data}: prepare it first (benchmarks.search_speed --prepare-only)")
    load = _load()
    fig = {"load_average_before": load, **run(args.base, data, args.model, args.runs, args.seed)}
    print(json.dumps(fig, ensure_ascii=False))
    if args.json:
        saved = json.loads(args.json.read_text("utf-8")) if args.json.is_file() else {}
        *path, last = args.key.split(".")
        at = saved
        for p in path:
            at = at.setdefault(p, {})
        at[last] = fig
        args.json.write_text(json.dumps(saved, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
