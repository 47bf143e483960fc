"""Duplicate indicators: scored pairs above a threshold, explained, grouped into clusters.

Pipeline (:func:`find_duplicates`):

1. candidates — each indicator's nearest neighbours by dense and by lexical score, searched
   once per distinct vector and name (:meth:`IndicatorIndex.candidate_pairs`);
2. each candidate pair scored by :func:`embeddings.scoring.score_pair` (hybrid text
   score weighed by structural agreement) and put in a band (duplicate / review /
   related) with the model's calibrated thresholds and the band caps (a different
   measure, object, unit, programme: at most related); the listing shows the duplicate
   band unless asked for more (``band``);
3. scope — ``within-table`` (same table), ``across-departments``, or
   ``across-tables`` (one department, different tables or years);
4. label — a pair is a *suspected duplicate* (band duplicate), *review* or *related*; across
   tables, indicators whose name is carried by at least
   :data:`COMMON_SHARE` of the departments, and at least :data:`COMMON_MIN_DEPARTMENTS`,
   are a *common indicator* (共性指标) — a stated share, not a list of usual names;
5. clusters — connected components of the kept pairs, split by complete linkage
   when their minimum pairwise score falls below the threshold, so a chain
   A~B~C never puts unrelated A and C in one cluster. Each cluster reports its
   minimum pairwise score.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kg.i18n import form_name, tr

from ._optional import require
from .index import IndicatorIndex, Progress, score_fields
from .pair_workers import scored_slices
from .scoring import PairScore, Profile
from .text import IndicatorText, clean, indicator_dict, region_of

Scope = Literal["within-table", "across-departments", "across-tables"]
ScopeFilter = Literal["within-table", "across-departments", "all"]
ListBand = Literal["duplicate", "review", "related"]


def scope_of(a: IndicatorText, b: IndicatorText) -> Scope:
    if a.table == b.table:
        return "within-table"
    if a.department != b.department:
        return "across-departments"
    return "across-tables"


class _CapText(dict):  # type: ignore[type-arg]
    """The reason a cap gives, in the output language (read when the listing is made)."""

    def __getitem__(self, cap: str) -> str:
        zh, en = super().__getitem__(cap)
        return tr(zh, en)


_CAP_TEXT = _CapText(
    measure=("至多相关：度量不同", "at most related: different measures"),
    unit=("至多相关：单位不同", "at most related: different units"),
    value=("至多相关：目标值不同", "at most related: different target values"),
    object=("至多相关：对象或人群不同", "at most related: different objects or people"),
    common=(
        "至多相关：跨部门的通用指标",
        "at most related: a generic indicator across departments",
    ),
    year=("至多相关：跨部门且年度不同", "at most related: other department, other year"),
    region=("至多相关：跨部门且地区不同", "at most related: other department, other region"),
)


def explain(a: IndicatorText, b: IndicatorText, ps: PairScore) -> list[str]:
    """Human-readable reasons for a reviewer, in the output language (Chinese unless the
    command line was asked for English: kg.i18n)."""
    out: list[str] = [_CAP_TEXT[c] for c in ps.caps if c in _CAP_TEXT]
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
            "a": indicator_dict(self.a, "pair"),
            "b": indicator_dict(self.b, "pair"),
            "dense": self.score.dense,
            "lexical": self.score.lexical,
            "structure": self.score.structure,
            "shared_terms": self.score.shared,
            "sibling": self.score.sibling,
            "residues": {"a": self.score.residues[0], "b": self.score.residues[1]},
            "caps": self.score.caps,
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
    #: the bands listed (duplicate; with ``band="review"`` review too …)
    shown_bands: tuple[str, ...] = ("duplicate",)
    #: 共性指标: carried by at least this share of the departments, and at least this many
    common_share: float = 0.5
    common_min_departments: int = 3


#: the listing's sections, in the order printed: a cluster goes to the first that takes it
SECTIONS: tuple[str, ...] = ("within-table", "across-departments", "across-tables")


def section_of(cluster: Cluster) -> str:
    """The listing section of a cluster: one table, across departments, or one department's
    tables (years)."""
    if cluster.scopes == {"within-table"}:
        return "within-table"
    if "across-departments" in cluster.scopes:
        return "across-departments"
    return "across-tables"


def listing_sections(report: DuplicateReport) -> list[tuple[str, list[Cluster]]]:
    """The clusters of each section, in the order the text listing prints them."""
    by: dict[str, list[Cluster]] = {s: [] for s in SECTIONS}
    for c in report.clusters:
        by[section_of(c)].append(c)
    # across departments: by fiscal year and region (does another department fund it there?)
    by["across-departments"] = [c for _, cs in by_year_region(by["across-departments"]) for c in cs]
    return [(s, by[s]) for s in SECTIONS if by[s]]


def listed_clusters(report: DuplicateReport) -> list[Cluster]:
    """The report's clusters in the listing's order (:func:`listing_sections`), worked out
    once per report and kept with it: the API pages through one report many times, and
    ordering 121,538 clusters by section, year and region took 1.5 s a page at 1M."""
    found = report.__dict__.get("_listed")
    if found is None:
        found = report.__dict__["_listed"] = [c for _, cs in listing_sections(report) for c in cs]
    return found


def year_region(cluster: Cluster) -> tuple[str, str]:
    """The fiscal year(s) and region(s) of a cluster's members, for grouping the
    cross-department section: ("2024", "深圳市福田区"); several join with "/"; a department
    whose name gives no region counts as ""."""
    years = sorted({str(m.year) for m in cluster.members if m.year})
    regions = sorted({region_of(m.department) for m in cluster.members})
    return "/".join(years), "/".join(regions)


def by_year_region(clusters: list[Cluster]) -> list[tuple[tuple[str, str], list[Cluster]]]:
    """Clusters grouped by :func:`year_region`, latest year first, in listing order within."""
    groups: dict[tuple[str, str], list[Cluster]] = {}
    for c in clusters:
        groups.setdefault(year_region(c), []).append(c)
    return sorted(groups.items(), key=lambda g: (g[0][0] != "", g[0][0], g[0][1]), reverse=True)


def listing_order(report: DuplicateReport) -> list[DuplicatePair]:
    """The pairs in the order the text listing prints them (sections, clusters, best first)."""
    return [
        p
        for _, clusters in listing_sections(report)
        for c in clusters
        for p in sorted(c.pairs, key=lambda p: -p.score.score)
    ]


def _label(ps: PairScore, scope: Scope, common: bool) -> str:
    if scope != "within-table" and common:
        return "common indicator"
    if ps.band == "duplicate":
        return "suspected duplicate"
    if ps.band == "review":
        return "review"
    return "related"


#: the bands a listing can show, narrowest first: ``band="review"`` shows duplicate and review
LIST_BANDS: tuple[ListBand, ...] = ("duplicate", "review", "related")

#: 共性指标: a name carried by at least this share of the departments (and at least
#: COMMON_MIN_DEPARTMENTS of them); settings ``common_indicator_share`` / ``…_min_departments``
COMMON_SHARE = 0.5
COMMON_MIN_DEPARTMENTS = 3


def shown_bands(
    profile: Profile, band: ListBand | None, threshold: float | None
) -> tuple[str, ...]:
    """The bands a listing shows: ``band`` and the narrower ones; without ``band``, the band
    ``threshold`` falls in (a threshold in the review band lists it), else duplicate only."""
    if band is None:
        band = "duplicate" if threshold is None else _band_at(profile, threshold)
    return LIST_BANDS[: LIST_BANDS.index(band) + 1]


def _band_at(profile: Profile, threshold: float) -> ListBand:
    b = profile.band(threshold)
    return "related" if b == "none" else b


def _candidates(
    index: IndicatorIndex,
    k: int,
    scope: ScopeFilter,
    progress: Progress | None,
    rows: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """The pairs of each indicator's ``k`` nearest neighbours in ``scope``, in order (with
    ``rows``: only the pairs with an end among them)."""
    items = index.items
    cands = [
        (i, j)
        for i, j in sorted(index.candidate_pairs(k, rows))
        if scope == "all" or scope_of(items[i], items[j]) == scope
    ]
    if progress:
        progress(tr("候选对", "candidate pairs"), len(cands), len(cands))
    return cands


def find_duplicates(
    index: IndicatorIndex,
    *,
    threshold: float | None = None,
    scope: ScopeFilter = "all",
    k: int = 20,
    list_per_indicator: int | None = None,
    progress: Progress | None = None,
    band: ListBand | None = None,
    common_share: float = COMMON_SHARE,
    common_min_departments: int = COMMON_MIN_DEPARTMENTS,
    rows: Sequence[int] | None = None,
    workers: int = 1,
) -> DuplicateReport:
    """Pairs of the shown bands scoring at least ``threshold``, clustered.

    ``band`` (duplicate, review or related) widens the listing to that band and the narrower
    ones; by default only the duplicate band is listed (or, given a ``threshold`` alone, the
    band it falls in). ``threshold`` defaults to the lowest shown band's threshold. A pair
    is shown when its score passes and its band (after the caps of
    :func:`embeddings.scoring.band_caps`) is shown.

    Every passing pair shapes the clusters; each is also listed (explained) unless more than
    :data:`LISTED_PAIRS_MAX` pass or ``list_per_indicator`` is given: then an indicator's best
    ``list_per_indicator`` are (default :data:`LIST_PER_INDICATOR`; within-table first, then by
    score) and ``report.pairs_total`` says how many passed — a name thousands of tables share
    would otherwise list n² pairs.

    ``common_share`` / ``common_min_departments``: see :func:`_common_by_data` (共性指标).
    ``rows``: only the pairs with an end among these item rows (clustered among themselves).
    ``workers``: processes scoring a large sweep's pairs (:mod:`.pair_workers`): same report.
    ``progress(message, done, total)`` is called once the candidates are found and after each
    batch of scored candidates (a sweep over a million indicators takes tens of minutes).
    """
    prof = index.profile
    bands = shown_bands(prof, band, threshold)
    t = min(_threshold_of(prof, b) for b in bands) if threshold is None else threshold
    departments = {it.department for it in index.items}
    cands = _candidates(index, k, scope, progress, rows)
    passed = _score_candidates(index, cands, t, bands, list_per_indicator, progress, workers)
    del cands  # millions of tuples at scale: not kept while clustering
    listed = None if passed.listing_all else (list_per_indicator or LIST_PER_INDICATOR)
    if listed is not None:
        passed.kept.update(_list_best(index, passed, listed, workers))
    common = _common_by_data(index, len(departments), common_share, common_min_departments)
    pairs = _explained(index, passed.kept, common)
    clusters = _clusters(
        index, passed.pi, passed.pj, passed.ps, pairs, t, keep_unlisted=listed is not None
    )
    pairs.sort(key=lambda p: (p.scope != "within-table", -p.score.score))
    limits = (prof.t_duplicate, prof.t_review, prof.t_related)
    return DuplicateReport(
        *(pairs, clusters, t, index.model_id, prof.calibrated, len(departments), limits),
        pairs_total=len(passed.pi),
        listed_per_indicator=listed,
        shown_bands=bands,
        common_share=common_share,
        common_min_departments=common_min_departments,
    )


def _explained(
    index: IndicatorIndex, kept: dict[tuple[int, int], PairScore], common: set[int]
) -> list[DuplicatePair]:
    """The kept pairs as listed pairs (scope, label, explanation); ``common``: the rows of
    共性指标."""
    items = index.items
    return [
        _pair(items[i], items[j], ps, i in common and j in common) for (i, j), ps in kept.items()
    ]


def _list_best(
    index: IndicatorIndex, passed: _Passed, per: int, workers: int = 1
) -> dict[tuple[int, int], PairScore]:
    """Each indicator's best ``per`` passing pairs, scored (too many passed to list them all)."""
    listed = _best_per_indicator(index, passed.pi, passed.pj, passed.ps, per)
    out: dict[tuple[int, int], PairScore] = {}
    for (start, stop), scores in scored_slices(
        index, listed, IndicatorIndex.pairs, batch=SCORE_BATCH, workers=workers
    ):
        out.update(zip(listed[start:stop], scores, strict=True))
    return out


