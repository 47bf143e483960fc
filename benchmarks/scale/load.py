"""API load: ``ikg serve --workers N`` on a data directory, wrk against three endpoints
(benchmarks/load_api.py's script)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .machine import vm

#: seconds ikg serve may take to answer /healthz (each worker copies the store into memory)
START_TIMEOUT_S = 900


def _start_serve(data: Path, port: int, workers: int) -> subprocess.Popen:
    ikg = str(Path(sys.executable).parent / "ikg")
    return subprocess.Popen(
        [ikg, "serve", "--data-dir", str(data), "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_healthy(proc: subprocess.Popen, base: str) -> float:
    """Seconds until /healthz answers 200 (the server's error if it exits first)."""
    import httpx

    t0 = time.monotonic()
    deadline = t0 + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"ikg serve exited: {proc.stderr.read().decode()[-1500:]}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"ikg serve did not answer /healthz within {START_TIMEOUT_S} s")
        time.sleep(0.5)


def _load_endpoints(base: str, workers: int, duration: int, connections: int, script: Path):
    """wrk figures per endpoint (each worker warmed first); an HTTP error status instead."""
    import httpx
    from load_api import endpoints, run_wrk

    out = {}
    for name, path in endpoints().items():
        if name == "healthz":
            continue
        url = base + path
        for _ in range(2 + 2 * workers):  # warm every worker (index load, caches)
            r = httpx.get(url, timeout=300)
        if r.status_code >= 300:
            out[name] = {"status": r.status_code, "body": r.text[:300]}
            continue
        out[name] = run_wrk(url, duration, connections, script)
    return out


def _group_rss_mb(pid: int) -> float:
    rss = 0.0
    for p in subprocess.run(
        ["pgrep", "-g", str(pid)], capture_output=True, text=True
    ).stdout.split():
        r = vm("VmRSS", p)
        rss += r if r == r else 0  # NaN: the process ended meanwhile
    return rss


def api_load(data: Path, workers: int, duration: int, connections: int, work: Path) -> dict:
    """``ikg serve --workers N`` on the data directory, wrk against three endpoints."""
    from load_api import WRK_SCRIPT, free_port, stop_group

    port = free_port()
    proc = _start_serve(data, port, workers)
    base = f"http://127.0.0.1:{port}"
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    out: dict = {"workers": workers, "endpoints": {}}
    try:
        out["start_s"] = round(_wait_healthy(proc, base), 1)
        out["endpoints"] = _load_endpoints(base, workers, duration, connections, script)
        out["server_rss_mb"] = round(_group_rss_mb(proc.pid), 1)
    finally:
        stop_group(proc, grace_s=15)
    return out
