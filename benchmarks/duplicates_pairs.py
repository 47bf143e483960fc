"""Draw the pairs a reviewer of ``ikg duplicates`` / ``ikg similar`` actually sees, to label.

    python benchmarks/duplicates_pairs.py [--data-dir DIR] [--out FILE]

Reads the demo store (built with ``ikg build data/demo --data-dir DIR``; built here when
missing) and its embedding index, then draws, with a fixed seed:

* **listing** — every pair :func:`embeddings.duplicates.find_duplicates` keeps at the
  related threshold (the widest listing), split by band (duplicate / review / related) and
  scope (within-table / across-departments / across-tables); from each stratum the top,
  the middle and the pairs nearest the band's lower threshold;
* **similar** — ``IndicatorIndex.similar`` of a sample of indicators (what ``ikg similar``
  prints), its hits of every band, including ``none``;
* **near names** — every pair of the corpus whose names are nearly the same (difflib ratio
  ≥ 0.7, or one name inside the other): the pairs a reader would suspect first, whatever
  the scorer says;
* **below** — candidate pairs (each indicator's dense and lexical neighbours) scoring below
  the related threshold but sharing a word: the pairs a duplicate finder could miss, so
  that recall is measured.

Written: a candidate TSV (default ``benchmarks/data/duplicates_candidates.tsv``) with both
indicators' name, categories, target, unit, department, table and source line. The
scorer's band and score at drawing time are kept in the ``drawn_*`` columns to show where
a pair came from; labels (``benchmarks/data/duplicates_listing_pairs.tsv``) are made by
reading the indicators, not these columns.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: where the demo store is built when missing (a cache: delete it after changing data/demo)
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "ikg-demo-build"
SEED = 20260412
#: pairs drawn from each (band, scope) stratum of the listing, for each of top, middle and
#: near the band's threshold (the duplicate band is what the default listing shows: more)
PER_PART = {"duplicate": 14, "review": 7, "related": 5}
#: indicators whose ``similar`` hits are drawn, and hits kept of each
SIMILAR_QUERIES = 30
SIMILAR_K = 8
#: below-threshold candidate pairs sharing a word
BELOW = 60

COLUMNS = [
    "key", "source", "stratum", "scope", "drawn_band", "drawn_score",
    "uri_a", "uri_b", "src_a", "src_b", "name_a", "name_b",
    "cat_a", "cat_b", "target_a", "target_b", "dept_a", "dept_b", "year_a", "year_b",
    "table_a", "table_b",
]  # fmt: skip


def open_demo_index(data_dir: Path):  # type: ignore[no-untyped-def]
    """The demo store's index (the store built first when missing)."""
    from embeddings.index import open_index
    from kg.settings import get_settings
    from kg.store import GraphStore

    if not (data_dir / "store").exists():
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "ikg.cli", "build", str(ROOT / "data" / "demo")]
        subprocess.run([*cmd, "--data-dir", str(data_dir)], check=True, env=env, cwd=ROOT)
    settings = get_settings(data_dir=data_dir)
    store = GraphStore(settings.store_target, read_only=True)
    index, _ = open_index(store, settings.data_dir, settings, need_encoder=False)
    return index


