// The agent builder: fills the form from an existing agent, edits function
// tools with a validated JSON-schema editor, and saves through the API.
"use strict";
(function () {
  const form = document.getElementById("agent-form");
  if (!form) return;
  const tm = window.tm;
  const existing = form.dataset.agent ? JSON.parse(form.dataset.agent) : null;
  const fnBox = document.getElementById("functions");
  const tpl = document.getElementById("function-template");
  const builtins = ["web_search", "web_search_premium", "code_interpreter", "image_generation", "document_library"];
  let fnCount = 0;

  const schemaTypes = ["object", "array", "string", "number", "integer", "boolean", "null"];

  // checkSchema returns "" when text is a plausible JSON Schema for
  // function parameters, else what is wrong.
  function checkSchema(text) {
    let s;
    try { s = JSON.parse(text); } catch (e) { return "not valid JSON: " + e.message; }
    if (!s || typeof s !== "object" || Array.isArray(s)) return "the schema must be a JSON object";
    if (s.type !== "object") return "parameters must have \"type\": \"object\"";
    if (s.properties !== undefined && (typeof s.properties !== "object" || Array.isArray(s.properties))) return "\"properties\" must be an object";
    for (const k in s.properties || {}) {
      const p = s.properties[k];
      if (!p || typeof p !== "object") return "property \"" + k + "\" must be an object";
      const types = Array.isArray(p.type) ? p.type : (p.type === undefined ? [] : [p.type]);
      for (const t of types) if (schemaTypes.indexOf(t) < 0) return "property \"" + k + "\" has an unknown type \"" + t + "\"";
    }
    if (s.required !== undefined) {
      if (!Array.isArray(s.required)) return "\"required\" must be a list";
      for (const r of s.required) if (!(s.properties || {})[r]) return "\"required\" names an unknown property \"" + r + "\"";
    }
    return "";
  }

  function addFunction(fn) {
    const node = tpl.content.firstElementChild.cloneNode(true);
    fnCount++;
    node.querySelector("legend").textContent = "Function " + fnCount;
    const name = node.querySelector(".fn-name"), desc = node.querySelector(".fn-description");
    const params = node.querySelector(".fn-parameters"), status = node.querySelector(".fn-status");
    name.setAttribute("aria-label", "Function " + fnCount + " name");
    params.setAttribute("aria-label", "Function " + fnCount + " parameters (JSON Schema)");
    if (fn) {
      name.value = fn.name || "";
      desc.value = fn.description || "";
      params.value = JSON.stringify(fn.parameters || { type: "object", properties: {} }, null, 2);
    }
    function validate() {
      const err = checkSchema(params.value);
      status.textContent = err ? "Invalid schema: " + err : "Valid schema.";
      status.className = "fn-status " + (err ? "bad" : "good");
      params.setAttribute("aria-invalid", err ? "true" : "false");
      return err;
    }
    params.addEventListener("input", validate);
    node.querySelector(".fn-remove").addEventListener("click", function () { node.remove(); });
    fnBox.appendChild(node);
    validate();
    return node;
  }
  document.getElementById("add-function").addEventListener("click", function () {
    addFunction(null).querySelector(".fn-name").focus();
  });

  function setMulti(select, values) {
    for (const o of select.options) o.selected = (values || []).indexOf(o.value) >= 0;
  }

  if (existing) {
    const ca = existing.completion_args || {};
    const more = {};
    for (const k in ca) {
      if (ca[k] === undefined || ca[k] === null) continue;
      if (["temperature", "top_p", "max_tokens"].indexOf(k) >= 0) form.elements[k].value = ca[k];
      else more[k] = ca[k];
    }
    if (Object.keys(more).length) form.elements.more_args.value = JSON.stringify(more);
    setMulti(form.elements.handoffs, existing.handoffs);
    const confirm = [];
    for (const t of existing.tools || []) {
      if (t.type === "function") addFunction(t.function);
      else {
        const box = document.getElementById("t-" + t.type);
        if (box) box.checked = true;
        if (t.type === "document_library") setMulti(form.elements.library_ids, t.library_ids);
        if (t.type === "connector") {
          const c = document.getElementById("c-" + t.connector_id);
          if (c) c.checked = true;
        }
      }
      for (const n of ((t.tool_configuration || {}).requires_confirmation || [])) confirm.push(n);
    }
    form.elements.requires_confirmation.value = confirm.join(", ");
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const errBox = document.getElementById("form-error");
    errBox.hidden = true;
    const f = form.elements;
    const confirm = f.requires_confirmation.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    function withConfirm(tool, name) {
      if (confirm.indexOf(name) >= 0) tool.tool_configuration = { requires_confirmation: [name] };
      return tool;
    }
    const tools = [];
    let problem = "";
    if (!f.name.value.trim()) problem = "The agent needs a name.";
    for (const b of builtins) {
      if (document.getElementById("t-" + b).checked) {
        const t = { type: b };
        if (b === "document_library") t.library_ids = Array.from(f.library_ids.selectedOptions).map(function (o) { return o.value; });
        tools.push(withConfirm(t, b));
      }
    }
    form.querySelectorAll('input[name="connector_ids"]:checked').forEach(function (c) {
      tools.push({ type: "connector", connector_id: c.value });
    });
    fnBox.querySelectorAll(".function").forEach(function (node) {
      const name = node.querySelector(".fn-name").value.trim();
      const text = node.querySelector(".fn-parameters").value;
      const err = checkSchema(text);
      if (!name) problem = problem || "Every function needs a name.";
      else if (err) problem = problem || "Function " + name + ": " + err + ".";
      if (!name || err) return;
      const fn = { name: name, parameters: JSON.parse(text) };
      const d = node.querySelector(".fn-description").value.trim();
      if (d) fn.description = d;
      tools.push(withConfirm({ type: "function", function: fn }, name));
    });
    if (problem) {
      errBox.textContent = problem;
      errBox.hidden = false;
      errBox.focus();
      return;
    }
    let ca = {};
    if (f.more_args.value.trim()) {
      try {
        ca = JSON.parse(f.more_args.value);
        if (!ca || typeof ca !== "object" || Array.isArray(ca)) throw new Error("not an object");
      } catch (e) {
        errBox.textContent = "More completion arguments must be a JSON object (" + e.message + ").";
        errBox.hidden = false;
        return;
      }
    }
    if (f.temperature.value !== "") ca.temperature = Number(f.temperature.value);
    if (f.top_p.value !== "") ca.top_p = Number(f.top_p.value);
    if (f.max_tokens.value !== "") ca.max_tokens = parseInt(f.max_tokens.value, 10);
    const body = {
      name: f.name.value.trim(), model: f.model.value, description: f.description.value,
      instructions: f.instructions.value, tools: tools, completion_args: ca,
      handoffs: Array.from(f.handoffs.selectedOptions).map(function (o) { return o.value; }),
    };
    if (f.version_message && f.version_message.value) body.version_message = f.version_message.value;
    try {
      const out = existing
        ? await tm.api("PATCH", "/console/api/v1/agents/" + encodeURIComponent(existing.id), body)
        : await tm.api("POST", "/console/api/v1/agents", body);
      location.assign("/console/agents/" + encodeURIComponent(out.id));
    } catch (e) {
      errBox.textContent = e.message;
      errBox.hidden = false;
    }
  });
})();
