"""Write data/demo/corpus/: one template CSV per table the flat-text reader reads in the corpus.

A file listing several projects holds one table per project (kg.readers.projects): its
CSVs are NAME__p1.csv, NAME__p2.csv ….

Usage: .venv/bin/python scripts/demo_corpus.py   (from the repository root)

Each CSV is what ``kg.readers.flat_text`` reads from ``../shared/corpus/tables/NAME.txt``
(sources kept as that relative path), but for the header facts in ``HAND_FIXES``: facts
the printed text gets wrong or leaves out, fixed by hand and listed in docs/readers.md.
tests/test_corpus_tables.py checks that every CSV is the reader's output but for these.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT.parent / "shared" / "corpus" / "tables"
DEMO = ROOT / "data" / "demo" / "corpus"

#: file stem → {TableRecord field: (as read, as fixed)}.
HAND_FIXES: dict[str, dict[str, tuple[object, object]]] = {
    "chongqing_fengjie_emergency_mgmt_2025_project_approval": {"fiscal_year": (2023, 2025)},
    "fujian_ningde_party_history_office_2019_dept_overall_target": {
        "project_name": ("预算金额(万元)", None)  # a column header of the task block
    },
    "hebei_ningjin_edu_2019_highschool_grant_eval": {"department": ("教育局", "宁晋县教育局")},
    "hubei_wuhan_qingshan_edu_2020_project_rural_school": {
        "department": ("青山区教育局", "武汉市青山区教育局")
    },
    "hunan_xiangtan_sanitation_2024_fog_cannon_project_target": {
        # 主管部门 is printed first; the unit that spends (项目实施单位) is the 2023 table's 预算部门
        "department": ("湘潭市城市管理和综合执法局", "湘潭市环境卫生管理处")
    },
    "shaanxi_baoji_chencang_water_2020_rural_water_project": {
        "department": ("陈仓区水利局", "宝鸡市陈仓区水利局")
    },
    "sichuan_daying_civil_affairs_2020_elderly_care_selfeval_fragment": {
        # a page of 大英县民政局's 2020 决算 article (the 2022 table of the series names it)
        "department": ("未注明单位", "大英县民政局")
    },
    "sichuan_daying_consumer_city_creation_2020_project_selfeval": {
        # the report names no unit; the page is 大英县's (two unnamed units are not one)
        "department": ("未注明单位", "未注明单位（大英县）")
    },
    "fujian_ningde_talent_station_2023_subsidy_selfeval_inline_fragment": {
        "department": ("未注明单位", "未注明单位（宁德市）")  # the text names 宁德市 only
    },
    "sichuan_daying_culture_tourism_2022_library_selfeval_fragment": {
        # the next table of the same page: 主管部门 大英县文化广播电视和旅游局 (line 21)
        "department": ("未注明单位", "大英县文化广播电视和旅游局")
    },
    "sichuan_guangyuan_zhaohua_cdc_2021_leprosy_project_declaration": {
        "department": ("区疾控中心", "广元市昭化区疾病预防控制中心")
    },
    "sichuan_guangyuan_zhaohua_health_2021_project_special_family": {
        "department": ("区卫生健康局", "广元市昭化区卫生健康局")
    },
    "sichuan_luxian_culture_tourism_2024_dept_overall_declaration": {
        "department": ("文化部门", "泸县文化广电旅游局")
    },
}


def csv_stems(stem: str, n: int) -> list[str]:
    """The demo CSVs of a table file: one, or one per project (NAME__p1, NAME__p2 …)."""
    return [stem] if n == 1 else [f"{stem}__p{k}" for k in range(1, n + 1)]


def main() -> int:
    from kg import writers
    from kg.errors import SourceError
    from kg.readers import flat_text, projects

    DEMO.mkdir(parents=True, exist_ok=True)
    written, skipped = 0, []
    for path in sorted(TABLES.glob("*.txt")):
        try:
            parsed = flat_text.read(path)
        except SourceError as exc:
            skipped.append(f"{path.name}: {exc.message[:80]}")
            continue
        if not parsed.indicators and not parsed.tasks:
            skipped.append(f"{path.name}: no indicator read")
            continue
        if parsed.table.fiscal_year is None:  # a year would have to be made up
            skipped.append(f"{path.name}: no fiscal year printed anywhere (read with --year)")
            continue
        tables = projects.split(parsed)
        for stem, table in zip(csv_stems(path.stem, len(tables)), tables, strict=True):
            for record in table.records():
                record.source.file = f"../shared/corpus/tables/{path.name}"
            for field, (printed, fixed) in HAND_FIXES.get(path.stem, {}).items():
                if getattr(table.table, field) != printed:
                    print(
                        f"{path.name}: {field} reads {getattr(table.table, field)!r}, "
                        f"not {printed!r}: check HAND_FIXES",
                        file=sys.stderr,
                    )
                    return 1
                setattr(table.table, field, fixed)
            with (DEMO / f"{stem}.csv").open("w", encoding="utf-8", newline="") as fh:
                writers.write_csv(table, fh)
            written += 1
    print(f"wrote {written} CSV(s) to {DEMO}")
    for line in skipped:
        print(f"not written: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
