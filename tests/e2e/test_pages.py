"""End-to-end tests of the reviewer pages in real headless Chromium (Debian's chromium +
chromium-driver, driven by selenium; nothing is downloaded).

One uvicorn server (``ikg serve``) runs on 127.0.0.1 over a store built from data/demo in a
tmp dir. Screenshots of every page go to pytest's tmp dir, and to docs/screenshots/ with UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
SEED = Path(os.environ.get("INDICATOR_KG_TEST_SHARED", ROOT.parent / "shared")) / "seeds"
SEED_FILE = SEED / "000_3b89ef93caa61199.txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: UPDATE_SCREENSHOTS=1 copies the screenshots into docs/screenshots (else they stay in
#: pytest's tmp dir, so a test run leaves the checkout as it was)
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"

pytestmark = [
    pytest.mark.slow,  # a real browser and an ikg serve subprocess over data/demo
    pytest.mark.skipif(
        not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
        reason="e2e tests need Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver); .ci/run installs them",
    ),
]

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (dev extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WAIT_S = 30
XSD = "http://www.w3.org/2001/XMLSchema#"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Build data/demo into a tmp data dir, index it, and serve it with ``ikg serve``."""
    from embeddings import index_for_store
    from kg.build import build
    from kg.settings import get_settings

    data_dir = tmp_path_factory.mktemp("e2e-data")
    settings = get_settings(data_dir=data_dir)
    report = build([DEMO], settings.store_path)
    assert report.tables, "data/demo built no table"
    index_for_store(settings.store_path, settings.data_dir, settings)
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "ikg.cli", "serve", "--data-dir", str(data_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("server did not start:\n" + (data_dir / "server.log").read_text())
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1280,900",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    out = tmp_path_factory.mktemp("screenshots")
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(driver, name: str, width: int = 1280) -> None:
        """Full-page screenshot at ``width`` CSS px into the tmp dir and docs/screenshots/."""
        emulate(driver, width, 900)
        height = driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
        )
        emulate(driver, width, min(max(int(height), 700), 3000))
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.3)
        path = out / f"{name}.png"
        driver.save_screenshot(str(path))
        if UPDATE_SCREENSHOTS:
            shutil.copyfile(path, SCREENSHOTS / path.name)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    return save


