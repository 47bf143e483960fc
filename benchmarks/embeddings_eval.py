"""Quality of the embedding index on the evaluation set: one command prints every figure.

    python benchmarks/embeddings_eval.py [--models use-multilingual,e5-small-q4,...] [--quick]

Data (benchmarks/data/, see README.md there): ``embeddings_indicators.tsv`` (499
names from the seed and ../shared/corpus with file and line), ``embeddings_pairs.tsv``
(labelled pairs: duplicate / related / unrelated), ``embeddings_queries.tsv``
(search queries with their relevant names).

Pairs are split in two by a hash of the pair: **dev** picks every weight and
threshold (α, γ, the bands), **test** is held apart and only measured. A pair is
positive when labelled ``duplicate``; related and unrelated are negatives.

Printed, for each model and for lexical only / dense only / hybrid / hybrid +
structure / hybrid + structure + siblings (the shipped score, see
embeddings/residues.py): precision, recall and F1 on test at the dev-chosen
threshold, search MRR over the queries, encode throughput; what each part of the
sibling signal adds; the text-recipe comparison; the precision-recall curves as
``benchmarks/results/embeddings_pr.png``; everything also in
``benchmarks/results/embeddings_eval.json``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings import residues as rz  # noqa: E402
from embeddings.encoders import Encoder, HashingEncoder, load_encoder  # noqa: E402
from embeddings.lexical import BM25Lexical, LexicalIndex  # noqa: E402
from embeddings.scoring import (  # noqa: E402
    band_caps,
    rescale_dense,
    structure_score,
    structure_signals,
)
from embeddings.text import IndicatorText, embed_text  # noqa: E402
from kg.targets import parse_target  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_MODELS = ["hash", "use-multilingual", "e5-small-q4", "minilm-l6", "m3e-small"]


# --------------------------------------------------------------------------- data
def load_pool() -> list[IndicatorText]:
    out = []
    with (DATA / "embeddings_indicators.tsv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            tv = parse_target(r["target"]) if r["target"] else None
            unit = form = None
            if tv is not None and tv.form != "text":
                unit, form = tv.unit, tv.form
            elif (
                r["target"] and len(r["target"]) <= 4 and not any(c.isdigit() for c in r["target"])
            ):
                unit = r["target"].lstrip("≧≥≤=") or None  # a bare unit printed as the target
            out.append(
                IndicatorText(
                    id=r["id"],
                    name=r["name"],
                    level1=r["level1"],
                    level2=r["level2"],
                    target=r["target"],
                    unit=unit,
                    form=form,
                    source_file=r["file"],
                    source_line=int(r["line"]),
                )
            )
    return out


@dataclass
class Pair:
    label: str
    kind: str  # related pairs: 'measure' (same subject, different measure) or 'object'
    a: int
    b: int
    split: str
    note: str

    @property
    def positive(self) -> bool:
        return self.label == "duplicate"


def split_of(a: str, b: str) -> str:
    h = hashlib.sha1("\x1f".join(sorted((a, b))).encode()).digest()[0]
    return "dev" if h % 2 == 0 else "test"


def load_pairs(pool: list[IndicatorText]) -> list[Pair]:
    first: dict[str, list[int]] = {}
    for i, ind in enumerate(pool):
        first.setdefault(ind.name, []).append(i)
    out = []
    with (DATA / "embeddings_pairs.tsv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            ia = first[r["a"]][0]
            ib = first[r["b"]][1] if r["a"] == r["b"] else first[r["b"]][0]
            out.append(Pair(r["label"], r["kind"], ia, ib, split_of(r["a"], r["b"]), r["note"]))
    return out


def load_queries() -> list[tuple[str, set[str]]]:
    with (DATA / "embeddings_queries.tsv").open(encoding="utf-8") as fh:
        return [
            (r["query"], set(r["relevant"].split(";"))) for r in csv.DictReader(fh, delimiter="\t")
        ]


# --------------------------------------------------------------------------- metrics
def prf(scores: np.ndarray, labels: np.ndarray, t: float) -> tuple[float, float, float]:
    pred = scores >= t
    tp = float(np.sum(pred & labels))
    p = tp / max(1.0, float(np.sum(pred)))
    r = tp / max(1.0, float(np.sum(labels)))
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def best_threshold(
    scores: np.ndarray, labels: np.ndarray, beta: float = 1.0
) -> tuple[float, float]:
    """The threshold with the best F-beta (midpoint between neighbouring scores), and that score."""
    cands = np.unique(scores)
    mids = (cands[:-1] + cands[1:]) / 2 if len(cands) > 1 else cands
    best = (0.5, -1.0)
    for t in mids:
        p, r, _ = prf(scores, labels, t)
        b2 = beta * beta
        f = (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0
        if f > best[1] + 1e-12:
            best = (float(t), f)
    return best


def threshold_for_recall(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    pos = np.sort(scores[labels])
    if not len(pos):
        return 0.5
    k = int(np.floor((1 - recall) * len(pos)))
    return float(pos[min(k, len(pos) - 1)]) - 1e-6


def mrr(rank_lists: list[list[int]], relevant: list[set[int]]) -> float:
    total = 0.0
    for ranked, rel in zip(rank_lists, relevant, strict=True):
        for pos, i in enumerate(ranked, start=1):
            if i in rel:
                total += 1.0 / pos
                break
    return total / len(rank_lists)


# --------------------------------------------------------------------------- features
@dataclass
class Features:
    dense: np.ndarray | None  # raw cosine per pair
    tfidf: np.ndarray
    cont: np.ndarray
    struct: np.ndarray
    labels: np.ndarray
    split: np.ndarray  # True = dev
    narrow: np.ndarray  # True unless a related pair of the 'object' kind


def pair_features(pool, pairs, vecs, lex: LexicalIndex) -> Features:
    dense = None
    if vecs is not None:
        dense = np.array([float(vecs[p.a] @ vecs[p.b]) for p in pairs])
    tfidf = np.array([lex.cosine(pool[p.a].name, pool[p.b].name) for p in pairs])
    cont = np.array([lex.containment(pool[p.a].name, pool[p.b].name) for p in pairs])
    struct = np.array([structure_score(structure_signals(pool[p.a], pool[p.b])) for p in pairs])
    return Features(
        dense,
        tfidf,
        cont,
        struct,
        np.array([p.positive for p in pairs]),
        np.array([p.split == "dev" for p in pairs]),
        np.array([p.kind != "object" for p in pairs]),
    )


def combine(
    f: Features,
    floor: float,
    alpha: float,
    gamma: float,
    *,
    lexical=True,
    dense=True,
    structure=True,
    sibling: np.ndarray | None = None,
    delta: float = 0.0,
) -> np.ndarray:
    lex = np.maximum(f.tfidf, f.cont)
    if dense and f.dense is not None:
        dn = np.array([rescale_dense(c, floor) for c in f.dense])
        text = alpha * dn + (1 - alpha) * lex if lexical else dn
    else:
        text = lex
    s = text * (1 - gamma * (1 - f.struct)) if structure else text
    return s if sibling is None else s * (1 - delta * sibling)


# --------------------------------------------------------------------------- siblings
#: word-equivalence thresholds tried (rescaled cosine of two residue words)
THETAS = (0.5, 0.6, 0.7, 0.8, 0.9)


def lexical_residues(pool, pairs) -> list[rz.Residues]:
    return [rz.lexical_residues(pool[p.a].name, pool[p.b].name) for p in pairs]


def sibling_flags(
    res: list[rz.Residues],
    vecs: dict[str, np.ndarray] | None,
    floor: float,
    theta: float,
    *,
    families: bool = True,
) -> np.ndarray:
    """1.0 where the pair is a sibling after matching (dense word match when ``vecs``)."""
    sim = None
    if vecs is not None:

        def sim(wa, wb):
            return [[rescale_dense(float(vecs[x] @ vecs[y]), floor) for y in wb] for x in wa]

    return np.array([rz.match(r, sim, theta, families=families).sibling for r in res], float)


def cap_flags(
    pool,
    pairs,
    res: list[rz.Residues],
    vecs: dict[str, np.ndarray] | None,
    floor: float,
    theta: float,
) -> np.ndarray:
    """1.0 where the product's band caps (embeddings.scoring.band_caps) keep the pair out of
    the duplicate band: a different measure, unit, target value or object."""
    sim = None
    if vecs is not None:

        def sim(wa, wb):
            return [[rescale_dense(float(vecs[x] @ vecs[y]), floor) for y in wb] for x in wa]

    out = []
    for p, r in zip(pairs, res, strict=True):
        a, b = pool[p.a], pool[p.b]
        out.append(bool(band_caps(a, b, rz.match(r, sim, theta), structure_signals(a, b))))
    return np.array(out, float)


def word_vectors(enc: Encoder, res: list[rz.Residues]) -> dict[str, np.ndarray]:
    words = sorted({w for r in res if r.a and r.b for w in (*r.a, *r.b)})
    return dict(zip(words, enc.encode(words), strict=True)) if words else {}


def tune_sibling(
    f: Features, base: np.ndarray, flags: dict[float | None, np.ndarray]
) -> tuple[float, float | None]:
    """δ and θ with the best dev F1 (ties: best dev average precision, then the smaller δ)."""
    from sklearn.metrics import average_precision_score

    dev = f.split
    best: tuple[tuple[float, float, float], float, float | None] | None = None
    for theta, sib in flags.items():
        for d in np.round(np.arange(0.0, 1.01, 0.1), 2):
            s = base * (1 - d * sib)
            _, f1 = best_threshold(s[dev], f.labels[dev])
            ap = float(average_precision_score(f.labels[dev], s[dev]))
            key = (round(f1, 6), round(ap, 6), -float(d))
            if best is None or key > best[0]:
                best = (key, float(d), theta)
    assert best is not None
    return best[1], best[2]


def evaluate_variant(scores: np.ndarray, f: Features) -> dict[str, float]:
    dev, test = f.split, ~f.split
    t, dev_f1 = best_threshold(scores[dev], f.labels[dev])
    p, r, f1 = prf(scores[test], f.labels[test], t)
    pa, ra, fa = prf(scores, f.labels, t)
    # the narrower reading: related = same subject, different measure (no 'object' pairs);
    # its own threshold, also chosen on dev
    nd, nt = dev & f.narrow, test & f.narrow
    tn, _ = best_threshold(scores[nd], f.labels[nd])
    pn, rn, fn = prf(scores[nt], f.labels[nt], tn)
    pt, rt, ft = prf(scores[nt], f.labels[nt], t)  # narrow set, at the strict (shipped) threshold
    return {
        "threshold": round(t, 4),
        "dev_f1": round(dev_f1, 4),
        "test_p": round(p, 4),
        "test_r": round(r, 4),
        "test_f1": round(f1, 4),
        "all_p": round(pa, 4),
        "all_r": round(ra, 4),
        "all_f1": round(fa, 4),
        "narrow_threshold": round(tn, 4),
        "narrow_test_p": round(pn, 4),
        "narrow_test_r": round(rn, 4),
        "narrow_test_f1": round(fn, 4),
        "narrow_at_t_p": round(pt, 4),
        "narrow_at_t_r": round(rt, 4),
        "narrow_at_t_f1": round(ft, 4),
    }


def tune(f: Features, floor: float, *, lexical=True, structure=True) -> tuple[float, float]:
    """α and γ with the best dev F1 (ties: the simpler, i.e. smaller γ, α nearer 0.5)."""
    best = (-1.0, 0.5, 0.0)
    alphas = np.round(np.arange(0.0, 1.01, 0.1), 2) if lexical else [1.0]
    gammas = np.round(np.arange(0.0, 1.01, 0.1), 2) if structure else [0.0]
    for a in alphas:
        for g in gammas:
            s = combine(f, floor, a, g, lexical=lexical, structure=structure)
            _, f1 = best_threshold(s[f.split], f.labels[f.split])
            key = f1 - 1e-4 * g - 1e-5 * abs(a - 0.5)
            if key > best[0]:
                best = (key, float(a), float(g))
    return best[1], best[2]


def dense_floor(vecs: np.ndarray, n: int = 2000, seed: int = 0) -> float:
    """Median cosine over random pairs: the model's 'unrelated' level."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(vecs), n)
    j = rng.integers(0, len(vecs), n)
    keep = i != j
    return float(np.median(np.sum(vecs[i[keep]] * vecs[j[keep]], axis=1)))


