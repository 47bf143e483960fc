"""A reviewer's desk: a folder of tables reviewed against a large store, time per table printed.

    python benchmarks/review_speed.py [--tables 1000] [--store-size 100000]
                                      [--data-dir /tmp/ikg-review-speed]
                                      [--json benchmarks/results/review_speed.json]

The store: ``--store-size`` synthetic indicators made by the scale benchmark's generator
(``benchmarks/scale/data.py``: the demo tables mapped with the project's own code, copied under
other department names and years) and loaded with ``oxigraph load`` into
``DATA_DIR/store-M/store``, a data directory as ``ikg build`` leaves it. It is kept and reused
by later runs with the same ``--data-dir`` and size.

The folder: ``--tables`` files, copies of the seed table and the demo corpus CSVs
(``data/demo``), each under the department name of one of the store's synthetic departments
and the year after that department's table in the store (the department name and the fiscal
year rewritten in the file's text), so every table is different, has an earlier year to be
compared with, and other departments' indicators of the same year to be checked against.
Also kept and reused (``DATA_DIR/tables-N``).

The review: the code path of ``ikg review DATA_DIR/tables-N --against DATA_DIR/store-M
--format json --output FILE`` (``ikg.review.review`` called in a child process, so the peak
resident set is the review's own). The time per table is the wall time between two tables'
progress calls; the first table's also holds reading every file, loading the encoder and the
store's indicators and tables, and is reported on its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scale.data import generate, load, synthetic_name  # noqa: E402
from benchmarks.scale.machine import DEMO, child_env, run_measured  # noqa: E402

DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "ikg-review-speed"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "review_speed.json"


def _log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the store
def ensure_store(data_dir: Path, size: int) -> tuple[Path, dict]:
    """The data directory of a store of ``size`` synthetic indicators: made, or reused."""
    target = data_dir / f"store-{size}"
    meta = data_dir / f"store-{size}.json"
    if meta.exists() and (target / "store").is_dir():
        _log(f"reusing {target}")
        return target, json.loads(meta.read_text(encoding="utf-8"))
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    nq = data_dir / f"store-{size}.nq"
    _log(f"generating {size:,} indicators → {nq}")
    info = generate(size, nq)
    _log(f"loading {nq} → {target / 'store'}")
    info.update(load(nq, target / "store"))
    nq.unlink()
    info.update(build_index(target))
    meta.write_text(json.dumps(info), encoding="utf-8")  # written last: the store is complete
    return target, info


def build_index(data_dir: Path) -> dict:
    """The embedding index and vector cache beside the store, as ``ikg build`` leaves them
    (``embeddings.index_for_store``; the similarity links are not written into the store)."""
    from embeddings import index_for_store
    from kg.settings import Settings

    _log(f"embedding index → {data_dir / 'embeddings'}")
    t0 = time.perf_counter()
    report = index_for_store(
        data_dir / "store", data_dir, Settings(data_dir=data_dir), write_links=False
    )
    return {"index_s": round(time.perf_counter() - t0, 1), "encoded": report.encoded}


# --------------------------------------------------------------------------- the folder
def template_files() -> list[tuple[Path, str, int]]:
    """The demo tables (seed first, then the corpus CSVs) with their department and year, in
    the order the scale generator copies them."""
    from kg.readers import read_table

    files = sorted(DEMO.glob("*.txt")) + sorted((DEMO / "corpus").glob("*.csv"))
    out = []
    for f in files:
        t = read_table(f)[1].table
        out.append((f, t.department, t.fiscal_year))
    return out


def copy_text(text: str, dept: str, year: int, new_dept: str, new_year: int) -> str:
    """A table's text under another department and fiscal year (every mention rewritten)."""
    return text.replace(dept, new_dept).replace(str(year), str(new_year))


def ensure_tables(data_dir: Path, n: int) -> Path:
    """A folder of ``n`` table files: made, or reused. Copy ``i`` is template ``i % T`` in the
    scale generator's round ``i // T``: that round's department, the year after its table's."""
    folder = data_dir / f"tables-{n}"
    done = data_dir / f"tables-{n}.done"
    if done.exists() and folder.is_dir():
        _log(f"reusing {folder}")
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    templates = template_files()
    texts = [f.read_text(encoding="utf-8-sig") for f, _, _ in templates]
    for i in range(n):
        k, j = divmod(i, len(templates))
        f, dept, year = templates[j]
        new_dept, store_year = synthetic_name(k, dept)
        text = copy_text(texts[j], dept, year, new_dept, store_year + 1)
        (folder / f"{i:05d}_{f.stem[:40]}{f.suffix}").write_text(text, encoding="utf-8")
    done.write_text(str(n), encoding="utf-8")
    _log(f"wrote {n:,} tables to {folder}")
    return folder


