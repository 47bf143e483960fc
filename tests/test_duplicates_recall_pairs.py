"""The recall pairs (benchmarks/data/duplicates_recall_pairs.tsv) are the draw, labelled.

The draw (benchmarks/duplicates_recall_draw.py) reads no score; the labelled file must hold
exactly its pairs, in its order, each labelled duplicate / related / different with a reason,
and none of the pairs the listing or the held-out file already label.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_recall_pairs_are_the_draw_labelled() -> None:
    draw = _rows("duplicates_recall_draw.tsv")
    labelled = _rows("duplicates_recall_pairs.tsv")
    assert [(r["uri_a"], r["uri_b"]) for r in labelled] == [(r["uri_a"], r["uri_b"]) for r in draw]
    assert {r["label"] for r in labelled} <= {"duplicate", "related", "different"}
    assert all(r["reason"].strip() for r in labelled)
    dups = [r for r in labelled if r["label"] == "duplicate"]
    assert {(r["name_a"], r["name_b"]) for r in dups} >= {("支出进度达标率", "预算执行率")}
    assert len({r["reason"] for r in dups}) == len(dups)  # each duplicate its own reason


def test_recall_pairs_are_new() -> None:
    seen = {
        frozenset((r["uri_a"], r["uri_b"]))
        for name in ("duplicates_listing_pairs.tsv", "duplicates_heldout.tsv")
        for r in _rows(name)
    }
    pairs = [frozenset((r["uri_a"], r["uri_b"])) for r in _rows("duplicates_recall_pairs.tsv")]
    assert len(set(pairs)) == len(pairs)
    assert not seen & set(pairs)
