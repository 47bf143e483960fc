"""An on-disk embedding cache keyed by model and text, so unchanged names are never re-encoded.

One SQLite file (``embeddings/cache.sqlite`` in the data directory) holds rows
``(model_id, sha256(text)) → float32 bytes``. :class:`CachedEncoder` wraps any
:class:`~embeddings.encoders.Encoder` and encodes only what the cache misses;
rebuilding the index after an unchanged table costs lookups only.

Both classes are safe to share between threads (the API calls them from its threadpool):
the SQLite connection is opened with ``check_same_thread=False`` and every statement runs
under the cache's lock; the wrapped model is called under the encoder's lock.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._optional import require
from .encoders import Encoder, Progress

if TYPE_CHECKING:
    import numpy as np


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " model TEXT NOT NULL, key BLOB NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL,"
            " PRIMARY KEY (model, key))"
        )
        self._db.commit()

    def get_many(self, model_id: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        np = require("numpy")
        out: dict[str, Any] = {}
        keys = {_key(t): t for t in texts}
        items = list(keys.items())
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})",
                    [model_id, *(k for k, _ in chunk)],
                ).fetchall()
            for key, vec in rows:
                out[keys[key]] = np.frombuffer(vec, dtype=np.float32)
        return out

    def put_many(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        np = require("numpy")
        rows = [
            (model_id, _key(t), int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
            self._db.commit()

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            if model_id is None:
                return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            q = "SELECT COUNT(*) FROM vectors WHERE model = ?"
            return int(self._db.execute(q, (model_id,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEncoder:
    """An encoder that asks the cache first; ``misses`` counts what it really encoded.

    With ``cache=None`` every call encodes: the wrapper then only serialises calls to the model.
    """

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None) -> None:
        self.inner = encoder
        self.cache = cache
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.misses = 0
        self._lock = threading.Lock()

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        np = require("numpy")
        found = {} if self.cache is None else self.cache.get_many(self.model_id, texts)
        todo = sorted({t for t in texts if t not in found})
        if todo:
            with self._lock:
                fresh = self.inner.encode(todo, batch_size=batch_size, progress=progress)
                self.misses += len(todo)
            if self.cache is not None:
                self.cache.put_many(self.model_id, todo, fresh)
            found.update(zip(todo, fresh, strict=True))
        elif progress:
            progress(len(texts), len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = found[t]
        return out
