"""The error family: index, model and store errors are IkgErrors (and keep their built-in
base); the fallbacks to lexical matching catch them by name and log why."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kg.errors import (
    EmbeddingError,
    IkgError,
    InconsistentIndexError,
    ModelMismatchError,
    ModelUnavailableError,
    RemoteStoreError,
    StaleIndexError,
    VersionGoneError,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (StaleIndexError, RuntimeError),
        (ModelMismatchError, ValueError),
        (InconsistentIndexError, ValueError),
        (VersionGoneError, FileNotFoundError),
        (ModelUnavailableError, OSError),
        (RemoteStoreError, OSError),
    ],
)
def test_family_keeps_the_builtin_base(cls: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(cls, IkgError) and issubclass(cls, builtin)


def test_the_old_import_places_still_work() -> None:
    from embeddings.faiss_index import ModelMismatchError as FromFaiss
    from embeddings.index import StaleIndexError as FromIndex
    from kg.remote import RemoteStoreError as FromRemote

    assert (FromFaiss, FromIndex, FromRemote) == (
        ModelMismatchError,
        StaleIndexError,
        RemoteStoreError,
    )


def test_a_model_that_cannot_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from embeddings.encoders import load_encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError, match="nonexistent-model-alias"):
        load_encoder("nonexistent-model-alias")


def test_review_similarity_falls_back_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.review.similarity import embedding_scorer
    from kg.settings import Settings

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(embedding_model="nonexistent-model-alias")
    with caplog.at_level(logging.WARNING, logger="apps.review.similarity"):
        assert embedding_scorer(settings=settings) is None
    assert "lexical only" in caplog.text and "nonexistent-model-alias" in caplog.text


def test_library_links_fall_back_and_say_why(
    seed_store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.library import _embedding_links
    from kg.settings import Settings

    settings = Settings(data_dir=tmp_path, embedding_model="hash")
    with caplog.at_level(logging.WARNING, logger="apps.library"):
        assert _embedding_links(seed_store, tmp_path, settings, []) is None
    assert "lexical only" in caplog.text and "stale" in caplog.text


def test_an_unexpected_error_is_not_swallowed(
    seed_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (here a TypeError) in the index propagates instead of turning into lexical links."""
    import embeddings
    from apps.library import _embedding_links

    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(embeddings, "open_index", broken)
    with pytest.raises(TypeError, match="a bug"):
        _embedding_links(seed_store, tmp_path, None, [])
    assert issubclass(StaleIndexError, EmbeddingError)