# --------------------------------------------------------------------------- search
def search_mrr(pool, queries, vecs_pool, q_vecs, lex, bm25, floor, alpha) -> dict[str, float]:
    by_name: dict[str, set[int]] = {}
    for i, ind in enumerate(pool):
        by_name.setdefault(ind.name, set()).add(i)
    rel = [set().union(*(by_name[n] for n in names)) for _, names in queries]
    qtexts = [q for q, _ in queries]
    lexs = lex.cosine_to_all(qtexts)
    out = {"lexical_tfidf": mrr([list(np.argsort(-row)) for row in lexs], rel)}
    bms = np.stack([bm25.scores(q) for q in qtexts])
    out["lexical_bm25"] = mrr([list(np.argsort(-row)) for row in bms], rel)
    if vecs_pool is not None:
        dense = q_vecs @ vecs_pool.T
        out["dense"] = mrr([list(np.argsort(-row)) for row in dense], rel)
        dn = np.clip((dense - floor) / (1 - floor), 0, 1)
        hyb = alpha * dn + (1 - alpha) * lexs
        out["hybrid"] = mrr([list(np.argsort(-row)) for row in hyb], rel)
    return {k: round(v, 4) for k, v in out.items()}


# --------------------------------------------------------------------------- main
def encode_timed(enc: Encoder, texts: list[str]) -> tuple[np.ndarray, float]:
    enc.encode(texts[:8])  # warm-up
    t0 = time.perf_counter()
    v = enc.encode(texts, batch_size=64)
    return v, len(texts) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--recipes", default="name,name+level2,name+level2+unit,name+target")
    ap.add_argument("--recipe-model", default="use-multilingual")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)

    pool = load_pool()
    pairs = load_pairs(pool)
    queries = load_queries()
    n_dev = sum(p.split == "dev" for p in pairs)
    counts = {
        lab: sum(p.label == lab for p in pairs) for lab in ("duplicate", "related", "unrelated")
    }
    print(
        f"evaluation set: {len(pool)} names, {len(pairs)} pairs {counts} "
        f"(dev {n_dev}, test {len(pairs) - n_dev}), {len(queries)} search queries"
    )
    names = [p.name for p in pool]
    lex = LexicalIndex(names)
    bm25 = BM25Lexical(names)
    results: dict[str, object] = {
        "set": {
            "names": len(pool),
            "pairs": len(pairs),
            **counts,
            "dev": n_dev,
            "queries": len(queries),
        }
    }

    # lexical only: no model
    f_lex = pair_features(pool, pairs, None, lex)
    lex_only = evaluate_variant(combine(f_lex, 0, 0, 0, dense=False, structure=False), f_lex)
    g_lex = tune(f_lex, 0.0, lexical=False, structure=True)[1]
    lex_struct = evaluate_variant(combine(f_lex, 0, 0, g_lex, dense=False), f_lex)
    res_lex = lexical_residues(pool, pairs)
    sib_lex = sibling_flags(res_lex, None, 0.0, 1.0)
    base_lex = combine(f_lex, 0, 0, g_lex, dense=False)
    d_lex, _ = tune_sibling(f_lex, base_lex, {None: sib_lex})
    lex_sib = evaluate_variant(base_lex * (1 - d_lex * sib_lex), f_lex)
    results["lexical"] = {
        "pairs": lex_only,
        "pairs+structure": {**lex_struct, "gamma": g_lex},
        "pairs+structure+siblings": {**lex_sib, "gamma": g_lex, "delta": d_lex},
        "search": search_mrr(pool, queries, None, None, lex, bm25, 0, 0),
    }
    narrow = f_lex.narrow
    curves: dict[str, tuple[np.ndarray, np.ndarray, str]] = {
        "lexical only": (combine(f_lex, 0, 0, 0, dense=False, structure=False), f_lex.labels, "-"),
        "lexical + structure": (combine(f_lex, 0, 0, g_lex, dense=False), f_lex.labels, "-"),
    }
    print(
        f"sibling pairs (lexical residues, before matching): "
        f"{int(sum(r.sibling for r in res_lex))} of {len(pairs)}"
    )

    models = [m for m in args.models.split(",") if m]
    per_model: dict[str, dict] = {}
    for m in models:
        try:
            t0 = time.perf_counter()
            enc = HashingEncoder() if m == "hash" else load_encoder(m)
            load_s = time.perf_counter() - t0
        except (ImportError, OSError) as exc:
            print(f"[skip] {m}: {exc}")
            continue
        vecs, rate = encode_timed(enc, names)
        q_vecs = enc.encode([q for q, _ in queries])
        floor = dense_floor(vecs)
        f = pair_features(pool, pairs, vecs, lex)
        dense_only = evaluate_variant(f.dense, f)
        a_h, _ = tune(f, floor, structure=False)
        hybrid = evaluate_variant(combine(f, floor, a_h, 0, structure=False), f)
        a_s, g_s = tune(f, floor)
        s_full = combine(f, floor, a_s, g_s)
        full = evaluate_variant(s_full, f)
        dense_struct_g = tune(f, floor, lexical=False)[1]
        dense_struct = evaluate_variant(combine(f, floor, 1.0, dense_struct_g, lexical=False), f)
        # siblings: α and γ stay as tuned above (search uses α), δ and θ chosen on dev
        wv = word_vectors(enc, res_lex)
        flags = {t: sibling_flags(res_lex, wv, floor, t) for t in THETAS}
        delta, theta = tune_sibling(f, s_full, flags)
        sib = flags[theta]
        s_sib = s_full * (1 - delta * sib)
        full_sib = evaluate_variant(s_sib, f)
        # the band caps: a capped pair is never a duplicate, whatever its score
        caps = cap_flags(pool, pairs, res_lex, wv, floor, theta)
        capped = evaluate_variant(s_sib * (1 - caps), f)
        # and at the threshold the product ships (the siblings' dev threshold), not re-chosen
        tp_, tr_, tf_ = prf(
            (s_sib * (1 - caps))[~f.split], f.labels[~f.split], full_sib["threshold"]
        )
        capped["at_shipped_threshold"] = {
            "threshold": full_sib["threshold"],
            "test_p": round(tp_, 4),
            "test_r": round(tr_, 4),
            "test_f1": round(tf_, 4),
        }
        # what each part of the sibling check adds (same α, γ; δ re-chosen on dev for each)
        parts = {}
        for name, fl in (
            (
                "alignment + qualifiers only",
                {None: sibling_flags(res_lex, None, floor, 1.0, families=False)},
            ),
            ("+ word families", {None: sibling_flags(res_lex, None, floor, 1.0)}),
            (
                "+ dense word match",
                {t: sibling_flags(res_lex, wv, floor, t, families=False) for t in THETAS},
            ),
            ("+ families + dense word match (shipped)", flags),
        ):
            d_p, t_p = tune_sibling(f, s_full, fl)
            v = evaluate_variant(s_full * (1 - d_p * fl[t_p]), f)
            parts[name] = {**v, "delta": d_p, "theta": t_p}
        # bands on the dev half: duplicate = best-F1 threshold; review = best F2 (recall weighs
        # twice: more duplicates found, more to look at); related = best F1 for "duplicate or
        # related" vs unrelated
        dev = f.split
        t_dup = full_sib["threshold"]
        t_rev = min(t_dup, best_threshold(s_sib[dev], f.labels[dev], beta=2.0)[0])
        rel_labels = np.array([p.label != "unrelated" for p in pairs])
        # (before the sibling factor: a sibling is related, and scoring.score_pair keeps such a
        # pair in the related band)
        t_rel = min(t_rev, best_threshold(s_full[dev], rel_labels[dev])[0])
        search = search_mrr(pool, queries, vecs, q_vecs, lex, bm25, floor, a_s)
        per_model[m] = {
            "model_id": enc.model_id,
            "dim": enc.dim,
            "load_s": round(load_s, 2),
            "encode_per_s": round(rate, 1),
            "floor": round(floor, 4),
            "dense_only": dense_only,
            "dense+structure": {**dense_struct, "gamma": dense_struct_g},
            "hybrid": {**hybrid, "alpha": a_h},
            "hybrid+structure": {**full, "alpha": a_s, "gamma": g_s},
            "hybrid+structure+siblings": {
                **full_sib,
                "alpha": a_s,
                "gamma": g_s,
                "delta": delta,
                "theta": theta,
            },
            "sibling_parts": parts,
            "hybrid+structure+siblings+caps": {**capped, "capped_pairs": int(caps.sum())},
            "bands": {
                "duplicate": round(t_dup, 4),
                "review": round(t_rev, 4),
                "related": round(t_rel, 4),
            },
            "search": search,
        }
        if m == args.recipe_model:
            curves[f"{m}: dense only"] = (f.dense, f.labels, "-")
            curves[f"{m}: hybrid"] = (combine(f, floor, a_h, 0, structure=False), f.labels, "-")
            curves[f"{m}: hybrid + structure"] = (s_full, f.labels, "-")
            curves[f"{m}: hybrid + structure + siblings"] = (s_sib, f.labels, "-")
        else:
            curves[f"{m}: hybrid + structure + siblings"] = (s_sib, f.labels, "--")
        if m == args.recipe_model:
            rec = {}
            for recipe in args.recipes.split(","):
                texts = [embed_text(p, recipe) for p in pool]  # type: ignore[arg-type]
                rv = enc.encode(texts)
                rf = pair_features(pool, pairs, rv, lex)
                rfloor = dense_floor(rv)
                ra, rg = tune(rf, rfloor)
                rec[recipe] = {
                    "dense_test_f1": evaluate_variant(rf.dense, rf)["test_f1"],
                    "hybrid+structure_test_f1": evaluate_variant(combine(rf, rfloor, ra, rg), rf)[
                        "test_f1"
                    ],
                    "search_dense_mrr": search_mrr(
                        pool, queries, rv, q_vecs, lex, bm25, rfloor, ra
                    )["dense"],
                }
            results["recipes"] = {"model": m, **rec}
        del enc
    results["models"] = per_model
    report(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embeddings_eval.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), "utf-8"
    )
    if not args.no_plot:
        plot(curves, narrow, RESULTS / "embeddings_pr.png")
    return 0


