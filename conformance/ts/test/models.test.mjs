// Models API (client.models) through the official TypeScript SDK.
// Wire contract: shared/API.md §6.3.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { EXPECT_MODELS, badKeyClient, client, expectStatus } from "../lib/helpers.mjs";

const c = client();

function assertBaseCard(m) {
  assert.notEqual(m.type, "UNKNOWN", `model card did not match the SDK schema: ${JSON.stringify(m.raw)}`);
  assert.equal(m.type, "base");
  assert.equal(typeof m.id, "string");
  assert.equal(typeof m.object, "string");
  assert.equal(typeof m.ownedBy, "string");
  assert.equal(typeof m.capabilities, "object");
  assert.equal(typeof m.capabilities.completionChat, "boolean");
  assert.ok(Number.isInteger(m.maxContextLength));
  assert.equal(typeof m.internal, "boolean");
  if (m.created !== undefined) assert.ok(Number.isInteger(m.created));
  if (m.aliases !== undefined) assert.ok(Array.isArray(m.aliases));
}

describe("models", () => {
  test("list contains the configured models as base model cards", async () => {
    const res = await c.models.list();
    assert.equal(typeof res.object, "string");
    assert.ok(Array.isArray(res.data));
    for (const m of res.data) {
      assert.notEqual(m.type, "UNKNOWN", `model card did not match the SDK schema: ${JSON.stringify(m.raw)}`);
    }
    for (const id of EXPECT_MODELS) {
      const m = res.data.find((x) => x.id === id || (x.aliases ?? []).includes(id));
      assert.ok(m, `GET /v1/models must list ${id}; got ${res.data.map((x) => x.id).join(", ")}`);
      assertBaseCard(m);
    }
  });

  test("retrieve returns one model card", async () => {
    for (const id of EXPECT_MODELS) {
      const m = await c.models.retrieve({ modelId: id });
      assertBaseCard(m);
      assert.ok(m.id === id || (m.aliases ?? []).includes(id), `retrieve(${id}) returned ${m.id}`);
    }
  });

  test("retrieve of an unknown model is 404", async () => {
    await expectStatus(c.models.retrieve({ modelId: "no-such-model-conformance" }), 404);
  });

  test("bad API key is 401", async () => {
    await expectStatus(badKeyClient().models.list(), 401);
  });
});
