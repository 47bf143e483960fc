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
from kg.targets import parse_target
from kg.words import MEASURE_SUFFIXES, UNIT_MEASURES

Recipe = Literal["name", "name+level2", "name+level2+unit", "name+target"]
DEFAULT_RECIPE: Recipe = "name"

_PUNCT = re.compile(r"[\s\"'“”‘’「」『』《》〈〉()（）\[\]【】,，、.。:：;；!！?？/\\|·•—\-_~～]+")


def clean(text: str) -> str:
    """NFKC, punctuation and white space removed: the form both scorers see."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).strip()


#: names that most departments carry (national 共性指标 and the usual satisfaction rows)
COMMON_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"(预算|资金|经费)(执行|支出)(率|进度)",
        r"支出进度",
        r"资金(到位|拨付|下达)",
        r"预算.*(控制|范围内)",
        r"成本控制",
        r"政府采购",
        r"(按时|及时|按计划|按期)完成率",
        r"完成及时(率|性)",
        r"验收(合格|通过)率",
        r"满意(度|率)$",
        r"知晓(率|度)$",
    )
)


def is_common_name(name: str) -> bool:
    c = clean(name)
    return any(p.search(c) for p in COMMON_PATTERNS)


#: where a department's name starts with its place: 中共深圳市福田区委组织部 → 深圳市福田区,
#: 临沧市永德县明朗中学 → 临沧市永德县; a place name is 1–7 characters and an
#: administrative suffix, repeated (province, city, district/county, town)
_REGION = re.compile(
    r"^(?:中共|中国共产党)?((?:[\u4e00-\u9fff]{1,7}?(?:省|自治区|特别行政区|自治州|州|地区|盟|市|"
    r"自治县|县|自治旗|旗|区|镇|乡|街道))+)"
)
_ORGANISATION = re.compile(r"人民政府|人民|政府|委员会|委|党|办事处")
_REGION_NOTED = re.compile(r"[（(]([^（）()]*?(?:省|市|州|盟|县|旗|区|镇|乡))[)）]")


@functools.lru_cache(maxsize=4096)
def region_of(department: str) -> str:
    """The region a department's name starts with (深圳市福田区), or the place noted in
    brackets (未注明单位（大英县）→ 大英县); "" when the name gives none (东莞展览馆)."""
    c = unicodedata.normalize("NFKC", department or "").strip()
    m = _REGION.match(c)
    if m:  # the organisation starts where 人民政府 / 委 / 党 … does (重庆市巴南区人民政府一品街道)
        return _ORGANISATION.split(m.group(1), maxsplit=1)[0]
    m = _REGION_NOTED.search(c)
    return m.group(1) if m else ""


#: a unit printed in the name's closing brackets: 种公猪(≥头), 育肥猪舍(≥**平方米), 消毒机(≥台)
_NAME_UNIT = re.compile(r"[（(][≥≤<>＞＜=≧≦]*[*＊xX\d.]*([^\d()（）*＊≥≤<>＞＜=≧≦]{1,4})[)）]\s*$")


#: units a name's brackets may print (培训班次（会议次数） prints a name, not a unit)
# fmt: off
_NAME_UNITS = frozenset((
    "头", "台", "辆", "座", "个", "家", "份", "亩", "平方米", "公里", "米", "吨", "元", "万元",
    "人", "人次", "次", "场", "场次", "天", "小时", "户", "件", "套", "本", "册",
))
# fmt: on


@functools.lru_cache(maxsize=65_536)
def name_unit(name: str) -> str | None:
    """The unit a name prints in its closing brackets (种公猪(≥头) → 头), or None."""
    m = _NAME_UNIT.search(unicodedata.normalize("NFKC", name))
    return m.group(1) if m and m.group(1) in _NAME_UNITS else None


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
    if kind.startswith("count") or kind in {"area", "length"}:
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


IndicatorForm = Literal["full", "pair", "brief", "api"]
#: indicator URIs start with this; the API's ``id`` and ``table_id`` leave it out
_DATA_NS = str(DATA)


def source_of(it: IndicatorText) -> str:
    """Where an indicator is printed, as ``file:line``."""
    return f"{it.source_file}:{it.source_line}"


def indicator_dict(it: IndicatorText, form: IndicatorForm = "full") -> dict[str, Any]:
    """An indicator as JSON: the one place an indicator becomes a dict.

    ``full`` (a search hit's fields): uri, name, categories, target, department, year, the
    table's URI and ``file:line``; ``pair`` (a duplicate pair's side): the same with the
    department's region (:func:`region_of`) after the department; ``brief`` (a cluster
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
    )
    if form == "pair":
        out["region"] = region_of(it.department)
    out.update(year=it.year, table=(it.table_title or it.table) if api else it.table)
    if api:
        out["table_id"] = it.table.removeprefix(_DATA_NS)
        out["source"] = {"file": it.source_file, "line": it.source_line}
    else:
        out["source"] = source_of(it)
    return out


def _count_value(target: str) -> str:
    if not target:
        return ""

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
