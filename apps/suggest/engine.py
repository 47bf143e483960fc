"""The suggestion engine: from a task's name and content to ranked, categorised indicators.

Method (docs/suggest.md):

1. **Groups.** The store's indicators are grouped once into name families: the clusters of
   :func:`embeddings.duplicates.find_duplicates` at the duplicate band of the embedding scorer
   (慰问金发放覆盖率 ~ 离休干部慰问金发放覆盖率), every other indicator a group of its own.
2. **Retrieval.** The task text (name, then name + content) is searched in the embedding index
   (hybrid dense + character TF-IDF, :meth:`IndicatorIndex.search`); the peers' tasks are
   compared with the task lexically, and the tables holding similar tasks lend their indicators
   a "common for this kind of task" bonus. A group scores by its best member, plus a little for
   every further department that uses it.
3. **Targets.** A group's typical target is read from its members' parsed targets: numbers
   (median, range, most common unit and comparison), deadlines (most common 月日 form),
   durations, recurrences. Groups whose peers only have qualitative or free-text targets are
   dropped: a suggestion never carries a vague grade.
4. **Completeness.** Each level-2 category the framework expects (数量, 质量, 时效, 成本, the
   效益 categories seen among the task's neighbours, 服务对象满意度) that neither the draft nor
   the ranked list covers gets the best group of that category appended.
5. **Rewrite hints.** Draft indicators the review's ``vague-target`` rule would flag get
   measurable alternatives: groups similar to the draft name with a number or a date.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import math
import re
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib.namespace import SKOS

from embeddings.duplicates import find_duplicates
from embeddings.index import Filters, open_index
from embeddings.lexical import LexicalIndex
from embeddings.text import clean, indicator_dict
from kg import categories
from kg.store import GraphStore
from kg.targets import parse_target

from .checks import NAME_RULES, Row, flags
from .models import (
    CategoryStatus,
    DraftIndicator,
    Evidence,
    EvidenceLink,
    Reason,
    RewriteHint,
    Suggestion,
    SuggestRequest,
    SuggestResponse,
    TypicalTarget,
)

if TYPE_CHECKING:
    from kg.settings import Settings

log = logging.getLogger(__name__)

#: candidates drawn from the index per query text
POOL = 150
#: links kept per suggestion
MAX_LINKS = 10
#: candidates whose review checks run in one batch per call
PREFETCH = 80
#: weight of "a peer table has a similar task" in the group score
TASK_WEIGHT = 0.25
#: relevance floor (``IKG_SUGGEST_MIN_SCORE``): no suggestion from a match below this score
MIN_SCORE = 0.15
#: … and a category is completed only by a match of at least this share of the task's best
#: (``IKG_SUGGEST_MIN_RATIO``); a category with none says so
MIN_RATIO = 0.6
#: lexical similarity of two tasks above which they count as "this kind of task"
SIMILAR_TASK = 0.25

#: slots of the completeness check: slot → (concepts that fill it, label)
SLOTS: dict[str, tuple[frozenset[str], str, str]] = {
    "quantity": (frozenset({"quantity"}), "产出指标", "数量指标"),
    "quality": (frozenset({"quality"}), "产出指标", "质量指标"),
    "timeliness": (frozenset({"timeliness"}), "产出指标", "时效指标"),
    "cost": (
        frozenset({"output-cost", "economic-cost", "social-cost", "ecological-cost", "cost"}),
        "成本指标",
        "成本指标",
    ),
    "economic-benefit": (frozenset({"economic-benefit"}), "效益指标", "经济效益指标"),
    "social-benefit": (frozenset({"social-benefit"}), "效益指标", "社会效益指标"),
    "ecological-benefit": (frozenset({"ecological-benefit"}), "效益指标", "生态效益指标"),
    "sustainable-impact": (frozenset({"sustainable-impact"}), "效益指标", "可持续影响指标"),
    "service-recipient-satisfaction": (
        frozenset({"service-recipient-satisfaction"}),
        "满意度指标",
        "服务对象满意度指标",
    ),
}
REQUIRED_SLOTS = ("quantity", "quality", "timeliness", "cost", "service-recipient-satisfaction")
BENEFIT_SLOTS = ("economic-benefit", "social-benefit", "ecological-benefit", "sustainable-impact")

_SYMBOL = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "", "range": ""}


def _slot_of(concept: str | None) -> str | None:
    for slot, (concepts, _, _) in SLOTS.items():
        if concept in concepts:
            return slot
    return None


def _num(x: float) -> str:
    d = Decimal(str(round(x, 2))).normalize()
    return format(d, "f")


def _probe_flags(name: str, target: str, year: int | None) -> set[str]:

    return flags([Row("产出指标", "数量指标", name, target)], year or _drafting_year())[0]


def _drafting_year() -> int:
    """The year a draft is for when nobody says: next year (as :class:`apps.draft.Draft`)."""
    return dt.date.today().year + 1


def is_vague_name(name: str) -> bool:
    """The review's ``vague-name`` rule flags this name (a word of effort, nothing measurable)."""
    return "vague-name" in _probe_flags(name, "1次", None)


