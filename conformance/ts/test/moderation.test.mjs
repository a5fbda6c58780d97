// Moderation (client.classifiers.moderate / moderateChat) and guardrails through the
// official TypeScript SDK. The fake upstream's moderation model flags "conf-unsafe"
// (violence_and_threats) and "flag-<category>"; see conformance/run.sh.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MODEL, badKeyClient, client, createAgent, expectStatus, safeDeleteAgent } from "../lib/helpers.mjs";

const c = client();
const guard = [
  {
    blockOnError: false,
    moderationLlmV2: { modelName: "mistral-moderation-2603", customCategoryThresholds: { violenceAndThreats: 0.5 }, ignoreOtherCategories: false },
  },
];

describe("moderation", () => {
  test("moderate: one result per input", async () => {
    const res = await c.classifiers.moderate({ model: "mistral-moderation-latest", inputs: ["hello", "conf-unsafe words"] });
    assert.equal(res.model, "mistral-moderation-latest");
    assert.equal(res.results.length, 2);
    assert.equal(res.results[0].categories.violence_and_threats, false);
    assert.equal(res.results[1].categories.violence_and_threats, true);
    assert.ok(res.results[1].categoryScores.violence_and_threats > 0.5);
  });

  test("moderateChat: one result per conversation", async () => {
    const res = await c.classifiers.moderateChat({
      model: "mistral-moderation-latest",
      inputs: [{ role: "user", content: "please flag-pii" }],
    });
    assert.equal(res.results.length, 1);
    assert.equal(res.results[0].categories.pii, true);
  });

  test("no key: 401", async () => {
    await expectStatus(badKeyClient().classifiers.moderate({ model: "m", inputs: "x" }), 401);
  });
});

describe("guardrails", () => {
  test("chat completion: a flagged input is blocked with 403, a clean one answers", async () => {
    const err = await expectStatus(
      c.chat.complete({ model: MODEL, messages: [{ role: "user", content: "conf-unsafe chat" }], guardrails: guard }),
      403,
    );
    assert.match(String(err.body), /violence_and_threats/);
    const ok = await c.chat.complete({ model: MODEL, messages: [{ role: "user", content: "conf-guard fine" }], guardrails: guard });
    assert.equal(ok.choices[0].finishReason, "stop");
  });

  test("agent guardrails: conversation blocked with 403, clean input reports them", async () => {
    const agent = await createAgent(c, { guardrails: guard });
    try {
      await expectStatus(c.beta.conversations.start({ agentId: agent.id, inputs: "conf-unsafe agent" }), 403);
      const res = await c.beta.conversations.start({ agentId: agent.id, inputs: "conf-guard hello" });
      assert.ok(Array.isArray(res.guardrails) && res.guardrails.length === 1, JSON.stringify(res.guardrails));
      assert.equal(res.guardrails[0].blocked, false);
      await expectStatus(
        c.beta.conversations.append({ conversationId: res.conversationId, conversationAppendRequest: { inputs: "conf-unsafe later" } }),
        403,
      );
      await expectStatus(c.agents.complete({ agentId: agent.id, messages: [{ role: "user", content: "conf-unsafe" }] }), 403);
    } finally {
      await safeDeleteAgent(c, agent.id);
    }
  });
});

describe("moderation over raw HTTP", () => {
  test("a body without input is a 422", async () => {
    const { rawFetch } = await import("../lib/helpers.mjs");
    const res = await rawFetch("/v1/moderations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "mistral-moderation-latest" }),
    });
    assert.equal(res.status, 422);
    const body = await res.json();
    assert.equal(body.object, "error");
    assert.deepEqual(body.detail[0].loc, ["body", "input"]);
  });
});
