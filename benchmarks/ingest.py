"""Ingest throughput: ``ikg build`` of N template tables made from the real corpus, by stage.

    python benchmarks/ingest.py [--sizes 100,1000[,10000]] [--work /tmp/ikg-ingest]
                                [--sample 200] [--no-shacl] [--no-acceptance]
                                [--json benchmarks/results/ingest.json]

For each size N, N template CSVs (the ``ikg parse --format csv`` layout) are written to
WORK/tables-N (reused when already there): copies of the real tables of data/demo/corpus
and of the seed, each under another department and fiscal year, with indicator names
varied the way real ones vary (the object of one real name joined to the measure of
another real name of the same level-2 category). Then, figures printed and saved:

* stages, in this process on one core, over the first --sample tables: parse
  (kg.readers.read_tables), map (kg.mapping), validate (kg.validate), load
  (kg.store.GraphStore.write_tables into a fresh store) — tables/s and indicators/s;
* the full build in a child process: kg.build.build (the pool of ``build_workers``), then
  the embedding index (embeddings.index_for_store without links) and the similarity links
  (the same call with links: the index is then up to date), wall times and the child's
  peak RSS (wait4, its pool's processes included);
* rebuilds after one table and after 1 % of the tables changed (one indicator renamed in
  each): time and share of the full build (what ikg build does: read the changed files,
  then one index step that reads back only the changed tables, encodes the new names and
  links the changed tables' indicators);
* once per run: ``python -m ikg build`` of 60 seed-sized tables over ``python -m ikg parse``
  of one of them, both as subprocesses: "build60/parse1 = N×" (the issue asks ≤ 40×).

Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg import mapping, validate, writers  # noqa: E402
from kg.build import build, ntriples  # noqa: E402
from kg.readers import read_tables  # noqa: E402
from kg.settings import get_settings  # noqa: E402
from kg.store import GraphStore  # noqa: E402

try:
    from embeddings import index_for_store
    from embeddings.index import make_encoder
except ImportError:  # pragma: no cover - without the embeddings extra: no index, no links
    index_for_store = make_encoder = None

DEMO = ROOT / "data" / "demo"
SEED = DEMO / "000_3b89ef93caa61199.txt"
RESULTS = ROOT / "benchmarks" / "results"
#: place names put before a real department's name (copies of one table differ by them)
PLACES = [
    f"{a}{b}"
    for a in ("东", "西", "南", "北", "中", "新", "长", "安", "平", "清", "永", "兴")
    for b in ("城区", "山县", "河市", "阳县", "江区", "宁县", "林市", "丰县", "州区", "源县")
]
#: the measure a name ends with; what comes before it is the object (…的 / 人数 / 率 …)
MEASURE = re.compile(
    r"(满意度|知晓率|完成率|覆盖率|合格率|达标率|执行率|使用率|到位率|及时率|"
    r"人数|人次|次数|数量|个数|户数|面积|时间|周期|成本|率|数|量|度)$"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the tables ----------------------------------------------------------------------------


def template_rows() -> list[list[dict[str, str]]]:
    """The real tables (data/demo/corpus and the seed) as rows of the template CSV."""
    out = []
    for path in [SEED, *sorted((DEMO / "corpus").glob("*.csv"))]:
        _, tables = read_tables(path)
        for parsed in tables:
            buf = io.StringIO()
            writers.write_csv(parsed, buf)
            out.append(list(csv.DictReader(io.StringIO(buf.getvalue().lstrip("\ufeff")))))
    return out


def name_pool(templates: list[list[dict[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    """Per level-2 category, the (object, measure) of every real name that ends in a measure."""
    pool: dict[str, list[tuple[str, str]]] = {}
    for rows in templates:
        for row in rows:
            m = MEASURE.search(row["三级指标"]) if row["记录类型"] == "指标" else None
            if m and m.start() >= 2:
                pool.setdefault(row["二级指标"], []).append((row["三级指标"][: m.start()], m[0]))
    return pool


def varied_name(
    name: str, level2: str, pool: dict[str, list[tuple[str, str]]], rng: random.Random
) -> str:
    """Half the time, the object of another real name of the category with this name's measure."""
    m = MEASURE.search(name)
    others = pool.get(level2, [])
    if not m or m.start() < 2 or not others or rng.random() < 0.5:
        return name
    obj, _ = rng.choice(others)
    return obj + m[0]


