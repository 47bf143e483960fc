"""Speed and scale of the embedding index: encode throughput, index build, query latency, memory.

    python benchmarks/embeddings_speed.py [--sizes 10000,100000,1000000] [--dim 512] [--models ...]

* encode throughput: names per second on the 499 short Chinese indicator names of
  the evaluation set (repeated to --encode-n; no encoder caches by text), batch 64,
  after a warm-up, per model;
* index: synthetic clustered vectors (a mixture of 2,000 Gaussian clusters, L2
  normalised — uniform random vectors would be an unfair worst case for HNSW/IVF)
  at each size, for flat (exact), HNSW (M=32, efSearch=64) and IVF (nlist=4√n,
  nprobe swept nlist/32 … nlist/8; efSearch swept 64 … 256): build time, serialised size (≈ memory), single-query latency
  p50/p95 over --queries queries (k=10, one thread as a CLI query runs), and
  recall@10 of the approximate indexes against flat.

Results go to stdout and benchmarks/results/embeddings_speed.txt.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings.encoders import HashingEncoder, load_encoder  # noqa: E402
from embeddings.faiss_index import FLAT_MAX, FaissIndex, choose_kind  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def names() -> list[str]:
    with (ROOT / "benchmarks" / "data" / "embeddings_indicators.tsv").open(encoding="utf-8") as fh:
        return [r["name"] for r in csv.DictReader(fh, delimiter="\t")]


def encode_throughput(models: list[str], n: int) -> list[str]:
    base = names()
    texts = (base * (n // len(base) + 1))[:n]  # no encoder here caches by text
    out = []
    for m in models:
        try:
            t0 = time.perf_counter()
            enc = HashingEncoder() if m == "hash" else load_encoder(m)
            load = time.perf_counter() - t0
        except (ImportError, OSError) as exc:
            out.append(f"{m:18} skipped: {exc}")
            continue
        enc.encode(texts[:16])
        t0 = time.perf_counter()
        enc.encode(texts, batch_size=64)
        dt = time.perf_counter() - t0
        out.append(
            f"{m:18} {n / dt:9.1f} names/s  (load {load:.1f} s, dim {enc.dim}, {enc.model_id})"
        )
        print(out[-1], flush=True)
    return out


def synthetic(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((2000, dim)).astype(np.float32)
    which = rng.integers(0, len(centers), n)
    x = centers[which] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def bench_index(n: int, dim: int, n_queries: int, kinds: list[str]) -> list[str]:
    import faiss

    faiss.omp_set_num_threads(2)
    x = synthetic(n, dim)
    rng = np.random.default_rng(1)
    q = x[rng.integers(0, n, n_queries)] + 0.05 * rng.standard_normal((n_queries, dim)).astype(
        np.float32
    )
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    ids = [f"i{i}" for i in range(n)]
    truth: list[set[str]] | None = None
    lines = []
    for kind in kinds:
        fi = FaissIndex(dim, model_id="synthetic", kind=kind)
        t0 = time.perf_counter()
        fi.index(ids, x)
        build = time.perf_counter() - t0
        size = len(faiss.serialize_index(fi._index))
        if kind == "hnsw":
            settings = [("efSearch", e) for e in (64, 128, 256)]
        elif kind == "ivf":
            base = faiss.extract_index_ivf(fi._index)
            settings = [("nprobe", max(1, base.nlist // d)) for d in (32, 16, 8)]
        else:
            settings = [("", 0)]
        for name, value in settings:
            if name == "efSearch":
                fi._index.hnsw.efSearch = value
            elif name == "nprobe":
                faiss.extract_index_ivf(fi._index).nprobe = value
            faiss.omp_set_num_threads(1)
            lat = []
            results = []
            for row in q:
                t1 = time.perf_counter()
                results.append(fi.search(row[None, :], 10)[0])
                lat.append(time.perf_counter() - t1)
            faiss.omp_set_num_threads(2)
            got = [{h for h, _ in r} for r in results]
            if kind == "flat":
                truth = got
            assert truth is not None
            recall = float(np.mean([len(g & t) / 10 for g, t in zip(got, truth, strict=True)]))
            p50, p95 = np.percentile(np.array(lat) * 1000, [50, 95])
            label = f"{kind} {name}={value}" if name else kind
            lines.append(
                f"{n:>9,} {label:18} build {build:7.2f} s  size {size / 2**20:8.1f} MiB  "
                f"query p50 {p50:7.3f} ms  p95 {p95:7.3f} ms  recall@10 {recall:.3f}"
            )
            print(lines[-1], flush=True)
        del fi
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--kinds", default="flat,hnsw,ivf")
    ap.add_argument("--models", default="use-multilingual,e5-small-q4,minilm-l6,m3e-small")
    ap.add_argument("--encode-n", type=int, default=2000)
    args = ap.parse_args(argv)
    out = ["== encode throughput (short Chinese indicator names, batch 64) =="]
    print(out[0], flush=True)
    if args.models:
        out += encode_throughput([m for m in args.models.split(",") if m], args.encode_n)
    head = f"== index: synthetic clustered vectors, dim {args.dim}, k=10, single-thread queries =="
    print(head, flush=True)
    out.append(head)
    for n in (int(s) for s in args.sizes.split(",")):
        out += bench_index(n, args.dim, args.queries, args.kinds.split(","))
    auto = ", ".join(f"{n:,} → {choose_kind(n)}" for n in (10_000, 100_000, 1_000_000))
    out.append(f"automatic choice (FLAT_MAX={FLAT_MAX:,}): {auto}")
    print(out[-1])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embeddings_speed.txt").write_text("\n".join(out) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
