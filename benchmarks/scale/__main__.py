"""The command line: ``python -m benchmarks.scale [options]`` (see the package's docstring)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import __doc__ as DOC
from .machine import mem_total_gb

#: rdflib memory per triple (MB): rdflib_graph() at 100k (1,739 MB RSS for 2,472,752 triples),
#: used until this run measures its own
RDFLIB_MB_PER_TRIPLE = 1739 / 2_472_752


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.scale",
        description=DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--sizes", default="10000,100000,1000000", help="comma-separated indicator counts"
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--text", type=Path, help="also write the printed figures here")
    ap.add_argument("--work", type=Path, help="work directory (default: a new one in /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep N-Quads files and stores")
    ap.add_argument(
        "--runs", type=int, default=5, help="runs per query (fewer once 20 s are spent)"
    )
    ap.add_argument("--cap", type=int, default=120, help="seconds before a query is stopped")
    ap.add_argument(
        "--skip", default="", help="comma list of: disk, memory, rdflib, server, dups, api"
    )
    ap.add_argument(
        "--api-max", type=int, default=100_000, help="largest size the API load runs at"
    )
    ap.add_argument("--duration", type=int, default=10, help="wrk seconds per endpoint")
    ap.add_argument("--connections", type=int, default=8, help="wrk concurrent connections")
    ap.add_argument(
        "--memory-from",
        choices=("store", "nquads"),
        default="store",
        help="the in-memory engine: copied from the on-disk store as the API does (store), "
        "or bulk-loaded from the same N-Quads (nquads: minutes instead of ~20 min at 1M)",
    )
    ap.add_argument("--dups-timeout", type=float, default=5400, help="seconds for index + sweep")
    ap.add_argument(
        "--update",
        action="store_true",
        help="merge into the --json file: re-measured parts replace, the rest is kept",
    )
    ap.add_argument(
        "--show", type=Path, help="print the figures saved in this JSON file, run nothing"
    )
    ap.add_argument("--_worker", nargs=5, help=argparse.SUPPRESS)
    ap.add_argument("--_dups", nargs=2, help=argparse.SUPPRESS)
    return ap


def _log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def run_sizes(args, work: Path) -> dict:
    """Measure every size; the JSON file is written after each, so a long run leaves what it has."""
    from .measure import measure
    from .report import merge, write_json

    t_start = time.perf_counter()
    fig: dict = {
        "machine": {"cpus": os.cpu_count(), "mem_gb": round(mem_total_gb(), 1)},
        "runs": args.runs,
        "cap_s": args.cap,
        "sizes": [],
    }
    base: dict | None = None
    if args.update and args.json and args.json.exists():
        base = json.loads(args.json.read_text(encoding="utf-8"))
    for n in [int(x) for x in args.sizes.split(",") if x]:
        fig["sizes"].append(measure(n, args, work, _log))
        fig["wall_s"] = time.perf_counter() - t_start
        if args.json:
            write_json(merge(base, fig, args.skip) if base else fig, args.json)
    fig["wall_s"] = time.perf_counter() - t_start
    return merge(base, fig, args.skip) if base else fig


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args._worker:
        from .engines import worker

        e, where, runs, cap, skip = args._worker
        worker(e, where, int(runs), int(cap), int(skip))
        return
    if args._dups:
        from .dups import dups_worker

        dups_worker(*args._dups)
        return
    from .report import print_figures, write_json, write_text

    if args.show:
        print_figures(json.loads(args.show.read_text(encoding="utf-8")))
        return
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.rdflib_mb_per_triple = RDFLIB_MB_PER_TRIPLE
    work = args.work or Path(tempfile.mkdtemp(prefix="ikg-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    fig = run_sizes(args, work)
    print_figures(fig)
    if args.json:
        write_json(fig, args.json)
        print(f"written {args.json}")
    if args.text:
        write_text(fig, args.text)
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
