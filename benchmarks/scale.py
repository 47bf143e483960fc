"""Scale benchmark: 10k / 100k / 1M synthetic indicators on one machine, figures printed.

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--json benchmarks/results/scale.json]
                               [--work DIR] [--runs 5] [--cap 120] [--skip api,dups,rdflib,server,disk,memory]
    python benchmarks/scale.py --show benchmarks/results/scale.json   # print saved figures

Synthetic data "from the shapes of the real corpus": all 14 tables of data/demo (the seed
.txt and data/demo/corpus/*.csv, read with kg.readers.read_table) are mapped once with the
project's own code (kg.mapping); copies are then made under other department names and
fiscal years by rewriting the template's table URI, department URI, department name and
fiscal year in its N-Quads text, round after round until the indicator count is reached
(the last table is mapped again with fewer indicators so the count is exact). The N-Quads
file is streamed to the work directory, never held in memory, and loaded with
``oxigraph load`` (the CLI of the same engine as pyoxigraph 0.5.13); the loader's peak
resident set comes from wait4(2) and the store's size from its directory.

For each size:

* the 12 README queries (kg/queries) on (a) rdflib: every quad in one in-memory ``Graph``
  (rdflib's default ``Memory`` store, terms shared, see ``rdflib_graph``), only when the
  estimate from the smaller sizes fits in memory, (b) the embedded pyoxigraph store opened
  read-only on disk, (c) the same store copied into memory as the API does with
  ``IKG_STORE_IN_MEMORY`` (``kg.store.memory_copy``; ``--memory-from nquads`` bulk-loads the
  same quads into the same kind of store instead, which is faster to make), (d) ``oxigraph serve-read-only
  --union-default-graph`` over a backup (hard links) of the store, queried with urllib; each
  query runs up to ``--runs`` times (fewer when slow), p50/p95 by nearest rank, stopped at
  ``--cap`` seconds (reported "> cap"). A run's time is the query and the reading of every
  row as the engine's own terms; the rows are then normalised (untimed) and compared across
  engines as sorted rows. ``--skip disk,memory,server,rdflib`` leaves engines out.
* the duplicate sweep: the embedding index (embeddings.open_index, default encoder, on-disk
  vector cache shared across sizes) and ``find_duplicates`` over all indicators; peak RSS.
* API load with wrk (benchmarks/load_api.py's script): ``ikg serve --workers 1`` and ``2``
  on loopback, /api/search, /sparql Q11 and a count (sizes up to ``--api-max``).

Every heavy step runs in its own subprocess so its memory is its own and one engine's
caches do not warm another's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

OXIGRAPH = str(Path(sys.executable).parent / "oxigraph")
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long")}
#: rdflib memory per triple (MB): rdflib_graph() at 100k (1,739 MB RSS for 2,472,752 triples),
#: used until this run measures its own
RDFLIB_MB_PER_TRIPLE = 1739 / 2_472_752


# --------------------------------------------------------------------------- helpers
def vm(field: str, pid: int | str = "self") -> float:
    """A /proc/PID/status figure (VmRSS, VmHWM) in MB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def du_mb(path: Path) -> float:
    from kg.store import size_on_disk_mb

    return size_on_disk_mb(path)


def run_measured(cmd: list[str], **kw) -> tuple[float, float, int]:
    """Run cmd; return (wall seconds, peak RSS MB of the child, exit status)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode


def readme_queries() -> dict[str, str]:
    from kg.examples import example_queries

    return {q.id: q.sparql for q in example_queries()}


def other_busy() -> list[str]:
    """Other benchmark processes on the machine (their load would skew timings)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    me = str(os.getpid())
    return [
        ln.strip()
        for ln in out.splitlines()
        if re.search(r"benchmarks/(load_api|run|embeddings_\w+)\.py", ln)
        and not ln.strip().startswith(me)
    ]


def wait_quiet(max_wait_s: float = 1800) -> float:
    """Wait (bounded) until no other benchmark runs; return the seconds waited."""
    if os.environ.get("SCALE_BENCH_NO_WAIT"):
        return 0.0
    t0 = time.monotonic()
    while other_busy() and time.monotonic() - t0 < max_wait_s:
        time.sleep(10)
    return time.monotonic() - t0


# --------------------------------------------------------------------------- data
def template_tables():
    """The 14 real tables of data/demo, parsed."""
    from kg.readers import read_table

    files = sorted(DEMO.glob("*.txt")) + sorted((DEMO / "corpus").glob("*.csv"))
    return [read_table(f)[1] for f in files]


