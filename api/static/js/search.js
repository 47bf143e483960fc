"use strict";
(() => {
  const form = document.getElementById("search-form");
  const msg = document.getElementById("search-msg");
  const tbody = document.querySelector("#results tbody");
  const detail = document.getElementById("detail");
  let hits = [];

  function hitRow(h, i) {
    return `<tr class="hit" data-id="${ikg.esc(h.id)}" tabindex="0">` +
      `<td>${i + 1}</td><td><a href="#${ikg.esc(h.id)}">${ikg.esc(h.name)}</a>` +
      `<div class="phone-only muted">${ikg.category(h)} · ${ikg.esc(h.target)}</div></td>` +
      `<td>${ikg.esc(h.department)}</td><td class="opt">${ikg.category(h)}</td><td class="opt">${ikg.esc(h.target)}</td>` +
      `<td>${ikg.score(h.score)} ${ikg.band(h.band)}</td></tr>`;
  }

  async function search(push) {
    const q = form.q.value.trim();
    if (!q) { ikg.msg(msg, "请输入检索内容", true); return; }
    const params = new URLSearchParams({q, k: form.k.value});
    if (form.department.value.trim()) params.set("department", form.department.value.trim());
    if (form.year.value.trim()) params.set("year", form.year.value.trim());
    ikg.msg(msg, "检索中…");
    if (push) history.replaceState(null, "", "/search?" + params.toString());
    try {
      const data = await ikg.getJSON("/api/search?" + params.toString());
      hits = data.hits;
      tbody.innerHTML = hits.map(hitRow).join("");
      ikg.msg(msg, hits.length ? `找到 ${hits.length} 条相关指标（模型：${data.model}）` : "没有找到相关指标");
    } catch (e) {
      tbody.innerHTML = "";
      ikg.msg(msg, `检索失败：${e.message}`, true);
    }
  }

  async function open(id) {
    for (const tr of tbody.querySelectorAll("tr")) tr.classList.toggle("selected", tr.dataset.id === id);
    detail.hidden = false;
    detail.innerHTML = `<p class="muted">加载中…</p>`;
    const path = id.split("/").map(encodeURIComponent).join("/");
    try {
      const [ind, sim] = await Promise.all([
        ikg.getJSON(`/api/indicators/${path}`),
        ikg.getJSON(`/api/indicators/${path}/similar?k=10`),
      ]);
      const simRows = sim.hits.map((h) =>
        `<tr class="hit" data-id="${ikg.esc(h.id)}"><td><a href="#${ikg.esc(h.id)}">${ikg.esc(h.name)}</a>` +
        `<div class="reasons">${(h.reasons || []).map(ikg.esc).join("；")}</div>` +
        `<div class="muted">来源 ${ikg.sourceShort(h.source)}</div></td>` +
        `<td>${ikg.esc(h.department)}</td><td>${ikg.score(h.score)} ${ikg.band(h.band)}</td></tr>`).join("");
      detail.innerHTML =
        `<h2 id="detail-name">${ikg.esc(ind.name)}</h2><dl>` +
        `<dt>部门</dt><dd>${ikg.esc(ind.department)}</dd>` +
        `<dt>年度</dt><dd>${ikg.esc(ind.year)}</dd>` +
        `<dt>目标表</dt><dd>${ikg.esc(ind.table)}</dd>` +
        `<dt>类别</dt><dd>${ikg.category(ind)}</dd>` +
        `<dt>指标值</dt><dd>${ikg.esc(ind.target)}</dd>` +
        `<dt>来源</dt><dd class="src" id="detail-source">${ikg.source(ind.source)}</dd></dl>` +
        `<h3>相似指标</h3>` +
        (sim.hits.length
          ? `<div class="scroll"><table class="grid" id="similar"><thead><tr><th>指标 / 来源</th><th>部门</th><th>相似度</th></tr></thead><tbody>${simRows}</tbody></table></div>`
          : `<p class="muted">没有相似指标</p>`);
      if (window.matchMedia("(max-width: 800px)").matches) detail.scrollIntoView({behavior: "smooth"});
    } catch (e) {
      detail.innerHTML = `<p class="error">无法读取指标：${ikg.esc(e.message)}</p>`;
    }
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); search(true); });
  document.addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr.hit");
    if (!tr) return;
    ev.preventDefault();
    history.replaceState(null, "", location.pathname + location.search + "#" + tr.dataset.id);
    open(tr.dataset.id);
  });
  tbody.addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr.hit");
    if (tr && ev.key === "Enter") open(tr.dataset.id);
  });
  const params = new URLSearchParams(location.search);
  for (const k of ["department", "year", "k"]) if (params.get(k)) form[k].value = params.get(k);
  if (form.q.value.trim()) search(false);
  if (location.hash.length > 1) open(decodeURIComponent(location.hash.slice(1)));
})();
