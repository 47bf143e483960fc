"""Lexical measures for duplicates and task alignment, pluggable until the embedding index exists.

Two measures, each a plain function that a caller may replace:

:data:`Similarity` ``(a, b) -> float`` in 0..1 — how far two indicator names say
the same thing. The default, :func:`lexical_similarity`, removes the words every
indicator name uses (满意度, 覆盖率, 人次, 工作, 提升 …: :data:`GENERIC_WORDS`)
and measures the *containment* of the shorter name's character bigrams in the
longer one's (|A∩B| / min(|A|, |B|)). Containment rather than Jaccard because a
reviewer's duplicate is usually one name inside another ("慰问金发放覆盖率" in
"市转企业离休干部慰问金发放覆盖率", "按月发放…慰问金" vs "发放…慰问金人次"), while
two names about the same people but different things ("…“两贴”发放覆盖率" vs
"…慰问金发放覆盖率") keep a distinct part each and score lower. A name whose
specific part is shorter than :data:`MIN_SPECIFIC_CHARS` scores 0: "干部满意度"
says too little to be anyone's duplicate.

:data:`Aligner` ``(indicator_texts, task_texts) -> scores[i][k]`` in 0..1 — how
far indicator *i* is about task *k*. The default, :func:`lexical_alignment`,
weights each character bigram and character by its inverse document frequency
over the table's tasks (a bigram every task mentions says nothing), and scores
the share of the indicator's weight that the task's name and content contain:
0.6 × bigram share + 0.4 × character share.

Both work on :func:`normalize` d text: NFKC, letters and digits only.

When the embeddings extra is installed, the duplicate rules use :class:`EmbeddingScorer`
instead of :func:`lexical_similarity` — the hybrid scorer of ``ikg duplicates`` with its
calibrated bands (:func:`embedding_scorer`); passing a ``similarity`` to
:func:`apps.review.review_files` keeps the lexical path with that measure.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embeddings.duplicates import explain
from embeddings.index import IndicatorIndex
from embeddings.scoring import profile_for
from kg.errors import EmbeddingError

if TYPE_CHECKING:
    from kg.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "GENERIC_WORDS",
    "MIN_SPECIFIC_CHARS",
    "Aligner",
    "EmbeddingScorer",
    "Similarity",
    "bigrams",
    "containment",
    "embedding_scorer",
    "is_specific",
    "jaccard",
    "lexical_alignment",
    "lexical_similarity",
    "normalize",
    "specific_part",
]

Similarity = Callable[[str, str], float]
Aligner = Callable[[Sequence[str], Sequence[str]], list[list[float]]]

#: Words that many indicator names share and that say nothing about *what* is measured.
#: Longest first, so that 满意度 goes before 满意 and 率.
# fmt: off
GENERIC_WORDS: tuple[str, ...] = tuple(sorted((
    "满意度", "满意率", "覆盖率", "合格率", "完成率", "及时率", "达标率", "通过率", "执行率",
    "知晓率", "知晓度", "参与度", "参与率", "比例", "比率", "占比",
    "人次", "人数", "次数", "场次", "数量", "时效", "及时性", "及时", "情况",
    "工作", "开展", "完成", "提升", "提高", "促进", "加强", "优化", "推动", "做好",
    "各项", "相关", "进行", "有效", "全区", "区属", "率",
), key=len, reverse=True))
# fmt: on

#: Fewer specific characters than this and a name is too generic to be called a duplicate.
MIN_SPECIFIC_CHARS = 4

#: Bigrams too common in task texts and indicator names to align anything.
_ALIGN_STOP_WORDS: tuple[str, ...] = (
    *GENERIC_WORDS,
    "及时",
    "保障",
    "能力",
    "水平",
    "服务",
    "管理",
    "单位",
    "各项",
    "相关",
)
_ALIGN_STOP_CHARS = frozenset("的和及与对在为了等各项个是有")
#: Floor of an indicator's total weight: a name that says little (干部满意度) cannot score high.
_MIN_MASS = 3.0


def normalize(text: str) -> str:
    """NFKC, then letters and digits only (punctuation, quotes, brackets, spaces dropped)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isalnum())


@lru_cache(maxsize=65536)
def specific_part(name: str) -> str:
    """The name without :data:`GENERIC_WORDS` (normalised)."""
    t = normalize(name)
    for w in GENERIC_WORDS:
        t = t.replace(w, "|")
    return t


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a text; a ``|`` (a removed word) breaks the sequence."""
    out = set()
    for piece in text.split("|"):
        if len(piece) == 1:
            out.add(piece)
        out.update(piece[i : i + 2] for i in range(len(piece) - 1))
    return frozenset(out)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def containment(a: frozenset[str], b: frozenset[str]) -> float:
    """|A∩B| / min(|A|, |B|): 1.0 when the smaller set lies inside the larger one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@lru_cache(maxsize=65536)
