"""An on-disk embedding cache keyed by model and text, so unchanged names are never re-encoded.

One SQLite file (``embeddings/cache.sqlite`` in the data directory) holds rows
``(model_id, sha256(text)) → float32 bytes``. :class:`CachedEncoder` wraps any
:class:`~embeddings.encoders.Encoder` and encodes only what the cache misses;
rebuilding the index after an unchanged table costs lookups only.

A :class:`CachedEncoder` made with ``store_new=False`` (the API's) only reads the file: what it
encodes on behalf of a request (a search query, a reviewed table's names) goes to a bounded
in-memory LRU instead (``memory`` vectors), so anonymous requests cannot grow the file; an
index build inside :meth:`CachedEncoder.writing` still stores the graph's names. What it reads
from the file for a request goes to the LRU too: a query asked again (an indicator's own
name, say) costs a dictionary look-up, not a SQLite round trip (0.1 ms of a 2 ms search).

Both classes are safe to share between threads (the API calls them from its threadpool):
the SQLite connection is opened with ``check_same_thread=False`` and every statement runs
under the cache's lock; the wrapped model is called under the encoder's lock.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    ``store_new=False``: new vectors are not written to ``cache`` (outside :meth:`writing`);
    ``memory``: how many of them an in-memory LRU keeps (0: none).
    """

    def __init__(
        self,
        encoder: Encoder,
        cache: EmbeddingCache | None,
        *,
        store_new: bool = True,
        memory: int = 0,
    ) -> None:
        self.inner = encoder
        self.cache = cache
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.misses = 0
        self.store_new = store_new
        self.memory_size = memory
        self._memory: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._memory_lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def writing(self) -> Iterator[CachedEncoder]:
        """What this thread encodes meanwhile goes to the on-disk cache (an index build)."""
        before = getattr(self._local, "writing", False)
        self._local.writing = True
        try:
            yield self
        finally:
            self._local.writing = before

    def _stores(self) -> bool:
        return self.cache is not None and (self.store_new or getattr(self._local, "writing", False))

    def _recall(self, texts: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not self.memory_size:
            return out
        with self._memory_lock:
            for t in texts:
                key = _key(t)
                vec = self._memory.get(key)
                if vec is not None:
                    self._memory.move_to_end(key)
                    out[t] = vec
        return out

    def _remember(self, texts: Sequence[str], vectors: Any) -> None:
        if not self.memory_size:
            return
        with self._memory_lock:
            for t, v in zip(texts, vectors, strict=True):
                key = _key(t)
                self._memory[key] = v.copy()  # not a view that keeps the batch alive
                self._memory.move_to_end(key)
            while len(self._memory) > self.memory_size:
                self._memory.popitem(last=False)

    def memory_count(self) -> int:
        """Vectors held in the in-memory LRU."""
        with self._memory_lock:
            return len(self._memory)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        np = require("numpy")
        # the in-memory LRU first: a query repeated by the API costs no SQLite round trip
        found = self._recall(texts)
        rest = [t for t in texts if t not in found]
        if rest and self.cache is not None:
            stored = self.cache.get_many(self.model_id, rest)
            found.update(stored)
            if stored and not self._stores():  # read again soon (an API query): from memory
                self._remember(list(stored), list(stored.values()))
        todo = sorted({t for t in texts if t not in found})
        if todo:
            with self._lock:
                fresh = self.inner.encode(todo, batch_size=batch_size, progress=progress)
                self.misses += len(todo)
            if self._stores():
                assert self.cache is not None
                self.cache.put_many(self.model_id, todo, fresh)
            else:
                self._remember(todo, fresh)
            found.update(zip(todo, fresh, strict=True))
        elif progress:
            progress(len(texts), len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = found[t]
        return out
