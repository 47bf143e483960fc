"""The drafting page's review (apps.draft.review_draft): an indicator put under a task belongs to
it, findings cite the draft's rows (第 n 条 / 任务 n) and the rules' Chinese names."""

from __future__ import annotations

from pathlib import Path

from apps.draft import Draft, review_draft, row_of_line

TASK = "组织开展党员教育培训"


def _draft(task: str | None) -> Draft:
    return Draft(
        department="测试区委组织部",
        fiscal_year=2025,
        tasks=[
            {"name": TASK, "content": "组织全区党员参加集中学习"},
            {"name": "老干口业务", "content": "发放离休干部慰问金"},
        ],
        indicators=[
            # names that share nothing with the task's words: lexically they fit no task
            {"level2": "数量指标", "name": "党组织书记赴外培训", "target": "≥1次", "task": task},
            {"level2": "质量指标", "name": "赴外考察覆盖率", "target": "100%", "task": task},
            {
                "level2": "时效指标",
                "name": "赴外考察完成时间",
                "target": "2025年12月20日前",
                "task": task,
            },
            {"level2": "数量指标", "name": "发放离休干部慰问金人次", "target": "23人次"},
            {"level2": "社会效益指标", "name": "提升人才政策知晓度", "target": "明显"},
        ],
    )


def _by_rule(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def test_indicators_added_under_a_task_belong_to_it(tmp_path: Path) -> None:
    report = review_draft(_draft(TASK), tmp_path, scorer=False)
    assert not [f for f in _by_rule(report, "task-without-indicator") if f["item_name"] == TASK]
    assert not _by_rule(report, "indicator-without-task"), _by_rule(
        report, "indicator-without-task"
    )
    row = next(r for r in report["coverage"][0]["rows"] if r["task"] == TASK)
    assert row["indicators"] == 3 and not row.get("uncovered")


def test_without_the_task_link_the_lexical_review_still_applies(tmp_path: Path) -> None:
    report = review_draft(_draft(None), tmp_path, scorer=False)
    assert [f["item_name"] for f in _by_rule(report, "task-without-indicator")] == [TASK]


def test_findings_cite_draft_rows_and_chinese_rule_names(tmp_path: Path) -> None:
    report = review_draft(_draft(TASK), tmp_path, scorer=False)
    vague = _by_rule(report, "vague-target")
    assert len(vague) == 1
    assert vague[0]["row"] == {"kind": "indicator", "number": 5}
    assert vague[0]["row_label"] == "第 5 条"
    assert vague[0]["rule_zh"] == "目标值为定性描述"
    assert vague[0]["source_text"] is None and vague[0]["file"] == "绩效目标表草稿.csv"
    for f in report["findings"]:
        assert f["rule_zh"] and f["rule_zh"] != f["rule"], f
        assert "/" not in f["file"]
    missing = _by_rule(report, "missing-category")
    assert all(f["row_label"] is None or f["row_label"].startswith(("第", "任务")) for f in missing)


def test_row_of_line() -> None:
    d = _draft(TASK)
    assert row_of_line(d, 1) is None and row_of_line(d, 2) is None
    assert row_of_line(d, 3) == ("task", 1) and row_of_line(d, 4) == ("task", 2)
    assert row_of_line(d, 5) == ("indicator", 1) and row_of_line(d, 9) == ("indicator", 5)
    assert row_of_line(d, 10) is None


#: seed tasks and seed indicators (000_3b89ef93caa61199.txt) whose words fit no task lexically:
#: the satisfaction with cadre selection under 干部人事业务, the branch secretaries' training under
#: 组织工作业务
SEED_ROWS = {
    "干部人事业务": [
        ("服务对象满意度指标", "提升干部选拔任用“一报告两评议”满意度", "100%"),
        ("服务对象满意度指标", "选拔任用干部满意度", "＞90%"),
        ("服务对象满意度指标", "全区各单位对干部选拔任用工作的满意度", "≥90%"),
    ],
    "组织工作业务": [
        ("数量指标", "举办基层党支部书记、基层党务干部、基层一线代表培训班", "3场"),
        ("质量指标", "基层党支部书记、基层党务干部、基层一线代表培训合格率", "100%"),
    ],
}


def _seed_draft(seed_parsed, with_task: bool) -> Draft:  # type: ignore[no-untyped-def]
    tasks = {t.name: t for t in seed_parsed.tasks}
    return Draft(
        department="中共深圳市福田区委组织部",
        fiscal_year=2025,
        tasks=[{"name": n, "content": tasks[n].content} for n in SEED_ROWS],
        indicators=[
            {"level2": l2, "name": name, "target": target, "task": task if with_task else None}
            for task, rows in SEED_ROWS.items()
            for l2, name, target in rows
        ],
    )


def test_a_reimported_draft_keeps_its_indicators_tasks(tmp_path: Path, seed_parsed) -> None:
    """An exported draft read back as any table (``ikg review 绩效目标表草稿.csv``): its 所属任务
    column puts each indicator under its task, as the drafting page did; without the column
    the lexical alignment finds none of them a task."""
    from apps.draft import draft_csv
    from apps.review import review_file

    def review(with_task: bool) -> dict:
        path = tmp_path / f"draft-{with_task}.csv"
        path.write_text(draft_csv(_seed_draft(seed_parsed, with_task)), encoding="utf-8")
        return review_file(path, scorer=False).model_dump(mode="json")

    report = review(True)
    assert not _by_rule(report, "task-without-indicator"), _by_rule(
        report, "task-without-indicator"
    )
    assert not _by_rule(report, "indicator-without-task"), _by_rule(
        report, "indicator-without-task"
    )
    cov = report["coverage"][0]
    ordinal = {r["task"]: r["ordinal"] for r in cov["rows"]}
    for a in cov["alignments"]:
        task = next(t for t, rows in SEED_ROWS.items() if a["indicator"] in [r[1] for r in rows])
        assert a["tasks"] == [ordinal[task]], a
    # the same draft without 所属任务: the review aligns by words and finds no task's indicator
    plain = review(False)
    assert {f["item_name"] for f in _by_rule(plain, "task-without-indicator")} == set(SEED_ROWS)
