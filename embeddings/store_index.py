"""The index of a graph store, kept in step with ``ikg build``.

:func:`index_for_store` opens the saved index when it still matches the store's indicators
and model, else rebuilds it (unchanged names come from the cache), then rewrites the
similarity links in the store (:mod:`embeddings.links`). It sits above both
:mod:`embeddings.index` and :mod:`embeddings.links`, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kg.store import GraphStore

from .encoders import Encoder
from .faiss_index import FaissIndex, VersionGoneError
from .index import (
    IndexReport,
    Progress,
    _from_saved,
    _no_index,
    _or_defaults,
    _rebuild,
    _stale_reason,
    _up_to_date,
    index_dir,
    make_encoder,
)
from .links import write_links as _write_links
from .residues import cut_ahead, remembered_words
from .saved_indicators import FILE_NAME, load_indicators_saved
from .text import IndicatorText

if TYPE_CHECKING:
    from kg.settings import Settings

#: the words jieba cut names and department names into, kept between index steps
#: (:func:`embeddings.residues.remembered_words`), beside the embedding cache
WORDS_FILE = Path("embeddings") / "words.pickle"


def index_for_store(
    store_path: Path,
    data_dir: Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
    *,
    encoder: Encoder | None = None,
    write_links: bool = True,
    full_links: bool = False,
) -> IndexReport:
    """(Re)build the index for the store at ``store_path`` after ``ikg build``.

    Unchanged indicators come from the cache; the index file is rewritten only when
    the store's indicators (or the model) differ from what it was built from. Only the
    tables changed since the last call are read from the store (all with ``full_links``:
    :mod:`embeddings.saved_indicators`). The similarity links (:mod:`embeddings.links`) of the tables without links are written to
    the store too (all of them again with ``full_links``).
    """
    settings = _or_defaults(settings)
    if Path(settings.data_dir) != Path(data_dir):  # the saved reports go beside this index
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    path = index_dir(data_dir)
    with remembered_words(Path(data_dir) / WORDS_FILE):
        with GraphStore(store_path, read_only=True) as store:  # the unchanged tables: the file
            items = load_indicators_saved(store, path / FILE_NAME, full=full_links)
        # the names and departments jieba has not cut yet (a changed table's): cut on the
        # other core meanwhile
        cut_ahead(t for it in items for t in (it.name, it.department))
        enc = encoder or make_encoder(settings, data_dir)
        fi, reason = _saved_index(path, items, enc.model_id)
        if fi is not None:
            index = _from_saved(items, fi, enc)
            report = IndexReport(path, enc.model_id, len(items), fi.kind, 0, False, _up_to_date())
        else:
            index, report = _rebuild(
                items,
                enc,
                path,
                settings,
                reason or _no_index(),
                progress,
                reuse_centroids=not full_links,  # --all: the IVF centroids trained afresh too
            )
        if write_links:
            report.links = _write_links(store_path, index, settings, full=full_links)
    return report


def _saved_index(
    path: Path, items: list[IndicatorText], model_id: str
) -> tuple[FaissIndex | None, str | None]:
    """The saved index when it was built from exactly these indicators and this model, else
    None and why it is stale (a version replaced while being opened is tried again)."""
    reason: str | None = _no_index()
    for attempt in range(3):
        try:
            config = FaissIndex.read_config(path)
        except FileNotFoundError:
            break
        reason = _stale_reason(config, items, model_id)
        if reason is not None:
            break
        try:  # exactly the version whose fingerprint was checked
            return FaissIndex.load(path, model_id=model_id, version=config["version"]), None
        except VersionGoneError:
            if attempt == 2:
                raise
    return None, reason
