"""Embedding index for similar and duplicate indicators.

Public API:

* :class:`Encoder` protocol and :func:`load_encoder` (aliases ``use-multilingual``,
  ``e5-small-q4``, ``minilm-l6``, ``m3e-small``, ``hash``; a local folder or hub name
  goes to sentence-transformers); :class:`CachedEncoder` / :class:`EmbeddingCache`.
* :class:`FaissIndex` — index/add/remove/search/save/load/count over string ids.
* :class:`IndicatorIndex`, :func:`open_index`, :func:`index_for_store` — the index
  of a graph store's indicators, kept in step with ``ikg build``.
* :func:`find_duplicates` — scored, explained, clustered duplicate pairs.
* :mod:`ikg.search` — ``search``, ``similar``, ``duplicates`` for the ``ikg`` app.

Heavy dependencies (numpy, scipy, faiss, the models) are imported on use;
a missing one raises an ImportError naming the extra to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_MODEL",
    "CachedEncoder",
    "EmbeddingCache",
    "Encoder",
    "FaissIndex",
    "Filters",
    "IndicatorIndex",
    "StaleIndexError",
    "find_duplicates",
    "index_for_store",
    "load_encoder",
    "open_index",
]

_WHERE = {
    "DEFAULT_MODEL": "encoders",
    "Encoder": "encoders",
    "load_encoder": "encoders",
    "CachedEncoder": "cache",
    "EmbeddingCache": "cache",
    "FaissIndex": "faiss_index",
    "Filters": "index",
    "IndicatorIndex": "index",
    "StaleIndexError": "index",
    "index_for_store": "store_index",
    "open_index": "index",
    "find_duplicates": "duplicates",
}

if TYPE_CHECKING:  # pragma: no cover
    from .cache import CachedEncoder, EmbeddingCache
    from .duplicates import find_duplicates
    from .encoders import DEFAULT_MODEL, Encoder, load_encoder
    from .faiss_index import FaissIndex
    from .index import Filters, IndicatorIndex, StaleIndexError, open_index
    from .store_index import index_for_store


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
