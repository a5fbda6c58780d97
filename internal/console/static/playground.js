// The playground: sends a turn through the conversations API with
// stream: true and renders the SSE events as they arrive: message deltas,
// tool cards, citations, files, handoffs, function calls and confirmations.
"use strict";
(function () {
  const tm = window.tm, el = tm.el;
  const log = document.getElementById("pg-log");
  const form = document.getElementById("pg-form");
  const input = document.getElementById("pg-input");
  const send = document.getElementById("pg-send");
  const stop = document.getElementById("pg-stop");
  const status = document.getElementById("pg-status");
  const convLine = document.getElementById("pg-conv");
  const agentSel = document.getElementById("pg-agent");
  const versionIn = document.getElementById("pg-version");
  const modelSel = document.getElementById("pg-model");
  let conversationId = convLine.dataset.conversation || "";
  let controller = null;

  function agentName(id) {
    for (const o of agentSel.options) if (o.value === id) return o.textContent;
    return id;
  }

  function syncSetup() {
    const bare = agentSel.value === "";
    modelSel.disabled = !bare;
    versionIn.disabled = bare;
  }
  agentSel.addEventListener("change", function () { newConversation(); syncSetup(); });
  modelSel.addEventListener("change", newConversation);
  versionIn.addEventListener("change", newConversation);
  syncSetup();

  function newConversation() {
    conversationId = "";
    log.textContent = "";
    convLine.textContent = "New conversation";
    status.textContent = "";
  }
  document.getElementById("pg-new").addEventListener("click", function () { newConversation(); input.focus(); });

  function showConversation(id) {
    conversationId = id;
    convLine.textContent = "";
    convLine.append("Conversation ", el("a", { href: "/console/conversations/" + encodeURIComponent(id), id: "pg-conv-link" }, id));
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = "";
    log.appendChild(el("div", { class: "msg user" }, el("div", { class: "who" }, "You"), el("div", { class: "text" }, text)));
    scroll();
    turn(text, null);
  });
  stop.addEventListener("click", function () {
    if (controller) controller.abort();
  });

  // turn runs one request: inputs is the user's text (or entries), extra
  // adds fields (tool_confirmations).
  async function turn(inputs, extra) {
    let url, body;
    if (conversationId) {
      url = "/console/api/v1/conversations/" + encodeURIComponent(conversationId);
      body = { stream: true };
    } else if (agentSel.value) {
      url = "/console/api/v1/conversations";
      body = { stream: true, agent_id: agentSel.value };
      if (versionIn.value.trim()) {
        const v = versionIn.value.trim();
        body.agent_version = /^\d+$/.test(v) ? parseInt(v, 10) : v;
      }
    } else {
      url = "/console/api/v1/conversations";
      body = { stream: true, model: modelSel.value };
    }
    if (inputs !== null) body.inputs = inputs;
    Object.assign(body, extra || {});
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    status.textContent = "Running…";
    const run = new Run();
    try {
      const res = await tm.api("POST", url, body, { raw: true, signal: controller.signal, headers: { "X-CSRF-Token": tm.csrf, "Accept": "text/event-stream" } });
      if (!res.ok) {
        await tm.decode(res);
      }
      await readEvents(res.body, function (type, data) { run.event(type, data); });
      run.finish();
    } catch (e) {
      if (e.name === "AbortError") {
        status.textContent = "Stopped.";
        run.note("Stopped by you.");
      } else {
        status.textContent = "";
        run.note("Error: " + e.message, true);
      }
    } finally {
      controller = null;
      send.disabled = false;
      stop.disabled = true;
    }
  }

  // readEvents parses a Server-Sent Events body as it arrives.
  async function readEvents(stream, onEvent) {
    const reader = stream.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      buf += dec.decode(r.value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let type = "", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (data) onEvent(type, JSON.parse(data));
      }
    }
  }

  // Run renders the events of one request.
  function Run() {
    this.t0 = performance.now();
    this.first = 0;
    this.msgs = {};
    this.tools = {};
    this.calls = {};
    this.order = [];
    this.citations = 0;
  }
  Run.prototype.note = function (text, bad) {
    log.appendChild(el("p", { class: bad ? "note error" : "note", role: bad ? "alert" : "status" }, text));
    scroll();
  };
  Run.prototype.event = function (type, d) {
    if (!this.first && type !== "conversation.response.started") this.first = performance.now();
    switch (type) {
      case "conversation.response.started":
        showConversation(d.conversation_id);
        break;
      case "message.output.delta":
        this.delta(d);
        break;
      case "tool.execution.started":
      case "tool.execution.delta":
      case "tool.execution.done":
        this.tool(type, d);
        break;
      case "function.call.delta":
        this.call(d);
        break;
      case "agent.handoff.started":
        break;
      case "agent.handoff.done":
        log.appendChild(el("p", { class: "handoff", role: "status" }, "Handed over to " + d.next_agent_name));
        break;
      case "conversation.response.done":
        this.usage = d.usage;
        break;
      case "conversation.response.error":
        this.note("Error: " + d.message + " (" + d.code + ")", true);
        break;
    }
    scroll();
  };
  Run.prototype.delta = function (d) {
    let m = this.msgs[d.id];
    if (!m) {
      const who = d.agent_id ? agentName(d.agent_id) : (d.model || "assistant");
      const text = el("div", { class: "text" });
      const node = el("div", { class: "msg assistant", "data-entry": d.id }, el("div", { class: "who" }, who), text);
      log.appendChild(node);
      m = this.msgs[d.id] = { node: node, text: text };
    }
    const chunks = Array.isArray(d.content) ? d.content : [d.content];
    for (const c of chunks) {
      if (typeof c === "string") m.text.append(c);
      else if (c && c.type === "text") m.text.append(c.text);
      else if (c && c.type === "tool_reference") {
        // The engine sends each source right after its "[n]" in the text:
        // that "[n]" becomes the link.
        this.citations++;
        let label = "[" + this.citations + "]";
        m.text.normalize();
        const last = m.text.lastChild;
        if (last && last.nodeType === Node.TEXT_NODE) {
          const hit = /\[(\d+)\]$/.exec(last.nodeValue);
          if (hit) {
            label = hit[0];
            last.nodeValue = last.nodeValue.slice(0, hit.index);
          }
        }
        const a = el("a", { class: "citation", href: c.url || "#", target: "_blank", rel: "noopener noreferrer", title: c.title || c.url || "" }, label);
        m.text.append(a);
      } else if (c && c.type === "tool_file") {
        const src = "/console/api/v1/files/" + encodeURIComponent(c.file_id) + "/content";
        const fig = el("figure", { class: "file" });
        if (/^(png|jpe?g|gif|webp)$/i.test(c.file_type || "")) fig.appendChild(el("img", { src: src, alt: c.file_name || "generated image" }));
        fig.appendChild(el("figcaption", {}, el("a", { href: src, download: c.file_name || c.file_id }, "Download " + (c.file_name || c.file_id))));
        m.node.appendChild(fig);
      }
    }
  };
  Run.prototype.tool = function (type, d) {
    let t = this.tools[d.id];
    if (!t) {
      const args = el("pre", { class: "box args" });
      const info = el("pre", { class: "box info" });
      const state = el("span", { class: "tag" }, "running");
      const summary = el("summary", {}, el("span", { class: "tool-name" }, d.name), " ", state);
      const card = el("details", { class: "toolcard", "data-tool": d.name }, summary,
        el("div", { class: "label" }, "Arguments"), args, el("div", { class: "label" }, "Info"), info);
      log.appendChild(card);
      t = this.tools[d.id] = { card: card, args: args, info: info, state: state, t0: performance.now() };
    }
    if (type !== "tool.execution.done") {
      t.args.append(d.arguments || "");
      return;
    }
    const ms = Math.round(performance.now() - t.t0);
    const failed = d.info && d.info.error;
    t.state.textContent = (failed ? "failed" : "done") + " · " + ms + " ms";
    t.state.className = "tag " + (failed ? "bad" : "ok");
    t.info.textContent = JSON.stringify(d.info, null, 2);
  };
  Run.prototype.call = function (d) {
    let c = this.calls[d.id];
    if (!c) {
      c = this.calls[d.id] = { id: d.id, name: d.name, toolCallId: d.tool_call_id, args: "", pending: false };
      this.order.push(c);
    }
    c.args += d.arguments || "";
    if (d.confirmation_status === "pending") c.pending = true;
  };
  Run.prototype.finish = function () {
    const end = performance.now();
    for (const c of this.order) renderCall(c);
    const u = this.usage;
    const parts = [];
    if (u) parts.push(u.prompt_tokens + " prompt + " + u.completion_tokens + " completion = " + u.total_tokens + " tokens");
    if (this.first) parts.push("first event " + Math.round(this.first - this.t0) + " ms");
    parts.push("total " + Math.round(end - this.t0) + " ms");
    log.appendChild(el("p", { class: "usage" }, parts.join(" · ")));
    status.textContent = "Done.";
    scroll();
  };

  // loadHistory shows a stored conversation's entries when the playground
  // continues it, with a form for any call still waiting for its result.
  async function loadHistory(id) {
    let h;
    try {
      h = await tm.api("GET", "/console/api/v1/conversations/" + encodeURIComponent(id) + "/history");
    } catch (e) {
      status.textContent = e.message;
      return;
    }
    showConversation(id);
    const run = new Run();
    const answered = {};
    for (const e of h.entries) if (e.type === "function.result") answered[e.tool_call_id] = true;
    for (const e of h.entries) {
      switch (e.type) {
        case "message.input": {
          const text = typeof e.content === "string" ? e.content : (e.content || []).map(function (c) { return c.text || ""; }).join("");
          log.appendChild(el("div", { class: "msg user" }, el("div", { class: "who" }, "You"), el("div", { class: "text" }, text)));
          break;
        }
        case "message.output":
          run.delta({ id: e.id, agent_id: e.agent_id, model: e.model, content: e.content });
          break;
        case "tool.execution":
          run.tool("tool.execution.started", { id: e.id, name: e.name, arguments: e.arguments });
          run.tool("tool.execution.done", { id: e.id, name: e.name, info: e.info });
          break;
        case "agent.handoff":
          log.appendChild(el("p", { class: "handoff" }, "Handed over to " + e.next_agent_name));
          break;
        case "function.call":
          if (!answered[e.tool_call_id]) {
            renderCall({ name: e.name, toolCallId: e.tool_call_id, args: e.arguments, pending: e.confirmation_status === "pending" });
          }
          break;
      }
    }
    scroll();
  }
  if (conversationId) loadHistory(conversationId);

  // renderCall shows a function call: allow/deny for a pending
  // confirmation, else a form to type the function's result.
  function renderCall(c) {
    const box = el("div", { class: "callcard", "data-call": c.name });
    box.appendChild(el("div", { class: "who" }, "Function call: ", el("strong", {}, c.name)));
    box.appendChild(el("pre", { class: "box" }, c.args));
    if (c.pending) {
      const allow = el("button", { type: "button", class: "primary", "data-confirm": "allow" }, "Allow");
      const deny = el("button", { type: "button", class: "danger", "data-confirm": "deny" }, "Deny");
      box.appendChild(el("p", {}, "This call needs your confirmation. ", allow, " ", deny));
      const decide = function (what) {
        allow.disabled = deny.disabled = true;
        box.appendChild(el("p", { class: "sub" }, what === "allow" ? "Allowed." : "Denied."));
        turn(null, { tool_confirmations: [{ tool_call_id: c.toolCallId, confirmation: what }] });
      };
      allow.addEventListener("click", function () { decide("allow"); });
      deny.addEventListener("click", function () { decide("deny"); });
    } else {
      const id = "res-" + c.toolCallId;
      const ta = el("textarea", { id: id, rows: "2", required: "" });
      const f = el("form", { class: "result-form" }, el("label", { for: id }, "Result of " + c.name), ta,
        el("button", { type: "submit", class: "primary" }, "Send result"));
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (controller) return;
        f.querySelector("button").disabled = true;
        turn([{ type: "function.result", tool_call_id: c.toolCallId, result: ta.value }], null);
      });
      box.appendChild(f);
    }
    log.appendChild(box);
  }
})();
