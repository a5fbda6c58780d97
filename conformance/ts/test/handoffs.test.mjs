// Handoffs between agents through the official TS SDK.
// Wire contract: shared/API.md §4 (agent.handoff), §7.3.
// Script rules (conformance/upstream-script.yaml): an agent whose instructions contain
// "conf-ho-router-marker" hands off to the agent named "conf-ho-specialist" on
// "conf-ho-server"/"conf-ho-client" and to "conf-ho-fn-agent" on "conf-ho-fn";
// "conf-ho-specialist" answers anything; "conf-ho-fn-agent" calls conf_ho_lookup first.

import { describe, test } from "node:test";

import { createAgent, expectStatus, uniq } from "../lib/helpers.mjs";
import {
  MODEL,
  append,
  assert,
  assertResponse,
  client,
  fnTool,
  history,
  last,
  resultsFor,
  textOf,
} from "../lib/conv.mjs";

const c = client();

const SPECIALIST_REPLY = "conf-ho specialist here: your request is handled.";

async function chain() {
  const specialist = await createAgent(c, {
    name: "conf-ho-specialist",
    instructions: "conf-ho-specialist-marker: you handle the requests routed to you.",
    description: "Handles routed requests",
  });
  const router = await createAgent(c, {
    name: uniq("conf-ho-router"),
    instructions: "conf-ho-router-marker: route every request.",
    handoffs: [specialist.id],
  });
  return { router, specialist };
}

function assertHandoff(h, from, to) {
  assert.equal(h.type, "agent.handoff");
  assert.equal(h.object, "entry");
  assert.equal(h.previousAgentId, from.id);
  assert.equal(h.previousAgentName, from.name);
  assert.equal(h.nextAgentId, to.id);
  assert.equal(h.nextAgentName, to.name);
  assert.ok(h.id.length > 0);
}

describe("handoffs", () => {
  test("server mode: A hands off to B, B answers; outputs are agent.handoff then B's message.output", async () => {
    const { router, specialist } = await chain();
    const res = await c.beta.conversations.start({ agentId: router.id, inputs: "conf-ho-server please" });
    assertResponse(res);
    assert.deepEqual(res.outputs.map((o) => o.type), ["agent.handoff", "message.output"]);
    assertHandoff(res.outputs[0], router, specialist);
    const msg = res.outputs[1];
    assert.equal(msg.agentId, specialist.id, "the answer comes from the next agent");
    assert.equal(msg.model, MODEL);
    assert.equal(textOf(msg.content), SPECIALIST_REPLY);

    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "agent.handoff", "message.output"]);
    assert.equal(h[1].id, res.outputs[0].id);

    // The conversation belongs to A; the next turn continues with B.
    const g = await c.beta.conversations.get({ conversationId: res.conversationId });
    assert.equal(g.agentId, router.id);
    const next = await append(c, res.conversationId, { inputs: "conf-ho-followup anything" });
    assert.equal(last(next).agentId, specialist.id);
    assert.equal(textOf(last(next).content), SPECIALIST_REPLY);
  });

  test("handoff_execution=server given explicitly behaves the same", async () => {
    const { router, specialist } = await chain();
    const res = await c.beta.conversations.start({ agentId: router.id, inputs: "conf-ho-server explicit", handoffExecution: "server" });
    assert.deepEqual(res.outputs.map((o) => o.type), ["agent.handoff", "message.output"]);
    assert.equal(last(res).agentId, specialist.id);
  });

  test("client mode: the run stops at agent.handoff; the next append continues with B", async () => {
    const { router, specialist } = await chain();
    const res = await c.beta.conversations.start({ agentId: router.id, inputs: "conf-ho-client please", handoffExecution: "client" });
    assertResponse(res);
    assert.deepEqual(res.outputs.map((o) => o.type), ["agent.handoff"], "stops at the handoff");
    assertHandoff(res.outputs[0], router, specialist);

    const next = await append(c, res.conversationId, { inputs: "conf-ho-continue go on", handoffExecution: "client" });
    assertResponse(next);
    assert.equal(next.conversationId, res.conversationId);
    assert.deepEqual(next.outputs.map((o) => o.type), ["message.output"]);
    assert.equal(last(next).agentId, specialist.id);
    assert.equal(textOf(last(next).content), SPECIALIST_REPLY);
    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "agent.handoff", "message.input", "message.output"]);
  });

  test("handoff to an agent whose function runs client-side ends with function.call; the result continues with that agent", async () => {
    const fnAgent = await createAgent(c, {
      name: "conf-ho-fn-agent",
      instructions: "conf-ho-fn-marker: look orders up.",
      tools: [fnTool("conf_ho_lookup", { order_id: { type: "string" } })],
    });
    const router = await createAgent(c, {
      name: uniq("conf-ho-router"),
      instructions: "conf-ho-router-marker: route every request.",
      handoffs: [fnAgent.id],
    });
    const res = await c.beta.conversations.start({ agentId: router.id, inputs: "conf-ho-fn where is my order" });
    assertResponse(res);
    assert.deepEqual(res.outputs.map((o) => o.type), ["agent.handoff", "function.call"]);
    assertHandoff(res.outputs[0], router, fnAgent);
    const call = res.outputs[1];
    assert.equal(call.name, "conf_ho_lookup");
    assert.equal(call.agentId, fnAgent.id);
    assert.deepEqual(JSON.parse(call.arguments), { order_id: "A-42" });

    const fin = await append(c, res.conversationId, { inputs: resultsFor([call], () => "shipped") });
    assertResponse(fin);
    assert.deepEqual(fin.outputs.map((o) => o.type), ["message.output"]);
    assert.equal(last(fin).agentId, fnAgent.id);
    assert.equal(textOf(last(fin).content), "conf-ho-fn final: the lookup returned shipped");
  });

  test("an agent without the target in its handoffs cannot hand off (the model is told, no agent.handoff)", async () => {
    const lonely = await createAgent(c, {
      name: uniq("conf-ho-router"),
      instructions: "conf-ho-router-marker: route every request.",
    });
    const res = await c.beta.conversations.start({ agentId: lonely.id, inputs: "conf-ho-server nowhere to go" });
    assertResponse(res);
    assert.ok(!res.outputs.some((o) => o.type === "agent.handoff"));
    assert.equal(last(res).type, "message.output");
    assert.equal(last(res).agentId, lonely.id);
  });

  test("handoffs to an unknown agent id are rejected when the agent is created", async () => {
    await expectStatus(
      createAgent(c, { handoffs: ["ag_00000000000000000000000000000000"] }),
      [400, 404, 422],
      "unknown handoff target",
    );
  });
});
