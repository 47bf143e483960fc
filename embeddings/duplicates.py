"""Duplicate indicators: scored pairs above a threshold, explained, grouped into clusters.

Pipeline (:func:`find_duplicates`):

1. candidates — each indicator's nearest neighbours by dense and by lexical score;
2. each candidate pair scored by :func:`embeddings.scoring.score_pair` (hybrid text
   score weighed by structural agreement) and put in a band (duplicate / review /
   related) with the model's calibrated thresholds;
3. scope — ``within-table`` (same table), ``across-departments``, or
   ``across-tables`` (one department, different tables or years);
4. label — within a table a pair is a *suspected duplicate* (band duplicate) or
   *review*; across tables, indicators that most departments carry anyway
   (预算执行率, 服务对象满意度 …: :data:`COMMON_PATTERNS`, or a name cluster spanning
   at least half of the departments, and at least 3) are a *common indicator*;
5. clusters — connected components of the kept pairs, split by complete linkage
   when their minimum pairwise score falls below the threshold, so a chain
   A~B~C never puts unrelated A and C in one cluster. Each cluster reports its
   minimum pairwise score.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from ._optional import require
from .index import IndicatorIndex
from .scoring import PairScore
from .text import IndicatorText, clean

Scope = Literal["within-table", "across-departments", "across-tables"]
ScopeFilter = Literal["within-table", "across-departments", "all"]

#: names that most departments carry (national 共性指标 and the usual satisfaction rows)
COMMON_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"(预算|资金|经费)(执行|支出)(率|进度)",
        r"支出进度",
        r"资金(到位|拨付|下达)",
        r"预算.*(控制|范围内)",
        r"成本控制",
        r"政府采购",
        r"(按时|及时|按计划|按期)完成率",
        r"完成及时(率|性)",
        r"验收(合格|通过)率",
        r"满意(度|率)$",
        r"知晓(率|度)$",
    )
)


def is_common_name(name: str) -> bool:
    c = clean(name)
    return any(p.search(c) for p in COMMON_PATTERNS)


def scope_of(a: IndicatorText, b: IndicatorText) -> Scope:
    if a.table == b.table:
        return "within-table"
    if a.department != b.department:
        return "across-departments"
    return "across-tables"


def explain(a: IndicatorText, b: IndicatorText, ps: PairScore) -> list[str]:
    """Human-readable reasons, in Chinese and English, for a reviewer."""
    out: list[str] = []
    ra, rb = ps.residues
    if ps.sibling:
        out.append(f"不同对象 different objects: {'、'.join(ra)} / {'、'.join(rb)}")
    elif ra and rb:
        out.append(f"各有不同内容 each adds words: {'、'.join(ra)} / {'、'.join(rb)}")
    elif ra or rb:
        out.append(f"一方仅多限定 one name only adds: {'、'.join(ra or rb)}")
    if ps.shared:
        out.append("共同词 shared terms: " + "、".join(ps.shared[:5]))
    if a.unit and b.unit:
        out.append(
            f"同单位 same unit {a.unit}"
            if a.unit == b.unit
            else f"单位不同 units differ {a.unit}/{b.unit}"
        )
    if a.form and b.form:
        out.append(
            f"同目标形式 same target form {a.form}"
            if a.form == b.form
            else f"目标形式不同 target forms differ {a.form}/{b.form}"
        )
    if a.level2 and b.level2:
        out.append(
            f"同二级指标 same level-2 {a.level2}"
            if a.level2 == b.level2
            else f"二级指标不同 level-2 differ {a.level2}/{b.level2}"
        )
    if ps.signals.get("value") == 0.0:
        out.append(f"目标值不同 target values differ {a.target}/{b.target}")
    ma, mb = a.measure, b.measure
    if ma and mb and ma != mb:
        out.append(f"度量不同 measures differ {ma}/{mb}")
    if ps.dense is not None:
        out.append(
            f"dense {ps.dense:.2f} (rescaled {ps.dense_rescaled:.2f}), lexical {ps.lexical:.2f}"
        )
    return out


@dataclass
class DuplicatePair:
    a: IndicatorText
    b: IndicatorText
    score: PairScore
    scope: Scope
    label: str
    reasons: list[str]
    cluster: int | None = None

    def as_dict(self) -> dict[str, Any]:
        def side(it: IndicatorText) -> dict[str, Any]:
            return {
                "uri": it.id,
                "name": it.name,
                "level1": it.level1,
                "level2": it.level2,
                "target": it.target,
                "department": it.department,
                "year": it.year,
                "table": it.table,
                "source": f"{it.source_file}:{it.source_line}",
            }

        return {
            "score": self.score.score,
            "band": self.score.band,
            "label": self.label,
            "scope": self.scope,
            "cluster": self.cluster,
            "a": side(self.a),
            "b": side(self.b),
            "dense": self.score.dense,
            "lexical": self.score.lexical,
            "structure": self.score.structure,
            "shared_terms": self.score.shared,
            "sibling": self.score.sibling,
            "residues": {"a": self.score.residues[0], "b": self.score.residues[1]},
            "same_unit": None if not (self.a.unit and self.b.unit) else self.a.unit == self.b.unit,
            "same_target_form": None
            if not (self.a.form and self.b.form)
            else self.a.form == self.b.form,
            "reasons": self.reasons,
        }


@dataclass
class Cluster:
    id: int
    members: list[IndicatorText]
    min_similarity: float
    scopes: set[str]
    label: str
    pairs: list[DuplicatePair] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.id,
            "label": self.label,
            "scopes": sorted(self.scopes),
            "min_similarity": round(self.min_similarity, 4),
            "members": [
                {
                    "uri": m.id,
                    "name": m.name,
                    "department": m.department,
                    "year": m.year,
                    "source": f"{m.source_file}:{m.source_line}",
                }
                for m in self.members
            ],
        }


@dataclass
class DuplicateReport:
    pairs: list[DuplicatePair]
    clusters: list[Cluster]
    threshold: float
    model_id: str
    calibrated: bool
    departments: int
    bands: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _label(ps: PairScore, scope: Scope, common: bool) -> str:
    if scope != "within-table" and common:
        return "common indicator"
    if ps.band == "duplicate":
        return "suspected duplicate"
    if ps.band == "review":
        return "review"
    return "related"


def find_duplicates(
    index: IndicatorIndex,
    *,
    threshold: float | None = None,
    scope: ScopeFilter = "all",
    k: int = 20,
) -> DuplicateReport:
    """Pairs scoring at least ``threshold`` (default: the model's duplicate band), clustered.

    Pass ``threshold=index.profile.t_review`` to include the review band.
    """
    prof = index.profile
    t = prof.t_duplicate if threshold is None else threshold
    items = index.items
    departments = {it.department for it in items}
    cands = [
        (i, j)
        for i, j in sorted(index.candidate_pairs(k))
        if scope == "all" or scope_of(items[i], items[j]) == scope
    ]
    # scored in batches: only the pairs that pass stay in memory (millions of candidates at scale)
    kept: dict[tuple[int, int], PairScore] = {}
    for start in range(0, len(cands), SCORE_BATCH):
        chunk = cands[start : start + SCORE_BATCH]
        for ij, ps in zip(chunk, index.pairs(chunk), strict=True):
            if ps.score >= t:
                kept[ij] = ps

    # common by data: a name family spanning ≥ half the departments (and ≥ 3)
    common_data: set[int] = set()
    if len(departments) >= 3:
        adj: dict[int, set[int]] = defaultdict(set)
        for i, j in kept:
            adj[i].add(j)
            adj[j].add(i)
        for i, nbrs in adj.items():
            depts = {items[x].department for x in nbrs | {i}}
            if len(depts) >= max(3, (len(departments) + 1) // 2):
                common_data.add(i)

    pairs: list[DuplicatePair] = []
    for (i, j), ps in kept.items():
        a, b = items[i], items[j]
        sc = scope_of(a, b)
        common = (is_common_name(a.name) and is_common_name(b.name)) or (
            i in common_data and j in common_data
        )
        pairs.append(DuplicatePair(a, b, ps, sc, _label(ps, sc, common), explain(a, b, ps)))

    clusters = _clusters(index, kept, pairs, t)
    pairs.sort(key=lambda p: (p.scope != "within-table", -p.score.score))
    return DuplicateReport(
        pairs,
        clusters,
        t,
        index.model_id,
        prof.calibrated,
        len(departments),
        (prof.t_duplicate, prof.t_review, prof.t_related),
    )


#: candidate pairs scored at once by find_duplicates
SCORE_BATCH = 20_000

#: components up to this size get every pair scored before they are split
EXACT_COMPONENT = 80


def _clusters(
    index: IndicatorIndex,
    kept: dict[tuple[int, int], PairScore],
    pairs: list[DuplicatePair],
    t: float,
) -> list[Cluster]:
    np = require("numpy")
    hierarchy = require("scipy.cluster.hierarchy")
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in kept:
        parent[find(i)] = find(j)
    comps: dict[int, list[int]] = defaultdict(list)
    for x in list(parent):
        comps[find(x)].append(x)

    groups: list[tuple[list[int], float]] = []
    for members in comps.values():
        members.sort()
        n = len(members)
        sim = np.zeros((n, n))
        np.fill_diagonal(sim, 1.0)
        pos = {m: a for a, m in enumerate(members)}
        for (i, j), ps in kept.items():
            if i in pos and j in pos:
                sim[pos[i], pos[j]] = sim[pos[j], pos[i]] = ps.score
        # a small component gets every pair scored; in a large one a pair that no
        # candidate list held counts as dissimilar (it is not among either's neighbours)
        if n <= EXACT_COMPONENT:
            missing = [
                (members[a], members[b])
                for a in range(n)
                for b in range(a + 1, n)
                if (members[a], members[b]) not in kept
            ]
            for (i, j), ps in zip(missing, index.pairs(missing), strict=True):
                sim[pos[i], pos[j]] = sim[pos[j], pos[i]] = ps.score
        if n == 2 or sim.min() >= t:
            groups.append((members, float(sim.min())))
            continue
        # chained: complete linkage keeps every pair inside a cluster at ≥ t
        dist = 1.0 - sim[np.triu_indices(n, 1)]
        z = hierarchy.linkage(np.clip(dist, 0, None), method="complete")
        labels = hierarchy.fcluster(z, t=1.0 - t, criterion="distance")
        for lab in sorted(set(labels)):
            idx = [a for a in range(n) if labels[a] == lab]
            if len(idx) < 2:
                continue
            groups.append(([members[a] for a in idx], float(sim[np.ix_(idx, idx)].min())))

    clusters: list[Cluster] = []
    where: dict[int, int] = {}
    for cid, (members, mn) in enumerate(sorted(groups, key=lambda g: (-len(g[0]), -g[1])), start=1):
        for m in members:
            where[m] = cid
        clusters.append(Cluster(cid, [index.items[m] for m in members], mn, set(), ""))
    by_id = {c.id: c for c in clusters}
    for p in pairs:
        ia, ib = index.by_id[p.a.id], index.by_id[p.b.id]
        if where.get(ia) is not None and where.get(ia) == where.get(ib):
            p.cluster = where[ia]
            c = by_id[p.cluster]
            c.pairs.append(p)
            c.scopes.add(p.scope)
    for c in clusters:
        labels = {p.label for p in c.pairs}
        for lab in ("suspected duplicate", "review", "common indicator", "related"):
            if lab in labels:
                c.label = lab
                break
    return [c for c in clusters if c.pairs]
