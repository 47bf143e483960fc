/* Shared helpers for the reviewer pages (vanilla JS, no framework). */
"use strict";
const ikg = {
  esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  },
  /** fetch JSON; throws Error("<status>: <detail>") using the API's {error, detail} body */
  async getJSON(url, options) {
    const resp = await fetch(url, Object.assign({headers: {Accept: "application/json"}}, options || {}));
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) {
      const detail = body && (body.detail || body.error);
      throw new Error(`${resp.status}：${typeof detail === "string" ? ikg.zhPart(detail) : JSON.stringify(detail || resp.statusText)}`);
    }
    return body;
  },
  /** similarity bands (embeddings.scoring.Band) and cluster labels, as the pages name them */
  /** the Chinese half of the API's bilingual messages ("不是可识别的绩效目标表 / not a table: …") */
  zhPart(text) {
    const m = /^([^/]*[\u4e00-\u9fff][^/]*?) \/ [A-Za-z][^:：]*(?:[:：]\s*(.*))?$/s.exec(text);
    return m ? (m[2] ? `${m[1]}：${m[2]}` : m[1]) : text;
  },
  bandLabel: {duplicate: "疑似重复", review: "需复核", related: "相关", none: "不相似"},
  clusterLabel: {"suspected duplicate": "疑似重复", "common indicator": "共性指标", review: "需复核", related: "相关"},
  scopeLabel: {all: "全部", "within-table": "同一张表内", "across-departments": "跨部门", "across-tables": "同部门跨表"},
  band(b) {
    return b ? `<span class="band band-${ikg.esc(b)}">${ikg.esc(ikg.bandLabel[b] || b)}</span>` : "";
  },
  category(h) {
    return [h.level1, h.level2].filter(Boolean).map(ikg.esc).join(" / ");
  },
  source(src) {
    if (!src || !src.file) return "";
    return `${ikg.esc(src.file)}${src.line ? ":" + ikg.esc(src.line) : ""}`;
  },
  /** short "file:line" (file name only), the full path in the tooltip */
  sourceShort(src) {
    if (!src || !src.file) return "";
    const name = String(src.file).split(/[\\/]/).pop();
    const full = `${src.file}${src.line ? ":" + src.line : ""}`;
    return `<span class="src" title="${ikg.esc(full)}">${ikg.esc(name)}${src.line ? ":" + ikg.esc(src.line) : ""}</span>`;
  },
  score(x) {
    return typeof x === "number" ? x.toFixed(3) : "";
  },
  msg(el, text, isError) {
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  },
};
