"""A FAISS vector index with string ids, saved as a directory, refusing a different model.

Vectors are L2-normalised and searched by inner product, so scores are cosine
similarities. The index type follows the size unless a caller fixes it
(:func:`choose_kind`): exact ``flat`` up to :data:`FLAT_MAX` (50k) vectors, ``ivf`` above
(nlist = 4√n, nprobe = nlist/32). Measured in ``benchmarks/embeddings_speed.py`` on
clustered synthetic vectors: IVF kept recall@10 = 1.000 against flat at 100k and 1M
(0.4 ms and 4 ms a query, 6 s and 68 s to build) where HNSW (M 32) reached 0.905 at 1M
even with efSearch 256, and flat needs 70 ms a query at 1M. ``hnsw`` stays available.

On disk (``save``/``load``), one immutable directory per saved version::

    DIR/CURRENT                      the published version's name (one line)
    DIR/versions/<version>/config.json   model id, dimension, normalisation, kind, count,
                                         version, extra metadata
    DIR/versions/<version>/index.faiss   the faiss index
    DIR/versions/<version>/ids.json      the string id of each row (the position is the row)
    DIR/versions/<version>/vectors.npy   every row's vector, by row (a removed row's is zero)

``load`` maps ``index.faiss`` and ``vectors.npy`` into memory (faiss ``IO_FLAG_MMAP_IFC``,
numpy ``mmap_mode``) instead of reading them: the pages are the operating system's file
cache, shared by every process that serves the same version (``ikg serve --workers N``), where
each used to hold its own copy (2 GB each at 1M vectors of 512 dimensions). A loaded index
that is then changed (``add``, ``remove``) first reads itself into its own memory.

``save`` writes a new version under ``versions/<version>.partial/``, fsyncs it, renames it to
``versions/<version>/`` and only then publishes it by replacing ``CURRENT`` atomically
(temporary file + ``os.replace``). A reader that loads while a writer saves gets either the
old version or the new one, never parts of both; the previous version is kept for readers
still loading it, older ones are pruned. ``load`` reads ``CURRENT`` and checks the version's
files against each other. A directory saved by an older release (``config.json`` directly in
``DIR``, no ``CURRENT``) still loads; the next ``save`` moves it to this layout.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kg.errors import InconsistentIndexError, IndexFormatError, ModelMismatchError, VersionGoneError

from ._optional import require
from .encoders import normalize_rows

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw", "ivf"]
#: exact search up to this many vectors; an approximate index above. The search scores every
#: indicator from the vectors' matrix up to ``embeddings.index.BRUTE_FORCE_MAX`` (the same
#: size) and asks faiss above it, where a flat scan of 100k vectors (29 ms) was most of a
#: request and capped a 2-core server near 30 req/s; IVF answers in under a millisecond with
#: recall@10 0.996 against flat at 100k (benchmarks/search_speed.py)
FLAT_MAX = 50_000
#: an IVF version's coarse centroids, saved beside its index.faiss
CENTROIDS_FILE = "centroids.npy"
#: a version's vectors by row, beside its index.faiss (read as a memory map)
VECTORS_FILE = "vectors.npy"
#: share of a new index's ids that must be in the published version for its centroids to be
#: used again (the links' and saved indicators' delta limit is 25 % changed too)
REUSE_CENTROIDS_MIN_SHARE = 0.75
#: HNSW graph degree, build and search beams (benchmarks/embeddings_speed.py sweeps efSearch)
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
FORMAT_VERSION = 1
#: the pointer file naming the published version, and the folder of versions
CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
#: an unfinished ``.partial`` version younger than this may belong to a running save
PARTIAL_GRACE_S = 3600.0
#: how often ``load`` follows ``CURRENT`` again when its version vanished while reading
LOAD_ATTEMPTS = 5


def new_version_name() -> str:
    """A sortable, unique version name: UTC time to the microsecond and a random suffix."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - platforms that cannot open a directory (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - fsync on a directory is not supported everywhere
        pass
    finally:
        os.close(fd)


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _mapped_rows(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """A version's vectors.npy as a read-only memory map; None when it is missing (a version
    saved by an older release), unreadable or not ``shape`` float32 (both logged): the
    vectors are then read from the index."""
    np = require("numpy")
    if not path.is_file():
        return None
    try:
        rows = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.warning("%s unreadable (%s): the vectors are read from the index instead", path, exc)
        return None
    if rows.shape != shape or rows.dtype != np.float32:
        log.warning(
            "%s holds %s %s, expected float32 %s: the vectors are read from the index instead",
            path,
            rows.dtype,
            rows.shape,
            shape,
        )
        return None
    # a plain array over the map: np.memmap's own indexing cost 0.16 ms a search at 100k
    return rows.view(np.ndarray)


def _read_pointer(directory: Path) -> str | None:
    try:
        name = (directory / CURRENT_FILE).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise InconsistentIndexError(
            f"{directory / CURRENT_FILE}: expected a version name, got {name!r}; "
            "rebuild the index (ikg build)"
        )
    return name


def choose_kind(n: int, requested: str = "auto") -> IndexKind:
    if requested != "auto":
        if requested not in ("flat", "hnsw", "ivf"):
            raise ValueError(f"unknown index kind {requested!r}; expected auto, flat, hnsw or ivf")
        return requested  # type: ignore[return-value]
    return "flat" if n <= FLAT_MAX else "ivf"


def _new_faiss(kind: IndexKind, dim: int, n: int, nlist: int | None = None) -> Any:
    faiss = require("faiss")
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    nlist = nlist or max(1, min(4096, int(4 * n**0.5)))
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
        #: the saved version this object was loaded from or last saved as (None: unsaved, or
        #: the old flat layout)
        self.version: str | None = None
        self._ids: list[str | None] = []
        self._pos: dict[str, int] = {}
        self._index: Any = _new_faiss(self.kind, dim, 0)
        #: the faiss index is a view of its saved file (see :meth:`_own`)
        self._mapped = False
        #: the saved version's vectors.npy as a read-only memory map, while it is current
        self._saved_rows: np.ndarray | None = None
        #: the files mapped (what :meth:`prefetch` reads)
        self._mapped_files: list[Path] = []

    def _own(self) -> None:
        """Before a change: the faiss index read into this process's memory when it is a
        view of its file (faiss aborts the process on a change to a mapped index), and the
        saved vectors no longer taken for the current ones."""
        if self._mapped:
            faiss = require("faiss")
            self._index = faiss.deserialize_index(faiss.serialize_index(self._index))
            self._mapped = False
        self._saved_rows = None

    # -- building ----------------------------------------------------------------
    def index(
        self, ids: Sequence[str], vectors: np.ndarray, *, centroids: np.ndarray | None = None
    ) -> None:
        """Replace everything with ``ids`` and their vectors (the index type follows the size).

        ``centroids``: an IVF index's coarse centroids to use instead of training k-means
        (:meth:`reusable_centroids`: the last version's, when most of its vectors are these).
        """
        np = require("numpy")
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        v = self._check(vectors, len(ids))
        self.kind = choose_kind(len(ids), self.requested_kind)
        given = (
            centroids
            if self.kind == "ivf"
            and centroids is not None
            and centroids.ndim == 2
            and centroids.shape[1] == self.dim
            and 0 < len(centroids) <= len(ids)
            else None
        )
        nlist = None if given is None else len(given)
        self._index = _new_faiss(self.kind, self.dim, len(ids), nlist)
        self._mapped, self._saved_rows = False, None
        self._ids = list(ids)
        self._pos = {i: n for n, i in enumerate(ids)}
        if given is not None:
            ivf = require("faiss").extract_index_ivf(self._index)
            ivf.quantizer.add(np.ascontiguousarray(given, dtype=np.float32))
            ivf.is_trained = self._index.is_trained = True  # the id map's flag too
        elif self.kind == "ivf" and len(ids):
            self._index.train(_ivf_training_sample(v, self._index))
        #: the IVF centroids were given, not trained here
        self.centroids_reused = given is not None
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
        self._own()
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

    def centroids(self) -> np.ndarray | None:
        """An IVF index's coarse centroids (None for another kind or an untrained index)."""
        if self.kind != "ivf" or not self._index.is_trained:
            return None
        quantizer = require("faiss").extract_index_ivf(self._index).quantizer
        return quantizer.reconstruct_n(0, quantizer.ntotal)

    @classmethod
    def reusable_centroids(
        cls, directory: Path, ids: Sequence[str], *, model_id: str, dim: int
    ) -> np.ndarray | None:
        """The published version's IVF centroids, when an index of ``ids`` may be made on them
        instead of training k-means again: same model and dimension, and at least
        :data:`REUSE_CENTROIDS_MIN_SHARE` of ``ids`` in that version. Training took 25 s at
        124k vectors (2 busy cores) for a rebuild that had changed one table; the centroids
        of nearly the same vectors partition them as well (a test measures the recall)."""
        np = require("numpy")
        try:
            version, where = cls._resolve(directory, None)
            config = cls._read_config_at(where, version)
            if (
                config.get("kind") != "ivf"
                or config.get("model_id") != model_id
                or int(config.get("dim", 0)) != dim
                or not ids
            ):
                return None
            kept = set(json.loads((where / "ids.json").read_text("utf-8")))
            if sum(i in kept for i in ids) < REUSE_CENTROIDS_MIN_SHARE * len(ids):
                return None
            return np.load(where / CENTROIDS_FILE, allow_pickle=False)
        except (OSError, ValueError, KeyError, VersionGoneError, InconsistentIndexError):
            return None  # no usable version: train

    def remove(self, ids: Sequence[str]) -> int:
        """Remove ids (unknown ones are ignored); the number removed."""
        np = require("numpy")
        if self.kind in ("hnsw", "ivf") and any(i in self._pos for i in ids):
            # IVF: faiss's id map renumbers after a removal as if the inner index had compacted,
            # which an IVF index does not: later lookups would return other rows
            raise RuntimeError(
                f"an {self.kind.upper()} index cannot remove rows; rebuild it with index()"
            )
        if not any(i in self._pos for i in ids):
            return 0
        self._own()
        rows = [self._pos.pop(i) for i in ids if i in self._pos]
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

    def position(self, ident: str) -> int:
        """The row (faiss id) of ``ident``."""
        return self._pos[ident]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored (normalised) vectors of ``ids``."""
        np = require("numpy")
        if self._saved_rows is not None:
            return self._saved_rows[[self._pos[i] for i in ids]]  # a copy (fancy index)
        if self.kind == "hnsw":
            return np.stack([self._index.reconstruct(self._pos[i]) for i in ids])
        if self.kind == "ivf":
            # an IVF index finds a vector by id only through its direct map (made once; kept
            # up to date by later adds and removals)
            faiss = require("faiss")
            ivf = faiss.extract_index_ivf(self._index)
            if ivf.direct_map.type == faiss.DirectMap.NoMap:
                ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        return np.stack([self._index.reconstruct(self._pos[i]) for i in ids]).astype(np.float32)

    def all_vectors(self) -> np.ndarray:
        """Every row's vector, by row (a removed row's is zero), read from the index's own
        storage at once (``reconstruct_n``) rather than one id at a time."""
        np = require("numpy")
        faiss = require("faiss")
        if self._saved_rows is not None:  # the saved version's, mapped (shared by processes)
            return self._saved_rows
        out = np.zeros((len(self._ids), self.dim), dtype=np.float32)
        if not self._pos:
            return out
        if self.kind == "hnsw":  # no id map: faiss ids are the rows
            out[: self._index.ntotal] = self._index.reconstruct_n(0, self._index.ntotal)
            return out
        inner = faiss.downcast_index(self._index.index)
        rows = faiss.vector_to_array(self._index.id_map)
        # IndexFlat copies its storage; IndexIVF reads its inverted lists (no direct map needed)
        out[rows] = inner.reconstruct_n(0, inner.ntotal)
        return out

    def _search_params(self, rows: np.ndarray) -> tuple[Any, Any]:
        """faiss search parameters that keep only ``rows`` (and the bitmap they point into)."""
        np = require("numpy")
        faiss = require("faiss")
        mask = np.zeros(len(self._ids), dtype=bool)
        mask[rows] = True
        bits = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=self._index.hnsw.efSearch)
        elif self.kind == "ivf":
            nprobe = faiss.extract_index_ivf(self._index).nprobe
            params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=sel)
        return params, (bits, sel)

    def search(
        self, queries: np.ndarray, k: int = 10, *, rows: np.ndarray | None = None
    ) -> list[list[tuple[str, float]]]:
        """For each query vector, up to ``k`` ``(id, cosine)`` pairs, best first; with
        ``rows``, among those rows only (a faiss ID selector inside the search)."""
        if self.count == 0 or (rows is not None and len(rows) == 0):
            return [[] for _ in range(len(queries))]
        scores, found = self.search_rows(queries, k, rows=rows)
        out: list[list[tuple[str, float]]] = []
        for srow, rrow in zip(scores, found, strict=True):
            hits = []
            for sc, r in zip(srow, rrow, strict=True):
                if r < 0:
                    continue
                ident = self._ids[int(r)]
                if ident is not None:
                    hits.append((ident, float(sc)))
            out.append(hits)
        return out

    def search_rows(
        self, queries: np.ndarray, k: int = 10, *, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` as faiss answers it: ``(scores, rows)`` arrays of shape
        ``(len(queries), k')``, a row -1 where fewer were found (no string ids made: a
        server's search maps rows to its items with arrays)."""
        np = require("numpy")
        if self.count == 0 or (rows is not None and len(rows) == 0):
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        q = normalize_rows(queries)
        if rows is None:
            return self._index.search(q, min(k, self.count))
        params, keep = self._search_params(rows)
        scores, found = self._index.search(q, min(k, len(rows)), params=params)
        del keep  # the bitmap lives until the search has returned
        return scores, found

    # -- persistence -------------------------------------------------------------
    def save(
        self,
        directory: Path,
        meta: Mapping[str, Any] | None = None,
        *,
        rows: np.ndarray | None = None,
    ) -> str:
        """Write a new version under ``directory`` and publish it; its name.

        ``rows``: :meth:`all_vectors`, when the caller holds them already (not read from the
        index again). Everything is written and fsynced before ``CURRENT`` is replaced, so a
        crash leaves the previous version published. The previous version stays; older ones
        are pruned.
        """
        directory.mkdir(parents=True, exist_ok=True)
        versions = directory / VERSIONS_DIR
        versions.mkdir(exist_ok=True)
        if meta is not None:
            self.meta = dict(meta)
        version = new_version_name()
        config = {
            "format": FORMAT_VERSION,
            "version": version,
            "model_id": self.model_id,
            "dim": self.dim,
            "normalised": True,
            "metric": "inner_product",
            "kind": self.kind,
            "requested_kind": self.requested_kind,
            "count": self.count,
            "meta": self.meta,
        }
        partial = versions / f"{version}.partial"
        partial.mkdir()
        try:
            self._write_files(partial, config, rows)
            partial.rename(versions / version)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        _fsync_path(versions, directory=True)
        try:
            previous = _read_pointer(directory)
        except InconsistentIndexError:
            previous = None
        tmp = directory / f".{CURRENT_FILE}.{uuid.uuid4().hex}.tmp"
        try:
            _write_synced(tmp, version + "\n")
            os.replace(tmp, directory / CURRENT_FILE)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_path(directory, directory=True)
        self.version = version
        self._prune(directory, keep={version, previous})
        return version

    def _write_files(self, where: Path, config: dict[str, Any], rows: np.ndarray | None) -> None:
        """A version's files in ``where``, each fsynced, the folder too."""
        faiss = require("faiss")
        faiss.write_index(self._index, str(where / "index.faiss"))
        _fsync_path(where / "index.faiss")
        centroids = self.centroids()
        if centroids is not None:  # for the next rebuild (reusable_centroids)
            require("numpy").save(where / CENTROIDS_FILE, centroids)
            _fsync_path(where / CENTROIDS_FILE)
        every = self.all_vectors() if rows is None else rows  # float32, what load maps
        require("numpy").save(where / VECTORS_FILE, every.astype("float32", copy=False))
        _fsync_path(where / VECTORS_FILE)
        _write_synced(where / "ids.json", json.dumps(self._ids, ensure_ascii=False))
        _write_synced(where / "config.json", json.dumps(config, ensure_ascii=False, indent=2))
        _fsync_path(where, directory=True)

    @staticmethod
    def _prune(directory: Path, keep: set[str | None]) -> None:
        """Remove versions older than the kept ones, and the old flat layout's files.

        A version newer than the oldest kept one may be another writer's, about to be
        published: it stays. An unfinished ``.partial`` folder goes once it is old enough.
        """
        kept = sorted(k for k in keep if k)
        versions = directory / VERSIONS_DIR
        now = time.time()
        for entry in versions.iterdir():
            name = entry.name
            if name.endswith(".partial"):
                try:
                    stale = now - entry.stat().st_mtime > PARTIAL_GRACE_S
                except FileNotFoundError:
                    continue
                if stale:
                    shutil.rmtree(entry, ignore_errors=True)
            elif name not in kept and kept and name < kept[0]:
                shutil.rmtree(entry, ignore_errors=True)
        for flat in ("config.json", "index.faiss", "ids.json", "index.faiss.tmp"):
            (directory / flat).unlink(missing_ok=True)

    @staticmethod
    def current_version(directory: Path) -> str | None:
        """The published version's name (reads the pointer only); None for the old flat
        layout or no index."""
        return _read_pointer(directory)

    @staticmethod
    def _version_dir(directory: Path, version: str | None) -> Path:
        return directory if version is None else directory / VERSIONS_DIR / version

    @classmethod
    def _resolve(cls, directory: Path, version: str | None) -> tuple[str | None, Path]:
        """(version, folder holding config.json) for ``version`` or the published one."""
        if version is None:
            version = _read_pointer(directory)
        if version is None:
            if not (directory / "config.json").is_file():
                raise FileNotFoundError(f"no embedding index at {directory}")
            return None, directory
        where = cls._version_dir(directory, version)
        if not (where / "config.json").is_file():
            raise VersionGoneError(f"no version {version} of the embedding index at {directory}")
        return version, where

    @classmethod
    def _read_config_at(cls, where: Path, version: str | None) -> dict[str, Any]:
        path = where / "config.json"
        try:
            config = json.loads(path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise VersionGoneError(f"{path} vanished while reading") from exc
        except json.JSONDecodeError as exc:
            raise InconsistentIndexError(
                f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); rebuild the index"
            ) from exc
        if version is not None and config.get("version") != version:
            raise InconsistentIndexError(
                f"{path}: says version {config.get('version')!r}, expected {version!r} "
                "(its folder name); rebuild the index"
            )
        return config

    @classmethod
    def read_config(cls, directory: Path, *, version: str | None = None) -> dict[str, Any]:
        """The config of ``version`` (default: the published one), with its ``version`` (None
        for the old flat layout)."""
        for attempt in range(LOAD_ATTEMPTS):
            v, where = cls._resolve(directory, version)
            try:
                config = cls._read_config_at(where, v)
            except VersionGoneError:
                if version is not None or attempt == LOAD_ATTEMPTS - 1:
                    raise
                continue
            config["version"] = v
            return config
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def load(
        cls, directory: Path, *, model_id: str | None = None, version: str | None = None
    ) -> FaissIndex:
        """Load ``version`` (default: the one ``CURRENT`` names); refuse one built with another
        model than ``model_id`` and one whose files disagree.

        When the published version is pruned while it is read (two newer saves meanwhile),
        ``CURRENT`` is followed again.
        """
        for attempt in range(LOAD_ATTEMPTS):
            v, where = cls._resolve(directory, version)
            try:
                return cls._load_version(directory, where, v, model_id)
            except VersionGoneError:
                if version is not None or attempt == LOAD_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _load_version(
        cls, directory: Path, where: Path, version: str | None, model_id: str | None
    ) -> FaissIndex:
        faiss = require("faiss")
        config = cls._read_config_at(where, version)
        label = f"{directory}" + (f" (version {version})" if version else "")
        if config.get("format") != FORMAT_VERSION:
            raise IndexFormatError(
                f"index at {label} has format {config.get('format')}; rebuild it"
            )
        if model_id is not None and config["model_id"] != model_id:
            raise ModelMismatchError(
                f"the index at {label} was built with model {config['model_id']!r}, "
                f"not {model_id!r}; rebuild it (ikg build, or delete the folder)"
            )
        self = cls(int(config["dim"]), model_id=config["model_id"], kind=config["requested_kind"])
        self.kind = config["kind"]
        self.meta = dict(config.get("meta", {}))
        self.version = version
        faiss_path = where / "index.faiss"
        if not faiss_path.is_file():
            raise VersionGoneError(f"{faiss_path} is missing")
        try:
            # mapped, not read: the file cache's pages, shared by the processes serving it
            # (a faiss without the flag reads the file, as before)
            flag = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)
            self._index = faiss.read_index(str(faiss_path), flag)
            self._mapped = bool(flag)
        except RuntimeError as exc:
            if not faiss_path.is_file():
                raise VersionGoneError(f"{faiss_path} vanished while reading") from exc
            raise InconsistentIndexError(f"{faiss_path}: unreadable ({exc}); rebuild it") from exc
        try:
            self._ids = json.loads((where / "ids.json").read_text("utf-8"))
        except FileNotFoundError as exc:
            raise VersionGoneError(f"{where / 'ids.json'} is missing") from exc
        except json.JSONDecodeError as exc:
            raise InconsistentIndexError(
                f"{where / 'ids.json'}: not valid JSON (line {exc.lineno}: {exc.msg}); rebuild it"
            ) from exc
        self._pos = {i: n for n, i in enumerate(self._ids) if i is not None}
        rows = len(self._ids) if self.kind == "hnsw" else len(self._pos)
        problems = []
        if len(self._pos) != config["count"]:
            problems.append(f"{len(self._pos)} ids but count {config['count']} in config.json")
        if self._index.ntotal != rows:
            problems.append(f"{self._index.ntotal} vectors in index.faiss for {rows} id rows")
        if self._index.d != self.dim:
            problems.append(f"dimension {self._index.d} in index.faiss, {self.dim} in config")
        if problems:
            raise InconsistentIndexError(
                f"index at {label} is inconsistent: {'; '.join(problems)}; rebuild it"
            )
        self._saved_rows = _mapped_rows(where / VECTORS_FILE, (len(self._ids), self.dim))
        self._mapped_files = [faiss_path] + (
            [where / VECTORS_FILE] if self._saved_rows is not None else []
        )
        return self

    def prefetch(self, chunk: int = 1 << 24) -> int:
        """Read the mapped files through once, so that the first searches find their pages in
        the file cache instead of waiting for the disk (a map is read lazily: the first 50
        searches of a 100k index just mapped took 44 ms each when its file was not cached,
        0.8 ms after), then touch every page of both maps, so that no request pays for
        mapping them into this process either; the bytes read. What a server's warm-up
        does."""
        np = require("numpy")
        done = 0
        for path in self._mapped_files:
            try:
                with path.open("rb", buffering=0) as f:
                    while block := f.read(chunk):
                        done += len(block)
            except OSError:  # a pruned version's file: the map still holds its pages
                continue
        if self._saved_rows is not None:  # one value of each 4 KiB page
            float(np.add.reduce(self._saved_rows.reshape(-1)[::1024], dtype=np.float64))
        if self._mapped and self.count and self.kind in ("flat", "ivf"):
            self._scan_all()
        return done

    def _scan_all(self) -> None:
        """One search that reads every stored vector (an IVF index probing all its lists)."""
        np = require("numpy")
        faiss = require("faiss")
        q = np.zeros((1, self.dim), dtype=np.float32)
        if self.kind == "ivf":
            nlist = faiss.extract_index_ivf(self._index).nlist
            self._index.search(q, 1, params=faiss.SearchParametersIVF(nprobe=nlist))
        else:
            self._index.search(q, 1)
