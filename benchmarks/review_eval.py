"""Precision and recall of the review rules against the hand-labelled seed indicators.

    python benchmarks/review_eval.py            # print the table
    python benchmarks/review_eval.py --check    # also exit 1 below the acceptance bar
    python benchmarks/review_eval.py --json     # the figures as JSON

The labels (tests/data/review_labels.csv) were made by hand from the real seed
table: one row per indicator (its line), one 0/1 column per rule, and the
reason. The acceptance bar: precision ≥ 0.9 for every rule with
positives and overall, recall 1.0 on vague targets.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LABELS = ROOT / "tests" / "data" / "review_labels.csv"
SEED_NAME = "000_3b89ef93caa61199.txt"


def seed_path() -> Path:
    shared = (
        Path(os.environ.get("INDICATOR_KG_TEST_SHARED", ROOT.parent / "shared"))
        / "seeds"
        / SEED_NAME
    )
    return shared if shared.exists() else ROOT / "data" / "demo" / SEED_NAME


@dataclass
class Score:
    rule: str
    labelled: int
    flagged: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    false_positives: list[int]
    false_negatives: list[int]


def load_labels(path: Path = LABELS) -> tuple[list[str], dict[str, set[int]], set[int]]:
    """Rule ids, rule → lines labelled positive, and every labelled line."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = [c for c in rows[0] if c not in ("line", "name", "level2", "target", "reason")]
    rules = [c.replace("_", "-") for c in cols]
    positives = {
        r: {int(row["line"]) for row in rows if row[c] == "1"}
        for r, c in zip(rules, cols, strict=True)
    }
    return rules, positives, {int(row["line"]) for row in rows}


def evaluate(seed: Path | None = None, labels: Path = LABELS) -> list[Score]:
    from apps.review import review_file

    rules, positives, lines = load_labels(labels)
    report = review_file(seed or seed_path())
    scores = []
    for rule in rules:
        flagged = {f.line for f in report.findings if f.rule == rule and f.line in lines}
        gold = positives[rule]
        tp, fp, fn = len(flagged & gold), sorted(flagged - gold), sorted(gold - flagged)
        scores.append(
            Score(
                rule=rule,
                labelled=len(gold),
                flagged=len(flagged),
                tp=tp,
                fp=len(fp),
                fn=len(fn),
                precision=tp / len(flagged) if flagged else None,
                recall=tp / len(gold) if gold else None,
                false_positives=fp,
                false_negatives=fn,
            )
        )
    tp = sum(s.tp for s in scores)
    fl = sum(s.flagged for s in scores)
    gd = sum(s.labelled for s in scores)
    scores.append(
        Score(
            "(all)",
            gd,
            fl,
            tp,
            fl - tp,
            gd - tp,
            tp / fl if fl else None,
            tp / gd if gd else None,
            [],
            [],
        )
    )
    return scores


def passes(scores: list[Score]) -> bool:
    by = {s.rule: s for s in scores}
    precise = all(s.precision is None or s.precision >= 0.9 for s in scores)
    return precise and by["vague-target"].recall == 1.0


def _f(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 below the acceptance bar")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    scores = evaluate()
    if args.json:
        print(json.dumps([asdict(s) for s in scores], ensure_ascii=False, indent=2))
    else:
        print(f"seed: {seed_path()}  labels: {LABELS.relative_to(ROOT)}")
        print(
            f"{'rule':32} {'gold':>5} {'flag':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'recall':>6}"
        )
        for s in scores:
            print(
                f"{s.rule:32} {s.labelled:5} {s.flagged:5} {s.tp:4} {s.fp:4} {s.fn:4} "
                f"{_f(s.precision):>6} {_f(s.recall):>6}"
            )
            if s.false_positives or s.false_negatives:
                print(
                    f"{'':32} false positives at lines {s.false_positives}, "
                    f"false negatives at lines {s.false_negatives}"
                )
    ok = passes(scores)
    if not args.json:
        print("acceptance (precision ≥ 0.9, vague-target recall 1.0):", "PASS" if ok else "FAIL")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
