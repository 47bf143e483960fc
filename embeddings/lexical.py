"""Lexical similarity that suits Chinese: character 1–2-gram TF-IDF.

Indicator names are short and unsegmented, so characters and character bigrams
are the units (a word segmenter splits 慰问金 / 发放 / 覆盖率 well but cuts rare
names of people and programmes badly). Two measures over the same vectors:

* ``cosine`` — TF-IDF cosine: symmetric, for search ranking.
* ``containment`` — the IDF weight of the n-grams two names share over the weight
  of the shorter name's n-grams: a reviewer's duplicate is often one name inside
  another (慰问金发放覆盖率 in 市转企业离休干部慰问金发放覆盖率), which cosine
  under-scores.

IDF is fitted on the indexed names, so words every indicator uses (满意度, 率,
完成) weigh little. :class:`BM25Lexical` (bm25s over the same character n-grams)
is measured as an alternative for search in the benchmark.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._optional import require
from .text import clean

if TYPE_CHECKING:
    import numpy as np


def char_ngrams(text: str, n_min: int = 1, n_max: int = 2) -> list[str]:
    c = clean(text)
    return [c[i : i + n] for n in range(n_min, n_max + 1) for i in range(len(c) - n + 1)]


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Each CSR row's sum, added left to right as scikit-learn's row normalisation does (so a
    transformed row is bit for bit its), rows side by side; an empty row sums to 1 (a row of
    no n-grams stays empty, and every weight is ≥ 1, so no other sum is 0)."""
    np = require("numpy")
    lengths = np.diff(indptr)
    if len(lengths) == 1:  # one row (a query): its running sum's last value, in one call
        return np.cumsum(values)[-1:] if len(values) else np.ones(1)
    starts = indptr[:-1]
    sums = np.zeros(len(lengths))
    for k in range(int(lengths.max(initial=0))):
        live = np.flatnonzero(lengths > k)
        sums[live] += values[starts[live] + k]
    sums[lengths == 0] = 1.0
    return sums


