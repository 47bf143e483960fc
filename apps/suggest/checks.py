"""The review's own checks, run on candidate suggestions before they are offered.

A suggestion must never carry a name or a target the review would flag in the drafted table
(a cost target without money, a deadline outside the drafting year, a vague grade, a name with
no measurable object …). Rather than copying the review's word lists, the candidates are
written as the rows of a throwaway draft (:mod:`apps.draft`, the template's CSV read back by
the ``template`` reader: the same path a drafted table takes) and the review's
indicator-level rules (:data:`INDICATOR_SECTIONS` of :data:`apps.review.rules.RULES`) run on it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from apps.draft import Draft, DraftIndicator, read_draft
from apps.review.rules import RULES, Context, run_rules
from kg.errors import SourceError

#: the report sections whose rules judge one indicator row on its own (name, category, target,
#: dates); the table-level ones (amounts, coverage, duplicates, structure) are left out
INDICATOR_SECTIONS = frozenset({"targets", "names", "categories", "dates"})
#: rules about the name alone: the name is unusable whatever the target
NAME_RULES = frozenset({"vague-name"})


@dataclass(frozen=True)
class Row:
    level1: str
    level2: str
    name: str
    target: str


def indicator_rules() -> frozenset[str]:

    return frozenset(r.id for r in RULES.values() if r.check and r.section in INDICATOR_SECTIONS)


def flags(rows: Sequence[Row], year: int) -> list[set[str]]:
    """For each row, the ids of the review rules that flag it in a table of ``year``.

    A row the template reader refuses (a label no scheme knows) gets ``{"unreadable"}``.
    """

    out: list[set[str]] = [set() for _ in rows]
    if not rows:
        return out
    inds: list[DraftIndicator] = []
    keep: list[int] = []
    for n, r in enumerate(rows):
        try:
            inds.append(
                DraftIndicator(level1=r.level1, level2=r.level2, name=r.name, target=r.target)
            )
            keep.append(n)
        except ValueError:
            out[n].add("unreadable")
    draft = Draft(department="（建议检查）", fiscal_year=year, tasks=[], indicators=inds)
    with tempfile.TemporaryDirectory(prefix="ikg-suggest-") as tmp:
        try:
            _, parsed = read_draft(draft, Path(tmp))
        except SourceError:
            for n in keep:
                out[n].add("unreadable")
            return out
    for f in run_rules(parsed, Context(), only=set(indicator_rules())):
        # the draft has no tasks: indicator n stands on CSV line 3 + n (header, 表 row)
        n = (f.line or 0) - 3
        if 0 <= n < len(keep):
            out[keep[n]].add(f.rule)
    return out
