"""Parse speed of read_table over the real corpus tables and the seed.

    python benchmarks/parse_speed.py [--rounds 5] [--json benchmarks/results/parse_speed.json]

Every table of ../shared/corpus/tables (beside the checkout) and the seed is read
with ``kg.readers.read_table`` (the reader it picks) once untimed (warm-up: imports,
category tables), then --rounds times. A table's time is its median over the
rounds. Printed: tables and indicators per second over all rounds (refused tables
count as tables: a refusal is a full read too), median and max table time, the 5
slowest tables, tables read vs refused (with the error), and the indicators read
in the corpus tables vs the sum of COUNTS.tsv (hand counts; the seed is not in it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.errors import SourceError  # noqa: E402
from kg.readers import read_table  # noqa: E402

SHARED = ROOT.parent / "shared"
TABLES = SHARED / "corpus" / "tables"
SEED = SHARED / "seeds" / "000_3b89ef93caa61199.txt"
RESULTS = ROOT / "benchmarks" / "results"


def read_once(path: Path) -> tuple[float, str | None, int, str | None]:
    """(seconds, reader name, indicators, refusal message) of one read."""
    t0 = time.perf_counter()
    try:
        reader, parsed = read_table(path)
    except SourceError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        return time.perf_counter() - t0, None, 0, where + exc.message
    return time.perf_counter() - t0, reader.name, len(parsed.indicators), None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=RESULTS / "parse_speed.json")
    args = ap.parse_args(argv)
    if not TABLES.is_dir() or not SEED.is_file():
        sys.exit(f"corpus not found: expected {TABLES} and {SEED}")

    paths = [*sorted(TABLES.glob("*.txt")), SEED]
    with (TABLES / "COUNTS.tsv").open(encoding="utf-8") as fh:
        counts = {r["file"]: int(r["indicators"]) for r in csv.DictReader(fh, delimiter="\t")}

    t0 = time.perf_counter()
    first = {p: read_once(p) for p in paths}  # warm-up, and what each table yields
    warm_up = time.perf_counter() - t0
    times: dict[Path, list[float]] = {p: [] for p in paths}
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for p in paths:
            times[p].append(read_once(p)[0])
    total = time.perf_counter() - t0

    per_table = [
        {
            "file": p.name,
            "reader": first[p][1],
            "indicators": first[p][2],
            "expected": counts.get(p.name),
            "median_s": statistics.median(times[p]),
            "refused": first[p][3],
        }
        for p in paths
    ]
    medians = [t["median_s"] for t in per_table]
    refused = [t for t in per_table if t["refused"]]
    n_ind = sum(t["indicators"] for t in per_table)
    corpus_ind = sum(t["indicators"] for t in per_table if t["expected"] is not None)
    fig = {
        "rounds": args.rounds,
        "tables": len(paths),
        "read": len(paths) - len(refused),
        "refused": len(refused),
        "warm_up_s": warm_up,
        "total_s": total,
        "tables_per_s": len(paths) * args.rounds / total,
        "indicators_per_s": n_ind * args.rounds / total,
        "median_table_s": statistics.median(medians),
        "max_table_s": max(medians),
        "indicators_read": n_ind,
        "corpus_indicators_read": corpus_ind,
        "corpus_indicators_counted": sum(counts.values()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "per_table": per_table,
    }

    print(
        f"{len(paths)} tables ({len(paths) - 1} corpus + seed) x {args.rounds} rounds "
        f"in {total:.2f} s (warm-up {warm_up:.2f} s, not counted)"
    )
    print(
        f"{fig['tables_per_s']:.1f} tables/s, {fig['indicators_per_s']:.0f} indicators/s; "
        f"per table: median {fig['median_table_s'] * 1e3:.1f} ms, "
        f"max {fig['max_table_s'] * 1e3:.1f} ms"
    )
    print("slowest tables:")
    for t in sorted(per_table, key=lambda t: -t["median_s"])[:5]:
        print(f"  {t['median_s'] * 1e3:8.1f} ms  {t['file']}")
    print(f"read {fig['read']}, refused {fig['refused']}:")
    for t in refused:
        print(f"  {t['file']}: {t['refused'][:80]}")
    print(
        f"indicators read: {n_ind} ({corpus_ind} in the corpus tables, "
        f"COUNTS.tsv sums to {fig['corpus_indicators_counted']}; "
        f"{n_ind - corpus_ind} in the seed)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
