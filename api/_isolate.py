"""Run one piece of untrusted work (parsing and evaluating a SPARQL query) in a child process.

pyoxigraph cannot cancel a query, and a query it cannot handle can kill its process (a
stack overflow is a segfault, not an exception). So the API evaluates each query in a child
made with ``os.fork()`` for that query alone:

* the child shares the parent's store by copy-on-write: the in-memory copy
  (``IKG_STORE_IN_MEMORY``) is not copied, and the child sees the store as it is when the
  query starts (updates included);
* the parent waits for the answer until the deadline, then kills the child (``SIGKILL``)
  and reaps it: a timed-out query stops at once and frees its slot;
* a child that dies (a segfault, the OOM killer, which is asked to prefer it) is reported as
  :class:`ChildCrashed`; the API process is untouched;
* the child dies with the thread that waits for it (``PR_SET_PDEATHSIG``), so nothing
  outlives the API;
* where the kernel allows it, the child first moves to a user and network namespace of its
  own, with no network interface but loopback down: even a ``SERVICE`` that got past the
  parser check could not reach anything (``network=False``).

Messages between the two are length-prefixed pickles over a socket pair. The child may call
back into the parent (``handlers``): the SPARQL function ``ikg:textSimilarity`` gets its
scores from the parent, which holds the embedding index.

Costs, measured on the project's 2-core machine: ``fork`` + exit of a process holding ~35 MB
is under 2 ms, ~45 ms at 1 GB (page tables are copied, not pages); a network namespace adds
~5 ms per query.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pickle
import select
import signal
import socket
import struct
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from kg import sparql_guard
from kg.errors import IkgError

log = logging.getLogger(__name__)

#: stack of the thread that evaluates in the child: pyoxigraph evaluates recursively, and a
#: large stack keeps the depth and size limits far below where it would overflow
CHILD_STACK_BYTES = 256 * 2**20
_HEADER = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


class ChildTimedOut(IkgError):
    """The child did not answer before the deadline; it was killed."""


class ChildCrashed(IkgError):
    """The child died without answering (a signal or an exit code)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class Channel:
    """The child's end: send the answer, or call a handler of the parent and wait."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.failure: BaseException | None = None  # a handler's error, reported in the end

    def send(self, message: Any) -> None:
        _send(self.sock, message)

    def call(self, name: str, arg: Any) -> Any:
        _send(self.sock, ("call", name, arg))
        kind, value = _recv(self.sock)
        if kind == "error":
            self.failure = value
            raise value
        return value


def _send(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> Any:
    (size,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    return pickle.loads(_recv_exactly(sock, size))


def _picklable(exc: BaseException) -> BaseException:
    exc.__traceback__ = None
    exc.__context__ = exc.__cause__ = None
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # anything that does not survive the trip
        return RuntimeError(f"{type(exc).__name__}: {exc}")


_libc = ctypes.CDLL(None, use_errno=True)
#: held from a socket pair's creation until the child's end is closed in the parent, so that
#: no other child inherits that end (its copy would hide the first child's death); the
#: parents' ends open at a fork are closed in the child
_fork_lock = threading.Lock()
_parent_ends: set[int] = set()


def _libc_call(name: str, *args: int) -> int:
    return int(getattr(_libc, name)(*args))


def _isolate_network() -> bool:
    """Move this (single-threaded) process to a new user + network namespace."""
    try:
        return _libc_call("unshare", _CLONE_NEWUSER | _CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def _child(
    sock: socket.socket, target: Callable[[Channel], Any], network: bool, parent: int
) -> None:
    """The child's whole life: never returns, never runs the parent's cleanup."""
    code = 0
    try:
        for fd in _parent_ends:  # other queries' ends, inherited
            with contextlib.suppress(OSError):
                os.close(fd)
        _libc_call("prctl", _PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(code)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:  # the OOM killer takes us first
                f.write("1000")
        except OSError:
            pass
        isolated = False if network else _isolate_network()
        channel = Channel(sock)
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                sparql_guard.on_large_stack()  # parse here: no thread of its own needed
                box["value"] = target(channel)
            except BaseException as exc:  # sent to the parent
                box["error"] = exc

        threading.stack_size(CHILD_STACK_BYTES)
        thread = threading.Thread(target=run, name="sparql-eval")
        thread.start()
        thread.join()
        if "error" in box:
            error = channel.failure or box["error"]
            channel.send(("raise", _picklable(error), isolated))
        else:
            channel.send(("ok", box["value"], isolated))
    except BaseException:  # the parent sees EOF and reports a crash
        code = 70
    finally:
        os._exit(code)


_warned_network = False


def run_in_child(
    target: Callable[[Channel], Any],
    *,
    deadline: float,
    handlers: dict[str, Callable[[Any], Any]] | None = None,
    network: bool = True,
) -> Any:
    """``target(channel)`` in a forked child; its value, or its exception re-raised here.

    ``deadline`` is a ``time.monotonic()`` value: past it the child is killed and
    :class:`ChildTimedOut` raised. ``network=False`` cuts the child off the network where
    the kernel allows it. Blocks: call it from a worker thread.
    """
    if deadline <= time.monotonic():
        raise ChildTimedOut
    child = _ForkedChild(target, network)
    try:
        kind, value, isolated = child.answer(deadline, handlers or {})
    finally:
        child.close()
    if not network and not isolated:
        _warn_network()
    if kind == "raise":
        raise value
    return value


def _warn_network() -> None:
    """Log once that the queries run with network access (no namespace for the child)."""
    global _warned_network
    if not _warned_network:
        _warned_network = True
        log.warning(
            "SPARQL queries run with network access: this kernel does not let the "
            "query process make a user and network namespace (IKG_SPARQL_ISOLATE_NETWORK)"
        )


class _ForkedChild:
    """A child forked to run ``target``, and the parent's end of the socket to it."""

    def __init__(self, target: Callable[[Channel], Any], network: bool) -> None:
        parent = os.getpid()
        with _fork_lock:
            parent_sock, child_sock = socket.socketpair()
            with warnings.catch_warnings():  # Python 3.12+: "fork() of a multi-threaded process"
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
                parent_sock.close()
                _child(child_sock, target, network, parent)
            child_sock.close()
            _parent_ends.add(parent_sock.fileno())
        self.pid = pid
        self.sock = parent_sock
        self.reaped = self.answered = False

    def answer(
        self, deadline: float, handlers: dict[str, Callable[[Any], Any]]
    ) -> tuple[str, Any, bool]:
        """The child's last message (kind ``ok`` or ``raise``, value, isolated), serving its
        calls to ``handlers`` meanwhile; :class:`ChildTimedOut` past ``deadline``,
        :class:`ChildCrashed` when it dies without one."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildTimedOut
            if not poller.poll(remaining * 1000):
                continue
            try:
                message = _recv(self.sock)
            except (EOFError, ConnectionError):
                status = _reap_dead(self.pid)
                self.reaped = True
                raise ChildCrashed(_describe(status)) from None
            kind = message[0]
            if kind == "call":
                _, name, arg = message
                try:
                    reply: tuple[str, Any] = ("reply", handlers[name](arg))
                except Exception as exc:  # handed to the child
                    reply = ("error", _picklable(exc))
                _send(self.sock, reply)
                continue
            _, value, isolated = message
            self.answered = True  # the child is exiting: reaped in the background
            return kind, value, isolated

    def close(self) -> None:
        """Close the socket; reap an answered child in the background, kill any other."""
        with _fork_lock:
            _parent_ends.discard(self.sock.fileno())
            self.sock.close()
        if self.answered:
            threading.Thread(
                target=_kill, args=(self.pid,), name="sparql-reap", daemon=True
            ).start()
        elif not self.reaped:
            _kill(self.pid)  # timed out (or failed here): gone before the slot is freed


def _reap_dead(pid: int) -> int:
    """The exit status of a child that closed its end: it is dying; killed if it lingers."""
    for _ in range(100):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # a zombie until reaped: cannot be reused
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by signal {sig} ({name})"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"
