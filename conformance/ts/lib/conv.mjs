// Helpers for the Conversations suites (start/append/restart, streams, function calls,
// handoffs). Wire contract: shared/API.md §3, §4, §5, §7.
//
// The model behind every conversation is the fake upstream driven by
// conformance/upstream-script.yaml: each scenario has its own trigger phrase ("conf-…") or
// instruction marker, so replies are deterministic.

import assert from "node:assert/strict";

import { KEY, MODEL, URL_BASE, client, uniq } from "./helpers.mjs";

export const OUTPUT_TYPES = ["message.output", "function.call", "tool.execution", "agent.handoff"];
export const ENTRY_TYPES = [
  "message.input",
  "message.output",
  "function.call",
  "function.result",
  "tool.execution",
  "agent.handoff",
];

/** A function tool (type "function") with an object JSON schema. */
export function fnTool(name, properties = { city: { type: "string" } }, required = Object.keys(properties)) {
  return {
    type: "function",
    function: {
      name,
      description: `conformance function ${name}`,
      parameters: { type: "object", properties, required },
    },
  };
}

/** The function tool the function-calling scenarios use (conf-fc-*). */
export const weatherFn = () =>
  fnTool("conf_get_weather", { city: { type: "string" }, unit: { type: "string" } }, ["city"]);

/** Plain text of an entry's content: a string, or the text chunks of a chunk list. */
export function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((c) => (c && c.type === "text" ? c.text : "")).join("");
}

/**
 * A message's content as a list of chunks with adjacent text merged: a string becomes one text
 * chunk; a list of strings (stream deltas) and chunk objects is merged the same way.
 */
export function normalizeContent(content) {
  const items = typeof content === "string" ? [content] : Array.isArray(content) ? content : [];
  const out = [];
  for (const it of items) {
    const text = typeof it === "string" ? it : it?.type === "text" ? it.text : null;
    if (text !== null) {
      if (out.length && out[out.length - 1].type === "text") out[out.length - 1] = { type: "text", text: out[out.length - 1].text + text };
      else out.push({ type: "text", text });
    } else {
      out.push(it);
    }
  }
  return out.filter((ch) => ch.type !== "text" || ch.text !== "");
}

/** Assert the invariants every entry (output or history) must satisfy beyond the zod schema. */
export function assertEntry(e, allowed = ENTRY_TYPES) {
  assert.ok(e && typeof e === "object", `entry is an object: ${JSON.stringify(e)}`);
  assert.ok(allowed.includes(e.type), `entry type ${e.type} not in ${allowed.join(",")}: ${JSON.stringify(e)}`);
  assert.equal(e.object, "entry");
  assert.equal(typeof e.id, "string", `entry id: ${JSON.stringify(e)}`);
  assert.ok(e.id.length > 0);
  assert.ok(e.createdAt instanceof Date && !isNaN(e.createdAt), `entry createdAt: ${JSON.stringify(e)}`);
  switch (e.type) {
    case "message.output":
      assert.equal(e.role, "assistant");
      assert.ok(typeof e.content === "string" || Array.isArray(e.content));
      break;
    case "message.input":
      assert.equal(typeof e.role, "string");
      assert.ok(typeof e.content === "string" || Array.isArray(e.content));
      break;
    case "function.call":
      assert.equal(typeof e.toolCallId, "string");
      assert.ok(e.toolCallId.length > 0);
      assert.equal(typeof e.name, "string");
      assert.equal(typeof e.arguments, "string", "function.call arguments should be a JSON string");
      JSON.parse(e.arguments);
      break;
    case "function.result":
      assert.equal(typeof e.toolCallId, "string");
      assert.equal(typeof e.result, "string");
      break;
    case "tool.execution":
      assert.equal(typeof e.name, "string");
      assert.equal(typeof e.arguments, "string", "tool.execution arguments must be a string");
      break;
    case "agent.handoff":
      for (const k of ["previousAgentId", "previousAgentName", "nextAgentId", "nextAgentName"]) {
        assert.equal(typeof e[k], "string", `agent.handoff ${k}: ${JSON.stringify(e)}`);
      }
      break;
  }
}

/** Assert a ConversationResponse: object, conversation id, only output-type entries, usage. */
export function assertResponse(res) {
  assert.equal(res.object, "conversation.response");
  assert.equal(typeof res.conversationId, "string");
  assert.ok(res.conversationId.length > 0);
  assert.ok(Array.isArray(res.outputs));
  for (const e of res.outputs) assertEntry(e, OUTPUT_TYPES);
  assertUsage(res.usage);
  return res;
}

