"""This year against last year: a department's earlier tables, paired and matched indicator by indicator.

The cross-year rules (``target-lowered``, ``indicator-dropped``, ``target-below-actual``,
``copied-unchanged`` in :mod:`apps.review.rules`) read what this module computes once per
table:

* :class:`PriorTable` — an earlier table (from ``--against``: a store or a folder of tables,
  and from the batch under review itself), with its indicators' names, targets and — for a
  self-evaluation (自评表) — actual values, and where each is printed.
* :func:`compare` — picks the earlier table of the *same department* to compare with (the
  latest earlier fiscal year; among that year's tables the one that shares the most
  indicators) and matches indicators one to one: the same name once year words
  (2023年, 2024年度) and punctuation are removed, else the review's similarity measure
  (lexical by default) at or above :data:`MATCH_THRESHOLD` within the same level-2 category.
  A department's tables of *another project* (few shared indicators and another title)
  are recorded as compared but raise nothing: dropping last year's project is not dropping
  indicators.
* :func:`bound` — the comparable reading of a target: which way it points (at least /
  at most) and the bound, so ≥95% → ≥85% and ≥300人次 → ≥200人次 read as lowered, and a
  raised target never does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from kg.records import ParsedTable, TargetValue
from kg.targets import parse_target

from . import coverage as cov
from .similarity import Similarity, bigrams, containment

#: Score at or above which two indicators of two years are the same indicator.
MATCH_THRESHOLD = 0.8
#: Share of matched indicators at or above which two tables are the same project's.
SAME_PROJECT_SHARE = 0.5
#: Share of indicators equal word for word (name and target) for ``copied-unchanged``.
COPIED_SHARE = 0.8
#: … and the fewest indicators a table needs for that note.
COPIED_MIN_INDICATORS = 3

_DATE_LIKE = re.compile(r"(?:19|20)\d{2}\s*[.\-/年]")
_YEAR_WORDS = re.compile(r"(?:19|20)\d{2}\s*(?:年度|年|—|-|～|~)?")


@dataclass(frozen=True)
class PriorIndicator:
    """An indicator of an earlier table, as printed."""

    name: str
    level2: str
    concept: str | None
    target: str
    actual: str | None
    file: str
    line: int | None
    end_line: int | None = None


@dataclass(frozen=True)
class PriorTable:
    """An earlier (or any) table a table may be compared with."""

    title: str
    department: str
    fiscal_year: int | None
    file: str
    line: int | None
    project: str | None
    self_evaluation: bool
    indicators: tuple[PriorIndicator, ...]

    @property
    def label(self) -> str:
        return f"{self.fiscal_year}年“{self.title}”" if self.fiscal_year else f"“{self.title}”"


def prior_of(parsed: ParsedTable) -> PriorTable:
    """A parsed table as an earlier table."""
    t = parsed.table
    return PriorTable(
        title=t.title,
        department=t.department,
        fiscal_year=t.fiscal_year,
        file=t.source.file,
        line=t.source.line,
        project=t.project_name,
        self_evaluation=t.self_evaluation,
        indicators=tuple(
            PriorIndicator(
                name=i.name,
                level2=i.level2,
                concept=cov.concept_id(i.level2, 2, t.category_scheme),
                target=i.target,
                actual=i.actual,
                file=i.source.file,
                line=i.source.line,
                end_line=i.source.end_line,
            )
            for i in parsed.indicators
        ),
    )


# --------------------------------------------------------------------------- matching


def normalize_name(name: str) -> str:
    """An indicator or table name without year words, white space and punctuation."""
    text = unicodedata.normalize("NFKC", name)
    text = _YEAR_WORDS.sub("", text)
    return "".join(ch for ch in text if ch.isalnum())


def name_score(a: str, b: str, similarity: Similarity) -> float:
    """How far two indicator names of two years are the same indicator (0..1)."""
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    s = similarity(na, nb)
    if s == 0.0 and min(len(na), len(nb)) >= 3:
        # generic names (满意度 / 市民满意度) that the duplicate measure declines to compare
        s = containment(bigrams(na), bigrams(nb))
    return s


@dataclass
class Pair:
    """A current indicator (by index) matched with an earlier one."""

    current: int
    prior: PriorIndicator
    score: float


@dataclass
class Comparison:
    """One table compared with the department's earlier table."""

    status: Literal["compared", "other-project", "no-earlier"]
    prior: PriorTable | None = None
    candidates: int = 0  # earlier tables of the department
    pairs: list[Pair] = field(default_factory=list)
    dropped: list[PriorIndicator] = field(default_factory=list)
    identical: int = 0
    method: str = "lexical"

    @property
    def share_identical(self) -> float:
        return self.identical / self._n if self._n else 0.0

    _n: int = 0


