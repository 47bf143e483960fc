"""The four query engines, the worker that times the README queries on one of them, and the
driver that runs the worker in a subprocess and enforces the cap from outside."""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .answers import digest, norm_json, norm_ox, norm_rdflib
from .machine import OXIGRAPH, child_env, mem_total_gb, readme_queries, rss_guard, self_command, vm

#: run(q): the answer's rows as the engine's own terms (timed); norm(rows): the same rows
#: as comparable strings (not timed: the same Python work for every engine)
Run = Callable[[str], list[tuple]]
Norm = Callable[[list[tuple]], list[tuple[str, ...]]]


class _Cap(Exception):
    pass


def _alarm(signum, frame):
    raise _Cap


# --------------------------------------------------------------------------- engines
def rdflib_graph(nq: Path):  # type: ignore[no-untyped-def]
    """All quads of ``nq`` as one rdflib ``Graph`` (default in-memory store): the union the
    queries see. Parsed with pyoxigraph (faster than rdflib's N-Quads parser; the store and
    the query engine are rdflib's), each distinct term made once and shared: 0.7 KB per
    triple instead of 1.7 KB for a ``Dataset`` parsed by rdflib, so 1M indicators fit in 24 GB.
    """
    import gc

    import pyoxigraph as ox
    from rdflib import Graph

    from kg.store import to_rdflib

    terms: dict = {}

    def term(t):  # type: ignore[no-untyped-def]
        v = terms.get(t)
        if v is None:
            v = terms[t] = to_rdflib(t)
        return v

    g = Graph()
    add = g.store.add
    for q in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS):
        add((term(q.subject), term(q.predicate), term(q.object)), g)
    terms.clear()
    gc.collect()
    return g


def memory_store_from_nquads(nq: Path):  # type: ignore[no-untyped-def]
    """pyoxigraph's in-memory store (a :class:`kg.store.GraphStore`, the kind the API copies
    the store into) bulk-loaded from ``nq``: ``--memory-from nquads``."""
    import pyoxigraph as ox

    from kg.store import GraphStore

    store = GraphStore(None)
    store.ox.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    return store


