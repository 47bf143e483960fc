"""A search's lexical half in a helper thread while the calling thread runs FAISS.

FAISS releases the GIL while it searches, and a search's lexical side (the TF-IDF cosines of
the names, the top of them) is numpy work of about as long, so the two can run side by side
on two cores. A server turns this on for its index (``api_search_beside``); a batch job does
not need it.

The helper is one thread per :class:`Beside`; a server makes one per worker process and hands
it to each index version it serves. A search hands the helper its lexical side and calls FAISS
itself at once: FAISS lets go of the GIL as it starts, so the helper, waking meanwhile, finds
the GIL free, and the caller waits for nobody before its FAISS search (the other way round, a
search waited 0.15-0.18 ms at 100k for the helper to wake and enter FAISS, every time). When
FAISS is done the caller takes the lexical side's answer (waiting for it, or for the GIL,
only as long as the helper is still at it). While another search uses the helper, a search
scores the names itself, as without it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from .threads import limit_this_thread


class Job:
    """A call handed to the helper: :meth:`result` waits for it, :meth:`close` frees the
    helper for the next search (after the call has ended; again is harmless)."""

    __slots__ = ("_release", "call", "done", "error", "value")

    def __init__(self, call: Callable[[], Any], release: Callable[[], None]) -> None:
        self.call = call
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self._release: Callable[[], None] | None = release

    def result(self) -> Any:
        """The call's return value (its exception raised here)."""
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value

    def close(self) -> None:
        self.done.wait()
        release, self._release = self._release, None
        if release is not None:
            release()


class Beside:
    """Runs one call at a time in a helper thread, beside the caller (see the module doc)."""

    def __init__(self, name: str = "ikg-search-beside") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._free = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self, call: Callable[[], Any]) -> Job | None:
        """``call`` handed to the helper thread, which runs it as soon as it has woken and
        has the GIL (None: the helper is busy with another search's; the caller then calls
        it itself). The caller closes the job."""
        if not self._free.acquire(blocking=False):
            return None
        job = Job(call, self._free.release)
        try:
            self._ensure_thread()
            self._jobs.put(job)
        except BaseException:
            job.done.set()
            job.close()
            raise
        return job

    def close(self) -> None:
        """End the helper thread (a later :meth:`start` starts another): a process that
        forks its workers only while it runs one thread (``kg.processes``) counts it."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            thread.join()

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        limit_this_thread()  # the numeric pools' cap is per thread
        while True:
            job = self._jobs.get()
            if job is None:  # close()
                return
            try:
                job.value = job.call()
            except BaseException as exc:  # handed to the waiting search
                job.error = exc
            finally:
                job.done.set()
