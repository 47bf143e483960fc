"""The review report in text, JSON, Markdown and HTML: one report, four renderings, a schema."""

from __future__ import annotations

import html
import json
import re

import jsonschema
import pytest

from apps.review import ReviewReport, render, review_file, review_files
from apps.review.findings import SEVERITY_ZH, json_schema, shipped_schema


@pytest.fixture(scope="module")
def report(seed_path) -> ReviewReport:
    return review_file(seed_path)


@pytest.fixture(scope="module")
def outputs(report) -> dict[str, str]:
    return {fmt: render(report, fmt) for fmt in ("text", "json", "markdown", "html")}


def test_schema_file_matches_the_models():
    """apps/review/report.schema.json is generated from the pydantic models; regenerate with
    python -c "from apps.review.findings import schema_text; print(schema_text(), end='')" > apps/review/report.schema.json
    """
    assert shipped_schema() == json_schema()


def test_json_validates_against_the_schema(outputs, report):
    schema = shipped_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(outputs["json"])
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert data == json.loads(report.model_dump_json())
    assert len(data["findings"]) == len(report.findings)
    f = next(x for x in data["findings"] if x["rule"] == "task-row-sum")
    assert f["item_name"] == "基本支出" and f["values"]["total"] == "3,133.45" and f["line"] == 36


def test_schema_rejects_a_bad_report(outputs):
    data = json.loads(outputs["json"])
    data["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, shipped_schema(), cls=jsonschema.Draft202012Validator)


def test_every_format_carries_every_finding(outputs, report):
    for f in report.findings:
        assert f.message_zh in outputs["text"]
        assert f.message_zh.replace("|", "\\|") in outputs["markdown"]
        assert html.escape(f.message_zh, quote=True) in outputs["html"]
        assert f.where in outputs["text"]


def test_summary_counts_agree_across_formats(outputs, report):
    s = report.summary.by_severity
    line = "，".join(f"{SEVERITY_ZH[k]} {s[k]}" for k in ("error", "warning", "note"))
    assert line in outputs["text"] and line in outputs["markdown"]
    for k in ("error", "warning", "note"):
        assert f'<div class="card {k}"><b>{s[k]}</b>' in outputs["html"]


def test_markdown_has_summary_matrix_and_sections(outputs):
    md = outputs["markdown"]
    for heading in (
        "## 按规则统计",
        "## 按指标类别统计",
        "## 任务覆盖",
        "## 发现的问题",
        "### 金额核对",
        "### 目标值",
    ):
        assert heading in md
    assert "| 11. 信息化新建项目（非政府投资项目） ⚠ 无对应指标 |" in md
    assert md.index("### 金额核对") < md.index("### 日期") < md.index("### 目标值")


def test_text_has_the_coverage_matrix(outputs):
    assert "任务" in outputs["text"] and "未对应任务的指标" in outputs["text"]


def test_html_is_self_contained(outputs):
    page = outputs["html"]
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page and "<img" not in page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert page.count("<svg") == 1 and "@media print" in page


def test_html_sections_and_chart(outputs, report):
    page = outputs["html"]
    assert page.index("<h2>概况") < page.index("<h2>任务覆盖") < page.index("<h2>发现的问题")
    assert page.count('<article class="finding') == len(report.findings)
    for cat in report.summary.by_category:
        assert f">{html.escape(cat)}</text>" in page  # one bar label per category
    assert "<pre>" in page  # source lines shown with the findings


def test_render_rejects_unknown_format(report):
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "pdf")


def test_multi_file_report_groups_by_file(seed_path, tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_text("not a table\n", encoding="utf-8")
    rep = review_files([seed_path, bad])
    for fmt in ("text", "markdown", "html"):
        out = render(rep, fmt)
        assert str(bad) in out and str(seed_path) in out
    jsonschema.validate(
        json.loads(render(rep, "json")), shipped_schema(), cls=jsonschema.Draft202012Validator
    )


def test_empty_report_renders(tmp_path):
    rep = review_files([])
    for fmt in ("text", "json", "markdown", "html"):
        assert render(rep, fmt)
    assert "没有发现问题" in render(rep, "html")


def test_markdown_escapes_html_from_the_tables(report):
    """Names and messages come from uploaded tables: a Markdown viewer renders raw HTML, so
    the Markdown report escapes it (code spans stay literal)."""
    finding = report.findings[0].model_copy(
        update={
            "item_name": "<script>alert(1)</script>",
            "message_zh": "指标“<img src=x onerror=alert(1)>”的目标值 a & b",
        }
    )
    files = [report.files[0].model_copy(update={"department": "<b>某部门</b>"})]
    md = render(report.model_copy(update={"findings": [finding], "files": files}), "markdown")
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md and "a &amp; b" in md
    assert "# 绩效目标表审核报告 — &lt;b&gt;某部门&lt;/b&gt;" in md
