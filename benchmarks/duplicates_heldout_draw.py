"""Draw the pairs of the held-out duplicate set (benchmarks/data/duplicates_heldout.tsv).

Reads what a reviewer sees on a built store, through the CLI:

* ``ikg duplicates --scope all --threshold 0.1 --format jsonl`` — the listing down to the
  related band; pairs are drawn at random (fixed seed) from 8 cells: scope (within-table /
  across: other departments or other tables of one department) x score (top >= 0.55,
  middle 0.35-0.55, near the duplicate threshold 0.22-0.35, below it 0.10-0.22);
* ``ikg similar <name> -k 8 --format jsonl`` for 22 indicators picked across departments —
  2 hits each drawn at random among those not drawn already (hits below 0.1 are not in the
  listing at all);
* 20 pairs picked by hand (``ikg search`` over the demo tables) that the labeller believes
  are duplicates and that the default listing does not show, so that recall can be measured
  (set aside first, so the random draws never draw them again).

Each cell and each indicator has its own generator (seeded from SEED and its name), so
changing one cell's size does not change what the others draw.

Writes benchmarks/data/duplicates_heldout_draw.tsv (unlabelled, with the score each pair had
when drawn). The labels are added by hand, by meaning, in duplicates_heldout.tsv; the scores
here are only a record of the draw and are not copied there.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD python benchmarks/duplicates_heldout_draw.py \\
        --data-dir DIR   (a demo store: ikg build data/demo --data-dir DIR)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SEED = 20261204
HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "duplicates_heldout_draw.tsv"

#: (scope group, score bin) -> pairs drawn from the listing
CELLS = {
    ("within", "top"): 9,
    ("within", "middle"): 9,
    ("within", "near"): 10,
    ("within", "below"): 10,
    ("across", "top"): 12,
    ("across", "middle"): 12,
    ("across", "near"): 14,
    ("across", "below"): 12,
}


def score_bin(score: float) -> str:
    if score >= 0.55:
        return "top"
    if score >= 0.35:
        return "middle"
    if score >= 0.22:
        return "near"
    return "below"


#: indicators whose neighbours (ikg similar) are drawn from: (name, --of-department)
SIMILAR_OF = [
    ("受训学员满意度", "福田区委组织部"),
    ("预算执行率", "一品街道"),
    ("药品监管企业数", "遂宁"),
    ("学生满意度", "明朗中学"),
    ("享受资助人数", "宁晋"),
    ("雾炮车降尘抑尘服务配备车辆数", "湘潭"),
    ("农产品监督抽样合格率", "六安"),
    ("视频监控在线率", "黄山"),
    ("案件办理及时率", "扎赉特"),
    ("主体班培训人次", "黄石"),
    ("县级储备粮贷款付息及时率", "衡山"),
    ("解决脱贫(监测)饮水安全问题人数", "岳阳"),
    ("灌区节水改造面积", "宝鸡"),
    ("孤儿助学人数", "大英县民政局"),
    ("物业管理保障工作合格率", "东莞"),
    ("推广食用菌品种数量", "澧县"),
    ("资金到位及时率", "明朗中学"),
    ("每年春节慰问麻风村休养员、村外康复者和现症病人", "疾病预防"),
    ("保障村干部人数", "棠溪"),
    ("完成中型灌区节水改造项目数量", "天长"),
    ("医疗补助报销人数", "福田区委组织部"),
    ("12350安全生产举报奖励次数", "奉节"),
]

#: pairs believed duplicates that the default listing does not show: (key, name) x 2
RECALL = [
    (
        ("yunnan_yongde_minglang_school_2022_selfeval.txt:19", "资金到位及时率"),
        ("anhui_guichi_tangxi_town_2022_village_operation_selfeval.txt:3", "补助经费到位及时性"),
    ),
    (
        ("yunnan_yongde_minglang_school_2022_selfeval.txt:19", "资金到位及时率"),
        (
            "sichuan_guangyuan_zhaohua_cdc_2021_leprosy_project_declaration.txt:33",
            "资金拨付到位情况",
        ),
    ),
    (
        ("anhui_guichi_tangxi_town_2022_village_operation_selfeval.txt:3", "补助经费到位及时性"),
        ("sichuan_guangyuan_zhaohua_health_2021_project_special_family.txt:31", "资金拨付"),
    ),
    (
        ("hebei_ningjin_edu_2019_highschool_grant_eval.txt:21", "资金支出率"),
        ("chongqing_banan_yipin_subdistrict_2022_dept_overall_target.txt:23", "预算执行率"),
    ),
    (
        (
            "anhui_tianchang_water_2022_flood_drought_defense_selfeval.txt:34",
            "年度资金支付完成率100%",
        ),
        ("sichuan_daying_civil_affairs_2022_orphan_grant_selfeval.txt:75", "资金执行率"),
    ),
    (
        ("hubei_wuhan_qingshan_edu_2020_project_rural_school.txt:26", "购置设施设备质量合格率"),
        ("neimenggu_zhalaite_procuratorate_2025_project_targets.txt:35", "设备验收合格率"),
    ),
    (
        ("hubei_wuhan_qingshan_edu_2020_project_rural_school.txt:26", "购置设施设备质量合格率"),
        ("000_3b89ef93caa61199.txt:831", "采购设备验收合格率"),
    ),
    (
        ("neimenggu_zhalaite_procuratorate_2025_project_targets.txt:41", "法定审限内结案率"),
        ("neimenggu_zhalaite_procuratorate_2025_project_targets.txt:44", "案件办理及时率"),
    ),
    (
        (
            "hunan_lixian_edible_fungi_institute_2021_dept_overall_declaration.txt:45",
            "机关事务正常运转率",
        ),
        (
            "fujian_ningde_party_history_office_2019_dept_overall_target.txt:39",
            "确保日常工作正常运行",
        ),
    ),
    (
        ("sichuan_daying_consumer_city_creation_2020_project_selfeval.txt:41", "群众满意度"),
        ("hunan_hengshan_commerce_grain_2020_grain_reserve_selfeval.txt:7", "市民满意度调查"),
    ),
    (
        ("sichuan_guangyuan_zhaohua_health_2021_project_special_family.txt:41", "受益群众满意度"),
        ("hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.txt:98", "市民满意度"),
    ),
    (
        ("sichuan_guangyuan_zhaohua_health_2021_project_special_family.txt:42", "社会满意度"),
        ("sichuan_daying_consumer_city_creation_2020_project_selfeval.txt:41", "群众满意度"),
    ),
    (
        (
            "shanxi_jishan_medical_security_2020_poverty_insurance_subsidy_selfeval.txt:4",
            "是否满意",
        ),
        ("sichuan_daying_consumer_city_creation_2020_project_selfeval.txt:41", "群众满意度"),
    ),
    (
        ("hebei_ningjin_edu_2019_highschool_grant_eval.txt:23", "资助对象满意度"),
        ("yunnan_yongde_minglang_school_2022_selfeval.txt:34", "学生满意度"),
    ),
    (
        ("sichuan_daying_civil_affairs_2020_elderly_care_selfeval_fragment.txt:29", "100万"),
        ("anhui_chizhou_guichi_tangxi_town_2022_project_selfeval.txt:3", "项目总成本"),
    ),
    (
        ("sichuan_daying_consumer_city_creation_2020_project_selfeval.txt:23", "全年"),
        ("sichuan_guangyuan_zhaohua_cdc_2021_leprosy_project_declaration.txt:32", "项目实施时间"),
    ),
    (
        ("hunan_xiangtan_sanitation_2023_fog_cannon_project_declaration.txt:61", "服务周期"),
        ("sichuan_guangyuan_zhaohua_health_2021_project_special_family.txt:30", "项目实施时间"),
    ),
    (
        ("hunan_xiangtan_sanitation_2024_fog_cannon_project_target.txt:123", "控制在预算成本内"),
        (
            "anhui_tianchang_water_2022_flood_drought_defense_selfeval.txt:37",
            "资金执行在预算范围内",
        ),
    ),
    (
        (
            "anhui_tianchang_water_2022_flood_drought_defense_selfeval.txt:37",
            "资金执行在预算范围内",
        ),
        ("000_3b89ef93caa61199.txt:1040", "部门整体支出预算范围内"),
    ),
    (
        ("anhui_huangshan_public_security_2025_project_targets_list.txt:83", "维护成本"),
        (
            "anhui_unknown_county_urban_management_2023_enforcement_vehicle_fuel_repair_project_target.txt:34",
            "项目总成本",
        ),
    ),
]

COLUMNS = [
    "pair_id",
    "drawn_from",
    "stratum",
    "score",
    "band",
    "in_listing",
    "scope",
    "key_a",
    "key_b",
    "name_a",
    "name_b",
    "level_a",
    "level_b",
    "target_a",
    "target_b",
    "dept_a",
    "dept_b",
    "year_a",
    "year_b",
    "uri_a",
    "uri_b",
]

INDICATORS = """
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?i ?name ?simplified ?l1 ?l2 ?raw ?table ?year ?dept ?file ?line WHERE {
  ?i a ikg:Indicator ; ikg:name ?name ; ikg:inTable ?table ; ikg:level1Label ?l1 ;
     ikg:level2Label ?l2 ; ikg:sourceFile ?file ; ikg:sourceLine ?line .
  ?table ikg:fiscalYear ?year ; ikg:department ?d . OPTIONAL { ?d ikg:name ?dept }
  OPTIONAL { ?i ikg:nameSimplified ?simplified }
  OPTIONAL { ?i ikg:target ?t . ?t ikg:rawText ?raw }
}
"""


def ikg(data_dir: str, *args: str, stdin: str | None = None) -> str:
    cmd = [sys.executable, "-m", "ikg.cli", *args, "--data-dir", data_dir]
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True)
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True, help="a built demo store (ikg build data/demo)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    # every indicator, for the similar hits and the hand-picked pairs
    ind: dict[str, dict] = {}
    for r in csv.DictReader(
        io.StringIO(ikg(args.data_dir, "query", "-f", "csv", "-", stdin=INDICATORS))
    ):
        ind[r["i"]] = {
            "uri": r["i"],
            "name": r["simplified"] or r["name"],
            "raw_name": r["name"],
            "level": f"{r['l1']}/{r['l2']}",
            "target": r["raw"],
            "department": r["dept"],
            "year": r["year"],
            "table": r["table"],
            "source": f"{r['file']}:{r['line']}",
        }

    def scope_of(a: dict, b: dict) -> str:
        if a["table"] == b["table"]:
            return "within-table"
        return "across-tables" if a["department"] == b["department"] else "across-departments"

    listing = [
        json.loads(x)
        for x in ikg(
            args.data_dir,
            "duplicates",
            "--scope",
            "all",
            "--threshold",
            "0.1",
            "--format",
            "jsonl",
        ).splitlines()
        if x.strip()
    ]
    by_pair = {frozenset((p["a"]["uri"], p["b"]["uri"])): p for p in listing}

    rows: list[dict] = []
    drawn: set[frozenset] = set()

    # the hand-picked pairs first, so that the random draws below do not draw them again
    def by_key(key: str, name: str) -> str:
        hits = [
            i
            for i in ind.values()
            if i["source"].endswith("/" + key) and name in (i["name"], i["raw_name"])
        ]
        assert len(hits) == 1, (key, name, hits)
        return hits[0]["uri"]

    recall = [(by_key(*a), by_key(*b)) for a, b in RECALL]
    drawn.update(frozenset(p) for p in recall)

    def add(a_uri: str, b_uri: str, drawn_from: str, stratum: str, score, band) -> None:
        a, b = sorted((ind[a_uri], ind[b_uri]), key=lambda x: (x["source"], x["uri"]))
        pair = frozenset((a_uri, b_uri))
        listed = by_pair.get(pair)
        drawn.add(pair)
        rows.append(
            {
                "drawn_from": drawn_from,
                "stratum": stratum,
                "score": "" if score is None else f"{score:.4f}",
                "band": band or "",
                "in_listing": listed["band"] if listed else "no",
                "scope": listed["scope"] if listed else scope_of(a, b),
                "key_a": a["source"],
                "key_b": b["source"],
                "name_a": a["name"],
                "name_b": b["name"],
                "level_a": a["level"],
                "level_b": b["level"],
                "target_a": a["target"],
                "target_b": b["target"],
                "dept_a": a["department"],
                "dept_b": b["department"],
                "year_a": a["year"],
                "year_b": b["year"],
                "uri_a": a["uri"],
                "uri_b": b["uri"],
            }
        )

    # 1. the listing, stratified
    cells: dict[tuple[str, str], list[dict]] = {c: [] for c in CELLS}
    for p in sorted(listing, key=lambda p: (p["a"]["uri"], p["b"]["uri"])):
        group = "within" if p["scope"] == "within-table" else "across"
        cells[(group, score_bin(p["score"]))].append(p)
    for cell, n in CELLS.items():
        rng = random.Random(f"{SEED}:{'/'.join(cell)}")  # one generator per cell: draws stay local
        pool = [p for p in cells[cell] if frozenset((p["a"]["uri"], p["b"]["uri"])) not in drawn]
        for p in rng.sample(pool, min(n, len(pool))):
            add(p["a"]["uri"], p["b"]["uri"], "listing", "/".join(cell), p["score"], p["band"])

    # 2. neighbours of indicators picked across departments
    def similar(spec: tuple[str, str]) -> list[dict]:
        name, dept = spec
        out = ikg(
            args.data_dir, "similar", name, "--of-department", dept, "-k", "8", "--format", "jsonl"
        )
        return [json.loads(x) for x in out.splitlines() if x.strip()]

    def resolve(name: str, dept_part: str) -> str:
        hits = [
            i
            for i in ind.values()
            if (i["name"] == name or i["raw_name"] == name) and dept_part in i["department"]
        ]
        assert len(hits) == 1, (name, dept_part, hits)
        return hits[0]["uri"]

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(similar, SIMILAR_OF))
    for spec, hits in zip(SIMILAR_OF, answers, strict=True):
        of = resolve(*spec)
        fresh = [h for h in hits if h["uri"] != of and frozenset((of, h["uri"])) not in drawn]
        rng = random.Random(f"{SEED}:similar:{spec[0]}")
        for h in rng.sample(fresh, min(2, len(fresh))):
            add(of, h["uri"], "similar", f"similar:{spec[0]}", h["score"], h.get("band"))

    # 3. hand-picked duplicates the default listing does not show
    for ua, ub in recall:
        listed = by_pair.get(frozenset((ua, ub)))
        assert not (listed and listed["band"] == "duplicate"), (ind[ua]["name"], ind[ub]["name"])
        add(
            ua,
            ub,
            "recall",
            "recall",
            listed["score"] if listed else None,
            listed["band"] if listed else None,
        )

    for n, r in enumerate(rows, 1):
        r["pair_id"] = f"h{n:03d}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} pairs -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
