"""Synthetic data from the shapes of the real corpus: N-Quads, and a store loaded from them.

The 14 real tables of data/demo are mapped once with the project's own code; copies are
text rewrites of their N-Quads under other department names and fiscal years.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .machine import DEMO, OXIGRAPH, du_mb, run_measured


def template_tables():
    """The 14 real tables of data/demo, parsed."""
    from kg.readers import read_table

    files = sorted(DEMO.glob("*.txt")) + sorted((DEMO / "corpus").glob("*.csv"))
    return [read_table(f)[1] for f in files]


def _nq(graph, graph_name: str) -> list[str]:
    """One rdflib graph as N-Quads lines in the named graph."""
    g = f" <{graph_name}> .\n"
    out = []
    for line in graph.serialize(format="nt").splitlines():
        line = line.strip()
        if line:
            assert line.endswith(" ."), line
            out.append(line[:-2] + g)
    return out


class Template:
    """One real table mapped once; copies are text rewrites of its N-Quads."""

    def __init__(self, parsed) -> None:
        from kg import mapping, uris
        from kg.namespaces import IKG, ORGANISATIONS_GRAPH

        self.parsed = parsed
        t = parsed.table
        self.dept, self.year = t.department, t.fiscal_year
        self.kind, self.project = t.table_type, t.project_name
        self.indicators = len(parsed.indicators)
        self.tab = str(mapping.table_uri(parsed))
        self.org = str(uris.organisation(self.dept))
        year_pred = f"<{self.tab}> <{IKG.fiscalYear}> "
        lines = _nq(mapping.to_graph(parsed), self.tab)
        self.year_line = next(ln for ln in lines if ln.startswith(year_pred))
        self.body = "".join(ln for ln in lines if ln is not self.year_line)
        orgs = _nq(mapping.organisations_graph(parsed), str(ORGANISATIONS_GRAPH))
        # the department's own lines follow the copy; the units (and their supervising
        # department, the real one) stay as they are, written once
        self.orgs_dept = "".join(ln for ln in orgs if ln.startswith(f"<{self.org}> "))
        supervising = any(f" <{self.org}> <" in ln for ln in orgs)
        self.orgs_fixed = "".join(
            ln for ln in orgs if supervising or not ln.startswith(f"<{self.org}> ")
        )

    def copy(self, dept: str, year: int, body: str | None = None) -> str:
        """The copy's N-Quads (``body``: the template's own lines but its fiscal year, with
        other indicator names; see benchmarks/search_speed.py)."""
        from kg import uris

        tab = str(uris.table(dept, year, self.kind, self.project))
        org = str(uris.organisation(dept))
        text = (self.body if body is None else body) + self.year_line.replace(
            f'"{self.year}"^^', f'"{year}"^^'
        )
        text = text.replace(self.tab, tab).replace(self.org, org)
        orgs = self.orgs_dept.replace(self.org, org).replace(f'"{self.dept}"', f'"{dept}"')
        fixed, self.orgs_fixed = self.orgs_fixed, ""
        return text + orgs + fixed

    def partial(self, dept: str, year: int, keep: int) -> list[str]:
        """A copy with only the first ``keep`` indicators, mapped again (the last table)."""
        from kg import mapping
        from kg.namespaces import ORGANISATIONS_GRAPH

        p = self.parsed.model_copy(deep=True)
        p.table.department, p.table.fiscal_year = dept, year
        p.indicators = p.indicators[:keep]
        uri = str(mapping.table_uri(p))
        return _nq(mapping.to_graph(p), uri) + _nq(
            mapping.organisations_graph(p), str(ORGANISATIONS_GRAPH)
        )


def ontology_nquads() -> list[str]:
    """The ontology's Turtle files as N-Quads in the ontology graph."""
    from rdflib import Graph

    import ontology
    from kg.namespaces import ONTOLOGY_GRAPH

    onto = Graph()
    for name in ("indicators.ttl", "categories.ttl", "similarity.ttl"):
        onto.parse(ontology.path(name), format="turtle")
    return _nq(onto, str(ONTOLOGY_GRAPH))


def synthetic_name(k: int, dept: str) -> tuple[str, int]:
    """The department name and fiscal year of round ``k``'s copy of a table of ``dept``."""
    return f"合成{k:05d}{dept}", 2020 + k % 6


def generate(n: int, out: Path) -> dict:
    """Write n synthetic indicators (plus the ontology) as N-Quads to ``out``."""
    t0 = time.perf_counter()
    templates = [Template(p) for p in template_tables()]
    done = tables = k = 0
    with open(out, "w", encoding="utf-8") as fh:
        fh.writelines(ontology_nquads())
        while done < n:
            for tpl in templates:
                if done >= n:
                    break
                dept, year = synthetic_name(k, tpl.dept)
                if done + tpl.indicators <= n:
                    fh.write(tpl.copy(dept, year))
                    done += tpl.indicators
                else:  # the last table: fewer indicators, mapped again
                    fh.writelines(tpl.partial(dept, year, n - done))
                    done = n
                tables += 1
            k += 1
    return {
        "indicators": done,
        "tables": tables,
        "templates": len(templates),
        "rounds": k,
        "nquads_mb": round(out.stat().st_size / 2**20, 1),
        "generate_s": round(time.perf_counter() - t0, 1),
    }


def load(nq: Path, store: Path) -> dict:
    """``oxigraph load`` into a fresh store; wall time, loader peak RSS, size on disk."""
    shutil.rmtree(store, ignore_errors=True)
    wall, peak, rc = run_measured(
        [OXIGRAPH, "load", "--location", str(store), "--file", str(nq)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if rc != 0:
        raise RuntimeError(f"oxigraph load {nq} failed with exit code {rc}")
    return {
        "load_s": round(wall, 1),
        "load_peak_rss_mb": round(peak, 1),
        "store_mb": round(du_mb(store), 1),
    }