def emulate(driver, width: int, height: int) -> None:
    """Lay the page out at ``width`` x ``height`` CSS px (headless windows have a minimum
    width of ~500 px, so phone widths need the device-metrics override)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def wait(driver, cond, timeout: float = WAIT_S):
    return WebDriverWait(driver, timeout).until(cond)


def no_js_errors(driver) -> list[str]:
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "favicon" not in e["message"]
    ]


def test_a_cjk_font_is_installed() -> None:
    """Screenshots need a font with Chinese glyphs, else every character is a box (.ci/run
    installs fonts-wqy-microhei)."""
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    assert found.stdout.strip(), "no CJK font: apt-get install fonts-wqy-microhei"


def test_home_shows_counts_and_nav(server, browser, shots):
    browser.get(server + "/")
    wait(browser, lambda d: d.find_element(By.ID, "stat-tables").text not in ("…", ""))
    tables = int(browser.find_element(By.ID, "stat-tables").text.replace(",", ""))
    with urllib.request.urlopen(server + "/api/tables?limit=1", timeout=10) as resp:
        assert tables == json.load(resp)["total"] > 0
    rows = browser.find_elements(By.CSS_SELECTOR, "#tables tbody tr")
    assert len(rows) == tables
    nav = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".nav a")]
    assert nav == ["首页", "检索", "重复指标", "审核", "编制", "SPARQL", "API 文档"]
    shots(browser, "home")
    assert no_js_errors(browser) == []


def test_search_open_indicator_similar_and_source(server, browser, shots):
    browser.get(server + "/search")
    box = browser.find_element(By.ID, "q")
    box.send_keys("培训人数")
    browser.find_element(By.CSS_SELECTOR, "#search-form button").click()
    rows = wait(
        browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr.hit") or False
    )
    assert len(rows) >= 3
    first = rows[0].find_elements(By.TAG_NAME, "td")
    assert first[1].text and first[2].text  # indicator name and department shown
    shots(browser, "search")
    rows[0].click()
    name = wait(browser, EC.visibility_of_element_located((By.ID, "detail-name")))
    assert name.text == first[1].text
    source = browser.find_element(By.ID, "detail-source").text
    file, _, line = source.rpartition(":")
    assert file and line.isdigit() and int(line) > 0, source
    similar = browser.find_elements(By.CSS_SELECTOR, "#similar tbody tr")
    assert similar, "the opened indicator lists no similar indicator"
    # each similar indicator names its source file and line
    for r in similar:
        src = r.find_element(By.CSS_SELECTOR, ".src")
        assert re.fullmatch(r".+:\d+", src.get_attribute("title")), src.get_attribute("title")
    shots(browser, "search-indicator")
    assert no_js_errors(browser) == []


def test_search_phone_width(server, browser, shots):
    emulate(browser, 375, 800)
    browser.get(server + "/search?q=" + urllib.request.quote("满意度"))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr.hit") or False)
    # the page does not scroll sideways at phone width (wide tables scroll inside their box)
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr.hit")
    rows[0].click()
    wait(browser, EC.visibility_of_element_located((By.ID, "detail-name")))
    shots(browser, "search-phone", width=375)


def test_sparql_example_from_menu(server, browser, shots):
    browser.get(server + "/query")
    menu = Select(browser.find_element(By.ID, "examples"))
    wait(browser, lambda d: len(menu.options) > 1)
    menu.select_by_index(1)  # the first example query
    rows = wait(
        browser,
        lambda d: (
            [
                r
                for r in d.find_elements(By.CSS_SELECTOR, ".yasr table.dataTable tbody tr")
                if len(r.find_elements(By.TAG_NAME, "td")) >= 2
            ]
            or False
        ),
    )
    # the same query straight to the endpoint: the table shows its rows (YASR pages by 50)
    with urllib.request.urlopen(server + "/api/examples", timeout=10) as resp:
        query = json.load(resp)[0]["query"]
    req = urllib.request.Request(
        server + "/sparql",
        data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        bindings = json.load(resp)["results"]["bindings"]
    assert bindings
    assert len(rows) == min(len(bindings), 50)
    # each cell is the plain value ("2024", "产出指标"); its datatype or language is the tooltip
    cells = rows[0].find_elements(By.TAG_NAME, "td")[1:]
    variables = list(json.load(urllib.request.urlopen(req, timeout=30))["head"]["vars"])
    first = dict(zip(variables, cells, strict=True))
    for var, b in bindings[0].items():
        cell = first[var]
        assert cell.text == b["value"], (var, cell.text, b)
        title = cell.find_element(By.CSS_SELECTOR, "span.literal").get_attribute("title")
        if "xml:lang" in b:
            assert title == f"语言：{b['xml:lang']}", title
        elif "datatype" in b:
            assert title == "数据类型：" + b["datatype"].replace(XSD, "xsd:"), title
    assert bindings[0]["year"]["datatype"] == XSD + "integer"
    assert re.fullmatch(r"20\d\d", first["year"].text)
    assert first["level1"].text.endswith("指标") and "@" not in first["level1"].text
    # YASGUI's own controls are Chinese: no English word outside the query and the results
    words = browser.execute_script(
        """const out = []; const root = document.getElementById('yasgui');
        const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = w.nextNode(); n; n = w.nextNode()) {
          if (n.parentElement.closest('.CodeMirror, thead, tbody, option, svg metadata')) continue;
          out.push(n.nodeValue); }
        for (const el of root.querySelectorAll('[title],[placeholder],[aria-label]')) {
          if (el.closest('.CodeMirror, thead, tbody')) continue;
          for (const a of ['title', 'placeholder', 'aria-label']) out.push(el.getAttribute(a) || ''); }
        return out.join(' ');"""
    )
    english = set(re.findall(r"[A-Za-z]{3,}", words)) - {
        "GET",
        "POST",
        "ASK",
        "SELECT",
        "CONSTRUCT",
        "DESCRIBE",
        "sparql",
    }
    assert not english, english
    info = browser.find_element(By.CSS_SELECTOR, ".dataTables_info").text
    assert info == f"第 1–{min(len(bindings), 50)} 条，共 {len(bindings)} 条", info
    assert "条结果" in browser.find_element(By.CSS_SELECTOR, ".yasr .yasr_response_chip").text
    # the editor is YASGUI's CodeMirror with SPARQL highlighting
    assert browser.find_elements(By.CSS_SELECTOR, ".yasqe .CodeMirror span.cm-keyword")
    shots(browser, "sparql")
    assert no_js_errors(browser) == []


def test_review_pasted_seed(server, browser, shots):
    if not SEED_FILE.exists():
        pytest.fail(f"seed table not found at {SEED_FILE}")
    browser.get(server + "/review")
    browser.find_element(By.CSS_SELECTOR, "#single summary").click()  # below the desk, folded
    text = SEED_FILE.read_text(encoding="utf-8")
    area = browser.find_element(By.ID, "text")
    # send_keys of a long text is slow; set the value as a paste would
    browser.execute_script("arguments[0].value = arguments[1];", area, text)
    browser.find_element(By.ID, "filename").send_keys(SEED_FILE.name)
    browser.find_element(By.CSS_SELECTOR, "#review-form button[type=submit]").click()
    frame = wait(browser, EC.visibility_of_element_located((By.ID, "report")), 120)
    wait(browser, lambda d: "审核完成" in d.find_element(By.ID, "review-msg").text, 120)
    browser.switch_to.frame(frame)
    body = browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    assert SEED_FILE.name in body
    assert "绩效目标表审核报告" in body and "发现的问题" in body
    found = re.search(r"共\s*(\d+)\s*条", body)
    assert found and int(found[1]) > 0, body[:500]
    shots(browser, "review")


def test_draft_page_suggest_add_review_export(server, browser, shots, tmp_path):
    """The drafting page end to end: a seed task in, suggestions grouped by category,
    two added to the draft, the review updates, a vague row is flagged and fixed, the draft
    exports in the template and reads back."""
    browser.get(server + "/draft")
    browser.execute_script("localStorage.clear()")
    browser.get(server + "/draft")
    browser.find_element(By.ID, "d-department").send_keys("测试区委老干部局")
    browser.find_element(By.ID, "t-name").send_keys("老干口业务")
    browser.find_element(By.ID, "t-content").send_keys("做好节日慰问工作，发放离休干部慰问金")
    browser.find_element(By.ID, "suggest-btn").click()
    wait(browser, lambda d: "条建议" in d.find_element(By.ID, "suggest-msg").text, 120)
    groups = browser.find_elements(By.CSS_SELECTOR, "#suggestions .sugg-group")
    assert len(groups) >= 3  # grouped by level-2 category
    titles = [g.find_element(By.TAG_NAME, "h3").text for g in groups]
    assert all(" / " in t for t in titles), titles
    chips = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#categories .chip")]
    assert any(c.startswith("数量指标") for c in chips) and any("满意度" in c for c in chips)
    # add the first suggestion of the first two categories
    for k in range(2):  # each click re-renders the suggestions: find them again
        g = browser.find_elements(By.CSS_SELECTOR, "#suggestions .sugg-group")[k]
        g.find_element(By.CSS_SELECTOR, "button.add").click()
    rows = wait(
        browser,
        lambda d: (
            (r := d.find_elements(By.CSS_SELECTOR, "#draft-table tbody tr[data-k]"))
            and len(r) == 2
            and r
        ),
    )
    added = [r.find_element(By.CSS_SELECTOR, "input.e-name").get_attribute("value") for r in rows]
    assert all(added), added
    assert len(browser.find_elements(By.CSS_SELECTOR, "#categories .chip.have")) >= 1
    # the review runs on its own and lists what the framework still expects
    wait(browser, lambda d: "警告" in d.find_element(By.ID, "review-summary").text, 60)
    rules = wait(
        browser,
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('#findings li')].map(li => li.dataset.rule)"
        ),
    )
    assert "missing-category" in rules, rules
    # the added rows belong to the task they were suggested for: the review does not
    # say the task has no indicator nor that they belong to no task; it cites draft rows and
    # names its rules in Chinese
    rules = wait(  # the review of the two-row draft (an earlier one, of the task alone, lists it)
        browser,
        lambda d: (
            (r := d.execute_script(
                "return [...document.querySelectorAll('#findings li')].map(li => li.dataset.rule)"
            ))
            and "task-without-indicator" not in r
            and r
        ),
        60,
    )  # fmt: skip
    assert "indicator-without-task" not in rules, rules
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == ["老干口业务"] * 2
    labels = browser.execute_script(
        "return [...document.querySelectorAll('#findings li')].map(li => li.textContent)"
    )
    assert not any("missing-category" in t or re.search(r"第 ?\d+ ?行", t) for t in labels), labels
    assert any("缺少必设的指标类别" in t for t in labels), labels
    # a vague row by hand: flagged, then fixed
    Select(browser.find_element(By.ID, "m-level2")).select_by_visible_text("社会效益指标")
    browser.find_element(By.ID, "m-name").send_keys("提升人才政策知晓度")
    browser.find_element(By.ID, "m-target").send_keys("明显")
    browser.find_element(By.CSS_SELECTOR, "#manual-form button").click()
    vague = wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#findings li[data-rule="vague-target"]'),
        60,
    )
    assert "第 3 条" in vague[0].text and "目标值为定性描述" in vague[0].text, vague[0].text
    shots(browser, "draft")
    target = browser.find_elements(By.CSS_SELECTOR, "#draft-table tbody tr[data-k] input.e-target")[
        -1
    ]
    target.clear()
    target.send_keys("≥90%")
    wait(
        browser,
        lambda d: not d.find_elements(By.CSS_SELECTOR, '#findings li[data-rule="vague-target"]'),
        60,
    )
    # the export is the template: fetch it as the page does and read it back
    csv_text = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch('/api/draft/export?format=csv', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({department: '测试区委老干部局', fiscal_year: 2025,
            tasks: [{name: '老干口业务', content: ''}],
            indicators: JSON.parse(localStorage.getItem('ikg-draft-v1')).indicators})})
          .then(r => r.text()).then(done);"""
    )
    from kg.readers import read_table

    path = tmp_path / "draft.csv"
    path.write_text(csv_text, encoding="utf-8")
    _, parsed = read_table(path)
    assert [i.name for i in parsed.indicators] == [*added, "提升人才政策知晓度"]
    assert parsed.indicators[-1].target == "≥90%"
    browser.find_element(By.ID, "export-xlsx").click()  # the download itself must not error
    time.sleep(1)
    assert no_js_errors(browser) == []


