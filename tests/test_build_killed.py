"""A build killed at any moment never leaves links to indicators that no longer exist.

Two corpus tables are built with their similarity and library links; then builds of the same
tables with renamed indicators (new indicator URIs, same table URIs) and of the originals
again are killed with SIGKILL at seeded random moments, 20 times. After every kill the store
must hold no link (similarity node, library match) that names a missing indicator, and
``ikg validate`` must say so at the end.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.store import DANGLING_LINKS, GraphStore

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo" / "corpus"
#: one department's project in two years: indicators carried over are similarity links
TABLES = (
    "hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.csv",
    "hunan_xiangtan_sanitation_2024_fog_cannon_project_target.csv",
)
LIBRARY = ROOT / "data" / "demo" / "libraries" / "generic_common_indicators_gx_codes_sample.csv"

pytestmark = pytest.mark.slow


def _ikg(*args: str) -> list[str]:
    return [sys.executable, "-m", "ikg.cli", *args]


def _renamed(src: Path, dst: Path) -> None:
    """The same table with every indicator renamed: new indicator URIs, same table URI."""
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    at = header.index("三级指标")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] == "指标" and len(cells) > at and cells[at]:
            cells[at] += "（修订）"
        out.append(",".join(cells))
    dst.write_text("\n".join(out) + "\n", encoding="utf-8-sig")


def _dangling(store: Path) -> list:
    with GraphStore(store, read_only=True) as graph_store:
        return graph_store.select(DANGLING_LINKS)[1]


def _links(store: Path) -> int:
    with GraphStore(store, read_only=True) as graph_store:
        _, rows = graph_store.select(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?l ikg:linksIndicator ?i } }"
        )
        return int(rows[0][0])


def test_a_build_killed_at_random_points_leaves_no_dangling_link(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IKG_DATA_DIR": str(tmp_path / "data")}
    original, renamed = tmp_path / "original", tmp_path / "renamed"
    original.mkdir()
    renamed.mkdir()
    for name in TABLES:
        shutil.copy(DEMO / name, original / name)
        _renamed(DEMO / name, renamed / name)
    shutil.copy(LIBRARY, original / LIBRARY.name)
    shutil.copy(LIBRARY, renamed / LIBRARY.name)
    store = tmp_path / "data" / "store"

    started = time.monotonic()
    subprocess.run(_ikg("build", str(original)), env=env, check=True, capture_output=True)
    full = time.monotonic() - started
    assert _links(store) > 0 and _dangling(store) == []

    rng = random.Random(20261203)
    for n in range(20):
        source = renamed if n % 2 == 0 else original
        proc = subprocess.Popen(
            _ikg("build", str(source)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.2, full))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _dangling(store) == [], f"kill {n + 1}"

    done = subprocess.run(_ikg("build", str(renamed)), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    valid = subprocess.run(_ikg("validate"), env=env, capture_output=True, text=True)
    assert valid.returncode == 0, valid.stderr
    assert "0 条链接指向不存在的指标" in valid.stderr
