"""What the machine says: resident sets, memory, sizes on disk, other benchmarks running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import ROOT

DEMO = ROOT / "data" / "demo"
OXIGRAPH = str(Path(sys.executable).parent / "oxigraph")


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


def mem_available_mb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def mem_total_gb() -> float:
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) / 2**20


def rss_guard(limit_mb: float, phase: list[str]) -> None:
    """A daemon thread that ends the process (exit 3, a note on stderr) above limit_mb."""
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


def self_command(*args: str) -> list[str]:
    """This package run again in a subprocess (``python -m benchmarks.scale ARGS``)."""
    return [sys.executable, "-m", "benchmarks.scale", *args]


def child_env() -> dict[str, str]:
    """The environment of a child: offline models, the project importable from anywhere."""
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
    }