class LexicalIndex:
    """Char n-gram TF-IDF over a list of names, with cosine and containment scores.

    The weights are scikit-learn's ``TfidfVectorizer(analyzer="char", ngram_range=(1, 2),
    preprocessor=clean, sublinear_tf=True)``: counts of the n-grams of each cleaned name,
    ``1 + log(count)``, times the smoothed IDF ``1 + log((n + 1) / (df + 1))``, rows scaled to
    unit length, n-grams in sorted order. They are made here with scipy.sparse because
    importing scikit-learn (it imports scipy.stats) took 1.4–2.8 s of a one-table rebuild
    that is otherwise about 5 s; ``tests/test_lexical.py`` checks the matrix, the IDF and
    the transform against scikit-learn's on the corpus.
    """

    def __init__(self, texts: Sequence[str], *, ngram_range: tuple[int, int] = (1, 2)) -> None:
        np = require("numpy")
        self.ngram_range = ngram_range
        self.texts = list(texts)
        fitting = self.texts or ["占位"]  # an empty index still transforms (to nothing)
        # the n-grams are made twice (vocabulary, then rows) rather than kept for all names at
        # once: at 1M names those lists held 25M short strings, 2 GB that the process kept
        # after they were freed (the vocabulary's strings among them pinned the memory)
        seen: set[str] = set()
        for t in fitting:
            seen.update(self.analyze(t))
        grams = sorted(seen)
        #: n-gram → column
        self.vocabulary: dict[str, int] = {g: i for i, g in enumerate(grams)}
        fitted = self._weigh(map(self.analyze, fitting), fit=True)
        self.matrix = fitted if self.texts else None
        distinct: dict[str, int] = {}
        #: each text's distinct text (names repeat across departments and years: 52,220
        #: distinct of 100k in the scale benchmark), numbered by first appearance
        self.text_ids = np.fromiter(
            (distinct.setdefault(t, len(distinct)) for t in self.texts),
            dtype=np.int64,
            count=len(self.texts),
        )
        #: the texts of each distinct text, ascending: ``text_rows[text_starts[d]:][:count]``
        self.text_rows = np.argsort(self.text_ids, kind="stable")
        self.text_counts = np.bincount(self.text_ids, minlength=len(distinct))
        self.text_starts = np.cumsum(self.text_counts) - self.text_counts
        first = self.text_rows[self.text_starts]  # each distinct text's first row
        #: the distinct texts' rows transposed once, as CSR (n-grams x distinct texts): a
        #: query's n-grams select its rows, so scoring every text costs what the query's
        #: n-grams occur in, once per distinct text, not a conversion of the matrix per query
        self._by_gram = fitted[first].T.tocsr() if self.texts else None
        self._idf = dict(zip(grams, self.idf_.tolist(), strict=True))
        self._max_idf = float(np.max(self.idf_)) if len(grams) else 1.0

    def analyze(self, text: str) -> list[str]:
        """The n-grams counted for ``text``: every n-gram of the range of the cleaned text
        (which has no white space left for scikit-learn's char analyzer to fold)."""
        return char_ngrams(text, *self.ngram_range)

    def _weigh(self, docs: Iterable[list[str]], *, fit: bool = False) -> Any:
        """Rows of TF-IDF weights for the n-grams of each document (n-grams outside the
        vocabulary are dropped); ``fit`` first sets the IDF from these rows."""
        np, sparse = require("numpy"), require("scipy.sparse")
        vocab = self.vocabulary
        # compact C arrays, not lists of Python ints (36 bytes an entry, 25M entries at 1M)
        indptr, indices, counts = array("q", [0]), array("i"), array("i")
        for doc in docs:
            row = self._counts(doc)
            indices.extend(row)
            counts.extend(row.values())
            indptr.append(len(indices))
        n_docs = len(indptr) - 1
        m = sparse.csr_matrix(
            (
                np.asarray(counts, dtype=np.float64),
                np.frombuffer(indices, dtype=np.int32),
                np.frombuffer(indptr, dtype=np.int64),
            ),
            shape=(n_docs, len(vocab)),
        )
        m.sort_indices()
        if fit:
            df = np.bincount(m.indices, minlength=len(vocab)).astype(np.float64) + 1.0
            self.idf_ = np.log((n_docs + 1) / df) + 1.0
        np.log(m.data, out=m.data)  # sublinear tf: 1 + log(count)
        m.data += 1.0
        m.data *= self.idf_[m.indices]
        lengths = np.diff(m.indptr)
        m.data /= np.repeat(np.sqrt(_row_sums(m.data * m.data, m.indptr)), lengths)
        return m

    def _counts(self, grams: Iterable[str]) -> dict[int, int]:
        """Each vocabulary column's count among ``grams`` (n-grams outside it dropped)."""
        vocab = self.vocabulary
        row: dict[int, int] = {}
        for g in grams:
            j = vocab.get(g)
            if j is not None:
                row[j] = row.get(j, 0) + 1
        return row

    # -- pairs among the fitted texts (row indices) ------------------------------------
    def _grams(self, i: int) -> tuple[frozenset[str], float]:
        # keyed by text: names repeat across tables and years (one entry per distinct name)
        cache = self.__dict__.setdefault("_gram_cache", {})
        text = self.texts[i]
        if text not in cache:
            g = frozenset(char_ngrams(text, *self.ngram_range))
            cache[text] = (g, sum(self.idf(x) for x in g))
        return cache[text]

    def cosine_ij(self, i: int, j: int) -> float:
        assert self.matrix is not None
        return float(self.matrix[i].multiply(self.matrix[j]).sum())

    def containment_ij(self, i: int, j: int) -> float:
        key = (self.texts[i], self.texts[j])
        cache = self.__dict__.setdefault("_containment_cache", {})
        found = cache.get(key)
        if found is None:
            if len(cache) >= 1_000_000:  # bounded: a sweep over many distinct names
                cache.clear()
            found = cache[key] = self._containment_ij(i, j)
        return found

    def _containment_ij(self, i: int, j: int) -> float:
        ga, wa = self._grams(i)
        gb, wb = self._grams(j)
        if not ga or not gb:
            return 0.0
        shorter, total = (ga, wa) if len(ga) <= len(gb) else (gb, wb)
        longer = gb if shorter is ga else ga
        shared = sum(self.idf(g) for g in shorter & longer)
        return shared / total if total else 0.0

    def transform(self, texts: Sequence[str]) -> Any:
        """TF-IDF rows of ``texts`` under the fitted vocabulary and IDF."""
        return self._weigh([self.analyze(t) for t in texts])

    def cosine_to_all(self, queries: Sequence[str]) -> np.ndarray:
        """``(len(queries), len(texts))`` TF-IDF cosine similarities."""
        np = require("numpy")
        if self.matrix is None or self._by_gram is None:
            return np.zeros((len(queries), 0), dtype=np.float32)
        if len(queries) == 1:  # a search: the query's few n-grams, added up row by row
            return np.asarray(self.scores(queries[0]), dtype=np.float32)[None, :]
        q = self.transform(queries)
        by_text = (q @ self._by_gram).toarray()
        return np.asarray(by_text[:, self.text_ids], dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        """One query's cosines with every text (float64): :meth:`distinct_scores` spread
        to the texts. ``cosine_to_all`` rounds them to float32."""
        return self.distinct_scores(query)[self.text_ids]

    def distinct_scores(self, query: str) -> np.ndarray:
        """One query's cosines with each distinct text (numbered as :attr:`text_ids`), as
        float64 sums: a search picks its pool from these and rounds only its candidates'
        (rounding a million took 0.4 ms).

        The same sums as ``transform(query) @ matrix.T``, bit for bit: the rows of the
        transposed matrix of the query's n-grams, each weighted, added up per distinct text in
        n-gram order (``np.bincount``, as scipy's product of those rows adds them, without its
        sparse matrices: 0.26 ms at 100k names in a search against 0.30-0.33). Only what those
        n-grams occur in is read, once per distinct text (over every name it took 0.37-0.43
        ms); float32 sums took half as long but gave an identical name 0.9999999."""
        np = require("numpy")
        by = self._by_gram
        if by is None:
            return np.zeros(0)
        cols, weights = self.weights(query)
        starts, ends = by.indptr[cols].tolist(), by.indptr[cols + 1].tolist()
        if not starts:
            return np.zeros(by.shape[1])
        texts = np.concatenate([by.indices[a:b] for a, b in zip(starts, ends, strict=True)])
        parts = [by.data[a:b] * w for a, b, w in zip(starts, ends, weights.tolist(), strict=True)]
        return np.bincount(texts, weights=np.concatenate(parts), minlength=by.shape[1])

    def weights(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(columns ascending, weights)`` of one text's TF-IDF row: ``transform([text])``'s
        indices and data bit for bit (the same operations in the same order), without the
        sparse matrix a search does not need (0.014 ms against 0.047)."""
        np = require("numpy")
        counts = self._counts(self.analyze(text))
        cols = np.array(sorted(counts), dtype=np.int64)
        w = np.log(np.array([counts[j] for j in cols.tolist()], dtype=np.float64))
        w += 1.0
        w *= self.idf_[cols]
        if len(w):
            w /= np.sqrt(np.cumsum(w * w)[-1])
        return cols, w

    def rows_of(self, distinct: np.ndarray) -> np.ndarray:
        """The texts (rows) of these distinct texts, each one's ascending, one after another."""
        np = require("numpy")
        lengths = self.text_counts[distinct]
        ends = np.cumsum(lengths)
        # position p of the output, in the run of distinct text j: starts[j] + p - (ends[j] - len)
        shift = np.repeat(self.text_starts[distinct] - (ends - lengths), lengths)
        return self.text_rows[shift + np.arange(len(shift))]

    def cosine(self, a: str, b: str) -> float:
        m = self.transform([a, b])
        return float((m[0] @ m[1].T).toarray()[0, 0])

    def idf(self, gram: str) -> float:
        return float(self._idf.get(gram, self._max_idf))

    def containment(self, a: str, b: str) -> float:
        """IDF-weighted share of the shorter name's n-grams found in the other name."""
        ga = set(char_ngrams(a, *self.ngram_range))
        gb = set(char_ngrams(b, *self.ngram_range))
        if not ga or not gb:
            return 0.0
        shorter, longer = (ga, gb) if len(ga) <= len(gb) else (gb, ga)
        total = sum(self.idf(g) for g in shorter)
        shared = sum(self.idf(g) for g in shorter & longer)
        return shared / total if total else 0.0


class BM25Lexical:
    """BM25 (bm25s) over character 1–2-grams; search only (scores are not bounded)."""

    def __init__(self, texts: Sequence[str]) -> None:
        bm25s = require("bm25s")
        self._bm25 = bm25s.BM25()
        self._bm25.index([char_ngrams(t) for t in texts], show_progress=False)
        self.n = len(texts)

    def scores(self, query: str) -> np.ndarray:
        np = require("numpy")
        return np.asarray(self._bm25.get_scores(char_ngrams(query)), dtype=np.float32)
