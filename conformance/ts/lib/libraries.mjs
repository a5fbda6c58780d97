// Helpers for the Libraries suites (client.beta.libraries, .documents, .accesses and the
// document_library connector). Wire contract: shared/API.md §8 (Libraries), §7.1
// (document_library outputs); behaviour: docs/libraries.md.
//
// run.sh exports TRAMONTANE_OTHER_WORKSPACE_ID, the id of the second workspace (parsed from
// `tramontane keys list --workspace other`). Against a server started elsewhere it may be unset:
// otherWorkspaceId() then reads it from the server (owner_id of a library the other workspace
// creates).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { otherClient, uniq } from "./helpers.mjs";

/** A random word the search index keeps whole (letters and digits only). */
export const word = (prefix = "w") => prefix + uniq("").replace(/[^a-z0-9]/g, "");

/**
 * Fixture documents: markdown, plain text and HTML, each with its own unique word (tokens.md,
 * tokens.txt, tokens.html), so a search for that word finds exactly that document.
 */
export function fixtureDocs() {
  const tokens = { md: word("zmd"), txt: word("ztxt"), html: word("zhtml") };
  return {
    tokens,
    md: {
      fileName: `${uniq("guide")}.md`,
      text:
        "---\ntitle: front matter is dropped\n---\n" +
        "# Winds of the Languedoc\n\n" +
        `The **tramontane** blows from the north-west across the Languedoc. Marker ${tokens.md}.\n\n` +
        "## Seasons\n\nIt is strongest in winter and spring.\n",
    },
    txt: {
      fileName: `${uniq("notes")}.txt`,
      text: `Plain notes about the mistral and the sea breeze.\nSecond line, marker ${tokens.txt}.\n`,
    },
    html: {
      fileName: `${uniq("page")}.html`,
      text:
        "<!doctype html><html><head><title>Page</title><style>.x{color:red}</style>" +
        "<script>var boilerplateScript = 1;</script></head><body>" +
        '<nav class="menu">boilerplate-nav Home | About</nav>' +
        `<main><h1>Cers and marin</h1><p>The cers is the local name of the tramontane near Narbonne, marker ${tokens.html}.</p></main>` +
        "<footer>boilerplate-footer (c) nobody</footer></body></html>",
    },
  };
}

/** A new library holding the three fixture documents, uploaded in order and processed. */
export async function libraryWithDocs(c) {
  const lib = await newLibrary(c);
  const fx = fixtureDocs();
  const docs = {};
  for (const k of ["md", "txt", "html"]) {
    // Sequential uploads: created_at order is upload order.
    docs[k] = await upload(c, lib.id, fx[k].fileName, fx[k].text);
  }
  for (const k of ["md", "txt", "html"]) await waitDone(c, lib.id, docs[k].id);
  return { lib, fx, docs };
}

export const sha256 = (s) => createHash("sha256").update(s).digest("hex");

/** Upload `text` as `fileName` into a library through the SDK (multipart, part "file"). */
export async function upload(c, libraryId, fileName, text) {
  return c.beta.libraries.documents.upload({
    libraryId,
    requestBody: { file: { fileName, content: new TextEncoder().encode(text) } },
  });
}

/**
 * Poll documents.status until process_status is "done" (bounded wait). Fails at once if
 * processing ends in "error" (with the server's reason). Returns the last ProcessingStatus.
 */
