// Error responses at the wire level (raw fetch) and as the TypeScript SDK surfaces them.
// Wire contract: shared/API.md §0.4, §0.5.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  KEY,
  MODEL,
  MistralError,
  badKeyClient,
  client,
  expectStatus,
  rawFetch,
  uniq,
} from "../lib/helpers.mjs";

async function jsonBody(res) {
  const ct = res.headers.get("content-type") ?? "";
  assert.match(ct, /^application\/json\b/i, `Content-Type must be application/json, got ${JSON.stringify(ct)}`);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`body is not JSON: ${text.slice(0, 200)}`);
  }
}

function assertMistralErrorBody(body) {
  assert.equal(typeof body, "object");
  assert.equal(body.object, "error");
  assert.equal(typeof body.message, "string");
  assert.ok(body.message.length > 0);
}

describe("errors: 401", () => {
  test("bad key: 401 with a JSON Mistral-shaped body", async () => {
    for (const path of ["/v1/models", "/v1/agents", "/v1/files"]) {
      const res = await rawFetch(path, { key: "definitely-not-a-key" });
      assert.equal(res.status, 401, `${path}`);
      assertMistralErrorBody(await jsonBody(res));
    }
  });

  test("missing Authorization header: 401 JSON", async () => {
    const res = await rawFetch("/v1/agents", { key: null });
    assert.equal(res.status, 401);
    assertMistralErrorBody(await jsonBody(res));
  });

  test("malformed Authorization header: 401 JSON", async () => {
    const res = await rawFetch("/v1/agents", { key: null, headers: { Authorization: "Basic Zm9vOmJhcg==" } });
    assert.equal(res.status, 401);
    assertMistralErrorBody(await jsonBody(res));
  });

  test("SDK surfaces 401 as MistralError with statusCode and raw body", async () => {
    const err = await expectStatus(badKeyClient().beta.agents.list(), 401);
    assert.ok(err instanceof MistralError);
    const body = JSON.parse(err.body);
    assertMistralErrorBody(body);
  });
});

describe("errors: 404 / 422 bodies", () => {
  test("unknown agent: 404 with a JSON Mistral-shaped body", async () => {
    const res = await rawFetch(`/v1/agents/ag_${"e".repeat(32)}`);
    assert.equal(res.status, 404);
    assertMistralErrorBody(await jsonBody(res));
  });

  test("unknown file: 404 with a JSON Mistral-shaped body", async () => {
    const res = await rawFetch(`/v1/files/${crypto.randomUUID()}`);
    assert.equal(res.status, 404);
    assertMistralErrorBody(await jsonBody(res));
  });

  test("422 body is {detail:[{loc,msg,type}]} (or has no detail)", async () => {
    const res = await rawFetch("/v1/agents", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        model: MODEL,
        name: uniq("raw422"),
        tools: [{ type: "function", function: { name: "f", parameters: { type: "banana" } } }],
      }),
    });
    assert.equal(res.status, 422);
    const body = await jsonBody(res);
    if (body.detail !== undefined) {
      assert.ok(Array.isArray(body.detail), "detail must be an array");
      assert.ok(body.detail.length > 0);
      for (const d of body.detail) {
        assert.ok(Array.isArray(d.loc));
        for (const p of d.loc) assert.ok(typeof p === "string" || Number.isInteger(p));
        assert.equal(typeof d.msg, "string");
        assert.equal(typeof d.type, "string");
      }
    }
  });

  test("malformed JSON body is a 4xx JSON error", async () => {
    const res = await rawFetch("/v1/agents", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    assert.ok(res.status === 400 || res.status === 422, `got ${res.status}`);
    const body = await jsonBody(res);
    if (res.status === 400) assertMistralErrorBody(body);
    else if (body.detail !== undefined) assert.ok(Array.isArray(body.detail));
  });
});

describe("errors: health", () => {
  test("GET /healthz is 200 without a key", async () => {
    const res = await rawFetch("/healthz", { key: null });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  test("a valid key is accepted on a raw request", async () => {
    const res = await rawFetch("/v1/models", { key: KEY });
    assert.equal(res.status, 200);
    const body = await jsonBody(res);
    assert.ok(Array.isArray(body.data));
    // sanity: the SDK agrees
    const list = await client().models.list();
    assert.equal(list.data.length, body.data.length);
  });
});
