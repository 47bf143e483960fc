"""How the project starts worker processes (the build's pool, jieba's word cutting ahead).

Forked from this process when it runs no other thread (nothing to start, nothing to import
again); else forked from a fork server, so that no lock another thread holds is inherited
mid-use; spawned where neither exists.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from typing import Any


def pool_context(preload: Sequence[str] = ()) -> Any:
    """The multiprocessing context for a pool; ``preload``: modules a fork server imports
    once for all its children."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        if preload:
            ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - not on Linux