export function assertUsage(u) {
  assert.ok(u && typeof u === "object", "usage present");
  for (const k of ["promptTokens", "completionTokens", "totalTokens"]) {
    assert.ok(Number.isInteger(u[k]), `usage.${k} is an integer: ${JSON.stringify(u)}`);
    assert.ok(u[k] >= 0);
  }
  const connector = u.connectorTokens ?? 0;
  assert.equal(u.totalTokens, u.promptTokens + u.completionTokens + connector, `usage totals: ${JSON.stringify(u)}`);
}

/** The last entry of a response's outputs. */
export const last = (res) => res.outputs[res.outputs.length - 1];

/** Start a model conversation (mistral-medium-latest by default). */
export function startModel(c, inputs, extra = {}) {
  return c.beta.conversations.start({ model: MODEL, inputs, ...extra });
}

/** Append to a conversation. */
export function append(c, conversationId, req) {
  return c.beta.conversations.append({ conversationId, conversationAppendRequest: req });
}

/** Append a function.result for every function.call in `calls`, computed by fn(call). */
export function resultsFor(calls, fn) {
  return calls.map((call) => ({
    type: "function.result",
    toolCallId: call.toolCallId,
    result: String(fn(call)),
  }));
}

/** History entries of a conversation. */
export async function history(c, conversationId) {
  const h = await c.beta.conversations.getHistory({ conversationId });
  assert.equal(h.object, "conversation.history");
  assert.equal(h.conversationId, conversationId);
  for (const e of h.entries) assertEntry(e);
  return h.entries;
}

// ------------------------------------------------------------------------------ streams

/** Drain an SDK EventStream into an array. */
export async function collect(stream) {
  const events = [];
  for await (const ev of stream) events.push(ev);
  return events;
}

/**
 * Check a conversation event stream against API.md §5 and rebuild its output entries.
 * Returns { conversationId, outputs: [{outputIndex, type, id, text, arguments, name,
 * toolCallId, agentId, info, ...}], usage, types }.
 */
export function checkStream(events) {
  assert.ok(events.length >= 2, `stream has at least started+done: ${events.length} events`);
  for (const ev of events) {
    assert.equal(typeof ev.event, "string");
    assert.notEqual(ev.data?.type, "UNKNOWN", `event data did not match its SDK schema: ${JSON.stringify(ev.data?.raw)}`);
    assert.equal(ev.event, ev.data.type, "SSE event name equals data.type");
    if (ev.data.createdAt !== undefined) assert.ok(ev.data.createdAt instanceof Date && !isNaN(ev.data.createdAt));
  }
  const first = events[0];
  assert.equal(first.data.type, "conversation.response.started", "first event is conversation.response.started");
  assert.equal(typeof first.data.conversationId, "string");
  assert.ok(first.data.conversationId.length > 0);
  const lastEv = events[events.length - 1];
  assert.equal(lastEv.data.type, "conversation.response.done", "last event is conversation.response.done");
  assertUsage(lastEv.data.usage);
  for (const ev of events.slice(1, -1)) {
    assert.ok(
      !["conversation.response.started", "conversation.response.done", "conversation.response.error"].includes(ev.data.type),
      `unexpected ${ev.data.type} in the middle of the stream`,
    );
  }

  // Group by output_index: one id per index, one index per id, indexes 0..n-1 in order.
  const groups = new Map();
  const seenIds = new Map();
  let maxIndex = -1;
  for (const ev of events.slice(1, -1)) {
    const d = ev.data;
    assert.ok(Number.isInteger(d.outputIndex), `${d.type} has an integer output_index`);
    assert.equal(typeof d.id, "string", `${d.type} has an id`);
    if (!groups.has(d.outputIndex)) {
      assert.equal(d.outputIndex, maxIndex + 1, `output_index ${d.outputIndex} appears in order (after ${maxIndex})`);
      maxIndex = d.outputIndex;
      assert.ok(!seenIds.has(d.id), `id ${d.id} reused for output_index ${d.outputIndex} and ${seenIds.get(d.id)}`);
      seenIds.set(d.id, d.outputIndex);
      groups.set(d.outputIndex, []);
    }
    const g = groups.get(d.outputIndex);
    if (g.length) assert.equal(d.id, g[0].id, `stable id within output_index ${d.outputIndex}`);
    g.push(d);
  }

  const outputs = [];
  for (const [outputIndex, g] of groups) {
    const head = g[0];
    const kinds = new Set(g.map((d) => d.type));
    const o = { outputIndex, id: head.id, events: g.map((d) => d.type) };
    switch (head.type) {
      case "message.output.delta":
        assert.deepEqual([...kinds], ["message.output.delta"], `output ${outputIndex} mixes event kinds`);
        o.type = "message.output";
        o.text = g.map((d) => (typeof d.content === "string" ? d.content : d.content?.type === "text" ? d.content.text : "")).join("");
        // The message's content as the stream told it: text (strings and text chunks) merged,
        // chunk objects (tool_reference, tool_file, …) kept in place; and the chunk objects alone.
        o.content = normalizeContent(g.map((d) => d.content));
        o.chunks = o.content.filter((ch) => ch.type !== "text");
        o.agentId = head.agentId ?? null;
        o.model = head.model ?? null;
        for (const d of g) assert.equal(d.role ?? "assistant", "assistant");
        break;
      case "function.call.delta":
        assert.deepEqual([...kinds], ["function.call.delta"], `output ${outputIndex} mixes event kinds`);
        o.type = "function.call";
        for (const d of g) {
          assert.equal(d.name, head.name, "every function.call.delta carries the full name");
          assert.equal(d.toolCallId, head.toolCallId, "every function.call.delta carries the tool_call_id");
          assert.equal(typeof d.arguments, "string");
        }
        o.name = head.name;
        o.toolCallId = head.toolCallId;
        o.arguments = g.map((d) => d.arguments).join("");
        o.confirmationStatus = head.confirmationStatus ?? null;
        o.agentId = head.agentId ?? null;
        JSON.parse(o.arguments); // the concatenated fragments are valid JSON
        break;
      case "tool.execution.started": {
        o.type = "tool.execution";
        assert.equal(g[g.length - 1].type, "tool.execution.done", "tool execution ends with tool.execution.done");
        for (const d of g.slice(1, -1)) assert.equal(d.type, "tool.execution.delta");
        o.name = head.name;
        assert.equal(typeof head.arguments, "string", "tool.execution.started arguments is a string");
        // started may carry the arguments whole, or "" with the text
        // following as tool.execution.delta fragments (API.md §5.2).
        o.arguments = head.arguments + g.slice(1, -1).map((d) => d.arguments).join("");
        o.info = g[g.length - 1].info;
        for (const d of g) assert.equal(d.name, head.name);
        break;
      }
      case "agent.handoff.started":
        o.type = "agent.handoff";
        assert.deepEqual(g.map((d) => d.type), ["agent.handoff.started", "agent.handoff.done"]);
        o.previousAgentId = head.previousAgentId;
        o.previousAgentName = head.previousAgentName;
        o.nextAgentId = g[1].nextAgentId;
        o.nextAgentName = g[1].nextAgentName;
        break;
      default:
        assert.fail(`output ${outputIndex} starts with unexpected event ${head.type}`);
    }
    outputs.push(o);
  }
  return {
    conversationId: first.data.conversationId,
    outputs,
    usage: lastEv.data.usage,
    types: events.map((e) => e.data.type),
  };
}

