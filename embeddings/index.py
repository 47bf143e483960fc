"""The indicator index: dense vectors (FAISS) + char n-gram TF-IDF over the store's indicators.

Layout in the data directory, beside the graph store::

    DATA_DIR/store/                    the graph (kg.store)
    DATA_DIR/embeddings/index/         CURRENT + versions/<version>/{config.json, index.faiss,
                                       ids.json} (FaissIndex: saved atomically, versioned)
    DATA_DIR/embeddings/cache.sqlite   vectors keyed by (model, text): unchanged names cost nothing

``config.json`` records the model, the text recipe, the profile used and a
fingerprint of what was embedded (every indicator URI with its text). On open the
fingerprint is recomputed from the store: a different one means the graph moved
on (a table added or replaced) and the index is either rebuilt from the cache
(``on_stale="rebuild"``, what the CLI does) or refused with
:class:`StaleIndexError` (``on_stale="error"``) — never used silently. A rebuild publishes
a new version; ``IndicatorIndex.version`` says which one an object was loaded from, and
``FaissIndex.current_version(index_dir(data_dir))`` which one is published now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, astuple, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from kg.errors import EmbeddingError, IkgError, StaleIndexError
from kg.i18n import tr
from kg.namespaces import DATA
from kg.settings import default_settings

from ._optional import require
from .beside import Beside
from .cache import CachedEncoder, EmbeddingCache
from .corpus import fingerprint, text_hashes
from .encoders import Encoder, load_encoder
from .faiss_index import FaissIndex, ModelMismatchError, VersionGoneError, normalize_rows
from .lexical import LexicalIndex
from .residues import context_words, found_in, words
from .saved_indicators import FILE_NAME as SAVED_INDICATORS
from .saved_indicators import load_indicators_saved
from .scoring import (
    DepartmentFacts,
    PairScore,
    Profile,
    WordEncoder,
    caps_between,
    department_facts,
    pair_residues,
    profile_for,
    score_pair,
)
from .text import (
    DEFAULT_RECIPE,
    IndicatorText,
    Recipe,
    clean,
    embed_text,
    indicator_dict,
    region_of,
)

if TYPE_CHECKING:
    import numpy as np

    from kg.settings import Settings

Progress = Callable[[str, int, int], None]


def every_tenth(emit: Callable[[str], None], *, from_total: int = 0) -> Progress:
    """A :data:`Progress` that emits ``message: done/total`` when a step ends and, for steps of
    at least ``from_total`` items, at each tenth of the way."""
    shown: dict[str, int] = {}

    def progress(message: str, done: int, total: int) -> None:
        step = 10 * done // max(total, 1)
        if done == total or (total >= from_total and step > shown.get(message, 0)):
            shown[message] = step
            emit(f"{message}: {done:,}/{total:,}")

    return progress


log = logging.getLogger(__name__)

OnStale = Literal["rebuild", "error"]

INDEX_DIR = Path("embeddings") / "index"
#: duplicate sweeps add each indicator's lexical (TF-IDF) neighbours up to this many indicators
LEXICAL_CANDIDATES_MAX = 200_000
#: search scores every indicator up to this many; above, a candidate pool from both scorers
BRUTE_FORCE_MAX = 50_000
#: the pool: each scorer's best ``max(SEARCH_POOL, POOL_PER_HIT * k)``. At 100k synthetic
#: indicators a pool of 100, 200, 400 or 1,000 gave the exact hybrid top 10 for all of 200
#: queries (hash-512, IVF, in-process); 200 instead of 1,000 took a search from 3.0 to 2.2 ms
SEARCH_POOL = 200
POOL_PER_HIT = 20
#: filtered row sets an index keeps (by the filters' values)
FILTER_CACHE_MAX = 256
CACHE_FILE = Path("embeddings") / "cache.sqlite"


#: indicator URIs start with this; a reference may leave it out ("2022-…/indicator/…")
DATA_NS = str(DATA)  # minted by kg.uris


def short_id(uri: str) -> str:
    """An indicator's URI without the data namespace: what ``ikg similar`` accepts."""
    return uri[len(DATA_NS) :] if uri.startswith(DATA_NS) else uri


class AmbiguousIndicator(IkgError, LookupError):
    """A name that several indicators carry; ``candidates`` are they (department, year …)."""

    def __init__(self, ref: str, candidates: list[IndicatorText]) -> None:
        self.ref = ref
        self.candidates = candidates
        super().__init__(self.describe())

    def describe(self, limit: int = 20) -> str:
        """The candidates, one per line, and how to pick one (in the output language)."""

        n = len(self.candidates)
        lines = [
            tr(
                f"“{self.ref}”对应 {n} 条指标，请指定其中一条：",
                f"{self.ref!r} matches {n} indicators; pick one:",
            )
        ]
        for k, it in enumerate(self.candidates[:limit], start=1):
            year = it.year or "?"
            table = it.table_title or short_id(it.table)
            where = f"{it.source_file}:{it.source_line}" if it.source_line else it.source_file
            lines.append(
                tr(
                    f"  {k}. {it.name} — {it.department} {year} 年《{table}》第 {it.source_line} 行"
                    f"（{where}）",
                    f"  {k}. {it.name} — {it.department}, {year}, table {table!r}, "
                    f"line {it.source_line} ({where})",
                )
            )
            lines.append(tr(f"     指标 ID：{short_id(it.id)}", f"     id: {short_id(it.id)}"))
        if n > limit:
            lines.append(tr(f"  …另有 {n - limit} 条", f"  … and {n - limit} more"))
        lines.append(
            tr(
                "用 --of-department 部门（名称的一部分）和/或 --of-year 年度选定一条，"
                "或直接给出指标 ID。",
                "Narrow it with --of-department DEPARTMENT (part of its name) and/or "
                "--of-year YEAR, or give the indicator's id.",
            )
        )
        return "\n".join(lines)


def index_dir(data_dir: Path) -> Path:
    return data_dir / INDEX_DIR


