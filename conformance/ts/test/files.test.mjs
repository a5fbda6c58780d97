// Files API (client.files) through the official TypeScript SDK.
// Wire contract: shared/API.md §9. The Files API has no 422 handler: every 4xx is SDKError.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  badKeyClient,
  client,
  expectStatus,
  otherClient,
  randomId,
  readStream,
  uniq,
} from "../lib/helpers.mjs";

const c = client();

/** A small, valid fine-tuning JSONL document (unique per call). */
function jsonl(tag) {
  const lines = [
    { messages: [{ role: "user", content: `hello ${tag}` }, { role: "assistant", content: "hi" }] },
    { messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content: "4" }] },
  ];
  return Buffer.from(lines.map((l) => JSON.stringify(l)).join("\n") + "\n", "utf8");
}

async function upload(tag, { purpose = "fine-tune", ext = "jsonl", content } = {}) {
  const body = content ?? jsonl(tag);
  const fileName = `${tag}.${ext}`;
  const f = await c.files.upload({ file: { fileName, content: body }, purpose });
  return { f, body, fileName };
}

function assertFileObject(f) {
  assert.equal(typeof f.id, "string");
  assert.ok(f.id.length > 0);
  assert.equal(f.object, "file");
  assert.ok(Number.isInteger(f.sizeBytes));
  assert.ok(Number.isInteger(f.createdAt), "created_at must be unix seconds (int)");
  assert.ok(Math.abs(f.createdAt - Date.now() / 1000) < 600, `created_at ${f.createdAt} is not ~now (unix seconds)`);
  assert.equal(typeof f.filename, "string");
  assert.equal(typeof f.purpose, "string");
  assert.equal(typeof f.sampleType, "string");
  assert.equal(typeof f.source, "string");
}

/** Return a copy of a signed URL with its signature query parameter altered. */
function tamperSignature(signed) {
  const u = new URL(signed);
  const keys = [...u.searchParams.keys()];
  assert.ok(keys.length > 0, `signed URL has no query parameters: ${signed}`);
  let key = keys.find((k) => /sig|signature|hmac|token/i.test(k));
  if (!key) key = keys.reduce((a, b) => (u.searchParams.get(a).length >= u.searchParams.get(b).length ? a : b));
  const v = u.searchParams.get(key);
  const last = v.slice(-1);
  const swapped = last === "A" ? "B" : "A";
  u.searchParams.set(key, v.slice(0, -1) + swapped);
  return u.toString();
}

describe("files: upload / retrieve / download", () => {
  test("upload returns the file object; retrieve and download agree", async () => {
    const tag = uniq("up");
    const { f, body, fileName } = await upload(tag);
    assertFileObject(f);
    assert.equal(f.filename, fileName);
    assert.equal(f.sizeBytes, body.length);
    assert.equal(f.purpose, "fine-tune");
    assert.equal(f.source, "upload");

    const r = await c.files.retrieve({ fileId: f.id });
    assertFileObject(r);
    assert.equal(r.id, f.id);
    assert.equal(r.filename, fileName);
    assert.equal(r.sizeBytes, body.length);
    assert.equal(r.purpose, "fine-tune");
    assert.equal(r.createdAt, f.createdAt);
    assert.equal(r.deleted, false);

    const stream = await c.files.download({ fileId: f.id });
    assert.ok(stream instanceof ReadableStream, "download must resolve to a ReadableStream");
    const got = await readStream(stream);
    assert.ok(got.equals(body), "downloaded bytes must equal the uploaded bytes");
  });

  test("binary content round-trips byte for byte", async () => {
    const tag = uniq("bin");
    const content = Buffer.alloc(70000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7 + 3) & 0xff;
    const { f } = await upload(tag, { purpose: "ocr", ext: "bin", content });
    assert.equal(f.sizeBytes, content.length);
    assert.equal(f.purpose, "ocr");
    const got = await readStream(await c.files.download({ fileId: f.id }));
    assert.ok(got.equals(content));
  });

  test("upload with purpose batch", async () => {
    const tag = uniq("batch");
    const line = { custom_id: "0", body: { max_tokens: 10, messages: [{ role: "user", content: tag }] } };
    const content = Buffer.from(JSON.stringify(line) + "\n");
    const { f } = await upload(tag, { purpose: "batch", content });
    assert.equal(f.purpose, "batch");
    const r = await c.files.retrieve({ fileId: f.id });
    assert.equal(r.purpose, "batch");
  });
});

