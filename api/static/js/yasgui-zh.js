/* YASGUI (@triply/yasgui 4, vendored) in Chinese: it has no locale option, so its own strings
   are replaced here before the editor is built. Result cells show plain values (2024, 产出指标);
   the datatype or language tag is in the cell's tooltip (title). Loaded after yasgui.min.js. */
"use strict";
(() => {
  const Yasr = Yasgui.Yasr;
  const Table = Yasr.plugins.table;

  /** YASGUI's fixed English strings (texts, titles, placeholders, aria-labels) → Chinese */
  const ZH = {
    "Simple view": "精简视图",
    "Ellipse": "折叠长文本",
    "Filter query results": "筛选结果",
    "Page size:": "每页行数：",
    "All": "全部",
    "Show all": "显示全部",
    "Download result": "下载结果",
    "Download Results": "下载结果",
    "Download not supported": "不支持下载",
    "Share query": "分享查询",
    "Run query": "运行查询",
    "Add tab": "新建标签页",
    "Add a new tab": "新建标签页",
    "Close tab": "关闭标签页",
    "New Tab": "新建标签页",
    "Rename Tab": "重命名标签页",
    "Copy Tab": "复制标签页",
    "Close Tab": "关闭标签页",
    "Close other tabs": "关闭其他标签页",
    "Undo close Tab": "恢复关闭的标签页",
    "Settings": "设置",
    "Open settings": "打开设置",
    "Close settings": "关闭设置",
    "Request method": "请求方法",
    "Accept Headers": "接受的结果格式",
    "Arguments": "参数",
    "Header Arguments": "请求头",
    "Default Graphs": "默认图",
    "Named Graphs": "命名图",
    "Search or add an endpoint": "搜索或添加端点",
    "Shorten": "缩短链接",
    "Query": "查询",
    "Table": "表格",
    "Response": "原始响应",
    "cannot render result": "无法显示结果",
    "Querying is disabled.": "查询已停用。",
    "Unable to get response from endpoint. Possible reasons:": "端点没有响应。可能的原因：",
    "Incorrect endpoint URL": "端点地址有误",
    "Endpoint is down": "端点未运行",
    "Endpoint is not accessible from the YASGUI server and website, and the endpoint is not":
      "端点不允许从本页访问（未启用",
    "CORS-enabled": "跨域访问 CORS）",
    "Try query in a new browser window": "在新窗口中运行查询",
    "Ask / Select": "ASK / SELECT 查询",
    "Construct / Describe": "CONSTRUCT / DESCRIBE 查询",
    "This plugin doesn't have a help reference yet. Please contact the maintainer to fix this": "没有说明",
  };
  /** strings YASGUI assembles around a name */
  const PATTERNS = [[/^Shows (.+) view$/, "显示“$1”视图"], [/^View documentation of (.+)$/, "“$1”的说明"]];
  const ATTRS = ["title", "placeholder", "aria-label"];
  function zh(text) {
    const key = text.trim();
    if (Object.prototype.hasOwnProperty.call(ZH, key)) return text.replace(key, ZH[key]);
    for (const [re, to] of PATTERNS) if (re.test(key)) return text.replace(key, key.replace(re, to));
    return null;
  }
  /** the query text and the result cells are data: never translated */
  function skip(node) {
    const el = node.nodeType === 1 ? node : node.parentElement;
    return !!(el && el.closest(".CodeMirror, table.dataTable tbody, .yasr_results pre"));
  }
  function translateText(n) {
    if (skip(n)) return;
    const t = zh(n.nodeValue);
    if (t !== null) n.nodeValue = t;
  }
  function translateAttr(el, a) {
    const v = el.getAttribute(a);
    const t = v && !skip(el) && zh(v);
    if (t) el.setAttribute(a, t);
  }
  function translate(root) {
    if (root.nodeType === 3) return translateText(root);
    if (root.nodeType !== 1) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) translateText(n);
    const els = [root, ...root.querySelectorAll("[title],[placeholder],[aria-label]")];
    for (const el of els) {
      for (const a of ATTRS) {
        if (el.hasAttribute(a)) translateAttr(el, a);
      }
    }
  }

  // DataTables' own strings ("Showing 1 to 50 of 69 entries", paging, empty table)
  Object.assign(Table.defaults.tableConfig, {
    language: {
      emptyTable: "没有结果",
      info: "第 _START_–_END_ 条，共 _TOTAL_ 条",
      infoEmpty: "共 0 条",
      infoFiltered: "（从 _MAX_ 条中筛选）",
      lengthMenu: "每页 _MENU_ 条",
      loadingRecords: "加载中…",
      processing: "处理中…",
      search: "筛选：",
      zeroRecords: "没有符合筛选条件的结果",
      thousands: ",",
      paginate: {first: "首页", last: "末页", next: "下一页", previous: "上一页"},
      aria: {sortAscending: "：按升序排列", sortDescending: "：按降序排列"},
    },
  });

  /** a datatype IRI shortened with the query's prefixes (xsd:integer) */
  function shortIri(iri, prefixes) {
    for (const [p, ns] of Object.entries(prefixes || {})) {
      if (ns && iri.startsWith(ns)) return `${p}:${iri.slice(ns.length)}`;
    }
    return iri;
  }
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
    (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  // A literal is its plain value; its language or datatype goes into the tooltip.
  Table.prototype.formatLiteral = function (binding, prefixes) {
    const value = esc(binding.value);
    let tip = "";
    if (binding["xml:lang"]) tip = `语言：${binding["xml:lang"]}`;
    else if (binding.datatype) tip = `数据类型：${shortIri(binding.datatype, prefixes)}`;
    else tip = "字符串";
    return `<span class="literal" title="${esc(tip)}">${value}</span>`;
  };

  // "69 results in 0.031 seconds"
  Yasr.prototype.updateResponseInfo = function () {
    let text = "";
    if (this.results) {
      this.dataElement.classList.remove("empty");
      const bindings = this.results.getBindings();
      if (bindings) text += `共 ${bindings.length} 条结果`;
      const ms = this.results.getResponseTime();
      if (ms) text += `${text ? "，" : "响应"}用时 ${ms / 1000} 秒`;
    } else {
      this.dataElement.classList.add("empty");
    }
    this.dataElement.innerText = text;
  };

  // Plugin names in the selector; the help links go to English pages on triply.cc: none.
  const initializePlugins = Yasr.prototype.initializePlugins;
  Yasr.prototype.initializePlugins = function (...args) {
    initializePlugins.apply(this, args);
    const names = {table: "表格", response: "原始响应", error: "错误", boolean: "布尔值"};
    for (const [key, plugin] of Object.entries(this.plugins || {})) {
      if (names[key]) plugin.label = names[key];
      delete plugin.helpReference;
    }
  };

  /** the endpoint's JSON error ({error, detail}) as a Chinese message */
  async function renderError(error) {
    const box = document.createElement("div");
    box.className = "ikg-error";
    let detail = error.text || "";
    try {
      const body = JSON.parse(detail);
      detail = body.detail || body.error || detail;
    } catch (e) { /* not JSON: show the text */ }
    const head = document.createElement("strong");
    head.textContent = error.status ? `查询失败（HTTP ${error.status}）` : "查询失败：端点没有响应";
    const pre = document.createElement("pre");
    pre.textContent = typeof detail === "string" ? detail : JSON.stringify(detail);
    box.append(head, pre);
    return box;
  }

  window.ikgYasguiZh = {
    config: {tabName: "查询", yasr: {errorRenderers: [renderError]}},
    /** translate what YASGUI draws under ``root`` now and whenever it redraws */
    watch(root) {
      translate(root);
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === "attributes") translateAttr(r.target, r.attributeName);
          else if (r.type === "characterData") translateText(r.target);
          else r.addedNodes.forEach(translate);
        }
      }).observe(root, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS});
    },
  };
})();
