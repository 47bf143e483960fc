"use strict";
(() => {
  const form = document.getElementById("dup-form");
  const msg = document.getElementById("dup-msg");
  const box = document.getElementById("clusters");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  const info = document.getElementById("page-info");
  const LIMIT = 20;
  let offset = 0;
  let latest = 0;  // the last request made: an earlier one answering later is not shown
  const labels = ikg.clusterLabel;
  const scopes = ikg.scopeLabel;

  function member(m) {
    return `<li><a href="/search?q=${encodeURIComponent(m.name)}#${ikg.esc(m.id)}">${ikg.esc(m.name)}</a> ` +
      `<span class="muted">${ikg.esc(m.department)} · ${ikg.esc(m.year)} · ${ikg.category(m)} · 指标值 ${ikg.esc(m.target)}</span> ` +
      `<span class="muted">${ikg.sourceShort(m.source)}</span></li>`;
  }

  function cluster(c) {
    const names = Object.fromEntries(c.members.map((m) => [m.id, m.name]));
    const pairs = (c.pairs || []).map((p) =>
      `<tr><td>${ikg.esc(names[p.a] || p.a)}</td><td>${ikg.esc(names[p.b] || p.b)}</td>` +
      `<td>${ikg.score(p.score)} ${ikg.band(p.band)}</td><td class="reasons">${(p.reasons || []).map(ikg.esc).join("；")}</td></tr>`).join("");
    return `<section class="cluster" data-scope="${ikg.esc(c.scope)}" data-min="${ikg.esc(c.min_similarity)}"><h3>${ikg.esc(labels[c.label] || c.label)} ` +
      `<span class="muted">${c.section === "across-departments" ? ` · ${ikg.esc(c.year || "年度不详")}年 · ${ikg.esc(c.region || "未注明地区")}` : ""}· ${c.members.length} 条 · 最低相似度 ${ikg.score(c.min_similarity)} · ${ikg.esc(String(c.scope).split(",").map((x) => scopes[x] || x).join("、"))}</span></h3>` +
      `<ul>${c.members.map(member).join("")}</ul>` +
      (pairs ? `<details><summary>两两相似度（${c.pairs.length}）</summary><div class="scroll"><table class="grid"><thead><tr><th>指标 A</th><th>指标 B</th><th>相似度</th><th>依据</th></tr></thead><tbody>${pairs}</tbody></table></div></details>` : "") +
      `</section>`;
  }

  async function load() {
    const params = new URLSearchParams({scope: form.scope.value, offset, limit: LIMIT});
    if (form.band.value) params.set("band", form.band.value);
    if (form.threshold.value.trim()) params.set("threshold", form.threshold.value.trim());
    history.replaceState(null, "", "/duplicates?" + params.toString());
    ikg.msg(msg, "加载中…");
    const mine = ++latest;
    try {
      const data = await ikg.getJSON("/api/duplicates?" + params.toString());
      if (mine !== latest) return;  // filters changed meanwhile: a newer request answers
      if (!form.threshold.value.trim() && data.threshold != null) form.threshold.placeholder = `默认 ${data.threshold}`;
      box.innerHTML = data.clusters.map(cluster).join("");
      ikg.msg(msg, data.total ? `共 ${data.total} 组（阈值 ${data.threshold}，范围：${scopes[data.scope] || data.scope}）` : "没有达到阈值的重复指标（可在“分档”中放宽）");
      prev.disabled = offset === 0;
      next.disabled = offset + LIMIT >= data.total;
      document.querySelector(".pager").hidden = data.total <= LIMIT;
      info.textContent = data.total ? `第 ${offset + 1}–${Math.min(offset + LIMIT, data.total)} 组` : "";
    } catch (e) {
      if (mine !== latest) return;
      box.innerHTML = "";
      ikg.msg(msg, `加载失败：${e.message}`, true);
    }
  }

  const params = new URLSearchParams(location.search);
  if (params.get("scope")) form.scope.value = params.get("scope");
  if (params.get("threshold")) form.threshold.value = params.get("threshold");
  if (params.get("band")) form.band.value = params.get("band");
  form.addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; load(); });
  form.scope.addEventListener("change", () => { offset = 0; load(); });
  form.band.addEventListener("change", () => { offset = 0; load(); });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
  next.addEventListener("click", () => { offset += LIMIT; load(); });
  load();
})();
