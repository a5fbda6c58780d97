// Conversations API (client.beta.conversations): start / append / restart / list / get /
// delete / history / messages / store=false / validation, through the official TS SDK.
// Wire contract: shared/API.md §3, §4, §7.4. Model replies come from
// conformance/upstream-script.yaml ("conf-show-system" echoes the system prompt and tools;
// anything else gets "conf-default: you said <input>").

import { describe, test } from "node:test";

import {
  HTTPValidationError,
  createAgent,
  expectStatus,
  randomId,
  uniq,
} from "../lib/helpers.mjs";
import {
  MODEL,
  append,
  assert,
  assertEntry,
  assertResponse,
  client,
  history,
  last,
  startModel,
  textOf,
  upstreamRequests,
  weatherFn,
} from "../lib/conv.mjs";

const c = client();

describe("conversations: start", () => {
  test("model conversation: model + instructions + tools + completion_args + name/description/metadata", async () => {
    const marker = uniq("conf-instr");
    const res = await startModel(c, `conf-show-system ${marker}`, {
      instructions: `You are ${marker}. Answer briefly.`,
      tools: [weatherFn()],
      completionArgs: { temperature: 0.25, maxTokens: 321, topP: 0.5, toolChoice: "auto" },
      name: `name-${marker}`,
      description: `description of ${marker}`,
      metadata: { suite: "ts", marker },
      guardrails: [{ blockOnError: false, moderationLlmV1: { action: "none" } }],
    });
    assertResponse(res);
    assert.ok(res.conversationId.length > 0);
    assert.equal(res.outputs.length, 1);
    const out = res.outputs[0];
    assert.equal(out.type, "message.output");
    assert.equal(out.role, "assistant");
    assert.equal(out.model, MODEL);
    assert.ok(out.agentId == null, "a model conversation's output has no agent_id");
    const text = textOf(out.content);
    assert.ok(text.includes(`You are ${marker}`), `instructions reach the model as the system prompt: ${text}`);
    assert.ok(text.includes("conf_get_weather"), `tools are offered to the model: ${text}`);
    assert.ok(res.usage.totalTokens > 0);

    // completion_args are forwarded upstream (checked on the fake upstream's request log).
    const reqs = await upstreamRequests(marker);
    if (reqs) {
      assert.equal(reqs.length, 1, "one upstream call");
      assert.equal(reqs[0].temperature, 0.25);
      assert.equal(reqs[0].max_tokens, 321);
      assert.equal(reqs[0].top_p, 0.5);
      assert.equal(reqs[0].model, MODEL);
    }

    // get: a ModelConversation that stored everything.
    const g = await c.beta.conversations.get({ conversationId: res.conversationId });
    assert.equal(g.object, "conversation");
    assert.equal(g.id, res.conversationId);
    assert.equal(g.model, MODEL);
    assert.ok(!("agentId" in g) || g.agentId == null, "ModelConversation has no agent_id");
    assert.equal(g.instructions, `You are ${marker}. Answer briefly.`);
    assert.equal(g.name, `name-${marker}`);
    assert.equal(g.description, `description of ${marker}`);
    assert.deepEqual(g.metadata, { suite: "ts", marker });
    assert.equal(g.tools.length, 1);
    assert.equal(g.tools[0].type, "function");
    assert.equal(g.tools[0].function.name, "conf_get_weather");
    assert.equal(g.completionArgs.temperature, 0.25);
    assert.equal(g.completionArgs.maxTokens, 321);
    assert.equal(g.guardrails?.length, 1, "guardrails are stored on the model conversation");
    assert.equal(g.guardrails[0].moderationLlmV1.action, "none");
    assert.ok(g.createdAt instanceof Date && g.updatedAt instanceof Date);
    assert.ok(g.updatedAt.getTime() >= g.createdAt.getTime());
  });

  test("model conversation with only model + inputs (string) and inputs as an entry list", async () => {
    const m = uniq("conf-min");
    const res = await startModel(c, m);
    assertResponse(res);
    assert.equal(textOf(last(res).content), `conf-default: you said ${m}`);

    const m2 = uniq("conf-entries");
    const res2 = await startModel(c, [{ type: "message.input", role: "user", content: m2 }]);
    assertResponse(res2);
    assert.equal(textOf(last(res2).content), `conf-default: you said ${m2}`);
    const h = await history(c, res2.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "message.output"]);
    assert.equal(textOf(h[0].content), m2);
    assert.equal(h[0].role, "user");
  });

  test("agent conversation: agent_id, agent_version as number and as alias", async () => {
    const tag = uniq("conf-ver");
    const a = await createAgent(c, { instructions: `${tag} version-zero`, description: "versioned" });
    const u = await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { instructions: `${tag} version-one` } });
    assert.equal(u.version, 1);
    await c.beta.agents.createVersionAlias({ agentId: a.id, alias: "stable", version: 0 });

    // No version: the active one (1).
    const r1 = await c.beta.conversations.start({ agentId: a.id, inputs: `conf-show-system ${tag}` });
    assertResponse(r1);
    assert.equal(last(r1).type, "message.output");
    assert.equal(last(r1).agentId, a.id, "message.output carries the agent_id");
    assert.equal(last(r1).model, MODEL);
    assert.ok(textOf(last(r1).content).includes(`${tag} version-one`), textOf(last(r1).content));

    // agent_version as a number.
    const r0 = await c.beta.conversations.start({ agentId: a.id, agentVersion: 0, inputs: `conf-show-system ${tag}` });
    assert.ok(textOf(last(r0).content).includes(`${tag} version-zero`), textOf(last(r0).content));
    const g0 = await c.beta.conversations.get({ conversationId: r0.conversationId });
    assert.equal(g0.agentId, a.id);
    assert.equal(Number(g0.agentVersion), 0);
    assert.ok(!("model" in g0) || g0.model == null || typeof g0.model === "string");

    // agent_version as an alias name.
    const ra = await c.beta.conversations.start({ agentId: a.id, agentVersion: "stable", inputs: `conf-show-system ${tag}` });
    assert.ok(textOf(last(ra).content).includes(`${tag} version-zero`), textOf(last(ra).content));
    const ga = await c.beta.conversations.get({ conversationId: ra.conversationId });
    assert.equal(ga.agentId, a.id);
    assert.ok([0, "0", "stable"].includes(ga.agentVersion), `agentVersion ${ga.agentVersion}`);

    // The conversation stays pinned to its version: appending after a new agent version
    // still answers with version 0.
    await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { instructions: `${tag} version-two` } });
    const ap = await append(c, r0.conversationId, { inputs: `conf-show-system ${tag} again` });
    assert.ok(textOf(last(ap).content).includes(`${tag} version-zero`), textOf(last(ap).content));

    // Unknown version / alias → 404 (or 4xx).
    await expectStatus(
      c.beta.conversations.start({ agentId: a.id, agentVersion: 99, inputs: "x" }),
      [400, 404, 422],
      "unknown agent_version",
    );
    await expectStatus(
      c.beta.conversations.start({ agentId: a.id, agentVersion: "no-such-alias", inputs: "x" }),
      [400, 404, 422],
      "unknown alias",
    );
  });

  test("agent conversation: completion_args on start override the agent's for that run", async () => {
    const tag = uniq("conf-argsov");
    const a = await createAgent(c, { completionArgs: { temperature: 0.9, maxTokens: 50 } });
    await c.beta.conversations.start({ agentId: a.id, inputs: tag, completionArgs: { temperature: 0.1 } });
    const reqs = await upstreamRequests(tag);
    if (reqs) {
      assert.equal(reqs.length, 1);
      assert.equal(reqs[0].temperature, 0.1, "the request's completion_args win");
      assert.equal(reqs[0].max_tokens, 50, "the agent's other completion_args stay");
    }
  });

  test("agent conversation with an unknown agent_id is 404", async () => {
    await expectStatus(c.beta.conversations.start({ agentId: "ag_" + randomId().replace(/-/g, ""), inputs: "hi" }), 404);
  });

  test("both agent_id and model, or neither, is 422 HTTPValidationError", async () => {
    const a = await createAgent(c);
    const both = await expectStatus(
      c.beta.conversations.start({ agentId: a.id, model: MODEL, inputs: "conf-both" }),
      422,
      "both agent_id and model",
    );
    assert.ok(both instanceof HTTPValidationError, `expected HTTPValidationError, got ${both.constructor.name}`);
    assert.ok(Array.isArray(both.data$?.detail ?? both.detail ?? []));
    const neither = await expectStatus(c.beta.conversations.start({ inputs: "conf-neither" }), 422, "neither");
    assert.ok(neither instanceof HTTPValidationError, `expected HTTPValidationError, got ${neither.constructor.name}`);
  });

  test("a model name that is not routed is 400", async () => {
    await expectStatus(startModel(c, "conf-unrouted", { model: "conf-no-such-model-" + uniq() }), 400);
  });

  test("store=false: the run answers, the returned id then 404s", async () => {
    const m = uniq("conf-nostore");
    const res = await startModel(c, m, { store: false });
    assertResponse(res);
    assert.equal(textOf(last(res).content), `conf-default: you said ${m}`);
    await expectStatus(c.beta.conversations.get({ conversationId: res.conversationId }), 404, "get after store=false");
    await expectStatus(c.beta.conversations.getHistory({ conversationId: res.conversationId }), 404);
  });
});

