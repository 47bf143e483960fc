"""jieba's words are kept between index steps (embeddings.residues.remembered_words): a
rebuild that meets no new text scores its pairs without loading jieba's dictionary, and
the words it uses are jieba's own."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

pytest.importorskip("faiss")
pytest.importorskip("jieba")

from conftest import DEMO, SEED

from embeddings import residues
from embeddings.store_index import WORDS_FILE, index_for_store
from kg.build import build
from kg.settings import Settings

#: the seed and two demo tables of other departments
TABLES = [
    SEED,
    *(
        DEMO / "corpus" / f"{name}.csv"
        for name in (
            "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration",
            "hubei_huangshi_party_school_2022_project_approval",
        )
    ),
]


def _clear_caches() -> None:
    """The in-process caches of words and of what is worked out from them (other tests of
    the session have filled them: a real build starts from none)."""
    from embeddings import scoring

    for cached in (
        residues._jieba_cut,
        residues.context_words,
        residues._canonical,
        residues._tokenizer,
        scoring.is_generic,
    ):
        cached.cache_clear()


def _fresh_process(monkeypatch) -> None:
    """What a new process starts from: no words in memory, jieba's dictionary not loaded."""
    monkeypatch.setattr(residues, "_REMEMBERED", {})
    monkeypatch.setattr(residues, "_USED", set())
    _clear_caches()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("words")
    build(TABLES, data / "store")
    _clear_caches()  # every word the index step needs is worked out (and kept) by it
    index_for_store(data / "store", data, Settings(data_dir=data, embedding_model="hash-64"))
    return data


def _saved(data: Path) -> dict:
    with (data / WORDS_FILE).open("rb") as f:
        return pickle.load(f)


def test_the_index_step_keeps_jiebas_words_of_what_it_scored(indexed: Path) -> None:
    kept = _saved(indexed)
    assert kept["segmenter"].startswith("jieba-")
    words = kept["words"]
    assert "中共深圳市福田区委组织部" in words  # a department name: its words are qualifiers
    tokenizer = residues._tokenizer()
    for text, cut in list(words.items())[:200]:
        assert cut == tuple(w for w in tokenizer.lcut(text, HMM=True) if w.strip())


def test_remembered_words_are_used_without_loading_jieba(indexed: Path, monkeypatch) -> None:
    words = _saved(indexed)["words"]
    dept = "中共深圳市福田区委组织部"
    _fresh_process(monkeypatch)
    with residues.remembered_words(indexed / WORDS_FILE):
        assert residues.context_words((dept,)) == frozenset(w for w in words[dept] if len(w) >= 2)
        assert not residues._tokenizer().initialized  # the dictionary was never loaded
        # a text never seen is cut by jieba, and kept for the next run
        new = "区委组织部新增的从未见过的指标名称"
        assert residues.words(new)
    assert residues._tokenizer().initialized
    assert new in _saved(indexed)["words"]


def test_a_rebuild_without_new_text_does_not_load_jieba(
    indexed: Path, tmp_path: Path, monkeypatch
) -> None:
    """The seed's table written again with the same names (a target changed): its links are
    scored again, every word from the file."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(indexed, data)
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text(encoding="utf-8").replace("≥95%", "≥96%", 1), "utf-8")
    report = build([changed, *TABLES[1:]], data / "store")
    assert [t.file.name for t in report.tables] == [SEED.name]
    _fresh_process(monkeypatch)
    out = index_for_store(data / "store", data, Settings(data_dir=data, embedding_model="hash-64"))
    assert out.links > 0  # the seed's pairs were scored again
    assert not residues._tokenizer().initialized


@pytest.mark.parametrize("content", [b"not a pickle", None])
def test_a_damaged_or_foreign_file_is_ignored_and_written_again(
    tmp_path: Path, monkeypatch, content: bytes | None
) -> None:
    path = tmp_path / "words.pickle"
    if content is None:  # another jieba version's file
        content = pickle.dumps({"segmenter": "jieba-0.0-hmm", "words": {"培训人次": ("错",)}})
    path.write_bytes(content)
    _fresh_process(monkeypatch)
    with residues.remembered_words(path):
        assert residues.words("培训人次") != ["错"]
    kept = pickle.loads(path.read_bytes())
    assert kept["segmenter"] == residues._segmenter_id()
    assert kept["words"]["培训人次"] == tuple(residues.words("培训人次"))


def test_new_texts_are_cut_in_another_process(tmp_path: Path, monkeypatch) -> None:
    """cut_ahead: a child process loads jieba and cuts the texts not remembered; this one
    takes its words (jieba's own) without loading the dictionary, and keeps them."""
    texts = ["区委组织部新增的从未见过的指标名称", "第二个新的干部培训覆盖率", "中共某某区委党校"]
    expected = {
        t: tuple(w for w in residues._tokenizer().lcut(t, HMM=True) if w.strip()) for t in texts
    }
    path = tmp_path / "words.pickle"
    _fresh_process(monkeypatch)
    with residues.remembered_words(path):
        residues.cut_ahead([*texts, "", None])
        assert residues._AHEAD
        assert [tuple(residues.words(t)) for t in texts] == [expected[t] for t in texts]
        assert not residues._tokenizer().initialized  # the child loaded the dictionary
    assert {t: _saved_path(path)["words"][t] for t in texts} == expected


def test_a_failed_child_leaves_the_cutting_here(tmp_path: Path, monkeypatch) -> None:
    _fresh_process(monkeypatch)
    monkeypatch.setattr(residues, "_cut_all", lambda texts: 1 / 0)  # cannot even be sent
    with residues.remembered_words(tmp_path / "words.pickle"):
        residues.cut_ahead(["一个新的指标名称"])
        assert residues.words("一个新的指标名称")
    assert residues._tokenizer().initialized
    assert not residues._AHEAD


def _saved_path(path: Path) -> dict:
    with path.open("rb") as f:
        return pickle.load(f)
