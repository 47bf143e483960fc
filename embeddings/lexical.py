"""Lexical similarity that suits Chinese: character 1–2-gram TF-IDF (scikit-learn).

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

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._optional import require
from .text import clean

if TYPE_CHECKING:
    import numpy as np


def char_ngrams(text: str, n_min: int = 1, n_max: int = 2) -> list[str]:
    c = clean(text)
    return [c[i : i + n] for n in range(n_min, n_max + 1) for i in range(len(c) - n + 1)]


class LexicalIndex:
    """Char n-gram TF-IDF over a list of names, with cosine and containment scores."""

    def __init__(self, texts: Sequence[str], *, ngram_range: tuple[int, int] = (1, 2)) -> None:
        sk = require("sklearn.feature_extraction.text")
        self.ngram_range = ngram_range
        self._vec = sk.TfidfVectorizer(
            analyzer="char",
            ngram_range=ngram_range,
            preprocessor=clean,
            sublinear_tf=True,
            norm="l2",
            lowercase=True,
        )
        fitted = self._vec.fit_transform(list(texts) or ["占位"])  # an empty index still transforms
        self.matrix = fitted if texts else None
        #: the matrix transposed once, as CSR (n-grams x names): a query's n-grams select its
        #: rows, so scoring every name costs what the query's n-grams occur in, not a
        #: conversion of the whole matrix per query
        self._by_gram = fitted.T.tocsr() if texts else None
        self.texts = list(texts)
        self._idf = dict(zip(self._vec.get_feature_names_out(), self._vec.idf_, strict=True))
        self._max_idf = float(max(self._vec.idf_)) if len(self._vec.idf_) else 1.0

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
        return self._vec.transform(list(texts))

    def cosine_to_all(self, queries: Sequence[str]) -> np.ndarray:
        """``(len(queries), len(texts))`` TF-IDF cosine similarities."""
        np = require("numpy")
        if self.matrix is None or self._by_gram is None:
            return np.zeros((len(queries), 0), dtype=np.float32)
        if len(queries) == 1:  # a search: the query's few n-grams, added up row by row
            return self._cosine_one(queries[0])[None, :]
        q = self.transform(queries)
        return np.asarray((q @ self._by_gram).toarray(), dtype=np.float32)

    def _cosine_one(self, query: str) -> np.ndarray:
        """One query's cosines: the same sums as ``transform(query) @ matrix.T`` (the query's
        n-grams in column order, each adding its weight times its row of the transposed
        matrix), without scikit-learn's per-call checks and scipy's sparse product, which
        together cost more than the sums at 100k names."""
        np = require("numpy")
        cols, weights = self.query_weights(query)
        by = self._by_gram
        assert by is not None
        out = np.zeros(by.shape[1], dtype=np.float64)
        for col, w in zip(cols.tolist(), weights.tolist(), strict=True):
            lo, hi = by.indptr[col], by.indptr[col + 1]
            out[by.indices[lo:hi]] += w * by.data[lo:hi]
        return out.astype(np.float32)

    def query_weights(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """``(columns ascending, weights)`` of one text's TF-IDF row: the values
        ``transform([query])`` gives, bit for bit, computed as scikit-learn does (counts in
        column order, ``log(tf) + 1``, times IDF, divided by the row's L2 norm summed in that
        order) without its input validation, which took 2 ms of a 100k search."""
        np = require("numpy")
        analyze = self.__dict__.get("_analyze")
        if analyze is None:
            analyze = self._analyze = self._vec.build_analyzer()
            self._vocab = self._vec.vocabulary_
        vocab, counts = self._vocab, {}
        for gram in analyze(query):
            col = vocab.get(gram)
            if col is not None:
                counts[col] = counts.get(col, 0) + 1
        cols = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        data = np.fromiter((counts[c] for c in cols.tolist()), dtype=np.float64, count=len(cols))
        np.log(data, data)  # sublinear_tf, as TfidfTransformer.transform
        data += 1.0
        data *= self._vec.idf_[cols]
        total = 0.0
        for v in data.tolist():  # sklearn's inplace_csr_row_normalize_l2: a sequential sum
            total += v * v
        if total != 0.0:
            data /= math.sqrt(total)
        return cols, data

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

    def top_k(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        np = require("numpy")
        sims = self.cosine_to_all(queries)
        out = []
        for row in sims:
            kk = min(k, row.shape[0])
            idx = np.argpartition(-row, kk - 1)[:kk] if kk else []
            out.append(sorted(((int(i), float(row[i])) for i in idx), key=lambda t: -t[1]))
        return out


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