describe("conversations: append / history / messages", () => {
  test("append continues the same conversation; history and messages are in order", async () => {
    const m1 = uniq("conf-turn1");
    const m2 = uniq("conf-turn2");
    const r1 = await startModel(c, m1);
    const r2 = await append(c, r1.conversationId, { inputs: m2 });
    assertResponse(r2);
    assert.equal(r2.conversationId, r1.conversationId, "append keeps the conversation_id");
    assert.equal(r2.outputs.length, 1);
    assert.equal(textOf(last(r2).content), `conf-default: you said ${m2}`);
    assert.notEqual(last(r2).id, last(r1).id);

    // The model saw the whole history.
    const reqs = await upstreamRequests(m2);
    if (reqs) {
      const msgs = reqs[reqs.length - 1].messages;
      assert.deepEqual(
        msgs.map((m) => m.role),
        ["user", "assistant", "user"],
        `upstream messages: ${JSON.stringify(msgs)}`,
      );
    }

    const h = await history(c, r1.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "message.output", "message.input", "message.output"]);
    assert.equal(textOf(h[0].content), m1);
    assert.equal(textOf(h[2].content), m2);
    assert.equal(h[1].id, r1.outputs[0].id, "history ids equal the response ids");
    assert.equal(h[3].id, r2.outputs[0].id);
    for (let i = 1; i < h.length; i++) {
      assert.ok(h[i].createdAt.getTime() >= h[i - 1].createdAt.getTime(), "entries in creation order");
    }
    assert.equal(new Set(h.map((e) => e.id)).size, h.length, "entry ids are unique");

    const msgs = await c.beta.conversations.getMessages({ conversationId: r1.conversationId });
    assert.equal(msgs.object, "conversation.messages");
    assert.equal(msgs.conversationId, r1.conversationId);
    assert.deepEqual(msgs.messages.map((e) => e.type), ["message.input", "message.output", "message.input", "message.output"]);
    for (const e of msgs.messages) assertEntry(e, ["message.input", "message.output"]);
    assert.deepEqual(msgs.messages.map((e) => e.id), h.map((e) => e.id));
  });

  test("append with an explicit store/handoff_execution and entry-list inputs", async () => {
    const r1 = await startModel(c, uniq("conf-a1"));
    const m = uniq("conf-a2");
    const r2 = await append(c, r1.conversationId, {
      inputs: [{ type: "message.input", role: "user", content: [{ type: "text", text: m }] }],
      store: true,
      handoffExecution: "server",
    });
    assert.equal(textOf(last(r2).content), `conf-default: you said ${m}`);
  });

  test("inputs may hold other entry types (a prior message.output) and chunk content (text + image_url)", async () => {
    const m = uniq("conf-multi");
    const img = "data:image/png;base64,iVBORw0KGgo=";
    const res = await startModel(c, [
      { type: "message.input", role: "user", content: `${m} first` },
      { type: "message.output", role: "assistant", content: `${m} earlier answer` },
      { type: "message.input", role: "user", content: [{ type: "text", text: `${m} look` }, { type: "image_url", imageUrl: img }] },
    ]);
    assertResponse(res);
    assert.equal(textOf(last(res).content), `conf-default: you said ${m} look`);
    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "message.output", "message.input", "message.output"]);
    assert.equal(textOf(h[1].content), `${m} earlier answer`);
    const chunks = h[2].content;
    assert.ok(Array.isArray(chunks), "chunk content is kept as chunks");
    assert.deepEqual(chunks.map((x) => x.type), ["text", "image_url"]);
    const url = typeof chunks[1].imageUrl === "string" ? chunks[1].imageUrl : chunks[1].imageUrl.url;
    assert.equal(url, img);
    const reqs = await upstreamRequests(`${m} earlier answer`);
    if (reqs) {
      assert.deepEqual(reqs[0].messages.map((x) => x.role), ["user", "assistant", "user"]);
    }
  });

  test("updated_at moves forward when the conversation is appended to", async () => {
    const r = await startModel(c, uniq("conf-upd"));
    const g1 = await c.beta.conversations.get({ conversationId: r.conversationId });
    await new Promise((res) => setTimeout(res, 20));
    await append(c, r.conversationId, { inputs: uniq("conf-upd2") });
    const g2 = await c.beta.conversations.get({ conversationId: r.conversationId });
    assert.equal(g2.createdAt.getTime(), g1.createdAt.getTime());
    assert.ok(g2.updatedAt.getTime() > g1.updatedAt.getTime(), `${g1.updatedAt.toISOString()} -> ${g2.updatedAt.toISOString()}`);
  });

  test("append with store=false answers but does not persist the new entries", async () => {
    const r1 = await startModel(c, uniq("conf-ns1"));
    const r2 = await append(c, r1.conversationId, { inputs: uniq("conf-ns2"), store: false });
    assertResponse(r2);
    const h = await history(c, r1.conversationId);
    assert.equal(h.length, 2, `append with store=false must not add entries: ${h.map((e) => e.type)}`);
  });

  test("append, history, messages, restart on an unknown conversation are 404", async () => {
    const id = "conv_" + randomId().replace(/-/g, "");
    await expectStatus(append(c, id, { inputs: "x" }), 404, "append");
    await expectStatus(c.beta.conversations.get({ conversationId: id }), 404, "get");
    await expectStatus(c.beta.conversations.getHistory({ conversationId: id }), 404, "history");
    await expectStatus(c.beta.conversations.getMessages({ conversationId: id }), 404, "messages");
    await expectStatus(
      c.beta.conversations.restart({ conversationId: id, conversationRestartRequest: { fromEntryId: "msg_x", inputs: "x" } }),
      404,
      "restart",
    );
    await expectStatus(c.beta.conversations.delete({ conversationId: id }), 404, "delete");
  });
});