def _match(
    parsed: ParsedTable, prior: PriorTable, similarity: Similarity
) -> tuple[list[Pair], list[PriorIndicator]]:
    scheme = parsed.table.category_scheme
    concepts = [cov.concept_id(i.level2, 2, scheme) for i in parsed.indicators]
    scored: list[tuple[int, float, int, int]] = []
    cur_names = [normalize_name(i.name) for i in parsed.indicators]
    prior_names = [normalize_name(p.name) for p in prior.indicators]
    for i, ind in enumerate(parsed.indicators):
        for j, p in enumerate(prior.indicators):
            same_cat = concepts[i] is None or p.concept is None or concepts[i] == p.concept
            exact = bool(cur_names[i]) and cur_names[i] == prior_names[j]
            s = 1.0 if exact else name_score(ind.name, p.name, similarity)
            if exact or (same_cat and s >= MATCH_THRESHOLD):
                # the same name first, then the same category, the score, the nearer position
                scored.append((int(exact) * 2 + int(same_cat), s, i, j))
    n, m = max(1, len(parsed.indicators)), max(1, len(prior.indicators))
    scored.sort(key=lambda x: (-x[0], -x[1], abs(x[2] / n - x[3] / m)))
    used_i: set[int] = set()
    used_j: set[int] = set()
    pairs: list[Pair] = []
    for _, s, i, j in scored:
        if i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        pairs.append(Pair(i, prior.indicators[j], s))
    pairs.sort(key=lambda p: p.current)
    dropped = [p for j, p in enumerate(prior.indicators) if j not in used_j]
    return pairs, dropped


def _same_title(parsed: ParsedTable, prior: PriorTable, similarity: Similarity) -> bool:
    t = parsed.table
    mine = [x for x in (t.project_name, t.title) if x]
    theirs = [x for x in (prior.project, prior.title) if x]
    for a in mine:
        for b in theirs:
            na, nb = normalize_name(a), normalize_name(b)
            if na and nb and (na == nb or containment(bigrams(na), bigrams(nb)) >= 0.8):
                return True
    return False


#: Department names that name no one (a reader's placeholder, a masked name): never compared.
UNNAMED_DEPARTMENTS = frozenset(("", "未注明单位"))


def named_department(name: str) -> bool:
    """A department name that identifies one (not 未注明单位, not masked as ****)."""
    return name.strip() not in UNNAMED_DEPARTMENTS and "*" not in name and "＊" not in name


def compare(
    parsed: ParsedTable, priors: Sequence[PriorTable], similarity: Similarity
) -> Comparison:
    """The table compared with its department's earlier table (see the module docstring)."""
    t = parsed.table
    if t.fiscal_year is None or not named_department(t.department):
        return Comparison("no-earlier")
    earlier = [
        p
        for p in priors
        if p.department == t.department
        and p.fiscal_year is not None
        and p.fiscal_year < t.fiscal_year
        and p.indicators
    ]
    if not earlier:
        return Comparison("no-earlier")
    best: tuple[tuple[int, int, float], PriorTable, list[Pair], list[PriorIndicator]] | None = None
    for p in earlier:
        pairs, dropped = _match(parsed, p, similarity)
        share = len(pairs) / max(1, min(len(parsed.indicators), len(p.indicators)))
        same = share >= SAME_PROJECT_SHARE or _same_title(parsed, p, similarity)
        key = (int(same), p.fiscal_year or 0, share)
        if best is None or key > best[0]:
            best = (key, p, pairs, dropped)
    assert best is not None
    (same, _, _), prior, pairs, dropped = best
    if not same:
        return Comparison("other-project", prior, len(earlier))
    identical = sum(
        normalize_name(parsed.indicators[p.current].name) == normalize_name(p.prior.name)
        and _flat(parsed.indicators[p.current].target) == _flat(p.prior.target)
        for p in pairs
    )
    c = Comparison("compared", prior, len(earlier), pairs, dropped, identical)
    c._n = len(parsed.indicators)
    return c


