"""Hybrid pair scoring: dense + lexical text similarity, weighed by structural agreement.

For two indicators::

    dense_n   = clip((cos − floor) / (1 − floor), 0, 1)      per-model rescaling
    lexical   = max(tfidf_cosine, containment)                 char 1–2-grams
    text      = α · dense_n + (1 − α) · lexical
    structure = weighted agreement of measure kind, unit, target form, level-2 category
    sibling   = 1 when both names keep a substantive word of their own (embeddings.residues)
    score     = text · (1 − γ · (1 − structure)) · (1 − δ · sibling)

``floor`` is the model's typical cosine for unrelated names (the median over
random pairs of the indexed names: 0.85 for e5, 0.15 for USE), so one α and one
set of thresholds can serve models with different similarity scales. The sibling
factor tells 药品监管企业数 / 化妆品监管企业数 (the same measure of two different
objects) from 慰问金发放覆盖率 / 市转企业离休干部慰问金发放覆盖率 (one name qualifies
the other): see :mod:`embeddings.residues`. α, γ, δ, the word-equivalence threshold θ
and the band thresholds are per model (:data:`PROFILES`), calibrated on the development
half of the evaluation set by ``benchmarks/embeddings_eval.py``; an uncalibrated
model gets :data:`FALLBACK` and is reported as such.

Bands: ``duplicate`` ≥ ``t_duplicate`` > ``review`` ≥ ``t_review`` > ``related`` ≥ ``t_related``.
The score orders pairs; the band also obeys :func:`band_caps`: whatever the score, a pair of
different measures, objects or people, units, target values — or, across departments, a
generic name, another fiscal year or another region — is at most ``related``.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

from . import residues as rz
from ._optional import require
from .lexical import LexicalIndex
from .text import IndicatorText, clean, is_common_name, measure_family, name_unit, region_of

if TYPE_CHECKING:
    import numpy as np

Band = Literal["duplicate", "review", "related", "none"]


@dataclass(frozen=True)
class Profile:
    """Per-model weights and thresholds."""

    alpha: float  # weight of the dense part in the text score
    gamma: float  # how much structural disagreement lowers the score
    t_duplicate: float
    t_review: float
    t_related: float
    floor: float | None = None  # the model's unrelated-pair cosine on the evaluation names
    calibrated: bool = True
    note: str = ""
    #: δ: how much a sibling pair (both names keep a slot of their own) loses; 0 turns it off
    sibling_penalty: float = 0.0
    #: θ: rescaled cosine at which two residue words count as the same word
    sibling_theta: float = 0.7

    def band(self, score: float) -> Band:
        if score >= self.t_duplicate:
            return "duplicate"
        if score >= self.t_review:
            return "review"
        if score >= self.t_related:
            return "related"
        return "none"


#: model id prefix → profile, from ``python benchmarks/embeddings_eval.py`` (dev half of the
#: evaluation set; its "calibrated profiles" section prints these lines)
PROFILES: dict[str, Profile] = {
    "hash-ngram123-256": Profile(
        0.5,
        1.0,
        0.2175,
        0.2175,
        0.0635,
        floor=0.0,
        sibling_penalty=0.9,
        sibling_theta=0.5,
    ),
    "use-multilingual-v3": Profile(
        0.5,
        1.0,
        0.2742,
        0.1601,
        0.0589,
        floor=0.1502,
        sibling_penalty=0.9,
        sibling_theta=0.7,
    ),
    "multilingual-e5-small-q4-query": Profile(
        0.8,
        0.8,
        0.4007,
        0.4007,
        0.1098,
        floor=0.8515,
        sibling_penalty=0.9,
        sibling_theta=0.7,
    ),
    "all-MiniLM-L6-v2": Profile(
        0.2,
        1.0,
        0.2122,
        0.1139,
        0.0612,
        floor=0.5067,
        sibling_penalty=0.9,
        sibling_theta=0.8,
    ),
    "m3e-small": Profile(
        1.0,
        0.9,
        0.2327,
        0.2327,
        0.0483,
        floor=0.6717,
        sibling_penalty=0.9,
        sibling_theta=0.7,
    ),
}
#: for a model no benchmark has calibrated
FALLBACK = Profile(
    0.7, 0.8, 0.4, 0.22, 0.1, calibrated=False, note="uncalibrated defaults", sibling_penalty=0.7
)
#: lexical only (no model)
LEXICAL_PROFILE_KEY = "lexical"


def profile_for(model_id: str | None) -> Profile:
    key = model_id or LEXICAL_PROFILE_KEY
    for prefix, prof in PROFILES.items():
        if key.startswith(prefix):
            return prof
    return FALLBACK


# --------------------------------------------------------------------------- structure
#: weights of the structural signals (sum 1)
STRUCT_WEIGHTS = {"measure": 0.4, "unit": 0.2, "form": 0.1, "level2": 0.1, "value": 0.2}


def _agree(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return 1.0 if a == b else 0.0


def structure_signals(a: IndicatorText, b: IndicatorText) -> dict[str, float | None]:
    """Each signal 1 (agree), 0 (disagree) or None (unknown on one side)."""
    ma, mb = a.measure, b.measure
    measure: float | None
    if ma is None or mb is None:
        measure = None
    elif ma == mb:
        measure = 1.0
    elif measure_family(ma) == measure_family(mb) and measure_family(ma) == "rate":
        measure = 0.5  # 覆盖率 vs 完成率: both rates, not the same one
    else:
        measure = 0.0
    value: float | None = None
    va, vb = a.count_value, b.count_value
    if va is not None and vb is not None and a.unit == b.unit:
        hi, lo = max(va, vb), min(va, vb)
        value = 1.0 if hi == 0 or lo / hi >= 0.8 else 0.0  # 649人次 vs 30人次: not one count
    return {
        "value": value,
        "measure": measure,
        "unit": _agree(a.unit, b.unit),
        "form": _agree(a.form, b.form),
        "level2": _agree(_level2_key(a.level2), _level2_key(b.level2)),
    }


def _level2_key(label: str) -> str:
    return clean(label).removesuffix("指标").removeprefix("产出") if label else ""


def structure_score(signals: dict[str, float | None]) -> float:
    """Weighted agreement over the known signals; 1.0 when nothing is known."""
    num = den = 0.0
    for k, w in STRUCT_WEIGHTS.items():
        v = signals.get(k)
        if v is not None:
            num += w * v
            den += w
    return num / den if den else 1.0


# --------------------------------------------------------------------------- text
def rescale_dense(cos: float, floor: float) -> float:
    if floor >= 1.0:
        return 0.0
    return min(1.0, max(0.0, (cos - floor) / (1.0 - floor)))


def shared_terms(a: str, b: str, min_len: int = 2) -> list[str]:
    """Common substrings of at least ``min_len`` characters, longest first (the explanation)."""
    return list(_shared_terms(a, b, min_len))


@functools.lru_cache(maxsize=65_536)
def _shared_terms(a: str, b: str, min_len: int) -> tuple[str, ...]:
    # names repeat across departments and years: a sweep meets the same two names many times
    ca, cb = clean(a), clean(b)
    sm = difflib.SequenceMatcher(None, ca, cb, autojunk=False)
    terms = {ca[m.a : m.a + m.size] for m in sm.get_matching_blocks() if m.size >= min_len}
    return tuple(sorted(terms, key=lambda t: (-len(t), t)))


#: ``encode(words) -> (len(words), dim)`` L2-normalised vectors: the model's encoder
WordEncoder = Callable[[Sequence[str]], "np.ndarray"]


def residue_context(a: IndicatorText, b: IndicatorText) -> tuple[str, ...]:
    """Texts whose words are the organisation itself (qualifiers, not objects)."""
    return tuple(dict.fromkeys(d for d in (a.department, b.department) if d))


def pair_residues(
    pairs: Sequence[tuple[IndicatorText, IndicatorText]],
    *,
    encode: WordEncoder | None = None,
    floor: float = 0.0,
    theta: float = 0.7,
) -> list[rz.Residues]:
    """:func:`embeddings.residues.residues` for many pairs, the residue words encoded at once.

    ``encode`` (the model's encoder) adds the dense word match: two residue words whose
    rescaled cosine is at least ``theta`` count as one; without it only the word families
    of :data:`embeddings.residues.EQUIVALENT_WORDS` do.
    """
    lex = [rz.lexical_residues(a.name, b.name, context=residue_context(a, b)) for a, b in pairs]
    sim: rz.WordSimilarity | None = None
    if encode is not None:
        words = sorted({w for r in lex if r.a and r.b for w in (*r.a, *r.b)})
        if words:
            np = require("numpy")
            vecs = np.asarray(encode(words), dtype=np.float32)
            pos = {w: n for n, w in enumerate(words)}
            span = max(1e-6, 1.0 - floor)

            def sim(wa: Sequence[str], wb: Sequence[str]) -> np.ndarray:
                m = vecs[[pos[w] for w in wa]] @ vecs[[pos[w] for w in wb]].T
                return np.clip((m - floor) / span, 0.0, 1.0)

    return [rz.match(r, sim, theta) for r in lex]


@dataclass
class PairScore:
    a: str
    b: str
    score: float
    band: Band
    dense: float | None
    dense_rescaled: float | None
    lexical: float
    tfidf: float
    containment: float
    structure: float
    signals: dict[str, float | None] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)
    #: both names keep a substantive word of their own: the same measure of different objects
    sibling: bool = False
    #: the words of ``a`` that ``b`` lacks, and of ``b`` that ``a`` lacks (after matching)
    residues: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    #: why the pair is at most ``related`` (:func:`band_caps`); empty when nothing caps it
    caps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# --------------------------------------------------------------------------- band caps
#: measures that say *how* (a rate, a satisfaction, a deadline) but not *what*: with them the
#: object is only what the other words of the name say
GENERIC_MEASURES = frozenset(
    {"satisfaction", "awareness", "timeliness", "completion_rate", "quality_rate"}
    | {"execution_rate", "coverage", "rate"}
)

#: units that count the same thing (人 / 人次: people, whether or not counted per visit)
_UNIT_ALIASES = {"人次": "人", "名": "人", "场次": "场", "百分比": "%", "％": "%"}

#: the reasons :func:`band_caps` gives, in the order it checks them
CAPS = ("measure", "unit", "value", "object", "common", "year", "region")


def _unit_key(unit: str | None) -> str | None:
    return _UNIT_ALIASES.get(unit, unit) if unit else None


def band_caps(
    a: IndicatorText,
    b: IndicatorText,
    res: rz.Residues,
    signals: dict[str, float | None],
) -> list[str]:
    """Why ``a`` and ``b`` cannot be duplicates, whatever their text score (empty: they can).

    A duplicate is the same measure of the same object, with a compatible unit and target:

    * ``measure`` — the two names end in different measures (完成率 / 及时率, 人数 / 满意度);
    * ``unit`` — both units known and different (人次 / 个); ``value`` — two counts whose
      targets differ by more than a fifth (649人次 / 30人次);
    * ``object`` — the names measure different objects or people (:func:`_other_object`):
      siblings, one character changed, and within one department any word one name has and
      the other lacks (after the word families and the model's word match of
      :mod:`embeddings.residues`): 学生家长 / 学生, 区属离退休干部 / 干部, 情景教学或外训 / 培训;
    * across departments: ``common`` — either name is a generic measure with nothing of its
      own (服务对象满意度, 项目实施时间, 预算执行率: :func:`is_generic`), which every
      department carries for its own programme; ``year`` / ``region`` — the two tables are
      of different fiscal years, or of regions that do not contain one another
      (:func:`embeddings.text.region_of`): another department cannot fund the same thing there.
    """
    caps = []
    m = signals.get("measure")
    if m is not None and m < 1.0:
        caps.append("measure")
    if _units_differ(a, b):
        caps.append("unit")
    if signals.get("value") == 0.0:
        caps.append("value")
    if _other_object(a, b, res):
        caps.append("object")
    caps += department_context(a, b)  # nothing within one department
    return caps


def _other_object(a: IndicatorText, b: IndicatorText, res: rz.Residues) -> bool:
    """Do the two names measure different objects or people?

    Siblings (both names keep words of their own) and one template with one character
    changed (种公猪 / 种母猪) always do. Within one department — one author wrote both rows —
    any word one name has and the other lacks is how the author tells them apart: a
    qualifier that narrows the people or things (干部满意度 / 管理的区属离退休干部满意度,
    提高两新党建工作水平 / 提高全区党建工作水平), two outcome statements with words of their
    own. Only a name that goes on after a comma (提升单位干部文化素养及团队精神 / …，保证单位
    形象及社会影响力) adds a purpose, not an object. Across sources (another department, a
    library) a qualifier may only say where a general name is used: left to the text score.
    """
    if res.sibling or _one_slot_apart(clean(a.name), clean(b.name)):
        return True
    if not (res.a or res.b) or not (a.department and a.department == b.department):
        return False
    if res.a and res.b:
        return True  # two sentences, each with words of its own
    longer, shorter = (a, b) if res.a else (b, a)
    return not _clause_added(longer.name, shorter.name, sentences=res.sentences)


#: what ends a clause: an outcome statement that goes on after it adds a purpose
_CLAUSE = re.compile(r"[，,；;。]")
#: between two sentences (outcome statements) an enumeration comma also ends one: 集聚更多
#: 优秀人才、形成更强智力支撑 states a second outcome after the first, not another object
_SENTENCE_CLAUSE = re.compile(r"[，,；;。、]")


def _clause_added(longer: str, shorter: str, *, sentences: bool = False) -> bool:
    """``longer`` is ``shorter`` with a clause after a comma (提升组工干部文化素养及团队精神，
    保证单位形象及社会影响力 / 提升单位干部文化素养及团队精神): its first clause adds nothing.
    ``sentences``: both names are outcome statements, whose clauses ``、`` may also join."""
    head = (_SENTENCE_CLAUSE if sentences else _CLAUSE).split(longer, maxsplit=1)[0]
    if head == longer:
        return False
    r = rz.lexical_residues(head, shorter)
    return not (r.a or r.b)


#: target forms whose unit is a unit (not the text of a deadline or a grade)
_NUMERIC_FORMS = frozenset({"numeric", "range"})


def _units_differ(a: IndicatorText, b: IndicatorText) -> bool:
    """Both units known and different: a numeric target's unit, else a unit the name prints
    in its brackets (种公猪(≥头) / 公猪舍(≥**平方米))."""

    def unit(it: IndicatorText) -> str | None:
        if it.unit and it.form in _NUMERIC_FORMS:
            return _unit_key(it.unit)
        return _unit_key(name_unit(it.name))

    ua, ub = unit(a), unit(b)
    return bool(ua and ub and ua != ub)


def _one_slot_apart(a: str, b: str) -> bool:
    """One template, one character changed: 种公猪(≥头) / 种母猪(≥头), 一级 / 二级 — unless the
    two words around it are one word family (及时完成率 / 按时完成率)."""
    if len(a) != len(b) or len(a) < 3:
        return False
    diff = [n for n, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) != 1 or not all("\u4e00" <= ch <= "\u9fff" for ch in (a[diff[0]], b[diff[0]])):
        return False
    n = diff[0]  # a word of one family around the slot (及时 / 按时) is the same word
    return not any(
        rz.same_family(a[lo : lo + 2], b[lo : lo + 2]) for lo in (n - 1, n) if 0 <= lo <= len(a) - 2
    )


@dataclass(frozen=True)
class DepartmentFacts:
    """What the band caps read of one indicator's department (:func:`caps_between`)."""

    department: str
    year: int | None
    region: str
    generic: bool  # the name is a generic measure for this department (is_generic)


def department_facts(it: IndicatorText) -> DepartmentFacts:
    dept = it.department
    return DepartmentFacts(
        dept, it.year, region_of(dept) if dept else "", is_generic(it.name, dept)
    )


def department_context(a: IndicatorText, b: IndicatorText) -> tuple:
    """What :func:`band_caps` reads of the two departments (a key for caching pair scores)."""
    return caps_between(department_facts(a), department_facts(b))


def caps_between(fa: DepartmentFacts, fb: DepartmentFacts) -> tuple[str, ...]:
    """The caps of two indicators of different departments: ``common`` (either name generic),
    ``year`` (other fiscal years), ``region`` (other regions); none within one department."""
    if not (fa.department and fb.department) or fa.department == fb.department:
        return ()
    out = []
    if fa.generic or fb.generic:
        out.append("common")
    if fa.year and fb.year and fa.year != fb.year:
        out.append("year")
    ra, rb = fa.region, fb.region
    if ra and rb and not (ra.startswith(rb) or rb.startswith(ra)):
        out.append("region")
    return tuple(out)


@functools.lru_cache(maxsize=65_536)
def is_generic(name: str, department: str = "") -> bool:
    """A generic measure with nothing of its own: every word of the name is a measure or a
    qualifier (:data:`embeddings.residues.QUALIFIER_WORDS`, the department's own words), or
    the name is one of the usual common indicators (预算执行率, 成本控制 …)."""
    if is_common_name(name):
        return True
    context = {w for w in rz.words(department) if len(w) >= 2} if department else set()
    return not [
        w
        for w in rz.words(name)
        if len(w) >= 2 and w not in rz.QUALIFIER_WORDS and w not in context
    ]


# --------------------------------------------------------------------------- the score
def score_pair(
    a: IndicatorText,
    b: IndicatorText,
    *,
    lexical: LexicalIndex,
    dense_cos: float | None,
    floor: float,
    profile: Profile,
    use_structure: bool = True,
    use_lexical: bool = True,
    tfidf: float | None = None,
    containment: float | None = None,
    residues: rz.Residues | None = None,
    use_siblings: bool = True,
    use_caps: bool = True,
) -> PairScore:
    """The hybrid score of one pair. ``dense_cos=None`` scores lexically only.

    ``tfidf``/``containment`` may be given when the caller has them precomputed
    (an index scoring many pairs of its own rows); so may ``residues``
    (:func:`pair_residues`, which adds the dense word match). Without them the residues
    are computed here with the word families only. ``use_siblings=False`` leaves the
    sibling factor out; ``use_caps=False`` the band caps (:func:`band_caps`).
    """
    if tfidf is None:
        tfidf = lexical.cosine(a.name, b.name) if use_lexical else 0.0
    if containment is None:
        containment = lexical.containment(a.name, b.name) if use_lexical else 0.0
    lex = max(tfidf, containment)
    dn = None if dense_cos is None else rescale_dense(dense_cos, floor)
    text = _text_score(dn, lex, profile, use_lexical)
    signals = structure_signals(a, b)
    struct = structure_score(signals) if use_structure else 1.0
    score = text * (1.0 - profile.gamma * (1.0 - struct)) if use_structure else text
    res = _residues(a, b, residues, floor, profile) if use_siblings or use_caps else _NO_RESIDUES
    score, band = _sibling_step(score, res if use_siblings else _NO_RESIDUES, profile)
    caps = band_caps(a, b, res, signals) if use_caps else []
    score, band = _caps_step(score, band, caps, res, signals, profile, use_caps=use_caps)
    return PairScore(
        a=a.id,
        b=b.id,
        score=round(float(score), 4),
        band=band,
        dense=None if dense_cos is None else round(float(dense_cos), 4),
        dense_rescaled=None if dn is None else round(dn, 4),
        lexical=round(lex, 4),
        tfidf=round(tfidf, 4),
        containment=round(containment, 4),
        structure=round(struct, 4),
        signals=signals,
        shared=shared_terms(a.name, b.name),
        sibling=use_siblings and res.sibling,
        residues=(list(res.a), list(res.b)),
        caps=caps,
    )


_NO_RESIDUES = rz.Residues((), ())


def _caps_step(
    score: float,
    band: Band,
    caps: list[str],
    res: rz.Residues,
    signals: dict[str, float | None],
    profile: Profile,
    *,
    use_caps: bool,
) -> tuple[float, Band]:
    """The score and band after the band caps: a capped pair is at most related, an uncapped
    one whose names say the same thing in other words (:func:`_same_words`) a duplicate."""
    if caps and band in ("duplicate", "review"):
        band = "related"  # a different measure, object or programme: at most related
    elif use_caps and not caps and band != "duplicate" and _same_words(res, signals):
        # one measure, and neither name has a word the other lacks once spellings, word
        # families and qualifiers are read: the same measure of the same object, however
        # worded (支出进度达标率 / 预算执行率 of one table)
        score, band = max(score, profile.t_duplicate), "duplicate"
    return score, band


def _same_words(res: rz.Residues, signals: dict[str, float | None]) -> bool:
    """Both names end in one measure and neither keeps a word of its own (:func:`band_caps`
    found no reason to keep them apart): they say the same thing in other words."""
    return signals.get("measure") == 1.0 and not (res.a or res.b)


def _residues(
    a: IndicatorText, b: IndicatorText, given: rz.Residues | None, floor: float, profile: Profile
) -> rz.Residues:
    """The pair's residues: the caller's, else computed with the word families only."""
    if given is not None:
        return given
    return pair_residues([(a, b)], floor=floor, theta=profile.sibling_theta)[0]


def _text_score(dn: float | None, lex: float, profile: Profile, use_lexical: bool) -> float:
    """α · dense + (1 − α) · lexical; lexical alone without a dense cosine."""
    if dn is None:
        return lex
    return dn if not use_lexical else profile.alpha * dn + (1 - profile.alpha) * lex


def _sibling_step(score: float, res: rz.Residues, profile: Profile) -> tuple[float, Band]:
    """The sibling factor (the same measure of another object) and the band after it: a
    sibling that was at least related before the factor stays related."""
    band = profile.band(score)
    if not res.sibling:
        return score, band
    related = score >= profile.t_related
    score *= 1.0 - profile.sibling_penalty
    band = profile.band(score)
    if related and band == "none":
        band = "related"
    return score, band
