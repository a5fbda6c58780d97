// Stateless completions through the official TypeScript SDK: client.chat.complete/stream
// and client.agents.complete/stream (POST /v1/chat/completions, /v1/agents/completions).
// Answers come from the fake upstream's script (conformance/upstream-script.yaml).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  MODEL,
  badKeyClient,
  client,
  createAgent,
  expectStatus,
  otherClient,
  rawFetch,
  safeDeleteAgent,
  weatherTool,
} from "../lib/helpers.mjs";

const c = client();

async function collect(stream) {
  const chunks = [];
  for await (const ev of stream) chunks.push(ev.data);
  return chunks;
}

describe("chat completions", () => {
  test("complete: text answer, usage, finish_reason", async () => {
    const res = await c.chat.complete({
      model: MODEL,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "conf-chat hello" }] },
      ],
      temperature: 0.2,
      maxTokens: 64,
    });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.model, MODEL);
    assert.equal(typeof res.id, "string");
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0].finishReason, "stop");
    assert.equal(res.choices[0].message.role, "assistant");
    assert.equal(res.choices[0].message.content, "conf-default: you said conf-chat hello");
    assert.ok(res.usage.totalTokens > 0);
  });

  test("complete with tools: tool call, then the result gives the answer", async () => {
    const tools = [weatherTool("conf_get_weather")];
    const messages = [{ role: "user", content: "conf-fc-single Paris" }];
    const res = await c.chat.complete({ model: MODEL, messages, tools, toolChoice: "any", parallelToolCalls: false });
    const choice = res.choices[0];
    assert.equal(choice.finishReason, "tool_calls");
    const call = choice.message.toolCalls[0];
    assert.equal(call.function.name, "conf_get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), { city: "Paris", unit: "celsius" });
    messages.push(choice.message);
    messages.push({ role: "tool", toolCallId: call.id, name: "conf_get_weather", content: "22C" });
    const res2 = await c.chat.complete({ model: MODEL, messages, tools });
    assert.match(res2.choices[0].message.content, /^conf-fc done: .*22C/);
  });

  test("stream: deltas, then finish_reason and usage in the last chunk", async () => {
    const stream = await c.chat.stream({ model: MODEL, messages: [{ role: "user", content: "conf-chat stream one two three" }] });
    const chunks = await collect(stream);
    assert.ok(chunks.length >= 2);
    const text = chunks.map((ch) => ch.choices[0]?.delta?.content ?? "").join("");
    assert.equal(text, "conf-default: you said conf-chat stream one two three");
    const last = chunks.at(-1);
    assert.equal(last.choices[0].finishReason, "stop");
    assert.ok(last.usage.totalTokens > 0);
    assert.equal(new Set(chunks.map((ch) => ch.id)).size, 1);
  });

  test("stream with tools: the call arrives whole", async () => {
    const stream = await c.chat.stream({
      model: MODEL,
      messages: [{ role: "user", content: "conf-fc-single Rome" }],
      tools: [weatherTool("conf_get_weather")],
    });
    const chunks = await collect(stream);
    const last = chunks.at(-1);
    assert.equal(last.choices[0].finishReason, "tool_calls");
    const call = last.choices[0].delta.toolCalls[0];
    assert.equal(call.function.name, "conf_get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), { city: "Rome", unit: "celsius" });
  });

  test("the raw stream ends with data: [DONE]", async () => {
    const res = await rawFetch("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: "conf-chat raw" }] }),
    });
    assert.equal(res.status, 200);
    const body = await res.text();
    const lines = body.split("\n").filter(Boolean);
    assert.ok(lines.every((l) => l.startsWith("data: ")), body);
    assert.equal(lines.at(-1), "data: [DONE]");
  });

  test("errors: bad body 4xx, no key 401, unrouted model 400, upstream 429 relayed", async () => {
    await expectStatus(c.chat.complete({ model: MODEL, messages: [] }), 422);
    await expectStatus(c.chat.complete({ model: "no-such-model-conf", messages: [{ role: "user", content: "x" }] }), 400);
    await expectStatus(badKeyClient().chat.complete({ model: MODEL, messages: [{ role: "user", content: "x" }] }), 401);
    await expectStatus(
      c.chat.complete({ model: MODEL, messages: [{ role: "user", content: "x" }], tools: [{ type: "web_search" }] }),
      422,
    );
    await expectStatus(c.chat.complete({ model: MODEL, messages: [{ role: "user", content: "conf-ratelimit chat" }] }), 429);
  });
});

describe("agents completions", () => {
  test("complete and stream use the agent's instructions and version", async () => {
    const agent = await createAgent(c, { instructions: "conf-agentc-v0", tools: [weatherTool("conf_get_weather")] });
    try {
      await c.beta.agents.update({ agentId: agent.id, updateAgentRequest: { instructions: "conf-agentc-v1" } });
      const res = await c.agents.complete({ agentId: agent.id, messages: [{ role: "user", content: "conf-show-system" }] });
      assert.equal(res.object, "chat.completion");
      assert.match(res.choices[0].message.content, /system=\[conf-agentc-v1\]/);
      assert.match(res.choices[0].message.content, /tools=\[conf_get_weather\]/);

      const chunks = await collect(await c.agents.stream({ agentId: agent.id, messages: [{ role: "user", content: "conf-show-system" }] }));
      const text = chunks.map((ch) => ch.choices[0]?.delta?.content ?? "").join("");
      assert.match(text, /system=\[conf-agentc-v1\]/);

      const raw = await rawFetch("/v1/agents/completions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ agent_id: agent.id, agent_version: 0, messages: [{ role: "user", content: "conf-show-system" }] }),
      });
      assert.equal(raw.status, 200);
      assert.match((await raw.json()).choices[0].message.content, /system=\[conf-agentc-v0\]/);

      await expectStatus(otherClient().agents.complete({ agentId: agent.id, messages: [{ role: "user", content: "x" }] }), 404);
      await expectStatus(badKeyClient().agents.complete({ agentId: agent.id, messages: [{ role: "user", content: "x" }] }), 401);
      await expectStatus(c.agents.complete({ agentId: agent.id, messages: [] }), 422);
    } finally {
      await safeDeleteAgent(c, agent.id);
    }
  });
});

describe("fim completions", () => {
  test("complete and stream fill the middle", async () => {
    const res = await c.fim.complete({ model: "codestral-latest", prompt: "def add(a, b):", suffix: "return c" });
    assert.equal(res.choices[0].message.content, "fim(b):|return)");
    assert.equal(res.choices[0].finishReason, "stop");
    assert.ok(res.usage.totalTokens > 0);
    const chunks = await collect(await c.fim.stream({ model: "codestral-latest", prompt: "x =", suffix: "y" }));
    assert.equal(chunks.map((ch) => ch.choices[0]?.delta?.content ?? "").join(""), "fim(=|y)");
    await expectStatus(c.fim.complete({ model: "no-such-model-conf", prompt: "x" }), 400);
  });
});
