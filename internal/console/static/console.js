// Tramontane console: shared helpers. Every state-changing call carries the
// session's CSRF token; the API is reached through /console/api/v1/...
"use strict";
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  // api calls the console's API proxy and returns the decoded JSON (or
  // null for an empty answer); it throws an Error with the API's message.
  async function api(method, url, body, opts) {
    const init = Object.assign({ method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" }, opts || {});
    if (body !== undefined && body !== null) {
      if (body instanceof FormData) {
        init.body = body;
      } else {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
    }
    const res = await fetch(url, init);
    if (opts && opts.raw) return res;
    return decode(res);
  }

  async function decode(res) {
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = text; }
    }
    if (!res.ok) throw new Error(errorText(res.status, data));
    return data;
  }

  function errorText(status, data) {
    if (data && typeof data === "object") {
      let msg = typeof data.message === "string" ? data.message : JSON.stringify(data.message || data);
      if (Array.isArray(data.detail)) {
        msg += ": " + data.detail.map(function (d) { return (d.loc || []).join(".") + " " + d.msg; }).join("; ");
      }
      return msg + " (" + status + ")";
    }
    return (data || "request failed") + " (" + status + ")";
  }

  // showError puts a message in an alert next to el.
  function showError(el, msg) {
    let box = el.querySelector(".form-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "error form-error";
      box.setAttribute("role", "alert");
      el.appendChild(box);
    }
    box.textContent = msg;
  }

  // el builds a DOM element: el("div", {class: "x"}, "text", child...).
  function el(tag, attrs) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "class") e.className = attrs[k];
      else if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (let i = 2; i < arguments.length; i++) {
      const c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  // Forms with data-api send their fields to the API: fields named in
  // data-query go to the query string, the others to a JSON body.
  document.addEventListener("submit", async function (ev) {
    const form = ev.target;
    if (form.dataset.api) {
      ev.preventDefault();
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      const inQuery = (form.dataset.query || "").split(",").filter(Boolean);
      const url = new URL(form.dataset.action, location.href);
      const body = {};
      let hasBody = false;
      new FormData(form).forEach(function (v, k) {
        if (k === "csrf") return;
        if (inQuery.indexOf(k) >= 0) url.searchParams.set(k, v);
        else if (v !== "") { body[k] = v; hasBody = true; }
      });
      try {
        const out = await api(form.dataset.api, url.pathname + url.search, hasBody ? body : null);
        const then = form.dataset.then;
        if (then === "reload") location.reload();
        else if (then) location.assign(then.replace("{id}", out && out.id ? encodeURIComponent(out.id) : ""));
      } catch (e) {
        showError(form, e.message);
      }
      return;
    }
    if (form.dataset.restart) {
      ev.preventDefault();
      const cid = form.dataset.restart, eid = form.dataset.entry;
      const text = form.querySelector("textarea").value;
      const button = form.querySelector("button");
      button.disabled = true;
      button.textContent = "Branching…";
      try {
        const out = await api("POST", "/console/api/v1/conversations/" + encodeURIComponent(cid) + "/restart", {
          from_entry_id: eid, inputs: text, stream: false,
          metadata: { branched_from: cid, branched_at_entry: eid },
        });
        location.assign("/console/conversations/" + encodeURIComponent(out.conversation_id));
      } catch (e) {
        button.disabled = false;
        button.textContent = "Branch";
        showError(form, e.message);
      }
    }
  });

  window.tm = { api: api, decode: decode, el: el, showError: showError, csrf: csrf };
})();