def _or_defaults(settings: Settings | None) -> Settings:
    """``settings``, or the declared defaults when the caller passed none (no environment read:
    the CLI and the API pass the settings they read)."""
    if settings is not None:
        return settings

    return default_settings()


def _contains(wanted: str, value: str) -> bool:
    return wanted in value


def _equals(wanted: Any, value: Any) -> bool:
    return value == wanted


def _outside(tables: frozenset[str], value: str) -> bool:
    return value not in tables


#: each filter field and how it tests an indicator's value: holds the text, or equals it
_FIELD_TESTS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("department", _contains),
    ("year", _equals),
    ("level1", _contains),
    ("level2", _contains),
    ("table", _equals),
    ("region", _contains),
)


@dataclass
class Filters:
    department: str | None = None
    year: int | None = None
    level1: str | None = None
    level2: str | None = None
    table: str | None = None
    #: part of the region the department's name gives (text.region_of): 深圳市福田区 …
    region: str | None = None
    #: tables whose indicators are left out (the suggestions' leave-one-table-out evaluation)
    exclude_tables: frozenset[str] = frozenset()

    def __call__(self, it: IndicatorText) -> bool:
        return all(test(filter_value(it, name)) for name, test in self.tests())

    def tests(self) -> list[tuple[str, Callable[[Any], bool]]]:
        """One test per set field, on that field's value (:func:`filter_value`)."""
        out: list[tuple[str, Callable[[Any], bool]]] = [
            (name, partial(test, getattr(self, name)))
            for name, test in _FIELD_TESTS
            if getattr(self, name) is not None
        ]
        if self.exclude_tables:
            out.append(("table", partial(_outside, self.exclude_tables)))
        return out

    def key(self) -> tuple:
        return astuple(self)


def filter_value(it: IndicatorText, name: str) -> Any:
    """The value of ``it`` a filter field tests: the field itself, or for ``region`` the
    region its department's name gives."""
    return region_of(it.department) if name == "region" else getattr(it, name)


@dataclass
class Hit:
    uri: str
    name: str
    score: float
    level1: str
    level2: str
    target: str
    department: str
    year: int | None
    table: str
    table_title: str
    source: str
    band: str | None = None
    dense: float | None = None
    lexical: float | None = None
    explain: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Ranked(NamedTuple):
    """A search's best indicators, best first (:meth:`IndicatorIndex.rank`): their rows in
    the index's items and their scores (float32): the combined one, dense and lexical."""

    rows: np.ndarray
    scores: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray

    @classmethod
    def empty(cls) -> Ranked:
        np = require("numpy")
        none = np.zeros(0, dtype=np.float32)
        return cls(np.zeros(0, dtype=np.int64), none, none, none)


def _hit(it: IndicatorText, score: float, **kw: Any) -> Hit:
    return Hit(**indicator_dict(it), score=round(float(score), 4), table_title=it.table_title, **kw)


def estimate_floor(vectors: np.ndarray, n: int = 2000, seed: int = 0) -> float:
    """Median cosine of random pairs: the model's level for unrelated names."""
    np = require("numpy")
    if len(vectors) < 20:
        return 0.0
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(vectors), n)
    j = rng.integers(0, len(vectors), n)
    keep = i != j
    return float(np.median(np.sum(vectors[i[keep]] * vectors[j[keep]], axis=1)))


