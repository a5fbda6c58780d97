// Shared helpers for the TypeScript-SDK conformance suites.
//
// The server is started by ../../run.sh, which exports:
//   TRAMONTANE_URL        base URL of the running server, e.g. http://127.0.0.1:PORT
//   TRAMONTANE_KEY        API key of the default workspace (bootstrap key)
//   TRAMONTANE_OTHER_KEY  API key of a second workspace (cross-workspace 404 tests)
// Optional:
//   TRAMONTANE_MODEL            model name used to create agents (default mistral-medium-latest)
//   TRAMONTANE_EXPECT_MODELS    comma-separated model ids that GET /v1/models must list
//                               (default: TRAMONTANE_MODEL)

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";

import { Mistral } from "@mistralai/mistralai";
import {
  HTTPValidationError,
  MistralError,
  ResponseValidationError,
  SDKValidationError,
} from "@mistralai/mistralai/models/errors";

function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set: run these suites through conformance/run.sh ` +
        `(or export TRAMONTANE_URL, TRAMONTANE_KEY and TRAMONTANE_OTHER_KEY yourself)`,
    );
  }
  return v;
}

export const URL_BASE = requireEnv("TRAMONTANE_URL").replace(/\/+$/, "");
export const KEY = requireEnv("TRAMONTANE_KEY");
export const OTHER_KEY = requireEnv("TRAMONTANE_OTHER_KEY");
export const MODEL = process.env.TRAMONTANE_MODEL || "mistral-medium-latest";
export const EXPECT_MODELS = (process.env.TRAMONTANE_EXPECT_MODELS || MODEL)
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);

export { HTTPValidationError, MistralError, ResponseValidationError, SDKValidationError };

/** An SDK client for the given key (default: the main workspace). No retries. */
export function client(apiKey = KEY) {
  return new Mistral({ apiKey, serverURL: URL_BASE, timeoutMs: 30000 });
}

/** Client for the second workspace. */
export function otherClient() {
  return client(OTHER_KEY);
}

/** Client with a key the server never issued. */
export function badKeyClient() {
  return client("tr-not-a-real-key-" + randomBytes(8).toString("hex"));
}

/** Unique, lower-case name for test resources: prefix-<time>-<random>. */
export function uniq(prefix = "conf") {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** A random UUID (ids that certainly do not exist). */
export function randomId() {
  return randomUUID();
}

/**
 * Await `promise`, expect it to reject with a MistralError (SDKError / HTTPValidationError)
 * whose statusCode satisfies `expected` (a number, an array of numbers, or "4xx").
 * Returns the error for further assertions.
 */
export async function expectStatus(promise, expected, what = "") {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (!(err instanceof MistralError)) {
      // Re-throw response-validation and transport errors with their own message:
      // they mean the server answered something the SDK could not parse.
      err.message = `${what ? what + ": " : ""}expected an HTTP error ${JSON.stringify(expected)}, ` +
        `got ${err.constructor?.name}: ${err.message}`;
      throw err;
    }
    const sc = err.statusCode;
    const prefix = `${what ? what + ": " : ""}status ${sc} (body: ${String(err.body).slice(0, 300)})`;
    if (expected === "4xx") {
      assert.ok(sc >= 400 && sc < 500, `${prefix}; expected 4xx`);
    } else if (Array.isArray(expected)) {
      assert.ok(expected.includes(sc), `${prefix}; expected one of ${expected.join(",")}`);
    } else {
      assert.equal(sc, expected, `${prefix}; expected ${expected}`);
    }
    return err;
  }
  assert.fail(
    `${what ? what + ": " : ""}expected an HTTP error ${JSON.stringify(expected)}, got success: ` +
      JSON.stringify(result)?.slice(0, 300),
  );
}

/** Raw fetch against the server (for wire-level checks the SDK hides). */
export async function rawFetch(path, { key = KEY, method = "GET", headers = {}, body } = {}) {
  const h = { ...headers };
  if (key != null) h.Authorization = `Bearer ${key}`;
  return fetch(URL_BASE + path, { method, headers: h, body });
}

/** Read a ReadableStream<Uint8Array> (e.g. files.download) fully into a Buffer. */
export async function readStream(stream) {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

/** Assert the invariants every Agent object must satisfy (beyond the SDK's zod schema). */
export function assertAgent(a) {
  assert.equal(a.object, "agent");
  assert.equal(typeof a.id, "string");
  assert.ok(a.id.length > 0);
  assert.equal(typeof a.model, "string");
  assert.equal(typeof a.name, "string");
  assert.ok(Number.isInteger(a.version));
  assert.ok(Array.isArray(a.versions));
  assert.ok(a.versions.includes(a.version), `versions ${a.versions} must include ${a.version}`);
  assert.ok(a.createdAt instanceof Date && !isNaN(a.createdAt));
  assert.ok(a.updatedAt instanceof Date && !isNaN(a.updatedAt));
  assert.equal(typeof a.deploymentChat, "boolean");
  assert.equal(typeof a.source, "string");
  if (a.tools !== undefined) {
    assert.ok(Array.isArray(a.tools));
    for (const t of a.tools) {
      assert.notEqual(t.type, "UNKNOWN", `tool did not match any SDK schema: ${JSON.stringify(t.raw)}`);
    }
  }
}

/** Sorted copy of a numeric array. */
export function sortedNums(xs) {
  return [...xs].sort((a, b) => a - b);
}

/** A function tool with a valid JSON-schema parameters object. */
export function weatherTool(name = "get_weather") {
  return {
    type: "function",
    function: {
      name,
      description: "Get the current weather for a city",
      parameters: {
        type: "object",
        properties: {
          city: { type: "string", description: "City name" },
          unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        },
        required: ["city"],
        additionalProperties: false,
      },
    },
  };
}

/** Create an agent with sensible defaults; `overrides` are merged into the request. */
export async function createAgent(c, overrides = {}) {
  return c.beta.agents.create({
    model: MODEL,
    name: uniq("agent"),
    instructions: "You are a helpful conformance-test agent.",
    ...overrides,
  });
}

/** Best-effort delete (cleanup); never throws. */
export async function safeDeleteAgent(c, agentId) {
  try {
    await c.beta.agents.delete({ agentId });
  } catch {
    // ignore
  }
}

/**
 * An id to put in a document_library tool's library_ids: a real library of the client's
 * workspace (the Libraries API must answer; shared/API.md §8).
 */
export async function libraryIdForTests(c) {
  const lib = await c.beta.libraries.create({ name: uniq("lib"), description: "conformance" });
  assert.equal(typeof lib.id, "string");
  return lib.id;
}