def is_vague_target(text: str | None, year: int | None = None) -> str | None:
    """Why the review's ``vague-target`` rule would flag this target, or None.

    A deadline without a year (12月31日前) is read in ``year`` (default: next year, the
    drafting year), as the table's fiscal year would complete it.
    """
    if text is None or not text.strip():
        return "未填写目标值"
    if "vague-target" not in _probe_flags("指标数量", text, year):
        return None
    tv = parse_target(text, year=year or _drafting_year())
    if tv.form == "qualitative":
        return f"目标值“{text}”为定性描述，无法考核"
    return f"目标值“{text}”是一段文字，不是可考核的数值、日期或等级"


# --------------------------------------------------------------------------- categories
@dataclass(frozen=True)
class Cat:
    level1: str
    level2: str
    level1_concept: str
    level2_concept: str

    @property
    def key(self) -> str:
        return self.level2_concept.rsplit("/", 1)[-1]


def _pref(concept: Any) -> str:
    g = categories.category_graph()
    for lab in g.objects(concept, SKOS.prefLabel):
        if getattr(lab, "language", None) in (None, "zh"):
            return str(lab)
    return ""


def resolve_category(level1: str, level2: str, scheme: str) -> Cat | None:
    """The framework concepts of printed labels (variants mapped by the scheme's altLabels)."""
    schemes = [scheme] + [s for s in categories.SCHEMES if s != scheme]
    for s in schemes:
        c2 = categories.resolve(level2, 2, s)
        if c2 is None:
            continue
        parent = c2.broader
        c1 = categories.resolve(level1, 1, s) if level1 else None
        if parent is not None and (c1 is None or c1.concept != parent):
            l1_uri, l1_label = str(parent), _pref(parent)
        elif c1 is not None:
            l1_uri, l1_label = str(c1.concept), c1.pref_label
        else:
            continue
        return Cat(l1_label, c2.pref_label, l1_uri, str(c2.concept))
    return None


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class PeerValue:
    """One peer's target, written as the drafting table would print it."""

    kind: str  # numeric, range, deadline, duration, recurring, schedule
    text: str
    value: float | None = None  # numeric: the number (for the range and the nearest value)
    unit: str | None = None
    comparison: str | None = None


def peer_value(raw: str, year: int | None, drafting_year: int | None = None) -> PeerValue | None:
    """A peer's target as a value to copy; None for grades and free text (nothing to copy).

    A deadline keeps its month and day and takes the drafting year (``2024年12月20日前`` in a
    2024 table → ``2027年12月20日前`` for a 2027 draft; without ``drafting_year`` the month-day
    form ``12月20日前``)."""
    tv = parse_target(raw, year=year)
    if tv.form in ("numeric", "range"):
        unit = "%" if tv.percent else tv.unit
        u = unit or ""
        if tv.form == "range" and tv.lower is not None and tv.upper is not None:
            lo, hi = float(tv.lower), float(tv.upper)
            return PeerValue("range", f"{_num(lo)}{u}≤n≤{_num(hi)}{u}", lo, unit, "range")
        v = tv.lower if tv.lower is not None else tv.upper
        if v is None:
            return None
        comp = tv.comparison or "="
        return PeerValue(
            "numeric", f"{_SYMBOL.get(comp, '')}{_num(float(v))}{u}", float(v), unit, comp
        )
    if tv.form == "deadline" and tv.deadline is not None:
        tail = (
            "前"
            if tv.deadline_relation == "before"
            else ("内" if tv.deadline_relation == "on_or_before" else "")
        )
        y = f"{drafting_year}年" if drafting_year else ""
        return PeerValue("deadline", f"{y}{tv.deadline.month}月{tv.deadline.day}日{tail}")
    if tv.form in ("duration", "recurring", "schedule"):
        return PeerValue(tv.form, tv.raw)
    return None


