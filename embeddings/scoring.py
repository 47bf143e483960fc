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
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

from . import residues as rz
from .lexical import LexicalIndex
from .text import IndicatorText, clean, measure_family

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


def _context(a: IndicatorText, b: IndicatorText) -> tuple[str, ...]:
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
    lex = [rz.lexical_residues(a.name, b.name, context=_context(a, b)) for a, b in pairs]
    sim: rz.WordSimilarity | None = None
    if encode is not None:
        words = sorted({w for r in lex if r.a and r.b for w in (*r.a, *r.b)})
        if words:
            from ._optional import require

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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


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
) -> PairScore:
    """The hybrid score of one pair. ``dense_cos=None`` scores lexically only.

    ``tfidf``/``containment`` may be given when the caller has them precomputed
    (an index scoring many pairs of its own rows); so may ``residues``
    (:func:`pair_residues`, which adds the dense word match). Without them the residues
    are computed here with the word families only. ``use_siblings=False`` leaves the
    sibling factor out.
    """
    if tfidf is None:
        tfidf = lexical.cosine(a.name, b.name) if use_lexical else 0.0
    if containment is None:
        containment = lexical.containment(a.name, b.name) if use_lexical else 0.0
    cont = containment
    lex = max(tfidf, cont)
    if dense_cos is None:
        text = lex
        dn = None
    else:
        dn = rescale_dense(dense_cos, floor)
        text = dn if not use_lexical else profile.alpha * dn + (1 - profile.alpha) * lex
    signals = structure_signals(a, b)
    struct = structure_score(signals) if use_structure else 1.0
    score = text * (1.0 - profile.gamma * (1.0 - struct)) if use_structure else text
    res = rz.Residues((), ())
    band = profile.band(score)
    if use_siblings:
        res = (
            residues
            if residues is not None
            else pair_residues([(a, b)], floor=floor, theta=profile.sibling_theta)[0]
        )
        if res.sibling:
            # the same measure of another object: related, not a duplicate
            related = score >= profile.t_related
            score *= 1.0 - profile.sibling_penalty
            band = profile.band(score)
            if related and band == "none":
                band = "related"
    return PairScore(
        a=a.id,
        b=b.id,
        score=round(float(score), 4),
        band=band,
        dense=None if dense_cos is None else round(float(dense_cos), 4),
        dense_rescaled=None if dn is None else round(dn, 4),
        lexical=round(lex, 4),
        tfidf=round(tfidf, 4),
        containment=round(cont, 4),
        structure=round(struct, 4),
        signals=signals,
        shared=shared_terms(a.name, b.name),
        sibling=res.sibling,
        residues=(list(res.a), list(res.b)),
    )