describe("files: list", () => {
  test("list has data/object/total; search, purpose and pagination filter", async () => {
    const tag = uniq("lst");
    const a = (await upload(`${tag}-a`)).f;
    const b = (await upload(`${tag}-b`)).f;
    const ocr = (await upload(`${tag}-c`, { purpose: "ocr", ext: "txt", content: Buffer.from("ocr me") })).f;
    const mine = new Set([a.id, b.id, ocr.id]);

    const all = await c.files.list({ pageSize: 1000 });
    assert.equal(all.object, "list");
    assert.ok(Array.isArray(all.data));
    all.data.forEach(assertFileObject);
    assert.ok(Number.isInteger(all.total), "total must be present (include_total defaults to true)");
    assert.ok(all.total >= 3);
    for (const id of mine) assert.ok(all.data.some((f) => f.id === id), `list must contain ${id}`);

    const searched = await c.files.list({ search: tag });
    assert.deepEqual(new Set(searched.data.map((f) => f.id)), mine);
    assert.equal(searched.total, 3);

    const ft = await c.files.list({ search: tag, purpose: "fine-tune" });
    assert.deepEqual(new Set(ft.data.map((f) => f.id)), new Set([a.id, b.id]));
    assert.equal(ft.total, 2);
    const onlyOcr = await c.files.list({ search: tag, purpose: "ocr" });
    assert.deepEqual(onlyOcr.data.map((f) => f.id), [ocr.id]);

    const bySampleType = await c.files.list({ search: tag, sampleType: [a.sampleType] });
    assert.ok(bySampleType.data.some((f) => f.id === a.id));
    assert.ok(bySampleType.data.every((f) => f.sampleType === a.sampleType));

    const bySource = await c.files.list({ search: tag, source: ["upload"] });
    assert.equal(bySource.data.length, 3);
    const byOtherSource = await c.files.list({ search: tag, source: ["repository"] });
    assert.deepEqual(byOtherSource.data, []);

    const p0 = await c.files.list({ search: tag, page: 0, pageSize: 2 });
    const p1 = await c.files.list({ search: tag, page: 1, pageSize: 2 });
    const p2 = await c.files.list({ search: tag, page: 2, pageSize: 2 });
    assert.equal(p0.data.length, 2);
    assert.equal(p1.data.length, 1);
    assert.equal(p2.data.length, 0);
    assert.equal(p0.total, 3, "total counts all matches, not the page");
    assert.deepEqual(new Set([...p0.data, ...p1.data].map((f) => f.id)), mine);

    const noTotal = await c.files.list({ search: tag, includeTotal: false });
    assert.equal(noTotal.data.length, 3);
    assert.ok(noTotal.total === undefined || noTotal.total === null || noTotal.total === 3);
  });
});

