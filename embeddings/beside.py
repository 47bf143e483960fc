"""A search's FAISS half in a helper thread while the calling thread scores the lexical half.

FAISS releases the GIL while it searches, and a search's lexical side (the TF-IDF cosines of
the names, the top of them) is numpy work of about as long, so the two can run side by side
on two cores. A server turns this on for its index (``api_search_beside``); a batch job does
not need it.

The helper is one thread per :class:`Beside`; a server makes one per worker process and hands
it to each index version it serves. A search hands it its FAISS call and waits until the
helper has started it, so that the helper holds the GIL only for the call's Python prelude
(else the calling thread, busy with the lexical side, could keep it for the interpreter's
switch interval, 5 ms); then the calling thread scores the lexical side and waits for FAISS's
answer. While another search uses the helper, a search calls FAISS itself, as without it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from .threads import limit_this_thread


class Job:
    """A call started in the helper: :meth:`result` waits for it, :meth:`close` frees the
    helper for the next search (after the call has ended; again is harmless)."""

    __slots__ = ("_release", "call", "done", "error", "started", "value")

    def __init__(self, call: Callable[[], Any], release: Callable[[], None]) -> None:
        self.call = call
        self.started = threading.Event()
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
        """``call`` started in the helper thread (None: the helper is busy with another
        search's; the caller then calls it itself). The caller closes the job."""
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
        job.started.wait()
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
            job.started.set()
            try:
                job.value = job.call()
            except BaseException as exc:  # handed to the waiting search
                job.error = exc
            finally:
                job.done.set()
