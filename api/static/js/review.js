"use strict";
(() => {
  const form = document.getElementById("review-form");
  const msg = document.getElementById("review-msg");
  const frame = document.getElementById("report");

  function fit() {
    try { frame.style.height = (frame.contentDocument.documentElement.scrollHeight + 20) + "px"; } catch (e) { /* ignore */ }
  }
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    const file = form.file.files[0];
    const text = form.text.value;
    if (file) body.append("file", file);
    else if (text.trim()) body.append("text", text);
    else { ikg.msg(msg, "请上传文件或粘贴表格文本", true); return; }
    if (form.filename.value.trim()) body.append("filename", form.filename.value.trim());
    if (form.against.checked) body.append("against", "true");
    ikg.msg(msg, "审核中…");
    try {
      const resp = await fetch("/api/review", {method: "POST", body, headers: {Accept: "text/html"}});
      const type = resp.headers.get("content-type") || "";
      if (!resp.ok) {
        let detail = resp.statusText;
        if (type.includes("json")) { const j = await resp.json(); detail = typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail || j.error); }
        else detail = (await resp.text()).slice(0, 300);
        throw new Error(`${resp.status}：${detail}`);
      }
      const html = await resp.text();
      frame.hidden = false;
      frame.srcdoc = html;
      ikg.msg(msg, "审核完成，报告如下：");
    } catch (e) {
      frame.hidden = true;
      ikg.msg(msg, `审核失败：${e.message}`, true);
    }
  });
})();
