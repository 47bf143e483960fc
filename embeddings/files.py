"""Files the index step keeps beside the index (saved indicators, duplicate report, jieba's
words, the encoder's tokenizer), written whole or not at all."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def write_pickle(path: Path, obj: Any, pickler: type[pickle.Pickler] = pickle.Pickler) -> None:
    """``obj`` pickled to ``path``: written to a temporary file beside it, then renamed over
    it, so a reader never meets half a file and two writers never share a temporary one; the
    temporary file is removed if anything fails. ``pickler``: a subclass (persistent ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickler(fh, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
