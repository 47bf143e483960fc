"""Search at the speed of the index: ``/api/search``, ``/similar`` and ``/duplicates`` at scale.

    python -m benchmarks.search_speed [--sizes 10000,100000] [--work DIR] [--model hash]
        [--json benchmarks/results/search_speed.json] [--label after] [--prepare-only]

For each size it builds (or reuses, from ``--work``) a data directory: a store of that many
indicators and its embedding index, built with the project's own ``index_for_store`` (which
also writes the similarity links and saves the duplicate report). The data are the 14 real
tables of data/demo copied under other department names and years, like
``benchmarks/scale``, but their indicator names vary: 30% keep a real name, the others join
the head of one real name to the tail of another (cut at a word boundary when jieba finds
one), so the dense neighbours are not a sea of ties and recall@10 means something.

Then, for each size, it prints and saves:

* FAISS alone: p50 of ``FaissIndex.search`` (k = 10) for cached query vectors, in-process;
  at sizes where the index is approximate (IVF), recall@10 against exact flat search;
* the search split into its parts, in process (:mod:`benchmarks.search_split`, in a child
  process): the whole ``IndicatorIndex.search``, the encoder, the lexical scores, FAISS at
  the search's pool and the rest; with the request's p50, what HTTP and the framework add;
* ``/api/search`` through ``ikg serve`` (one worker), sequential over one keep-alive
  connection (``http.client``: the server's time, not a client library's): p50/p95 for a
  cached query and for unseen queries (each one new to the server), and ``/healthz``;
* req/s with 4 and 8 clients on 1 and 2 workers (``benchmarks/load_api.run_threads``);
* the hits of a filtered query (``培训人次`` in 中共深圳市福田区委组织部's tables);
* ``/api/indicators/{id}/similar`` and ``/api/duplicates`` first call and warm p50;
* the server's resident set.

``PYTHONPATH`` decides whose code the servers run: run it once with ``PYTHONPATH=/work/main``
(``--label before``) and once with this tree (``--label after``) on the same ``--work``
directory; ``--json`` merges the labels into one file. The machine is shared: compare ratios
within one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

FILTER_QUERY = ("培训人次", "中共深圳市福田区委组织部")
CACHED_QUERY = "离休干部慰问金发放"
#: seconds the servers get after their first answers before load is measured
SETTLE_S = 30
#: what uvicorn logs when a server process accepts requests (once per worker)
STARTED = "Application startup complete."
#: share of the copies' indicators that keep their real name
REAL_SHARE = 0.3


def _pieces(names: list[str]) -> tuple[list[str], list[str]]:
    """Heads and tails of real names, cut at a word boundary (jieba) or in the middle."""
    try:
        import jieba

        jieba.setLogLevel(60)
        cut = lambda s: list(jieba.cut(s))  # noqa: E731
    except ImportError:  # pragma: no cover - jieba is a dependency of the project
        cut = lambda s: [s[: len(s) // 2], s[len(s) // 2 :]]  # noqa: E731
    heads, tails = [], []
    for name in sorted(set(names)):
        words = cut(name)
        if len(words) < 2:
            continue
        at = max(1, len(words) // 2)
        heads.append("".join(words[:at]))
        tails.append("".join(words[at:]))
    return heads, tails


def synthetic_tables(n: int, seed: int = 0):
    """Yield parsed tables (copies of the demo's real ones) until n indicators: the tables
    :func:`synthetic_nquads` writes, but for a last table cut short (the tests' reference)."""
    from scale.data import synthetic_name, template_tables

    templates = template_tables()
    names = _Names([i.name for p in templates for i in p.indicators], seed)
    done = k = 0
    while done < n:
        for tpl in templates:
            if done >= n:
                break
            dept, year = synthetic_name(k, tpl.table.department)
            p = tpl.model_copy(deep=True)
            p.table.department, p.table.fiscal_year = dept, year
            p.indicators = p.indicators[: n - done]
            if k:  # the first round keeps the real tables as they are
                for ind, new in zip(p.indicators, names.draw(len(p.indicators)), strict=True):
                    if new is not None:
                        ind.name = new
            done += len(p.indicators)
            yield p
        k += 1


class _Names:
    """The copies' indicator names: a real one (``None``: keep the template's) for
    :data:`REAL_SHARE` of them, else the head of one real name and the tail of another."""

    def __init__(self, real: list[str], seed: int) -> None:
        self.heads, self.tails = _pieces(real)
        self.rng = random.Random(seed)

    def draw(self, n: int) -> list[str | None]:
        rng, heads, tails = self.rng, self.heads, self.tails
        return [
            None if rng.random() < REAL_SHARE else rng.choice(heads) + rng.choice(tails)
            for _ in range(n)
        ]


class _NamedTemplate:
    """A real table's N-Quads (``scale.data.Template``: mapped once with the project's code)
    split at its indicators' name lines, so that a copy is a text rewrite with other names.

    A renamed indicator keeps its template's URI under the copy's table (unique there, as
    the project's own URIs are) and loses its ``ikg:nameSimplified``; everything else is the
    template's, as :mod:`benchmarks.scale` copies tables."""

    def __init__(self, parsed) -> None:  # type: ignore[no-untyped-def]
        from scale.data import Template

        from kg.namespaces import IKG

        self.t = Template(parsed)
        lines = self.t.body.splitlines(keepends=True)
        order = _indicator_uris(parsed)  # the parsed indicators' order, as the names are drawn
        at = {uri: k for k, uri in enumerate(order)}
        name_p, simp_p = f"> <{IKG.name}> ", f"> <{IKG.nameSimplified}> "
        #: text chunks and, between them, ("name" | "simp", indicator number, original line)
        self.parts: list = []
        chunk: list[str] = []
        for ln in lines:
            subject = ln[1 : ln.index(">")] if ln.startswith("<") else ""
            what = "name" if name_p in ln else "simp" if simp_p in ln else None
            if what is None or subject not in at:
                chunk.append(ln)
                continue
            self.parts += ["".join(chunk), (what, at[subject], ln, subject)]
            chunk = []
        self.parts.append("".join(chunk))
        self.indicators = len(order)
        self.graph_tail = lines[0][lines[0].rindex(" <") :]  # " <table graph> .\n"

    def copy(self, dept: str, year: int, names: list[str | None]) -> str:
        import pyoxigraph as ox

        from kg.namespaces import IKG

        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            what, k, line, subject = part
            new = names[k]
            if new is None:
                out.append(line)
            elif what == "name":
                out.append(f"<{subject}> <{IKG.name}> {ox.Literal(new)}{self.graph_tail}")
        return self.t.copy(dept, year, "".join(out))


def _indicator_uris(parsed) -> list[str]:  # type: ignore[no-untyped-def]
    """Each parsed indicator's URI, in order (as ``kg.mapping`` names them)."""
    from kg import mapping, uris

    tab, seen = mapping.table_uri(parsed), {}
    return [
        str(uris.indicator(tab, i.level1, i.level2, i.name, mapping._occurrence(seen, key)))
        for i in parsed.indicators
        for key in [("ind", i.level1, i.level2, i.name)]
    ]


def synthetic_nquads(n: int, out: Path, seed: int = 0) -> dict:
    """The N-Quads of n synthetic indicators (the tables :func:`synthetic_tables` yields,
    the last one cut short) written to ``out``, without mapping each copy again: the 14
    templates are mapped once and copied as text (what made a 100k store take 50 minutes
    was mapping every copy with rdflib)."""
    from scale.data import synthetic_name, template_tables

    parsed = template_tables()
    names = _Names([i.name for p in parsed for i in p.indicators], seed)
    templates = [_NamedTemplate(p) for p in parsed]
    done = tables = k = 0
    with open(out, "w", encoding="utf-8") as fh:
        while done < n:
            for tpl in templates:
                if done >= n:
                    break
                dept, year = synthetic_name(k, tpl.t.dept)
                drawn = names.draw(tpl.indicators) if k else [None] * tpl.indicators
                if done + tpl.indicators <= n:
                    fh.write(tpl.copy(dept, year, drawn))
                    done += tpl.indicators
                else:  # the last table: fewer indicators, mapped again with their real names
                    fh.writelines(tpl.t.partial(dept, year, n - done))
                    done = n
                tables += 1
            k += 1
    return {"indicators": done, "tables": tables}


def prepare(
    size: int, work: Path, model: str, links: bool = True, kind: str = "auto"
) -> tuple[Path, dict]:
    """The data directory for ``size`` indicators (built unless ``work`` has it): N-Quads
    written from the templates and bulk-loaded, then ``index_for_store`` (with the links and
    the saved duplicate report unless ``links`` is false); ``kind``: the FAISS index
    (``embedding_index``: auto picks by size, flat forces the exact scan)."""
    data = work / (f"data-{size}-{model}" + ("" if kind == "auto" else f"-{kind}"))
    marker = data / "prepared.json"
    from kg.settings import Settings

    settings = Settings(data_dir=data, embedding_model=model, embedding_index=kind)
    if marker.is_file():
        info = json.loads(marker.read_text("utf-8"))
        if links and info.get("links") is None:  # prepared --no-links: the links step now
            _links_step(size, settings, info)
            marker.write_text(json.dumps(info, ensure_ascii=False, indent=2), "utf-8")
        return data, info
    import pyoxigraph as ox

    from kg.store import GraphStore

    data.mkdir(parents=True, exist_ok=True)
    nq = data / "synthetic.nq"
    t0 = time.perf_counter()
    made = synthetic_nquads(size, nq)
    gen_s = time.perf_counter() - t0
    with GraphStore(settings.store_path) as store:
        store.load_ontology()
        store.ox.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        store.flush()
        store.optimize()
    nq_mb = nq.stat().st_size / 2**20
    nq.unlink()
    graph_s = time.perf_counter() - t0
    _log(f"[{size}] store: {made} ({nq_mb:.0f} MB of N-Quads in {gen_s:.0f} s, {graph_s:.0f} s)")
    t0 = time.perf_counter()
    from embeddings import index_for_store

    rep = index_for_store(settings.store_path, data, settings, write_links=False)
    index_s = time.perf_counter() - t0
    _log(f"[{size}] index {rep.kind} in {index_s:.0f} s")
    info = {
        "indicators": rep.count,
        "tables": made["tables"],
        "model": model,
        "index_kind": rep.kind,
        "nquads_mb": round(nq_mb),
        "nquads_s": round(gen_s, 1),
        "graph_build_s": round(graph_s, 1),
        "index_build_s": round(index_s, 1),
        "links": None,
        "links_s": None,
    }
    if links:
        _links_step(size, settings, info)
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=2), "utf-8")
    return data, info


