"""A FAISS vector index with string ids, saved as a directory, refusing a different model.

Vectors are L2-normalised and searched by inner product, so scores are cosine
similarities. The index type follows the size unless a caller fixes it
(:func:`choose_kind`): exact ``flat`` up to :data:`FLAT_MAX` vectors, ``ivf`` above
(nlist = 4√n, nprobe = nlist/32). Measured in ``benchmarks/embeddings_speed.py`` on
clustered synthetic vectors: IVF kept recall@10 = 1.000 against flat at 100k and 1M
(0.4 ms and 4 ms a query, 6 s and 68 s to build) where HNSW (M 32) reached 0.905 at 1M
even with efSearch 256, and flat needs 70 ms a query at 1M. ``hnsw`` stays available.

On disk (``save``/``load``)::

    DIR/config.json   model id, dimension, normalisation, kind, count, extra metadata
    DIR/index.faiss   the faiss index
    DIR/ids.json      the string id of each row (the internal id is the position)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._optional import require
from .encoders import normalize_rows

if TYPE_CHECKING:
    import numpy as np

IndexKind = Literal["flat", "hnsw", "ivf"]
#: exact search up to this many vectors; an approximate index above
FLAT_MAX = 200_000
#: HNSW graph degree, build and search beams (benchmarks/embeddings_speed.py sweeps efSearch)
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
FORMAT_VERSION = 1


class ModelMismatchError(ValueError):
    """A saved index was built with another model than the one asked for."""


def choose_kind(n: int, requested: str = "auto") -> IndexKind:
    if requested != "auto":
        if requested not in ("flat", "hnsw", "ivf"):
            raise ValueError(f"unknown index kind {requested!r}; expected auto, flat, hnsw or ivf")
        return requested  # type: ignore[return-value]
    return "flat" if n <= FLAT_MAX else "ivf"


def _new_faiss(kind: IndexKind, dim: int, n: int) -> Any:
    faiss = require("faiss")
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    nlist = max(1, min(4096, int(4 * n**0.5)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = max(1, min(nlist, max(16, nlist // 32)))
    return faiss.IndexIDMap2(index)


def _ivf_training_sample(v: np.ndarray, index: Any) -> np.ndarray:
    """At most 64 vectors per list: k-means on all of a million vectors costs minutes."""
    np = require("numpy")
    nlist = require("faiss").extract_index_ivf(index).nlist
    cap = 64 * nlist
    if len(v) <= cap:
        return v
    rng = np.random.default_rng(0)
    return v[np.sort(rng.choice(len(v), cap, replace=False))]


class FaissIndex:
    """``index``/``add``/``remove``/``search``/``save``/``load``/``count`` over string ids."""

    def __init__(self, dim: int, *, model_id: str, kind: str = "auto") -> None:
        self.dim = dim
        self.model_id = model_id
        self.requested_kind = kind
        self.kind: IndexKind = choose_kind(0, kind)
        self.meta: dict[str, Any] = {}
        self._ids: list[str | None] = []
        self._pos: dict[str, int] = {}
        self._index: Any = _new_faiss(self.kind, dim, 0)

    # -- building ----------------------------------------------------------------
    def index(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Replace everything with ``ids`` and their vectors (the index type follows the size)."""
        np = require("numpy")
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        v = self._check(vectors, len(ids))
        self.kind = choose_kind(len(ids), self.requested_kind)
        self._index = _new_faiss(self.kind, self.dim, len(ids))
        self._ids = list(ids)
        self._pos = {i: n for n, i in enumerate(ids)}
        if self.kind == "ivf" and len(ids):
            self._index.train(_ivf_training_sample(v, self._index))
        if len(ids):
            if self.kind == "hnsw":
                self._index.add(v)
            else:
                self._index.add_with_ids(v, np.arange(len(ids), dtype=np.int64))

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add new ids; an id already present is replaced."""
        np = require("numpy")
        v = self._check(vectors, len(ids))
        present = [i for i in ids if i in self._pos]
        if present:
            self.remove(present)
        start = len(self._ids)
        if self.kind == "hnsw":
            if start != self._index.ntotal:
                raise RuntimeError("an HNSW index with removed rows cannot grow; rebuild it")
            self._index.add(v)
        else:
            if self.kind == "ivf" and not self._index.is_trained:
                self._index.train(v)
            self._index.add_with_ids(v, np.arange(start, start + len(ids), dtype=np.int64))
        for n, i in enumerate(ids):
            self._ids.append(i)
            self._pos[i] = start + n

    def remove(self, ids: Sequence[str]) -> int:
        """Remove ids (unknown ones are ignored); the number removed."""
        np = require("numpy")
        rows = [self._pos.pop(i) for i in ids if i in self._pos]
        if not rows:
            return 0
        if self.kind == "hnsw":
            raise RuntimeError("an HNSW index cannot remove rows; rebuild it with index()")
        self._index.remove_ids(np.asarray(rows, dtype=np.int64))
        for r in rows:
            self._ids[r] = None
        return len(rows)

    def _check(self, vectors: np.ndarray, n: int) -> np.ndarray:
        v = normalize_rows(vectors) if len(vectors) else vectors
        if n and (v.shape[0] != n or v.shape[1] != self.dim):
            raise ValueError(f"expected {n} vectors of dimension {self.dim}, got {v.shape}")
        return v

    # -- reading -----------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._pos)

    @property
    def ids(self) -> list[str]:
        return [i for i in self._ids if i is not None]

    def __contains__(self, item: str) -> bool:
        return item in self._pos

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored (normalised) vectors of ``ids``."""
        np = require("numpy")
        if self.kind == "hnsw":
            return np.stack([self._index.reconstruct(self._pos[i]) for i in ids])
        return np.stack([self._index.reconstruct(self._pos[i]) for i in ids]).astype(np.float32)

    def search(self, queries: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """For each query vector, up to ``k`` ``(id, cosine)`` pairs, best first."""
        if self.count == 0:
            return [[] for _ in range(len(queries))]
        q = normalize_rows(queries)
        k_eff = min(k, self.count)
        scores, rows = self._index.search(q, k_eff)
        out: list[list[tuple[str, float]]] = []
        for srow, rrow in zip(scores, rows, strict=True):
            hits = []
            for s, r in zip(srow, rrow, strict=True):
                if r < 0:
                    continue
                ident = self._ids[int(r)]
                if ident is not None:
                    hits.append((ident, float(s)))
            out.append(hits)
        return out

    # -- persistence -------------------------------------------------------------
    def save(self, directory: Path, meta: Mapping[str, Any] | None = None) -> None:
        faiss = require("faiss")
        directory.mkdir(parents=True, exist_ok=True)
        if meta is not None:
            self.meta = dict(meta)
        config = {
            "format": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "normalised": True,
            "metric": "inner_product",
            "kind": self.kind,
            "requested_kind": self.requested_kind,
            "count": self.count,
            "meta": self.meta,
        }
        tmp = directory / "index.faiss.tmp"
        faiss.write_index(self._index, str(tmp))
        tmp.replace(directory / "index.faiss")
        (directory / "ids.json").write_text(json.dumps(self._ids, ensure_ascii=False), "utf-8")
        # config last: a directory with a config is complete
        (directory / "config.json").write_text(
            json.dumps(config, ensure_ascii=False, indent=2), "utf-8"
        )

    @staticmethod
    def read_config(directory: Path) -> dict[str, Any]:
        path = directory / "config.json"
        if not path.is_file():
            raise FileNotFoundError(f"no embedding index at {directory}")
        return json.loads(path.read_text("utf-8"))

    @classmethod
    def load(cls, directory: Path, *, model_id: str | None = None) -> FaissIndex:
        """Load a saved index; refuse one built with another model than ``model_id``."""
        faiss = require("faiss")
        config = cls.read_config(directory)
        if config.get("format") != FORMAT_VERSION:
            raise ValueError(f"index at {directory} has format {config.get('format')}; rebuild it")
        if model_id is not None and config["model_id"] != model_id:
            raise ModelMismatchError(
                f"the index at {directory} was built with model {config['model_id']!r}, "
                f"not {model_id!r}; rebuild it (ikg build, or delete the folder)"
            )
        self = cls(int(config["dim"]), model_id=config["model_id"], kind=config["requested_kind"])
        self.kind = config["kind"]
        self.meta = dict(config.get("meta", {}))
        self._index = faiss.read_index(str(directory / "index.faiss"))
        self._ids = json.loads((directory / "ids.json").read_text("utf-8"))
        self._pos = {i: n for n, i in enumerate(self._ids) if i is not None}
        if len(self._pos) != config["count"]:
            raise ValueError(f"index at {directory} is inconsistent (ids vs config); rebuild it")
        return self
