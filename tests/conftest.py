"""Shared fixtures: the real seed table, parsed once and built once per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the shared data (seed tables) beside the checkout, or where INDICATOR_KG_TEST_SHARED points:
#: outside the IKG_ prefix, which kg.settings reserves for settings and checks strictly
SHARED = Path(os.environ.get("INDICATOR_KG_TEST_SHARED", ROOT.parent / "shared"))
SEED = SHARED / "seeds" / "000_3b89ef93caa61199.txt"


def seed_lines() -> list[str]:
    """The seed's lines, 1-based via index + 1."""
    return SEED.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="session")
def seed_path() -> Path:
    if not SEED.exists():
        pytest.fail(f"seed table not found at {SEED}; the tests need ../shared beside the checkout")
    return SEED


@pytest.fixture(scope="session")
def seed_parsed(seed_path):
    from kg.readers import seed_text

    return seed_text.read(seed_path)


@pytest.fixture(scope="session")
def seed_build(seed_path, tmp_path_factory):
    """The seed built into a fresh on-disk store; yields (report, store path)."""
    from kg.build import build

    store_path = tmp_path_factory.mktemp("seed-data") / "store"
    report = build([seed_path], store_path)
    return report, store_path


@pytest.fixture(scope="session")
def seed_store(seed_build):
    from kg.store import GraphStore

    _, store_path = seed_build
    store = GraphStore(store_path, read_only=True)
    yield store