describe("files: signed URLs", () => {
  test("signed URL works without the API key; tampering is rejected", async () => {
    const tag = uniq("sig");
    const { f, body } = await upload(tag);
    const s = await c.files.getSignedUrl({ fileId: f.id });
    assert.equal(typeof s.url, "string");
    const u = new URL(s.url); // must be absolute
    assert.ok(u.protocol === "http:" || u.protocol === "https:");

    // A plain GET, no Authorization header.
    const res = await fetch(s.url);
    assert.equal(res.status, 200);
    const got = Buffer.from(await res.arrayBuffer());
    assert.ok(got.equals(body), "signed URL must serve the file's bytes");

    // Explicit expiry (hours).
    const s1 = await c.files.getSignedUrl({ fileId: f.id, expiry: 1 });
    const res1 = await fetch(s1.url);
    assert.equal(res1.status, 200);
    await res1.arrayBuffer();

    // Tampered signature.
    const bad = await fetch(tamperSignature(s.url));
    assert.ok(bad.status >= 400 && bad.status < 500, `tampered URL answered ${bad.status}`);
    await bad.arrayBuffer();

    // Altering any query parameter (e.g. pushing the expiry further out) breaks the signature.
    for (const key of new URL(s.url).searchParams.keys()) {
      const u2 = new URL(s.url);
      const v = u2.searchParams.get(key);
      u2.searchParams.set(key, /^\d+$/.test(v) ? String(BigInt(v) + 1000n) : v.slice(0, -1) + (v.endsWith("A") ? "B" : "A"));
      const r2 = await fetch(u2.toString());
      assert.ok(r2.status >= 400 && r2.status < 500, `altered query param ${key} answered ${r2.status}`);
      await r2.arrayBuffer();
    }

    // No query string at all (and no key).
    const bare = new URL(s.url);
    bare.search = "";
    const noSig = await fetch(bare.toString());
    assert.ok(noSig.status >= 400 && noSig.status < 500, `unsigned URL answered ${noSig.status}`);
    await noSig.arrayBuffer();

    // The signature is bound to the file: using it for another file fails.
    const other = (await upload(`${tag}-other`)).f;
    assert.ok(s.url.includes(f.id), "signed URL is expected to name the file id");
    const swapped = await fetch(s.url.split(f.id).join(other.id));
    assert.ok(swapped.status >= 400 && swapped.status < 500, `signature reused for another file answered ${swapped.status}`);
    await swapped.arrayBuffer();
  });

  test("signed URL of a deleted file no longer serves it", async () => {
    const { f } = await upload(uniq("sigdel"));
    const s = await c.files.getSignedUrl({ fileId: f.id });
    await c.files.delete({ fileId: f.id });
    const res = await fetch(s.url);
    assert.ok(res.status >= 400 && res.status < 500, `signed URL of deleted file answered ${res.status}`);
    await res.arrayBuffer();
  });
});

describe("files: delete", () => {
  test("delete returns deleted:true, then the file is gone", async () => {
    const tag = uniq("del");
    const { f } = await upload(tag);
    const d = await c.files.delete({ fileId: f.id });
    assert.equal(d.id, f.id);
    assert.equal(d.object, "file");
    assert.equal(d.deleted, true);
    await expectStatus(c.files.retrieve({ fileId: f.id }), 404, "retrieve deleted");
    await expectStatus(c.files.download({ fileId: f.id }), 404, "download deleted");
    await expectStatus(c.files.getSignedUrl({ fileId: f.id }), 404, "signed URL of deleted");
    await expectStatus(c.files.delete({ fileId: f.id }), 404, "delete deleted");
    const listed = await c.files.list({ search: tag });
    assert.deepEqual(listed.data, []);
  });
});

describe("files: errors", () => {
  test("unknown file id is 404", async () => {
    const id = randomId();
    await expectStatus(c.files.retrieve({ fileId: id }), 404, "retrieve");
    await expectStatus(c.files.download({ fileId: id }), 404, "download");
    await expectStatus(c.files.getSignedUrl({ fileId: id }), 404, "getSignedUrl");
    await expectStatus(c.files.delete({ fileId: id }), 404, "delete");
  });

  test("another workspace's file is 404 and not listed", async () => {
    const tag = uniq("xws");
    const { f, body } = await upload(tag);
    const o = otherClient();
    await expectStatus(o.files.retrieve({ fileId: f.id }), 404, "retrieve");
    await expectStatus(o.files.download({ fileId: f.id }), 404, "download");
    await expectStatus(o.files.getSignedUrl({ fileId: f.id }), 404, "getSignedUrl");
    await expectStatus(o.files.delete({ fileId: f.id }), 404, "delete");
    const listed = await o.files.list({ search: tag });
    assert.deepEqual(listed.data, []);
    // Untouched for its owner.
    const got = await readStream(await c.files.download({ fileId: f.id }));
    assert.ok(got.equals(body));
  });

  test("bad API key is 401", async () => {
    const b = badKeyClient();
    await expectStatus(b.files.list(), 401, "list");
    await expectStatus(
      b.files.upload({ file: { fileName: "x.jsonl", content: Buffer.from("{}\n") }, purpose: "fine-tune" }),
      401,
      "upload",
    );
  });
});
