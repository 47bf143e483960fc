"""What is embedded for an indicator, and the small text facts the scorer uses.

The text recipe is a measured choice (``benchmarks/embeddings_eval.py``, see
docs/embeddings.md): embedding the **name alone** gave the best search MRR and
pair F1 with every model tried; adding the level-2 category or the unit to the
embedded text pulled unrelated indicators of one category together (all 数量指标
rows moved closer) and lowered both. The category, unit and target form are used
instead as *structural* signals beside the text score (:mod:`embeddings.scoring`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from kg.namespaces import DATA
from kg.words import MEASURE_SUFFIXES, UNIT_MEASURES

Recipe = Literal["name", "name+level2", "name+level2+unit", "name+target"]
DEFAULT_RECIPE: Recipe = "name"

_PUNCT = re.compile(r"[\s\"'“”‘’「」『』《》〈〉()（）\[\]【】,，、.。:：;；!！?？/\\|·•—\-_~～]+")


def clean(text: str) -> str:
    """NFKC, punctuation and white space removed: the form both scorers see."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).strip()


@functools.lru_cache(maxsize=65_536)
def measure_of(name: str, unit: str | None = None) -> str | None:
    """The kind of quantity a name measures (``count_people``, ``coverage`` …), or None."""
    c = clean(name)
    for suffix, kind in MEASURE_SUFFIXES:
        if c.endswith(suffix):
            return kind
    return UNIT_MEASURES.get(unit or "")


def measure_family(kind: str | None) -> str | None:
    """Coarser: every rate is a rate, every count a count."""
    if kind is None:
        return None
    if kind.startswith("count"):
        return "count"
    if kind in {"quality_rate", "coverage", "completion_rate", "execution_rate", "rate"}:
        return "rate"
    return kind


@dataclass
class IndicatorText:
    """An indicator as the similarity code sees it (from the graph or a benchmark file)."""

    id: str
    name: str
    level1: str = ""
    level2: str = ""
    target: str = ""
    unit: str | None = None
    form: str | None = None
    department: str = ""
    year: int | None = None
    table: str = ""
    table_title: str = ""
    source_file: str = ""
    source_line: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def measure(self) -> str | None:
        return measure_of(self.name, self.unit)

    @property
    def count_value(self) -> float | None:
        """The number of a count target (23人次 → 23); None for rates, grades, dates."""
        if "_count_value" not in self.extra:
            self.extra["_count_value"] = _count_value(self.target)
        v = self.extra["_count_value"]
        return None if v == "" else float(v)


IndicatorForm = Literal["full", "brief", "api"]
#: indicator URIs start with this; the API's ``id`` and ``table_id`` leave it out
_DATA_NS = str(DATA)


def source_of(it: IndicatorText) -> str:
    """Where an indicator is printed, as ``file:line``."""
    return f"{it.source_file}:{it.source_line}"


def indicator_dict(it: IndicatorText, form: IndicatorForm = "full") -> dict[str, Any]:
    """An indicator as JSON: the one place an indicator becomes a dict.

    ``full`` (a duplicate pair's side, a search hit's fields): uri, name, categories,
    target, department, year, the table's URI and ``file:line``; ``brief`` (a cluster
    member): uri, name, department, year and ``file:line``; ``api`` (the API contract's
    indicator summary): the short ``id`` first, the table's title (its URI when it has
    none) and short ``table_id``, the source as ``{"file", "line"}``.
    """
    if form == "brief":
        return {
            "uri": it.id,
            "name": it.name,
            "department": it.department,
            "year": it.year,
            "source": source_of(it),
        }
    api = form == "api"
    out: dict[str, Any] = {"id": it.id.removeprefix(_DATA_NS)} if api else {}
    out.update(
        uri=it.id,
        name=it.name,
        level1=it.level1,
        level2=it.level2,
        target=it.target,
        department=it.department,
        year=it.year,
        table=(it.table_title or it.table) if api else it.table,
    )
    if api:
        out["table_id"] = it.table.removeprefix(_DATA_NS)
        out["source"] = {"file": it.source_file, "line": it.source_line}
    else:
        out["source"] = source_of(it)
    return out


def _count_value(target: str) -> str:
    if not target:
        return ""
    from kg.targets import parse_target

    tv = parse_target(target)
    if tv.form not in ("numeric", "range") or tv.percent or not tv.unit:
        return ""
    v = tv.lower if tv.lower is not None else tv.upper
    return "" if v is None else str(v)


def embed_text(ind: IndicatorText, recipe: Recipe = DEFAULT_RECIPE) -> str:
    """The text embedded for ``ind`` under ``recipe``."""
    if recipe == "name":
        return ind.name
    if recipe == "name+level2":
        return f"{ind.name}（{ind.level2}）" if ind.level2 else ind.name
    if recipe == "name+level2+unit":
        parts = [p for p in (ind.level2, ind.unit) if p]
        return f"{ind.name}（{'，'.join(parts)}）" if parts else ind.name
    if recipe == "name+target":
        return f"{ind.name} {ind.target}" if ind.target else ind.name
    raise ValueError(f"unknown text recipe {recipe!r}")
