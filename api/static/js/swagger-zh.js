/* /docs in Chinese: Swagger UI has no locale option, so its fixed English strings are replaced
   as it draws them; operation summaries ("语义检索指标 / semantic search") keep their Chinese
   half and tag headings get Chinese names. Property and parameter names are left alone. */
"use strict";
(() => {
  const ZH = {
    "Try it out": "试一试", "Cancel": "取消", "Execute": "执行", "Clear": "清除",
    "Parameters": "参数", "No parameters": "无参数", "Name": "名称", "Description": "说明",
    "Request body": "请求体", "Responses": "响应", "Response body": "响应体",
    "Response headers": "响应头", "Request URL": "请求地址", "Server response": "服务器响应",
    "Code": "状态码", "Details": "详情", "Links": "链接", "No links": "无",
    "Media type": "媒体类型", "Controls Accept header.": "决定 Accept 请求头。",
    "Example Value": "示例值", "Schema": "结构", "Schemas": "数据结构", "Download": "下载",
    "Successful Response": "成功", "Validation Error": "参数有误", "required": "必填",
    "Controls": "决定", "header.": "请求头。", "Servers": "服务器", "Loading...": "加载中…", "Expand all": "全部展开", "Collapse all": "全部折叠",
    "Undocumented": "未说明", "Default value": "默认值", "Available values": "可选值",
    "Send empty value": "发送空值", "Filter by tag": "按标签筛选", "Authorize": "授权",
  };
  const TAGS = {
    SPARQL: "SPARQL 端点", search: "检索", indicators: "指标", duplicates: "重复指标",
    tables: "绩效目标表", review: "审核", suggest: "指标建议", draft: "编制草稿",
    examples: "示例查询", health: "健康检查", default: "其他",
  };
  const ATTR_ZH = {
    "Collapse operation": "折叠", "Expand operation": "展开", "Copy to clipboard": "复制",
    "Collapse all": "全部折叠", "Expand all": "全部展开",
  };
  const ATTRS = ["title", "aria-label", "placeholder"];
  const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  function fixText(n) {
    const el = n.parentElement;
    if (!el || el.closest(".microlight, pre, code, textarea, .model-box, .prop-name, .parameter__name")) return;
    const key = n.nodeValue.trim();
    let t = null;
    if (el.closest(".opblock-tag") && has(TAGS, key)) t = TAGS[key];
    else if (el.closest(".opblock-summary-description") && key.includes(" / ")) t = key.split(" / ")[0];
    else if (has(ZH, key)) t = n.nodeValue.replace(key, ZH[key]);
    if (t !== null && t !== n.nodeValue) n.nodeValue = t;
  }
  function fixAttr(el, a) {
    const v = el.getAttribute(a);
    if (v && has(ATTR_ZH, v)) el.setAttribute(a, ATTR_ZH[v]);
  }
  function fix(root) {
    if (root.nodeType === 3) return fixText(root);
    if (root.nodeType !== 1) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) fixText(n);
    for (const el of [root, ...root.querySelectorAll("[title],[aria-label],[placeholder]")]) {
      for (const a of ATTRS) if (el.hasAttribute(a)) fixAttr(el, a);
    }
  }
  const root = document.getElementById("swagger-ui");
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") fixText(r.target);
      else if (r.type === "attributes") fixAttr(r.target, r.attributeName);
      else r.addedNodes.forEach(fix);
    }
  }).observe(root, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS});
  fix(root);
})();