def ox_rows(store, q: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """A pyoxigraph query's rows as the engine's own terms (a solution iterates its values in
    the order of the query's variables): what a timed run reads."""
    return [tuple(sol) for sol in store.query(q)]


def rdflib_rows(g, q: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """An rdflib query's rows as its own terms: what a timed run reads."""
    return [tuple(row) for row in g.query(q)]


def _oxigraph_fns(engine: str, where: str) -> tuple[Run, Norm]:
    from kg.store import GraphStore

    if engine == "memory" and where.endswith(".nq"):  # --memory-from nquads
        store = memory_store_from_nquads(Path(where))
    else:
        store = GraphStore(Path(where), read_only=True, in_memory=engine == "memory")
    return (
        lambda q: ox_rows(store, q),
        lambda rows: [tuple(norm_ox(t) for t in r) for r in rows],
    )


def _rdflib_fns(where: str, prefixes: str) -> tuple[Run, Norm]:
    rss_guard(0.92 * mem_total_gb() * 1024, ["loading rdflib"])
    g = rdflib_graph(Path(where))
    return (
        lambda q: rdflib_rows(g, prefixes + q),
        lambda rows: [tuple(norm_rdflib(t) for t in r) for r in rows],
    )


def _server_fns(where: str, prefixes: str, cap: int) -> tuple[Run, Norm]:
    def run(q: str) -> list[tuple]:
        body = urllib.parse.urlencode({"query": prefixes + q}).encode()
        req = urllib.request.Request(
            where + "/query",
            data=body,
            headers={
                "Accept": "application/sparql-results+json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=cap + 30) as resp:
                data = json.load(resp)
        except (urllib.error.HTTPError, json.JSONDecodeError, OSError) as e:
            # the server's --timeout-s: an error status, or (once results are
            # streaming) a cut-off body
            raise _Cap from e
        vs = data["head"]["vars"]
        return [tuple(b.get(v) for v in vs) for b in data["results"]["bindings"]]

    return run, lambda rows: [tuple(norm_json(c) for c in r) for r in rows]


def engine_fns(engine: str, where: str, cap: int, prefixes: str) -> tuple[Run, Norm]:
    """The (run, norm) pair of one engine, opened (loaded) on ``where``."""
    if engine in ("pyoxigraph", "memory"):
        return _oxigraph_fns(engine, where)
    if engine == "rdflib":
        return _rdflib_fns(where, prefixes)
    return _server_fns(where, prefixes, cap)


# --------------------------------------------------------------------------- worker
def _emit(**kw) -> None:
    print(json.dumps(kw), flush=True)


def _time_query(run: Run, qid: str, q: str, runs: int, cap: int, python_cap: bool):
    """Up to ``runs`` timed runs of one query (fewer once 20 s are spent); its rows, or None
    when it was stopped at the cap."""
    rows: list[tuple] | None = []
    spent = 0.0
    for r in range(runs):
        _emit(qid=qid, start=r)
        if python_cap:
            signal.signal(signal.SIGALRM, _alarm)
            signal.alarm(cap)
        t = time.perf_counter()
        try:
            rows = run(q)
        except _Cap:
            _emit(qid=qid, capped=True)
            return None
        finally:
            if python_cap:
                signal.alarm(0)
        s = time.perf_counter() - t
        spent += s
        _emit(qid=qid, run=r, s=s)
        if spent > 20 and r >= 0:  # slow: fewer runs say enough
            break
    return rows


def worker(engine: str, where: str, runs: int, cap: int, skip: int) -> None:
    """Run the README queries on one engine; one JSON line per run and per query."""
    from kg.namespaces import sparql_prefixes

    t0 = time.perf_counter()
    run, norm = engine_fns(engine, where, cap, sparql_prefixes())
    _emit(ready=round(time.perf_counter() - t0, 2), rss_mb=round(vm("VmRSS"), 1))
    for n, (qid, q) in enumerate(readme_queries().items()):
        if n < skip:
            continue
        rows = _time_query(run, qid, q, runs, cap, engine == "rdflib")
        if rows is not None:
            _emit(qid=qid, rows=len(rows), digest=digest(norm(rows)))
    _emit(done=True, peak_rss_mb=round(vm("VmHWM"), 1))


# --------------------------------------------------------------------------- driver
def _take(out: dict, msg: dict, current: str | None) -> str | None:
    """One worker message into ``out``; the query now running."""
    if "ready" in msg:
        out.setdefault("ready_s", msg["ready"])
        out.setdefault("rss_after_load_mb", msg["rss_mb"])
    elif "done" in msg:
        out["peak_rss_mb"] = max(out.get("peak_rss_mb", 0), msg["peak_rss_mb"])
    else:
        current = msg["qid"]
        q = out["queries"].setdefault(current, {"times": []})
        if "s" in msg:
            q["times"].append(msg["s"])
        elif msg.get("capped"):
            q["capped"] = True
        elif "rows" in msg:
            q.update(rows=msg["rows"], digest=msg["digest"])
    return current


def _follow(proc, engine: str, out: dict, qids: list[str], skip: int, cap: int, timeout: float):
    """Read one worker to its end (or stop it at the cap); the index of the next query to run."""
    import select

    current = None
    while True:
        r, _, _ = select.select([proc.stdout], [], [], timeout)
        if not r:  # over the cap: stop it, note it, go on after it
            proc.kill()
            proc.wait()
            if current is None:  # stalled before its first query
                current = qids[skip]
            out["queries"].setdefault(current, {})["capped"] = True
            print(f"  {engine}: {current} stopped at the cap", file=sys.stderr, flush=True)
            return qids.index(current) + 1
        line = proc.stdout.readline()
        if not line:
            proc.wait()
            if current is not None and "rows" not in out["queries"].get(current, {}):
                # reported, and the queries after it still run
                out["queries"].setdefault(current, {})["error"] = (
                    f"worker exited with {proc.returncode}"
                )
                return qids.index(current) + 1
            return len(qids)
        timeout = cap + 15
        current = _take(out, json.loads(line), current)


def _percentiles(out: dict) -> None:
    for q in out["queries"].values():
        ts = sorted(q.get("times", []))
        if ts and not q.get("capped"):
            q["p50_s"] = statistics.median(ts)
            q["p95_s"] = ts[max(0, -(-95 * len(ts) // 100) - 1)]


def drive(engine: str, where: str, runs: int, cap: int, ready_timeout: float) -> dict:
    """Run the worker, enforce the cap from outside (kill + restart past a stuck query)."""
    qids = list(readme_queries())
    out: dict = {"engine": engine, "queries": {}, "cap_s": cap}
    skip = 0
    while skip < len(qids):
        proc = subprocess.Popen(
            self_command("--_worker", engine, where, str(runs), str(cap), str(skip)),
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        try:
            skip = _follow(proc, engine, out, qids, skip, cap, ready_timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    _percentiles(out)
    return out


# --------------------------------------------------------------------------- server
class OxServer:
    """``oxigraph serve-read-only`` over a store, started and waited for."""

    def __init__(self, location: Path, cap: int) -> None:
        from load_api import free_port

        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                OXIGRAPH,
                "serve-read-only",
                "--location",
                str(location),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout-s",
                str(cap),
                "--union-default-graph",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait(120)

    def _wait(self, limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"oxigraph serve-read-only exited: {self.proc.stderr.read()[-2000:]}"
                )
            try:
                urllib.request.urlopen(self.url + "/query?query=ASK%7B%7D", timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"oxigraph serve-read-only did not answer within {limit_s:.0f} s")

    def stop(self) -> float:
        from load_api import stop_group

        peak = vm("VmHWM", self.proc.pid)
        stop_group(self.proc)
        return peak