def report(res: dict) -> None:
    lines = []
    lines.append(
        "\n== pair classification (positive = duplicate; threshold from dev, figures on test) =="
    )
    lines.append(
        "negatives: all related + unrelated pairs | narrow: without same-measure/different-object pairs"
    )
    lines.append(
        "(narrow columns: left at the strict threshold, right at the narrow set's own dev threshold)"
    )
    lines.append(
        f"{'model / variant':52} {'thr':>6} {'P':>6} {'R':>6} {'F1':>6} {'all-F1':>6} | "
        f"{'P':>6} {'R':>6} {'F1':>6} | {'thr':>6} {'F1':>6}"
    )

    def row(name, v):
        lines.append(
            f"{name:52} {v['threshold']:6.3f} {v['test_p']:6.3f} {v['test_r']:6.3f} "
            f"{v['test_f1']:6.3f} {v['all_f1']:6.3f} | {v['narrow_at_t_p']:6.3f} "
            f"{v['narrow_at_t_r']:6.3f} {v['narrow_at_t_f1']:6.3f} | "
            f"{v['narrow_threshold']:6.3f} {v['narrow_test_f1']:6.3f}"
        )

    row("lexical only (char 1-2-gram tfidf/containment)", res["lexical"]["pairs"])
    row("lexical + structure", res["lexical"]["pairs+structure"])
    ls = res["lexical"]["pairs+structure+siblings"]
    row(f"lexical + structure + siblings (d={ls['delta']})", ls)
    for m, r in res["models"].items():
        row(f"{m}: dense only", r["dense_only"])
        row(f"{m}: dense + structure", r["dense+structure"])
        row(f"{m}: hybrid (a={r['hybrid']['alpha']})", r["hybrid"])
        h = r["hybrid+structure"]
        row(f"{m}: hybrid + structure (a={h['alpha']}, g={h['gamma']})", h)
        h = r["hybrid+structure+siblings"]
        row(f"{m}: + siblings (d={h['delta']}, theta={h['theta']})", h)
        if "hybrid+structure+siblings+caps" in r:
            h = r["hybrid+structure+siblings+caps"]
            row(f"{m}: + band caps ({h['capped_pairs']} capped)", h)
            a = h["at_shipped_threshold"]
            lines.append(
                f"{'   the same at the shipped threshold':52} {a['threshold']:6.3f} "
                f"{a['test_p']:6.3f} {a['test_r']:6.3f} {a['test_f1']:6.3f}"
            )
    lines.append(
        "\n== what each part of the sibling check adds (hybrid + structure, δ/θ from dev) =="
    )
    for m, r in res["models"].items():
        for name, v in r["sibling_parts"].items():
            row(f"{m}: {name}", v)
    lines.append("\n== search MRR over the queries ==")
    lex = res["lexical"]["search"]
    lines.append(
        f"lexical tfidf {lex['lexical_tfidf']:.3f}   lexical bm25 {lex['lexical_bm25']:.3f}"
    )
    for m, r in res["models"].items():
        sr = r["search"]
        lines.append(f"{m:18} dense {sr['dense']:.3f}   hybrid {sr['hybrid']:.3f}")
    lines.append("\n== models ==")
    for m, r in res["models"].items():
        lines.append(
            f"{m:18} {r['model_id']}  dim {r['dim']}  load {r['load_s']} s  "
            f"{r['encode_per_s']} names/s  unrelated-median cos {r['floor']}  bands {r['bands']}"
        )
    lines.append("\n== calibrated profiles (dev half) for embeddings/scoring.py PROFILES ==")
    for r in res["models"].values():
        h, b = r["hybrid+structure+siblings"], r["bands"]
        key = r["model_id"].split("@")[0]
        lines.append(
            f'    "{key}": Profile(\n        {h["alpha"]}, {h["gamma"]}, {b["duplicate"]}, '
            f"{b['review']}, {b['related']}, floor={r['floor']},\n"
            f"        sibling_penalty={h['delta']}, sibling_theta={h['theta'] or 1.0},\n    ),"
        )
    if "recipes" in res:
        lines.append(f"\n== what is embedded ({res['recipes']['model']}) ==")
        for k, v in res["recipes"].items():
            if k != "model":
                lines.append(
                    f"{k:22} dense F1 {v['dense_test_f1']:.3f}  hybrid+structure F1 "
                    f"{v['hybrid+structure_test_f1']:.3f}  dense search MRR {v['search_dense_mrr']:.3f}"
                )
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embeddings_eval.txt").write_text(text.lstrip() + "\n", "utf-8")


def plot(
    curves: dict[str, tuple[np.ndarray, np.ndarray, str]], narrow: np.ndarray, path: Path
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import precision_recall_curve
    except ImportError as exc:  # pragma: no cover
        print(f"[no plot] {exc}")
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
    panels = [
        ("all negatives (related of both kinds + unrelated)", np.ones_like(narrow)),
        ("narrow: related = same subject, different measure", narrow),
    ]
    cmap = plt.get_cmap("tab10")
    for ax, (title, mask) in zip(axes, panels, strict=True):
        for n, (name, (scores, labels, style)) in enumerate(curves.items()):
            p, r, _ = precision_recall_curve(labels[mask], scores[mask])
            ax.plot(r, p, style, label=name, lw=1.5, color=cmap(n % 10))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("recall (duplicate)")
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("precision")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Duplicate pairs: precision-recall on all 349 labelled pairs")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\nprecision-recall curves → {path.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