# --------------------------------------------------------------------------- the review
def review_child(folder: str, against: str, output: str) -> None:
    """``ikg review FOLDER --against STORE --format json --output FILE``, timed per table.

    Prints one JSON line: the call's wall time and each table's end (seconds from the start)."""
    import typer

    import apps.review
    from ikg.review import ReviewFormat, review

    ends: list[float] = []
    original = apps.review.review_files
    t0 = time.perf_counter()

    def timed(*args, progress=None, **kw):  # type: ignore[no-untyped-def]
        def tick(done: int, total: int, file: str) -> None:
            ends.append(time.perf_counter() - t0)
            if done % 10 == 0 or done == total:  # a long run leaves its rate in the log
                _log(f"reviewed {done}/{total} at {ends[-1]:.1f} s")
            if progress is not None:
                progress(done, total, file)

        return original(*args, progress=tick, **kw)

    apps.review.review_files = timed  # the CLI imports it from apps.review when it runs
    exit_code = 0
    try:
        review([Path(folder)], ReviewFormat.json, Path(against), Path(output), None)
    except typer.Exit as exc:  # 1: the tables have error-severity findings
        exit_code = exc.exit_code
    print(json.dumps({"wall_s": time.perf_counter() - t0, "ends": ends, "exit": exit_code}))


def run_review(folder: Path, against: Path, output: Path) -> dict:
    """The review in a child process; its timings, peak RSS and exit code."""
    out = output.with_suffix(".timings.json")
    with open(out, "w") as fh:
        wall, peak, rc = run_measured(
            [sys.executable, __file__, "--_review", str(folder), str(against), str(output)],
            stdout=fh,
            env=child_env(),
        )
    lines = out.read_text().strip().splitlines()
    if rc not in (0, 1) or not lines:
        raise RuntimeError(f"the review exited with {rc}")
    child = json.loads(lines[-1])
    child.update(process_wall_s=wall, peak_rss_mb=peak)
    return child


def nearest_rank(xs: list[float], p: int) -> float:
    s = sorted(xs)
    return s[max(0, -(-p * len(s) // 100) - 1)]


def figures(child: dict, report: dict, store: dict, args) -> dict:
    """The figures of one run, from the child's timings and the report it wrote."""
    ends = child["ends"]
    steps = [b - a for a, b in itertools.pairwise(ends)]
    n = len(report["files"])
    fig: dict = {
        "tables_asked": args.tables,
        "files": n,
        "tables": len(report["tables"]),
        "indicators": sum(f.get("indicators") or 0 for f in report["files"]),
        "store": store,
        "review_wall_s": round(child["wall_s"], 2),
        "process_wall_s": round(child["process_wall_s"], 2),
        "per_table_mean_s": round(child["wall_s"] / max(n, 1), 4),
        "first_table_s": round(ends[0], 2) if ends else None,
        "findings": len(report["findings"]),
        "by_severity": report["summary"]["by_severity"],
        "against": report.get("against"),
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
        "exit": child["exit"],
    }
    if steps:
        fig["after_first"] = {
            "mean_s": round(statistics.fmean(steps), 4),
            "p50_s": round(statistics.median(steps), 4),
            "p95_s": round(nearest_rank(steps, 95), 4),
            "max_s": round(max(steps), 4),
        }
    return fig


def print_figures(fig: dict) -> None:
    s = fig["store"]
    print(
        f"store: {s['indicators']:,} indicators in {s['tables']:,} tables "
        f"(oxigraph load {s['load_s']} s, {s['store_mb']:,.0f} MB on disk; embedding index "
        f"{s.get('index_s', '—')} s, {s.get('encoded', '—')} distinct texts encoded)"
    )
    print(
        f"reviewed: {fig['files']:,} files, {fig['tables']:,} tables, {fig['indicators']:,} indicators"
    )
    print(
        f"total time: {fig['review_wall_s']:,.1f} s (child process {fig['process_wall_s']:,.1f} s)"
    )
    print(f"time per table: mean {fig['per_table_mean_s'] * 1000:,.1f} ms (total / files)")
    if fig.get("first_table_s") is not None:
        print(
            f"  first table: {fig['first_table_s']:,.2f} s (reading every file, the encoder, "
            "the store's indicators and tables)"
        )
    if "after_first" in fig:
        a = fig["after_first"]
        print(
            f"  each table after it: mean {a['mean_s'] * 1000:,.1f} ms, p50 {a['p50_s'] * 1000:,.1f} ms, "
            f"p95 {a['p95_s'] * 1000:,.1f} ms, max {a['max_s'] * 1000:,.1f} ms"
        )
    sev = ", ".join(f"{k} {v:,}" for k, v in fig["by_severity"].items())
    print(f"findings: {fig['findings']:,} ({sev})")
    print(f"peak RSS of the review: {fig['peak_rss_mb']:,.0f} MB")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tables", type=int, default=1000, help="tables in the folder reviewed")
    ap.add_argument("--store-size", type=int, default=100_000, help="indicators in the store")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="where the store and tables are kept",
    )
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help="write the figures here")
    ap.add_argument("--_review", nargs=3, help=argparse.SUPPRESS)
    return ap


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args._review:
        review_child(*args._review)
        return
    args.data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    machine = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    store_dir, store = ensure_store(args.data_dir, args.store_size)
    folder = ensure_tables(args.data_dir, args.tables)
    output = args.data_dir / f"report-{args.tables}-{args.store_size}.json"
    _log(f"ikg review {folder} --against {store_dir} --format json --output {output}")
    child = run_review(folder, store_dir, output)
    report = json.loads(output.read_text(encoding="utf-8"))
    fig = figures(child, report, store, args)
    fig["machine"] = machine
    fig["date"] = time.strftime("%Y-%m-%d")
    fig["wall_s"] = round(time.perf_counter() - t0, 1)
    print_figures(fig)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
