"""One ReviewReport, four formats: text (terminal), JSON, Markdown and a self-contained HTML page.

All four are made from the same :class:`~apps.review.findings.ReviewReport`, so they
always agree. The HTML page has no external resource (no CDN, font or script):
inline CSS, an inline SVG chart, print styles; it opens from a file and prints.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from .findings import (
    CATEGORY_TABLE,
    CATEGORY_TASKS,
    SECTIONS,
    SEVERITIES,
    SEVERITY_ZH,
    VALUE_LABELS,
    Finding,
    ReviewReport,
    TableCoverage,
)

FORMATS = ("text", "json", "markdown", "html")  # and xlsx: apps.review.xlsx (binary)

#: Order of the chart's categories: the framework's, then whatever else the tables print.
_CATEGORY_ORDER = (
    "数量指标",
    "质量指标",
    "时效指标",
    "成本指标",
    "经济成本指标",
    "社会成本指标",
    "生态环境成本指标",
    "经济效益指标",
    "社会效益指标",
    "生态效益指标",
    "可持续影响指标",
    "服务对象满意度指标",
    "其他满意度指标",
    CATEGORY_TASKS,
    CATEGORY_TABLE,
)
_SEV_COLOR = {"error": "#b42318", "warning": "#b54708", "note": "#175cd3"}
_SEV_BG = {"error": "#fef3f2", "warning": "#fffaeb", "note": "#eff8ff"}


def render(report: ReviewReport, fmt: str = "text") -> str:
    """The report in one of :data:`FORMATS`."""
    renderers: dict[str, Callable[[ReviewReport], str]] = {
        "text": render_text,
        "json": render_json,
        "markdown": render_markdown,
        "html": render_html,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](report)


# --------------------------------------------------------------------------- shared


def _title(report: ReviewReport) -> str:
    depts = sorted({f.department for f in report.files if f.department})
    years = sorted({f.fiscal_year for f in report.files if f.fiscal_year})
    who = "、".join(depts) if len(depts) <= 3 else f"{depts[0]}等{len(depts)}个部门"
    when = "、".join(f"{y}年度" for y in years)
    return f"{who} {when}".strip() or "绩效目标表"


def _counts(report: ReviewReport) -> str:
    s = report.summary.by_severity
    return "，".join(f"{SEVERITY_ZH[k]} {s.get(k, 0)}" for k in SEVERITIES)


def _by_file_then_section(
    report: ReviewReport,
) -> list[tuple[str, list[tuple[str, list[Finding]]]]]:
    files = [f.file for f in report.files]
    out = []
    for file in files:
        mine = [f for f in report.findings if _owner(report, f) == file]
        sections = [(s, [f for f in mine if f.section == s]) for s in SECTIONS]
        out.append((file, [(s, fs) for s, fs in sections if fs]))
    return out


def _owner(report: ReviewReport, f: Finding) -> str:
    """The reviewed file a finding belongs to (a reader may record another source name)."""
    names = [x.file for x in report.files]
    if f.input_file in names:
        return f.input_file  # type: ignore[return-value]
    if f.file in names:
        return f.file
    for n in names:
        if Path(n).name == Path(f.file).name:
            return n
    return names[0] if len(names) == 1 else f.file


_STATUS_ZH = {
    "compared": "已与上年比较",
    "other-project": "上年表为其他项目，未比较",
    "no-earlier": "无上年表",
}
SUMMARY_HEADERS = [
    "部门",
    "年度",
    "表",
    "文件",
    "指标",
    "错误",
    "警告",
    "提示",
    "含糊比例",
    "重复比例",
    "跨年变化",
    "比较对象",
]


def _summary_rows(report: ReviewReport) -> list[list[str]]:
    """The batch summary, one row per table (already sorted by what needs attention)."""
    return [
        [
            t.department,
            str(t.fiscal_year or ""),
            t.title,
            t.file,
            str(t.indicators),
            str(t.counts.get("error", 0)),
            str(t.counts.get("warning", 0)),
            str(t.counts.get("note", 0)),
            f"{t.vague_share:.0%}",
            f"{t.duplicate_share:.0%}",
            str(t.cross_year),
            t.compared_with or "",
        ]
        for t in report.tables
    ]


def against_lines(report: ReviewReport) -> list[str]:
    """What the tables were compared with, in Chinese (empty when nothing was)."""
    a = report.against
    if a is None:
        return []
    src = "、".join("本次审核的各表" if x == "batch" else x for x in a.sources)
    years = "、".join(str(y) for y in a.years) or "无"
    out = [
        f"比较范围：{src} — {a.tables}张表，{a.departments}个部门，年度 {years}，"
        f"指标{a.indicators}项"
    ]
    for c in report.comparisons:
        if c.status == "compared":
            out.append(
                f"  {c.department} {c.fiscal_year}年“{c.title}”← {c.prior_year}年“{c.prior_title}”"
                f"（{c.prior_file}）：对应指标{c.matched}项，上年指标未设置{c.dropped}项，"
                f"逐字相同{c.identical}项"
            )
        elif c.status == "other-project":
            out.append(
                f"  {c.department} {c.fiscal_year}年“{c.title}”：该部门有{c.earlier_tables}张"
                f"以前年度的表，但属其他项目（如{c.prior_year}年“{c.prior_title}”），未比较"
            )
    return out


def _against_text(report: ReviewReport) -> list[str]:
    rows = against_lines(report)
    return ["", "== 与以前年度比较 ==", *rows] if rows else []


def _table_text(rows: list[list[str]]) -> str:
    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)

    table = [SUMMARY_HEADERS[:-1], *[r[:-1] for r in rows]]
    widths = [max(width(r[k]) for r in table) for k in range(len(table[0]))]
    return "\n".join(
        "  ".join(c + " " * (w - width(c)) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in table
    )


def _values_text(f: Finding) -> str:
    return "；".join(f"{VALUE_LABELS.get(k, k)}：{v}" for k, v in f.values.items() if v != "")


def _rule_titles(report: ReviewReport) -> dict[str, str]:
    return {r.id: r.title_zh for r in report.rules}


def _ordered_categories(report: ReviewReport) -> list[str]:
    cats = list(report.summary.by_category)
    return sorted(cats, key=lambda c: (_CATEGORY_ORDER.index(c) if c in _CATEGORY_ORDER else 50, c))


# --------------------------------------------------------------------------- text


def render_text(report: ReviewReport) -> str:
    lines = [
        f"绩效目标表审核报告 — {_title(report)}",
        f"合计：{_counts(report)}（共{report.summary.findings}条）",
        "",
    ]
    for fs in report.files:
        if fs.parsed:
            lines.append(
                f"文件 {fs.file}：{fs.department} {fs.fiscal_year}年度，指标{fs.indicators}项，"
                f"任务{fs.tasks}项 — "
                + "，".join(f"{SEVERITY_ZH[k]} {fs.counts.get(k, 0)}" for k in SEVERITIES)
            )
        else:
            lines.append(f"文件 {fs.file}：无法解析")
    lines += _against_text(report)
    if len(report.tables) > 1:
        lines += ["", "== 各表概况（按需关注程度排序）==", _table_text(_summary_rows(report))]
    titles = _rule_titles(report)
    for file, sections in _by_file_then_section(report):
        if len(report.files) > 1:
            lines += ["", f"######## {file}"]
        for section, findings in sections:
            lines += ["", f"== {SECTIONS[section]}（{len(findings)}）=="]
            for f in findings:
                lines.append(
                    f"[{SEVERITY_ZH[f.severity]}] {f.rule}（{titles.get(f.rule, '')}） {f.where}  {f.item_name}"
                )
                lines.append(f"    {f.message_zh}")
                if f.fix_zh:
                    lines.append(f"    建议：{f.fix_zh}")
    for c in report.coverage:
        lines += ["", f"== 任务覆盖（{c.file}）==", _coverage_text(c)]
    return "\n".join(lines) + "\n"


def _coverage_text(c: TableCoverage) -> str:
    head = ["任务", *c.columns, "合计"]
    rows = [
        [f"{r.ordinal}. {r.task}", *(str(r.counts[k]) for k in c.columns), str(r.indicators)]
        for r in c.rows
    ]
    rows.append(
        [
            "全表通用指标",
            *(str(c.table_wide[k]) for k in c.columns),
            str(sum(c.table_wide.values())),
        ]
    )
    rows.append(
        [
            "未对应任务的指标",
            *(str(c.unaligned[k]) for k in c.columns),
            str(sum(c.unaligned.values())),
        ]
    )

    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    widths = [max(width(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def fmt(r: list[str]) -> str:
        cells = [r[0] + " " * (widths[0] - width(r[0]))]
        cells += [" " * (widths[i] - width(r[i])) + r[i] for i in range(1, len(r))]
        return "  ".join(cells)

    return "\n".join(fmt(r) for r in [head, *rows])


# --------------------------------------------------------------------------- json


def render_json(report: ReviewReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    """Text for a Markdown code span (``…``) or table cell: no pipe, no line break."""
    return text.replace("|", "\\|").replace("\n", " ")


def _md_text(text: str) -> str:
    """Text from a table for Markdown outside code spans: HTML escaped as well, since a
    Markdown viewer renders raw HTML (an indicator named ``<script>…`` stays text)."""
    return _md(html.escape(text, quote=False))


def render_markdown(report: ReviewReport) -> str:
    """The report as Markdown: the overview tables, each table's task coverage, then the
    findings by file and section."""
    titles = _rule_titles(report)
    out = _md_files(report)
    out += _md_rules(report, titles)
    out += _md_history(report)
    out += _md_categories(report)
    for c in report.coverage:
        out += _md_coverage(c)
    out += _md_findings(report)
    return "\n".join(out).rstrip() + "\n"


def _md_files(report: ReviewReport) -> list[str]:
    """The title, the totals and a row per file."""
    out = [
        f"# 绩效目标表审核报告 — {_md_text(_title(report))}",
        "",
        f"合计：{_counts(report)}（共{report.summary.findings}条）。"
        "本报告由 `ikg review` 按规则自动生成，供审核人员初审使用，请人工复核后反馈。",
        "",
    ]
    out += [
        "| 文件 | 部门 | 年度 | 指标 | 任务 | 错误 | 警告 | 提示 |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for fs in report.files:
        n = fs.counts
        out.append(
            f"| `{_md(fs.file)}` | {_md_text(fs.department or '（无法解析）')} | {fs.fiscal_year or ''} | "
            f"{fs.indicators} | {fs.tasks} | {n.get('error', 0)} | {n.get('warning', 0)} | {n.get('note', 0)} |"
        )
    return out


def _md_rules(report: ReviewReport, titles: dict[str, str]) -> list[str]:
    """The findings counted per rule."""
    out = [
        "",
        "## 按规则统计",
        "",
        "| 规则 | 说明 | 错误 | 警告 | 提示 |",
        "|---|---|---:|---:|---:|",
    ]
    for rule_id, by in report.summary.by_rule.items():
        out.append(
            f"| `{rule_id}` | {titles.get(rule_id, '')} | {by['error']} | {by['warning']} | {by['note']} |"
        )
    return out


def _md_history(report: ReviewReport) -> list[str]:
    """What the tables were compared with, and the tables by attention (several tables)."""
    out: list[str] = []
    if report.against is not None:
        out += ["", "## 与以前年度比较", ""]
        out += [f"- {_md_text(x.strip())}" for x in against_lines(report)]
    if len(report.tables) > 1:
        out += ["", "## 各表概况（按需关注程度排序）", ""]
        out.append("| " + " | ".join(SUMMARY_HEADERS) + " |")
        out.append("|" + "---|" * len(SUMMARY_HEADERS))
        out += ["| " + " | ".join(_md_text(c) for c in r) + " |" for r in _summary_rows(report)]
    return out


def _md_categories(report: ReviewReport) -> list[str]:
    """The findings counted per indicator category."""
    out = ["", "## 按指标类别统计", "", "| 类别 | 错误 | 警告 | 提示 |", "|---|---:|---:|---:|"]
    for cat in _ordered_categories(report):
        by = report.summary.by_category[cat]
        out.append(f"| {_md_text(cat)} | {by['error']} | {by['warning']} | {by['note']} |")
    return out


def _md_coverage(c: TableCoverage) -> list[str]:
    """A table's task coverage matrix."""
    out = [
        "",
        f"## 任务覆盖 — `{_md(c.file)}`",
        "",
        "各任务对应的指标数（按指标名称与任务名称、内容的字面匹配；一项指标可对应多项任务）。",
        "",
    ]
    out.append("| 任务 | 预算 | " + " | ".join(_md_text(k) for k in c.columns) + " | 合计 |")
    out.append("|---|---:|" + "---:|" * (len(c.columns) + 1))
    for r in c.rows:
        mark = " ⚠ 无对应指标" if r.uncovered else (f"（{_md_text(r.note)}）" if r.note else "")
        out.append(
            f"| {r.ordinal}. {_md_text(r.task)}{mark} | {r.total or ''} | "
            + " | ".join(str(r.counts[k]) for k in c.columns)
            + f" | {r.indicators} |"
        )
    out.append(
        "| 全表通用指标 | | "
        + " | ".join(str(c.table_wide[k]) for k in c.columns)
        + f" | {sum(c.table_wide.values())} |"
    )
    out.append(
        "| 未对应任务的指标 | | "
        + " | ".join(str(c.unaligned[k]) for k in c.columns)
        + f" | {sum(c.unaligned.values())} |"
    )
    return out


