// Uploads (drag and drop, with a progress bar), live processing status and
// text preview for library documents; the same uploader serves Files.
"use strict";
(function () {
  const tm = window.tm, el = tm.el;
  const zone = document.getElementById("dropzone");
  if (!zone) return;
  const lib = zone.dataset.library;
  const uploads = document.getElementById("uploads");
  const picker = document.getElementById("doc-file");
  const target = lib ? "/console/api/v1/libraries/" + encodeURIComponent(lib) + "/documents" : "/console/api/v1/files";

  function upload(file) {
    const bar = el("progress", { max: "100", value: "0", "aria-label": "Upload of " + file.name });
    const label = el("span", {}, file.name + " ");
    const row = el("div", { class: "upload" }, label, bar);
    uploads.appendChild(row);
    const fd = new FormData();
    fd.append("file", file, file.name);
    if (!lib) fd.append("purpose", "ocr");
    return new Promise(function (resolve) {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", target);
      xhr.setRequestHeader("X-CSRF-Token", tm.csrf);
      xhr.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) bar.value = Math.round(100 * ev.loaded / ev.total);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          label.textContent = file.name + " uploaded ";
          let doc = null;
          try { doc = JSON.parse(xhr.responseText); } catch (e) { /* no body */ }
          if (lib && doc) addRow(doc);
          resolve(true);
        } else {
          let msg = xhr.responseText;
          try { msg = JSON.parse(xhr.responseText).message; } catch (e) { /* plain text */ }
          row.appendChild(el("span", { class: "error", role: "alert" }, " " + msg));
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        row.appendChild(el("span", { class: "error", role: "alert" }, " upload failed"));
        resolve(false);
      });
      xhr.send(fd);
    });
  }

  async function uploadAll(files) {
    let ok = true;
    for (const f of files) ok = (await upload(f)) && ok;
    if (ok && !lib) location.reload();
    if (lib) poll();
  }
  picker.addEventListener("change", function () { uploadAll(Array.from(picker.files)); });
  zone.addEventListener("dragover", function (ev) { ev.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (ev) {
    ev.preventDefault();
    zone.classList.remove("over");
    uploadAll(Array.from(ev.dataTransfer.files));
  });

  // addRow lists a just-uploaded document; poll then follows its status.
  function addRow(d) {
    const tbody = document.querySelector("#documents tbody");
    const st = el("span", { class: "status s-" + d.process_status, "data-status": "" }, d.process_status || "");
    const prev = el("button", { type: "button", "data-preview": d.id, "aria-label": "Preview the text of " + d.name }, "Preview");
    tbody.appendChild(el("tr", { "data-doc": d.id }, el("td", {}, d.name), el("td", {}, String(d.size)), el("td", {}, st), el("td", {}, prev)));
  }

  if (!lib) return;
  const base = "/console/api/v1/libraries/" + encodeURIComponent(lib) + "/documents/";

  // Poll the status of documents still being processed.
  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try { await pollOnce(); } finally { polling = false; }
  }
  async function pollOnce() {
    let busy = false;
    for (const row of document.querySelectorAll("tr[data-doc]")) {
      const s = row.querySelector("[data-status]");
      if (s.textContent === "done" || s.textContent === "failed") continue;
      try {
        const st = await tm.api("GET", base + encodeURIComponent(row.dataset.doc) + "/status");
        s.textContent = st.process_status;
        s.className = "status s-" + st.process_status;
      } catch (e) { /* try again */ }
      if (s.textContent !== "done" && s.textContent !== "failed") busy = true;
    }
    if (busy) setTimeout(poll, 700);
  }
  poll();

  const preview = document.getElementById("preview");
  document.addEventListener("click", async function (ev) {
    const b = ev.target.closest("[data-preview]");
    if (!b) return;
    try {
      const t = await tm.api("GET", base + encodeURIComponent(b.dataset.preview) + "/text_content");
      preview.textContent = t.text;
    } catch (e) {
      preview.textContent = e.message;
    }
    preview.hidden = false;
    preview.focus();
  });
})();
