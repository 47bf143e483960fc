/* The reviewer's desk: batch review, sortable summary, charts, filters, cross-year view, export. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const esc = ikg.esc;
  const SEV = {error: "错误", warning: "警告", note: "提示"};
  const SEVS = ["error", "warning", "note"];
  const CHANGE_ORDER = ["lowered", "dropped", "added", "raised", "changed", "unchanged"];
  const STATUS = {compared: "已与上年比较", "other-project": "上年表为其他项目，未逐项比较", "no-earlier": "无上年表"};
  const msg = $("desk-msg");
  let report = null;     // the DeskReport shown
  let sort = {key: null, dir: 1};
  let stored = [];       // tables in the store
  const base = (f) => String(f || "").split(/[\\/]/).pop();

  // ------------------------------------------------------------------ the store's tables
  async function loadStored() {
    try {
      const data = await ikg.getJSON("/api/review/tables");
      stored = data.items;
      const depts = [...new Set(stored.map((t) => t.department))].sort();
      $("stored-dept").insertAdjacentHTML("beforeend", depts.map((d) => `<option>${esc(d)}</option>`).join(""));
      renderStored();
    } catch (e) {
      $("stored-tables").tBodies[0].innerHTML = `<tr><td colspan="5" class="error">${esc(e.message)}</td></tr>`;
    }
  }
  function renderStored() {
    const dept = $("stored-dept").value;
    const checked = new Set([...document.querySelectorAll("#stored-tables input:checked")].map((c) => c.value));
    const rows = stored.filter((t) => !dept || t.department === dept);
    $("stored-tables").tBodies[0].innerHTML = rows.map((t, k) => `<tr>
      <td><input type="checkbox" id="st-${k}" value="${esc(t.uri)}"${checked.has(t.uri) ? " checked" : ""}></td>
      <td><label for="st-${k}">${esc(t.department)}</label></td><td>${esc(t.fiscal_year)}</td>
      <td>${esc(t.project || t.title)}</td><td class="num">${esc(t.indicators)}</td></tr>`).join("")
      || `<tr><td colspan="5" class="muted">库中没有表</td></tr>`;
    countStored();
  }
  function countStored() {
    $("stored-count").textContent = `已选 ${document.querySelectorAll("#stored-tables input:checked").length} 张`;
  }
  $("stored-dept").addEventListener("change", renderStored);
  $("file").addEventListener("change", () => {
    $("file-chosen").textContent = $("file").files.length ? `已选：${$("file").files[0].name}` : "未选择文件";
  });
  $("files").addEventListener("change", () => {
    const names = [...$("files").files].map((f) => f.name);
    $("files-chosen").textContent = names.length ? `已选 ${names.length} 个：${names.join("、")}` : "未选择文件";
  });
  $("stored-tables").addEventListener("change", countStored);

  // ------------------------------------------------------------------ running a review
  async function run(label, request) {
    ikg.msg(msg, `${label}审核中…（首次需加载相似度模型，约半分钟）`);
    for (const b of [$("batch-btn"), $("stored-btn")]) b.disabled = true;
    try {
      report = await request();
      show();
      ikg.msg(msg, `审核完成：${report.tables.length} 张表，${report.findings.length} 条问题。`);
    } catch (e) {
      ikg.msg(msg, `审核失败：${e.message}`, true);
    } finally {
      for (const b of [$("batch-btn"), $("stored-btn")]) b.disabled = false;
    }
  }
  $("batch-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const files = [...$("files").files];
    if (!files.length) { ikg.msg(msg, "请先选择要上传的文件", true); return; }
    const body = new FormData();
    for (const f of files) body.append("files", f);
    run(`${files.length} 个文件`, () => ikg.getJSON("/api/review/batch", {method: "POST", body}));
  });
  $("stored-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const tables = [...document.querySelectorAll("#stored-tables input:checked")].map((c) => c.value);
    if (!tables.length) { ikg.msg(msg, "请先勾选库中的表", true); return; }
    run(`${tables.length} 张表`, () => ikg.getJSON("/api/review/stored", {
      method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
      body: JSON.stringify({tables})}));
  });

  // ------------------------------------------------------------------ the report
  const ruleTitles = () => Object.fromEntries(report.rules.map((r) => [r.id, r.title_zh]));
  function owner(f) {
    const names = report.files.map((x) => x.file);
    if (names.includes(f.input_file)) return f.input_file;
    if (names.includes(f.file)) return f.file;
    const n = names.find((x) => base(x) === base(f.file));
    return n || (names.length === 1 ? names[0] : f.file);
  }
  function deptOf(f) {
    const fs = report.files.find((x) => x.file === owner(f));
    return (fs && fs.department) || "";
  }

  function show() {
    $("desk").hidden = false;
    const a = report.against;
    if (a) {
      const src = a.sources.map((s) => ({batch: "本次审核的各表", earlier: "库中的表"}[s] || s)).join("、");
      $("against").textContent = `比较范围：${src} — ${a.tables} 张表，${a.departments} 个部门，年度 ${a.years.join("、") || "无"}，指标 ${a.indicators} 项。`;
    } else $("against").textContent = "";
    sort = {key: null, dir: 1};
    renderSummary();
    const titles = ruleTitles();
    const depts = [...new Set(report.findings.map(deptOf).filter(Boolean))].sort();
    const rules = [...new Set(report.findings.map((f) => f.rule))].sort((x, y) => (titles[x] || x).localeCompare(titles[y] || y, "zh"));
    $("f-dept").innerHTML = `<option value="">全部</option>` + depts.map((d) => `<option>${esc(d)}</option>`).join("");
    $("f-rule").innerHTML = `<option value="">全部</option>` + rules.map((r) => `<option value="${esc(r)}">${esc(titles[r] || r)}</option>`).join("");
    $("f-sev").value = "";
    renderFindings();
    const cyDepts = [...new Set([...report.cross_year.map((v) => v.department), ...report.tables.map((t) => t.department)])];
    $("cy-dept").innerHTML = cyDepts.map((d) => `<option>${esc(d)}</option>`).join("");
    showCrossYear();
  }

  // summary: sortable by any column (the server's order is "needs attention first")
  function cell(t, key) {
    if (SEVS.includes(key)) return t.counts[key] || 0;
    if (key === "compared") return base(t.compared_with);
    if (key === "title") return t.project || t.title;
    return t[key];
  }
  function renderSummary() {
    let rows = report.tables.slice();
    if (sort.key) {
      rows.sort((x, y) => {
        const a = cell(x, sort.key), b = cell(y, sort.key);
        const c = typeof a === "number" && typeof b === "number" ? a - b : String(a ?? "").localeCompare(String(b ?? ""), "zh");
        return c * sort.dir;
      });
    }
    for (const th of document.querySelectorAll("#summary th")) {
      th.setAttribute("aria-sort", th.dataset.key === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    const pct = (x) => `${Math.round(x * 100)}%`;
    $("summary").tBodies[0].innerHTML = rows.map((t) => `<tr data-file="${esc(t.file)}">
      <td>${esc(t.department)}</td><td>${esc(t.fiscal_year ?? "")}</td>
      <td title="${esc(t.file)}">${esc(t.project || t.title)}</td><td class="num">${t.indicators}</td>
      <td class="num">${t.counts.error ? `<span class="sev sev-error">${t.counts.error}</span>` : 0}</td>
      <td class="num">${t.counts.warning || 0}</td><td class="num">${t.counts.note || 0}</td>
      <td class="num">${pct(t.vague_share)}</td><td class="num">${pct(t.duplicate_share)}</td>
      <td class="num">${t.cross_year}</td><td class="src">${esc(base(t.compared_with))}</td></tr>`).join("");
  }
  $("summary").tHead.addEventListener("click", (ev) => {
    const th = ev.target.closest("th");
    if (!th) return;
    sort = {key: th.dataset.key, dir: sort.key === th.dataset.key ? -sort.dir : (["department", "title", "compared"].includes(th.dataset.key) ? 1 : -1)};
    renderSummary();
  });

  // charts: stacked CSS bars per severity, the count as text
  function bars(el, groups, filterId) {
    const max = Math.max(1, ...groups.map((g) => g.total));
    el.innerHTML = groups.map((g) => `<button type="button" class="bar-row" data-value="${esc(g.key)}" aria-label="${esc(g.label)}：${g.total} 条（${SEVS.filter((s) => g[s]).map((s) => SEV[s] + g[s]).join("，")}），点击筛选">
      <span class="bar-label">${esc(g.label)}</span>
      <span class="bar-track">${SEVS.map((s) => g[s] ? `<span class="bar-seg sev-bg-${s}" style="width:${(100 * g[s] / max).toFixed(1)}%"></span>` : "").join("")}</span>
      <span class="bar-num">${g.total}</span></button>`).join("") || `<p class="muted">没有问题</p>`;
    el.onclick = (ev) => {
      const b = ev.target.closest(".bar-row");
      if (!b) return;
      $(filterId).value = b.dataset.value;
      renderFindings();
    };
  }
  function group(findings, keyOf, labelOf) {
    const m = new Map();
    for (const f of findings) {
      const k = keyOf(f);
      if (!m.has(k)) m.set(k, {key: k, label: labelOf(k), total: 0, error: 0, warning: 0, note: 0});
      const g = m.get(k); g.total++; g[f.severity]++;
    }
    return [...m.values()].sort((a, b) => b.total - a.total || a.label.localeCompare(b.label, "zh"));
  }

  // findings, filtered
  function filters() {
    return {department: $("f-dept").value || null, rule: $("f-rule").value || null, severity: $("f-sev").value || null};
  }
  function filtered() {
    const q = filters();
    return report.findings.filter((f) => (!q.department || deptOf(f) === q.department)
      && (!q.rule || f.rule === q.rule) && (!q.severity || f.severity === q.severity));
  }
  function renderFindings() {
    const titles = ruleTitles();
    const list = filtered();
    const q = filters();
    // the charts show the findings of the other filters (so a chosen bar stays among its peers)
    const chartBase = (skip) => report.findings.filter((f) => (skip === "department" || !q.department || deptOf(f) === q.department)
      && (skip === "rule" || !q.rule || f.rule === q.rule) && (!q.severity || f.severity === q.severity));
    bars($("chart-dept"), group(chartBase("department"), deptOf, (d) => d || "（未注明）"), "f-dept");
    bars($("chart-rule"), group(chartBase("rule"), (f) => f.rule, (r) => titles[r] || r), "f-rule");
    $("f-count").textContent = `显示 ${list.length} / ${report.findings.length} 条`;
    $("findings").tBodies[0].innerHTML = list.map((f) => `<tr data-rule="${esc(f.rule)}" data-severity="${f.severity}">
      <td>${esc(deptOf(f))}</td><td><span class="sev sev-${f.severity}">${SEV[f.severity]}</span></td>
      <td>${esc(titles[f.rule] || f.rule)}</td><td>${esc(f.item_name)}</td>
      <td class="num" title="${esc(f.file)}${f.line ? ":" + f.line : ""}">${f.line ? `第 ${f.line} 行` : "—"}</td>
      <td>${esc(f.message_zh)}</td><td>${esc(f.fix_zh || "")}</td></tr>`).join("")
      || `<tr><td colspan="7" class="muted">没有符合筛选条件的问题</td></tr>`;
  }
  for (const id of ["f-dept", "f-rule", "f-sev"]) $(id).addEventListener("change", renderFindings);
  $("f-clear").addEventListener("click", () => { for (const id of ["f-dept", "f-rule", "f-sev"]) $(id).value = ""; renderFindings(); });

  // ------------------------------------------------------------------ export
  $("export-xlsx").addEventListener("click", async () => {
    const out = $("export-msg");
    ikg.msg(out, "正在导出…");
    const q = filters();
    // only what the workbook needs: the findings shown (the server filters again), no excerpts
    const findings = filtered().map((f) => Object.assign({}, f, {source_text: null}));
    const slim = Object.assign({}, report, {coverage: [], cross_year: [], findings});
    try {
      const resp = await fetch("/api/review/export", {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(Object.assign({report: slim}, q))});
      if (!resp.ok) {
        let detail = resp.statusText;
        try { const j = await resp.json(); detail = ikg.zhPart(j.detail || j.error); } catch (e) { /* not JSON */ }
        throw new Error(`${resp.status}：${detail}`);
      }
      const blob = await resp.blob();
      const cd = resp.headers.get("content-disposition") || "";
      const m = /filename\*=UTF-8''([^;]+)/.exec(cd);
      const name = m ? decodeURIComponent(m[1]) : "review.xlsx";
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      ikg.msg(out, `已导出 ${name}（${filtered().length} 条问题）`);
      out.dataset.file = name;
    } catch (e) {
      ikg.msg(out, `导出失败：${e.message}`, true);
    }
  });

  // ------------------------------------------------------------------ cross-year view
  function yearOptions(view) {
    const ys = view ? view.years : [];
    const opts = (sel) => `<option value="">自动</option>` + ys.map((y) => `<option${String(y) === String(sel) ? " selected" : ""}>${y}</option>`).join("");
    $("cy-prior").innerHTML = opts(view && view.prior_year);
    $("cy-year").innerHTML = opts(view && view.year);
  }
  function showCrossYear() {
    const dept = $("cy-dept").value;
    const view = report.cross_year.find((v) => v.department === dept);
    if (view) {
      yearOptions(view);
      renderView(view, "本次审核");
    } else {
      yearOptions(null);
      $("crossyear").innerHTML = "";
      ikg.msg($("cy-msg"), dept ? `本次审核中“${dept}”没有可比较的以前年度表；可点“查看库中对照”看库中的年度。` : "");
    }
  }
  $("cy-dept").addEventListener("change", showCrossYear);
  $("cy-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({department: $("cy-dept").value});
    if ($("cy-year").value) p.set("year", $("cy-year").value);
    if ($("cy-prior").value) p.set("prior_year", $("cy-prior").value);
    ikg.msg($("cy-msg"), "加载中…");
    try {
      const view = await ikg.getJSON(`/api/review/crossyear?${p}`);
      yearOptions(view);
      renderView(view, "库中");
    } catch (e) {
      $("crossyear").innerHTML = "";
      ikg.msg($("cy-msg"), `无法对照：${e.message}`, true);
    }
  });

  function renderView(view, where) {
    ikg.msg($("cy-msg"), `${where}：${view.department} ${view.prior_year ?? "?"} 年 → ${view.year ?? "?"} 年`);
    const parts = view.pairs.map((p, k) => {
      const head = `<h3>${esc(p.prior_year ?? "")} 年“${esc(p.prior_title || "—")}” → ${esc(p.fiscal_year ?? "")} 年“${esc(p.title)}”</h3>
        <p class="muted">${esc(STATUS[p.status] || p.status)}${p.status === "compared" ? "：" + CHANGE_ORDER.filter((c) => p.counts[c]).map((c) => `<span class="chg chg-${c}">${esc(changeZh(c))} ${p.counts[c]}</span>`).join(" ") : ""}</p>`;
      if (p.status !== "compared") return `<section class="cy-pair">${head}</section>`;
      const rows = p.rows.map((r) => `<tr class="row-${r.change}" data-change="${r.change}">
        <td><span class="chg chg-${r.change}">${mark(r.change)} ${esc(r.change_zh)}</span></td>
        <td>${esc(r.level2)}</td>
        <td class="prev">${r.prev_name ? esc(r.prev_name) : "<span class='muted'>—</span>"}</td>
        <td class="prev">${esc(r.prev_target ?? "")}${r.prev_actual ? `<br><span class="muted">实际 ${esc(r.prev_actual)}</span>` : ""}</td>
        <td>${r.name ? esc(r.name) : "<span class='muted'>—</span>"}</td>
        <td>${esc(r.target ?? "")}</td></tr>`).join("");
      return `<section class="cy-pair">${head}<div class="scroll"><table class="grid cy-table" id="cy-table-${k}">
        <caption class="sr-only">${esc(view.department)} 上年与今年指标对照</caption>
        <thead><tr><th scope="col">变化</th><th scope="col">二级指标</th><th scope="col">上年指标（${esc(p.prior_year ?? "")}）</th><th scope="col">上年目标值</th><th scope="col">今年指标（${esc(p.fiscal_year ?? "")}）</th><th scope="col">今年目标值</th></tr></thead>
        <tbody>${rows}</tbody></table></div></section>`;
    });
    if (view.other_prior_tables.length) parts.push(`<p class="muted">上年另有未对照的表：${view.other_prior_tables.map(esc).join("、")}</p>`);
    $("crossyear").innerHTML = parts.join("") || `<p class="muted">该部门在所选年度没有可对照的表。</p>`;
  }
  const ZH = {lowered: "目标降低", raised: "目标提高", changed: "目标值改写", unchanged: "未变", added: "今年新增", dropped: "今年未设置"};
  const changeZh = (c) => ZH[c] || c;
  const mark = (c) => ({lowered: "▼", raised: "▲", added: "＋", dropped: "－", changed: "≠", unchanged: "＝"}[c] || "");

  loadStored();
})();