def _md_findings(report: ReviewReport) -> list[str]:
    """The findings, by file (several files) and section."""
    out = ["", "## 发现的问题"]
    for file, sections in _by_file_then_section(report):
        if len(report.files) > 1:
            out += ["", f"### 文件 `{_md(file)}`"]
        level = "####" if len(report.files) > 1 else "###"
        for section, findings in sections:
            out += ["", f"{level} {SECTIONS[section]}（{len(findings)}）", ""]
            for f in findings:
                out.append(
                    f"- **{SEVERITY_ZH[f.severity]}** `{f.rule}` · `{_md(f.where)}` · {_md_text(f.item_name)}  "
                )
                out.append(f"  {_md_text(f.message_zh)}  ")
                if f.fix_zh:
                    out.append(f"  建议：{_md_text(f.fix_zh)}")
    return out


# --------------------------------------------------------------------------- html

_CSS = """
:root { --ink:#1d2939; --muted:#667085; --line:#eaecf0; --bg:#f9fafb; --accent:#1d4ed8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.65 "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei",
  "PingFang SC","Hiragino Sans GB",system-ui,sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: .02em; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 17px; margin: 26px 0 10px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0 8px; }
.card { flex: 1 1 120px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card b { display: block; font-size: 28px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 13px; }
.card.error b { color: #b42318; } .card.warning b { color: #b54708; } .card.note b { color: #175cd3; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.zero { color: #d0d5dd; }
tr.gap td:first-child { color: #b42318; font-weight: 600; }
tr.extra td { background: #f9fafb; color: var(--muted); }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px;
  background: #f2f4f7; padding: 1px 5px; border-radius: 4px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; align-items: start; }
.badge { display: inline-block; min-width: 40px; text-align: center; border-radius: 4px; color: #fff;
  font-size: 12.5px; padding: 1px 6px; margin-right: 6px; }
.badge.error { background: #b42318; } .badge.warning { background: #b54708; } .badge.note { background: #175cd3; }
.finding { border: 1px solid var(--line); border-left: 5px solid; border-radius: 6px; padding: 10px 14px;
  margin: 10px 0; break-inside: avoid; page-break-inside: avoid; }
.finding.error { border-left-color: #b42318; } .finding.warning { border-left-color: #b54708; }
.finding.note { border-left-color: #175cd3; }
.finding .head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
.finding .item { font-weight: 600; }
.finding .where { color: var(--muted); font-size: 13px; margin-left: auto; }
.finding p { margin: 6px 0 0; }
.finding .fix { color: #054f31; }
.finding .fix::before { content: "建议："; font-weight: 600; }
.finding .vals { color: var(--muted); font-size: 13px; }
.finding .body { display: grid; grid-template-columns: minmax(0, 1fr) 290px; gap: 14px; }
.finding .body > div:only-child { grid-column: 1 / -1; }
.finding pre { align-self: start; margin: 6px 0 0; padding: 6px 10px; background: #f9fafb; border: 1px dashed var(--line);
  font-size: 13px; line-height: 1.5; font-family: inherit; white-space: pre-wrap; color: #344054; }
.finding pre .ln { color: #98a2b3; user-select: none; }
.legend { display: flex; gap: 14px; font-size: 13px; color: var(--muted); margin: 4px 0; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 4px;
  vertical-align: -1px; }
.note-small { color: var(--muted); font-size: 13px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line);
  padding-top: 10px; }
@media (max-width: 820px) { .two, .finding .body { grid-template-columns: 1fr; } main { padding: 16px; } }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .two { display: block; }
  .two > div { margin-bottom: 12px; }
  tr, svg, .cards { break-inside: avoid; page-break-inside: avoid; }
  .finding .body { grid-template-columns: minmax(0, 1fr) 230px; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _chart_svg(report: ReviewReport) -> str:
    """Horizontal stacked bars: findings per indicator category, by severity."""
    cats = _ordered_categories(report)
    if not cats:
        return '<p class="note-small">没有发现问题。</p>'
    by = report.summary.by_category
    label_w, bar_w, row_h, top = 150, 330, 26, 8
    width = label_w + bar_w + 50
    height = top + row_h * len(cats) + 6
    peak = max(sum(by[c].values()) for c in cats) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="各类别发现的问题数" style="max-width:{width}px;font-family:inherit">'
    ]
    for k, cat in enumerate(cats):
        y = top + k * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="#344054">{_e(cat)}</text>'
        )
        x = float(label_w)
        for sev in SEVERITIES:
            n = by[cat].get(sev, 0)
            if not n:
                continue
            w = bar_w * n / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{_SEV_COLOR[sev]}">'
                f"<title>{_e(cat)} {SEVERITY_ZH[sev]} {n}</title></rect>"
            )
            if w >= 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" font-size="11.5" '
                    f'fill="#fff">{n}</text>'
                )
            x += w
        total = sum(by[cat].values())
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 17}" font-size="12.5" fill="#475467">{total}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _coverage_html(c: TableCoverage) -> str:
    head = "".join(f'<th class="n">{_e(k)}</th>' for k in c.columns)
    rows = []
    peak = max([r.counts[k] for r in c.rows for k in c.columns] + [1])
    for r in c.rows:
        cells = []
        for k in c.columns:
            n = r.counts[k]
            if n:
                alpha = 0.12 + 0.5 * n / peak
                cells.append(
                    f'<td class="n" style="background:rgba(29,78,216,{alpha:.2f});'
                    f'color:{"#fff" if alpha > 0.45 else "inherit"}">{n}</td>'
                )
            else:
                cells.append('<td class="n zero">0</td>')
        cls = ' class="gap"' if r.uncovered else ""
        note = f'<br><span class="note-small">{_e(r.note)}</span>' if r.note else ""
        rows.append(
            f'<tr{cls}><td>{r.ordinal}. {_e(r.task)}<span class="note-small"> · 第{r.line}行</span>{note}</td>'
            f'<td class="n">{_e(r.total or "")}</td>{"".join(cells)}<td class="n"><b>{r.indicators}</b></td></tr>'
        )
    for label, data in (
        ("全表通用指标（预算执行率等）", c.table_wide),
        ("未对应任务的指标", c.unaligned),
    ):
        extra = "".join(f'<td class="n">{data[k]}</td>' for k in c.columns)
        rows.append(
            f'<tr class="extra"><td>{label}</td><td></td>{extra}<td class="n">{sum(data.values())}</td></tr>'
        )
    return (
        f'<table><thead><tr><th>任务</th><th class="n">预算（万元）</th>{head}<th class="n">合计</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _source_html(f: Finding) -> str:
    if not f.source_text:
        return ""
    lines = f.source_text.split("\n")
    # blank lines were dropped: number only the first line, the rest follow it in the file
    first = f'<span class="ln">{f.line}│</span> ' if f.line else ""
    return f"<pre>{first}{_e(lines[0])}" + "".join(f"\n{_e(x)}" for x in lines[1:]) + "</pre>"


def _finding_html(f: Finding, titles: dict[str, str]) -> str:
    vals = _values_text(f)
    fix = f'<p class="fix">{_e(f.fix_zh)}</p>' if f.fix_zh else ""
    vals_html = f'<p class="vals">{_e(vals)}</p>' if vals else ""
    return (
        f'<article class="finding {f.severity}"><div class="head">'
        f'<span class="badge {f.severity}">{SEVERITY_ZH[f.severity]}</span>'
        f'<span class="item">{_e(f.item_name)}</span>'
        f'<code title="{_e(titles.get(f.rule, ""))}">{_e(f.rule)}</code>'
        f'<span class="where">{_e(f.where)}</span></div>'
        f'<div class="body"><div><p>{_e(f.message_zh)}</p>{fix}{vals_html}</div>'
        f"{_source_html(f)}</div></article>"
    )


def render_html(report: ReviewReport) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG chart), printable."""
    titles = _rule_titles(report)
    body = _html_overview(report, titles)
    body += _html_history(report)
    for c in report.coverage:
        body.append(
            f'<h2>任务覆盖</h2><p class="note-small"><code>{_e(c.file)}</code> · 各任务对应的指标数'
            "（按指标名称与任务名称、内容的字面匹配，一项指标可对应多项任务；红色任务名表示没有对应指标）</p>"
            + _coverage_html(c)
        )
    body += _html_findings(report, titles)
    body.append(
        "<footer>规则说明见 docs/review.md。金额单位：万元。重复与任务覆盖按字面相似度判断，仅供参考。</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>审核报告 — {_e(_title(report))}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _html_overview(report: ReviewReport, titles: dict[str, str]) -> list[str]:
    """The title, the count cards, a row per file, and the counts per rule and category."""
    s = report.summary.by_severity
    n_ind = sum(f.indicators for f in report.files)
    n_task = sum(f.tasks for f in report.files)
    cards = "".join(
        f'<div class="card {k}"><b>{s.get(k, 0)}</b><span>{SEVERITY_ZH[k]}</span></div>'
        for k in SEVERITIES
    )
    cards += f'<div class="card"><b>{n_ind}</b><span>指标</span></div><div class="card"><b>{n_task}</b><span>任务</span></div>'
    files_rows = "".join(
        f"<tr><td><code>{_e(fs.file)}</code></td><td>{_e(fs.department or '（无法解析）')}</td>"
        f'<td class="n">{fs.fiscal_year or ""}</td><td class="n">{fs.indicators}</td><td class="n">{fs.tasks}</td>'
        + "".join(f'<td class="n">{fs.counts.get(k, 0)}</td>' for k in SEVERITIES)
        + "</tr>"
        for fs in report.files
    )
    rule_rows = "".join(
        f"<tr><td>{_e(titles.get(rid, ''))}<br><code>{_e(rid)}</code></td>"
        + "".join(f'<td class="n{" zero" if not by[k] else ""}">{by[k]}</td>' for k in SEVERITIES)
        + "</tr>"
        for rid, by in report.summary.by_rule.items()
    )
    legend = "".join(
        f'<span><i style="background:{_SEV_COLOR[k]}"></i>{SEVERITY_ZH[k]}</span>'
        for k in SEVERITIES
    )
    return [
        f'<h1>绩效目标表审核报告</h1><p class="sub">{_e(_title(report))} · 共{report.summary.findings}条 · '
        "由 <code>ikg review</code> 按规则自动生成的初审意见，请人工复核后反馈给部门</p>",
        f'<div class="cards">{cards}</div>',
        '<table><thead><tr><th>文件</th><th>部门</th><th class="n">年度</th><th class="n">指标</th>'
        '<th class="n">任务</th><th class="n">错误</th><th class="n">警告</th><th class="n">提示</th></tr></thead>'
        f"<tbody>{files_rows}</tbody></table>",
        '<h2>概况</h2><div class="two"><div><h3>按规则统计</h3><table><thead><tr><th>规则</th>'
        '<th class="n">错误</th><th class="n">警告</th><th class="n">提示</th></tr></thead>'
        f'<tbody>{rule_rows}</tbody></table></div><div><h3>按指标类别统计</h3><div class="legend">{legend}</div>'
        f"{_chart_svg(report)}</div></div>",
    ]


def _html_history(report: ReviewReport) -> list[str]:
    """What the tables were compared with, and the tables by attention (several tables)."""
    body: list[str] = []
    if report.against is not None:
        body.append(
            "<h2>与以前年度比较</h2>"
            + "".join(f"<p>{_e(x.strip())}</p>" for x in against_lines(report))
        )
    if len(report.tables) > 1:
        head = "".join(f"<th>{_e(h)}</th>" for h in SUMMARY_HEADERS)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>"
            for r in _summary_rows(report)
        )
        body.append(
            f"<h2>各表概况（按需关注程度排序）</h2><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return body


def _html_findings(report: ReviewReport, titles: dict[str, str]) -> list[str]:
    """The findings, by file (several files) and section, with the counts per section."""
    body = ["<h2>发现的问题</h2>"]
    for file, sections in _by_file_then_section(report):
        if len(report.files) > 1:
            body.append(f"<h3>文件 <code>{_e(file)}</code></h3>")
        for section, findings in sections:
            sev = {k: sum(f.severity == k for f in findings) for k in SEVERITIES}
            counts = "，".join(f"{SEVERITY_ZH[k]}{v}" for k, v in sev.items() if v)
            body.append(
                f'<h3>{SECTIONS[section]} <span class="note-small">（{counts}）</span></h3>'
            )
            body.extend(_finding_html(f, titles) for f in findings)
    if not report.findings:
        body.append("<p>没有发现问题。</p>")
    return body


def write(report: ReviewReport, fmt: str, path: Path) -> None:
    path.write_text(render(report, fmt), encoding="utf-8")


__all__ = [
    "FORMATS",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "write",
]
