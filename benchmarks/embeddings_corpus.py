"""Extract indicator names for the evaluation set: the seed plus ../shared/corpus/.

No reader exists yet for the corpus layouts (flattened web tables, dictionaries,
lists), so this script does the least that is faithful:

* the seed is read with the project's own reader (``kg.readers.seed_text``);
* the four libraries have a regular shape and are parsed by a rule each;
* for the 13 tables the indicator rows are listed below by hand (name, categories,
  target as printed), and the script *finds* each name in its file, failing if a
  name is not there verbatim, so every name keeps its file and line.

Output: ``benchmarks/data/embeddings_indicators.tsv`` with columns
``id file line level1 level2 name name_raw target``. ``name`` is the simplified-character
form (the one mirror that served traditional characters is converted with OpenCC (the project's own dependency)
when it is installed; the raw name is kept beside it). The file is committed; rerun
``python benchmarks/embeddings_corpus.py`` after changing the lists below.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEED = SHARED / "seeds" / "000_3b89ef93caa61199.txt"
OUT = ROOT / "benchmarks" / "data" / "embeddings_indicators.tsv"

# fmt: off
#: file → rows (level1, level2, name as printed, target as printed)
TABLES: dict[str, list[tuple[str, str, str, str]]] = {
    "anhui_chizhou_guichi_tangxi_town_2022_project_selfeval.txt": [
        ("产出指标", "数量指标", "基建工程委托业务项目数量", "≥50个"),
        ("产出指标", "质量指标", "委托业务报告合格率", "≥100%"),
        ("产出指标", "质量指标", "经费支出合规性", "严格执行相关制度规定"),
        ("产出指标", "时效指标", "提交报告及时性", "在项目计划完成时间内完成"),
        ("产出指标", "成本指标", "项目总成本", "≤90万元"),
        ("产出指标", "成本指标", "单项业务成本", "符合相关规定"),
        ("效益指标", "社会效益指标", "对维护基建市场公平的影响程度", "效果明显"),
        ("效益指标", "生态效益指标", "对控制基建项目成本影响程度", "效果明显"),
        ("效益指标", "可持续影响指标", "对推动基建项目“四项制度”健全和落实的持续性影响", "效果明显"),
    ],
    "chongqing_fengjie_emergency_mgmt_2025_project_approval.txt": [
        ("产出指标", "数量指标", "12350安全生产举报奖励次数", "≥5次"),
        ("产出指标", "数量指标", "制作防灾减灾日宣传资料份数", "≥500份"),
    ],
    "guangxi_baise_edu_2023_project_public.txt": [
        ("产出指标", "数量指标", "新增学位", "2023年预计在校生"),
    ],
    "hebei_ningjin_edu_2019_highschool_grant_eval.txt": [
        ("产出指标", "数量指标", "享受资助人数", "2100"),
        ("产出指标", "数量指标", "资金支出率", "95%"),
        ("产出指标", "质量指标", "建档立卡学生全面覆盖", "100%"),
        ("满意度指标", "服务对象满意度指标", "资助对象满意度", "≥95%"),
        ("产出指标", "时效指标", "及时发放率", "100%"),
        ("产出指标", "成本指标", "资助标准达标率", "100%"),
    ],
    "hubei_huangshi_party_school_2022_project_approval.txt": [
        ("产出指标", "数量指标", "主体班培训人次", "280人次"),
        ("产出指标", "数量指标", "邀请校外名师、领导授课人次", "25人次"),
        ("产出指标", "数量指标", "情景教学或外训批次", "6次"),
        ("产出指标", "数量指标", "理论教育和党性教育课时比例", "70%"),
        ("产出指标", "数量指标", "开设课程数量", "220"),
        ("产出指标", "质量指标", "培训完成率", "100%"),
        ("产出指标", "质量指标", "邀请校外名师、领导授课完成率", "100%"),
        ("产出指标", "质量指标", "情景教学或外训完成率", "100%"),
        ("产出指标", "质量指标", "理论教育和党性教育课时比例完成率", "100%"),
        ("产出指标", "质量指标", "课程数量达标率", "100%"),
        ("产出指标", "时效指标", "及时完成率", "100%"),
        ("产出指标", "成本指标", "成本控制率", "100%"),
        ("满意度指标", "服务对象满意度指标", "培训学员对培训效果满意度", "≥95%"),
    ],
    "hubei_wuhan_qingshan_edu_2020_project_rural_school.txt": [
        ("产出指标", "数量指标", "农村义务教育学校改造覆盖率", "100%"),
        ("产出指标", "质量指标", "校舍维修改造质量合格率", "100%"),
        ("产出指标", "质量指标", "购置设施设备质量合格率", "100%"),
        ("产出指标", "时效指标", "预算资金当年下达率", "100%"),
        ("产出指标", "时效指标", "项目按计划完成率", "100%"),
        ("产出指标", "成本指标", "建设项目成本控制率", "100%"),
        ("效益指标", "可持续影响指标", "义务教育优质均衡发展情况", "稳步提高"),
        ("满意度指标", "社会公众或服务对象满意度指标", "学生家长满意度", "≥90%"),
        ("满意度指标", "社会公众或服务对象满意度指标", "学校满意度", "≥90%"),
    ],
    "hunan_yueyang_county_agri_2022_farmland_project.txt": [
        ("产出指标", "数量指标", "脱贫村村内道路硬化里程", "≥100公里"),
        ("产出指标", "数量指标", "脱贫户供水设施数量", "≥20座"),
        ("产出指标", "质量指标", "项目(工程)验收合格率", "100%"),
        ("产出指标", "时效指标", "项目(工程)完成及时率", "≥100%"),
        ("产出指标", "成本指标", "财政资金补助", "1600元/亩"),
        ("效益指标", "经济效益指标", "年增粮食", "3500公斤"),
        ("效益指标", "社会效益指标", "受益脱贫(监测)人口数", "≥500人"),
        ("效益指标", "社会效益指标", "解决脱贫(监测)饮水安全问题人数", "≥1000人"),
        ("效益指标", "生态效益指标", "新增和改善灌溉达标面积", "≥500亩"),
        ("效益指标", "生态效益指标", "新增和改善排水达标面积", "≥200亩"),
        ("效益指标", "可持续影响指标", "工程设计使用年限", "≥20年"),
        ("满意度指标", "服务对象满意度指标", "受益脱贫(监测)户满意度", "≥95%"),
    ],
    "shaanxi_baoji_chencang_water_2020_rural_water_project.txt": [
        ("产出指标", "数量指标", "新建堤防、护岸长度", "公里"),
        ("产出指标", "数量指标", "灌区节水改造面积", "万亩"),
        ("产出指标", "数量指标", "农村饮水工程覆盖服务人口数", "万人"),
        ("产出指标", "数量指标", "中小河流治理问道长度", "公里"),
        ("产出指标", "质量指标", "工程验收合格率", "≧%"),
    ],
    "sichuan_daying_civil_affairs_2022_orphan_grant_selfeval.txt": [
        ("产出指标", "数量指标", "孤儿助学人数", "应助尽助"),
        ("产出指标", "质量指标", "保障贫困孤儿完成学业", "100%"),
        ("产出指标", "时效指标", "发放时间达标率", "100%"),
        ("产出指标", "成本指标", "助学金社会化发放率", "≥95%"),
        ("产出指标", "成本指标", "资金执行率", "100%"),
        ("效益指标", "社会效益指标", "孤儿身份、年满18周岁后就学水平情况", "有所提升"),
        ("效益指标", "可持续影响指标", "助学制度", "进一步完善"),
        ("满意度指标", "服务对象满意度指标", "政策知晓率", "≥90%"),
        ("满意度指标", "服务对象满意度指标", "救助对象对社会救助实施的满意度", "≥90%"),
    ],
    "sichuan_guangyuan_zhaohua_health_2021_project_special_family.txt": [
        ("产出指标", "数量指标", "对符合政策法规的独生子伤残、死亡家庭进行扶助", "63人"),
        ("产出指标", "质量指标", "按政策、法律、法规乡镇申报、初审确认对象资格,县级按要求复审", "100%"),
        ("产出指标", "时效指标", "项目实施时间", "2021年1月-12月"),
        ("产出指标", "时效指标", "资金拨付", "12月底到位"),
        ("产出指标", "成本指标", "成本控制", "严格按照预算标准1000元/人给补助对象兑付补助"),
        ("效益指标", "社会效益指标", "促进人口与经济、社会、资源、环境协调和可持续发展", "100%"),
        ("效益指标", "可持续影响指标", "实现社会稳定和谐发展", "长期"),
        ("满意度指标", "满意度指标", "受益群众满意度", "≥90%"),
        ("满意度指标", "满意度指标", "社会满意度", "100%"),
    ],
    "sichuan_suining_econ_dev_zone_market_reg_2021_regional_selfeval.txt": [
        ("产出指标", "数量指标", "药品抽验品种", "≥3"),
        ("产出指标", "数量指标", "化妆品抽验批次", "≥3"),
        ("产出指标", "数量指标", "医疗器械抽验批次", "≥2"),
        ("产出指标", "数量指标", "药品监管企业数", "≥124"),
        ("产出指标", "数量指标", "化妆品监管企业数", "≥290"),
        ("产出指标", "数量指标", "医疗器械监管企业数", "≥21"),
        ("产出指标", "数量指标", "药品监管人员人均培训学时", "≥90"),
        ("产出指标", "质量指标", "药品抽检完成率", "100%"),
        ("产出指标", "质量指标", "化妆品抽验完成率", "100%"),
        ("产出指标", "质量指标", "医疗器械抽验完成率", "100%"),
        ("产出指标", "质量指标", "不合格产品处置率", ""),
        ("产出指标", "质量指标", "药品不良反应每百万人口报告数", "≥150"),
        ("产出指标", "质量指标", "化妆品不良反应每百万人口报告数", "≥10"),
        ("产出指标", "质量指标", "医疗器械不良应每百万人口报告数", "≥30"),
        ("产出指标", "质量指标", "培训人员覆盖率", "100%"),
        ("产出指标", "时效指标", "任务完成时间", "2021年底"),
        ("产出指标", "成本指标", "培训成本", "400元/人、天"),
        ("产出指标", "成本指标", "药品抽验平均标准", ""),
        ("产出指标", "成本指标", "化妆品抽验平均标准", ""),
    ],
    "yunnan_yongde_minglang_school_2022_selfeval.txt": [
        ("产出指标", "数量指标", "学生受资助人数", "≧735人次"),
        ("产出指标", "质量指标", "营养改善计划覆盖率", "≧100%"),
        ("产出指标", "时效指标", "资金到位及时率", "≧100%"),
        ("产出指标", "成本指标", "生均补助标准达标率", "=100%"),
        ("效益指标", "经济效益指标", "减轻贫困学生家庭经济负担", "有效"),
        ("效益指标", "社会效益指标", "政策知晓率", "=100%"),
        ("效益指标", "可持续影响指标", "促进学校教育事业健康发展", "≧100%"),
        ("满意度指标", "服务对象满意度指标", "学生满意度", "≧95%"),
        ("满意度指标", "服务对象满意度指标", "家长满意度", "≧95%"),
    ],
}
# fmt: on

_LEVEL1 = {"产出指标", "效益指标", "效果指标", "满意度指标", "成本指标"}


def _simplified(text: str) -> str:
    from kg.readers._hanzi import to_simplified

    return to_simplified(text)


def _find_line(lines: list[str], name: str, start: int = 0) -> int:
    for n in range(start, len(lines)):
        if name in lines[n]:
            return n + 1
    raise SystemExit(f"name {name!r} not found verbatim after line {start}")


def seed_rows() -> list[dict[str, str]]:
    from kg.readers.seed_text import read

    parsed = read(SEED)
    return [
        {
            "file": "seeds/" + SEED.name,
            "line": str(ind.source.line),
            "level1": ind.level1,
            "level2": ind.level2,
            "name": ind.name,
            "name_raw": ind.name,
            "target": ind.target,
        }
        for ind in parsed.indicators
    ]


def table_rows() -> list[dict[str, str]]:
    out = []
    for fname, rows in TABLES.items():
        lines = (CORPUS / "tables" / fname).read_text(encoding="utf-8").splitlines()
        for l1, l2, name, target in rows:
            line = _find_line(lines, name)
            out.append(
                {
                    "file": f"corpus/tables/{fname}",
                    "line": str(line),
                    "level1": l1,
                    "level2": l2,
                    "name": name,
                    "name_raw": name,
                    "target": target,
                }
            )
    return out


def _unit_target(name: str) -> tuple[str, str]:
    """'购置**数量(台/件/辆/套)' → ('购置**数量', '台/件/辆/套'); the unit stands in for the target."""
    m = re.match(r"^(.*?)[(（]([^()（）]*)[)）]$", name)
    if m and len(m.group(2)) <= 12 and not re.search(r"[会议培训参会]", m.group(2)):
        return m.group(1), m.group(2)
    return name, ""


def library_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    # 1. numbered list "N.name≥target"
    f = "libraries/basic_public_health_service_2023_indicator_list.txt"
    for n, line in enumerate((CORPUS / f).read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^\d+\.(.+?)((?:≥|≤|较上年|不断).*)?$", line)
        if not m or line.startswith("#"):
            continue
        name, target = m.group(1), (m.group(2) or "")
        # a count with its figure printed inline: 高血压患者管理人数142万人
        m2 = re.match(r"^(.*?人数)(\d[\d.]*万?人)$", name)
        if m2:
            name, target = m2.group(1), m2.group(2)
        target = re.sub(r"\(.*?\)$", "", target).strip()
        l1 = (
            "满意度指标"
            if "满意度" in name
            else "效益指标"
            if target.startswith(("较上年", "不断"))
            else "产出指标"
        )
        out.append(
            {
                "file": f"corpus/{f}",
                "line": str(n),
                "level1": l1,
                "level2": "",
                "name": name,
                "name_raw": name,
                "target": target,
            }
        )
    # 2. records "一级,二级,三级/三级/...---"
    f = "libraries/cams_innovation_project_generic_indicator_dictionary.txt"
    lines = (CORPUS / f).read_text(encoding="utf-8").splitlines()
    level1 = ""
    for n, line in enumerate(lines, start=1):
        if line.startswith("#"):
            continue
        for rec in line.split("---"):
            parts = rec.split(",", 2)
            if len(parts) < 3:
                continue
            level1 = parts[0] or level1
            for name in parts[2].split("/"):
                name = name.strip().rstrip(",")
                if len(name) >= 2 and "**" not in name[:2]:
                    out.append(
                        {
                            "file": f"corpus/{f}",
                            "line": str(n),
                            "level1": level1,
                            "level2": parts[1],
                            "name": name,
                            "name_raw": name,
                            "target": "",
                        }
                    )
    # 3. columns "code | 一级 | 二级 | 三级 | 解释"
    f = "libraries/generic_common_indicators_gx_codes_sample.txt"
    for n, line in enumerate((CORPUS / f).read_text(encoding="utf-8").splitlines(), start=1):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5 and cells[0].startswith("gx"):
            out.append(
                {
                    "file": f"corpus/{f}",
                    "line": str(n),
                    "level1": cells[1],
                    "level2": cells[2],
                    "name": cells[3],
                    "name_raw": cells[3],
                    "target": "",
                }
            )
    # 4. one cell a line, categories as their own lines, traditional characters
    f = "libraries/common_indicator_library_example_by_project_type.txt"
    level1 = level2 = ""
    for n, raw in enumerate((CORPUS / f).read_text(encoding="utf-8").splitlines(), start=1):
        text = re.sub(
            r"\([a-zA-Z\u00c0-\u024f]+\)", "", raw
        )  # pinyin glosses the mirror inserted: 產(chǎn)出
        simp = _simplified(text).strip()
        if (
            not simp
            or raw.startswith("#")
            or "…" in simp
            or simp.endswith(("类项", "类项目"))
            or len(simp) < 4
        ):
            continue
        if simp == "成本指标":  # a level-2 category under 产出指标 in this library
            level2 = simp
            continue
        if simp == "满意度指标":  # printed once for both levels
            level1 = level2 = simp
            continue
        if simp in _LEVEL1:
            level1, level2 = simp, ""
            continue
        if simp.endswith("指标") and len(simp) <= 8:
            level2 = simp
            continue
        if (
            not level2
            or not re.search(r"[\u4e00-\u9fff]{3}", simp)
            or simp.startswith(("表1", "方法"))
        ):
            continue
        name, unit = _unit_target(simp)
        out.append(
            {
                "file": f"corpus/{f}",
                "line": str(n),
                "level1": level1,
                "level2": level2,
                "name": name,
                "name_raw": raw.strip(),
                "target": unit,
            }
        )
    return out


def main() -> int:
    rows = seed_rows() + table_rows() + library_rows()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        cols = ["id", "file", "line", "level1", "level2", "name", "name_raw", "target"]
        w.writerow(cols)
        for i, r in enumerate(rows, start=1):
            w.writerow([f"n{i:04d}", *(r[c] for c in cols[1:])])
    by_file: dict[str, int] = {}
    for r in rows:
        by_file[r["file"]] = by_file.get(r["file"], 0) + 1
    for f, n in by_file.items():
        print(f"{n:4d}  {f}", file=sys.stderr)
    print(f"{len(rows)} names → {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
