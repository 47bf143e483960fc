"""The indicator vocabulary: the one home of the words the target parser, the review and
the suggestions compare.

* grades (:data:`GRADE_WORDS`, :data:`LEVEL_GRADE`) and the review's split of them into
  checkable (:data:`CHECKABLE_GRADES`) and vague (:data:`VAGUE_GRADES`) ones;
* not-applicable values and comparison words of a target (:data:`NOT_APPLICABLE_WORDS`,
  :data:`COMPARISON_WORDS`);
* words of a name: effort or direction (:data:`VAGUE_NAME_WORDS`), what makes it measurable
  (:data:`MEASURE_WORDS`), what it measures by its ending (:data:`MEASURE_SUFFIXES`), counts,
  on-time rates and satisfaction;
* units: of counts (:data:`COUNT_UNITS`), of time (:data:`TIME_UNITS`), and the measure a unit
  implies (:data:`UNIT_MEASURES`).

:mod:`kg.targets` (and through it the readers' :mod:`kg.readers.vocabulary`),
:mod:`apps.review.rules` and :mod:`embeddings.text` import them from here; the suggestions
judge names and targets by running the review's rules (:mod:`apps.suggest.checks`), so they
read the same words. Nothing here imports the rest of the project.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- targets

#: Grade words: a target value that is exactly one of these is qualitative.
#: The review splits them into checkable and vague grades (:data:`VAGUE_GRADES`).
# fmt: off
GRADE_WORDS: tuple[str, ...] = (
    # degree
    "显著", "明显", "有效", "及时", "较好", "良好", "优秀", "优良", "好", "较高", "高",
    "准确", "准时", "按时", "按期",
    # direction of change
    "提升", "提高", "增加", "增强", "改善", "降低", "减少", "下降",
    "稳步提升", "逐步提升", "持续提升", "有所提升", "明显提升", "显著提升", "有效提升", "大幅提升",
    "稳步提高", "逐步提高", "持续提高", "有所提高", "明显提高", "显著提高", "有效提高", "大幅提高",
    "持续改善", "逐步改善", "有所改善", "明显改善", "显著改善", "有效改善",
    "持续优化", "不断优化", "逐步完善", "不断完善", "持续增强", "不断增强", "保持稳定",
    # time horizon
    "长期", "中长期", "短期", "持续", "长效", "可持续",
    # yes / no, compliance
    "是", "否", "有", "无", "达标", "合格", "基本达到", "达到", "达到预期", "符合要求", "符合标准",
    "符合", "满意", "基本满意", "稳定", "安全", "正常", "正常运行", "规范", "健全", "完善",
    # completion
    "完成", "按时完成", "按期完成", "全面完成", "基本完成", "如期完成", "顺利完成",
    # levels
    "一级", "二级", "三级", "四级", "五级", "甲级", "乙级", "丙级",
)
# fmt: on

#: Values that say the indicator does not apply (compared after NFKC, case-folded).
NOT_APPLICABLE_WORDS: tuple[str, ...] = (
    "不适用",
    "无此项",
    "不涉及",
    "/",
    "\\",
    "—",
    "——",
    "-",
    "--",
    "n/a",
    "na",
)

#: Comparison words and signs, each mapped to the ASCII sign it stands for.
COMPARISON_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("≥", "≧", "⩾", ">=", "不低于", "不少于", "不小于", "大于等于", "大于或等于"), ">="
    ),
    **dict.fromkeys(
        ("≤", "≦", "⩽", "<=", "不高于", "不超过", "不多于", "不大于", "小于等于", "小于或等于"),
        "<=",
    ),
    **dict.fromkeys((">", "大于", "高于", "超过"), ">"),
    **dict.fromkeys(("<", "小于", "低于"), "<"),
    **dict.fromkeys(("=", "等于"), "="),
}

#: A level grade (二级, 甲级, AAA级 …): checkable, whether or not it is a word of GRADE_WORDS.
LEVEL_GRADE = re.compile(r"(?:[一二三四五六七八九十]|[甲乙丙丁]|[A-E]|[1-5]A|A{2,5})级")

# --------------------------------------------------------------------------- grades

#: Grades that are checkable, so not vague: yes/no and compliance states.
#: (Level grades — 二级, 甲级, AAA级 … — are checkable too: see :data:`LEVEL_GRADE`.)
CHECKABLE_GRADES: frozenset[str] = frozenset(
    (
        "是",
        "否",
        "有",
        "无",
        "达标",
        "合格",
        "符合",
        "符合要求",
        "符合标准",
        "安全",
        "正常",
        "正常运行",
        "完成",
        "按时完成",
        "按期完成",
        "如期完成",
        "全面完成",
        "顺利完成",
    )
)

#: Grades that state a degree, a direction, a horizon or a hedge: not assessable.
VAGUE_GRADES: frozenset[str] = frozenset(
    w for w in GRADE_WORDS if w not in CHECKABLE_GRADES and not LEVEL_GRADE.fullmatch(w)
)

# --------------------------------------------------------------------------- names and units

#: Words of effort or direction that make a name a goal rather than a measure.
VAGUE_NAME_WORDS: tuple[str, ...] = (
    "提升",
    "提高",
    "促进",
    "加强",
    "优化",
    "推动",
    "推进",
    "增强",
    "改善",
    "发挥",
    "强化",
    "深化",
    "完善",
    "健全",
    "保证",
    "确保",
    "做好",
    "组织好",
    "抓好",
    "落实好",
    "服务好",
    "营造",
    "打造",
    "形成",
    "集聚",
    "树立",
    "创建",
    "扎实",
    "持续",
    "进一步",
    "不断",
)
#: Any of them in a name.
VAGUE_NAME = re.compile("|".join(VAGUE_NAME_WORDS))

#: What makes a name measurable: a rate, a ratio, a count, an amount, a score, a level ...
#: (效率, efficiency, is not a rate: "提高人员工作效率" names nothing to count.)
MEASURE_WORDS = re.compile(
    r"(?<!效)率|比例|比率|占比|覆盖面|满意度|知晓度|参与度|认可度|指数|[人件户家项期个场天]数|人次|次数|"
    r"场次|数量|时长|金额|费用|成本|得分|分数|评分|等级|排名|标准(?!化)|数$"
)

#: Units that count things or people.
COUNT_UNITS: frozenset[str] = frozenset(
    (
        "人",
        "人次",
        "次",
        "场",
        "场次",
        "个",
        "本",
        "份",
        "卷",
        "项",
        "户",
        "家",
        "篇",
        "期",
        "件",
        "套",
        "台",
        "批",
        "所",
        "名",
        "位",
        "册",
        "条",
        "处",
        "座",
        "门",
        "节",
        "课时",
    )
)
#: A name that ends in a count (人数, 次数, 数量 …).
COUNT_NAME = re.compile(r"(人数|人次|次数|场次|数量|个数|件数|户数)$")

#: A named on-time rate: a percentage that is a timeliness measure by national practice.
ON_TIME_RATE = re.compile(r"(及时|按时|准时|按期|如期|时效).*率$")
#: Units of time: a count of them is a time limit (≤3天).
TIME_UNITS = frozenset(("天", "日", "小时", "分钟", "个月", "月", "周", "年", "工作日", "自然日"))

#: A name about satisfaction (…满意度, …满意率).
SATISFACTION_NAME = re.compile(r"满意(度|率)")

#: What a name measures, read from its ending (the first that matches wins).
# fmt: off
MEASURE_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("满意度", "satisfaction"), ("满意率", "satisfaction"),
    ("知晓率", "awareness"), ("知晓度", "awareness"),
    ("及时率", "timeliness"), ("及时性", "timeliness"), ("时效", "timeliness"),
    ("完成时间", "timeliness"), ("时间", "timeliness"),
    # finished on time, however it is worded (及时 / 按时 / 按期 / 如期 / 按计划完成率)
    ("及时完成率", "timeliness"), ("按时完成率", "timeliness"), ("按期完成率", "timeliness"),
    ("如期完成率", "timeliness"), ("按计划完成率", "timeliness"), ("准时完成率", "timeliness"),
    # money spent against the budget: 支出率 / 支出进度 / 支付率 are execution rates
    ("支出进度达标率", "execution_rate"), ("支出进度", "execution_rate"),
    ("支出率", "execution_rate"), ("支付率", "execution_rate"), ("支付完成率", "execution_rate"),
    ("合格率", "quality_rate"), ("通过率", "quality_rate"), ("达标率", "quality_rate"),
    ("覆盖率", "coverage"), ("覆盖面", "coverage"),
    ("完成率", "completion_rate"), ("执行率", "execution_rate"), ("到位率", "execution_rate"),
    ("出勤率", "rate"), ("比例", "rate"), ("比率", "rate"), ("占比", "rate"), ("率", "rate"),
    ("人数", "count_people"), ("人次", "count_people"),
    ("次数", "count_events"), ("场次", "count_events"), ("批次", "count_events"),
    ("天数", "count_days"), ("课时", "count_days"), ("学时", "count_days"),
    ("数量", "count"), ("个数", "count"), ("篇数", "count"), ("份数", "count"), ("数", "count"),
    ("成本", "cost"), ("经费", "cost"), ("补助", "cost"), ("费用", "cost"),
    ("水平", "level"), ("能力", "level"), ("效率", "level"), ("素养", "level"),
)
# fmt: on

#: The measure a unit implies when the name's ending says none.
UNIT_MEASURES: dict[str, str] = {
    "%": "rate",
    "人": "count_people",
    "人次": "count_people",
    "次": "count_events",
    "场": "count_events",
    "场次": "count_events",
    "天": "count_days",
    "个月": "count_days",
    "头": "count",
    "台": "count",
    "辆": "count",
    "座": "count",
    "个": "count",
    "家": "count",
    "平方米": "area",
    "亩": "area",
    "公里": "length",
}
