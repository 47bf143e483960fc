"""apps.review.desk: how a target moved between two years, and the report filtered for export."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.review import review_files
from apps.review.desk import change_of, filter_report

CORPUS = Path(__file__).resolve().parents[1] / "data" / "demo" / "corpus"
SERIES = sorted(CORPUS.glob("hunan_xiangtan_sanitation_*.csv")) + sorted(
    CORPUS.glob("sichuan_daying_civil_affairs_*.csv")
)


@pytest.mark.parametrize(
    ("prev", "cur", "change"),
    [
        ("≥95%", "≥85%", "lowered"),
        ("≥300人次", "≥200人次", "lowered"),
        ("≥85%", "≥95%", "raised"),
        ("≤5天", "≤7天", "lowered"),
        ("≥85%", "85%", "unchanged"),  # the same bound written another way
        ("≥85%", "≥85%", "unchanged"),
        ("250万", "控制在预算内", "changed"),  # not comparable as a bound
        ("2023.07-2024.01", "180", "changed"),
    ],
)
def test_change_of(prev: str, cur: str, change: str) -> None:
    assert change_of(prev, cur, 2024) == change


def test_filter_report_by_department_rule_severity() -> None:
    rep = review_files(SERIES, scorer=False)
    xt = filter_report(rep, department="湘潭市环境卫生管理处")
    assert {t.department for t in xt.tables} == {"湘潭市环境卫生管理处"}
    assert {fs.department for fs in xt.files} == {"湘潭市环境卫生管理处"}
    assert 0 < len(xt.findings) < len(rep.findings)
    assert xt.summary.findings == len(xt.findings)
    assert sum(sum(fs.counts.values()) for fs in xt.files) == len(xt.findings)
    warn = filter_report(rep, severity="warning", rule="vague-target")
    assert warn.findings and {(f.severity, f.rule) for f in warn.findings} == {
        ("warning", "vague-target")
    }
    assert filter_report(rep).findings == rep.findings
