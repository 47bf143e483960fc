"""The figures: printed, merged with an earlier run's, saved as JSON and text."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from .answers import agreement
from .machine import readme_queries

LABEL = {
    "pyoxigraph": "embedded pyoxigraph, on disk",
    "memory": "embedded pyoxigraph, copy in memory (IKG_STORE_IN_MEMORY)",
    "server": "Oxigraph server",
    "rdflib": "rdflib in-memory Graph",
}
SHORT = {"pyoxigraph": "disk", "memory": "memory", "server": "server", "rdflib": "rdflib"}
ORDER = ("pyoxigraph", "memory", "server", "rdflib")


def _fmt(q: dict | None, cap: int) -> str:
    if not q:
        return "—"
    if q.get("capped"):
        return f"> {cap} s"
    if q.get("error"):
        return "error"
    if "p50_s" not in q:
        return "—"
    return f"{q['p50_s'] * 1000:,.0f}/{q['p95_s'] * 1000:,.0f}"


def _print_build(row: dict) -> None:
    d, b = row["data"], row["build"]
    print(
        f"\n== {d['indicators']:,} indicators, {d['tables']:,} tables, {d.get('triples', 0):,} triples "
        f"(N-Quads {d['nquads_mb']:,} MB, generated in {d['generate_s']} s)"
    )
    print(
        f"  build: oxigraph load {b['load_s']} s, loader peak RSS {b['load_peak_rss_mb']:,.0f} MB, "
        f"store on disk {b['store_mb']:,.0f} MB ({b['bytes_per_triple']} B/triple)"
    )


def _print_engines(eng: dict) -> None:
    for e in ORDER:
        r = eng.get(e, {})
        if "skipped" in r:
            print(f"  {LABEL[e]}: not measured — {r['skipped']}")
        elif e == "server" and r:
            print(
                f"  {LABEL[e]}: oxigraph serve-read-only peak RSS {r.get('server_peak_rss_mb', 0):,.0f} MB"
            )
        elif r:
            how = " (bulk-loaded from the N-Quads)" if r.get("loaded_from") == "nquads" else ""
            print(
                f"  {LABEL[e]}{how}: ready in {r.get('ready_s', 0):.1f} s, RSS after load "
                f"{r.get('rss_after_load_mb', 0):,.0f} MB, peak {r.get('peak_rss_mb', 0):,.0f} MB"
            )


def _ratios(eng: dict, qid: str, base_e: str, names: list[str], others: list[str], cap: int) -> str:
    """One query's ratio cells: each other engine's p50 over the base engine's."""
    base = eng[base_e]["queries"].get(qid, {}) if base_e in names else {}
    rs = ""
    for e in others:
        q = eng[e]["queries"].get(qid, {})
        if q.get("capped") and "p50_s" in base:
            ecap = eng[e].get("cap_s", cap)
            rs += f"{'>' + format(ecap / base['p50_s'], '.0f') + '×':>15}"
        elif "p50_s" in q and "p50_s" in base:
            rs += f"{q['p50_s'] / base['p50_s']:>14.1f}×"
        else:
            rs += f"{'—':>15}"
    return rs


def _print_queries(row: dict, cap: int) -> None:
    """The query table: p50/p95 per engine, ratios, rows, whether the answers agree."""
    eng = row["engines"]
    names = [e for e in ORDER if "queries" in eng.get(e, {})]
    # ratios against the fastest embedded engine measured (memory copy, else on disk)
    base_e = "memory" if "memory" in names else "pyoxigraph"
    others = [e for e in names if e != base_e]
    head = "".join(f"{SHORT[e] + ' p50/p95 ms':>22}" for e in names)
    ratios = "".join(f"{SHORT[e] + '/' + SHORT[base_e]:>15}" for e in others)
    print(f"  {'query':5}{head}{ratios}  {'rows':>8}  answers")
    for qid in readme_queries():
        cells = "".join(
            f"{_fmt(eng[e]['queries'].get(qid), eng[e].get('cap_s', cap)):>22}" for e in names
        )
        rs = _ratios(eng, qid, base_e, names, others, cap)
        rows = next(
            (
                eng[e]["queries"][qid]["rows"]
                for e in names
                if "rows" in eng[e]["queries"].get(qid, {})
            ),
            "—",
        )
        print(f"  {qid:5}{cells}{rs}  {rows:>8}  {row['agreement'][qid]}")


def _print_duplicates(dd: dict) -> None:
    if "error" in dd:
        print(f"  duplicate sweep: not measured — {dd['error'][-300:]}")
        return
    print(
        f"  duplicate sweep ({dd['model']}, {dd['index_kind']}): index {dd['index_build_s']} s "
        f"({dd['encoded']} texts encoded, rest from cache), find_duplicates {dd['sweep_s']} s, "
        f"{dd['pairs']:,} pairs in {dd['clusters']:,} clusters"
        + (
            f" ({dd['pairs_listed']:,} listed: an indicator's best {dd['listed_per_indicator']})"
            if dd.get("listed_per_indicator")
            else ""
        )
        + f", peak RSS {dd['peak_rss_mb']:,.0f} MB"
    )


def _print_api(a: dict) -> None:
    if "error" in a:
        print(f"  API workers={a['workers']}: failed — {a['error'][-300:]}")
        return
    for name, f in a["endpoints"].items():
        if "rps" not in f:
            print(f"  API workers={a['workers']} {name}: HTTP {f.get('status')}")
            continue
        print(
            f"  API workers={a['workers']} {name:15s} {f['rps']:8.1f} req/s  p50 {f['p50_ms']:8.2f} ms  "
            f"p95 {f['p95_ms']:8.2f} ms  non-2xx {f['non_2xx']} errors {f['errors']}"
        )
    print(
        f"  API workers={a['workers']} server RSS (all processes) {a.get('server_rss_mb', 0):,.0f} MB"
        + (f", /healthz answered {a['start_s']} s after start" if "start_s" in a else "")
    )


def print_figures(fig: dict) -> None:
    cap = fig["cap_s"]
    print(f"machine: {fig['machine']}; cap {cap} s per query, up to {fig['runs']} runs each")
    if fig.get("note"):
        print(f"note: {fig['note']}")
    for row in sorted(fig["sizes"], key=lambda r: r["size"]):
        _print_build(row)
        _print_engines(row["engines"])
        _print_queries(row, row.get("cap_s", fig["cap_s"]))
        if "duplicates" in row:
            _print_duplicates(row["duplicates"])
        for a in row.get("api", []):
            _print_api(a)
    print(f"\nwall time of the run: {fig['wall_s'] / 60:.1f} min")


def merge(base: dict, new: dict, skipped: set[str]) -> dict:
    """``base`` with the sizes of ``new`` merged in; parts skipped in ``new`` keep base's."""
    out = json.loads(json.dumps(base))
    rows = {r["size"]: r for r in out["sizes"]}
    for row in new["sizes"]:
        old = rows.get(row["size"])
        if old is None:
            out["sizes"].append(row)
            continue
        for key, value in row.items():
            if key == "engines":
                for e, r in value.items():
                    if e not in skipped:
                        old["engines"][e] = r
            elif key != "agreement":
                old[key] = value
        old["agreement"] = agreement(old["engines"])
        old.setdefault("runs_merged", []).append(sorted(skipped))
    out["wall_s"] = base.get("wall_s", 0) + new.get("wall_s", 0)
    return out


def write_json(fig: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", "utf-8")


def write_text(fig: dict, path: Path) -> None:
    """The printed figures, into a file."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        print_figures(fig)
    path.write_text(buf.getvalue(), "utf-8")