def typical_target(
    targets: Iterable[tuple[str, int | None]],
    drafting_year: int | None = None,
    ok: Callable[[str], bool] | None = None,
    prefer: tuple[str, int | None] | None = None,
) -> TypicalTarget | None:
    """The peers' typical target from (raw text, fiscal year) pairs; None when nothing fits.

    Values the review would flag (``ok`` says no) are left out first. The typical target is
    a value peers actually set: the most common one of the most common kind (numbers of the
    most common unit); on a tie ``prefer`` (the suggested row's own target) when it is one of
    them, else the one nearest the peers' median. The note gives the count and the range."""
    own = peer_value(*prefer, drafting_year) if prefer else None
    values = [v for raw, year in targets if (v := peer_value(raw, year, drafting_year))]
    if ok is not None:
        verdict = {t: ok(t) for t in dict.fromkeys(v.text for v in values)}
        values = [v for v in values if verdict[v.text]]
    if not values:
        return None
    kinds = Counter("numeric" if v.kind == "range" else v.kind for v in values)
    kind = max(kinds, key=lambda k: (kinds[k], k == "numeric"))
    if kind == "numeric":
        return _typical_number(values, own)
    return _typical_of_kind(values, kind, own)


def _typical_number(values: list[PeerValue], own: PeerValue | None) -> TypicalTarget:
    """The typical number: the most common value of the most common unit (on a tie ``own``,
    else the one nearest the median), with the range of that unit's values."""
    unit = Counter(v.unit for v in values if v.kind in ("numeric", "range")).most_common(1)[0][0]
    same = [v for v in values if v.kind in ("numeric", "range") and v.unit == unit]
    nums = [v.value for v in same if v.value is not None]
    med = statistics.median(nums)
    counts = Counter(v.text for v in same)
    top = max(counts.values())
    by_text = {v.text: v for v in same}
    text = min(
        (t for t, c in counts.items() if c == top),
        key=lambda t: (own is None or t != own.text, abs((by_text[t].value or 0.0) - med), t),
    )
    chosen = by_text[text]
    lo, hi = min(nums), max(nums)
    u = unit or ""
    note = f"同类指标{len(same)}个目标值中最常见的是“{text}”（{top}个）"
    if lo != hi:
        note += f"，范围{_num(lo)}{u}–{_num(hi)}{u}"
    return TypicalTarget(
        text=text,
        kind="numeric",
        comparison=chosen.comparison,
        unit=unit,
        median=med,
        min=lo,
        max=hi,
        samples=len(same),
        note=note,
    )


def _typical_of_kind(values: list[PeerValue], kind: str, own: PeerValue | None) -> TypicalTarget:
    """The most common value of a kind other than numbers (deadline, duration …); on a tie
    ``own`` when it is one of them."""
    same = [v for v in values if v.kind == kind]
    tally = Counter(v.text for v in same)
    c = max(tally.values())
    text = next(
        (t for t in tally if own is not None and t == own.text and tally[t] == c),
        tally.most_common(1)[0][0],
    )
    what = "截止日期" if kind == "deadline" else "目标值"
    return TypicalTarget(
        text=text,
        kind=kind,  # type: ignore[arg-type]
        samples=len(same),
        note=f"同类指标{len(same)}个{what}中最常见的是“{text}”（{c}个）",
    )


# --------------------------------------------------------------------------- the engine
TASKS_QUERY = """
SELECT ?table ?name ?content WHERE {
  ?k a ikg:Task ; ikg:name ?name ; ikg:inTable ?table .
  OPTIONAL { ?k ikg:content ?content }
}
"""


#: a ranked candidate: (score, (group, slot), best row, reasons)
Entry = tuple[float, tuple[int, str], int, list[Reason]]


@dataclass
class _Call:
    """One :meth:`SuggestEngine.suggest` call: the request, the task's hits and the floors,
    and the suggestions built so far (one per (group, slot))."""

    req: SuggestRequest
    exclude: frozenset[str]
    year: int
    hits: dict[int, float]
    floor: float
    fill_floor: float
    built: dict[tuple[int, str], Suggestion | None] = field(default_factory=dict)
    #: the draft's names without white space: a suggestion never repeats one
    draft_names: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.draft_names = {re.sub(r"\s+", "", d.name) for d in self.req.draft}


@dataclass
class Group:
    id: int
    members: list[int]  # row indices of the index
    cats: dict[int, Cat | None] = field(default_factory=dict)


