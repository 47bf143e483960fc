"""The lexical index's TF-IDF is scikit-learn's TfidfVectorizer, made without importing it.

scikit-learn stays the reference: the matrix, the IDF, the vocabulary and the transform of
unseen texts are compared with its on the seed's names and the corpus's text.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import SHARED

from embeddings.lexical import LexicalIndex
from embeddings.text import clean

sk_text = pytest.importorskip("sklearn.feature_extraction.text")


def _reference(texts: list[str]):
    vec = sk_text.TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 2),
        preprocessor=clean,
        sublinear_tf=True,
        norm="l2",
        lowercase=True,
    )
    return vec, vec.fit_transform(texts)


def _corpus_cells() -> list[str]:
    """Cells of the corpus tables' lines: names, targets, sentences, blanks, runs of spaces."""
    cells: set[str] = set()
    for path in sorted((SHARED / "corpus" / "tables").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            cells.add(line[:120])
            cells.update(c[:120] for c in re.split(r"\t|\s{2,}", line))
    return sorted(cells)


@pytest.fixture(scope="module")
def names(seed_parsed) -> list[str]:
    own = [i.name for i in seed_parsed.indicators]
    edge = ["", "  ", "a  b\t c", "ＡＢＣ１２３", "≥90%", "满意度", "满意度"]
    return own + _corpus_cells() + edge


def test_the_fit_is_scikit_learns(names: list[str]) -> None:
    assert len(names) > 1000
    vec, ref = _reference(names)
    lex = LexicalIndex(names)
    assert list(lex.vocabulary) == list(vec.get_feature_names_out())
    np.testing.assert_allclose(lex.idf_, vec.idf_, rtol=0, atol=1e-12)
    assert lex.matrix.shape == ref.shape
    diff = abs(lex.matrix - ref)
    assert diff.max() < 1e-12
    # the same entries, not only the same values: no n-gram dropped or added
    ref.sort_indices()
    assert lex.matrix.nnz == ref.nnz
    assert np.array_equal(lex.matrix.indices, ref.indices)
    assert np.array_equal(lex.matrix.indptr, ref.indptr)


def test_the_transform_of_unseen_texts_is_scikit_learns(names: list[str]) -> None:
    vec, _ = _reference(names)
    lex = LexicalIndex(names)
    unseen = ["培训人次（修订）", "从未出现的字龘", "", "绩效  目标 完成率", "党员教育培训覆盖率"]
    mine, ref = lex.transform(unseen + names[:300]), vec.transform(unseen + names[:300])
    # bit for bit: the same n-grams in column order, the row norms summed in that order
    assert np.array_equal(mine.indptr, ref.indptr) and np.array_equal(mine.indices, ref.indices)
    assert np.array_equal(mine.data, ref.data)
    # one text's weights without a matrix (what a search reads): the same, bit for bit
    for i, text in enumerate(unseen + names[:300]):
        cols, weights = lex.weights(text)
        start, end = ref.indptr[i], ref.indptr[i + 1]
        assert np.array_equal(cols, ref.indices[start:end]), text
        assert np.array_equal(weights, ref.data[start:end]), text


def test_scores_per_distinct_text_spread_to_every_text(names: list[str]) -> None:
    """A search scores each distinct name once: spread to the texts, the scores are the
    products of the query's row with every text's, and copies of a name score alike."""
    texts = names + names[:500]  # every one of the first 500 twice, as tables repeat names
    lex = LexicalIndex(texts)
    assert len(lex.text_counts) == len(set(texts)) < len(texts)
    for q in ["培训人次", "满意度", "党员教育培训覆盖率", "从未出现的字龘", "≥90%"]:
        per_text = lex.distinct_scores(q)
        assert per_text.shape == (len(set(texts)),)
        want = (lex.transform([q]) @ lex.matrix.T).toarray()[0]
        np.testing.assert_allclose(lex.scores(q), want, rtol=0, atol=1e-12)
        # bit for bit scipy's product of the query's rows of the transposed matrix
        row = lex.transform([q])
        assert np.array_equal(per_text, lex._by_gram[row.indices].T @ row.data)
        got = lex.cosine_to_all([q])[0]
        assert np.array_equal(got[: len(names)][:500], got[len(names) :])
    # several queries at once: the same as one by one
    many = lex.cosine_to_all(["培训人次", "满意度"])
    assert np.array_equal(many[1], lex.cosine_to_all(["满意度"])[0])


def test_rows_of_distinct_texts_are_their_texts(names: list[str]) -> None:
    texts = names + names[:500] + ["满意度"] * 7
    lex = LexicalIndex(texts)
    ids = lex.text_ids
    for d in [0, 1, int(ids[texts.index("满意度")]), len(lex.text_counts) - 1]:
        assert lex.rows_of(np.array([d])).tolist() == np.flatnonzero(ids == d).tolist()
    some = np.array([int(ids[-1]), 3, 0])
    want = np.concatenate([np.flatnonzero(ids == d) for d in some])
    assert lex.rows_of(some).tolist() == want.tolist()
    assert [texts[r] for r in lex.rows_of(some)] == [texts[r] for r in want]
    assert len(lex.rows_of(np.zeros(0, dtype=np.int64))) == 0


def test_an_empty_index_transforms_to_nothing() -> None:
    lex = LexicalIndex([])
    assert lex.matrix is None
    assert lex.cosine_to_all(["培训人次"]).shape == (1, 0)
    assert lex.transform(["培训人次"]).nnz == 0  # only the placeholder's n-grams are known
    assert len(lex.distinct_scores("培训人次")) == len(lex.scores("培训人次")) == 0


def test_containment_reads_the_fitted_idf(names: list[str]) -> None:
    vec, _ = _reference(names)
    lex = LexicalIndex(names)
    idf = dict(zip(vec.get_feature_names_out(), vec.idf_, strict=True))
    for gram in ("满意", "率", "培训"):
        assert lex.idf(gram) == pytest.approx(idf[gram], abs=1e-12)
    assert lex.idf("龘龘") == pytest.approx(max(vec.idf_), abs=1e-12)
