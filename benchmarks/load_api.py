"""Load benchmark of the HTTP API: requests/s and latency p50/p95 under concurrent load.

    python benchmarks/load_api.py [--sizes demo,100000] [--duration 10] [--connections 8]
                                  [--json benchmarks/results/load_api.json]

For each data set (``demo``: the bundled demo data built as the README's first command does;
a number: that many synthetic indicators, copies of the seed table under other department
names, loaded in bulk, with the embedding index built beside them) it starts ``ikg serve``
(uvicorn, one worker) on 127.0.0.1 in its own process, warms it up, and drives each endpoint
for a bounded time from a second process: ``wrk`` (Debian package ``wrk``) when it is on the
PATH, else a thread pool of httpx clients. Figures are printed and written as JSON.

Endpoints: ``/api/search`` with a Chinese query, ``/sparql`` with a typical reviewer query
(indicators whose name holds a word, with their table's department and source line, the
README's Q11) and a count over all indicators, and ``/healthz`` as the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

COUNT_QUERY = (
    "PREFIX ikg: <https://w3id.org/indicator-kg/ontology#>\n"
    "SELECT (COUNT(?i) AS ?n) WHERE { ?i a ikg:Indicator }"
)

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("IKG %d %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keyword_query() -> str:
    from kg.examples import example_queries

    by_id = {q.id: q for q in example_queries()}
    return by_id["Q11"].sparql


def endpoints() -> dict[str, str]:
    q = urllib.parse.quote
    return {
        "healthz": "/healthz",
        "api_search": "/api/search?q=" + q("离休干部慰问金发放") + "&k=10",
        "sparql_keyword": "/sparql?query=" + q(keyword_query()),
        "sparql_count": "/sparql?query=" + q(COUNT_QUERY),
    }


def prepare(size: str, work: Path) -> tuple[Path, dict]:
    """Build the data directory for one data set; return it and what was built."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from embeddings import index_for_store
    from kg.settings import Settings

    data = work / f"data-{size}"
    settings = Settings(data_dir=data)
    t0 = time.perf_counter()
    if size == "demo":
        from kg.build import build

        report = build([ROOT / "data" / "demo"], settings.store_path)
        info = {"tables": len(report.tables)}
    else:
        from run import synthetic_tables

        from kg.namespaces import ORGANISATIONS_GRAPH
        from kg.store import GraphStore

        n = int(size)
        with GraphStore(settings.store_path) as store:
            store.load_ontology()
            tables = 0
            for uri, g, orgs in synthetic_tables(n):
                store.bulk_add(uri, g)
                store.bulk_add(ORGANISATIONS_GRAPH, orgs)
                tables += 1
            store.flush()
            store.optimize()
        info = {"tables": tables}
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx = index_for_store(settings.store_path, data, settings)
    info.update(
        indicators=idx.count,
        graph_build_s=round(load_s, 1),
        index_build_s=round(time.perf_counter() - t0, 1),
        index_kind=idx.kind,
    )
    return data, info


class Server:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        ikg = shutil.which("ikg") or str(Path(sys.executable).parent / "ikg")
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [ikg, "serve", "--data-dir", str(data), "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"ikg serve exited with {self.proc.returncode}:\n{err[-2000:]}")
            if answers_healthz(self.base, timeout=2):
                return
            time.sleep(0.3)
        raise TimeoutError(f"ikg serve did not answer /healthz within {timeout} s")

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self) -> None:
        stop_group(self.proc)


def answers_healthz(base: str, timeout: float) -> bool:
    """The server at ``base`` answers ``/healthz`` with 200 (not yet, or not at all: False)."""
    import httpx

    try:
        return httpx.get(base + "/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def stop_group(proc: subprocess.Popen, grace_s: float = 10) -> None:
    """End a server started in its own process group: SIGTERM, then SIGKILL after ``grace_s``."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_wrk(url: str, duration: int, connections: int, script: Path) -> dict:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("IKG "))
    p50, p95, p99, requests, non2xx, errors = (int(x) for x in line.split()[1:])
    return {
        "tool": "wrk",
        "requests": requests,
        "rps": round(requests / duration, 1),
        "p50_ms": round(p50 / 1000, 2),
        "p95_ms": round(p95 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "non_2xx": non2xx,
        "errors": errors,
    }


def run_threads(url: str, duration: int, connections: int) -> dict:
    """The fallback load generator: ``connections`` threads, each with its own client."""
    import httpx

    latencies: list[float] = []
    bad = [0, 0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        mine: list[float] = []
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    r = client.get(url)
                    ok = r.status_code < 300
                except httpx.HTTPError:
                    ok = None
                mine.append(time.perf_counter() - t0)
                if ok is False:
                    with lock:
                        bad[0] += 1
                elif ok is None:
                    with lock:
                        bad[1] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "tool": "httpx threads",
        "requests": len(latencies),
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "non_2xx": bad[0],
        "errors": bad[1],
    }


def measure(size: str, work: Path, duration: int, connections: int) -> dict:
    print(f"[{size}] preparing data …", flush=True)
    data, info = prepare(size, work)
    print(f"[{size}] {info}", flush=True)
    server = Server(data)
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    results: dict = {"data": info, "endpoints": {}}
    try:
        server.wait()
        import httpx

        for name, path in endpoints().items():
            url = server.base + path
            r = httpx.get(url, timeout=60)  # warm-up (index load, first query)
            if r.status_code >= 300:
                results["endpoints"][name] = {"status": r.status_code, "body": r.text[:300]}
                print(f"[{size}] {name}: HTTP {r.status_code}, skipped: {r.text[:200]}")
                continue
            for _ in range(3):
                httpx.get(url, timeout=60)
            if shutil.which("wrk"):
                fig = run_wrk(url, duration, connections, script)
            else:
                fig = run_threads(url, duration, connections)
            results["endpoints"][name] = fig
            print(
                f"[{size}] {name:15s} {fig['rps']:8.1f} req/s  p50 {fig['p50_ms']:7.2f} ms  "
                f"p95 {fig['p95_ms']:7.2f} ms  non-2xx {fig['non_2xx']}  errors {fig['errors']}",
                flush=True,
            )
        results["server_rss_mb"] = round(server.rss_mb(), 1)
    finally:
        server.stop()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="demo,100000", help="demo and/or indicator counts")
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    ap.add_argument("--connections", type=int, default=8, help="concurrent connections")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the built data directories")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ikg-load-"))
    figures = {
        "machine": {"cpus": os.cpu_count()},
        "duration_s": args.duration,
        "connections": args.connections,
        "workers": 1,
        "load_tool": "wrk" if shutil.which("wrk") else "httpx threads",
        "runs": {},
    }
    try:
        for size in args.sizes.split(","):
            figures["runs"][size.strip()] = measure(
                size.strip(), work, args.duration, args.connections
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"written {args.json}")


if __name__ == "__main__":
    main()
