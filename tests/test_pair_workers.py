"""Pairs scored in forked workers (embeddings/pair_workers.py) give what one process gives.

A duplicate sweep over synthetic indicators (hash encoder, names mixing real heads and
tails, copies across departments) is run with one process and with two workers forced on
small slices: the same pairs, scores, bands, listing and clusters. The workers really are
other processes, results come back in slice order, and a process running another thread
scores in place.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

from embeddings import duplicates, pair_workers
from embeddings.duplicates import find_duplicates
from embeddings.encoders import HashingEncoder
from embeddings.index import IndicatorIndex
from embeddings.pair_workers import scored_slices
from embeddings.text import IndicatorText
from kg.processes import can_fork

HEADS = ["培训", "慰问金发放", "离休干部", "农村道路", "学校", "医疗救助", "垃圾分类", "档案"]
TAILS = ["人次", "覆盖率", "满意度", "完成率", "及时率", "数量", "合格率", "户数"]


def _items(n: int) -> list[IndicatorText]:
    rng = random.Random(11)
    return [
        IndicatorText(
            id=f"urn:x:{i}",
            name=rng.choice(HEADS) + rng.choice(TAILS),
            department=f"合成部门{i % 41:02d}",
            year=2021 + i % 3,
            table=f"t{i % 60}",
            level2=rng.choice(["数量指标", "质量指标", "满意度指标"]),
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def index() -> IndicatorIndex:
    return _index()


def _index() -> IndicatorIndex:
    return IndicatorIndex.build(_items(1_500), HashingEncoder(64), kind="flat")


def _fingerprint(report: duplicates.DuplicateReport) -> tuple:
    pairs = [(p.a.id, p.b.id, p.score.score, p.score.band, p.label) for p in report.pairs]
    clusters = [(sorted(m.id for m in c.members), c.min_similarity) for c in report.clusters]
    return pairs, clusters, report.pairs_total, report.listed_per_indicator


def _in_fresh_process(fn, *args):  # type: ignore[no-untyped-def]
    """``fn(*args)`` in a spawned interpreter: no thread of the test run (a server, a pool)
    is running there, so the sweep may fork as ``ikg build`` does."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:  # not daemonic: it may fork
        return pool.submit(fn, *args).result(timeout=600)


def _sweeps(per: int | None) -> tuple[bool, tuple, tuple]:
    """In a fresh process: whether it may fork, then one sweep with one process and one
    with two workers forced on small slices (many slices, one cut mid-group)."""
    index = _index()
    t = index.profile.t_review
    one = find_duplicates(index, threshold=t, list_per_indicator=per)
    index.__dict__.pop("_score_cache", None)  # nothing cached by the first sweep
    pair_workers.PARALLEL_MIN = 0
    duplicates.SCORE_BATCH = 997
    if per is None:  # the listing of every passing pair, built from the workers' scores
        duplicates.LISTED_PAIRS_MAX = 10**9
    two = find_duplicates(index, threshold=t, list_per_indicator=per, workers=2)
    return can_fork(), _fingerprint(one), _fingerprint(two)


@pytest.mark.parametrize("per", [pytest.param(None, marks=pytest.mark.slow), 2])
def test_two_workers_sweep_as_one_process(per: int | None) -> None:
    forked, one, two = _in_fresh_process(_sweeps, per)
    assert forked  # the two-worker sweep did fork
    assert one[0] and one[1]  # pairs and clusters
    assert two == one


def _pid_and_scores(index: IndicatorIndex, chunk) -> tuple[int, list[float]]:  # type: ignore[no-untyped-def]
    return os.getpid(), [ps.score for ps in index.pairs(chunk)]


def _slices() -> tuple[int, list, list[float]]:
    """In a fresh process: its pid, the slices scored by two workers, the scores in order."""
    index = _index()
    pair_workers.PARALLEL_MIN = 0
    pairs = sorted(index.candidate_pairs(5))[:3_000]
    got = list(scored_slices(index, pairs, _pid_and_scores, batch=400, workers=2))
    return os.getpid(), got, [ps.score for ps in index.pairs(pairs)]


def test_slices_run_in_other_processes_in_order() -> None:
    parent, got, scores = _in_fresh_process(_slices)
    assert [s for s, _ in got] == [(s, min(s + 400, 3_000)) for s in range(0, 3_000, 400)]
    pids = {pid for _, (pid, _) in got}
    assert parent not in pids and len(pids) >= 1  # scored in the forked workers
    assert [x for _, (_, xs) in got for x in xs] == scores


def _dies(index: IndicatorIndex, chunk) -> None:  # type: ignore[no-untyped-def]
    os._exit(3)  # as a worker killed for memory


def _sweep_with_a_dead_worker() -> str:
    """In a fresh process: what a sweep raises when a worker dies."""
    index = _index()
    pair_workers.PARALLEL_MIN = 0
    pairs = sorted(index.candidate_pairs(5))[:2_000]
    try:
        list(scored_slices(index, pairs, _dies, batch=500, workers=2))
    except Exception as exc:  # the test reads its class
        return type(exc).__name__
    return "nothing"


def test_a_dead_worker_fails_the_sweep_instead_of_hanging() -> None:
    assert _in_fresh_process(_sweep_with_a_dead_worker) == "BrokenProcessPool"


def test_a_process_running_another_thread_scores_in_place(
    index: IndicatorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pair_workers, "PARALLEL_MIN", 0)
    pairs = sorted(index.candidate_pairs(5))[:1_000]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        got = list(scored_slices(index, pairs, _pid_and_scores, batch=300, workers=2))
    finally:
        stop.set()
        other.join()
    assert {pid for _, (pid, _) in got} == {os.getpid()}
    assert [x for _, (_, xs) in got for x in xs] == [ps.score for ps in index.pairs(pairs)]
