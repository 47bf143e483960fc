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
import math
import re
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rdflib.namespace import SKOS

from kg import categories
from kg.review.rules import MEASURE_WORDS, VAGUE_GRADES, VAGUE_NAME_WORDS
from kg.targets import parse_target

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

#: candidates drawn from the index per query text
POOL = 150
#: links kept per suggestion
MAX_LINKS = 10
#: weight of "a peer table has a similar task" in the group score
TASK_WEIGHT = 0.25
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


_VAGUE_NAME = re.compile("|".join(VAGUE_NAME_WORDS))


def is_vague_name(name: str) -> bool:
    """The review's ``vague-name`` reading: a word of effort and no measurable object."""
    return _VAGUE_NAME.search(name) is not None and MEASURE_WORDS.search(name) is None


def is_vague_target(text: str | None, year: int | None = None) -> str | None:
    """Why the review's ``vague-target`` rule would flag this target, or None.

    A deadline without a year (12月31日前, the form suggestions use) is read in ``year``
    (default: the current year), as the table's fiscal year would complete it.
    """
    if text is None or not text.strip():
        return "未填写目标值"
    tv = parse_target(text, year=year or dt.date.today().year)
    if tv.form == "qualitative" and tv.grade in VAGUE_GRADES:
        return f"目标值“{text}”为定性描述，无法考核"
    if tv.form == "text":
        return f"目标值“{text}”是一段文字，不是可考核的数值、日期或等级"
    return None


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
def typical_target(targets: Iterable[tuple[str, int | None]]) -> TypicalTarget | None:
    """The peers' typical target from (raw text, fiscal year) pairs; None when only vague."""
    numeric: list[tuple[str, str | None, float]] = []  # (comparison, unit, value)
    deadlines: list[str] = []
    others: dict[str, list[str]] = defaultdict(list)
    for raw, year in targets:
        tv = parse_target(raw, year=year)
        if tv.form in ("numeric", "range"):
            v = tv.lower if tv.lower is not None else tv.upper
            if v is None:
                continue
            unit = "%" if tv.percent else tv.unit
            numeric.append((tv.comparison or "=", unit, float(v)))
        elif tv.form == "deadline" and tv.deadline is not None:
            tail = "前" if tv.deadline_relation in ("before", "on_or_before") else ""
            deadlines.append(f"{tv.deadline.month}月{tv.deadline.day}日{tail}")
        elif tv.form in ("duration", "recurring", "schedule"):
            others[tv.form].append(tv.raw)
    counts = {
        "numeric": len(numeric),
        "deadline": len(deadlines),
        **{k: len(v) for k, v in others.items()},
    }
    kind, n = max(counts.items(), key=lambda kv: (kv[1], kv[0] == "numeric"))
    if n == 0:
        return None
    if kind == "numeric":
        unit = Counter(u for _, u, _ in numeric).most_common(1)[0][0]
        same = [(c, v) for c, u, v in numeric if u == unit]
        comp = Counter(c for c, _ in same).most_common(1)[0][0]
        values = [v for _, v in same]
        med = statistics.median(values)
        if unit != "%" and all(v == int(v) for v in values):
            med = float(statistics.median_low(values))  # a count stays a whole number
        lo, hi = min(values), max(values)
        u = unit or ""
        text = f"{_SYMBOL.get(comp, '')}{_num(med)}{u}"
        note = f"同类指标{len(values)}个目标值：中位数{_num(med)}{u}"
        if lo != hi:
            note += f"，范围{_num(lo)}{u}–{_num(hi)}{u}"
        return TypicalTarget(
            text=text,
            kind="numeric",
            comparison=comp,
            unit=unit,
            median=med,
            min=lo,
            max=hi,
            samples=len(values),
            note=note,
        )
    if kind == "deadline":
        form, c = Counter(deadlines).most_common(1)[0]
        return TypicalTarget(
            text=form,
            kind="deadline",
            samples=len(deadlines),
            note=f"同类指标{len(deadlines)}个截止日期中最常见的是“{form}”（{c}个）",
        )
    form, c = Counter(others[kind]).most_common(1)[0]
    return TypicalTarget(
        text=form,
        kind=kind,  # type: ignore[arg-type]
        samples=len(others[kind]),
        note=f"同类指标{len(others[kind])}个目标值中最常见的是“{form}”（{c}个）",
    )


# --------------------------------------------------------------------------- the engine
TASKS_QUERY = """
SELECT ?table ?name ?content WHERE {
  ?k a ikg:Task ; ikg:name ?name ; ikg:inTable ?table .
  OPTIONAL { ?k ikg:content ?content }
}
"""


@dataclass
class Group:
    id: int
    members: list[int]  # row indices of the index
    cats: dict[int, Cat | None] = field(default_factory=dict)