def copy_rows(
    rows: list[dict[str, str]], k: int, pool: dict[str, list[tuple[str, str]]]
) -> list[dict[str, str]]:
    """Copy k of a real table: another department and year, names varied (seeded by k)."""
    rng = random.Random(k)
    dept = rows[0]["部门"]
    place = PLACES[k % len(PLACES)] + (str(k // len(PLACES)) if k >= len(PLACES) else "")
    year = str(2019 + k % 7)
    out = []
    for row in rows:
        row = {key: v.replace(dept, place + dept) if dept else v for key, v in row.items()}
        if row["记录类型"] == "表":
            row["年度"] = year
        elif row["记录类型"] == "指标":
            row["三级指标"] = varied_name(row["三级指标"], row["二级指标"], pool, rng)
        out.append(row)
    return out


def write_table(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def make_tables(out: Path, n: int, templates: list[list[dict[str, str]]] | None = None) -> Path:
    """N tables in ``out`` (reused when it holds them already); templates: all real tables."""
    done = out / ".complete"
    if done.is_file() and done.read_text() == str(n):
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    templates = templates or template_rows()
    pool = name_pool(templates)
    for k in range(n):
        write_table(out / f"t{k:05d}.csv", copy_rows(templates[k % len(templates)], k, pool))
        if (k + 1) % 1000 == 0:
            log(f"  wrote {k + 1}/{n} tables")
    done.write_text(str(n))
    return out


def change_tables(folder: Path, share: float, seed: int = 1) -> list[Path]:
    """Rename one indicator in ``share`` of the tables (at least one; tables without an
    indicator row, such as a list of tasks, are passed over)."""
    files = sorted(folder.glob("*.csv"))
    wanted = max(1, round(len(files) * share))
    chosen: list[Path] = []
    for path in random.Random(seed).sample(files, len(files)):
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        row = next((r for r in rows if r["记录类型"] == "指标"), None)
        if row is None:
            continue
        row["三级指标"] += "（修订）"
        write_table(path, rows)
        chosen.append(path)
        if len(chosen) == wanted:
            break
    return chosen


# -- stages in this process -------------------------------------------------------------------


def time_stages(folder: Path, sample: int, work: Path) -> dict[str, Any]:
    """Parse, map (to N-Triples, as a build process hands them back), validate and load of
    the first ``sample`` tables, one after the other in this process."""
    files = sorted(folder.glob("*.csv"))[:sample]
    spent = dict.fromkeys(("parse", "map", "validate", "load"), 0.0)
    batch, indicators = [], 0
    for path in files:
        t0 = time.perf_counter()
        chosen, tables = read_tables(path)
        spent["parse"] += time.perf_counter() - t0
        for parsed in tables:
            t0 = time.perf_counter()
            graph = mapping.to_graph(parsed, reader=chosen.name, sha256="0" * 64)
            orgs = mapping.organisations_graph(parsed)
            t1 = time.perf_counter()
            validate.check(graph + orgs, str(path))
            t2 = time.perf_counter()
            batch.append((mapping.table_uri(parsed), ntriples(graph), ntriples(orgs)))
            spent["map"] += t1 - t0 + time.perf_counter() - t2
            spent["validate"] += t2 - t1
            indicators += len(parsed.indicators)
    store = work / "stage-store"
    shutil.rmtree(store, ignore_errors=True)
    t0 = time.perf_counter()
    with GraphStore(store) as s:
        s.write_tables(batch)
    spent["load"] = time.perf_counter() - t0
    shutil.rmtree(store, ignore_errors=True)
    return {
        "tables": len(files),
        "indicators": indicators,
        **{k: _rates(v, len(files), indicators) for k, v in spent.items()},
    }


def _rates(seconds: float, tables: int, indicators: int) -> dict[str, float]:
    return {
        "s": round(seconds, 3),
        "tables_per_s": round(tables / seconds, 1) if seconds else None,
        "indicators_per_s": round(indicators / seconds, 1) if seconds else None,
    }


# -- the full build, in a child process --------------------------------------------------------


def child_build(
    folder: Path, data_dir: Path, shacl: bool = True, one_step: bool = False
) -> dict[str, Any]:
    """What ikg build does (without its library links): the build, then the index and the
    similarity links when a table was written. Runs in the child; returns the wall times.
    The index and the links are timed apart (two index steps, the second finding the index
    up to date) unless ``one_step``: then one step does both, as ``ikg build`` does."""
    settings = get_settings(data_dir=data_dir)
    t0 = time.perf_counter()
    report = build([folder], settings.store_path, shacl=shacl, workers=settings.build_workers)
    out: dict[str, Any] = {"build_s": time.perf_counter() - t0, "read": len(report.tables)}
    out["unchanged"] = len(report.unchanged)
    out["indicators"] = sum(len(t.parsed.indicators) for t in report.tables)
    out["indicators"] += sum(u.indicators for u in report.unchanged)
    if report.tables and index_for_store is not None:
        t0 = time.perf_counter()
        encoder = make_encoder(settings, data_dir)  # loaded once, for both steps
        out["model_load_s"] = time.perf_counter() - t0
        if not one_step:
            t0 = time.perf_counter()
            index_for_store(
                settings.store_path, data_dir, settings, encoder=encoder, write_links=False
            )
            out["index_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        links = index_for_store(settings.store_path, data_dir, settings, encoder=encoder)
        out["links"], out["links_s"] = links.links, time.perf_counter() - t0
    return out


def run_measured(cmd: list[str]) -> tuple[str, float, float]:
    """A subprocess's stdout, wall time (s) and peak RSS (MB, its reaped children included)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return stdout, wall, usage.ru_maxrss / 1024


def full_build(folder: Path, data_dir: Path, shacl: bool, one_step: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child-build", str(folder), str(data_dir)]
    cmd += ([] if shacl else ["--no-shacl"]) + (["--one-step"] if one_step else [])
    stdout, wall, rss = run_measured(cmd)
    out = json.loads(stdout.strip().splitlines()[-1])
    return {
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()},
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(rss),
    }


def measure_size(n: int, work: Path, sample: int, shacl: bool) -> dict[str, Any]:
    folder = make_tables(work / f"tables-{n}", n)
    log(f"[{n}] stages over {min(n, sample)} tables, one process")
    stages = time_stages(folder, sample, work)
    data_dir = work / f"data-{n}"
    shutil.rmtree(data_dir, ignore_errors=True)
    log(f"[{n}] full build (pool), index, links")
    full = full_build(folder, data_dir, shacl)
    log(f"[{n}] full build: {json.dumps(full)}")  # on record if a later step fails
    (folder / ".complete").unlink(missing_ok=True)  # the folder's tables are about to change
    rebuilds = {}
    for key, share, seed in (("rebuild_one", 0.0, 2), ("rebuild", 0.01, 1)):
        changed = change_tables(folder, share, seed)
        log(f"[{n}] rebuild after {len(changed)} table(s) changed")
        again = full_build(folder, data_dir, shacl, one_step=True)  # as ikg build
        again["changed_tables"] = len(changed)
        again["share_of_full"] = round(again["wall_s"] / full["wall_s"], 4)
        rebuilds[key] = again
    per = {
        f"full_{k}": _rates(full[f"{k}_s"], n, full["indicators"])
        for k in ("build", "index", "links")
        if f"{k}_s" in full
    }
    return {"tables": n, "stages_one_process": stages, "full": full, **per, **rebuilds}


def acceptance(work: Path, n: int = 60) -> dict[str, Any]:
    """ikg build of n seed-sized tables over ikg parse of one of them, as subprocesses."""
    templates = template_rows()[:1]  # the seed
    folder = make_tables(work / f"seed-{n}", n, templates)
    data_dir = work / f"seed-{n}-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    ikg = [sys.executable, "-m", "ikg"]
    log(f"acceptance: ikg parse of one seed-sized table, ikg build of {n}")
    _, parse_s, parse_rss = run_measured([*ikg, "parse", str(next(folder.glob("*.csv")))])
    _, build_s, build_rss = run_measured([*ikg, "build", str(folder), "--data-dir", str(data_dir)])
    return {
        "tables": n,
        "indicators_per_table": sum(r["记录类型"] == "指标" for r in templates[0]),
        "parse1_s": round(parse_s, 2),
        "build_s": round(build_s, 2),
        "ratio": round(build_s / parse_s, 1),
        "parse_peak_rss_mb": round(parse_rss),
        "build_peak_rss_mb": round(build_rss),
    }


# -- report ----------------------------------------------------------------------------------


def show(size: dict[str, Any]) -> None:
    n, st, full = size["tables"], size["stages_one_process"], size["full"]
    print(f"\n== {n} tables, {full['indicators']} indicators ==")
    print(f"stages, one process, {st['tables']} tables / {st['indicators']} indicators:")
    for k in ("parse", "map", "validate", "load"):
        r = st[k]
        print(
            f"  {k:9s} {r['s']:8.2f} s  {r['tables_per_s']:8.1f} tables/s  "
            f"{r['indicators_per_s']:9.1f} indicators/s"
        )
    print(f"full build in a child (pool of build_workers), peak RSS {full['peak_rss_mb']} MB:")
    for k in ("build", "index", "links"):
        if f"full_{k}" in size:
            r = size[f"full_{k}"]
            print(
                f"  {k:9s} {r['s']:8.2f} s  {r['tables_per_s']:8.1f} tables/s  "
                f"{r['indicators_per_s']:9.1f} indicators/s"
            )
    print(f"  model     {full.get('model_load_s', 0):8.2f} s (the encoder, loaded once)")
    print(f"  wall      {full['wall_s']:8.2f} s (with the child's start-up)")
    for again in (size[k] for k in ("rebuild_one", "rebuild") if k in size):
        print(
            f"rebuild after {again['changed_tables']} table(s) changed: {again['wall_s']:.2f} s "
            f"= {again['share_of_full']:.1%} of the full build "
            f"(read {again['read']}, unchanged {again['unchanged']})"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000", help="table counts, e.g. 100,1000,10000")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ikg-ingest"))
    ap.add_argument("--sample", type=int, default=200, help="tables timed stage by stage")
    ap.add_argument("--json", type=Path, default=RESULTS / "ingest.json")
    ap.add_argument("--no-acceptance", action="store_true", help="skip build60/parse1")
    ap.add_argument(
        "--no-shacl",
        action="store_true",
        help="full builds without validation (the stages still time it; build60 validates)",
    )
    ap.add_argument("--child-build", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--one-step", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_build:
        shacl, one = not args.no_shacl, args.one_step
        print(json.dumps(child_build(*args.child_build, shacl=shacl, one_step=one)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"machine": machine(), "shacl": not args.no_shacl, "sizes": {}}
    for n in (int(x) for x in args.sizes.split(",")):
        out["sizes"][str(n)] = measure_size(n, args.work, args.sample, not args.no_shacl)
        show(out["sizes"][str(n)])
    if not args.no_acceptance:
        acc = out["acceptance"] = acceptance(args.work)
        print(
            f"\nbuild{acc['tables']}/parse1 = {acc['ratio']}× "
            f"({acc['build_s']} s / {acc['parse1_s']} s; the issue asks at most 40×)"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"saved {args.json}")
    return 0


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "build_workers": get_settings().build_workers,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    sys.exit(main())
