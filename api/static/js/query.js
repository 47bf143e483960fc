"use strict";
(async () => {
  const msg = document.getElementById("query-msg");
  const select = document.getElementById("examples");
  // Offline: no prefix.cc / LOV autocompletion, no remote endpoint catalogue, no persisted tabs.
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const root = document.getElementById("yasgui");
  ikgYasguiZh.watch(root);  // YASGUI's controls in Chinese (yasgui-zh.js)
  const yasgui = new Yasgui(root, {
    ...ikgYasguiZh.config,
    requestConfig: {endpoint: "/sparql", method: "POST"},
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: {getData: () => []},
    persistenceId: null,
    yasqe: {autocompleters: ["variables"], editorHeight: "220px"},
  });
  window.ikgYasgui = yasgui;
  let examples = [];
  try {
    examples = await ikg.getJSON("/api/examples");
    select.insertAdjacentHTML("beforeend", examples.map((e, i) =>
      `<option value="${i}">${ikg.esc(e.id)} ${ikg.esc(e.title_zh || e.title)}</option>`).join(""));
  } catch (e) {
    ikg.msg(msg, `无法读取示例查询：${e.message}`, true);
  }
  // The endpoint accepts the project's prefixes undeclared; declare the ones a query uses so
  // that the editor's syntax check passes and the results table can shorten IRIs (xsd: always,
  // for the datatypes of the results).
  const prefixes = JSON.parse(document.getElementById("prefixes").textContent);
  function withPrefixes(query) {
    const declared = new Set([...query.matchAll(/PREFIX\s+([\w-]*):/gi)].map((m) => m[1]));
    const lines = Object.entries(prefixes)
      .filter(([p]) => !declared.has(p) && (p === "xsd" || new RegExp(`(^|[\\s(/^|,;])${p}:`).test(query)))
      .map(([p, ns]) => `PREFIX ${p}: <${ns}>`);
    return lines.length ? lines.join("\n") + "\n" + query : query;
  }
  function run() {
    const e = examples[Number(select.value)];
    if (!e) return;
    const tab = yasgui.getTab();
    tab.setQuery(withPrefixes(e.query));
    tab.getYasqe().query();
  }
  select.addEventListener("change", run);
  document.getElementById("run-example").addEventListener("click", run);
})();