def _links_step(size: int, settings, info: dict) -> None:  # type: ignore[no-untyped-def]
    """The similarity links and the saved duplicate report (``index_for_store``), timed,
    with the scoring processes it used (the ``build_workers`` setting: one per CPU)."""
    from embeddings import index_for_store
    from kg.processes import worker_count

    t0 = time.perf_counter()
    info["links"] = index_for_store(settings.store_path, settings.data_dir, settings).links
    info["links_s"] = round(time.perf_counter() - t0, 1)
    info["links_workers"] = worker_count(settings.build_workers)
    _log(f"[{size}] links {info['links']} in {info['links_s']} s")


# -- measuring -------------------------------------------------------------------------------
def _pct(xs: list[float]) -> dict:
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=100) if len(xs) > 1 else xs * 99
    return {"p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2), "n": len(xs)}


def _timed(client, url: str, **kw) -> tuple[float, object]:
    t0 = time.perf_counter()
    r = client.get(url, **kw)
    dt = time.perf_counter() - t0
    if r.status_code >= 300:
        raise RuntimeError(f"{url}: HTTP {r.status_code} {r.text[:300]}")
    return dt, r


def _search_url(q: str, **params) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": q, "k": 10, **params})


def unseen_queries(n: int, seed: int = 1) -> list[str]:
    """Queries no server has seen: real heads and tails with a number."""
    from scale.data import template_tables

    heads, tails = _pieces([i.name for p in template_tables() for i in p.indicators])
    rng = random.Random(seed)
    return [f"{rng.choice(heads)}{rng.choice(tails)}{seed}{k}" for k in range(n)]


def faiss_alone(data: Path, model: str, runs: int = 50) -> dict:
    """In-process p50 of FaissIndex.search (k = 10, 200, 1,000) for encoded queries, with
    one thread (as the servers now run) and the libraries' default threads; and IVF's
    recall@10 against flat over the same vectors."""
    import faiss

    from embeddings.encoders import load_encoder
    from embeddings.faiss_index import FaissIndex
    from embeddings.index import index_dir

    fi = FaissIndex.load(index_dir(data))
    enc = load_encoder(model)
    qs = enc.encode([CACHED_QUERY, *unseen_queries(runs - 1, seed=99)])
    out: dict = {"kind": fi.kind, "count": fi.count}
    prefetch = getattr(fi, "prefetch", None)  # as a server's warm-up (older code: none)
    if prefetch is not None:
        prefetch()
    fi.search(qs, 1000)  # each query's lists once: the timings below are a warm server's
    default = faiss.omp_get_max_threads()
    for threads in (1, default):
        faiss.omp_set_num_threads(threads)
        for k in (10, 200, 1000):  # 200: the pool a search for 10 hits asks (pool_size)
            times = []
            for q in qs:
                t0 = time.perf_counter()
                fi.search(q[None, :], k)
                times.append(time.perf_counter() - t0)
            out[f"k{k}_threads{threads}"] = _pct(times)
    faiss.omp_set_num_threads(default)
    out["recall_at_10_ivf"] = ivf_recall(fi, qs)
    return out


def ivf_recall(fi, queries, k: int = 10) -> dict:  # type: ignore[no-untyped-def]
    """recall@k of the IVF index ``choose_kind`` picks above FLAT_MAX, against exact search,
    over this index's own vectors (real-shaped names), for item and free-text queries."""
    import numpy as np

    from embeddings.faiss_index import FaissIndex

    every = getattr(fi, "all_vectors", None)  # older code (the "before" run): one by one
    vecs = every() if every is not None else fi.vectors(fi.ids)
    ids = [str(n) for n in range(len(vecs))]
    t0 = time.perf_counter()
    if fi.kind == "ivf":  # the served index itself (building another costs minutes at 1M)
        ivf, build_s = fi, None
        ids = [fi._ids[n] for n in range(len(vecs))]
    else:
        ivf = FaissIndex(fi.dim, model_id=fi.model_id, kind="ivf")
        ivf.index(ids, vecs)
        build_s = round(time.perf_counter() - t0, 1)
    flat = FaissIndex(fi.dim, model_id=fi.model_id, kind="flat")
    flat.index(ids, vecs)
    rng = np.random.default_rng(0)
    qs = np.concatenate([vecs[rng.choice(len(vecs), 200, replace=False)], queries])
    found = total = 0
    for a, b in zip(ivf.search(qs, k), flat.search(qs, k), strict=True):
        # ties: a hit counts when its score reaches the exact k-th score
        kth = b[-1][1] if b else 1.0
        found += sum(1 for _, s in a if s >= kth - 1e-6)
        total += len(b)
    t0 = time.perf_counter()
    ivf.search(qs, k)
    per_q = (time.perf_counter() - t0) / len(qs)
    return {
        "recall": round(found / max(total, 1), 4),
        "queries": len(qs),
        "build_s": build_s,
        "served_index": fi.kind == "ivf",
        "search_ms": round(per_q * 1000, 3),
    }


def recall_without_store(n: int, model: str, seed: int = 3) -> dict:
    """IVF's recall@10 against flat over ``n`` synthetic names (the same mixing of real
    names' heads and tails, no store): what ``choose_kind`` picks above FLAT_MAX, at a size
    whose store this machine cannot build in a session (1M)."""
    from scale.data import template_tables

    from embeddings.encoders import load_encoder
    from embeddings.faiss_index import FaissIndex, choose_kind

    names = [i.name for p in template_tables() for i in p.indicators]
    heads, tails = _pieces(names)
    rng = random.Random(seed)
    texts = [
        rng.choice(names) if rng.random() < REAL_SHARE else rng.choice(heads) + rng.choice(tails)
        for _ in range(n)
    ]
    t0 = time.perf_counter()
    vecs = load_encoder(model).encode(texts, batch_size=4096)
    encode_s = time.perf_counter() - t0
    fi = FaissIndex(vecs.shape[1], model_id=model, kind="flat")
    fi.index([str(k) for k in range(n)], vecs)
    queries = load_encoder(model).encode(unseen_queries(50, seed=99))
    out = ivf_recall(fi, queries)
    out.update(
        indicators=n,
        kind_chosen=choose_kind(n),
        distinct_names=len(set(texts)),
        encode_s=round(encode_s, 1),
    )
    return out


class Server:
    """``ikg serve`` on 127.0.0.1 with ``workers`` processes, in its own process group."""

    def __init__(self, data: Path, model: str, workers: int = 1) -> None:
        from load_api import free_port

        self.port = free_port()
        # SEARCH_SPEED_IKG: another command line (older code had its CLI in kg.cli)
        ikg = os.environ.get("SEARCH_SPEED_IKG") or str(Path(sys.executable).parent / "ikg")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "IKG_EMBEDDING_MODEL": model}
        cmd = [ikg, "serve", "--data-dir", str(data), "--port", str(self.port)]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        #: the server's log lines (stderr, drained here so that it never blocks on a full pipe)
        self.log: list[str] = []
        import threading

        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.log.append(raw.decode("utf-8", "replace").rstrip())

    def started(self) -> int:
        """Server processes whose start-up is complete: each one loads and warms up its
        embedding index before (``api_preload_index``), and accepts requests only after."""
        return sum(STARTED in line for line in self.log)

    def __enter__(self) -> Server:
        self.wait(timeout=3600)  # minutes at 1M: every worker reads the store's indicators
        return self

    def wait(self, timeout: float) -> None:
        """Until every worker has started and ``/healthz`` answers."""
        from load_api import answers_healthz

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the drain thread reads the last lines
                tail = "\n".join(self.log[-40:])
                raise RuntimeError(f"ikg serve exited with {self.proc.returncode}:\n{tail}")
            if self.started() >= self.workers and answers_healthz(self.base, timeout=5):
                return
            time.sleep(0.3)
        raise TimeoutError(f"ikg serve: {self.started()} of {self.workers} workers in {timeout} s")

    def __exit__(self, *exc) -> None:
        from load_api import stop_group

        stop_group(self.proc)

    def rss_mb(self) -> float:
        """The server's processes' resident memory added up: pages they share (the index's
        mapped files) are counted once per process (see :meth:`memory`)."""
        import psutil

        p = psutil.Process(self.proc.pid)
        return round(sum(x.memory_info().rss for x in [p, *p.children(True)]) / 2**20, 1)

    def memory(self) -> dict:
        """What the server holds: ``rss_mb`` as before; ``pss_mb``, each page shared by n
        processes counted 1/n in each (what the processes cost the machine together);
        ``private_mb``, pages no other process maps; ``available_mb``, the machine's memory
        still available (Linux ``MemAvailable``) with the server running."""
        import psutil

        p = psutil.Process(self.proc.pid)
        procs = [p, *p.children(True)]
        full = [x.memory_full_info() for x in procs]
        mb = 2**20
        return {
            "rss_mb": round(sum(f.rss for f in full) / mb, 1),
            "pss_mb": round(sum(getattr(f, "pss", f.rss) for f in full) / mb, 1),
            "private_mb": round(sum(getattr(f, "uss", f.rss) for f in full) / mb, 1),
            "available_mb": round(psutil.virtual_memory().available / mb, 1),
        }


