"""Category labels → SKOS concepts of ontology/categories.ttl.

Tables print category labels in several variants (数量指标, 产出数量指标 …) and
in two national layouts (成本指标 under 产出指标, or as a level-1 category of its
own since 2021). Readers keep the label as printed and resolve it here to the
concept of the table's scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

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


#: Words that place a label no scheme prints as such: (level, pattern, framework label).
#: First match wins; the more specific words come first.
_NEAREST: tuple[tuple[int, str, str], ...] = (
    (1, r"满意", "满意度指标"),
    (1, r"产出|完成|数量值|产出值", "产出指标"),
    (1, r"效益|效果|影响", "效益指标"),
    (1, r"成本", "成本指标"),
    (1, r"决策", "决策指标"),
    (1, r"过程", "过程指标"),
    (2, r"满意", "服务对象满意度指标"),
    (2, r"经济成本", "经济成本指标"),
    (2, r"社会成本", "社会成本指标"),
    (2, r"生态.{0,2}成本|环境成本", "生态环境成本指标"),
    (2, r"成本|资金|经费", "成本指标"),
    (2, r"数量", "数量指标"),
    (2, r"质量", "质量指标"),
    (2, r"时效|进度|时间|及时", "时效指标"),
    (2, r"经济", "经济效益指标"),
    (2, r"社会", "社会效益指标"),
    (2, r"生态|环境", "生态效益指标"),
    (2, r"可持续|持续|长效", "可持续影响指标"),
)
#: The label given to indicators whose table prints no category at all.
UNCLASSIFIED = ("未分类指标", "未分类")


def nearest(label: str, level: int) -> str | None:
    """The framework label a label no scheme knows is nearest to, when one is clear."""
    for lv, pattern, target in _NEAREST:
        if lv == level and re.search(pattern, label):
            return target
    return None


@cache
def pref_label(concept: str) -> str:
    """The zh prefLabel of a concept (either scheme)."""
    for by_label in _index().values():
        for cats in by_label.values():
            for c in cats:
                if str(c.concept) == str(concept):
                    return c.pref_label
    raise KeyError(concept)


def place(level1: str, level2: str, scheme: str) -> tuple[str, str]:
    """(level 1, level 2) as framework labels of the scheme; the printed ones if they are.

    A label no scheme knows goes to the nearest framework category when its words make
    that clear (产出类指标 → 产出指标, 数量目标 → 数量指标); a level 1 that does not hold
    the level 2 follows the level 2; what cannot be placed is 未分类 (UNCLASSIFIED).
    """
    c1 = resolve(level1, 1, scheme)
    c2 = resolve(level2, 2, scheme)
    if c1 is not None and c2 is not None and c2.broader == c1.concept:
        return level1, level2
    if c2 is None:
        near = nearest(level2, 2) or (nearest(level1, 2) if c1 is None else None)
        c2 = resolve(near, 2, scheme) if near else None
        if c2 is not None:
            level2 = near  # type: ignore[assignment]
    if c2 is None or c2.broader is None:
        return UNCLASSIFIED
    return pref_label(str(c2.broader)), level2


def place_indicator(ind: Any, scheme: str) -> tuple[str, str, int] | None:
    """Put an indicator record's labels in the framework (:func:`place`), keeping the printed
    ones in ``level1_printed`` / ``level2_printed``; when anything moved, (the warning to give,
    the labels it is about, the level of the first of them), else None."""
    printed = (ind.level1, ind.level2)
    placed = place(*printed, scheme)
    if placed == printed:
        return None
    unknown = [
        (level, label)
        for level, label in ((1, printed[0]), (2, printed[1]))
        if resolve(label, level, scheme) is None
    ]
    if printed[0] != placed[0]:
        ind.level1_printed, ind.level1 = printed[0], placed[0]
    if printed[1] != placed[1]:
        ind.level2_printed, ind.level2 = printed[1], placed[1]
    names = "、".join(label for _, label in unknown)
    level = unknown[0][0] if unknown else 2
    message = f"{names or printed[1]} 不是指标框架中的类别，原文保留，归入 {placed[0]}/{placed[1]}"
    return message, names or " ".join(printed), level