def _nq(graph, graph_name: str) -> list[str]:
    """One rdflib graph as N-Quads lines in the named graph."""
    g = f" <{graph_name}> .\n"
    out = []
    for line in graph.serialize(format="nt").splitlines():
        line = line.strip()
        if line:
            assert line.endswith(" ."), line
            out.append(line[:-2] + g)
    return out


class Template:
    """One real table mapped once; copies are text rewrites of its N-Quads."""

    def __init__(self, parsed) -> None:
        from kg import mapping, uris
        from kg.namespaces import IKG, ORGANISATIONS_GRAPH

        self.parsed = parsed
        t = parsed.table
        self.dept, self.year = t.department, t.fiscal_year
        self.kind, self.project = t.table_type, t.project_name
        self.indicators = len(parsed.indicators)
        self.tab = str(mapping.table_uri(parsed))
        self.org = str(uris.organisation(self.dept))
        year_pred = f"<{self.tab}> <{IKG.fiscalYear}> "
        lines = _nq(mapping.to_graph(parsed), self.tab)
        self.year_line = next(ln for ln in lines if ln.startswith(year_pred))
        self.body = "".join(ln for ln in lines if ln is not self.year_line)
        orgs = _nq(mapping.organisations_graph(parsed), str(ORGANISATIONS_GRAPH))
        # the department's own lines follow the copy; the units (and their supervising
        # department, the real one) stay as they are, written once
        self.orgs_dept = "".join(ln for ln in orgs if ln.startswith(f"<{self.org}> "))
        supervising = any(f" <{self.org}> <" in ln for ln in orgs)
        self.orgs_fixed = "".join(
            ln for ln in orgs if supervising or not ln.startswith(f"<{self.org}> ")
        )

    def copy(self, dept: str, year: int) -> str:
        from kg import uris

        tab = str(uris.table(dept, year, self.kind, self.project))
        org = str(uris.organisation(dept))
        text = self.body + self.year_line.replace(f'"{self.year}"^^', f'"{year}"^^')
        text = text.replace(self.tab, tab).replace(self.org, org)
        orgs = self.orgs_dept.replace(self.org, org).replace(f'"{self.dept}"', f'"{dept}"')
        fixed, self.orgs_fixed = self.orgs_fixed, ""
        return text + orgs + fixed


def generate(n: int, out: Path) -> dict:
    """Write n synthetic indicators (plus the ontology) as N-Quads to ``out``."""
    from rdflib import Graph

    import ontology
    from kg import mapping
    from kg.namespaces import ONTOLOGY_GRAPH

    t0 = time.perf_counter()
    templates = [Template(p) for p in template_tables()]
    onto = Graph()
    for name in ("indicators.ttl", "categories.ttl", "similarity.ttl"):
        onto.parse(ontology.path(name), format="turtle")
    done = tables = k = 0
    with open(out, "w", encoding="utf-8") as fh:
        fh.writelines(_nq(onto, str(ONTOLOGY_GRAPH)))
        while done < n:
            for tpl in templates:
                if done >= n:
                    break
                dept = f"合成{k:05d}{tpl.dept}"
                year = 2020 + k % 6
                if done + tpl.indicators <= n:
                    fh.write(tpl.copy(dept, year))
                    done += tpl.indicators
                else:  # the last table: fewer indicators, mapped again
                    from kg.namespaces import ORGANISATIONS_GRAPH

                    p = tpl.parsed.model_copy(deep=True)
                    p.table.department, p.table.fiscal_year = dept, year
                    p.indicators = p.indicators[: n - done]
                    uri = str(mapping.table_uri(p))
                    fh.writelines(_nq(mapping.to_graph(p), uri))
                    fh.writelines(_nq(mapping.organisations_graph(p), str(ORGANISATIONS_GRAPH)))
                    done = n
                tables += 1
            k += 1
    return {
        "indicators": done,
        "tables": tables,
        "templates": len(templates),
        "rounds": k,
        "nquads_mb": round(out.stat().st_size / 2**20, 1),
        "generate_s": round(time.perf_counter() - t0, 1),
    }