class KeepAlive:
    """One keep-alive HTTP/1.1 connection (the standard library's ``http.client``), for the
    sequential latencies: what a request costs the server. A Python HTTP library adds its
    own time to each request (httpx about 2 ms, as much as an IVF search at 100k); the
    figures say which client measured them (``client``)."""

    name = "http.client keep-alive"

    def __init__(self, base: str, timeout: float) -> None:
        import http.client

        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        self.timeout = timeout

    def get(self, url: str, timeout: float | None = None) -> _Answer:
        self.conn.timeout = timeout or self.timeout
        if self.conn.sock is not None:
            self.conn.sock.settimeout(self.conn.timeout)
        try:
            self.conn.request("GET", url)
            r = self.conn.getresponse()
            return _Answer(r.status, r.read())
        except Exception:
            self.conn.close()  # a timed-out answer may still come: the next request reconnects
            raise

    def __enter__(self) -> KeepAlive:
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()


class _Answer:
    def __init__(self, status: int, content: bytes) -> None:
        self.status_code, self.content = status, content
        self.text = content.decode("utf-8", "replace")

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.content)


def _first_and_warm(client, url: str, warm: int = 10) -> dict:
    first, r = _timed(client, url)
    times = [_timed(client, url)[0] for _ in range(warm)]
    return {"first_ms": round(first * 1000, 1), **_pct(times), "bytes": len(r.content)}