class SuggestEngine:
    """Everything the suggestions need, loaded once per store (index, groups, tasks)."""

    def __init__(self, index: Any, store: Any, settings: Settings | None = None) -> None:

        inner = getattr(getattr(index, "_encoder", None), "inner", None)
        if inner is not None:
            # query texts are new every time: keep them out of the on-disk vector cache (it
            # holds the graph's names); a shallow copy leaves a shared index (the API's) untouched
            index = copy.copy(index)
            index._encoder = inner
        self.index = index
        items = index.items
        # table layout, from the level-1 labels it prints
        l1_by_table: dict[str, list[str]] = defaultdict(list)
        for it in items:
            l1_by_table[it.table].append(it.level1)
        self.scheme = {t: categories.layout_of(sorted(set(v))) for t, v in l1_by_table.items()}
        self.cat: list[Cat | None] = [
            resolve_category(it.level1, it.level2, self.scheme[it.table]) for it in items
        ]
        # name families at the duplicate band
        report = find_duplicates(index)
        self.group_of: list[int] = list(range(len(items)))
        self.groups: dict[int, list[int]] = {}
        for cl in report.clusters:
            rows = [index.by_id[m.id] for m in cl.members]
            gid = min(rows)
            for r in rows:
                self.group_of[r] = gid
        # identical cleaned names belong together too

        first: dict[str, int] = {}
        for r, it in enumerate(items):
            key = clean(it.name)
            if key in first and self.group_of[r] == r:
                self.group_of[r] = self.group_of[first[key]]
            first.setdefault(key, r)
        for r, g in enumerate(self.group_of):
            self.groups.setdefault(g, []).append(r)
        # peers' tasks
        _, rows = store.select(TASKS_QUERY)
        self.tasks: list[tuple[str, str]] = []  # (table, text)
        #: task name → (table, content) of the stored tasks of that name that say what they do
        self.task_contents: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for table, name, content in rows:
            self.tasks.append((str(table), f"{name} {content or ''}".strip()))
            if content and str(content).strip():
                self.task_contents[str(name).strip()].append((str(table), str(content).strip()))
        self.task_lex = LexicalIndex([t for _, t in self.tasks]) if self.tasks else None
        self._flag_cache: dict[tuple[Any, int], frozenset[str]] = {}
        if settings is None:  # the environment is read by the CLI and the app, not here
            log.info(
                "suggest: no settings given, the default relevance floors (%s, %s) used",
                MIN_SCORE,
                MIN_RATIO,
            )
            self.min_score, self.min_ratio = MIN_SCORE, MIN_RATIO
        else:
            self.min_score = settings.suggest_min_score
            self.min_ratio = settings.suggest_min_ratio

    # -- pieces ----------------------------------------------------------------------
    def table_affinity(self, text: str, exclude: frozenset[str]) -> dict[str, float]:
        if self.task_lex is None:
            return {}
        sims = self.task_lex.cosine_to_all([text])[0]
        out: dict[str, float] = {}
        for (table, _), s in zip(self.tasks, sims, strict=True):
            if table in exclude:
                continue
            if s > out.get(table, 0.0):
                out[table] = float(s)
        return out

    def _hits(self, texts: list[str], exclude: frozenset[str]) -> dict[int, float]:
        # applied inside the search (Filters.tests): the best POOL of the other tables
        without = Filters(exclude_tables=exclude) if exclude else None
        best: dict[int, float] = {}
        for text in texts:
            for h in self.index.search(text, k=POOL, filters=without):
                r = self.index.by_id[h.uri]
                best[r] = max(best.get(r, 0.0), h.score)
        return best

    def group_category(self, rows: list[int]) -> Cat | None:
        cats = Counter(self.cat[r] for r in rows if self.cat[r] is not None)
        return cats.most_common(1)[0][0] if cats else None

    # -- the review's checks, cached per (row, year) ---------------------------------
    def flags(self, rows: list[Any], year: int) -> list[set[str]]:

        missing = [r for r in dict.fromkeys(rows) if (r, year) not in self._flag_cache]
        if missing:
            for r, f in zip(missing, flags(missing, year), strict=True):
                self._flag_cache[(r, year)] = frozenset(f)
        return [set(self._flag_cache[(r, year)]) for r in rows]

    def members(self, gid: int, cat: Cat, exclude: frozenset[str]) -> list[int]:
        """The rows of a name family filed in the same category (slot) as ``cat``."""
        items = self.index.items
        slot = _slot_of(cat.key) or cat.key
        return [
            r
            for r in self.groups[gid]
            if items[r].table not in exclude
            and self.cat[r] is not None
            and (_slot_of(self.cat[r].key) or self.cat[r].key) == slot  # type: ignore[union-attr]
        ]

    def _probe_rows(self, rows: list[int], best_row: int, cat: Cat) -> list[Any]:
        """The family's candidate names (the best row's first, then by use), each with its
        own target, as rows for the review's checks."""

        items = self.index.items
        names = Counter(items[r].name for r in rows)
        first = items[best_row].name
        order = [first] + [n for n, _ in names.most_common() if n != first]
        own = {items[r].name: items[r].target for r in rows}
        return [Row(cat.level1, cat.level2, n, own.get(n) or "1次") for n in order[:4]]

    def _pick_name(self, rows: list[int], best_row: int, cat: Cat, year: int) -> str | None:
        """The best row's name, unless the review's name rules flag it; then the next."""
        probe = self._probe_rows(rows, best_row, cat)
        return next(
            (
                p.name
                for p, f in zip(probe, self.flags(probe, year), strict=True)
                if not f & NAME_RULES
            ),
            None,
        )

    def _value_rows(self, rows: list[int], cat: Cat, name: str, year: int) -> list[Any]:
        """The peers' distinct values under the chosen name, as rows for the review's checks."""

        items = self.index.items
        texts = dict.fromkeys(
            v.text for r in rows if (v := peer_value(items[r].target, items[r].year, year))
        )
        return [Row(cat.level1, cat.level2, name, t) for t in texts]

    def prefetch(self, entries: list[tuple[int, int]], exclude: frozenset[str], year: int) -> None:
        """Run the review's checks for many candidates ((group, best row) pairs) in two
        batches (names, then values): one throwaway draft each instead of two per candidate."""
        plans = []
        for gid, best in entries:
            cat = self.cat[best]
            rows = self.members(gid, cat, exclude) if cat is not None else []
            if cat is not None and rows:
                plans.append((rows, best, cat))
        self.flags(
            [p for rows, best, cat in plans for p in self._probe_rows(rows, best, cat)], year
        )
        values = []
        for rows, best, cat in plans:
            name = self._pick_name(rows, best, cat, year)
            if name is not None:
                values += self._value_rows(rows, cat, name, year)
        self.flags(values, year)

    def make_suggestion(
        self,
        gid: int,
        score: float,
        reasons: list[Reason],
        exclude: frozenset[str],
        department: str | None,
        best_row: int,
        year: int,
        relevance: float,
    ) -> Suggestion | None:
        """One indicator of one category: the best row's name family, restricted to the rows
        filed in the best row's category; None when no name or no target would pass review."""
        items = self.index.items
        cat = self.cat[best_row]
        if cat is None:
            return None
        rows = self.members(gid, cat, exclude)
        if not rows:
            return None
        name = self._pick_name(rows, best_row, cat, year)
        if name is None:
            return None  # only goal-like names (提高人员工作效率): nothing measurable to copy
        tt = self._typical(rows, best_row, cat, name, year)
        if tt is None:
            return None
        return Suggestion(
            name=name,
            level1=cat.level1,
            level2=cat.level2,
            level1_concept=cat.level1_concept,
            level2_concept=cat.level2_concept,
            target=tt.text,
            typical_target=tt,
            score=round(score, 4),
            relevance=round(relevance, 4),
            reasons=reasons,
            variants=[n for n in dict.fromkeys(items[r].name for r in rows) if n != name],
            evidence=self._evidence(rows, department),
        )

    def _typical(
        self, rows: list[int], best_row: int, cat: Cat, name: str, year: int
    ) -> TypicalTarget | None:
        """The rows' typical target among the values the review's checks pass under ``name``."""
        items = self.index.items
        checks = self._value_rows(rows, cat, name, year)
        fine = {
            row.target for row, f in zip(checks, self.flags(checks, year), strict=True) if not f
        }

        def ok(text: str) -> bool:
            return text in fine

        named = next((r for r in [best_row, *rows] if items[r].name == name), best_row)
        return typical_target(
            ((items[r].target, items[r].year) for r in rows),
            year,
            ok,
            prefer=(items[named].target, items[named].year),
        )

    def _evidence(self, rows: list[int], department: str | None) -> Evidence:
        """Who uses the rows (departments, tables) and links to the first of them."""

        items = self.index.items
        depts = {items[r].department for r in rows}
        tables = {items[r].table for r in rows}
        links = [
            EvidenceLink(
                **indicator_dict(items[r], "brief"),
                table=items[r].table,
                table_title=items[r].table_title,
                target=items[r].target,
                own_department=bool(department) and department in items[r].department,
            )
            for r in rows[:MAX_LINKS]
        ]
        return Evidence(
            departments=len(depts), tables=len(tables), indicators=len(rows), links=links
        )

    def draft_category(self, d: DraftIndicator, exclude: frozenset[str]) -> Cat | None:
        if d.level2:
            cat = resolve_category(d.level1 or "", d.level2, "2021")
            if cat is not None:
                return cat
        hits = self._hits([d.name], exclude)
        if not hits:
            return None
        r = max(hits, key=lambda x: hits[x])
        return self.cat[r]

    # -- the call --------------------------------------------------------------------
    def floors(self, req: SuggestRequest, top: float) -> tuple[float, float]:
        """The relevance floors of this call (docs/suggest.md): every suggestion's (the
        absolute floor), and a category filler's (raised to a share of the task's best match:
        a category is completed only by an indicator nearly as close to the task as the best)."""
        absolute = req.min_score if req.min_score is not None else self.min_score
        return absolute, max(absolute, self.min_ratio * top)

    def suggest(
        self, req: SuggestRequest, *, exclude_tables: Iterable[str] = ()
    ) -> SuggestResponse:
        """At most ``req.k`` suggestions for a task (the wanted categories the draft lacks
        first, then by score), the status of each wanted category, and rewrite hints."""
        exclude = frozenset(exclude_tables)
        items = self.index.items
        year = req.fiscal_year or _drafting_year()
        stored = None if req.content.strip() else self.stored_content(req.task, exclude)
        if stored is not None:  # a task name alone says little: its stored content says more
            req = req.model_copy(update={"content": stored})
        full = f"{req.task} {req.content}".strip()
        texts = [req.task] if not req.content.strip() else [req.task, full]
        hits = self._hits(texts, exclude)
        top = max(hits.values(), default=0.0)
        floor, fill_floor = self.floors(req, top)
        call = _Call(req, exclude, year, hits, floor, fill_floor)
        ranked = self._ranked(call, self.table_affinity(full, exclude))
        draft_cats = self._draft_slots(call)
        self.prefetch([(key[0], best) for _, key, best, _ in ranked[:PREFETCH]], exclude, year)
        wanted = _wanted_slots(ranked)
        firsts = self._fillers(call, ranked, wanted, draft_cats)
        out = self._choose(call, ranked, firsts)
        cats_out = [
            _category_status(call, ranked, slot, out, draft_cats, firsts) for slot in wanted
        ]
        hints = [
            h for d in req.draft if (h := self.rewrite_hint(d, exclude, req, year)) is not None
        ]
        return SuggestResponse(
            task=req.task,
            suggestions=out,
            categories=cats_out,
            rewrite_hints=hints,
            model=self.index.model_id,
            indicators_indexed=len(items) - sum(1 for it in items if it.table in exclude),
            fiscal_year=year,
            min_score=round(floor, 4),
            fill_min_score=round(fill_floor, 4),
            content_from_store=stored,
        )

    def stored_content(self, task: str, exclude: frozenset[str] = frozenset()) -> str | None:
        """The content (主要内容) the store's tables give a task of this exact name, outside
        ``exclude``: the most common one, the latest table's on a tie; None when none does.
        A department drafting next year's table mostly keeps last year's task names."""
        found = [(t, c) for t, c in self.task_contents.get(task.strip(), []) if t not in exclude]
        if not found:
            return None
        counts = Counter(c for _, c in found)
        return max(found, key=lambda tc: (counts[tc[1]], tc[0]))[1]

    def _ranked(self, call: _Call, affinity: dict[str, float]) -> list[Entry]:
        """The candidates, best first: a name family within one category (slot), scored by
        its best row, its peers' similar tasks and the departments using it."""
        items = self.index.items
        by_key: dict[tuple[int, str], tuple[float, int]] = {}
        for r, s in call.hits.items():
            cat = self.cat[r]
            if s < call.floor or cat is None:
                continue
            key = (self.group_of[r], _slot_of(cat.key) or cat.key)
            if key not in by_key or s > by_key[key][0]:
                by_key[key] = (s, r)
        ranked: list[Entry] = []
        for key, (s, best) in by_key.items():
            cat = self.cat[best]
            assert cat is not None
            rows = self.members(key[0], cat, call.exclude)
            depts = {items[r].department for r in rows}
            aff = max((affinity.get(items[r].table, 0.0) for r in rows), default=0.0)
            score = (1 - TASK_WEIGHT) * s + TASK_WEIGHT * aff + 0.03 * math.log(len(depts) or 1)
            ranked.append((score, key, best, _rank_reasons(s, items[best].name, aff, len(depts))))
        ranked.sort(key=lambda t: (-t[0], t[1]))
        return ranked

    def _draft_slots(self, call: _Call) -> dict[str, list[str]]:
        """The slots the draft's indicators fill, each with their names."""
        draft_cats: dict[str, list[str]] = defaultdict(list)
        for d in call.req.draft:
            cat = self.draft_category(d, call.exclude)
            slot = _slot_of(cat.key) if cat else None
            if slot:
                draft_cats[slot].append(d.name)
        return draft_cats

    def _build(self, call: _Call, entry: Entry) -> Suggestion | None:
        """The suggestion of a ranked entry (built once per call); None when it cannot be
        made or the draft already has its name."""
        score, key, best, reasons = entry
        if key not in call.built:
            req = call.req
            sug = self.make_suggestion(
                key[0],
                score,
                reasons,
                call.exclude,
                req.department,
                best,
                call.year,
                call.hits[best],
            )
            if sug is not None and re.sub(r"\s+", "", sug.name) in call.draft_names:
                sug = None
            call.built[key] = sug
        return call.built[key]

    def _fillers(
        self, call: _Call, ranked: list[Entry], wanted: list[str], draft_cats: dict[str, list[str]]
    ) -> list[tuple[float, tuple[int, str]]]:
        """The best relevant suggestion of each wanted category the draft lacks, best first."""
        firsts: list[tuple[float, tuple[int, str]]] = []
        for slot in wanted:
            if slot in draft_cats:
                continue
            for entry in ranked:
                if call.hits[entry[2]] < call.fill_floor:
                    continue
                if entry[1][1] == slot and self._build(call, entry) is not None:
                    firsts.append((entry[0], entry[1]))
                    break
        firsts.sort()
        firsts.reverse()
        return firsts

    def _choose(
        self, call: _Call, ranked: list[Entry], firsts: list[tuple[float, tuple[int, str]]]
    ) -> list[Suggestion]:
        """The category fillers, then the rest by score, never more than k in all, one per
        name, in rank order; a filler outside the k best by score says which category it adds."""
        k = call.req.k
        chosen: list[tuple[int, str]] = [key for _, key in firsts[:k]]
        names = {call.built[key].name for key in chosen}  # type: ignore[union-attr]
        top_keys: list[tuple[int, str]] = []  # the k best by score alone
        for entry in ranked:
            if len(chosen) >= k and len(top_keys) >= k:
                break
            sug = self._build(call, entry)
            if sug is None:
                continue
            if len(top_keys) < k:
                top_keys.append(entry[1])
            if len(chosen) < k and entry[1] not in chosen and sug.name not in names:
                chosen.append(entry[1])
                names.add(sug.name)
        order = {key: n for n, (_, key, _, _) in enumerate(ranked)}
        chosen.sort(key=lambda key: order[key])
        out: list[Suggestion] = []
        for key in chosen:
            sug = call.built[key]
            assert sug is not None
            if key not in top_keys:
                label = SLOTS[key[1]][2]
                sug.reasons.append(Reason(code="missing-category", text=f"补齐缺少的“{label}”"))
            out.append(sug)
        return out

    def rewrite_hint(
        self,
        d: DraftIndicator,
        exclude: frozenset[str],
        req: SuggestRequest,
        year: int,
        n: int = 3,
    ) -> RewriteHint | None:
        problem = is_vague_target(d.target, year)
        if problem is None:
            return None
        hits = self._hits([d.name], exclude)
        best_of: dict[int, tuple[float, int]] = {}
        for r, s in hits.items():
            g = self.group_of[r]
            if g not in best_of or s > best_of[g][0]:
                best_of[g] = (s, r)
        alts: list[Suggestion] = []
        for g, (s, best) in sorted(best_of.items(), key=lambda kv: (-kv[1][0], kv[0])):
            reason = Reason(code="rewrite", text=f"同类可量化指标（相似度{s:.2f}）")
            sug = self.make_suggestion(g, s, [reason], exclude, req.department, best, year, s)
            if sug is not None and sug.name != d.name:
                alts.append(sug)
            if len(alts) >= n:
                break
        return RewriteHint(
            draft_name=d.name, draft_target=d.target, problem=problem, alternatives=alts
        )