def load(nq: Path, store: Path) -> dict:
    """``oxigraph load`` into a fresh store; wall time, loader peak RSS, size on disk."""
    shutil.rmtree(store, ignore_errors=True)
    wall, peak, rc = run_measured(
        [OXIGRAPH, "load", "--location", str(store), "--file", str(nq)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if rc != 0:
        raise RuntimeError(f"oxigraph load {nq} failed with exit code {rc}")
    return {
        "load_s": round(wall, 1),
        "load_peak_rss_mb": round(peak, 1),
        "store_mb": round(du_mb(store), 1),
    }


# --------------------------------------------------------------------------- answers
def _norm(kind: str, value: str, datatype: str | None = None, lang: str | None = None) -> str:
    if kind == "uri":
        return f"<{value}>"
    if kind == "bnode":
        return "_:"
    if lang:
        return f"{value}@{lang.lower()}"
    if datatype in NUMERIC:
        try:
            return format(Decimal(value).normalize(), "f")
        except InvalidOperation:
            return value
    if datatype == XSD + "boolean":
        return value.lower()
    return value


def norm_ox(term) -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _norm("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return _norm("bnode", term.value)
    return _norm("literal", term.value, term.datatype.value, term.language)


def norm_rdflib(term) -> str:
    from rdflib import BNode, URIRef

    if term is None:
        return ""
    if isinstance(term, URIRef):
        return _norm("uri", str(term))
    if isinstance(term, BNode):
        return _norm("bnode", str(term))
    dt = str(term.datatype) if term.datatype is not None else None
    return _norm("literal", str(term), dt, term.language)


def norm_json(cell: dict | None) -> str:
    if cell is None:
        return ""
    kind = {"uri": "uri", "bnode": "bnode"}.get(cell["type"], "literal")
    return _norm(kind, cell["value"], cell.get("datatype"), cell.get("xml:lang"))


def digest(rows: list[tuple[str, ...]]) -> str:
    h = hashlib.sha1()
    for r in sorted(rows):
        h.update("\x1f".join(r).encode("utf-8") + b"\x1e")
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- query workers
class _Cap(Exception):
    pass


def _alarm(signum, frame):
    raise _Cap


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


def worker(engine: str, where: str, runs: int, cap: int, skip: int) -> None:
    """Run the README queries on one engine; one JSON line per run and per query."""
    from kg.namespaces import sparql_prefixes

    emit = lambda **kw: print(json.dumps(kw), flush=True)  # noqa: E731
    t0 = time.perf_counter()
    prefixes = sparql_prefixes()
    # run(q): the answer's rows as the engine's own terms (timed); norm(rows): the same rows
    # as comparable strings (not timed: the same Python work for every engine)
    if engine in ("pyoxigraph", "memory"):
        from kg.store import GraphStore

        if engine == "memory" and where.endswith(".nq"):  # --memory-from nquads
            store = memory_store_from_nquads(Path(where))
        else:
            store = GraphStore(Path(where), read_only=True, in_memory=engine == "memory")

        def run(q: str) -> list[tuple]:
            return ox_rows(store, q)

        def norm(rows: list[tuple]) -> list[tuple[str, ...]]:
            return [tuple(norm_ox(t) for t in r) for r in rows]
    elif engine == "rdflib":
        _rss_guard(0.92 * _mem_total_gb() * 1024, ["loading rdflib"])
        g = rdflib_graph(Path(where))

        def run(q: str) -> list[tuple]:
            return rdflib_rows(g, prefixes + q)

        def norm(rows: list[tuple]) -> list[tuple[str, ...]]:
            return [tuple(norm_rdflib(t) for t in r) for r in rows]
    else:  # server

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

        def norm(rows: list[tuple]) -> list[tuple[str, ...]]:
            return [tuple(norm_json(c) for c in r) for r in rows]

    emit(ready=round(time.perf_counter() - t0, 2), rss_mb=round(vm("VmRSS"), 1))
    python_cap = engine == "rdflib"
    for n, (qid, q) in enumerate(readme_queries().items()):
        if n < skip:
            continue
        rows: list[tuple] = []
        spent = 0.0
        for r in range(runs):
            emit(qid=qid, start=r)
            if python_cap:
                signal.signal(signal.SIGALRM, _alarm)
                signal.alarm(cap)
            t = time.perf_counter()
            try:
                rows = run(q)
            except _Cap:
                emit(qid=qid, capped=True)
                rows = None  # type: ignore[assignment]
                break
            finally:
                if python_cap:
                    signal.alarm(0)
            s = time.perf_counter() - t
            spent += s
            emit(qid=qid, run=r, s=s)
            if spent > 20 and r >= 0:  # slow: fewer runs say enough
                break
        if rows is not None:
            emit(qid=qid, rows=len(rows), digest=digest(norm(rows)))
    emit(done=True, peak_rss_mb=round(vm("VmHWM"), 1))


def drive(engine: str, where: str, runs: int, cap: int, ready_timeout: float) -> dict:
    """Run the worker, enforce the cap from outside (kill + restart past a stuck query)."""
    qids = list(readme_queries())
    out: dict = {"engine": engine, "queries": {}, "cap_s": cap}
    skip = 0
    while skip < len(qids):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--_worker", engine, where, str(runs), str(cap), str(skip)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        current = None
        timeout = ready_timeout
        try:
            while True:
                r, _, _ = select.select([proc.stdout], [], [], timeout)
                if not r:  # over the cap: stop it, note it, go on after it
                    proc.kill()
                    proc.wait()
                    if current is None:  # stalled before its first query
                        current = qids[skip]
                    out["queries"].setdefault(current, {})["capped"] = True
                    skip = qids.index(current) + 1
                    print(f"  {engine}: {current} stopped at the cap", file=sys.stderr, flush=True)
                    break
                line = proc.stdout.readline()
                if not line:
                    proc.wait()
                    if current is not None and "rows" not in out["queries"].get(current, {}):
                        # reported, and the queries after it still run
                        out["queries"].setdefault(current, {})["error"] = (
                            f"worker exited with {proc.returncode}"
                        )
                        skip = qids.index(current) + 1
                    else:
                        skip = len(qids)
                    break
                msg = json.loads(line)
                timeout = cap + 15
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
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for q in out["queries"].values():
        ts = sorted(q.get("times", []))
        if ts and not q.get("capped"):
            q["p50_s"] = statistics.median(ts)
            q["p95_s"] = ts[max(0, -(-95 * len(ts) // 100) - 1)]
    return out


# --------------------------------------------------------------------------- server
class OxServer:
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
        deadline = time.monotonic() + 120
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
        raise TimeoutError("oxigraph serve-read-only did not answer within 120 s")

    def stop(self) -> float:
        from load_api import stop_group

        peak = vm("VmHWM", self.proc.pid)
        stop_group(self.proc)
        return peak


# --------------------------------------------------------------------------- duplicates
#: the sweep stops itself above this share of the machine's memory (so it cannot take the
#: machine down)
DUPS_RSS_SHARE = 0.75


def _rss_guard(limit_mb: float, phase: list[str]) -> None:
    """A daemon thread that ends the process (exit 3, a note on stderr) above limit_mb."""
    import threading

    t0 = time.monotonic()

    def watch() -> None:
        while True:
            rss = vm("VmRSS")
            if rss > limit_mb:
                sys.stderr.write(
                    f"stopped: resident set {rss:,.0f} MB > {limit_mb:,.0f} MB "
                    f"after {time.monotonic() - t0:.0f} s, during {phase[0]}\n"
                )
                sys.stderr.flush()
                os._exit(3)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def dups_worker(store: str, data_dir: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    phase = ["loading the index"]
    _rss_guard(DUPS_RSS_SHARE * _mem_total_gb() * 1024, phase)
    from embeddings import find_duplicates, open_index
    from embeddings.index import every_tenth
    from kg.settings import Settings
    from kg.store import GraphStore

    data = Path(data_dir)
    settings = Settings(data_dir=data)
    t0 = time.perf_counter()
    with GraphStore(Path(store), read_only=True) as gs:
        index, report = open_index(gs, data, settings)
    build_s = time.perf_counter() - t0
    rss_index = vm("VmRSS")
    print(
        json.dumps({"index_build_s": round(build_s, 1), "rss_after_index_mb": round(rss_index, 1)}),
        file=sys.stderr,
        flush=True,
    )
    phase[0] = f"find_duplicates ({len(index.items):,} indicators, index built in {build_s:.0f} s)"
    t0 = time.perf_counter()
    rep = find_duplicates(
        index, progress=every_tenth(lambda line: print(line, file=sys.stderr, flush=True))
    )
    sweep_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "indicators": len(index.items),
                "index_kind": index.vectors.kind,
                "model": index.model_id,
                "encoded": report.encoded if report else 0,
                "index_build_s": round(build_s, 1),
                "rss_after_index_mb": round(rss_index, 1),
                "sweep_s": round(sweep_s, 1),
                "pairs": rep.pairs_total,
                "pairs_listed": len(rep.pairs),
                "listed_per_indicator": rep.listed_per_indicator,
                "clusters": len(rep.clusters),
                "peak_rss_mb": round(vm("VmHWM"), 1),
            }
        ),
        flush=True,
    )


def duplicates(store: Path, data: Path, cache: Path, timeout: float) -> dict:
    """Index + sweep in a subprocess; the vector cache is carried from size to size."""
    own = data / "embeddings" / "cache.sqlite"
    own.parent.mkdir(parents=True, exist_ok=True)
    if cache.exists() and not own.exists():
        shutil.copy2(cache, own)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--_dups", str(store), str(data)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    except subprocess.TimeoutExpired:
        return {
            "error": f"stopped after {timeout:.0f} s",
            "wall_s": round(time.perf_counter() - t0, 1),
        }
    if own.exists():
        shutil.copy2(own, cache)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- API
#: seconds ikg serve may take to answer /healthz (each worker copies the store into memory)
START_TIMEOUT_S = 900


def api_load(data: Path, workers: int, duration: int, connections: int, work: Path) -> dict:
    """``ikg serve --workers N`` on the data directory, wrk against three endpoints."""
    import httpx
    from load_api import WRK_SCRIPT, endpoints, free_port, run_wrk, stop_group

    port = free_port()
    ikg = str(Path(sys.executable).parent / "ikg")
    proc = subprocess.Popen(
        [ikg, "serve", "--data-dir", str(data), "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    out: dict = {"workers": workers, "endpoints": {}}
    try:
        t0 = time.monotonic()
        deadline = t0 + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ikg serve exited: {proc.stderr.read().decode()[-1500:]}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"ikg serve did not answer /healthz within {START_TIMEOUT_S} s")
            time.sleep(0.5)
        out["start_s"] = round(time.monotonic() - t0, 1)
        for name, path in endpoints().items():
            if name == "healthz":
                continue
            url = base + path
            for _ in range(2 + 2 * workers):  # warm every worker (index load, caches)
                r = httpx.get(url, timeout=300)
            if r.status_code >= 300:
                out["endpoints"][name] = {"status": r.status_code, "body": r.text[:300]}
                continue
            out["endpoints"][name] = run_wrk(url, duration, connections, script)
        rss = 0.0
        for pid in subprocess.run(
            ["pgrep", "-g", str(proc.pid)], capture_output=True, text=True
        ).stdout.split():
            r = vm("VmRSS", pid)
            rss += r if r == r else 0  # NaN: the process ended meanwhile
        out["server_rss_mb"] = round(rss, 1)
    finally:
        stop_group(proc, grace_s=15)
    return out


# --------------------------------------------------------------------------- one size
def measure(n: int, args, work: Path, log) -> dict:
    row: dict = {"size": n}
    nq = work / f"n{n}.nq"
    store = work / f"store-{n}"
    meta = nq.with_suffix(".json")
    if nq.exists() and meta.exists():  # generated by an earlier run in the same --work
        row["data"] = json.loads(meta.read_text())
        log(f"[{n:,}] reusing {nq}")
    else:
        log(f"[{n:,}] generating N-Quads → {nq}")
        row["data"] = generate(n, nq)
        meta.write_text(json.dumps(row["data"]))
    log(f"[{n:,}] {row['data']}")
    waited = wait_quiet()
    if waited > 1:
        log(f"[{n:,}] waited {waited:.0f} s for another benchmark to finish")
    built = work / f"store-{n}.json"
    if store.exists() and built.exists():  # loaded by an earlier run in the same --work
        row["build"] = json.loads(built.read_text())
        log(f"[{n:,}] reusing {store}")
    else:
        row["build"] = load(nq, store)
        built.write_text(json.dumps(row["build"]))
    import pyoxigraph as ox

    s = ox.Store.read_only(str(store))
    row["data"]["triples"] = len(s)
    del s
    row["build"]["bytes_per_triple"] = round(
        row["build"]["store_mb"] * 2**20 / row["data"]["triples"]
    )
    log(f"[{n:,}] load {row['build']}, {row['data']['triples']:,} triples")

    engines: dict = {}
    if "disk" not in args.skip:
        wait_quiet()
        engines["pyoxigraph"] = drive("pyoxigraph", str(store), args.runs, args.cap, 600)
        log(f"[{n:,}] pyoxigraph queries done")
    if "memory" not in args.skip:
        wait_quiet()
        source = nq if args.memory_from == "nquads" else store
        engines["memory"] = drive("memory", str(source), args.runs, args.cap, 3600)
        engines["memory"]["loaded_from"] = args.memory_from
        log(f"[{n:,}] pyoxigraph in-memory copy: queries done")
    if "server" not in args.skip:
        backup = work / f"backup-{n}"
        shutil.rmtree(backup, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(
            [OXIGRAPH, "backup", "--location", str(store), "--destination", str(backup)],
            check=True,
            capture_output=True,
        )
        row["build"]["backup_s"] = round(time.perf_counter() - t0, 2)
        srv = OxServer(backup, args.cap)
        try:
            wait_quiet()
            engines["server"] = drive("server", srv.url, args.runs, args.cap, 60)
        finally:
            engines["server"]["server_peak_rss_mb"] = round(srv.stop(), 1)
        shutil.rmtree(backup, ignore_errors=True)
        log(f"[{n:,}] server queries done")
    est = row["data"]["triples"] * args.rdflib_mb_per_triple
    avail = _mem_available_mb()
    row["rdflib_estimate_mb"] = round(est)
    if "rdflib" in args.skip:
        engines["rdflib"] = {"skipped": "--skip rdflib"}
    elif est > 0.85 * avail:
        engines["rdflib"] = {
            "skipped": f"estimated {est / 1024:.1f} GB resident (from {args.rdflib_mb_per_triple * 1e6:.0f} "
            f"MB per million triples) > 85% of the {avail / 1024:.1f} GB available"
        }
    else:
        wait_quiet()
        engines["rdflib"] = drive("rdflib", str(nq), args.runs, args.cap, 3600)
        peak = engines["rdflib"].get("rss_after_load_mb")
        if peak:
            args.rdflib_mb_per_triple = peak / row["data"]["triples"]
    log(f"[{n:,}] rdflib: {engines['rdflib'].get('skipped', 'done')}")
    row["engines"] = engines
    row["agreement"] = agreement(engines)

    data = work / f"data-{n}"
    if "dups" not in args.skip or ("api" not in args.skip and n <= args.api_max):
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        subprocess.run(
            [OXIGRAPH, "backup", "--location", str(store), "--destination", str(data / "store")],
            check=True,
            capture_output=True,
        )
    if "dups" not in args.skip:
        wait_quiet()
        row["duplicates"] = duplicates(
            data / "store", data, work / "cache.sqlite", args.dups_timeout
        )
        log(f"[{n:,}] duplicates {row['duplicates']}")
    if "api" not in args.skip and n <= args.api_max:
        row["api"] = []
        for w in (1, 2):
            wait_quiet()
            try:
                row["api"].append(api_load(data, w, args.duration, args.connections, work))
            except Exception as e:  # reported, the run goes on
                row["api"].append({"workers": w, "error": str(e)[-1500:]})
            log(f"[{n:,}] api workers={w} {row['api'][-1]}")
    if not args.keep:
        nq.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        built.unlink(missing_ok=True)
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    return row


def _mem_available_mb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def agreement(engines: dict) -> dict:
    """Per query: same answers on every engine that finished it, or what differs."""
    out = {}
    for qid in readme_queries():
        seen = {
            e: (r["queries"][qid]["rows"], r["queries"][qid]["digest"])
            for e, r in engines.items()
            if "queries" in r and "digest" in r["queries"].get(qid, {})
        }
        if len({d for _, d in seen.values()}) <= 1:
            out[qid] = "same" if len(seen) > 1 else "one engine"
        else:
            out[qid] = "DIFFER " + ", ".join(f"{e}: {rows} rows" for e, (rows, _) in seen.items())
    return out


# --------------------------------------------------------------------------- printing
LABEL = {
    "pyoxigraph": "embedded pyoxigraph, on disk",
    "memory": "embedded pyoxigraph, copy in memory (IKG_STORE_IN_MEMORY)",
    "server": "Oxigraph server",
    "rdflib": "rdflib in-memory Graph",
}
SHORT = {"pyoxigraph": "disk", "memory": "memory", "server": "server", "rdflib": "rdflib"}


def _fmt(q: dict | None, cap: int) -> str:
    if not q:
        return "—"
    if q.get("capped"):
        return f"> {cap} s"
    if q.get("error"):
        return "error"
    if "p50_s" not in q:
        return "—"
    return f"{q['p50_s'] * 1000:,.0f}/{q['p95_s'] * 1000:,.0f}"


def print_figures(fig: dict) -> None:
    cap = fig["cap_s"]
    print(f"machine: {fig['machine']}; cap {cap} s per query, up to {fig['runs']} runs each")
    if fig.get("note"):
        print(f"note: {fig['note']}")
    for row in sorted(fig["sizes"], key=lambda r: r["size"]):
        cap = row.get("cap_s", fig["cap_s"])
        d, b = row["data"], row["build"]
        print(
            f"\n== {d['indicators']:,} indicators, {d['tables']:,} tables, {d.get('triples', 0):,} triples "
            f"(N-Quads {d['nquads_mb']:,} MB, generated in {d['generate_s']} s)"
        )
        print(
            f"  build: oxigraph load {b['load_s']} s, loader peak RSS {b['load_peak_rss_mb']:,.0f} MB, "
            f"store on disk {b['store_mb']:,.0f} MB ({b['bytes_per_triple']} B/triple)"
        )
        eng = row["engines"]
        order = ("pyoxigraph", "memory", "server", "rdflib")
        names = [e for e in order if "queries" in eng.get(e, {})]
        for e in order:
            r = eng.get(e, {})
            if "skipped" in r:
                print(f"  {LABEL[e]}: not measured — {r['skipped']}")
            elif e == "server" and r:
                print(
                    f"  {LABEL[e]}: oxigraph serve-read-only peak RSS {r.get('server_peak_rss_mb', 0):,.0f} MB"
                )
            elif r:
                how = " (bulk-loaded from the N-Quads)" if r.get("loaded_from") == "nquads" else ""
                print(
                    f"  {LABEL[e]}{how}: ready in {r.get('ready_s', 0):.1f} s, RSS after load "
                    f"{r.get('rss_after_load_mb', 0):,.0f} MB, peak {r.get('peak_rss_mb', 0):,.0f} MB"
                )
        # ratios against the fastest embedded engine measured (memory copy, else on disk)
        base_e = "memory" if "memory" in names else "pyoxigraph"
        others = [e for e in names if e != base_e]
        head = "".join(f"{SHORT[e] + ' p50/p95 ms':>22}" for e in names)
        ratios = "".join(f"{SHORT[e] + '/' + SHORT[base_e]:>15}" for e in others)
        print(f"  {'query':5}{head}{ratios}  {'rows':>8}  answers")
        for qid in readme_queries():
            cells = "".join(
                f"{_fmt(eng[e]['queries'].get(qid), eng[e].get('cap_s', cap)):>22}" for e in names
            )
            base = eng[base_e]["queries"].get(qid, {}) if base_e in names else {}
            rs = ""
            for e in others:
                q = eng[e]["queries"].get(qid, {})
                if q.get("capped") and "p50_s" in base:
                    ecap = eng[e].get("cap_s", cap)
                    rs += f"{'>' + format(ecap / base['p50_s'], '.0f') + '×':>15}"
                elif "p50_s" in q and "p50_s" in base:
                    rs += f"{q['p50_s'] / base['p50_s']:>14.1f}×"
                else:
                    rs += f"{'—':>15}"
            rows = next(
                (
                    eng[e]["queries"][qid]["rows"]
                    for e in names
                    if "rows" in eng[e]["queries"].get(qid, {})
                ),
                "—",
            )
            print(f"  {qid:5}{cells}{rs}  {rows:>8}  {row['agreement'][qid]}")
        if "duplicates" in row:
            dd = row["duplicates"]
            if "error" in dd:
                print(f"  duplicate sweep: not measured — {dd['error'][-300:]}")
            else:
                print(
                    f"  duplicate sweep ({dd['model']}, {dd['index_kind']}): index {dd['index_build_s']} s "
                    f"({dd['encoded']} texts encoded, rest from cache), find_duplicates {dd['sweep_s']} s, "
                    f"{dd['pairs']:,} pairs in {dd['clusters']:,} clusters"
                    + (
                        f" ({dd['pairs_listed']:,} listed: an indicator's best {dd['listed_per_indicator']})"
                        if dd.get("listed_per_indicator")
                        else ""
                    )
                    + f", peak RSS {dd['peak_rss_mb']:,.0f} MB"
                )
        for a in row.get("api", []):
            if "error" in a:
                print(f"  API workers={a['workers']}: failed — {a['error'][-300:]}")
                continue
            for name, f in a["endpoints"].items():
                if "rps" not in f:
                    print(f"  API workers={a['workers']} {name}: HTTP {f.get('status')}")
                    continue
                print(
                    f"  API workers={a['workers']} {name:15s} {f['rps']:8.1f} req/s  p50 {f['p50_ms']:8.2f} ms  "
                    f"p95 {f['p95_ms']:8.2f} ms  non-2xx {f['non_2xx']} errors {f['errors']}"
                )
            print(
                f"  API workers={a['workers']} server RSS (all processes) {a.get('server_rss_mb', 0):,.0f} MB"
                + (f", /healthz answered {a['start_s']} s after start" if "start_s" in a else "")
            )
    print(f"\nwall time of the run: {fig['wall_s'] / 60:.1f} min")


# --------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", default="10000,100000,1000000", help="comma-separated indicator counts"
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--text", type=Path, help="also write the printed figures here")
    ap.add_argument("--work", type=Path, help="work directory (default: a new one in /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep N-Quads files and stores")
    ap.add_argument(
        "--runs", type=int, default=5, help="runs per query (fewer once 20 s are spent)"
    )
    ap.add_argument("--cap", type=int, default=120, help="seconds before a query is stopped")
    ap.add_argument(
        "--skip", default="", help="comma list of: disk, memory, rdflib, server, dups, api"
    )
    ap.add_argument(
        "--api-max", type=int, default=100_000, help="largest size the API load runs at"
    )
    ap.add_argument("--duration", type=int, default=10, help="wrk seconds per endpoint")
    ap.add_argument("--connections", type=int, default=8, help="wrk concurrent connections")
    ap.add_argument(
        "--memory-from",
        choices=("store", "nquads"),
        default="store",
        help="the in-memory engine: copied from the on-disk store as the API does (store), "
        "or bulk-loaded from the same N-Quads (nquads: minutes instead of ~20 min at 1M)",
    )
    ap.add_argument("--dups-timeout", type=float, default=5400, help="seconds for index + sweep")
    ap.add_argument(
        "--update",
        action="store_true",
        help="merge into the --json file: re-measured parts replace, the rest is kept",
    )
    ap.add_argument(
        "--show", type=Path, help="print the figures saved in this JSON file, run nothing"
    )
    ap.add_argument("--_worker", nargs=5, help=argparse.SUPPRESS)
    ap.add_argument("--_dups", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._worker:
        e, where, runs, cap, skip = args._worker
        worker(e, where, int(runs), int(cap), int(skip))
        return
    if args._dups:
        dups_worker(*args._dups)
        return
    if args.show:
        print_figures(json.loads(args.show.read_text(encoding="utf-8")))
        return
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.rdflib_mb_per_triple = RDFLIB_MB_PER_TRIPLE
    work = args.work or Path(tempfile.mkdtemp(prefix="ikg-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)

    fig: dict = {
        "machine": {"cpus": os.cpu_count(), "mem_gb": round(_mem_total_gb(), 1)},
        "runs": args.runs,
        "cap_s": args.cap,
        "sizes": [],
    }
    base: dict | None = None
    if args.update and args.json and args.json.exists():
        base = json.loads(args.json.read_text(encoding="utf-8"))
    for n in [int(x) for x in args.sizes.split(",") if x]:
        fig["sizes"].append(measure(n, args, work, log))
        fig["wall_s"] = time.perf_counter() - t_start
        if args.json:  # after every size, so a long run leaves what it has
            out = merge(base, fig, args.skip) if base else fig
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", "utf-8")
    fig["wall_s"] = time.perf_counter() - t_start
    if base:
        fig = merge(base, fig, args.skip)
    print_figures(fig)
    if args.json:
        args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"written {args.json}")
    if args.text:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            print_figures(fig)
        args.text.write_text(buf.getvalue(), "utf-8")
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


def merge(base: dict, new: dict, skipped: set[str]) -> dict:
    """``base`` with the sizes of ``new`` merged in; parts skipped in ``new`` keep base's."""
    out = json.loads(json.dumps(base))
    rows = {r["size"]: r for r in out["sizes"]}
    for row in new["sizes"]:
        old = rows.get(row["size"])
        if old is None:
            out["sizes"].append(row)
            continue
        for key, value in row.items():
            if key == "engines":
                for e, r in value.items():
                    if e not in skipped:
                        old["engines"][e] = r
            elif key != "agreement":
                old[key] = value
        old["agreement"] = agreement(old["engines"])
        old.setdefault("runs_merged", []).append(sorted(skipped))
    out["wall_s"] = base.get("wall_s", 0) + new.get("wall_s", 0)
    return out


def _mem_total_gb() -> float:
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) / 2**20


if __name__ == "__main__":
    main()