def one_worker(data: Path, model: str, runs: int, dup_timeout: float) -> dict:
    """Latencies on one worker, sequential over one keep-alive connection: a request that
    does no search (``/healthz``), search cached/unseen, filtered, similar, duplicates (first
    call, then warm), and the resident set."""
    out: dict = {"client": KeepAlive.name}
    with Server(data, model) as srv, KeepAlive(srv.base, timeout=dup_timeout) as c:
        # loads the index: minutes at 1M (the store's indicators read from disk)
        first, r = _timed(c, _search_url(CACHED_QUERY), timeout=3600)
        out["search_first_ms"] = round(first * 1000, 1)
        for _ in range(5):
            _timed(c, _search_url(CACHED_QUERY))
        out["healthz"] = _pct([_timed(c, "/healthz")[0] for _ in range(runs)])
        out["search_cached"] = _pct([_timed(c, _search_url(CACHED_QUERY))[0] for _ in range(runs)])
        out["search_unseen"] = _pct([_timed(c, _search_url(q))[0] for q in unseen_queries(runs)])
        fq, fd = FILTER_QUERY
        dt, r = _timed(c, _search_url(fq, department=fd))
        hits = r.json()["hits"]
        out["filtered"] = {
            "query": fq,
            "department": fd,
            "k": 10,
            "hits": len(hits),
            "all_in_department": all(fd in h["department"] for h in hits),
            "ms": round(dt * 1000, 1),
        }
        one = r.json()["hits"][0]["id"] if hits else c.get(_search_url(fq)).json()["hits"][0]["id"]
        out["similar"] = _first_and_warm(c, f"/api/indicators/{one}/similar?k=10")
        out["rss_mb_before_duplicates"] = srv.rss_mb()
        try:
            out["duplicates"] = _first_and_warm(c, "/api/duplicates?limit=20", warm=5)
            out["duplicates"]["precomputed"] = (
                c.get("/api/duplicates?limit=1").json().get("precomputed", False)
            )
        except TimeoutError:
            out["duplicates"] = {"first_ms": None, "timeout_s": dup_timeout}
        out["memory"] = srv.memory()
        out["rss_mb"] = out["memory"]["rss_mb"]
    return out


