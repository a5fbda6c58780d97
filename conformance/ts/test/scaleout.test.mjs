// Scenarios that hold on one instance and must keep holding behind a round-robin balancer in
// front of several instances (conformance/run.sh with TRAMONTANE_INSTANCES=3): a rate limit is
// shared, a file uploaded through one instance downloads through every other. With one
// instance they check the same contract. Code state across instances: code_interpreter.test.mjs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { client, MistralError, readStream, uniq } from "../lib/helpers.mjs";

const INSTANCES = Number(process.env.TRAMONTANE_INSTANCES || "1");
const RPS1_KEY = process.env.TRAMONTANE_RPS1_KEY;

describe("scale-out", () => {
  test("a burst on an --rps 1 key admits at most 2 requests, wherever they land", async () => {
    assert.ok(RPS1_KEY, "TRAMONTANE_RPS1_KEY is not set: run through conformance/run.sh");
    const c = client(RPS1_KEY);
    // A burst: all at once, spread over the instances by the balancer.
    const n = 3 * Math.max(2, INSTANCES);
    const results = await Promise.allSettled(
      Array.from({ length: n }, () => c.models.list({}, { retries: { strategy: "none" } })),
    );
    let admitted = 0;
    let refused = 0;
    for (const r of results) {
      if (r.status === "fulfilled") {
        admitted++;
        continue;
      }
      const err = r.reason;
      assert.ok(err instanceof MistralError, `unexpected error ${err}`);
      assert.equal(err.statusCode, 429, `refusal must be a 429, got ${err.statusCode}: ${err.body}`);
      assert.match(err.body, /rate limit/);
      refused++;
    }
    assert.ok(admitted >= 1 && admitted <= 2, `admitted ${admitted} requests of a burst (refused ${refused}), want 1 or 2`);
  });

  test("a file uploaded through one instance downloads through every instance", async () => {
    const c = client();
    const body = Buffer.alloc(600 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) % 251;
    const f = await c.files.upload({ file: { fileName: `${uniq("so")}.bin`, content: body }, purpose: "ocr" });
    for (let i = 0; i < Math.max(3, INSTANCES); i++) {
      const got = await readStream(await c.files.download({ fileId: f.id }));
      assert.ok(got.equals(body), `download ${i + 1}: ${got.length} bytes, not the ${body.length} uploaded`);
      const url = await c.files.getSignedUrl({ fileId: f.id });
      const res = await fetch(url.url);
      assert.equal(res.status, 200, `signed URL ${i + 1}`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(body), `signed download ${i + 1}`);
    }
    await c.files.delete({ fileId: f.id });
    for (let i = 0; i < Math.max(3, INSTANCES); i++) {
      await assert.rejects(c.files.download({ fileId: f.id }), (err) => err.statusCode === 404);
    }
  });
});