class SuggestEngine:
    """Everything the suggestions need, loaded once per store (index, groups, tasks)."""

    def __init__(self, index: Any, store: Any) -> None:
        from embeddings.duplicates import find_duplicates
        from embeddings.lexical import LexicalIndex

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
        from embeddings.text import clean

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
        for table, name, content in rows:
            self.tasks.append((str(table), f"{name} {content or ''}".strip()))
        self.task_lex = LexicalIndex([t for _, t in self.tasks]) if self.tasks else None

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
        from embeddings.index import Filters

        class _Not(Filters):
            def __call__(self, it: Any) -> bool:
                return it.table not in exclude

        best: dict[int, float] = {}
        for text in texts:
            for h in self.index.search(text, k=POOL, filters=_Not() if exclude else None):
                r = self.index.by_id[h.uri]
                best[r] = max(best.get(r, 0.0), h.score)
        return best

    def group_category(self, rows: list[int]) -> Cat | None:
        cats = Counter(self.cat[r] for r in rows if self.cat[r] is not None)
        return cats.most_common(1)[0][0] if cats else None

    def make_suggestion(
        self,
        gid: int,
        score: float,
        reasons: list[Reason],
        exclude: frozenset[str],
        department: str | None,
        best_row: int | None = None,
    ) -> Suggestion | None:
        items = self.index.items
        rows = [r for r in self.groups[gid] if items[r].table not in exclude]
        if not rows:
            return None
        cat = self.group_category(rows)
        if cat is None:
            return None
        tt = typical_target((items[r].target, items[r].year) for r in rows)
        if tt is None:
            return None
        names = Counter(items[r].name for r in rows if not is_vague_name(items[r].name))
        if not names:
            return None  # only goal-like names (提高人员工作效率): nothing measurable to copy
        name = names.most_common(1)[0][0]
        if (
            best_row is not None
            and items[best_row].name in names
            and names[items[best_row].name] == names[name]
        ):
            name = items[best_row].name
        depts = {items[r].department for r in rows}
        tables = {items[r].table for r in rows}
        links = [
            EvidenceLink(
                uri=items[r].id,
                name=items[r].name,
                department=items[r].department,
                table=items[r].table,
                table_title=items[r].table_title,
                year=items[r].year,
                source=f"{items[r].source_file}:{items[r].source_line}",
                target=items[r].target,
                own_department=bool(department) and department in items[r].department,
            )
            for r in rows[:MAX_LINKS]
        ]
        return Suggestion(
            name=name,
            level1=cat.level1,
            level2=cat.level2,
            level1_concept=cat.level1_concept,
            level2_concept=cat.level2_concept,
            target=tt.text,
            typical_target=tt,
            score=round(score, 4),
            reasons=reasons,
            variants=[n for n in dict.fromkeys(items[r].name for r in rows) if n != name],
            evidence=Evidence(
                departments=len(depts), tables=len(tables), indicators=len(rows), links=links
            ),
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
    def suggest(
        self, req: SuggestRequest, *, exclude_tables: Iterable[str] = ()
    ) -> SuggestResponse:
        exclude = frozenset(exclude_tables)
        items = self.index.items
        full = f"{req.task} {req.content}".strip()
        texts = [req.task] if not req.content.strip() else [req.task, full]
        hits = self._hits(texts, exclude)
        affinity = self.table_affinity(full, exclude)
        # group scores
        by_group: dict[int, tuple[float, int]] = {}
        for r, s in hits.items():
            g = self.group_of[r]
            if g not in by_group or s > by_group[g][0]:
                by_group[g] = (s, r)
        ranked: list[tuple[float, int, int, list[Reason]]] = []
        for g, (s, best) in by_group.items():
            rows = [r for r in self.groups[g] if items[r].table not in exclude]
            depts = {items[r].department for r in rows}
            aff = max((affinity.get(items[r].table, 0.0) for r in rows), default=0.0)
            score = (1 - TASK_WEIGHT) * s + TASK_WEIGHT * aff + 0.03 * math.log(len(depts) or 1)
            reasons = [
                Reason(code="similar", text=f"与任务描述相近（相似度{s:.2f}）：{items[best].name}")
            ]
            if aff >= SIMILAR_TASK or len(depts) >= 2:
                why = []
                if len(depts) >= 2:
                    why.append(f"{len(depts)}个部门使用")
                if aff >= SIMILAR_TASK:
                    why.append("同类任务的绩效目标表中设有此指标")
                reasons.append(Reason(code="common", text="此类任务常用：" + "，".join(why)))
            ranked.append((score, g, best, reasons))
        ranked.sort(key=lambda t: (-t[0], t[1]))

        # draft categories
        draft_cats: dict[str, list[str]] = defaultdict(list)
        for d in req.draft:
            cat = self.draft_category(d, exclude)
            slot = _slot_of(cat.key) if cat else None
            if slot:
                draft_cats[slot].append(d.name)
        draft_clean = {re.sub(r"\s+", "", d.name) for d in req.draft}

        out: list[Suggestion] = []
        pending: list[tuple[float, int, int, list[Reason]]] = []
        for entry in ranked:
            score, g, best, reasons = entry
            if len(out) >= req.k:
                pending.append(entry)
                continue
            sug = self.make_suggestion(g, score, reasons, exclude, req.department, best)
            if sug is None or re.sub(r"\s+", "", sug.name) in draft_clean:
                continue
            out.append(sug)

        # the 效益 categories that apply: those among the task's neighbours
        seen_slots = Counter(
            _slot_of(self.cat[best].key) if self.cat[best] else None
            for _, _, best, _ in ranked[:60]
        )
        benefit = [s for s in BENEFIT_SLOTS if seen_slots.get(s)] or ["social-benefit"]
        wanted = list(REQUIRED_SLOTS[:4]) + benefit + [REQUIRED_SLOTS[4]]
        have = {_slot_of(_cat_key(s)) for s in out}
        for slot in wanted:
            if slot in have or slot in draft_cats:
                continue
            for score, g, best, reasons in pending:
                if self.cat[best] is None or _slot_of(self.cat[best].key) != slot:
                    continue
                label = SLOTS[slot][2]
                sug = self.make_suggestion(
                    g,
                    score,
                    [*reasons, Reason(code="missing-category", text=f"补齐缺少的“{label}”")],
                    exclude,
                    req.department,
                    best,
                )
                # the suggestion carries its group's category, which can differ from its
                # best row's (政府采购率: 质量 in one table, 时效 in another): it must fill this slot
                if (
                    sug is not None
                    and _slot_of(_cat_key(sug)) == slot
                    and re.sub(r"\s+", "", sug.name) not in draft_clean
                ):
                    out.append(sug)
                    have.add(slot)
                    break

        cats_out = []
        for slot in wanted:
            _, l1, l2 = SLOTS[slot]
            cats_out.append(
                CategoryStatus(
                    level1=l1,
                    level2=l2,
                    concept=slot,
                    required=slot in REQUIRED_SLOTS,
                    in_draft=slot in draft_cats,
                    draft_indicators=draft_cats.get(slot, []),
                    suggested=sum(1 for s in out if _slot_of(_cat_key(s)) == slot),
                )
            )
        hints = [h for d in req.draft if (h := self.rewrite_hint(d, exclude, req)) is not None]
        return SuggestResponse(
            task=req.task,
            suggestions=out,
            categories=cats_out,
            rewrite_hints=hints,
            model=self.index.model_id,
            indicators_indexed=len(items) - sum(1 for it in items if it.table in exclude),
        )

    def rewrite_hint(
        self, d: DraftIndicator, exclude: frozenset[str], req: SuggestRequest, n: int = 3
    ) -> RewriteHint | None:
        problem = is_vague_target(d.target)
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
            sug = self.make_suggestion(g, s, [reason], exclude, req.department, best)
            if sug is not None and sug.name != d.name:
                alts.append(sug)
            if len(alts) >= n:
                break
        return RewriteHint(
            draft_name=d.name, draft_target=d.target, problem=problem, alternatives=alts
        )


def _cat_key(s: Suggestion) -> str:
    return s.level2_concept.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- loading
_ENGINES: dict[tuple[str, str], SuggestEngine] = {}
_LOAD_LOCK = threading.Lock()


def engine_for(
    data_dir: Path, settings: Any = None, *, index: Any = None, store: Any = None
) -> SuggestEngine:
    """The engine for the store in ``data_dir`` (cached per directory and index).

    ``index``: an :class:`embeddings.index.IndicatorIndex` already open (the API's), else the
    index is opened (rebuilt from the cache when stale). ``store``: an open
    :class:`kg.store.GraphStore` or pyoxigraph ``Store`` (the API's), else the store in
    ``data_dir/store`` is opened read-only for the load and closed again.
    """
    from embeddings.index import open_index
    from kg.store import GraphStore

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
            target = getattr(settings, "store_target", None) or Path(data_dir) / "store"
            opened = store = GraphStore(target, read_only=True)
        try:
            if index is None:
                index, _ = open_index(store, Path(data_dir), settings)
            eng = SuggestEngine(index, store)
        finally:
            if opened is not None:
                opened.close()
        _ENGINES[key] = eng
        return eng


def forget_engines() -> None:
    """Drop the cached engines (after a rebuild of the store)."""
    with _LOAD_LOCK:
        _ENGINES.clear()