def throughput(data: Path, model: str, workers: int, duration: int) -> dict:
    """req/s of /api/search (one query, cached after warm-up) with 4 and 8 clients: wrk
    when it is installed (Debian package ``wrk``), else Python threads, whose own CPU takes
    a good part of a 2-core machine (``tool`` says which)."""
    import shutil
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from load_api import WRK_SCRIPT, run_threads, run_wrk

    out: dict = {"tool": "wrk" if shutil.which("wrk") else "httpx threads"}
    script = Path(tempfile.mkdtemp()) / "report.lua"
    script.write_text(WRK_SCRIPT)
    with Server(data, model, workers) as srv:
        url = srv.base + _search_url(CACHED_QUERY)
        with ThreadPoolExecutor(8) as pool:  # every worker loads its index and warms up
            list(pool.map(lambda _: httpx.get(url, timeout=600), range(8 * workers)))
        time.sleep(SETTLE_S)  # each worker's warm-up thread (vectors, tokenizer, report) ends
        for clients in (4, 8):
            if out["tool"] == "wrk":  # in C: the load takes little of the 2 cores itself
                fig = run_wrk(url, duration, clients, script)
            else:
                fig = run_threads(url, duration, clients)
            out[f"clients{clients}"] = {
                k: fig[k] for k in ("rps", "p50_ms", "p95_ms", "non_2xx", "errors")
            }
        out["memory"] = srv.memory()
        out["rss_mb"] = out["memory"]["rss_mb"]
    return out


