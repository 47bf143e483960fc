"""Draw the recall pairs (benchmarks/data/duplicates_recall_pairs.tsv): where the demo store
holds the same work twice, every pair that could be a duplicate, whatever the scorer says.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD python benchmarks/duplicates_recall_draw.py \\
        [--data-dir DIR] [--out FILE]

The listing pairs (``duplicates_listing_pairs.tsv``) were drawn mostly from what the scorer
shows; the demo corpus holds few duplicates, so they measure recall on 11 pairs. This draw
goes the other way: it reads no score at all. A pair of the demo store is a candidate when

* **the same work can appear twice** — both indicators belong to one department (one table,
  or the department's tables of other years: 湘潭市环境卫生管理处 2023/2024, 大英县民政局
  2020/2022, the two 扎赉特旗人民检察院 projects), or to departments of one county or district
  (:func:`embeddings.text.region_of`: 大英县, 广元市昭化区, 池州市贵池区棠溪镇 …), and
* **the names can say the same thing** — they share a content word (a word of two or more
  characters that is not a measure, verb or qualifier of
  :data:`embeddings.residues.QUALIFIER_WORDS`; the word families of
  :data:`embeddings.residues.EQUIVALENT_WORDS` count as one word: 资金 / 预算 / 经费), or
  neither has a content word and both measure the same kind of quantity (预算执行率 /
  支出进度达标率 within one table: :func:`embeddings.text.measure_family`), and
* **the measures can be one** — the two names' kinds of quantity are of one family (every
  rate or timeliness one kind, every count one kind: :func:`coarse_measure`) or one name's
  ending names none (按季发放助学金: a deadline written as a task). A count and a rate, a
  satisfaction and a deadline are never one measure; nor a grade (显著) and a number (23人次),
  unless one name is about timeliness (及时 may stand for 100% on time).

Pairs already in the listing or the held-out file are left out (matched by URI, the labels
of those files are not read), and so are identical names in one table. The candidates are
written unlabelled with name, category, target, department, year and source line, in a
fixed order; the labels are added by hand in ``duplicates_recall_pairs.tsv`` by reading the
two indicators (and the table around them), never the score.
"""

from __future__ import annotations

import argparse
import csv
import sys
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from duplicates_pairs import DEFAULT_DATA_DIR, open_demo_index, pair_fields  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
OUT = DATA / "duplicates_recall_draw.tsv"
EXCLUDE = (DATA / "duplicates_listing_pairs.tsv", DATA / "duplicates_heldout.tsv")
COLUMNS = [
    "scope", "uri_a", "uri_b", "src_a", "src_b", "name_a", "name_b", "cat_a", "cat_b",
    "target_a", "target_b", "dept_a", "dept_b", "year_a", "year_b",
]  # fmt: skip


def content_words(name: str) -> frozenset[str]:
    """The name's words that say what is measured (word families folded to one word)."""
    from embeddings import residues as rz

    out = set()
    for w in rz.words(name):
        if len(w) < 2 or w in rz.QUALIFIER_WORDS or rz._NUMBER.match(w):
            continue
        fam = rz._FAMILY.get(w)
        out.add(f"family{fam}" if fam is not None else w)
    return frozenset(out)


def coarse_measure(kind: str | None) -> str | None:
    """The draw's own coarse kind of quantity, wider than the scorer's: every count one kind,
    and every rate together with timeliness (及时完成率 / 完成时效 / 按时完成率 may all say
    "on time")."""
    from embeddings.text import measure_family

    fam = measure_family(kind)
    return "rate" if fam in ("rate", "timeliness") else fam


_ON_TIME = ("及时", "按时", "按期", "如期", "时效")


def grade_against_number(a, b) -> bool:  # type: ignore[no-untyped-def]
    """A grade (显著, 明显) against a number (100%, 23人次): no compatible target — unless one
    name is about timeliness, which may be written as 及时 or as a rate."""
    forms = {a.form, b.form}
    if "qualitative" not in forms or not forms & {"numeric", "range"}:
        return False
    return not any(w in it.name for it in (a, b) for w in _ON_TIME)


def same_work(a, b) -> bool:  # type: ignore[no-untyped-def]
    """One department, or departments of one county / district."""
    from embeddings.text import region_of

    if a.department and a.department == b.department:
        return True
    ra, rb = region_of(a.department), region_of(b.department)
    return bool(ra and ra == rb and ra[-1] in "县区镇乡旗")


def excluded() -> set[frozenset[str]]:
    out: set[frozenset[str]] = set()
    for path in EXCLUDE:
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                out.add(frozenset((r["uri_a"], r["uri_b"])))
    return out


def draw(index) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    from embeddings.duplicates import scope_of
    from embeddings.text import measure_family

    items = index.items
    words = [content_words(it.name) for it in items]
    skip = excluded()
    rows = []
    for i, j in combinations(range(len(items)), 2):
        a, b = items[i], items[j]
        if not same_work(a, b) or frozenset((a.id, b.id)) in skip:
            continue
        if a.table == b.table and a.name == b.name:
            continue
        wa, wb = words[i], words[j]
        generic_pair = (
            not wa
            and not wb
            and a.table == b.table
            and measure_family(a.measure) is not None
            and measure_family(a.measure) == measure_family(b.measure)
        )
        if not (wa & wb) and not generic_pair:
            continue
        fa, fb = coarse_measure(a.measure), coarse_measure(b.measure)
        if fa and fb and fa != fb:
            continue  # a count and a rate, a rate and a deadline: never one measure
        if grade_against_number(a, b):
            continue
        if a.id > b.id:
            a, b = b, a
        rows.append(
            {
                "scope": scope_of(a, b),
                **pair_fields(a, b),
            }
        )
    rows.sort(key=lambda r: (r["dept_a"], r["src_a"], r["src_b"]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = draw(open_demo_index(args.data_dir))
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    by: dict[str, int] = {}
    for r in rows:
        by[r["scope"]] = by.get(r["scope"], 0) + 1
    print(f"{len(rows)} candidate pairs → {args.out} {by}")


if __name__ == "__main__":
    main()