def test_duplicates_filter(server, browser, shots):
    browser.get(server + "/duplicates")
    wait(browser, lambda d: d.find_element(By.ID, "dup-msg").text not in ("", "加载中…"))
    all_clusters = browser.find_elements(By.CSS_SELECTOR, "#clusters .cluster")
    assert all_clusters, browser.find_element(By.ID, "dup-msg").text
    shots(browser, "duplicates")
    # the demo has no cross-department pair in the duplicate band: widen to related first
    Select(browser.find_element(By.ID, "band")).select_by_value("related")
    Select(browser.find_element(By.ID, "scope")).select_by_value("across-departments")
    wait(browser, lambda d: "跨部门" in d.find_element(By.ID, "dup-msg").text
         or "没有" in d.find_element(By.ID, "dup-msg").text)  # fmt: skip
    scopes = {
        c.get_attribute("data-scope")
        for c in browser.find_elements(By.CSS_SELECTOR, "#clusters .cluster")
    }
    assert scopes <= {"across-departments"}
    across = len(browser.find_elements(By.CSS_SELECTOR, "#clusters .cluster"))
    # a higher threshold: fewer clusters, each at least that similar
    thr = browser.find_element(By.ID, "threshold")
    thr.clear()
    thr.send_keys("0.8")
    browser.find_element(By.CSS_SELECTOR, "#dup-form button").click()
    wait(browser, lambda d: "阈值 0.8" in d.find_element(By.ID, "dup-msg").text
         or "没有" in d.find_element(By.ID, "dup-msg").text)  # fmt: skip
    high = browser.find_elements(By.CSS_SELECTOR, "#clusters .cluster")
    assert 0 < len(high) <= across
    assert all(float(c.get_attribute("data-min")) >= 0.8 for c in high)
    assert {c.get_attribute("data-scope") for c in high} == {"across-departments"}
    shots(browser, "duplicates-filtered")


def test_swagger_docs_offline(server, browser, shots):
    browser.get(server + "/docs")
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .opblock")))
    html = browser.page_source
    assert "cdn.jsdelivr" not in html and "/static/vendor/swagger-ui/" in html
    # a Chinese title, the site's navigation bar (the way back home), Chinese controls
    assert browser.title == "API 文档 · 绩效目标知识图谱"
    assert (
        browser.find_element(By.CSS_SELECTOR, ".topbar a.brand").get_attribute("href")
        == server + "/"
    )
    tags = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag a span")]
    assert "检索" in tags and "SPARQL 端点" in tags and "search" not in tags, tags
    browser.find_element(By.CSS_SELECTOR, "#operations-tag-health + div .opblock-summary").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    assert browser.find_element(By.CSS_SELECTOR, ".try-out__btn").text == "试一试"
    shots(browser, "docs")
