# ruff: noqa: F811 - the fixtures of test_pages.py, imported by name
"""The reviewer's desk (/review) end to end in headless Chromium: a batch uploaded, the summary
sorted, the findings filtered by department and severity, the cross-year view of one department,
the filtered view exported as XLSX. Screenshots: docs/screenshots/desk*.png (UPDATE_SCREENSHOTS=1).

Uses the server, browser and screenshot fixtures of test_pages.py (a store built from data/demo).
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_pages import (  # noqa: F401 - fixtures
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    emulate,
    no_js_errors,
    server,
    shots,
    wait,
)
from tests.test_api_review_desk import DY_2022, OTHERS, XT, xt_2024_variant

pytestmark = [
    pytest.mark.slow,  # a real browser and an ikg serve subprocess over data/demo
    pytest.mark.skipif(
        not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
        reason="e2e tests need Debian's chromium and chromium-driver",
    ),
]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


def _texts(driver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def test_desk_batch_sort_filter_crossyear_export(server, browser, shots, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    variant = tmp_path / "湘潭环卫_2024_修改稿.csv"
    variant.write_bytes(xt_2024_variant())
    files = [variant, DY_2022, OTHERS[0]]

    browser.get(server + "/review")
    # the store's tables are listed to pick from, with department and year
    wait(
        browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stored-tables tbody input")) > 10
    )
    assert XT in browser.find_element(By.ID, "stored-tables").text

    # a batch of three files
    browser.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in files))
    browser.find_element(By.ID, "batch-btn").click()
    wait(browser, lambda d: "审核完成" in d.find_element(By.ID, "desk-msg").text, 180)
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")
    assert len(rows) == 3
    assert "库中的表" in browser.find_element(By.ID, "against").text
    # two charts: findings per department and per rule, as bars with their counts
    dept_bars = browser.find_elements(By.CSS_SELECTOR, "#chart-dept .bar-row")
    assert len(dept_bars) == 3
    total = len(browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr[data-rule]"))
    assert sum(int(b.find_element(By.CSS_SELECTOR, ".bar-num").text) for b in dept_bars) == total
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-rule .bar-row")
    rule_labels = _texts(browser, "#chart-rule .bar-label")
    assert "目标值低于上年" in rule_labels and not any("-" in x for x in rule_labels), rule_labels
    shots(browser, "desk")

    # sort the summary: by warnings (most first), then again (fewest first)
    header = browser.find_element(By.CSS_SELECTOR, '#summary th[data-key="warning"]')
    header.find_element(By.TAG_NAME, "button").click()
    assert header.get_attribute("aria-sort") == "descending"
    col = lambda: [int(x) for x in _texts(browser, "#summary tbody tr td:nth-child(6)")]  # noqa: E731
    assert col() == sorted(col(), reverse=True)
    header.find_element(By.TAG_NAME, "button").click()
    assert header.get_attribute("aria-sort") == "ascending" and col() == sorted(col())
    dept_header = browser.find_element(By.CSS_SELECTOR, '#summary th[data-key="department"] button')
    dept_header.click()  # text columns sort A→Z first
    assert dept_header.find_element(By.XPATH, "..").get_attribute("aria-sort") == "ascending"
    assert header.get_attribute("aria-sort") == "none"

    # filter the findings by department and severity
    Select(browser.find_element(By.ID, "f-dept")).select_by_visible_text(XT)
    Select(browser.find_element(By.ID, "f-sev")).select_by_value("warning")
    shown = browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr[data-rule]")
    assert 0 < len(shown) < total
    assert {r.get_attribute("data-severity") for r in shown} == {"warning"}
    assert {r.find_element(By.TAG_NAME, "td").text for r in shown} == {XT}
    assert f"显示 {len(shown)} / {total} 条" == browser.find_element(By.ID, "f-count").text
    rules = {r.get_attribute("data-rule") for r in shown}
    assert "target-lowered" in rules and "indicator-dropped" not in rules  # a note
    shots(browser, "desk-filtered")

    # the cross-year view of the department: last year and this year side by side
    Select(browser.find_element(By.ID, "cy-dept")).select_by_visible_text(XT)
    table = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#crossyear table.cy-table"))
    changes = {
        r.get_attribute("data-change"): r
        for r in table[0].find_elements(By.CSS_SELECTOR, "tbody tr")
    }
    assert {"lowered", "dropped", "added", "unchanged"} <= set(changes)
    lowered = changes["lowered"].find_elements(By.TAG_NAME, "td")
    assert "目标降低" in lowered[0].text  # marked in words, not by colour alone
    assert lowered[3].text == "≥85%" and lowered[5].text == "75%"
    assert "今年未设置" in changes["dropped"].text and "雾炮车风炮射程" in changes["dropped"].text
    assert "今年新增" in changes["added"].text
    assert "2023 年 → 2024 年" in browser.find_element(By.ID, "cy-msg").text
    browser.execute_script("document.getElementById('cy-h').scrollIntoView()")
    shots(browser, "desk-crossyear")
    # the store's own two years (the original 2024 table): nothing lowered there
    browser.find_element(By.ID, "cy-btn").click()
    wait(browser, lambda d: d.find_element(By.ID, "cy-msg").text.startswith("库中"))
    store_changes = {
        r.get_attribute("data-change")
        for r in browser.find_elements(By.CSS_SELECTOR, "#crossyear table.cy-table tbody tr")
    }
    assert "lowered" not in store_changes and "unchanged" in store_changes

    # export the filtered view: the workbook holds the rows shown
    browser.find_element(By.ID, "export-xlsx").click()
    wait(browser, lambda d: "已导出" in d.find_element(By.ID, "export-msg").text, 60)
    name = browser.find_element(By.ID, "export-msg").get_attribute("data-file")
    assert name == f"审核问题清单_{XT}_warning.xlsx"
    deadline = time.monotonic() + 30
    while not (downloads / name).exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    from openpyxl import load_workbook

    ws = load_workbook(downloads / name)["问题清单"]
    assert ws.max_row - 1 == len(shown)
    assert {ws.cell(r, 1).value for r in range(2, ws.max_row + 1)} == {XT}
    assert no_js_errors(browser) == []


def test_desk_review_stored_tables(server, browser, shots):
    """Tables already in the store: picked by department, reviewed, compared across years."""
    browser.get(server + "/review")
    wait(
        browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stored-tables tbody input")) > 10
    )
    Select(browser.find_element(By.ID, "stored-dept")).select_by_visible_text(XT)
    boxes = browser.find_elements(By.CSS_SELECTOR, "#stored-tables tbody input")
    assert len(boxes) == 2
    for b in boxes:
        b.send_keys(" ")  # keyboard: space ticks a checkbox
    assert browser.find_element(By.ID, "stored-count").text == "已选 2 张"
    browser.find_element(By.ID, "stored-btn").click()
    wait(browser, lambda d: "审核完成" in d.find_element(By.ID, "desk-msg").text, 180)
    years = _texts(browser, "#summary tbody tr td:nth-child(2)")
    assert sorted(years) == ["2023", "2024"]
    Select(browser.find_element(By.ID, "cy-dept")).select_by_visible_text(XT)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#crossyear table.cy-table tbody tr"))
    # at phone width the page does not scroll sideways (wide tables scroll inside their box)
    emulate(browser, 375, 800)
    try:
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert no_js_errors(browser) == []
