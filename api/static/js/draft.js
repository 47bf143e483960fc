/* Drafting page: task → suggestions (POST /api/suggest) → draft rows → live review
   (POST /api/draft/review) → export in the template (POST /api/draft/export). The draft is
   kept in localStorage, so a reload does not lose it. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "ikg-draft-v1";
  const SEV = {error: "错误", warning: "警告", note: "提示"};
  let draft = load();
  let last = null;          // the last suggestion response
  let reviewTimer = null;
  let reviewSeq = 0;

  function load() {
    try {
      const d = JSON.parse(localStorage.getItem(KEY) || "null");
      if (d && Array.isArray(d.indicators) && Array.isArray(d.tasks)) return d;
    } catch (e) { /* start empty */ }
    return {department: "", fiscal_year: null, tasks: [], indicators: []};
  }
  function save() { localStorage.setItem(KEY, JSON.stringify(draft)); }

  function body() {
    const year = parseInt($("d-year").value, 10);
    return {
      department: $("d-department").value.trim() || "（拟编制部门）",
      fiscal_year: Number.isFinite(year) ? year : undefined,
      tasks: draft.tasks,
      indicators: draft.indicators.map((i) => ({level1: i.level1 || null, level2: i.level2, name: i.name, target: i.target,
        task: i.task && draft.tasks.some((t) => t.name === i.task) ? i.task : null})),
    };
  }

  /** "dir/file.txt:12" → the file name and line, the full path in the tooltip */
  function shortSource(src) {
    const name = String(src || "").split(/[\\/]/).pop();
    return `<span class="src" title="${ikg.esc(src)}">${ikg.esc(name)}</span>`;
  }
  function hasName(name) { return draft.indicators.some((i) => i.name === name); }
  function haveLevel2(l2) { return draft.indicators.some((i) => i.level2 === l2); }

  // ------------------------------------------------------------------ suggestions
  function renderSuggestions() {
    if (!last) return;
    $("sugg-task").textContent = `（${last.task}，${last.suggestions.length} 条）`;
    $("categories").innerHTML = last.categories.map((c) => {
      const have = haveLevel2(c.level2);
      const cls = have ? "have" : (c.required ? "need" : "");
      const state = have ? "草稿已有" : (c.suggested ? `建议 ${c.suggested} 条` : "暂无建议");
      return `<span class="chip ${cls}" title="${ikg.esc(c.level1)} / ${ikg.esc(c.level2)}">${ikg.esc(c.level2)}：${state}</span>`;
    }).join("") + last.categories.filter((c) => c.note && !haveLevel2(c.level2))
      .map((c) => `<p class="muted cat-note">${ikg.esc(c.note)}</p>`).join("");
    const order = last.categories.map((c) => c.level2);
    const groups = new Map(order.map((l2) => [l2, []]));
    last.suggestions.forEach((s, i) => {
      if (!groups.has(s.level2)) groups.set(s.level2, []);
      groups.get(s.level2).push([s, i]);
    });
    const html = [];
    for (const [l2, items] of groups) {
      if (!items.length) continue;
      html.push(`<div class="sugg-group" data-level2="${ikg.esc(l2)}"><h3>${ikg.esc(items[0][0].level1)} / ${ikg.esc(l2)}</h3>`);
      for (const [s, i] of items) {
        const added = hasName(s.name);
        const ev = s.evidence;
        const link = ev.links[0];
        const why = s.reasons.map((r) => r.text).join("；");
        html.push(`<div class="sugg${added ? " added" : ""}">
          <div class="what"><span class="name">${ikg.esc(s.name)}</span><span class="target">${ikg.esc(s.target)}</span>
          <div class="reasons">${ikg.esc(s.typical_target.note)} · ${ev.departments} 个部门 ${ev.tables} 张表使用${link ? ` · 例：${ikg.esc(link.department)} ${shortSource(link.source)}` : ""}</div>
          <div class="reasons">${ikg.esc(why)}</div></div>
          <button type="button" class="add" data-i="${i}"${added ? " disabled" : ""}>${added ? "已加入" : "加入草稿"}</button></div>`);
      }
      html.push("</div>");
    }
    $("suggestions").innerHTML = html.join("") || `<p class="muted">没有找到建议。</p>`;
    $("hints").innerHTML = last.rewrite_hints.map((h) => `<div class="sugg-group"><h3>改写建议：${ikg.esc(h.draft_name)}（${ikg.esc(h.draft_target || "无目标值")}）</h3>
      <p class="reasons">${ikg.esc(h.problem)}</p>${h.alternatives.map((a) => `<div class="sugg"><div class="what"><span class="name">${ikg.esc(a.name)}</span><span class="target">${ikg.esc(a.target)}</span>
      <div class="reasons">${a.evidence.departments} 个部门使用</div></div></div>`).join("")}</div>`).join("");
  }

  $("task-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("t-name").value.trim();
    const content = $("t-content").value.trim();
    if (!name) return;
    const existing = draft.tasks.find((t) => t.name === name);
    if (existing) existing.content = content; else draft.tasks.push({name, content});
    save(); renderDraft(); scheduleReview();
    ikg.msg($("suggest-msg"), "正在生成建议…");
    $("suggest-btn").disabled = true;
    try {
      const year = parseInt($("d-year").value, 10);
      const req = {task: name, content, k: parseInt($("t-k").value, 10),
        fiscal_year: Number.isFinite(year) ? year : null,
        department: $("d-department").value.trim() || null,
        draft: draft.indicators.map((i) => ({name: i.name, level1: i.level1 || null, level2: i.level2, target: i.target}))};
      const t0 = performance.now();
      last = await ikg.getJSON("/api/suggest", {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"}, body: JSON.stringify(req)});
      renderSuggestions();
      ikg.msg($("suggest-msg"), `${last.suggestions.length} 条建议（${Math.round(performance.now() - t0)} ms）`);
    } catch (e) {
      ikg.msg($("suggest-msg"), `建议失败：${e.message}`, true);
    } finally {
      $("suggest-btn").disabled = false;
    }
  });

  $("suggestions").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.add");
    if (!btn || !last) return;
    const s = last.suggestions[parseInt(btn.dataset.i, 10)];
    if (!s || hasName(s.name)) return;
    // an indicator added from a task's suggestions belongs to that task
    draft.indicators.push({level1: s.level1, level2: s.level2, name: s.name, target: s.target, task: last.task});
    changed();
  });

  // ------------------------------------------------------------------ the draft
  function renderDraft() {
    $("draft-count").textContent = `（${draft.tasks.length} 项任务，${draft.indicators.length} 个指标）`;
    $("draft-tasks").innerHTML = draft.tasks.length
      ? "任务：" + draft.tasks.map((t) => ikg.esc(t.name)).join("、") : "";
    $("m-task").innerHTML = `<option value="">（不指定任务）</option>` + draft.tasks.map((t) =>
      `<option${t.name === $("t-name").value.trim() ? " selected" : ""}>${ikg.esc(t.name)}</option>`).join("");
    $("draft-table").querySelector("tbody").innerHTML = draft.indicators.map((i, k) => `<tr data-k="${k}">
      <td class="num">${k + 1}</td><td>${ikg.esc(i.task || "—")}</td>
      <td>${ikg.esc(i.level1 || "—")}</td><td>${ikg.esc(i.level2)}</td>
      <td><input class="e-name" value="${ikg.esc(i.name)}" aria-label="三级指标"></td>
      <td><input class="e-target" value="${ikg.esc(i.target)}" aria-label="目标值"></td>
      <td class="del"><button type="button" title="删除" aria-label="删除">×</button></td></tr>`).join("")
      || `<tr><td colspan="7" class="muted">草稿还没有指标。</td></tr>`;
  }

  function changed() { save(); renderDraft(); renderSuggestions(); scheduleReview(); }

  $("draft-table").addEventListener("input", (ev) => {
    const tr = ev.target.closest("tr[data-k]");
    if (!tr) return;
    const row = draft.indicators[parseInt(tr.dataset.k, 10)];
    if (ev.target.classList.contains("e-name")) row.name = ev.target.value;
    if (ev.target.classList.contains("e-target")) row.target = ev.target.value;
    save(); scheduleReview();
  });
  $("draft-table").addEventListener("click", (ev) => {
    const btn = ev.target.closest("td.del button");
    if (!btn) return;
    draft.indicators.splice(parseInt(btn.closest("tr").dataset.k, 10), 1);
    changed();
  });
  $("manual-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    draft.indicators.push({level1: null, level2: $("m-level2").value, name: $("m-name").value.trim(), target: $("m-target").value.trim(),
      task: $("m-task").value || null});
    $("m-name").value = ""; $("m-target").value = "";
    changed();
  });
  $("clear-draft").addEventListener("click", () => {
    if (!confirm("清空草稿中的任务和指标？")) return;
    draft = {department: "", fiscal_year: null, tasks: [], indicators: []};
    changed();
  });
  for (const id of ["d-department", "d-year"]) {
    $(id).addEventListener("change", () => {
      draft.department = $("d-department").value; draft.fiscal_year = $("d-year").value;
      save(); scheduleReview();
    });
  }

  // ------------------------------------------------------------------ review
  function scheduleReview() {
    clearTimeout(reviewTimer);
    reviewTimer = setTimeout(review, 400);
  }
  async function review() {
    const seq = ++reviewSeq;
    if (!draft.indicators.length && !draft.tasks.length) {
      $("review-summary").textContent = ""; $("findings").innerHTML = ""; return;
    }
    const rows = draft.indicators;
    if (rows.some((i) => !i.name.trim() || !i.target.trim())) {
      ikg.msg($("review-summary"), "有指标缺少名称或目标值，补全后自动审核", true);
      return;
    }
    ikg.msg($("review-summary"), "审核中…");
    try {
      const rep = await ikg.getJSON("/api/draft/review", {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"}, body: JSON.stringify(body())});
      if (seq !== reviewSeq) return;  // a newer review is on its way
      const s = rep.summary.by_severity;
      ikg.msg($("review-summary"), `（错误 ${s.error || 0}，警告 ${s.warning || 0}，提示 ${s.note || 0}）`);
      $("findings").innerHTML = rep.findings.map((f) => `<li class="sev-${ikg.esc(f.severity)}" data-rule="${ikg.esc(f.rule)}">
        <strong>${SEV[f.severity] || ikg.esc(f.severity)}</strong> <span class="rule" title="${ikg.esc(f.rule)}">${ikg.esc(f.rule_zh || f.rule)}</span>
        ${f.row_label ? `<span class="src">${ikg.esc(f.row_label)}</span>` : ""} ${ikg.esc(f.message_zh)}
        ${f.fix_zh ? `<div class="fix">建议：${ikg.esc(f.fix_zh)}</div>` : ""}</li>`).join("")
        || `<li class="sev-note">未发现问题。</li>`;
    } catch (e) {
      if (seq === reviewSeq) ikg.msg($("review-summary"), `审核失败：${e.message}`, true);
    }
  }

  // ------------------------------------------------------------------ export
  async function exportAs(format) {
    try {
      const resp = await fetch(`/api/draft/export?format=${format}`, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body())});
      if (!resp.ok) {
        const j = await resp.json().catch(() => ({}));
        throw new Error(`${resp.status}：${typeof j.detail === "string" ? j.detail : resp.statusText}`);
      }
      const blob = await resp.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `绩效目标表草稿.${format}`;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) {
      ikg.msg($("review-summary"), `导出失败：${e.message}`, true);
    }
  }
  $("export-csv").addEventListener("click", () => exportAs("csv"));
  $("export-xlsx").addEventListener("click", () => exportAs("xlsx"));

  // ------------------------------------------------------------------ start
  $("d-department").value = draft.department || "";
  if (draft.fiscal_year) $("d-year").value = draft.fiscal_year;
  if (draft.tasks.length) { $("t-name").value = draft.tasks[draft.tasks.length - 1].name; $("t-content").value = draft.tasks[draft.tasks.length - 1].content || ""; }
  renderDraft();
  scheduleReview();
})();
