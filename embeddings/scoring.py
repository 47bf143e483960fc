"""Hybrid pair scoring: dense + lexical text similarity, weighed by structural agreement.

For two indicators::

    dense_n   = clip((cos − floor) / (1 − floor), 0, 1)      per-model rescaling
    lexical   = max(tfidf_cosine, containment)                 char 1–2-grams
    text      = α · dense_n + (1 − α) · lexical
    structure = weighted agreement of measure kind, unit, target form, level-2 category
    score     = text · (1 − γ · (1 − structure))

``floor`` is the model's typical cosine for unrelated names (the median over
random pairs of the indexed names: 0.85 for e5, 0.15 for USE), so one α and one
set of thresholds can serve models with different similarity scales. α, γ and the
band thresholds are per model (:data:`PROFILES`), calibrated on the development
half of the evaluation set by ``benchmarks/embeddings_eval.py``; an uncalibrated
model gets :data:`FALLBACK` and is reported as such.

Bands: ``duplicate`` ≥ ``t_duplicate`` > ``review`` ≥ ``t_review`` > ``related`` ≥ ``t_related``.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Literal

from .lexical import LexicalIndex
from .text import IndicatorText, clean, measure_family

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
    "use-multilingual-v3": Profile(0.5, 1.0, 0.3138, 0.1601, 0.0589, floor=0.1502),
    "multilingual-e5-small-q4-query": Profile(0.8, 0.8, 0.4007, 0.4007, 0.1098, floor=0.8515),
    "m3e-small": Profile(1.0, 0.9, 0.2448, 0.2448, 0.0483, floor=0.6717),
    "all-MiniLM-L6-v2": Profile(0.2, 1.0, 0.2122, 0.1139, 0.0612, floor=0.5067),
    "hash-ngram123-256": Profile(0.5, 1.0, 0.2175, 0.2175, 0.0635, floor=0.0),
}
#: for a model no benchmark has calibrated
FALLBACK = Profile(0.7, 0.8, 0.4, 0.22, 0.1, calibrated=False, note="uncalibrated defaults")
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
    ca, cb = clean(a), clean(b)
    sm = difflib.SequenceMatcher(None, ca, cb, autojunk=False)
    terms = {ca[m.a : m.a + m.size] for m in sm.get_matching_blocks() if m.size >= min_len}
    return sorted(terms, key=lambda t: (-len(t), t))


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
) -> PairScore:
    """The hybrid score of one pair. ``dense_cos=None`` scores lexically only.

    ``tfidf``/``containment`` may be given when the caller has them precomputed
    (an index scoring many pairs of its own rows).
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
    return PairScore(
        a=a.id,
        b=b.id,
        score=round(float(score), 4),
        band=profile.band(score),
        dense=None if dense_cos is None else round(float(dense_cos), 4),
        dense_rescaled=None if dn is None else round(dn, 4),
        lexical=round(lex, 4),
        tfidf=round(tfidf, 4),
        containment=round(cont, 4),
        structure=round(struct, 4),
        signals=signals,
        shared=shared_terms(a.name, b.name),
    )