export async function waitDone(c, libraryId, documentId, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let st;
  for (;;) {
    st = await c.beta.libraries.documents.status({ libraryId, documentId });
    assert.equal(st.documentId, documentId);
    assert.equal(typeof st.processingStatus, "string");
    if (st.processStatus === "done") return st;
    assert.notEqual(st.processStatus, "error", `document ${documentId} failed: ${JSON.stringify(st)}`);
    assert.ok(["todo", "in_progress", "waiting_for_capacity"].includes(st.processStatus), `process_status ${st.processStatus}`);
    if (Date.now() > deadline) assert.fail(`document ${documentId} not processed within ${timeoutMs} ms: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Create a library with a unique name. */
export async function newLibrary(c, extra = {}) {
  return c.beta.libraries.create({ name: uniq("lib"), description: "conformance library", ...extra });
}

/** Upload a document and wait until it is processed; returns the Document (re-read). */
export async function uploadDone(c, libraryId, fileName, text) {
  const d = await upload(c, libraryId, fileName, text);
  await waitDone(c, libraryId, d.id);
  return c.beta.libraries.documents.get({ libraryId, documentId: d.id });
}

/** Best-effort library delete (cleanup); never throws. */
export async function safeDeleteLibrary(c, libraryId) {
  try {
    await c.beta.libraries.delete({ libraryId });
  } catch {
    // ignore
  }
}

let otherWs;

/**
 * The second workspace's id (share_with_uuid for share_with_type "Workspace"): run.sh's
 * TRAMONTANE_OTHER_WORKSPACE_ID, else the owner_id of a library the other workspace creates.
 */
export async function otherWorkspaceId() {
  if (otherWs) return otherWs;
  if (process.env.TRAMONTANE_OTHER_WORKSPACE_ID) {
    otherWs = process.env.TRAMONTANE_OTHER_WORKSPACE_ID;
    return otherWs;
  }
  otherWs = await ownerIdOf(otherClient());
  return otherWs;
}

/** The workspace id behind a client: the owner_id of a library it creates (then deleted). */
export async function ownerIdOf(c) {
  const lib = await newLibrary(c);
  await c.beta.libraries.delete({ libraryId: lib.id });
  assert.equal(typeof lib.ownerId, "string", `owner_id: ${JSON.stringify(lib)}`);
  return lib.ownerId;
}

/** Assert the invariants of a Library (API.md §8.1) beyond the SDK's zod schema. */
export function assertLibrary(l) {
  assert.equal(typeof l.id, "string");
  assert.ok(l.id.length > 0);
  assert.equal(typeof l.name, "string");
  assert.ok(l.createdAt instanceof Date && !isNaN(l.createdAt));
  assert.ok(l.updatedAt instanceof Date && !isNaN(l.updatedAt));
  assert.ok(l.updatedAt >= l.createdAt, "updated_at >= created_at");
  assert.ok(l.ownerId === null || typeof l.ownerId === "string");
  assert.equal(typeof l.ownerType, "string");
  assert.ok(Number.isInteger(l.totalSize) && l.totalSize >= 0);
  assert.ok(Number.isInteger(l.nbDocuments) && l.nbDocuments >= 0);
  assert.ok(l.chunkSize === null || Number.isInteger(l.chunkSize));
  return l;
}

/** Assert the invariants of a Document (API.md §8.2) beyond the SDK's zod schema. */
export function assertDocument(d, libraryId) {
  assert.equal(typeof d.id, "string");
  assert.ok(d.id.length > 0);
  if (libraryId) assert.equal(d.libraryId, libraryId);
  assert.equal(typeof d.name, "string");
  assert.ok(d.createdAt instanceof Date && !isNaN(d.createdAt));
  assert.equal(typeof d.processStatus, "string");
  assert.equal(typeof d.processingStatus, "string");
  assert.equal(typeof d.uploadedByType, "string");
  assert.ok(Number.isInteger(d.tokensProcessingTotal) && d.tokensProcessingTotal >= 0);
  for (const k of ["hash", "mimeType", "extension", "uploadedById"]) {
    assert.ok(d[k] === null || typeof d[k] === "string", `${k}: ${JSON.stringify(d)}`);
  }
  assert.ok(d.size === null || Number.isInteger(d.size));
  return d;
}

/** Assert a PaginationInfo. */
export function assertPagination(p, { totalItems, currentPage, pageSize }) {
  assert.ok(p, "pagination present");
  assert.equal(p.totalItems, totalItems, JSON.stringify(p));
  assert.equal(p.currentPage, currentPage, JSON.stringify(p));
  assert.equal(p.pageSize, pageSize, JSON.stringify(p));
  assert.equal(p.totalPages, Math.ceil(totalItems / pageSize), JSON.stringify(p));
  assert.equal(p.hasMore, (currentPage + 1) * pageSize < totalItems, JSON.stringify(p));
}

/** GET a signed URL without any API key; returns { res, body (Buffer) }. */
export async function fetchSigned(url) {
  const res = await fetch(url);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A minimal valid PDF (one Helvetica text line per entry, one content stream per page), like
 * internal/library's test fixtures: `pages` is a list of pages, each a list of lines (a string,
 * or {text, size} for another font size than 12: a line set ≥ 1.25× the body size is a heading).
 */
export function makePDF(pages) {
  const parts = [];
  let len = 0;
  const offsets = [];
  const push = (b) => {
    const buf = typeof b === "string" ? Buffer.from(b, "latin1") : b;
    parts.push(buf);
    len += buf.length;
  };
  const obj = (body) => {
    offsets.push(len);
    push(`${offsets.length} 0 obj\n${body}\nendobj\n`);
  };
  push("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
  const kids = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(" ");
  obj("<< /Type /Catalog /Pages 2 0 R >>");
  obj(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  obj(
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [" +
      Array(95).fill("556").join(" ") +
      "] >>",
  );
  pages.forEach((lines, i) => {
    let cs = "";
    let y = 740;
    for (const l of lines) {
      const { text, size = 12 } = typeof l === "string" ? { text: l } : l;
      const esc = text.replace(/\\/g, "\\\\").replace(/\(/g, "\\(").replace(/\)/g, "\\)");
      cs += `BT /F1 ${size} Tf 72 ${y} Td (${esc}) Tj ET\n`;
      y -= size + 6;
    }
    obj(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`);
    obj(`<< /Length ${Buffer.byteLength(cs, "latin1")} >>\nstream\n${cs}endstream`);
  });
  const xref = len;
  push(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`);
  for (const o of offsets) push(`${String(o).padStart(10, "0")} 00000 n \n`);
  push(`trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(parts);
}

/** Upload raw bytes as `fileName` through the SDK. */
export async function uploadBytes(c, libraryId, fileName, bytes) {
  return c.beta.libraries.documents.upload({ libraryId, requestBody: { file: { fileName, content: new Uint8Array(bytes) } } });
}