def _threshold_of(profile: Profile, band: str) -> float:
    return {"duplicate": profile.t_duplicate, "review": profile.t_review}.get(
        band, profile.t_related
    )


def _pair(a: IndicatorText, b: IndicatorText, ps: PairScore, common: bool) -> DuplicatePair:
    sc = scope_of(a, b)
    return DuplicatePair(a, b, ps, sc, _label(ps, sc, common), explain(a, b, ps))


@dataclass
class _Passed:
    """The candidate pairs that passed: as arrays, and scored while few enough pass."""

    pi: Any
    pj: Any
    ps: Any
    kept: dict[tuple[int, int], PairScore]
    listing_all: bool


def _score_candidates(
    index: IndicatorIndex,
    cands: list[tuple[int, int]],
    t: float,
    bands: tuple[str, ...],
    list_per_indicator: int | None,
    progress: Progress | None,
    workers: int = 1,
) -> _Passed:
    """Score the candidates in batches (in ``workers`` processes when there are many: see
    :mod:`embeddings.pair_workers`); keep those at ``t`` or above whose band is shown.

    Only what passes stays in memory, as arrays (millions of candidates at scale); the scores
    themselves are kept while no more than :data:`LISTED_PAIRS_MAX` pass and
    ``list_per_indicator`` is None (every passing pair listed)."""
    np = require("numpy")
    listing_all = list_per_indicator is None
    kept: dict[tuple[int, int], PairScore] = {}
    ii: list[Any] = []
    jj: list[Any] = []
    ss: list[Any] = []
    fn = functools.partial(_passing_in, t=t, bands=bands, with_scores=listing_all)
    for (_, stop), (pi, pj, ps, scores) in scored_slices(
        index, cands, fn, batch=SCORE_BATCH, workers=workers
    ):
        ii.append(pi)
        jj.append(pj)
        ss.append(ps)
        if listing_all:
            kept.update(zip(zip(pi.tolist(), pj.tolist(), strict=True), scores, strict=True))
            if len(kept) > LISTED_PAIRS_MAX:
                listing_all = False
                kept.clear()
        if progress:
            progress(tr("比较候选对", "scoring pairs"), stop, len(cands))

    def cat(parts: list[Any], dtype: Any) -> Any:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return _Passed(cat(ii, np.int64), cat(jj, np.int64), cat(ss, np.float64), kept, listing_all)


