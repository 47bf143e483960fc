"""Category labels → SKOS concepts of ontology/categories.ttl.

Tables print category labels in several variants (数量指标, 产出数量指标 …) and
in two national layouts (成本指标 under 产出指标, or as a level-1 category of its
own since 2021). Readers keep the label as printed and resolve it here to the
concept of the table's scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

import ontology

from .namespaces import CAT, IKG

SCHEMES: dict[str, URIRef] = {"legacy": CAT["legacy"], "2021": CAT["framework-2021"]}


@dataclass(frozen=True)
class Category:
    concept: URIRef
    level: int
    pref_label: str
    broader: URIRef | None


@cache
def category_graph() -> Graph:
    g = Graph()
    g.parse(ontology.path("categories.ttl"), format="turtle")
    return g


def _zh(labels: list[Literal]) -> list[str]:
    return [str(x) for x in labels if x.language in (None, "zh")]


@cache
def _index() -> dict[str, dict[str, list[Category]]]:
    """scheme name → label (pref or alt, zh) → categories carrying it."""
    g = category_graph()
    out: dict[str, dict[str, list[Category]]] = {name: {} for name in SCHEMES}
    for concept in set(g.subjects(IKG.categoryLevel, None)):
        assert isinstance(concept, URIRef)
        level = int(g.value(concept, IKG.categoryLevel))  # type: ignore[arg-type]
        prefs = _zh(list(g.objects(concept, SKOS.prefLabel)))  # type: ignore[arg-type]
        alts = _zh(list(g.objects(concept, SKOS.altLabel)))  # type: ignore[arg-type]
        broader = g.value(concept, SKOS.broader)
        cat = Category(concept, level, prefs[0] if prefs else "", broader)  # type: ignore[arg-type]
        for scheme_name, scheme in SCHEMES.items():
            if (concept, SKOS.inScheme, scheme) not in g:
                continue
            for label in prefs + alts:
                out[scheme_name].setdefault(label, []).append(cat)
    return out


def labels(level: int) -> frozenset[str]:
    """Every label (either scheme) that names a category of this level."""
    return frozenset(
        label
        for by_label in _index().values()
        for label, cats in by_label.items()
        if any(c.level == level for c in cats)
    )


def resolve(label: str, level: int, scheme: str) -> Category | None:
    """The concept a printed label names at this level in this scheme, or None."""
    for cat in _index()[scheme].get(label.strip(), []):
        if cat.level == level:
            return cat
    return None


def layout_of(level1_labels: list[str]) -> str:
    """'2021' when a level-1 label exists only in the 2021 scheme (成本指标 as level 1)."""
    only_2021 = any(
        resolve(x, 1, "2021") is not None and resolve(x, 1, "legacy") is None for x in level1_labels
    )
    return "2021" if only_2021 else "legacy"