class IndicatorIndex:
    """Search, similar and pair scoring over one store's indicators."""

    def __init__(
        self,
        items: list[IndicatorText],
        vectors: FaissIndex,
        *,
        encoder: Encoder | None,
        recipe: Recipe = DEFAULT_RECIPE,
        floor: float | None = None,
    ) -> None:
        self.items = items
        self.by_id = {it.id: n for n, it in enumerate(items)}
        self.vectors = vectors
        self._encoder = encoder
        self.model_id = vectors.model_id
        self.recipe = recipe
        self.profile: Profile = profile_for(self.model_id)
        #: the setting value (alias, folder, hub name) the index was built for
        self.model_setting: str | None = None
        self.lexical = LexicalIndex([it.name for it in items])
        self._matrix: np.ndarray | None = None
        self._positions: np.ndarray | None = None
        self._item_rows: np.ndarray | None = None
        self._rows_of: dict[tuple, np.ndarray | None] = {}
        self._columns: dict[str, tuple[list[Any], np.ndarray]] = {}
        #: a helper thread for the lexical side of a pooled search while the caller runs FAISS
        #: (a server's index; None: one after the other, in the calling thread)
        self.beside: Beside | None = None
        self._encoder_tried = encoder is not None
        if floor is None:
            floor = (
                self.profile.floor
                if self.profile.floor is not None
                else estimate_floor(self.matrix)
            )
        self.floor = floor

    # -- building ----------------------------------------------------------------
    @classmethod
    def build(
        cls,
        items: list[IndicatorText],
        encoder: Encoder,
        *,
        kind: str = "auto",
        recipe: Recipe = DEFAULT_RECIPE,
        batch_size: int = 64,
        progress: Progress | None = None,
        centroids: np.ndarray | None = None,
    ) -> IndicatorIndex:
        """The index of ``items``; ``centroids``: an IVF index's, instead of training them
        (:meth:`FaissIndex.reusable_centroids`)."""
        texts = [embed_text(it, recipe) for it in items]

        def step(done: int, total: int) -> None:
            if progress:
                progress("编码指标 (encoding)", done, total)

        vecs = encoder.encode(texts, batch_size=batch_size, progress=step)
        fi = FaissIndex(encoder.dim, model_id=encoder.model_id, kind=kind)
        fi.index([it.id for it in items], vecs, centroids=centroids)
        out = cls(items, fi, encoder=encoder, recipe=recipe)
        if len(items):  # the vectors just indexed, in item order (no round trip through faiss)
            out._matrix = normalize_rows(vecs)
        return out

    @property
    def matrix(self) -> np.ndarray:
        """All vectors in item order (reconstructed from faiss once)."""
        np = require("numpy")
        if self._matrix is None:
            if not self.items:
                self._matrix = np.zeros((0, self.vectors.dim), dtype=np.float32)
            else:  # one read of the index's storage, reordered to the items when it differs
                every = self.vectors.all_vectors()
                self._matrix = every if self._items_are_rows(len(every)) else every[self.positions]
        return self._matrix

    @property
    def positions(self) -> np.ndarray:
        """Each item's row in the vector index (its faiss id)."""
        np = require("numpy")
        if self._positions is None:
            pos = self.vectors.position
            self._positions = np.fromiter(
                (pos(it.id) for it in self.items), dtype=np.int64, count=len(self.items)
            )
        return self._positions

    @property
    def version(self) -> str | None:
        """The saved version the vectors come from (None: not saved, or the old flat layout)."""
        return self.vectors.version

    def save(self, directory: Path) -> str:
        """Save as a new version of the index in ``directory`` and publish it; its name."""
        return self.vectors.save(
            directory,
            meta={
                "recipe": self.recipe,
                "fingerprint": fingerprint(self.items, self.model_id, self.recipe),
                "text_hashes": text_hashes(self.items, self.recipe),
                "floor": self.floor,
                "profile": asdict(self.profile),
                "model_setting": self.model_setting,
            },
            rows=self._rows_in_index_order(),
        )

    def _rows_in_index_order(self) -> np.ndarray | None:
        """The vectors' matrix when it is already every faiss row in row order (a fresh
        build's), so that saving does not read it from faiss again; else None."""
        m = self._matrix
        ok = m is not None and len(m) == len(self.vectors._ids) and self._items_are_rows(len(m))
        return m if ok else None

    def _items_are_rows(self, n_rows: int) -> bool:
        """Whether item ``n`` is faiss row ``n`` for every one of ``n_rows`` rows."""
        np = require("numpy")
        pos = self.positions
        return len(pos) == n_rows and bool((pos == np.arange(n_rows)).all())

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            raise RuntimeError("this index was opened without an encoder; text search needs one")
        return self._encoder

    # -- queries -----------------------------------------------------------------
    def _combine(self, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        np = require("numpy")
        dn = np.clip((dense - self.floor) / max(1e-6, 1.0 - self.floor), 0.0, 1.0)
        a = self.profile.alpha
        return a * dn + (1 - a) * lexical

    def search(
        self, text: str, k: int = 10, filters: Filters | None = None, *, mode: str = "hybrid"
    ) -> list[Hit]:
        """Indicators for a free-text query, best first: α·dense + (1−α)·lexical
        (:meth:`rank`, each one made a :class:`Hit`)."""
        ranked = self.rank(text, k, filters, mode=mode)
        return [
            _hit(
                self.items[row],
                score,
                dense=round(dense, 4),
                lexical=round(lexical, 4),
            )
            for row, score, dense, lexical in zip(
                ranked.rows.tolist(),
                ranked.scores.tolist(),
                ranked.dense.tolist(),
                ranked.lexical.tolist(),
                strict=True,
            )
        ]

    def rank(
        self, text: str, k: int = 10, filters: Filters | None = None, *, mode: str = "hybrid"
    ) -> Ranked:
        """The rows (in :attr:`items`) of the best ``k`` indicators for a free-text query, best
        first, with their scores: α·dense + (1−α)·lexical (``mode`` "dense" or "lexical":
        that one alone).

        ``filters`` are applied inside the search: the best ``k`` of the indicators they keep,
        whatever their number. Up to :data:`BRUTE_FORCE_MAX` indicators (kept by the filters)
        every one is scored; above, the union of the dense index's (an ID selector restricts
        it to the kept rows) and the lexical scorer's top :func:`pool_size` is.
        """
        np = require("numpy")
        rows = self.rows_matching(filters) if self.items else np.zeros(0, dtype=np.int64)
        if rows is not None and not len(rows):
            return Ranked.empty()
        q = self.encoder.encode([text]) if mode != "lexical" else None
        # float64, per distinct name: only the candidates' spread to rows and rounded
        lex, cand, dense = self._scored_rows(text, q, rows, k)
        lex_rows = lex[self.lexical.text_ids[cand]].astype(np.float32)
        if mode == "dense":
            scores = dense
        elif mode == "lexical":
            scores = lex_rows
        else:
            scores = self._combine(dense, lex_rows)
        best = _best_first(scores, k)
        return Ranked(cand[best], scores[best], dense[best], lex_rows[best])

    def _scored_rows(
        self, text: str, q: np.ndarray | None, rows: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(lexical scores per distinct name, candidate rows ascending, their dense
        cosines)`` for a query asking ``k`` hits (``q`` None: the lexical mode, dense 0), among
        ``rows`` when given. The lexical scores are :meth:`LexicalIndex.distinct_scores`'s."""
        np = require("numpy")
        n = len(self.items)
        m = n if rows is None else len(rows)
        if m <= BRUTE_FORCE_MAX:  # every (kept) row, exactly
            lex = self.lexical.distinct_scores(text)
            cand = np.arange(n) if rows is None else rows
            if q is None:
                return lex, cand, np.zeros(len(cand), dtype=np.float32)
            if n <= BRUTE_FORCE_MAX:
                every = self.matrix @ q[0]
                return lex, cand, (every if rows is None else every[cand])
            return lex, cand, _dots(self.matrix, cand, q[0])
        pool = pool_size(k, m)
        lexical = partial(self._lexical_pool, text, rows, pool)
        side = None if q is None or self.beside is None else self.beside.start(lexical)
        try:  # FAISS here (it releases the GIL) while the helper, if free, scores the names
            found = None if q is None else self._dense_pool(q, rows, pool)
            lex, lex_pool = lexical() if side is None else side.result()
        finally:
            if side is not None:  # the helper freed, whatever happened meanwhile
                side.close()
        if found is None:
            cand = np.unique(lex_pool)
            return lex, cand, np.zeros(len(cand), dtype=np.float32)
        return (lex, *self._pooled(lex_pool, found, q))

    def _lexical_pool(
        self, text: str, rows: np.ndarray | None, pool: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """A pooled search's lexical side: the query's scores per distinct name and the rows
        (among ``rows`` when given) of the ``pool`` best, in no order."""
        lex = self.lexical.distinct_scores(text)
        if rows is None:
            return lex, _top_rows(self.lexical, lex, pool)
        return lex, rows[_top_unordered(lex[self.lexical.text_ids[rows]], pool)]

    def _dense_pool(
        self, q: np.ndarray, rows: np.ndarray | None, pool: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """A pooled search's dense pool, as FAISS answers it (``(scores, faiss rows)``):
        the ``pool`` nearest (among ``rows`` when given)."""
        where = None if rows is None else self.positions[rows]
        return self.vectors.search_rows(q, pool, rows=where)

    def _pooled(
        self, lex_pool: np.ndarray, found: tuple[np.ndarray, np.ndarray], q: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(candidate rows ascending, their dense cosines)``: the union of the lexical pool
        and FAISS's answer ``found`` (scores, faiss rows)."""
        np = require("numpy")
        scores, hits = found
        hit_rows = self.item_rows[hits[0][hits[0] >= 0]]
        keep = hit_rows >= 0  # a faiss row no item holds (removed) is no hit
        hit_rows, hit_scores = hit_rows[keep], scores[0][hits[0] >= 0][keep]
        # sorted distinct rows: a sort of the two pools, not a pass over every item (a mask
        # over the items took 0.38 ms of a search at 1M)
        cand = _sorted_distinct(np.concatenate((lex_pool, hit_rows)))
        # the dense hits keep faiss's own scores; the others' vectors are read from the
        # index's matrix (only theirs: a copy of every candidate's took twice as long)
        dense = np.empty(len(cand), dtype=np.float32)
        at_hits = np.searchsorted(cand, hit_rows)
        dense[at_hits] = hit_scores
        others = np.ones(len(cand), dtype=bool)
        others[at_hits] = False
        dense[others] = self.matrix[cand[others]] @ q[0]
        return cand, dense

    @property
    def item_rows(self) -> np.ndarray:
        """Each faiss row's item (-1: none): :attr:`positions` inverted."""
        np = require("numpy")
        if self._item_rows is None:
            pos = self.positions
            size = max(len(self.vectors._ids), int(pos.max()) + 1 if len(pos) else 0)
            inv = np.full(size, -1, dtype=np.int64)
            inv[pos] = np.arange(len(pos), dtype=np.int64)
            self._item_rows = inv
        return self._item_rows

    def warm_up(self) -> None:
        """Pay the one-time costs before the first request does: the index's mapped files
        read into the file cache, the vectors' matrix, each item's row in the index, the word
        tokenizer of the pair scores (its dictionary loads in seconds)."""
        self.vectors.prefetch()
        _ = self.matrix, self.positions, self.item_rows
        words("指标")

    def rows_matching(self, filters: Filters | None) -> np.ndarray | None:
        """The rows ``filters`` keeps, ascending (None: no filter set). Each field's test runs
        once per distinct value (departments, years …), not once per indicator; the answer is
        kept for the next query with the same filters."""
        np = require("numpy")
        tests = [] if filters is None else filters.tests()
        if not tests:
            return None
        assert filters is not None
        key = filters.key()
        found = self._rows_of.get(key)
        if found is not None:
            return found
        mask = np.ones(len(self.items), dtype=bool)
        for name, test in tests:
            values, codes = self._column(name)
            ok = np.fromiter((bool(test(v)) for v in values), dtype=bool, count=len(values))
            mask &= ok[codes]
        rows = np.flatnonzero(mask)
        while len(self._rows_of) >= FILTER_CACHE_MAX:
            self._rows_of.pop(next(iter(self._rows_of)), None)
        self._rows_of[key] = rows
        return rows

    def _column(self, name: str) -> tuple[list[Any], np.ndarray]:
        """A field's distinct values and each item's code into them."""
        np = require("numpy")
        col = self._columns.get(name)
        if col is None:
            if name == "region":
                depts, dcodes = self._column("department")
                regions: dict[str, int] = {}
                remap = np.fromiter(
                    (regions.setdefault(region_of(d), len(regions)) for d in depts),
                    dtype=np.int64,
                    count=len(depts),
                )
                col = (list(regions), remap[dcodes])
            else:
                seen: dict[Any, int] = {}
                codes = np.fromiter(
                    (seen.setdefault(getattr(it, name), len(seen)) for it in self.items),
                    dtype=np.int64,
                    count=len(self.items),
                )
                col = (list(seen), codes)
            self._columns[name] = col
        return col

    def resolve(self, ref: str, within: Filters | None = None) -> list[IndicatorText]:
        """An indicator by URI (with or without the data namespace), exact name, or unique
        part of a name; ``within`` narrows the names to a department, year …"""
        for uri in (ref, DATA_NS + ref):
            if uri in self.by_id:
                return [self.items[self.by_id[uri]]]
        pool = self.items if within is None else [it for it in self.items if within(it)]
        exact = [it for it in pool if it.name == ref]
        if exact:
            return exact
        return [it for it in pool if ref in it.name]

    def pair(self, i: int, j: int) -> PairScore:
        return self.pairs([(i, j)])[0]

    def word_encoder(self) -> WordEncoder | None:
        """The model's encoder for the residue words of the sibling check, or None.

        An index opened without an encoder loads the model it was built with on first use;
        when that fails or gives another model, the check uses its word families only.
        """
        if self._encoder is None and not self._encoder_tried:
            self._encoder_tried = True
            spec = self.model_setting or self.vectors.meta.get("model_setting")
            try:
                enc = load_encoder(spec) if spec else None
            except (ImportError, EmbeddingError) as exc:  # no extra, or the model cannot load
                log.info("sibling check by word families only: model %s not loaded: %s", spec, exc)
                enc = None
            if enc is not None and enc.model_id == self.model_id:
                self._encoder = enc
        enc = self._encoder
        return None if enc is None else (lambda words: enc.encode(list(words)))

    def pairs(self, pairs: Sequence[tuple[int, int]]) -> list[PairScore]:
        """Pair scores for many pairs at once (dense, TF-IDF and residue words batched).

        Two pairs whose indicators agree on everything the score reads (names, level-2
        category, unit, target and its form, the departments where the names differ, and the
        dense and TF-IDF similarities) get the same score: it is computed once and copied with
        the pair's own ids. Names repeat across departments and years, so a sweep over a large
        graph scores each such combination once.
        """
        np = require("numpy")
        if not pairs:
            return []
        ii = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        jj = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        m = self.matrix
        dense = np.einsum("ij,ij->i", m[ii], m[jj]).tolist()
        lm = self.lexical.matrix
        assert lm is not None
        tfidf = np.asarray(lm[ii].multiply(lm[jj]).sum(axis=1)).ravel().tolist()
        cache: dict[tuple, PairScore] = self.__dict__.setdefault("_score_cache", {})
        if len(cache) > SCORE_CACHE_MAX:
            cache.clear()
        keys = [
            self._pair_key(i, j, d, t) for (i, j), d, t in zip(pairs, dense, tfidf, strict=True)
        ]
        todo: dict[tuple, int] = {}
        for n, key in enumerate(keys):
            if key not in cache and key not in todo:
                todo[key] = n
        if todo:
            sel = list(todo.values())
            residues = pair_residues(
                [(self.items[pairs[n][0]], self.items[pairs[n][1]]) for n in sel],
                encode=self.word_encoder(),
                floor=self.floor,
                theta=self.profile.sibling_theta,
            )
            for n, r in zip(sel, residues, strict=True):
                i, j = pairs[n]
                cache[keys[n]] = score_pair(
                    self.items[i],
                    self.items[j],
                    lexical=self.lexical,
                    dense_cos=dense[n],
                    floor=self.floor,
                    profile=self.profile,
                    tfidf=tfidf[n],
                    containment=self.lexical.containment_ij(i, j),
                    residues=r,
                )
        out = []
        for (i, j), key in zip(pairs, keys, strict=True):
            ps = cache[key]
            a, b = self.items[i].id, self.items[j].id
            out.append(ps if (ps.a, ps.b) == (a, b) else _with_ends(ps, a, b))
        return out

    def _pair_key(self, i: int, j: int, dense: float, tfidf: float) -> tuple:
        pa, pb = self._key_parts(i), self._key_parts(j)
        # the departments matter to the residues of two different names only through their
        # words found in the names (qualifiers there); identical names have none
        ctx = None if pa.clean == pb.clean else found_in(pa.clean, pb.clean, pa.words | pb.words)
        # the caps read whether the two are of one department, and the departments' years,
        # regions and generic names
        same = bool(pa.facts.department) and pa.facts.department == pb.facts.department
        caps = caps_between(pa.facts, pb.facts)
        return (pa.fields, pb.fields, ctx, same, caps, dense, tfidf)

    def _key_parts(self, i: int) -> _KeyParts:
        """What :meth:`_pair_key` reads of item ``i``, worked out once per item."""
        parts: dict[int, _KeyParts] = self.__dict__.setdefault("_parts", {})
        found = parts.get(i)
        if found is None:
            it = self.items[i]
            words = context_words((it.department,)) if it.department else frozenset()
            found = parts[i] = _KeyParts(
                score_fields(it), clean(it.name), words, department_facts(it)
            )
        return found

    def similar(
        self,
        ref: str,
        k: int = 10,
        filters: Filters | None = None,
        within: Filters | None = None,
    ) -> list[Hit]:
        """Indicators like ``ref`` (URI or name), scored as pairs (hybrid + structure).

        ``filters`` narrow the hits; ``within`` picks ``ref`` among the indicators of that
        name (its own department, year). A name several indicators carry raises
        :class:`AmbiguousIndicator`, which lists them.
        """

        found = self.resolve(ref, within)
        if not found:
            where = tr("（在所选部门/年度中）", " (in that department/year)") if within else ""
            raise KeyError(
                tr(f"索引中没有指标“{ref}”{where}", f"no indicator {ref!r} in the index{where}")
            )
        if len(found) > 1:
            raise AmbiguousIndicator(ref, found)
        i = self.by_id[found[0].id]
        cands = self.candidates_for(i, max(50, 4 * k))
        keep = [j for j in cands if filters is None or filters(self.items[j])]
        scored = list(zip(self.pairs([(i, j) for j in keep]), keep, strict=True))
        scored.sort(key=lambda t: -t[0].score)
        return [
            _hit(
                self.items[j],
                ps.score,
                band=ps.band,
                dense=ps.dense,
                lexical=ps.lexical,
                explain={
                    "shared": ps.shared,
                    "structure": ps.structure,
                    "signals": ps.signals,
                    "sibling": ps.sibling,
                    "residues": ps.residues,
                    "caps": ps.caps,
                },
            )
            for ps, j in scored[:k]
        ]

    def candidates_for(self, i: int, k: int) -> list[int]:
        """Row indices of the ``k`` nearest by dense and the ``k`` nearest by lexical, minus ``i``."""
        hits = self.vectors.search(self.matrix[i : i + 1], k + 1)[0]
        out = {self.by_id[h] for h, _ in hits}
        by_text = self.lexical.distinct_scores(self.items[i].name)
        out.update(_top_rows(self.lexical, by_text, min(k + 1, len(self.items))).tolist())
        out.discard(i)
        return sorted(out)

    def candidate_pairs(
        self, k: int = 20, rows: Sequence[int] | None = None
    ) -> set[tuple[int, int]]:
        """Pairs worth scoring: each item's k dense and k lexical neighbours.

        Items with the same vector (or, for the lexical half, the same name) are searched once:
        the neighbour search runs over the distinct vectors and names, and its answer is handed
        to every copy by :func:`_expand_neighbours`. A name that thousands of tables share
        would otherwise fill every copy's k neighbours with copies of itself (so a near
        duplicate worded differently is never a candidate) and cost one search per copy.

        ``rows``: only the pairs with at least one end among these rows, searched for those
        rows' groups alone (the links of the tables a build changed; see
        :func:`embeddings.links.write_links`).
        """
        np = require("numpy")
        pairs: set[tuple[int, int]] = set()
        if len(self.items) < 2:
            return pairs
        only = None if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
        self._dense_candidates(k, only, pairs)
        if len(self.items) <= LEXICAL_CANDIDATES_MAX:
            # all-pairs TF-IDF is quadratic: above this size the dense neighbours (FAISS) are
            # the candidates; every candidate is still scored with both halves
            self._lexical_candidates(k, only, pairs)
        if only is not None:
            keep = set(only.tolist())
            pairs = {p for p in pairs if p[0] in keep or p[1] in keep}
        return pairs

    def _dense_candidates(self, k: int, only: Any, pairs: set[tuple[int, int]]) -> None:
        """The dense half of :meth:`candidate_pairs`: neighbours of each distinct vector (of
        the groups holding ``only``'s rows when given), handed to the copies."""
        np = require("numpy")
        labels, reps = _groups(self.matrix)
        wanted = np.arange(len(reps)) if only is None else np.unique(labels[only])
        if len(reps) == len(self.items):  # no copies: the index itself answers
            found = self._dense_neighbours(self.vectors, self.matrix[reps[wanted]], k)
            neighbours = {
                int(g): [int(labels[r]) for r in rs] for g, rs in zip(wanted, found, strict=True)
            }
        else:
            sub = FaissIndex(self.vectors.dim, model_id=self.model_id, kind="auto")
            sub.index([str(g) for g in range(len(reps))], self.matrix[reps])
            found = self._dense_neighbours(sub, self.matrix[reps[wanted]], k, ids=int)
            neighbours = dict(zip(wanted.tolist(), found, strict=True))
        for g in neighbours:
            neighbours[g] = [h for h in neighbours[g] if h != g][:k]
        _expand_neighbours(labels, neighbours, k, pairs)

    def _lexical_candidates(self, k: int, only: Any, pairs: set[tuple[int, int]]) -> None:
        """The lexical half of :meth:`candidate_pairs`: each distinct name's k nearest names by
        TF-IDF cosine (of the names ``only``'s rows carry when given), handed to the copies."""
        np = require("numpy")
        lm = self.lexical.matrix
        assert lm is not None
        n = len(self.items)
        first: dict[str, int] = {}
        name_labels = np.fromiter(
            (first.setdefault(it.name, len(first)) for it in self.items), dtype=np.int64, count=n
        )
        _, first_row = np.unique(name_labels, return_index=True)
        um = lm[first_row]
        nu = um.shape[0]
        wanted = np.arange(nu) if only is None else np.unique(name_labels[only])
        kk = min(k + 1, nu)
        block = max(8, min(512, 50_000_000 // max(nu, 1)))  # a dense block of <= ~400 MB
        lexical: dict[int, list[int]] = {}
        for start in range(0, len(wanted), block):
            part = wanted[start : start + block]
            sims = (um[part] @ um.T).toarray()
            for g, row in zip(part.tolist(), sims, strict=True):
                top = np.argpartition(-row, kk - 1)[:kk]
                top = top[np.argsort(-row[top], kind="stable")]
                lexical[g] = [int(h) for h in top if h != g and row[h] > 0]
        _expand_neighbours(name_labels, lexical, k, pairs)

    def _dense_neighbours(
        self,
        vectors: FaissIndex,
        queries: np.ndarray,
        k: int,
        ids: Callable[[str], int] | None = None,
    ) -> list[list[int]]:
        """For each query row, the rows (of ``vectors``, mapped by ``ids``; item rows by
        default) of its up to k + 1 nearest, best first (the caller drops the row itself)."""
        to_row = ids if ids is not None else self.by_id.__getitem__
        kk = min(k + 1, vectors.count)
        out: list[list[int]] = []
        for start in range(0, len(queries), 512):
            for row in vectors.search(queries[start : start + 512], kk):
                out.append([to_row(h) for h, _ in row])
        return out


#: :func:`_top_unordered` samples about this many values per value it selects
TOP_SAMPLE_PER_HIT = 8


def _top_unordered(scores: np.ndarray, k: int) -> np.ndarray:
    """The positions of ``k`` largest ``scores``, in no order (of equal scores at the k-th
    place, any), as ``np.argpartition(-scores, k - 1)[:k]`` gives them.

    Above a few thousand scores a sample's threshold picks the few that can be among the
    ``k`` (every one at or above it, when at least ``k`` are) and only those are partitioned:
    the top 200 of 1M lexical scores (a quarter to a half of them non-zero, many tied) took
    1.6–2.0 ms and take 0.5–0.6. When fewer than ``k`` pass the threshold, all the scores are
    partitioned.
    """
    np = require("numpy")
    n = len(scores)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.arange(n)
    step = n // (TOP_SAMPLE_PER_HIT * k)
    if step >= 4:
        sample = scores[::step]
        s = len(sample)
        r = min(s, 2 * -(-k * s // n) + 1)  # twice the sample's expected share of the k
        t = np.partition(sample, s - r)[s - r]
        # a threshold at the sample's floor (mostly zeros) keeps only what is above it
        above = np.flatnonzero(scores > t if t <= sample.min() else scores >= t)
        if len(above) >= k:
            return above[np.argpartition(-scores[above], k - 1)[:k]]
    return np.argpartition(-scores, k - 1)[:k]


def _top_rows(lexical: LexicalIndex, by_text: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` largest lexical scores, in no order (of equal scores at the k-th
    place, any), from the scores of the distinct names ``by_text``: the rows of the best
    names, best first, until ``k`` rows are had (``k`` names hold at least ``k`` rows)."""
    np = require("numpy")
    names = _top_unordered(by_text, k)
    names = names[np.argsort(-by_text[names], kind="stable")]
    held = np.cumsum(lexical.text_counts[names])
    names = names[: int(np.searchsorted(held, k)) + 1]
    return lexical.rows_of(names)[:k]


#: rows of the vectors' matrix :func:`_dots` reads at a time (2 MiB of 512-d float32)
DOT_BLOCK = 1024


def _dots(matrix: np.ndarray, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``matrix[rows] @ q``, a block of rows at a time, without a copy of every row at once.
    A filter keeping 37,350 of 100k rows copied 76 MB a query, which numpy asks the kernel to
    back with huge pages: its first queries stalled 0.2-0.9 s while the kernel compacted
    memory for them; in blocks it takes 11 ms (24 ms at once, warm). The values are the
    product's, but for a last bit now and then: BLAS may add a row's terms in another order
    in another block (none of 90 filter and query pairs differed on the benchmark's data)."""
    np = require("numpy")
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), DOT_BLOCK):
        block = rows[start : start + DOT_BLOCK]
        out[start : start + len(block)] = matrix[block] @ q
    return out


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` for the few hundred rows of a pool: 4 µs against 24."""
    np = require("numpy")
    s = np.sort(values)
    if len(s) < 2:
        return s
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def _best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` best scores, best first, ties in position order: the first
    ``k`` of a stable descending sort, without sorting everything."""
    np = require("numpy")
    neg = -scores
    if k >= len(neg):
        return np.argsort(neg, kind="stable")
    bound = np.partition(neg, k - 1)[k - 1]
    top = np.flatnonzero(neg <= bound)
    return top[np.argsort(neg[top], kind="stable")][:k]


def _groups(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, reps)``: each row's group of identical rows, numbered by first appearance,
    and each group's first row."""
    np = require("numpy")
    if len(matrix) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = np.ascontiguousarray(matrix)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    # renumber the groups by their first row so that group g's representative is reps[g]
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()], first[order]


def _expand_neighbours(
    labels: np.ndarray,
    neighbours: Mapping[int, Sequence[int]],
    k: int,
    out: set[tuple[int, int]],
) -> None:
    """Hand the neighbour groups of each group to its members, as pairs of item rows.

    ``labels[i]``: item i's group; ``neighbours[g]``: the groups nearest group g, best first
    (only the groups in ``neighbours`` are handed out).
    Each item gets at most k partners: its next copies in row order (at most k // 2 when
    other groups are near, so a name's copies stay one connected cluster and a differently
    worded neighbour still gets a place), then members of the nearest groups in order,
    starting at a different member for each copy so that the copies of one name spread their
    pairs over the copies of the other instead of all pairing with its first rows. When every
    group has one member this is each item's k nearest, as a search per item would give.
    """
    np = require("numpy")
    order = np.argsort(labels, kind="stable")
    groups = int(labels.max()) + 1 if len(labels) else 0
    bounds = np.searchsorted(labels[order], np.arange(groups + 1))
    members = [order[bounds[g] : bounds[g + 1]].tolist() for g in range(groups)]
    for g, near in neighbours.items():
        mem = members[g]
        size = len(mem)
        own = min(size - 1, k // 2 if near else k)
        for p, i in enumerate(mem):
            for d in range(1, own + 1):
                j = mem[(p + d) % size]
                out.add((i, j) if i < j else (j, i))
            room = k - own
            for h in near:
                if room <= 0:
                    break
                other = members[h]
                take = min(room, len(other))
                at = (p * take) % len(other)
                for t in range(take):
                    j = other[(at + t) % len(other)]
                    out.add((i, j) if i < j else (j, i))
                room -= take


def _with_ends(ps: PairScore, a: str, b: str) -> PairScore:
    """A copy of a cached score for the pair (a, b): a shallow copy of its fields, many times
    faster than ``dataclasses.replace`` or ``copy.copy`` (a sweep makes one per pair)."""
    out = object.__new__(PairScore)
    out.__dict__.update(ps.__dict__)
    out.a, out.b = a, b
    return out


@dataclass(frozen=True)
class _KeyParts:
    """Per item, what a pair's cache key reads (:meth:`IndicatorIndex._pair_key`)."""

    fields: tuple  # score_fields
    clean: str  # the cleaned name
    words: frozenset[str]  # the department's qualifier words
    facts: DepartmentFacts


def score_fields(it: IndicatorText) -> tuple:
    """What a pair score reads of one indicator besides its department (and every text recipe
    embeds only these): two indicators that agree on them score the same with each other."""
    return (it.name, it.level2, it.unit, it.form, it.target)


#: distinct pair scores kept by IndicatorIndex.pairs before the cache starts afresh
SCORE_CACHE_MAX = 200_000


# --------------------------------------------------------------------------- store glue
@dataclass
class IndexReport:
    path: Path
    model_id: str
    count: int
    kind: str
    encoded: int
    rebuilt: bool
    reason: str
    links: int = 0

    def summary(self) -> str:

        return tr(
            f"向量索引 {self.path}：指标 {self.count} 条，{self.kind}，模型 {self.model_id}，"
            f"新编码 {self.encoded} 条（{self.reason}）"
            + (f"，写入图中的相似关系 {self.links} 条" if self.links else ""),
            f"embedding index {self.path}: {self.count} indicator(s), {self.kind}, "
            f"model {self.model_id}, {self.encoded} newly encoded ({self.reason})"
            + (f", {self.links} similarity link(s) written to the graph" if self.links else ""),
        )


def make_encoder(settings: Settings | None = None, data_dir: Path | None = None) -> Encoder:
    """The configured encoder, wrapped in the on-disk cache when there is a data directory."""
    settings = _or_defaults(settings)
    enc = load_encoder(settings.embedding_model, device=settings.embedding_device)
    if data_dir is not None and hasattr(enc, "keep_files_in"):  # state built once, kept
        enc.keep_files_in(Path(data_dir) / CACHE_FILE.parent)
    if data_dir is not None and settings.embedding_cache:
        return CachedEncoder(enc, EmbeddingCache(data_dir / CACHE_FILE))
    return enc


def _no_index() -> str:  # a message, in the output language

    return tr("尚无索引", "no index yet")


def _up_to_date() -> str:

    return tr("已是最新", "up to date")


def _stale_reason(
    config: dict[str, Any], items: Sequence[IndicatorText], model_id: str
) -> str | None:
    meta = config.get("meta", {})
    recipe = meta.get("recipe", DEFAULT_RECIPE)

    if config.get("model_id") != model_id:
        return tr(
            f"索引用模型 {config.get('model_id')!r} 建成，设置现为 {model_id!r}",
            f"built with model {config.get('model_id')!r}, the setting now says {model_id!r}",
        )
    if meta.get("fingerprint") == fingerprint(items, model_id, recipe):
        return None
    old: dict[str, str] = meta.get("text_hashes", {})
    new = text_hashes(items, recipe)
    added = len(new.keys() - old.keys())
    removed = len(old.keys() - new.keys())
    changed = sum(1 for k in new.keys() & old.keys() if new[k] != old[k])
    return tr(
        f"建索引后图已改变：新增指标 {added} 条，删除 {removed} 条，改名 {changed} 条",
        f"the graph changed since the index was built: {added} indicator(s) added, "
        f"{removed} removed, {changed} renamed",
    )


def pool_size(k: int, among: int) -> int:
    """Candidates each scorer gives a search for ``k`` hits among ``among`` indicators."""
    return max(1, min(max(SEARCH_POOL, POOL_PER_HIT * k), among))


def open_index(
    store: Any,
    data_dir: Path,
    settings: Settings | None = None,
    *,
    on_stale: OnStale = "rebuild",
    encoder: Encoder | None = None,
    need_encoder: bool = True,
    progress: Progress | None = None,
) -> tuple[IndicatorIndex, IndexReport | None]:
    """The index for ``store``; rebuilt (and saved) when missing or stale, or refused.

    Returns the index and, when it was (re)built, what happened.
    """
    settings = _or_defaults(settings)
    path = index_dir(data_dir)
    items = load_indicators_saved(store, path / SAVED_INDICATORS, write=False)
    for attempt in range(3):
        try:
            config = FaissIndex.read_config(path)
        except FileNotFoundError:
            config = None
        wanted = settings.embedding_model
        built_with = (config or {}).get("meta", {}).get("model_setting", wanted)
        if encoder is None and (need_encoder or config is None or built_with != wanted):
            encoder = make_encoder(settings, data_dir)
        model_id = encoder.model_id if encoder is not None else (config or {}).get("model_id", "")
        reason = _no_index() if config is None else _stale_reason(config, items, model_id)
        if reason is not None:
            break
        assert config is not None
        try:  # exactly the version whose fingerprint was checked
            fi = FaissIndex.load(path, model_id=model_id, version=config["version"])
        except VersionGoneError:
            if attempt == 2:
                raise
            continue  # pruned after two newer saves meanwhile: look again
        return _from_saved(items, fi, encoder), None
    if on_stale == "error":
        raise StaleIndexError(
            f"the embedding index at {path} is stale: {reason}. "
            "Rebuild it with `ikg build` (or embeddings.index_for_store)."
        )
    if encoder is None:
        encoder = make_encoder(settings, data_dir)
    index, report = _rebuild(items, encoder, path, settings, reason, progress)
    return index, report


def _from_saved(
    items: list[IndicatorText], fi: FaissIndex, encoder: Encoder | None
) -> IndicatorIndex:
    return IndicatorIndex(
        items,
        fi,
        encoder=encoder,
        recipe=fi.meta.get("recipe", DEFAULT_RECIPE),
        floor=fi.meta.get("floor"),
    )


def _rebuild(
    items: list[IndicatorText],
    encoder: Encoder,
    path: Path,
    settings: Settings,
    reason: str,
    progress: Progress | None,
    *,
    reuse_centroids: bool = True,
) -> tuple[IndicatorIndex, IndexReport]:
    """A new version of the index of ``items``; an IVF index is made on the published
    version's centroids while most of its vectors are still there (``reuse_centroids``)."""
    before = getattr(encoder, "misses", 0)
    centroids = (
        FaissIndex.reusable_centroids(
            path, [it.id for it in items], model_id=encoder.model_id, dim=encoder.dim
        )
        if reuse_centroids
        else None
    )
    index = IndicatorIndex.build(
        items,
        encoder,
        kind=settings.embedding_index,
        batch_size=settings.embedding_batch_size,
        progress=progress,
        centroids=centroids,
    )
    index.model_setting = settings.embedding_model
    index.save(path)  # a new version, published atomically: readers never see half of it
    encoded = getattr(encoder, "misses", len(items)) - before
    return index, IndexReport(
        path, encoder.model_id, len(items), index.vectors.kind, encoded, True, reason
    )


def describe(data_dir: Path) -> dict[str, Any]:
    """What the saved index says about itself (for messages and tests)."""
    config = FaissIndex.read_config(index_dir(data_dir))
    meta = dict(config.get("meta", {}))
    meta.pop("text_hashes", None)
    return {**{k: v for k, v in config.items() if k != "meta"}, "meta": meta}


__all__ = [
    "Filters",
    "Hit",
    "IndexReport",
    "IndicatorIndex",
    "ModelMismatchError",
    "StaleIndexError",
    "describe",
    "make_encoder",
    "open_index",
]