def _flat(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


# --------------------------------------------------------------------------- targets

Direction = Literal["min", "max"]


@dataclass(frozen=True)
class Bound:
    """Which way a numeric target points and its bound: ≥95% is (min, 95, strict=False)."""

    direction: Direction
    value: Decimal
    unit: str | None
    percent: bool
    strict: bool


def bound(tv: TargetValue | None) -> Bound | None:
    """The comparable reading of a numeric target (None for text, dates, grades …)."""
    if tv is None or tv.form not in ("numeric", "range") or tv.comparison is None:
        return None
    if _DATE_LIKE.search(tv.raw):  # 2023.07-2024.01: a period, not a quantity
        return None
    if tv.comparison in (">=", ">", "=", "range") and tv.lower is not None:
        return Bound("min", tv.lower, tv.unit, tv.percent, tv.comparison == ">")
    if tv.comparison in ("<=", "<") and tv.upper is not None:
        return Bound("max", tv.upper, tv.unit, tv.percent, tv.comparison == "<")
    return None


def comparable(a: Bound, b: Bound) -> bool:
    """Same direction and the same unit (a unit printed on one side only is taken as the same)."""
    if a.direction != b.direction or a.percent != b.percent:
        return False
    return a.unit is None or b.unit is None or a.unit.lower() == b.unit.lower()


def lowered(prev: Bound, cur: Bound) -> bool:
    """The current bound asks for less than the previous one (a raised target never does)."""
    if not comparable(prev, cur):
        return False
    if prev.direction == "min":
        return cur.value < prev.value or (
            cur.value == prev.value and prev.strict and not cur.strict
        )
    return cur.value > prev.value or (cur.value == prev.value and prev.strict and not cur.strict)


def below_actual(actual: Bound, cur: Bound) -> bool:
    """The current target asks for less than what was achieved (the actual value as a point)."""
    if actual.percent != cur.percent:
        return False
    if not (actual.unit is None or cur.unit is None or actual.unit.lower() == cur.unit.lower()):
        return False
    return cur.value < actual.value if cur.direction == "min" else cur.value > actual.value


def read_bound(text: str | None, year: int | None = None) -> Bound | None:
    return bound(parse_target(text, year=year)) if text else None


# --------------------------------------------------------------------------- sources


def priors_of_tables(tables: Iterable[ParsedTable]) -> list[PriorTable]:
    return [prior_of(p) for p in tables]


#: The SPARQL that reads every table of a store with its indicators (``--against``).
TABLES_QUERY = """
SELECT ?t ?title ?department ?year ?project ?self ?tfile ?tline
       ?name ?l2 ?level2 ?target ?actual ?file ?line ?end WHERE {
  ?i a ikg:Indicator ; ikg:name ?name ; ikg:level2 ?l2 ; ikg:inTable ?t .
  ?t ikg:department/ikg:name ?department .
  OPTIONAL { ?i ikg:level2Label ?level2 }
  OPTIONAL { ?t dcterms:title ?title }
  OPTIONAL { ?t ikg:fiscalYear ?year }
  OPTIONAL { ?t ikg:projectName ?project }
  OPTIONAL { ?t ikg:isSelfEvaluation ?self }
  OPTIONAL { ?t ikg:sourceFile ?tfile }
  OPTIONAL { ?t ikg:sourceLine ?tline }
  OPTIONAL { ?i ikg:target/ikg:rawText ?target }
  OPTIONAL { ?i ikg:actual/ikg:rawText ?actual }
  OPTIONAL { ?i ikg:sourceFile ?file }
  OPTIONAL { ?i ikg:sourceLine ?line }
  OPTIONAL { ?i ikg:sourceEndLine ?end }
}
"""


def priors_in_store(
    select: Callable[[str], tuple[object, list[tuple[object, ...]]]],
) -> list[PriorTable]:
    """Every table of a store (``store.select``), with its indicators."""
    _, rows = select(TABLES_QUERY)
    tables: dict[str, dict[str, object]] = {}
    inds: dict[str, list[PriorIndicator]] = {}

    def s(x: object) -> str | None:
        return None if x is None else str(x)

    for (
        t,
        title,
        dept,
        year,
        project,
        self_,
        tfile,
        tline,
        name,
        l2,
        level2,
        target,
        actual,
        file,
        line,
        end,
    ) in rows:
        key = str(t)
        if key not in tables:
            tables[key] = {
                "title": s(title) or "",
                "department": str(dept),
                "fiscal_year": None if year is None else int(str(year)),
                "file": s(tfile) or s(file) or "",
                "line": None if tline is None else int(str(tline)),
                "project": s(project),
                "self_evaluation": str(self_).lower() in ("true", "1"),
            }
        level2_text = s(level2) or ""
        inds.setdefault(key, []).append(
            PriorIndicator(
                name=str(name),
                level2=level2_text,
                concept=str(l2).rsplit("/", 1)[-1],
                target=s(target) or "",
                actual=s(actual),
                file=s(file) or "",
                line=None if line is None else int(str(line)),
                end_line=None if end is None else int(str(end)),
            )
        )
    out = []
    for key, info in tables.items():
        ii = sorted(inds.get(key, []), key=lambda p: (p.file, p.line or 0))
        out.append(PriorTable(indicators=tuple(ii), **info))  # type: ignore[arg-type]
    return out
