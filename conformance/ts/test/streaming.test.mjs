// Conversation streams (startStream / appendStream / restartStream) through the official TS
// SDK. Wire contract: shared/API.md §5. checkStream() (lib/conv.mjs) asserts the framing and
// event order: conversation.response.started first (with conversation_id), every event's
// SSE name equal to data.type, one stable id per output_index, function.call.delta fragments
// concatenating to valid JSON, conversation.response.done last with usage. Streamed output ids
// are then compared with the stored history.

import { describe, test } from "node:test";

import { createAgent, expectStatus, uniq } from "../lib/helpers.mjs";
import {
  MODEL,
  append,
  assert,
  assertStreamMatchesHistory,
  checkStream,
  client,
  collect,
  history,
  resultsFor,
  textOf,
  weatherFn,
} from "../lib/conv.mjs";

const c = client();

describe("streaming", () => {
  test("startStream: text deltas with a stable output_index and id equal to the stored entry", async () => {
    const m = uniq("conf-stream-text");
    const stream = await c.beta.conversations.startStream({ model: MODEL, inputs: `${m} one two three` });
    const events = await collect(stream);
    const s = checkStream(events);
    assert.deepEqual(s.types.slice(0, 1), ["conversation.response.started"]);
    assert.equal(s.outputs.length, 1);
    const o = s.outputs[0];
    assert.equal(o.type, "message.output");
    assert.equal(o.outputIndex, 0);
    assert.equal(o.text, `conf-default: you said ${m} one two three`);
    assert.ok(o.events.length > 1, "the reply is streamed as several deltas");
    assert.equal(o.model, MODEL);
    assert.ok(s.usage.totalTokens > 0);
    await assertStreamMatchesHistory(c, s);

    // The streamed conversation is a normal conversation.
    const g = await c.beta.conversations.get({ conversationId: s.conversationId });
    assert.equal(g.model, MODEL);
  });

  test("appendStream: same conversation_id; function.call.delta fragments form valid JSON; result via appendStream", async () => {
    const first = await c.beta.conversations.start({ model: MODEL, inputs: uniq("conf-stream-first"), tools: [weatherFn()] });
    const stream = await c.beta.conversations.appendStream({
      conversationId: first.conversationId,
      conversationAppendStreamRequest: { inputs: "conf-fc-parallel Vienna and Prague" },
    });
    const s = checkStream(await collect(stream));
    assert.equal(s.conversationId, first.conversationId, "append stream reports the same conversation_id");
    assert.deepEqual(s.outputs.map((o) => o.type), ["function.call", "function.call"]);
    assert.deepEqual(s.outputs.map((o) => o.outputIndex), [0, 1]);
    assert.deepEqual(JSON.parse(s.outputs[0].arguments), { city: "Vienna" });
    assert.deepEqual(JSON.parse(s.outputs[1].arguments), { city: "Prague" });
    assert.ok(s.outputs[0].events.length > 1, "arguments arrive in several fragments");
    for (const o of s.outputs) assert.equal(o.name, "conf_get_weather");
    await assertStreamMatchesHistory(c, s);

    const s2 = checkStream(
      await collect(
        await c.beta.conversations.appendStream({
          conversationId: first.conversationId,
          conversationAppendStreamRequest: {
            inputs: resultsFor(s.outputs, (o) => `${JSON.parse(o.arguments).city}:warm`),
          },
        }),
      ),
    );
    assert.equal(s2.outputs.length, 1);
    assert.equal(s2.outputs[0].type, "message.output");
    assert.equal(s2.outputs[0].outputIndex, 0, "output_index restarts at 0 for each response");
    assert.equal(s2.outputs[0].text, "conf-fc done: Vienna:warm\nPrague:warm");
    await assertStreamMatchesHistory(c, s2);
  });

  test("restartStream: a new conversation_id, history copied up to from_entry_id", async () => {
    const m1 = uniq("conf-rs1");
    const r1 = await c.beta.conversations.start({ model: MODEL, inputs: m1 });
    await append(c, r1.conversationId, { inputs: uniq("conf-rs2") });
    const m3 = uniq("conf-rs3");
    const stream = await c.beta.conversations.restartStream({
      conversationId: r1.conversationId,
      conversationRestartStreamRequest: { fromEntryId: r1.outputs[0].id, inputs: m3 },
    });
    const s = checkStream(await collect(stream));
    assert.notEqual(s.conversationId, r1.conversationId, "restart stream announces the new conversation");
    assert.equal(s.outputs.length, 1);
    assert.equal(s.outputs[0].text, `conf-default: you said ${m3}`);
    const entries = await assertStreamMatchesHistory(c, s);
    assert.deepEqual(entries.map((e) => e.type), ["message.input", "message.output", "message.input", "message.output"]);
    assert.equal(textOf(entries[0].content), m1);
    assert.equal(textOf(entries[2].content), m3);
  });

  test("handoff stream: agent.handoff.started/done, then the next agent's message deltas", async () => {
    const specialist = await createAgent(c, {
      name: "conf-ho-specialist",
      instructions: "conf-ho-specialist-marker: you handle the requests routed to you.",
    });
    const router = await createAgent(c, {
      name: uniq("conf-ho-router"),
      instructions: "conf-ho-router-marker: route every request.",
      handoffs: [specialist.id],
    });
    const s = checkStream(await collect(await c.beta.conversations.startStream({ agentId: router.id, inputs: "conf-ho-server stream" })));
    assert.deepEqual(s.outputs.map((o) => o.type), ["agent.handoff", "message.output"]);
    const ho = s.outputs[0];
    assert.deepEqual(ho.events, ["agent.handoff.started", "agent.handoff.done"]);
    assert.equal(ho.previousAgentId, router.id);
    assert.equal(ho.previousAgentName, router.name);
    assert.equal(ho.nextAgentId, specialist.id);
    assert.equal(ho.nextAgentName, specialist.name);
    assert.equal(s.outputs[1].agentId, specialist.id);
    assert.equal(s.outputs[1].text, "conf-ho specialist here: your request is handled.");
    await assertStreamMatchesHistory(c, s);
  });

  test("tool execution stream: tool.execution.started/done for a failing built-in, then the answer", async () => {
    // "conf-searxng-error" in the query makes run.sh's fake SearXNG answer HTTP 500.
    const q = uniq("conf-websearch conf-searxng-error streamed");
    const s = checkStream(
      await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: q, tools: [{ type: "web_search" }] })),
    );
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = s.outputs[0];
    assert.equal(ex.events[0], "tool.execution.started");
    assert.equal(ex.events[ex.events.length - 1], "tool.execution.done");
    assert.equal(ex.name, "web_search");
    assert.deepEqual(JSON.parse(ex.arguments), { query: q });
    assert.equal(typeof ex.info, "object");
    assert.equal(typeof ex.info.error, "string", `info: ${JSON.stringify(ex.info)}`);
    assert.ok(s.outputs[1].text.startsWith("conf-websearch final:"));
    assert.equal(s.usage.connectors?.web_search, 1);
    await assertStreamMatchesHistory(c, s);
  });

  test("confirmation stream: a pending call streams function.call.delta with confirmation_status", async () => {
    const a = await createAgent(c, { tools: [{ type: "web_search", toolConfiguration: { requiresConfirmation: ["web_search"] } }] });
    const s = checkStream(await collect(await c.beta.conversations.startStream({ agentId: a.id, inputs: "conf-confirm-ws stream" })));
    assert.deepEqual(s.outputs.map((o) => o.type), ["function.call"]);
    assert.equal(s.outputs[0].name, "web_search");
    assert.equal(s.outputs[0].confirmationStatus, "pending");
    await assertStreamMatchesHistory(c, s);
    const s2 = checkStream(
      await collect(
        await c.beta.conversations.appendStream({
          conversationId: s.conversationId,
          conversationAppendStreamRequest: { toolConfirmations: [{ toolCallId: s.outputs[0].toolCallId, confirmation: "deny" }] },
        }),
      ),
    );
    assert.equal(s2.outputs[s2.outputs.length - 1].type, "message.output");
    assert.equal(s2.outputs[s2.outputs.length - 1].text, "conf-websearch: the search was denied, answering without it.");
  });

  test("errors before the stream starts are plain HTTP errors (404 unknown conversation, 422 both ids)", async () => {
    await expectStatus(
      c.beta.conversations.appendStream({ conversationId: "conv_doesnotexist", conversationAppendStreamRequest: { inputs: "x" } }),
      404,
    );
    const a = await createAgent(c);
    await expectStatus(c.beta.conversations.startStream({ agentId: a.id, model: MODEL, inputs: "x" }), 422);
  });

  test("an upstream rate limit on a stream is a conversation.response.error with code 429", async () => {
    // Headers and started go out before the first model call, so the
    // conversation exists (with its input) and the 429 is an error event.
    const events = await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: "conf-ratelimit stream" }));
    const types = events.map((e) => e.data.type);
    assert.equal(types[0], "conversation.response.started");
    const lastEv = events[events.length - 1].data;
    assert.equal(lastEv.type, "conversation.response.error", types.join(","));
    assert.equal(lastEv.code, 429);
    const h = await history(c, events[0].data.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input"]);
  });

  test("an upstream failure after output was streamed ends with conversation.response.error", async () => {
    const stream = await c.beta.conversations.startStream({
      model: MODEL,
      inputs: "conf-midfail please",
      instructions: "conf-midfail-marker",
      tools: [{ type: "web_search" }],
    });
    const events = await collect(stream);
    for (const ev of events) {
      assert.notEqual(ev.data.type, "UNKNOWN", JSON.stringify(ev.data.raw));
      assert.equal(ev.event, ev.data.type);
    }
    const types = events.map((e) => e.data.type);
    assert.equal(types[0], "conversation.response.started");
    // The tool call (its arguments may stream as tool.execution.delta).
    const tool = types.slice(1).filter((t) => t !== "tool.execution.delta");
    assert.deepEqual(tool.slice(0, 2), ["tool.execution.started", "tool.execution.done"]);
    const lastEv = events[events.length - 1].data;
    assert.equal(lastEv.type, "conversation.response.error", `last event: ${types.join(",")}`);
    assert.equal(typeof lastEv.message, "string");
    assert.ok(lastEv.message.length > 0);
    assert.ok(Number.isInteger(lastEv.code));
    assert.ok(!types.includes("conversation.response.done"), "no done after an error");
    // The completed tool execution was kept.
    const h = await history(c, events[0].data.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "tool.execution"]);
  });

  test("an upstream stream that breaks mid-message ends with conversation.response.error", async () => {
    const events = await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: "conf-broken-stream now" }));
    const types = events.map((e) => e.data.type);
    assert.equal(types[0], "conversation.response.started");
    assert.ok(types.includes("message.output.delta"), types.join(","));
    const lastEv = events[events.length - 1].data;
    assert.equal(lastEv.type, "conversation.response.error", types.join(","));
    assert.ok(Number.isInteger(lastEv.code));
    // The same failure without streaming is a plain 5xx.
    await expectStatus(c.beta.conversations.start({ model: MODEL, inputs: "conf-broken-stream again" }), [500, 502, 503, 504]);
  });

  test("raw SSE framing: text/event-stream, event+data per event, blank-line terminated, no [DONE]", async () => {
    const { rawFetch } = await import("../lib/helpers.mjs");
    const res = await rawFetch("/v1/conversations", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ model: MODEL, inputs: "conf-fc-single Quito", tools: [weatherFn()], stream: true }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/event-stream/);
    const body = await res.text();
    assert.ok(body.endsWith("\n\n"), "the last event is terminated by a blank line");
    assert.ok(!body.includes("[DONE]"), "no [DONE] sentinel on conversation streams");
    const blocks = body.split(/\r?\n\r?\n/).filter((b) => b.trim() !== "");
    let n = 0;
    for (const b of blocks) {
      const lines = b.split(/\r?\n/).filter((l) => !l.startsWith(":"));
      if (lines.length === 0) continue; // keep-alive comment
      const ev = lines.filter((l) => l.startsWith("event:"));
      const data = lines.filter((l) => l.startsWith("data:"));
      assert.equal(ev.length, 1, `one event line: ${b}`);
      assert.equal(data.length, 1, `one data line: ${b}`);
      const d = JSON.parse(data[0].slice(5));
      assert.equal(d.type, ev[0].slice(6).trim());
      n++;
    }
    assert.ok(n >= 3);
  });

  test("store=false stream: conversation_id announced, nothing stored", async () => {
    const s = checkStream(await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: uniq("conf-sns"), store: false })));
    assert.equal(s.outputs.length, 1);
    await expectStatus(c.beta.conversations.get({ conversationId: s.conversationId }), 404);
  });

  test("history after a streamed run has the entries in order", async () => {
    const s = checkStream(
      await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: "conf-fc-single Athens", tools: [weatherFn()] })),
    );
    const h = await history(c, s.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "function.call"]);
    assert.equal(h[1].toolCallId, s.outputs[0].toolCallId);
  });
});
