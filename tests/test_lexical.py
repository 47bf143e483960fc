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


def test_an_empty_index_transforms_to_nothing() -> None:
    lex = LexicalIndex([])
    assert lex.matrix is None
    assert lex.cosine_to_all(["培训人次"]).shape == (1, 0)
    assert lex.transform(["培训人次"]).nnz == 0  # only the placeholder's n-grams are known


def test_containment_reads_the_fitted_idf(names: list[str]) -> None:
    vec, _ = _reference(names)
    lex = LexicalIndex(names)
    idf = dict(zip(vec.get_feature_names_out(), vec.idf_, strict=True))
    for gram in ("满意", "率", "培训"):
        assert lex.idf(gram) == pytest.approx(idf[gram], abs=1e-12)
    assert lex.idf("龘龘") == pytest.approx(max(vec.idf_), abs=1e-12)
