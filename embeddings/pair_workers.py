"""Scoring many candidate pairs in worker processes forked from this one.

A sweep over a large graph scores millions of candidate pairs (about 4,400 a second on one
core at 100k indicators; at 1M two workers scored 12,500–13,500 a second and the whole link
step took 46 minutes, docs/scaling.md). A pair's score depends only on the index, so the
pairs are cut into slices and each slice is scored in a worker forked from the process that
holds the index: the workers read the index and the pairs the parent already has (nothing
is pickled but the slice bounds and the results), and the results come back in slice order,
so the caller sees exactly what one process would have computed.

Workers are forked only where that is safe (:func:`kg.processes.can_fork`: a platform with
``fork``, a process that runs no other Python thread).
Elsewhere, for few pairs, or with one worker, the slices are scored here, in order. A
worker that dies (killed for memory) fails the sweep with ``BrokenProcessPool``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from kg.processes import can_fork

if TYPE_CHECKING:
    from .index import IndicatorIndex

#: fewer pairs than this are scored in this process (forking costs more than it saves)
PARALLEL_MIN = 200_000

#: what the forked workers read: the index and the pairs (set only while a pool runs)
_SHARED: tuple[Any, Sequence[tuple[int, int]]] | None = None

Slice = tuple[int, int]
ChunkFn = Callable[["IndicatorIndex", Sequence[tuple[int, int]]], Any]


def scored_slices(
    index: IndicatorIndex,
    pairs: Sequence[tuple[int, int]],
    fn: ChunkFn,
    *,
    batch: int,
    workers: int = 1,
) -> Iterator[tuple[Slice, Any]]:
    """``fn(index, pairs[start:stop])`` for consecutive slices of ``batch`` pairs, in order,
    each with its ``(start, stop)``; in ``workers`` forked processes when there are at least
    :data:`PARALLEL_MIN` pairs and forking is safe (:func:`kg.processes.can_fork`). ``fn`` must be a
    module-level function (or a ``functools.partial`` of one): it is sent by name."""
    slices = [(s, min(s + batch, len(pairs))) for s in range(0, len(pairs), batch)]
    if workers <= 1 or len(pairs) < PARALLEL_MIN or len(slices) < 2 or not can_fork():
        for s, e in slices:
            yield (s, e), fn(index, pairs[s:e])
        return
    global _SHARED
    _SHARED = (index, pairs)
    try:
        # a worker that dies (killed for memory) fails the sweep (BrokenProcessPool) instead
        # of leaving its slice unanswered, as multiprocessing.Pool would
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(slices)), mp_context=ctx) as pool:
            tasks = [(fn, s, e) for s, e in slices]
            yield from zip(slices, pool.map(_run_slice, tasks), strict=True)
    finally:
        _SHARED = None


def _run_slice(task: tuple[ChunkFn, int, int]) -> Any:
    """In a worker: ``fn`` over its slice of the pairs the parent held when it forked."""
    fn, start, stop = task
    assert _SHARED is not None, "scored_slices: the worker was not forked from the pool's parent"
    index, pairs = _SHARED
    return fn(index, pairs[start:stop])
