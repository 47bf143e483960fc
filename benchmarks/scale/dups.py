"""The duplicate sweep: the embedding index and ``find_duplicates`` over every indicator,
run in a subprocess that stops itself before it can take the machine's memory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .machine import child_env, mem_total_gb, rss_guard, self_command, vm

#: the sweep stops itself above this share of the machine's memory (so it cannot take the
#: machine down)
DUPS_RSS_SHARE = 0.75


def _open_index(store: str, data: Path):  # type: ignore[no-untyped-def]
    """The embedding index of the store; (index, report, seconds, RSS MB after)."""
    from embeddings import open_index
    from kg.settings import Settings
    from kg.store import GraphStore

    settings = Settings(data_dir=data)
    t0 = time.perf_counter()
    with GraphStore(Path(store), read_only=True) as gs:
        index, report = open_index(gs, data, settings)
    return index, report, time.perf_counter() - t0, vm("VmRSS")


def dups_worker(store: str, data_dir: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    phase = ["loading the index"]
    rss_guard(DUPS_RSS_SHARE * mem_total_gb() * 1024, phase)
    from embeddings import find_duplicates
    from embeddings.index import every_tenth

    index, report, build_s, rss_index = _open_index(store, Path(data_dir))
    print(
        json.dumps({"index_build_s": round(build_s, 1), "rss_after_index_mb": round(rss_index, 1)}),
        file=sys.stderr,
        flush=True,
    )
    phase[0] = f"find_duplicates ({len(index.items):,} indicators, index built in {build_s:.0f} s)"
    t0 = time.perf_counter()
    rep = find_duplicates(
        index, progress=every_tenth(lambda line: print(line, file=sys.stderr, flush=True))
    )
    sweep_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "indicators": len(index.items),
                "index_kind": index.vectors.kind,
                "model": index.model_id,
                "encoded": report.encoded if report else 0,
                "index_build_s": round(build_s, 1),
                "rss_after_index_mb": round(rss_index, 1),
                "sweep_s": round(sweep_s, 1),
                "pairs": rep.pairs_total,
                "pairs_listed": len(rep.pairs),
                "listed_per_indicator": rep.listed_per_indicator,
                "clusters": len(rep.clusters),
                "peak_rss_mb": round(vm("VmHWM"), 1),
            }
        ),
        flush=True,
    )


def duplicates(store: Path, data: Path, cache: Path, timeout: float) -> dict:
    """Index + sweep in a subprocess; the vector cache is carried from size to size."""
    own = data / "embeddings" / "cache.sqlite"
    own.parent.mkdir(parents=True, exist_ok=True)
    if cache.exists() and not own.exists():
        shutil.copy2(cache, own)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            self_command("--_dups", str(store), str(data)),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(),
        )
    except subprocess.TimeoutExpired:
        return {
            "error": f"stopped after {timeout:.0f} s",
            "wall_s": round(time.perf_counter() - t0, 1),
        }
    if own.exists():
        shutil.copy2(own, cache)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])