describe("conversations: concurrency", () => {
  test("a second run on a conversation that is still running is 409", async () => {
    const r = await startModel(c, uniq("conf-busy"));
    const slow = append(c, r.conversationId, { inputs: "conf-slow please" });
    await new Promise((res) => setTimeout(res, 300));
    await expectStatus(append(c, r.conversationId, { inputs: "conf-busy second" }), 409, "concurrent append");
    const done = await slow;
    assert.equal(textOf(last(done).content), "conf-slow done");
    // Once the run is over, appending works again.
    const after = await append(c, r.conversationId, { inputs: uniq("conf-busy-after") });
    assert.equal(after.conversationId, r.conversationId);
  });
});

describe("conversations: restart", () => {
  test("restart copies history up to and including from_entry_id into a new conversation", async () => {
    const m1 = uniq("conf-r1");
    const m2 = uniq("conf-r2");
    const m3 = uniq("conf-r3");
    const r1 = await startModel(c, m1, { metadata: { origin: "source" }, name: "restart-source" });
    const r2 = await append(c, r1.conversationId, { inputs: m2 });
    const from = r1.outputs[0].id; // the first assistant answer

    const rr = await c.beta.conversations.restart({
      conversationId: r1.conversationId,
      conversationRestartRequest: { fromEntryId: from, inputs: m3, metadata: { origin: "restart" } },
    });
    assertResponse(rr);
    assert.notEqual(rr.conversationId, r1.conversationId, "restart returns a new conversation_id");
    assert.equal(textOf(last(rr).content), `conf-default: you said ${m3}`);

    const h = await history(c, rr.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "message.output", "message.input", "message.output"]);
    assert.equal(textOf(h[0].content), m1);
    assert.equal(textOf(h[1].content), `conf-default: you said ${m1}`);
    assert.equal(textOf(h[2].content), m3);
    assert.equal(h[3].id, rr.outputs[0].id);

    // The model saw only the copied history: not m2.
    const reqs = await upstreamRequests(m3);
    if (reqs) assert.ok(!JSON.stringify(reqs[reqs.length - 1].messages).includes(m2), "restart drops later entries");

    // The source is untouched.
    const hs = await history(c, r1.conversationId);
    assert.equal(hs.length, 4);
    assert.equal(hs[3].id, r2.outputs[0].id);

    // The new conversation is a normal conversation (get, append) with the restart's metadata.
    const g = await c.beta.conversations.get({ conversationId: rr.conversationId });
    assert.equal(g.id, rr.conversationId);
    assert.equal(g.model, MODEL);
    assert.deepEqual(g.metadata, { origin: "restart" });
    const a = await append(c, rr.conversationId, { inputs: uniq("conf-r4") });
    assert.equal(a.conversationId, rr.conversationId);
  });

  test("restart of an agent conversation keeps the agent; from a message.input entry", async () => {
    const tag = uniq("conf-rag");
    const a = await createAgent(c, { instructions: `${tag} restart-agent` });
    const r1 = await c.beta.conversations.start({ agentId: a.id, inputs: `conf-show-system ${tag}` });
    const h1 = await history(c, r1.conversationId);
    const rr = await c.beta.conversations.restart({
      conversationId: r1.conversationId,
      conversationRestartRequest: { fromEntryId: h1[0].id, inputs: `conf-show-system ${tag} again` },
    });
    assertResponse(rr);
    assert.notEqual(rr.conversationId, r1.conversationId);
    assert.equal(last(rr).agentId, a.id);
    const g = await c.beta.conversations.get({ conversationId: rr.conversationId });
    assert.equal(g.agentId, a.id);
    const h = await history(c, rr.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "message.input", "message.output"]);
  });

  test("restart with agent_version runs the restarted conversation on that version", async () => {
    const tag = uniq("conf-rver");
    const a = await createAgent(c, { instructions: `${tag} version-zero` });
    await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { instructions: `${tag} version-one` } });
    const r1 = await c.beta.conversations.start({ agentId: a.id, agentVersion: 0, inputs: `conf-show-system ${tag}` });
    assert.ok(textOf(last(r1).content).includes("version-zero"));
    const rr = await c.beta.conversations.restart({
      conversationId: r1.conversationId,
      conversationRestartRequest: { fromEntryId: r1.outputs[0].id, inputs: `conf-show-system ${tag} v1`, agentVersion: 1 },
    });
    assert.ok(textOf(last(rr).content).includes(`${tag} version-one`), textOf(last(rr).content));
    const g = await c.beta.conversations.get({ conversationId: rr.conversationId });
    assert.equal(Number(g.agentVersion), 1);
  });

  test("restart from a message.input without new inputs answers that message again", async () => {
    const m = uniq("conf-rnoin");
    const r1 = await startModel(c, m);
    const h1 = await history(c, r1.conversationId);
    const rr = await c.beta.conversations.restart({
      conversationId: r1.conversationId,
      conversationRestartRequest: { fromEntryId: h1[0].id },
    });
    assertResponse(rr);
    assert.equal(textOf(last(rr).content), `conf-default: you said ${m}`);
    const h = await history(c, rr.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "message.output"]);
    assert.notEqual(h[1].id, h1[1].id);
  });

  test("restart with an unknown from_entry_id is 4xx", async () => {
    const r1 = await startModel(c, uniq("conf-rbad"));
    await expectStatus(
      c.beta.conversations.restart({
        conversationId: r1.conversationId,
        conversationRestartRequest: { fromEntryId: "msg_doesnotexist", inputs: "x" },
      }),
      [400, 404, 422],
    );
  });
});