def _passing_in(
    index: IndicatorIndex,
    chunk: Sequence[tuple[int, int]],
    *,
    t: float,
    bands: tuple[str, ...],
    with_scores: bool,
) -> tuple[Any, Any, Any, list[PairScore] | None]:
    """The pairs of ``chunk`` at ``t`` or above whose band is shown: their ends and scores as
    arrays, and their :class:`PairScore` objects when ``with_scores``."""
    np = require("numpy")
    scores = index.pairs(chunk)
    ok = [n for n, ps in enumerate(scores) if ps.score >= t and ps.band in bands]
    pi = np.fromiter((chunk[n][0] for n in ok), dtype=np.int64, count=len(ok))
    pj = np.fromiter((chunk[n][1] for n in ok), dtype=np.int64, count=len(ok))
    ps = np.fromiter((scores[n].score for n in ok), dtype=np.float64, count=len(ok))
    return pi, pj, ps, [scores[n] for n in ok] if with_scores else None


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


def keep_per_end(
    ends: Iterable[tuple[Hashable, Hashable]], per: int, used: dict[Hashable, int] | None = None
) -> list[int]:
    """Positions of the pairs kept, in order, while both ends have fewer than ``per`` kept
    (the caller orders the pairs best first; ``used``: how many each end has already)."""
    used = dict(used or {})
    out = []
    for n, (a, b) in enumerate(ends):
        if used.get(a, 0) < per and used.get(b, 0) < per:
            used[a] = used.get(a, 0) + 1
            used[b] = used.get(b, 0) + 1
            out.append(n)
    return out