def _spread(pairs: list, t_low: float, n: int) -> list[tuple[str, object]]:
    """Top n, middle n and the n nearest ``t_low`` (pairs sorted by score, best first)."""
    if len(pairs) <= 3 * n:
        return [("all", p) for p in pairs]
    mid = len(pairs) // 2
    out = [("top", p) for p in pairs[:n]]
    out += [("middle", p) for p in pairs[mid - n // 2 : mid - n // 2 + n]]
    near = sorted(pairs, key=lambda p: abs(p[2].score - t_low))[:n]
    out += [("threshold", p) for p in near]
    return out


def draw(index, rng: random.Random) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    from embeddings.duplicates import find_duplicates, scope_of
    from embeddings.residues import words

    prof = index.profile
    items = index.items
    lows = {"duplicate": prof.t_duplicate, "review": prof.t_review, "related": prof.t_related}
    rows: dict[tuple[str, str], dict[str, str]] = {}

    def add(i: int, j: int, ps, source: str, stratum: str) -> None:  # type: ignore[no-untyped-def]
        a, b = items[i], items[j]
        if a.id > b.id:
            a, b = b, a
        key = (a.id, b.id)
        if key in rows or a.id == b.id:
            return
        rows[key] = _row(a, b, ps, scope_of(a, b), source, stratum)

    # 1. the widest listing, by band and scope
    report = find_duplicates(index, threshold=prof.t_related, scope="all")
    strata: dict[tuple[str, str], list] = {}
    for p in report.pairs:
        trip = (index.by_id[p.a.id], index.by_id[p.b.id], p.score)
        strata.setdefault((p.score.band, p.scope), []).append(trip)
    for (band, scope), trips in sorted(strata.items()):
        trips.sort(key=lambda t: -t[2].score)
        for part, (i, j, ps) in _spread(trips, lows.get(band, 0.0), PER_PART.get(band, 5)):
            add(i, j, ps, "listing", f"{band}/{scope}/{part}")

    # 2. ikg similar of a sample of indicators (one per distinct name)
    names: dict[str, int] = {}
    for n, it in enumerate(items):
        names.setdefault(it.name, n)
    for q in rng.sample(sorted(names.values()), SIMILAR_QUERIES):
        hits = index.similar(items[q].id, SIMILAR_K)
        for rank, h in enumerate(hits, start=1):
            j = index.by_id[h.uri]
            add(q, j, index.pair(q, j), "similar", f"similar/{h.band}/rank{rank}")

    # 3. nearly the same names, any score
    for i, j in near_name_pairs(items):
        add(i, j, index.pair(i, j), "near", "near-names")

    # 4. below the related threshold, sharing a word of two characters or more
    below = []
    for i, j in sorted(index.candidate_pairs(20)):
        a, b = items[i], items[j]
        if a.name == b.name:
            continue
        shared = {w for w in words(a.name) if len(w) >= 2} & set(words(b.name))
        if shared:
            below.append((i, j))
    rng.shuffle(below)
    taken = 0
    for i, j in below:
        ps = index.pair(i, j)
        if ps.score >= prof.t_related:
            continue
        add(i, j, ps, "below", "below/none")
        taken += 1
        if taken >= BELOW:
            break
    return list(rows.values())


def near_name_pairs(items) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Pairs whose cleaned names have a difflib ratio of at least 0.7, or one inside the other
    (both at least 4 characters)."""
    import difflib

    from embeddings.text import clean

    names = [clean(it.name) for it in items]
    out = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            a, b = names[i], names[j]
            inside = min(len(a), len(b)) >= 4 and (a in b or b in a)
            if inside or difflib.SequenceMatcher(None, a, b).ratio() >= 0.7:
                out.append((i, j))
    return out


def pair_fields(a, b) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The two indicators of a pair side by side, as the pair files' columns hold them."""

    def src(it) -> str:  # type: ignore[no-untyped-def]
        return f"{it.source_file}:{it.source_line}"

    return {
        "uri_a": a.id,
        "uri_b": b.id,
        "src_a": src(a),
        "src_b": src(b),
        "name_a": a.name,
        "name_b": b.name,
        "cat_a": f"{a.level1}/{a.level2}",
        "cat_b": f"{b.level1}/{b.level2}",
        "target_a": a.target,
        "target_b": b.target,
        "dept_a": a.department,
        "dept_b": b.department,
        "year_a": str(a.year or ""),
        "year_b": str(b.year or ""),
    }


def _row(a, b, ps, scope: str, source: str, stratum: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "source": source,
        "stratum": stratum,
        "scope": scope,
        "drawn_band": ps.band,
        "drawn_score": f"{ps.score:.4f}",
        **pair_fields(a, b),
        "table_a": a.table_title,
        "table_b": b.table_title,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/data/duplicates_candidates.tsv")
    args = ap.parse_args()
    index = open_demo_index(args.data_dir)
    rows = draw(index, random.Random(SEED))
    rows.sort(key=lambda r: (r["source"], r["stratum"], r["name_a"], r["name_b"]))
    for n, r in enumerate(rows, start=1):
        r["key"] = f"p{n:04d}"
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    by: dict[str, int] = {}
    for r in rows:
        k = f"{r['source']} {r['drawn_band']} {r['scope']}"
        by[k] = by.get(k, 0) + 1
    print(f"{len(rows)} pairs → {args.out}")
    for k, v in sorted(by.items()):
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
