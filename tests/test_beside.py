"""The helper thread a server's search runs its lexical side in (``embeddings/beside.py``)."""

from __future__ import annotations

import threading

import pytest

from embeddings.beside import Beside


def test_a_call_runs_in_the_helper_and_frees_it() -> None:
    beside = Beside()
    threads = threading.active_count()
    job = beside.start(lambda: threading.current_thread().name)
    assert job is not None
    assert job.result() == "ikg-search-beside" != threading.current_thread().name
    job.close()
    job.close()  # again: harmless
    again = beside.start(lambda: 42)
    assert again is not None and again.result() == 42
    again.close()
    beside.close()  # the thread ends: no thread left behind (kg.processes forks only alone)
    assert threading.active_count() == threads
    restarted = beside.start(lambda: "again")
    assert restarted is not None and restarted.result() == "again"
    restarted.close()
    beside.close()
    assert threading.active_count() == threads


def test_a_busy_helper_declines_and_an_error_reaches_the_caller() -> None:
    beside = Beside()
    go = threading.Event()
    first = beside.start(lambda: go.wait(10))
    assert first is not None
    assert beside.start(lambda: 1) is None  # busy: the caller scores the names itself
    go.set()
    assert first.result() is True
    first.close()

    def fails() -> None:
        raise ValueError("faiss said no")

    job = beside.start(fails)
    assert job is not None
    with pytest.raises(ValueError, match="faiss said no"):
        job.result()
    job.close()
    after = beside.start(lambda: "free again")
    assert after is not None and after.result() == "free again"
    after.close()
    beside.close()