def _common_by_data(
    index: IndicatorIndex,
    n_departments: int,
    share: float = COMMON_SHARE,
    min_departments: int = COMMON_MIN_DEPARTMENTS,
) -> set[int]:
    """Indicators whose name (cleaned: punctuation and spacing aside) is carried by at least
    ``share`` of the departments, and at least ``min_departments`` of them: 共性指标.

    The name itself, not its family: similar names (every satisfaction row is near every
    other) would make a name that two departments carry look common."""
    np = require("numpy")
    need = max(min_departments, math.ceil(share * n_departments - 1e-9))
    if n_departments < need:
        return set()
    n = len(index.items)
    depts: dict[str, int] = {}
    did = np.fromiter(
        (depts.setdefault(it.department, len(depts)) for it in index.items), dtype=np.int64, count=n
    )
    names: dict[str, int] = {}
    nid = np.fromiter(
        (names.setdefault(clean(it.name), len(names)) for it in index.items),
        dtype=np.int64,
        count=n,
    )
    nd = max(1, len(depts))
    per_name = np.bincount(np.unique(nid * nd + did) // nd, minlength=len(names))
    return set(np.nonzero(per_name[nid] >= need)[0].tolist())


def _clusters(
    index: IndicatorIndex,
    pi: Any,
    pj: Any,
    ps: Any,
    pairs: list[DuplicatePair],
    t: float,
    *,
    keep_unlisted: bool = False,
    known: KnownGroups | None = None,
) -> list[Cluster]:
    """Connected components of the kept pairs, each split so that every pair inside a cluster
    scores at least ``t`` (complete linkage), with the listed pairs put in their clusters.

    ``known``: the groups of an earlier run, reused for each component none of whose members
    it names as touched (the same members and pairs as then: see :class:`KnownGroups`)."""
    np = require("numpy")
    if len(pi) == 0:
        return []
    comp = _Components(index, pi, pj)
    sig = _Signatures(index)
    groups: list[tuple[list[int], float]] = []
    for lab in np.unique(comp.node_labels).tolist():
        members_arr = comp.members(lab)
        if known is not None and (again := known.groups_of(members_arr)) is not None:
            groups.extend(again)
            continue
        if len(members_arr) > DENSE_COMPONENT_MAX:
            groups.extend(_split_by_signature(members_arr, sig.of, t, sig.score))
            continue
        sim = _similarities(index, members_arr, comp.pairs_of(lab), pi, pj, ps, sig)
        groups.extend(_complete_linkage(members_arr.tolist(), sim, t))
    return _assign(index, groups, pairs, keep_unlisted)


@dataclass
class KnownGroups:
    """The clusters of an earlier run, as item positions of the current index, and the items
    whose pairs changed since (``touched``). A component with no touched member has the same
    members and pairs as then, so its groups are the earlier ones."""

    group_of: dict[int, int]
    groups: list[tuple[list[int], float]]
    touched: set[int]

    @classmethod
    def of(cls, index: IndicatorIndex, clusters: list[Cluster], touched: set[int]) -> KnownGroups:
        by_id = index.by_id
        groups = [
            ([by_id[m.id] for m in c.members], c.min_similarity)
            for c in clusters
            if all(m.id in by_id for m in c.members)
        ]
        group_of = {m: g for g, (members, _) in enumerate(groups) for m in members}
        return cls(group_of, groups, touched)

    def groups_of(self, members: Any) -> list[tuple[list[int], float]] | None:
        """The earlier groups of an untouched component; None when it must be made again
        (a touched member, or a member in no earlier group: its group was not kept then)."""
        found: set[int] = set()
        for m in members.tolist():
            g = self.group_of.get(m)
            if m in self.touched or g is None:
                return None
            found.add(g)
        return [self.groups[g] for g in sorted(found)]


class _Components:
    """The connected components of the kept pairs: each one's members and pairs."""

    def __init__(self, index: IndicatorIndex, pi: Any, pj: Any) -> None:
        np = require("numpy")
        sparse = require("scipy.sparse")
        csgraph = require("scipy.sparse.csgraph")
        n_items = len(index.items)
        graph = sparse.coo_matrix((np.ones(len(pi)), (pi, pj)), shape=(n_items, n_items))
        _, label = csgraph.connected_components(graph, directed=False)
        nodes = np.unique(np.concatenate([pi, pj]))
        # each kept pair once, under its component
        self.by_pair = np.argsort(label[pi], kind="stable")
        self.pair_labels = label[pi][self.by_pair]
        self.by_node = nodes[np.argsort(label[nodes], kind="stable")]
        self.node_labels = label[self.by_node]

    def members(self, lab: int) -> Any:
        np = require("numpy")
        lo, hi = np.searchsorted(self.node_labels, [lab, lab + 1])
        return np.sort(self.by_node[lo:hi])

    def pairs_of(self, lab: int) -> Any:
        np = require("numpy")
        lo, hi = np.searchsorted(self.pair_labels, [lab, lab + 1])
        return self.by_pair[lo:hi]


class _Signatures:
    """Items that agree on everything a pair score reads (index.score_fields) score the same
    with each other: one score per such signature fills the pairs of copies that no candidate
    list held."""

    def __init__(self, index: IndicatorIndex) -> None:
        np = require("numpy")
        self.index = index
        sig_of: dict[tuple, int] = {}
        self.of = np.fromiter(
            (sig_of.setdefault(score_fields(it), len(sig_of)) for it in index.items),
            dtype=np.int64,
            count=len(index.items),
        )
        self._score: dict[int, float] = {}

    def score(self, s_: int, a: int, b: int) -> float:
        if s_ not in self._score:
            self._score[s_] = self.index.pairs([(a, b)])[0].score
        return self._score[s_]


def _similarities(
    index: IndicatorIndex, members_arr: Any, sel: Any, pi: Any, pj: Any, ps: Any, sig: _Signatures
) -> Any:
    """The members' pairwise scores: the kept pairs, then the missing ones — every pair of a
    small component is scored; in a large one a pair that no candidate list held counts as
    dissimilar (it is not among either's neighbours) unless the two are copies."""
    np = require("numpy")
    members = members_arr.tolist()
    n = len(members)
    sim = np.zeros((n, n))
    np.fill_diagonal(sim, 1.0)
    a_ = np.searchsorted(members_arr, pi[sel])
    b_ = np.searchsorted(members_arr, pj[sel])
    sim[a_, b_] = ps[sel]
    sim[b_, a_] = ps[sel]
    if n <= EXACT_COMPONENT:
        ua, ub = np.nonzero(np.triu(sim == 0, 1))
        slots = list(zip(ua.tolist(), ub.tolist(), strict=True))
        missing = [(members[a], members[b]) for a, b in slots]
        for (a, b), p in zip(slots, index.pairs(missing), strict=True):
            sim[a, b] = sim[b, a] = p.score
        return sim
    ms = sig.of[members_arr]
    ua, ub = np.nonzero(np.triu((sim == 0) & (ms[:, None] == ms[None, :]), 1))
    for a, b in zip(ua.tolist(), ub.tolist(), strict=True):
        sim[a, b] = sim[b, a] = sig.score(int(ms[a]), members[a], members[b])
    return sim


def _complete_linkage(members: list[int], sim: Any, t: float) -> list[tuple[list[int], float]]:
    """A component as it is when every pair reaches ``t``, else split by complete linkage so
    that a chain A~B~C never puts unrelated A and C in one cluster."""
    np = require("numpy")
    hierarchy = require("scipy.cluster.hierarchy")
    n = len(members)
    if n == 2 or sim.min() >= t:
        return [(members, float(sim.min()))]
    dist = 1.0 - sim[np.triu_indices(n, 1)]
    z = hierarchy.linkage(np.clip(dist, 0, None), method="complete")
    labels = hierarchy.fcluster(z, t=1.0 - t, criterion="distance")
    out = []
    for lab in sorted(set(labels)):
        idx = [a for a in range(n) if labels[a] == lab]
        if len(idx) >= 2:
            out.append(([members[a] for a in idx], float(sim[np.ix_(idx, idx)].min())))
    return out


def _assign(
    index: IndicatorIndex,
    groups: list[tuple[list[int], float]],
    pairs: list[DuplicatePair],
    keep_unlisted: bool,
) -> list[Cluster]:
    """Clusters numbered largest first, each listed pair in its cluster, each cluster labelled
    by its strongest pair."""
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