def _cat_key(s: Suggestion) -> str:
    return s.level2_concept.rsplit("/", 1)[-1]


def _rank_reasons(s: float, best_name: str, aff: float, n_depts: int) -> list[Reason]:
    """Why a candidate is offered: its similarity to the task, and that it is common."""
    reasons = [Reason(code="similar", text=f"与任务描述相近（相似度{s:.2f}）：{best_name}")]
    if aff >= SIMILAR_TASK or n_depts >= 2:
        why = []
        if n_depts >= 2:
            why.append(f"{n_depts}个部门使用")
        if aff >= SIMILAR_TASK:
            why.append("同类任务的绩效目标表中设有此指标")
        reasons.append(Reason(code="common", text="此类任务常用：" + "，".join(why)))
    return reasons


def _wanted_slots(ranked: list[Entry]) -> list[str]:
    """The categories a task wants: the required ones, and the 效益 categories among the
    task's relevant neighbours (社会效益 when none)."""
    seen_slots = Counter(key[1] for _, key, _, _ in ranked[:60])
    benefit = [s for s in BENEFIT_SLOTS if seen_slots.get(s)] or ["social-benefit"]
    return list(REQUIRED_SLOTS[:4]) + benefit + [REQUIRED_SLOTS[4]]


def _category_status(
    call: _Call,
    ranked: list[Entry],
    slot: str,
    out: list[Suggestion],
    draft_cats: dict[str, list[str]],
    firsts: list[tuple[float, tuple[int, str]]],
) -> CategoryStatus:
    """A wanted category: in the draft, suggested, or why not."""
    _, l1, l2 = SLOTS[slot]
    suggested = sum(1 for s in out if _slot_of(_cat_key(s)) == slot)
    available = slot in {key[1] for _, key in firsts}
    note = ""
    if slot not in draft_cats and not suggested:
        if not available:
            todo = "请按任务测算填写金额" if slot == "cost" else "请按任务自行设定"
            near = max((call.hits[b] for _, key, b, _ in ranked if key[1] == slot), default=0.0)
            why = (
                f"（最接近的相关度{near:.2f}，低于补齐下限{call.fill_floor:.2f}）"
                if 0 < near < call.fill_floor
                else ""
            )
            note = f"同类表中无相关的{l2}{why}；{todo}"
        else:
            note = f"受建议数（{call.req.k}）所限未列出；可增加建议数"
    return CategoryStatus(
        level1=l1,
        level2=l2,
        concept=slot,
        required=slot in REQUIRED_SLOTS,
        in_draft=slot in draft_cats,
        draft_indicators=draft_cats.get(slot, []),
        suggested=suggested,
        note=note,
    )