def _name_grams(name: str) -> frozenset[str]:
    part = specific_part(name)
    if len(part.replace("|", "")) < MIN_SPECIFIC_CHARS:
        return frozenset()
    return bigrams(part)


def is_specific(name: str) -> bool:
    """True when the name says enough, beyond generic words, to be compared across tables."""
    return bool(_name_grams(name))


def lexical_similarity(a: str, b: str) -> float:
    """Containment of the specific bigrams of two indicator names (see the module docstring)."""
    if normalize(a) == normalize(b):
        return 1.0
    return containment(_name_grams(a), _name_grams(b))


def _strip_words(text: str, words: tuple[str, ...]) -> str:
    for w in words:
        text = text.replace(w, "|")
    return text


def lexical_alignment(indicators: Sequence[str], tasks: Sequence[str]) -> list[list[float]]:
    """IDF-weighted bigram and character overlap of each indicator with each task, 0..1."""
    n = len(tasks)
    if n == 0:
        return [[] for _ in indicators]
    task_norm = [normalize(t) for t in tasks]
    task_bi = [bigrams(t) for t in task_norm]
    task_ch = [frozenset(c for c in t if not c.isdigit()) - _ALIGN_STOP_CHARS for t in task_norm]
    df_bi = Counter(g for s in task_bi for g in s)
    df_ch = Counter(c for s in task_ch for c in s)

    def idf(df: int) -> float:
        return math.log((n + 1) / (df + 0.5))

    out: list[list[float]] = []
    for text in indicators:
        t = normalize(text)
        bi = bigrams(_strip_words(t, _ALIGN_STOP_WORDS))
        ch = frozenset(c for c in t if not c.isdigit()) - _ALIGN_STOP_CHARS
        w_bi = {g: idf(df_bi.get(g, 0)) for g in bi}
        w_ch = {c: idf(df_ch.get(c, 0)) for c in ch}
        tot_bi = max(sum(w_bi.values()), _MIN_MASS)
        tot_ch = max(sum(w_ch.values()), _MIN_MASS)
        row = []
        for k in range(n):
            s_bi = sum(w for g, w in w_bi.items() if g in task_bi[k]) / tot_bi
            s_ch = sum(w for c, w in w_ch.items() if c in task_ch[k]) / tot_ch
            row.append(round(0.6 * s_bi + 0.4 * s_ch, 4))
        out.append(row)
    return out


# --------------------------------------------------------------------------- embeddings


class EmbeddingScorer:
    """The embeddings extra's duplicate scorer for the review rules.

    The same hybrid score, sibling check, calibrated profile and bands as ``ikg duplicates``
    (:mod:`embeddings.scoring`): the rules build an :class:`embeddings.IndicatorIndex` over the
    table's own indicators (and, with ``--against``, the other departments' ones) and keep the
    pairs in the *duplicate* band where at most one name adds words (:meth:`is_duplicate`). Vectors come from the data directory's embedding cache when
    one is given (the store's, for ``--against``), so indicators already indexed by
    ``ikg build`` are not encoded again.
    """

    name = "embedding"

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder

        self.profile = profile_for(encoder.model_id)
        self.threshold = self.profile.t_duplicate
        self.method = f"hybrid+structure:{encoder.model_id.split('@')[0]}"

    def index(self, items: Sequence[Any]) -> Any:
        """An index over ``items`` (:class:`embeddings.text.IndicatorText`)."""

        return IndicatorIndex.build(list(items), self.encoder)

    def is_duplicate(self, ps: Any) -> bool:
        """In the duplicate band after its caps (the band ``ikg duplicates`` shows: a different
        measure, unit, object, year or region makes a pair at most related), and at most one
        name adds words of its own: a note the department must answer should not rest on two
        names that each say something else (siblings, or two long outcome sentences)."""
        ra, rb = ps.residues
        return ps.band == "duplicate" and ps.score >= self.threshold and not (ra and rb)

    @staticmethod
    def reasons(index: Any, i: int, j: int, ps: Any) -> str:

        return "; ".join(r for r in explain(index.items[i], index.items[j], ps) if r)


def embedding_scorer(
    data_dir: Path | None = None, settings: Settings | None = None
) -> EmbeddingScorer | None:
    """The embedding scorer when the embeddings extra is installed, else None (lexical).

    The model is the one ``settings`` name (``IKG_EMBEDDING_MODEL``; without settings the
    default, the packaged multilingual USE); with ``data_dir``, vectors are read from and
    written to its cache.
    """
    try:
        from embeddings.index import make_encoder

        if settings is None:  # the environment is read by the CLI and the app, not here
            log.info("similarity: no settings given, the default embedding model used")
        cache_dir = (
            data_dir if data_dir is not None and (data_dir / "embeddings").is_dir() else None
        )
        return EmbeddingScorer(make_encoder(settings, cache_dir))
    except (ImportError, EmbeddingError) as exc:  # no embeddings extra, or no model to load
        log.warning("similarity: lexical only, the embedding model cannot be used: %s", exc)
        return None
