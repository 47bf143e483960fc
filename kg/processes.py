"""How the project starts worker processes, and how many (the build's pool, jieba's word cutting
ahead, the link step's pair scorers in ``embeddings.pair_workers``).

Forked from this process when it runs no other thread (nothing to start, nothing to import
again); else forked from a fork server, so that no lock another thread holds is inherited
mid-use; spawned where neither exists.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from typing import Any

from .settings import default_settings


def worker_count(workers: int | None = None) -> int:
    """Worker processes: ``workers``, or the ``build_workers`` setting; 0 = one per CPU."""
    n = default_settings().build_workers if workers is None else workers
    if n > 0:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether children may be forked from this process now: the platform has ``fork`` and
    no other Python thread runs (a lock another thread holds would be inherited held)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def pool_context(preload: Sequence[str] = ()) -> Any:
    """The multiprocessing context for a pool; ``preload``: modules a fork server imports
    once for all its children."""
    methods = multiprocessing.get_all_start_methods()
    if can_fork():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        if preload:
            ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - not on Linux