# --------------------------------------------------------------------------- loading
_ENGINES: dict[tuple[str, str], SuggestEngine] = {}
_LOAD_LOCK = threading.Lock()


def engine_for(
    data_dir: Path, settings: Settings | None = None, *, index: Any = None, store: Any = None
) -> SuggestEngine:
    """The engine for the store in ``data_dir`` (cached per directory and index).

    ``index``: an :class:`embeddings.index.IndicatorIndex` already open (the API's), else the
    index is opened (rebuilt from the cache when stale). ``store``: an open
    :class:`kg.store.GraphStore` or pyoxigraph ``Store`` (the API's), else the store in
    ``data_dir/store`` is opened read-only for the load and closed again.
    """

    root = str(Path(data_dir).resolve())
    with _LOAD_LOCK:
        key = (root, "own" if index is None else str(id(index)))
        eng = _ENGINES.get(key)
        if eng is not None:
            return eng
        if store is not None and not isinstance(store, GraphStore):
            store = GraphStore.from_store(store, read_only=True)  # reuse the caller's open store
        opened = None
        if store is None:
            target = settings.store_target if settings is not None else Path(data_dir) / "store"
            opened = store = GraphStore(target, read_only=True)
        try:
            if index is None:
                index, _ = open_index(store, Path(data_dir), settings)
            eng = SuggestEngine(index, store, settings)
        finally:
            if opened is not None:
                opened.close()
        _ENGINES[key] = eng
        return eng


def forget_engines() -> None:
    """Drop the cached engines (after a rebuild of the store)."""
    with _LOAD_LOCK:
        _ENGINES.clear()
