"""The example queries for reviewers (kg/queries/*.rq), shipped with the install.

The README shows the same text (a test keeps the two identical); the
notebooks, the CLI and the web page's query menu load them from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class ExampleQuery:
    id: str  # "Q1"
    title: str  # "各部门各类指标数量 — indicators per department and category"
    sparql: str  # the query, without the title comment

    @property
    def title_zh(self) -> str:
        return self.title.split(" — ")[0]


@cache
def example_queries() -> tuple[ExampleQuery, ...]:
    out = []
    folder = resources.files("kg") / "queries"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".rq"):
            continue
        text = entry.read_text(encoding="utf-8")
        first, _, body = text.partition("\n")
        m = re.match(r"^# (Q\d+) (.+)$", first)
        if not m:
            raise ValueError(f"kg/queries/{entry.name}:1: expected '# Qn title', found {first!r}")
        out.append(ExampleQuery(m[1], m[2].strip(), body))
    return tuple(out)


def example(qid: str) -> ExampleQuery:
    for q in example_queries():
        if q.id == qid:
            return q
    raise KeyError(f"no example query {qid!r}; have {', '.join(q.id for q in example_queries())}")