describe("conversations: list / get / delete", () => {
  test("list: metadata filter, newest first, page/page_size", async () => {
    const tag = uniq("conf-list");
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await startModel(c, `${tag}-${i}`, { metadata: { listTag: tag, i } });
      ids.push(r.conversationId);
      await new Promise((res) => setTimeout(res, 15));
    }
    // An agent conversation with the same tag: list returns both shapes.
    const a = await createAgent(c);
    const ra = await c.beta.conversations.start({ agentId: a.id, inputs: `${tag}-agent`, metadata: { listTag: tag, i: 3 } });
    ids.push(ra.conversationId);

    const all = await c.beta.conversations.list({ pageSize: 100, metadata: { listTag: tag } });
    assert.ok(Array.isArray(all));
    assert.deepEqual(all.map((x) => x.id), [...ids].reverse(), "filtered by metadata, newest first");
    for (const x of all) {
      assert.equal(x.object, "conversation");
      assert.ok(x.createdAt instanceof Date);
    }
    assert.equal(all[0].agentId, a.id, "agent conversation in the list has agent_id");
    assert.equal(all[1].model, MODEL, "model conversation in the list has model");
    assert.equal(all[1].metadata.i, 2);

    const p0 = await c.beta.conversations.list({ page: 0, pageSize: 3, metadata: { listTag: tag } });
    const p1 = await c.beta.conversations.list({ page: 1, pageSize: 3, metadata: { listTag: tag } });
    assert.deepEqual(p0.map((x) => x.id), [...ids].reverse().slice(0, 3));
    assert.deepEqual(p1.map((x) => x.id), [ids[0]]);
    const p2 = await c.beta.conversations.list({ page: 2, pageSize: 3, metadata: { listTag: tag } });
    assert.deepEqual(p2, []);

    // A second metadata key narrows further.
    const one = await c.beta.conversations.list({ metadata: { listTag: tag, i: 1 } });
    assert.deepEqual(one.map((x) => x.id), [ids[1]]);

    // No filter (SDK defaults page=0, page_size=100): parses, every item is a conversation.
    const unfiltered = await c.beta.conversations.list();
    assert.ok(Array.isArray(unfiltered));
    for (const x of unfiltered) assert.ok(typeof x.model === "string" || typeof x.agentId === "string");
  });

  test("list is per workspace", async () => {
    const tag = uniq("conf-ws");
    await startModel(c, tag, { metadata: { wsTag: tag } });
    const { otherClient } = await import("../lib/helpers.mjs");
    const other = await otherClient().beta.conversations.list({ metadata: { wsTag: tag } });
    assert.deepEqual(other, []);
  });

  test("get returns AgentConversation vs ModelConversation shapes", async () => {
    const a = await createAgent(c);
    const ra = await c.beta.conversations.start({ agentId: a.id, inputs: uniq("conf-ga"), name: "agent conv", description: "d" });
    const rm = await startModel(c, uniq("conf-gm"), { instructions: "conf-gm instructions" });
    const ga = await c.beta.conversations.get({ conversationId: ra.conversationId });
    const gm = await c.beta.conversations.get({ conversationId: rm.conversationId });
    assert.equal(ga.agentId, a.id);
    assert.equal(ga.name, "agent conv");
    assert.equal(ga.description, "d");
    assert.equal(Number(ga.agentVersion), 0);
    assert.ok(!("model" in ga), "AgentConversation (TS) has no model key");
    assert.equal(gm.model, MODEL);
    assert.equal(gm.instructions, "conf-gm instructions");
    assert.ok(!("agentId" in gm), "ModelConversation (TS) has no agentId key");
    // Another workspace cannot see it.
    const { otherClient } = await import("../lib/helpers.mjs");
    await expectStatus(otherClient().beta.conversations.get({ conversationId: ra.conversationId }), 404);
  });

  test("delete is 204, then get/history/append are 404", async () => {
    const r = await startModel(c, uniq("conf-del"));
    const out = await c.beta.conversations.delete({ conversationId: r.conversationId });
    assert.equal(out, undefined);
    await expectStatus(c.beta.conversations.get({ conversationId: r.conversationId }), 404, "get after delete");
    await expectStatus(c.beta.conversations.getHistory({ conversationId: r.conversationId }), 404, "history after delete");
    await expectStatus(c.beta.conversations.getMessages({ conversationId: r.conversationId }), 404, "messages after delete");
    await expectStatus(append(c, r.conversationId, { inputs: "x" }), 404, "append after delete");
    await expectStatus(c.beta.conversations.delete({ conversationId: r.conversationId }), 404, "second delete");
  });
});