/**
 * The stream's rebuilt outputs must be exactly the conversation's last history entries
 * (same ids, same order, same content).
 */
export async function assertStreamMatchesHistory(c, s) {
  const entries = await history(c, s.conversationId);
  const tail = entries.slice(entries.length - s.outputs.length);
  assert.deepEqual(
    tail.map((e) => [e.type, e.id]),
    s.outputs.map((o) => [o.type, o.id]),
    "streamed output ids equal the stored entry ids",
  );
  for (let i = 0; i < tail.length; i++) {
    const e = tail[i];
    const o = s.outputs[i];
    if (e.type === "message.output") assert.equal(textOf(e.content), o.text);
    if (e.type === "function.call") {
      assert.equal(e.toolCallId, o.toolCallId);
      assert.equal(e.name, o.name);
      assert.deepEqual(JSON.parse(e.arguments), JSON.parse(o.arguments));
    }
    if (e.type === "tool.execution") {
      assert.equal(e.name, o.name);
      assert.equal(e.arguments, o.arguments);
    }
    if (e.type === "agent.handoff") {
      assert.equal(e.nextAgentId, o.nextAgentId);
      assert.equal(e.previousAgentId, o.previousAgentId);
    }
  }
  return entries;
}

// ------------------------------------------------------------------------------ raw / upstream

/** Raw JSON request to the server (for what the SDK cannot express). */
export async function rawJSON(path, { method = "GET", body, key = KEY } = {}) {
  const res = await fetch(URL_BASE + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * The chat-completion requests the fake upstream received whose messages mention `marker`
 * (oldest first). Empty when FAKEUPSTREAM_URL is not set (external server).
 */
export async function upstreamRequests(marker) {
  const base = process.env.FAKEUPSTREAM_URL;
  if (!base) return null;
  const res = await fetch(base.replace(/\/+$/, "") + "/_requests");
  const all = await res.json();
  return all
    .filter((r) => r.path.endsWith("/chat/completions") && r.body && JSON.stringify(r.body.messages ?? []).includes(marker))
    .map((r) => r.body);
}

export { assert, client, uniq, MODEL };