def measure(size: int, args: argparse.Namespace, fig: dict) -> dict:
    """The figures of ``args.parts`` (faiss, one, load) at ``size``, into ``fig``."""
    t0 = time.perf_counter()
    data, info = prepare(size, args.work, args.model, not args.no_links, args.index)
    _log(f"[{size}] data {info} ({time.perf_counter() - t0:.0f} s)")
    fig["data"] = info
    if "faiss" in args.parts:
        fig["faiss"] = faiss_alone(data, args.model)
        _log(f"[{size}] faiss {fig['faiss']}")
    if "split" in args.parts:
        fig["split"] = search_split(data, args.model, args.runs)
        _log(f"[{size}] split {fig['split']}")
    if "one" in args.parts:
        fig["one_worker"] = one_worker(data, args.model, args.runs, args.dup_timeout)
        _log(f"[{size}] one worker {fig['one_worker']}")
    parts = args.parts.split(",")
    for workers in (1, 2):  # "load": both; "load2": 2 workers only (a 1M start takes minutes)
        if "load" in parts or f"load{workers}" in parts:
            fig[f"load_{workers}w"] = throughput(data, args.model, workers, args.duration)
            _log(f"[{size}] load {workers} worker(s) {fig[f'load_{workers}w']}")
    return fig


def search_split(data: Path, model: str, runs: int) -> dict:
    """:mod:`benchmarks.search_split` in a child process: the index it opens is freed (all
    of it, at 1M) before the servers start."""
    cmd = [sys.executable, "-m", "benchmarks.search_split", "--data", str(data)]
    cmd += ["--model", model, "--runs", str(runs)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"search_split exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _split_line(fig: dict) -> str | None:
    """The in-process parts of a search, and what the request adds around it."""
    split, w = fig.get("split"), fig.get("one_worker", {})
    if not split:
        return None
    parts = []
    for kind in ("cached", "unseen"):
        s = split[kind]
        http = w.get(f"search_{kind}", {}).get("p50_ms")
        around = f", HTTP and the route {http - s['search']:.2f} ms" if http else ""
        parts.append(
            f"{kind} {s['search']} ms = encoder {s['encode']} + lexical {s['lexical']} + "
            f"FAISS k={split['pool']} {s['faiss_pool']} + rest {s['rest']}{around}"
        )
    beside = (
        " (the lexical side beside FAISS: rest is net of the overlap)"
        if split.get("beside")
        else ""
    )
    return "  in process" + beside + ": " + "; ".join(parts)


def _log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def _times(latency: dict, k10: float, k200: float | None) -> str:
    """A request's p50 as multiples of FAISS alone at k = 10 and at the search's pool (the
    issue's ratio was FAISS at the k the code asked)."""
    p50 = latency["p50_ms"]
    return f"{p50 / k10:.1f}x/" + (f"{p50 / k200:.1f}x" if k200 else "?")


def summary_lines(label: str, size: int, fig: dict) -> list[str]:
    f, w = fig["faiss"], fig["one_worker"]
    base = min(v["p50_ms"] for k, v in f.items() if k.startswith("k10_"))  # of the threads
    pool = f.get("k200_threads1", {}).get("p50_ms")
    d = w["duplicates"]
    return [
        f"{label} {size:,} ({f['kind']}): FAISS alone p50 {base} ms (k=10), {pool} ms (k=200, "
        f"the search's pool); IVF recall@10 {f['recall_at_10_ivf']['recall']}; a request "
        f"without search (/healthz) {w.get('healthz', {}).get('p50_ms')} ms",
        f"  /api/search p50/p95 cached {w['search_cached']['p50_ms']}/"
        f"{w['search_cached']['p95_ms']} ms ({_times(w['search_cached'], base, pool)} FAISS "
        f"k=10/k=200), unseen {w['search_unseen']['p50_ms']}/{w['search_unseen']['p95_ms']} ms "
        f"({_times(w['search_unseen'], base, pool)})",
        "  req/s 1 worker 4/8 clients "
        f"{fig['load_1w']['clients4']['rps']}/{fig['load_1w']['clients8']['rps']}, 2 workers "
        f"{fig['load_2w']['clients4']['rps']}/{fig['load_2w']['clients8']['rps']}",
        f"  filtered {w['filtered']['hits']} hits; /similar first {w['similar']['first_ms']} ms "
        f"warm {w['similar']['p50_ms']} ms; /duplicates first {d.get('first_ms')} ms warm "
        f"{d.get('p50_ms')} ms ({d.get('bytes')} bytes); RSS {w['rss_mb']} MB "
        f"(2 workers {fig['load_2w']['rss_mb']} MB; PSS "
        f"{fig['load_2w'].get('memory', {}).get('pss_mb')} MB)",
    ] + [line for line in (_split_line(fig),) if line]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 100_000]
    )
    ap.add_argument("--work", type=Path, default=Path("/tmp/ikg-search-speed"))
    ap.add_argument("--model", default="hash-512", help="encoder setting (hash-512: no model)")
    ap.add_argument("--label", default="after", help="the name of this run in the JSON file")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/search_speed.json")
    ap.add_argument("--runs", type=int, default=60, help="sequential requests per latency")
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per figure")
    ap.add_argument("--dup-timeout", type=float, default=60.0)
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument(
        "--no-links", action="store_true", help="prepare without the links and duplicate report"
    )
    ap.add_argument(
        "--parts",
        default="faiss,split,one,load",
        help="what to (re)measure: faiss, split, one, load[1|2]",
    )
    ap.add_argument(
        "--index",
        default="auto",
        choices=["auto", "flat", "ivf"],
        help="FAISS index of the prepared data (auto: by size; its own data directory else)",
    )
    ap.add_argument("--recall-only", type=int, help="only IVF recall@10 at this many names")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.prepare_only:
        return _prepare_main(args)
    saved = json.loads(args.json.read_text("utf-8")) if args.json.is_file() else {}
    if args.recall_only:
        fig = recall_without_store(args.recall_only, args.model)
        saved.setdefault("recall_without_store", {})[str(args.recall_only)] = fig
        args.json.write_text(json.dumps(saved, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return print(f"{args.recall_only:,} names: IVF {fig}")
    run = saved.setdefault(args.label, {})
    run["code"] = os.environ.get("PYTHONPATH", str(ROOT))
    run["machine"] = {"cpus": os.cpu_count(), "note": "shared with other jobs: compare ratios"}
    for size in args.sizes:
        fig = run.setdefault(str(size), {})
        try:
            measure(size, args, fig)
        except Exception as exc:  # e.g. a server killed for memory: keep what was measured
            fig["failed"] = f"{type(exc).__name__}: {str(exc)[:500]}"
            _log(f"[{size}] failed: {fig['failed']}")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(saved, ensure_ascii=False, indent=2) + "\n", "utf-8")
        try:
            print("\n".join(summary_lines(args.label, size, run[str(size)])), flush=True)
        except KeyError as missing:  # --parts measured only some of the figures
            print(f"{args.label} {size:,}: partial run (no {missing}); see {args.json}")


def _prepare_main(args: argparse.Namespace) -> None:
    for size in args.sizes:
        t0 = time.perf_counter()
        data, info = prepare(size, args.work, args.model, not args.no_links, args.index)
        print(f"[{size}] {data} {info} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
