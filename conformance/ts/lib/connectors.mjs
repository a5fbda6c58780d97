// Helpers for the built-in connector suites (web_search, code_interpreter, image_generation).
// Wire contract: shared/API.md §4.1 (chunks), §5.2 (events), §7.1 (connector outputs);
// behaviour: docs/connectors.md.
//
// run.sh configures the connectors against the fake upstream (FAKEUPSTREAM_URL): a fake SearXNG
// whose results are the pages /pages/1.html, /pages/2.html (and the news page /pages/3.html for
// web_search_premium) served by the same fake, and a fake images API answering a tiny PNG.
// code_interpreter runs real bubblewrap sandboxes. GET /healthz tells which connectors are
// available; suites skip what is not (code_interpreter never skips when CI is set).

import assert from "node:assert/strict";

import { URL_BASE, readStream } from "./helpers.mjs";
import { history, normalizeContent } from "./conv.mjs";

export const FAKE = (process.env.FAKEUPSTREAM_URL || "").replace(/\/+$/, "");
export const IN_CI = ["true", "1"].includes(String(process.env.CI || "").toLowerCase());

/** GET /healthz's connector statuses ({} when the server does not report them). */
export async function connectorStatus() {
  try {
    const res = await fetch(URL_BASE + "/healthz");
    const body = await res.json();
    return body.connectors || {};
  } catch {
    return {};
  }
}

/**
 * The `skip` option for a connector's describe(): false when the connector is available (and,
 * with `needsFake`, the fake upstream backs it), else the reason. code_interpreter never skips in
 * CI: a CI host must run its sandbox, so its tests then fail.
 */
export async function skipUnless(name, { needsFake = false } = {}) {
  const st = (await connectorStatus())[name];
  if (needsFake && !FAKE) return `${name}: needs run.sh's fake upstream (FAKEUPSTREAM_URL)`;
  if (st === "available") return false;
  if (name === "code_interpreter" && IN_CI) return false;
  return `${name} is ${st ?? "not reported by /healthz"} on this server`;
}

/** The fake upstream's recorded requests whose path ends with `suffix`. */
export async function fakeRequests(suffix) {
  if (!FAKE) return [];
  const res = await fetch(FAKE + "/_requests");
  const all = await res.json();
  return all.filter((r) => r.path.endsWith(suffix));
}

/** The fake SearXNG's /search requests whose q parameter equals `query`, as URLSearchParams. */
export async function searxngRequests(query) {
  return (await fakeRequests("/search"))
    .map((r) => new URLSearchParams(r.query || ""))
    .filter((p) => p.get("q") === query);
}

/** The fake pages (docs/scripted-model.md, -searxng). */
export const PAGES = {
  1: { title: "The Tramontane wind", path: "/pages/1.html" },
  2: { title: "Mistral and tramontane compared", path: "/pages/2.html" },
  3: { title: "Tramontane gusts close the port of Sète", path: "/pages/3.html" },
};
export const pageURL = (n) => FAKE + PAGES[n].path;

/** Text without [n] citation markers (whether the server keeps them in text chunks or not). */
export function stripCitations(text) {
  return text.replace(/\s*\[\d{1,3}\]/g, "");
}

/** The chunks of a content list of the given type. */
export const chunksOf = (content, type) => (Array.isArray(content) ? content.filter((ch) => ch.type === type) : []);

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Download a file through the SDK (ReadableStream → bytes) and assert it is a PNG. */
export async function downloadPNG(c, fileId) {
  const bytes = await readStream(await c.files.download({ fileId }));
  assert.ok(bytes.length > PNG_MAGIC.length, `file ${fileId} has ${bytes.length} bytes`);
  assert.deepEqual(bytes.subarray(0, 8), PNG_MAGIC, `file ${fileId} starts with the PNG signature`);
  return bytes;
}

/** Assert a tool_file chunk as parsed by the SDK (ToolFileChunk). */
export function assertToolFile(ch, { tool, fileType, fileName }) {
  assert.equal(ch.type, "tool_file", JSON.stringify(ch));
  assert.equal(ch.tool, tool);
  assert.equal(typeof ch.fileId, "string");
  assert.ok(ch.fileId.length > 0);
  if (fileName instanceof RegExp) assert.match(ch.fileName, fileName);
  else if (fileName !== undefined) assert.equal(ch.fileName, fileName);
  if (fileType !== undefined) assert.equal(ch.fileType, fileType);
}

/**
 * API.md §5.2: a message.output.delta's content is a string token or one output chunk. The
 * stream of a message must carry the same chunk objects (tool_reference, tool_file) as the
 * stored message.output, in the same order, so that a streaming client sees the citations and
 * files. Returns the stored entry.
 */
export async function assertStreamedChunksMatchHistory(c, s, outputIndex) {
  const o = s.outputs.find((x) => x.outputIndex === outputIndex);
  assert.equal(o?.type, "message.output");
  const entries = await history(c, s.conversationId);
  const stored = entries.find((e) => e.id === o.id);
  assert.ok(stored, `stored entry ${o.id}`);
  const storedChunks = normalizeContent(stored.content).filter((ch) => ch.type !== "text");
  assert.ok(storedChunks.length > 0, "the stored message has chunk objects");
  assert.deepEqual(
    o.chunks,
    storedChunks,
    `the message.output.delta events carry the stored message's chunks (API.md §5.2); streamed deltas: ` +
      JSON.stringify(o.content).slice(0, 400),
  );
  return stored;
}
