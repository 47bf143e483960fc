"""Duplicate indicators: scored pairs above a threshold, explained, grouped into clusters.

Pipeline (:func:`find_duplicates`):

1. candidates — each indicator's nearest neighbours by dense and by lexical score, searched
   once per distinct vector and name (:meth:`IndicatorIndex.candidate_pairs`);
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
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from kg.i18n import form_name, tr

from ._optional import require
from .index import IndicatorIndex, Progress, score_fields
from .scoring import PairScore
from .text import IndicatorText, clean, indicator_dict

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
    """Human-readable reasons for a reviewer, in the output language (Chinese unless the
    command line was asked for English: kg.i18n)."""
    out: list[str] = []
    ra, rb = ps.residues
    if ps.sibling:
        ja, jb = "、".join(ra), "、".join(rb)
        out.append(tr(f"不同对象：{ja} / {jb}", f"different objects: {ja} / {jb}"))
    elif ra and rb:
        ja, jb = "、".join(ra), "、".join(rb)
        out.append(tr(f"各有不同内容：{ja} / {jb}", f"each adds words: {ja} / {jb}"))
    elif ra or rb:
        j = "、".join(ra or rb)
        out.append(tr(f"一方仅多限定：{j}", f"one name only adds: {j}"))
    if ps.shared:
        j = "、".join(ps.shared[:5])
        out.append(tr(f"共同词：{j}", f"shared terms: {j}"))
    if a.unit and b.unit:
        out.append(
            tr(f"同单位 {a.unit}", f"same unit {a.unit}")
            if a.unit == b.unit
            else tr(f"单位不同 {a.unit}/{b.unit}", f"units differ {a.unit}/{b.unit}")
        )
    if a.form and b.form:
        fa, fb = form_name(a.form), form_name(b.form)
        out.append(
            tr(f"同目标形式 {fa}", f"same target form {fa}")
            if a.form == b.form
            else tr(f"目标形式不同 {fa}/{fb}", f"target forms differ {fa}/{fb}")
        )
    if a.level2 and b.level2:
        out.append(
            tr(f"同二级指标 {a.level2}", f"same level-2 {a.level2}")
            if a.level2 == b.level2
            else tr(f"二级指标不同 {a.level2}/{b.level2}", f"level-2 differ {a.level2}/{b.level2}")
        )
    if ps.signals.get("value") == 0.0:
        out.append(
            tr(f"目标值不同 {a.target}/{b.target}", f"target values differ {a.target}/{b.target}")
        )
    ma, mb = a.measure, b.measure
    if ma and mb and ma != mb:
        out.append(tr(f"度量不同 {ma}/{mb}", f"measures differ {ma}/{mb}"))
    if ps.dense is not None:
        out.append(
            tr(
                f"语义相似度 {ps.dense:.2f}（换算后 {ps.dense_rescaled:.2f}），"
                f"字面相似度 {ps.lexical:.2f}",
                f"dense {ps.dense:.2f} (rescaled {ps.dense_rescaled:.2f}), lexical {ps.lexical:.2f}",
            )
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
        return {
            "score": self.score.score,
            "band": self.score.band,
            "label": self.label,
            "scope": self.scope,
            "cluster": self.cluster,
            "a": indicator_dict(self.a),
            "b": indicator_dict(self.b),
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
            "members": [indicator_dict(m, "brief") for m in self.members],
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
    #: pairs that passed the threshold (all of them are in the clusters)
    pairs_total: int = 0
    #: None: every passing pair is in ``pairs``; else at most this many per indicator are
    listed_per_indicator: int | None = None


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
    list_per_indicator: int | None = None,
    progress: Progress | None = None,
) -> DuplicateReport:
    """Pairs scoring at least ``threshold`` (default: the model's duplicate band), clustered.

    Pass ``threshold=index.profile.t_review`` to include the review band.

    Every pair that passes is kept as ``(i, j, score)`` in arrays and clusters are made from all
    of them. Each passing pair is also listed (explained, in ``report.pairs`` and its cluster's
    ``pairs``) unless more than :data:`LISTED_PAIRS_MAX` pass, or ``list_per_indicator`` is
    given: then an indicator's best ``list_per_indicator`` pairs are listed (default
    :data:`LIST_PER_INDICATOR`; within-table pairs first, then by score) and
    ``report.pairs_total`` says how many passed. A name that thousands of tables share would
    otherwise list millions of pairs (n² for n copies).

    ``progress(message, done, total)`` is called once the candidates are found and after each
    batch of scored candidates (a sweep over a million indicators takes tens of minutes).
    """
    np = require("numpy")
    prof = index.profile
    t = prof.t_duplicate if threshold is None else threshold
    items = index.items
    departments = {it.department for it in items}
    cands = [
        (i, j)
        for i, j in sorted(index.candidate_pairs(k))
        if scope == "all" or scope_of(items[i], items[j]) == scope
    ]
    # scored in batches: only what passes stays in memory, as arrays (millions of candidates
    # at scale); the scores themselves are kept while few enough pass
    if progress:
        progress(tr("候选对", "candidate pairs"), len(cands), len(cands))
    listing_all = list_per_indicator is None
    kept: dict[tuple[int, int], PairScore] = {}
    ii: list[Any] = []
    jj: list[Any] = []
    ss: list[Any] = []
    for start in range(0, len(cands), SCORE_BATCH):
        chunk = cands[start : start + SCORE_BATCH]
        scores = index.pairs(chunk)
        passed = [n for n, ps in enumerate(scores) if ps.score >= t]
        ii.append(np.fromiter((chunk[n][0] for n in passed), dtype=np.int64, count=len(passed)))
        jj.append(np.fromiter((chunk[n][1] for n in passed), dtype=np.int64, count=len(passed)))
        ss.append(
            np.fromiter((scores[n].score for n in passed), dtype=np.float64, count=len(passed))
        )
        if listing_all:
            kept.update((chunk[n], scores[n]) for n in passed)
            if len(kept) > LISTED_PAIRS_MAX:
                listing_all = False
                kept.clear()
        if progress:
            progress(tr("比较候选对", "scoring pairs"), start + len(chunk), len(cands))
    del cands
    pi = np.concatenate(ii) if ii else np.zeros(0, dtype=np.int64)
    pj = np.concatenate(jj) if jj else np.zeros(0, dtype=np.int64)
    ps_ = np.concatenate(ss) if ss else np.zeros(0, dtype=np.float64)
    del ii, jj, ss
    if not listing_all:
        per = list_per_indicator or LIST_PER_INDICATOR
        listed = _best_per_indicator(index, pi, pj, ps_, per)
        for start in range(0, len(listed), SCORE_BATCH):
            chunk = listed[start : start + SCORE_BATCH]
            kept.update(zip(chunk, index.pairs(chunk), strict=True))

    common_data = _common_by_data(index, pi, pj, len(departments))

    pairs: list[DuplicatePair] = []
    for (i, j), ps in kept.items():
        a, b = items[i], items[j]
        sc = scope_of(a, b)
        common = (is_common_name(a.name) and is_common_name(b.name)) or (
            i in common_data and j in common_data
        )
        pairs.append(DuplicatePair(a, b, ps, sc, _label(ps, sc, common), explain(a, b, ps)))

    clusters = _clusters(index, pi, pj, ps_, pairs, t, keep_unlisted=not listing_all)
    pairs.sort(key=lambda p: (p.scope != "within-table", -p.score.score))
    return DuplicateReport(
        pairs,
        clusters,
        t,
        index.model_id,
        prof.calibrated,
        len(departments),
        (prof.t_duplicate, prof.t_review, prof.t_related),
        pairs_total=len(pi),
        listed_per_indicator=None if listing_all else (list_per_indicator or LIST_PER_INDICATOR),
    )


#: candidate pairs scored at once by find_duplicates
SCORE_BATCH = 20_000

#: more passing pairs than this: only each indicator's best LIST_PER_INDICATOR are listed
LISTED_PAIRS_MAX = 500_000
LIST_PER_INDICATOR = 3

#: components up to this size get every pair scored before they are split
EXACT_COMPONENT = 80

#: components above this size are split by signature, not by complete linkage (whose
#: dense n x n similarities would need gigabytes: 3,800 copies of one name at 1M indicators)
DENSE_COMPONENT_MAX = 2_000


def _split_by_signature(
    members: Any, sig: Any, t: float, score: Callable[[int, int, int], float]
) -> list[tuple[list[int], float]]:
    """A very large component as clusters of copies: the members sharing a signature (every
    pair among them scores the same) form a cluster when that score reaches ``t``; members
    alone with their signature stay out of clusters (their pairs are still listed)."""
    np = require("numpy")
    ms = sig[members]
    order = np.argsort(ms, kind="stable")
    cuts = np.flatnonzero(np.diff(ms[order])) + 1
    out = []
    for part in np.split(members[order], cuts):
        if len(part) < 2:
            continue
        sc = score(int(sig[part[0]]), int(part[0]), int(part[1]))
        if sc >= t:
            out.append((sorted(part.tolist()), float(sc)))
    return out


def _best_per_indicator(
    index: IndicatorIndex, pi: Any, pj: Any, ps: Any, per: int
) -> list[tuple[int, int]]:
    """Pairs kept while both ends have fewer than ``per``: within-table first, then by score."""
    np = require("numpy")
    tables = {}
    tid = np.fromiter(
        (tables.setdefault(it.table, len(tables)) for it in index.items),
        dtype=np.int64,
        count=len(index.items),
    )
    within = tid[pi] == tid[pj]
    order = np.lexsort((-ps, ~within))
    oi, oj = pi[order], pj[order]

    def ends() -> Iterator[tuple[int, int]]:  # in slices: millions of pairs at scale
        for start in range(0, len(oi), 1_000_000):
            yield from zip(
                oi[start : start + 1_000_000].tolist(),
                oj[start : start + 1_000_000].tolist(),
                strict=True,
            )

    return [(int(oi[n]), int(oj[n])) for n in keep_per_end(ends(), per)]


def keep_per_end(ends: Iterable[tuple[Hashable, Hashable]], per: int) -> list[int]:
    """Positions of the pairs kept, in order, while both ends have fewer than ``per`` kept
    (the caller orders the pairs best first)."""
    used: dict[Hashable, int] = {}
    out = []
    for n, (a, b) in enumerate(ends):
        if used.get(a, 0) < per and used.get(b, 0) < per:
            used[a] = used.get(a, 0) + 1
            used[b] = used.get(b, 0) + 1
            out.append(n)
    return out


def _common_by_data(index: IndicatorIndex, pi: Any, pj: Any, n_departments: int) -> set[int]:
    """Indicators whose kept neighbours (and themselves) span at least half the departments
    (and at least 3): a name family most departments carry."""
    np = require("numpy")
    if n_departments < 3 or len(pi) == 0:
        return set()
    depts: dict[str, int] = {}
    did = np.fromiter(
        (depts.setdefault(it.department, len(depts)) for it in index.items),
        dtype=np.int64,
        count=len(index.items),
    )
    nodes = np.unique(np.concatenate([pi, pj]))
    # (indicator, department) for each neighbour, each direction, and the indicator itself
    who = np.concatenate([pi, pj, nodes])
    dep = np.concatenate([did[pj], did[pi], did[nodes]])
    key = np.unique(who * len(depts) + dep)
    counts = np.bincount(key // len(depts), minlength=len(index.items))
    need = max(3, (n_departments + 1) // 2)
    return set(np.nonzero(counts >= need)[0].tolist())


def _clusters(
    index: IndicatorIndex,
    pi: Any,
    pj: Any,
    ps: Any,
    pairs: list[DuplicatePair],
    t: float,
    *,
    keep_unlisted: bool = False,
) -> list[Cluster]:
    np = require("numpy")
    hierarchy = require("scipy.cluster.hierarchy")
    sparse = require("scipy.sparse")
    csgraph = require("scipy.sparse.csgraph")
    n_items = len(index.items)
    if len(pi) == 0:
        return []
    graph = sparse.coo_matrix((np.ones(len(pi)), (pi, pj)), shape=(n_items, n_items))
    _, label = csgraph.connected_components(graph, directed=False)
    nodes = np.unique(np.concatenate([pi, pj]))
    # each kept pair once, under its component
    by_pair = np.argsort(label[pi], kind="stable")
    pair_labels = label[pi][by_pair]
    by_node = nodes[np.argsort(label[nodes], kind="stable")]
    node_labels = label[by_node]

    # items that agree on everything a pair score reads (index.score_fields) score the same
    # with each other: one score per such signature fills the pairs of copies that no
    # candidate list held
    sig_of: dict[tuple, int] = {}
    sig = np.fromiter(
        (sig_of.setdefault(score_fields(it), len(sig_of)) for it in index.items),
        dtype=np.int64,
        count=n_items,
    )
    sig_score: dict[int, float] = {}

    def same_signature_score(s_: int, a: int, b: int) -> float:
        if s_ not in sig_score:
            sig_score[s_] = index.pairs([(a, b)])[0].score
        return sig_score[s_]

    groups: list[tuple[list[int], float]] = []
    for lab in np.unique(node_labels).tolist():
        lo, hi = np.searchsorted(node_labels, [lab, lab + 1])
        members_arr = np.sort(by_node[lo:hi])
        members = members_arr.tolist()
        n = len(members)
        if n > DENSE_COMPONENT_MAX:
            groups.extend(_split_by_signature(members_arr, sig, t, same_signature_score))
            continue
        sim = np.zeros((n, n))
        np.fill_diagonal(sim, 1.0)
        plo, phi = np.searchsorted(pair_labels, [lab, lab + 1])
        sel = by_pair[plo:phi]
        a_ = np.searchsorted(members_arr, pi[sel])
        b_ = np.searchsorted(members_arr, pj[sel])
        sim[a_, b_] = ps[sel]
        sim[b_, a_] = ps[sel]
        # a small component gets every pair scored; in a large one a pair that no
        # candidate list held counts as dissimilar (it is not among either's neighbours)
        if n <= EXACT_COMPONENT:
            ua, ub = np.nonzero(np.triu(sim == 0, 1))
            slots = list(zip(ua.tolist(), ub.tolist(), strict=True))
            missing = [(members[a], members[b]) for a, b in slots]
            for (a, b), p in zip(slots, index.pairs(missing), strict=True):
                sim[a, b] = sim[b, a] = p.score
        else:
            ms = sig[members_arr]
            ua, ub = np.nonzero(np.triu((sim == 0) & (ms[:, None] == ms[None, :]), 1))
            for a, b in zip(ua.tolist(), ub.tolist(), strict=True):
                sim[a, b] = sim[b, a] = same_signature_score(int(ms[a]), members[a], members[b])
        if n == 2 or sim.min() >= t:
            groups.append((members, float(sim.min())))
            continue
        # chained: complete linkage keeps every pair inside a cluster at ≥ t
        dist = 1.0 - sim[np.triu_indices(n, 1)]
        z = hierarchy.linkage(np.clip(dist, 0, None), method="complete")
        labels = hierarchy.fcluster(z, t=1.0 - t, criterion="distance")
        for lab2 in sorted(set(labels)):
            idx = [a for a in range(n) if labels[a] == lab2]
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
        if not c.pairs and keep_unlisted:  # its pairs were not listed (see find_duplicates)
            c.scopes = {scope_of(c.members[0], m) for m in c.members[1:]}
            c.label = (
                "suspected duplicate" if c.min_similarity >= index.profile.t_duplicate else "review"
            )
    return [c for c in clusters if c.pairs or keep_unlisted]
