// Libraries, documents and sharing through the official TS SDK (client.beta.libraries,
// .documents, .accesses). Contract: shared/API.md §8; behaviour: docs/libraries.md.
//
// Every test makes its own libraries (unique names) and documents with unique tokens; the
// cross-workspace tests use the second workspace of run.sh (TRAMONTANE_OTHER_KEY).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SDKError } from "@mistralai/mistralai/models/errors";

import {
  URL_BASE,
  client,
  expectStatus,
  otherClient,
  randomId,
  rawFetch,
  uniq,
} from "../lib/helpers.mjs";
import {
  assertDocument,
  assertLibrary,
  assertPagination,
  fetchSigned,
  fixtureDocs,
  libraryWithDocs,
  makePDF,
  newLibrary,
  otherWorkspaceId,
  ownerIdOf,
  safeDeleteLibrary,
  sha256,
  upload,
  uploadBytes,
  uploadDone,
  waitDone,
} from "../lib/libraries.mjs";

const c = client();
const other = otherClient();

describe("libraries: create / get / list / update / delete", () => {
  test("create answers 201 with a Library the SDK parses; get returns the same", async () => {
    const name = uniq("lib");
    const lib = assertLibrary(await c.beta.libraries.create({ name, description: "conformance library" }));
    assert.equal(lib.name, name);
    assert.equal(lib.description, "conformance library");
    assert.equal(lib.ownerType, "Workspace");
    assert.equal(typeof lib.ownerId, "string");
    assert.equal(lib.totalSize, 0);
    assert.equal(lib.nbDocuments, 0);
    assert.equal(lib.chunkSize, null);

    const got = assertLibrary(await c.beta.libraries.get({ libraryId: lib.id }));
    assert.deepEqual(got, lib);

    // Wire: 201 + application/json (the SDK accepts only 201 here).
    const raw = await rawFetch("/v1/libraries", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: uniq("raw") }),
    });
    assert.equal(raw.status, 201);
    assert.match(raw.headers.get("content-type"), /^application\/json/);
    const body = await raw.json();
    for (const k of ["owner_id", "chunk_size"]) assert.ok(k in body, `${k} is present (R/null): ${JSON.stringify(body)}`);
    await c.beta.libraries.delete({ libraryId: body.id });
  });

  test("create with chunk_size and owner_type echoes them", async () => {
    const lib = assertLibrary(await c.beta.libraries.create({ name: uniq("lib"), chunkSize: 256, ownerType: "Workspace" }));
    assert.equal(lib.chunkSize, 256);
    assert.equal(lib.ownerType, "Workspace");
    assert.ok(lib.description === null || lib.description === undefined);
  });

  test("create without a name is a 422 with detail[]", async () => {
    const res = await rawFetch("/v1/libraries", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ description: "no name" }),
    });
    assert.equal(res.status, 422);
    const body = await res.json();
    assert.ok(Array.isArray(body.detail) && body.detail.length > 0, JSON.stringify(body));
    assert.ok(Array.isArray(body.detail[0].loc));
  });

  test("list: search by name, newest first, pagination with page and page_token", async () => {
    const prefix = uniq("listlib");
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await c.beta.libraries.create({ name: `${prefix}-${i}` }));

    const all = await c.beta.libraries.list({ search: prefix });
    assert.deepEqual(all.data.map((l) => l.id), made.map((l) => l.id).reverse(), "newest first");
    for (const l of all.data) assertLibrary(l);
    assertPagination(all.pagination, { totalItems: 3, currentPage: 0, pageSize: 100 });
    // Search is case-insensitive.
    assert.equal((await c.beta.libraries.list({ search: prefix.toUpperCase() })).data.length, 3);

    const p0 = await c.beta.libraries.list({ search: prefix, pageSize: 2 });
    assert.deepEqual(p0.data.map((l) => l.id), [made[2].id, made[1].id]);
    assertPagination(p0.pagination, { totalItems: 3, currentPage: 0, pageSize: 2 });
    assert.equal(typeof p0.nextPageToken, "string", `next_page_token: ${JSON.stringify(p0)}`);

    const byToken = await c.beta.libraries.list({ search: prefix, pageSize: 2, pageToken: p0.nextPageToken });
    assert.deepEqual(byToken.data.map((l) => l.id), [made[0].id]);
    assertPagination(byToken.pagination, { totalItems: 3, currentPage: 1, pageSize: 2 });
    assert.ok(byToken.nextPageToken === null || byToken.nextPageToken === undefined, "no next page");

    const byPage = await c.beta.libraries.list({ search: prefix, pageSize: 2, page: 1 });
    assert.deepEqual(byPage.data.map((l) => l.id), [made[0].id]);

    // Another workspace does not see them.
    assert.equal((await other.beta.libraries.list({ search: prefix })).data.length, 0);
    // filter_owned_by_me keeps the caller's own libraries.
    assert.equal((await c.beta.libraries.list({ search: prefix, filterOwnedByMe: true })).data.length, 3);
  });

  test("update (PATCH) renames and sets or clears the description; librariesUpdateV1 (PUT) too", async () => {
    const lib = await newLibrary(c);
    const name = uniq("renamed");
    const up = assertLibrary(await c.beta.libraries.update({ libraryId: lib.id, updateLibraryRequest: { name, description: "new text" } }));
    assert.equal(up.id, lib.id);
    assert.equal(up.name, name);
    assert.equal(up.description, "new text");
    assert.ok(up.updatedAt >= lib.updatedAt);
    assert.equal(up.createdAt.getTime(), lib.createdAt.getTime());

    // Only the description: the name stays; null clears the description.
    const cleared = await c.beta.libraries.update({ libraryId: lib.id, updateLibraryRequest: { description: null } });
    assert.equal(cleared.name, name);
    assert.ok(cleared.description === null || cleared.description === undefined, JSON.stringify(cleared));

    const put = assertLibrary(
      await c.beta.libraries.librariesUpdateV1({ libraryId: lib.id, updateLibraryRequest: { name: name + "-put", description: "put" } }),
    );
    assert.equal(put.name, name + "-put");
    assert.equal(put.description, "put");
    assert.equal((await c.beta.libraries.get({ libraryId: lib.id })).name, name + "-put");
  });

  test("delete returns the library (200) or nothing (204); then it and its documents are gone (404)", async () => {
    const lib = await newLibrary(c);
    const doc = await uploadDone(c, lib.id, `${uniq("doc")}.txt`, "a document of a deleted library");
    const link = await c.beta.libraries.documents.getSignedUrl({ libraryId: lib.id, documentId: doc.id });
    const del = await c.beta.libraries.delete({ libraryId: lib.id });
    if (del !== undefined) {
      assertLibrary(del);
      assert.equal(del.id, lib.id);
    }
    await expectStatus(c.beta.libraries.get({ libraryId: lib.id }), 404, "get after delete");
    await expectStatus(c.beta.libraries.delete({ libraryId: lib.id }), 404, "delete twice");
    assert.equal((await c.beta.libraries.list({ search: lib.name })).data.length, 0);
    await expectStatus(c.beta.libraries.documents.get({ libraryId: lib.id, documentId: doc.id }), 404);
    assert.equal((await fetchSigned(link)).res.status, 404, "its documents' signed links are dead");
  });

  test("unknown ids are 404; another workspace's library is 404", async () => {
    await expectStatus(c.beta.libraries.get({ libraryId: randomId() }), 404);
    await expectStatus(c.beta.libraries.update({ libraryId: randomId(), updateLibraryRequest: { name: "x" } }), 404);
    const lib = await newLibrary(c);
    await expectStatus(other.beta.libraries.get({ libraryId: lib.id }), 404);
    await expectStatus(other.beta.libraries.update({ libraryId: lib.id, updateLibraryRequest: { name: "x" } }), 404);
    await expectStatus(other.beta.libraries.delete({ libraryId: lib.id }), 404);
    await expectStatus(other.beta.libraries.documents.list({ libraryId: lib.id }), 404);
    await expectStatus(other.beta.libraries.accesses.list({ libraryId: lib.id }), 404);
  });

  test("owner_id is the workspace id (the one run.sh read from `tramontane keys list`)", async () => {
    const lib = await newLibrary(c);
    assert.equal(typeof lib.ownerId, "string");
    const otherOwner = await ownerIdOf(other);
    assert.notEqual(otherOwner, lib.ownerId, "two workspaces, two owner ids");
    if (process.env.TRAMONTANE_OTHER_WORKSPACE_ID) assert.equal(otherOwner, process.env.TRAMONTANE_OTHER_WORKSPACE_ID);
  });
});

describe("documents", () => {
  test("upload (multipart) answers a Document; status reaches done; get and the library's counts follow", async () => {
    const lib = await newLibrary(c);
    const fx = fixtureDocs();
    const d = assertDocument(await upload(c, lib.id, fx.md.fileName, fx.md.text), lib.id);
    assert.equal(d.name, fx.md.fileName);
    assert.equal(d.extension, "md");
    assert.equal(d.size, Buffer.byteLength(fx.md.text));
    assert.equal(d.hash, sha256(fx.md.text));
    assert.equal(d.uploadedById, lib.ownerId);
    assert.ok(["todo", "in_progress", "done"].includes(d.processStatus), d.processStatus);

    const st = await waitDone(c, lib.id, d.id);
    assert.equal(st.processStatus, "done");
    assert.equal(st.processingStatus, "Completed");

    const got = assertDocument(await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: d.id }), lib.id);
    assert.equal(got.processStatus, "done");
    assert.equal(got.processingStatus, "Completed");
    assert.ok(got.tokensProcessingTotal > 0, `tokens_processing_total: ${got.tokensProcessingTotal}`);
    assert.ok(got.lastProcessedAt instanceof Date, `last_processed_at: ${got.lastProcessedAt}`);
    assert.equal(got.createdAt.getTime(), d.createdAt.getTime());

    const txt = await uploadDone(c, lib.id, fx.txt.fileName, fx.txt.text);
    assert.equal(txt.extension, "txt");
    assert.equal(txt.mimeType?.split(";")[0], "text/plain");
    const l = await c.beta.libraries.get({ libraryId: lib.id });
    assert.equal(l.nbDocuments, 2);
    assert.equal(l.totalSize, Buffer.byteLength(fx.md.text) + Buffer.byteLength(fx.txt.text));
  });

  test("upload of a Blob (File object) works too", async () => {
    const lib = await newLibrary(c);
    const name = `${uniq("blob")}.txt`;
    const d = await c.beta.libraries.documents.upload({
      libraryId: lib.id,
      requestBody: { file: new File(["blob upload text"], name, { type: "text/plain" }) },
    });
    assert.equal(d.name, name);
    await waitDone(c, lib.id, d.id);
    assert.equal((await c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: d.id })).text.trim(), "blob upload text");
  });

  test("list: default sort created_at desc, search by name, pagination, sort_by/sort_order", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const ids = (r) => r.data.map((d) => d.id);

    const all = await c.beta.libraries.documents.list({ libraryId: lib.id });
    for (const d of all.data) assertDocument(d, lib.id);
    assert.deepEqual(ids(all), [docs.html.id, docs.txt.id, docs.md.id], "newest first");
    assertPagination(all.pagination, { totalItems: 3, currentPage: 0, pageSize: 100 });
    assert.ok(all.data.every((d) => d.processStatus === "done"));

    const asc = await c.beta.libraries.documents.list({ libraryId: lib.id, sortOrder: "asc" });
    assert.deepEqual(ids(asc), [docs.md.id, docs.txt.id, docs.html.id]);

    const byName = await c.beta.libraries.documents.list({ libraryId: lib.id, sortBy: "name", sortOrder: "asc" });
    const names = byName.data.map((d) => d.name);
    assert.deepEqual(names, [...names].sort());

    const bySize = await c.beta.libraries.documents.list({ libraryId: lib.id, sortBy: "size", sortOrder: "desc" });
    const sizes = bySize.data.map((d) => d.size);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));

    const found = await c.beta.libraries.documents.list({ libraryId: lib.id, search: fx.txt.fileName.slice(0, 12).toUpperCase() });
    assert.deepEqual(ids(found), [docs.txt.id]);
    assertPagination(found.pagination, { totalItems: 1, currentPage: 0, pageSize: 100 });
    const none = await c.beta.libraries.documents.list({ libraryId: lib.id, search: uniq("nothing") });
    assert.deepEqual(none.data, []);
    assertPagination(none.pagination, { totalItems: 0, currentPage: 0, pageSize: 100 });

    const p0 = await c.beta.libraries.documents.list({ libraryId: lib.id, pageSize: 2 });
    assert.deepEqual(ids(p0), [docs.html.id, docs.txt.id]);
    assertPagination(p0.pagination, { totalItems: 3, currentPage: 0, pageSize: 2 });
    const p1 = await c.beta.libraries.documents.list({ libraryId: lib.id, pageSize: 2, page: 1 });
    assert.deepEqual(ids(p1), [docs.md.id]);
    assertPagination(p1.pagination, { totalItems: 3, currentPage: 1, pageSize: 2 });
  });

  test("text_content: extracted text of markdown, text and HTML (boilerplate dropped); page_start/page_end", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const text = async (documentId, extra = {}) =>
      (await c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId, ...extra })).text;

    const md = await text(docs.md.id);
    assert.ok(md.includes("Winds of the Languedoc"), md);
    assert.ok(md.includes(`Marker ${fx.tokens.md}`), md);
    assert.ok(!md.includes("**") && !md.includes("# "), `markdown markup is stripped: ${md}`);
    assert.ok(!md.includes("front matter"), `front matter is dropped: ${md}`);

    assert.equal((await text(docs.txt.id)).trim(), fx.txt.text.trim());

    const html = await text(docs.html.id);
    assert.ok(html.includes("Cers and marin") && html.includes(fx.tokens.html), html);
    assert.ok(!html.includes("boilerplate") && !html.includes("<"), `no markup, nav, footer or script: ${html}`);

    // Formats without pages have one page.
    assert.equal(await text(docs.md.id, { pageStart: 1, pageEnd: 1 }), md);
    assert.equal(await text(docs.md.id, { pageStart: 1 }), md);
    assert.equal(await text(docs.md.id, { pageEnd: 1 }), md);
    await expectStatus(
      c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: docs.md.id, pageStart: 3, pageEnd: 2 }),
      [400, 422],
      "page_end before page_start",
    );
  });

  test("a PDF: number_of_pages, and text_content's page_start/page_end select pages", async () => {
    const lib = await newLibrary(c);
    const pages = [["Page one about winds.", "The tramontane is cold."], ["Page two about the mistral."], ["Page three closes."]];
    const pdf = makePDF(pages);
    const d = await uploadBytes(c, lib.id, `${uniq("report")}.pdf`, pdf);
    assert.equal(d.extension, "pdf");
    assert.equal(d.size, pdf.length);
    await waitDone(c, lib.id, d.id);
    const got = await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: d.id });
    assert.equal(got.numberOfPages, 3);
    assert.equal(got.mimeType, "application/pdf");
    const text = async (extra = {}) => (await c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: d.id, ...extra })).text;
    const page = (i) => pages[i].join("\n");
    const all = await text();
    for (const p of pages) for (const line of p) assert.ok(all.includes(line), `${line} in ${JSON.stringify(all)}`);
    assert.equal((await text({ pageStart: 2, pageEnd: 2 })).trim(), page(1));
    const from2 = await text({ pageStart: 2 });
    assert.ok(from2.includes(page(1)) && from2.includes(page(2)) && !from2.includes(pages[0][0]), JSON.stringify(from2));
    const to1 = await text({ pageEnd: 1 });
    assert.ok(to1.includes(pages[0][1]) && !to1.includes(pages[1][0]), JSON.stringify(to1));
  });

  test("a file that cannot be processed ends in error with a reason; its text_content is 409", async () => {
    const lib = await newLibrary(c);
    const d = await uploadBytes(c, lib.id, `${uniq("blob")}.bin`, Buffer.from([0, 1, 2, 255, 254, 0, 7]));
    const deadline = Date.now() + 30000;
    let st;
    do {
      st = await c.beta.libraries.documents.status({ libraryId: lib.id, documentId: d.id });
      if (st.processStatus === "error") break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    assert.equal(st.processStatus, "error", JSON.stringify(st));
    assert.equal(st.processingStatus, "Failed");
    const got = await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: d.id });
    assert.equal(got.processStatus, "error");
    // The reason is an extra key (docs/libraries.md): not in the SDK model, visible on the wire.
    const raw = await (await rawFetch(`/v1/libraries/${lib.id}/documents/${d.id}`)).json();
    assert.equal(typeof raw.process_status_reason, "string");
    assert.ok(raw.process_status_reason.length > 0);
    await expectStatus(c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: d.id }), 409);
  });

  test("expires_at: a future date is echoed; a past one makes the document disappear", async () => {
    const { lib, docs } = await libraryWithDocs(c);
    const future = new Date(Date.UTC(2031, 0, 1));
    const up = await c.beta.libraries.documents.update({ libraryId: lib.id, documentId: docs.txt.id, updateDocumentRequest: { expiresAt: future } });
    assert.ok(up.expiresAt instanceof Date, `expires_at: ${up.expiresAt}`);
    assert.equal(up.expiresAt.getTime(), future.getTime());
    const cleared = await c.beta.libraries.documents.update({ libraryId: lib.id, documentId: docs.txt.id, updateDocumentRequest: { expiresAt: null } });
    assert.ok(cleared.expiresAt === null || cleared.expiresAt === undefined);

    await c.beta.libraries.documents.update({
      libraryId: lib.id,
      documentId: docs.txt.id,
      updateDocumentRequest: { expiresAt: new Date(Date.now() - 60000) },
    });
    await expectStatus(c.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.txt.id }), 404, "expired");
    const list = await c.beta.libraries.documents.list({ libraryId: lib.id });
    assert.deepEqual(list.data.map((d) => d.id), [docs.html.id, docs.md.id]);
    assert.equal((await c.beta.libraries.get({ libraryId: lib.id })).nbDocuments, 2);
  });

  test("get_signed_url / extracted_text_signed_url: JSON strings; the links work without an API key", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const url = await c.beta.libraries.documents.getSignedUrl({ libraryId: lib.id, documentId: docs.html.id });
    assert.equal(typeof url, "string");
    assert.ok(url.startsWith(URL_BASE + "/"), `signed URL on the server: ${url}`);
    const got = await fetchSigned(url);
    assert.equal(got.res.status, 200);
    assert.equal(got.body.toString("utf8"), fx.html.text, "the original bytes");
    assert.match(got.res.headers.get("content-disposition") || "", /^attachment/, "served as an attachment");

    const turl = await c.beta.libraries.documents.extractedTextSignedUrl({ libraryId: lib.id, documentId: docs.html.id });
    assert.equal(typeof turl, "string");
    assert.notEqual(turl, url);
    const t = await fetchSigned(turl);
    assert.equal(t.res.status, 200);
    assert.match(t.res.headers.get("content-type") || "", /^text\/plain/);
    const extracted = (await c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: docs.html.id })).text;
    assert.equal(t.body.toString("utf8"), extracted);

    // A tampered signature is refused.
    const u = new URL(url);
    const sig = u.searchParams.get("signature");
    assert.ok(sig, `the link carries a signature: ${url}`);
    u.searchParams.set("signature", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    const bad = await fetchSigned(u.toString());
    assert.ok(bad.res.status >= 400 && bad.res.status < 500, `tampered link: ${bad.res.status}`);

    // Wire: a bare JSON string with Content-Type application/json.
    const raw = await rawFetch(`/v1/libraries/${lib.id}/documents/${docs.md.id}/signed-url`);
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get("content-type"), /^application\/json/);
    assert.equal(typeof (await raw.json()), "string");
  });

  test("update (PATCH) name and attributes; filters_attributes; librariesDocumentsUpdateV1 (PUT)", async () => {
    const { lib, docs } = await libraryWithDocs(c);
    const name = `${uniq("renamed")}.md`;
    const attrs = { team: "red", year: 2024, draft: false, tags: ["a", "b"] };
    const up = assertDocument(
      await c.beta.libraries.documents.update({
        libraryId: lib.id,
        documentId: docs.md.id,
        updateDocumentRequest: { name, attributes: attrs },
      }),
      lib.id,
    );
    assert.equal(up.name, name);
    assert.deepEqual(up.attributes, attrs);
    const got = await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.md.id });
    assert.equal(got.name, name);
    assert.deepEqual(got.attributes, attrs);
    assert.equal(got.processStatus, "done", "a rename does not reprocess");

    const filtered = await c.beta.libraries.documents.list({ libraryId: lib.id, filtersAttributes: JSON.stringify({ team: "red" }) });
    assert.deepEqual(filtered.data.map((d) => d.id), [docs.md.id]);
    const cond = await c.beta.libraries.documents.list({
      libraryId: lib.id,
      filtersAttributes: JSON.stringify({ field: "year", op: "gte", value: 2025 }),
    });
    assert.deepEqual(cond.data, []);

    // PUT (deprecated) works the same; attributes null clears them.
    const put = await c.beta.libraries.documents.librariesDocumentsUpdateV1({
      libraryId: lib.id,
      documentId: docs.md.id,
      updateDocumentRequest: { name: name + ".bak", attributes: null },
    });
    assert.equal(put.name, name + ".bak");
    assert.ok(put.attributes === null || put.attributes === undefined || Object.keys(put.attributes).length === 0, JSON.stringify(put.attributes));
  });

  test("reprocess answers 204 and the document is processed again", async () => {
    const { lib, docs } = await libraryWithDocs(c);
    const before = await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.txt.id });
    const r = await c.beta.libraries.documents.reprocess({ libraryId: lib.id, documentId: docs.txt.id });
    assert.equal(r, undefined);
    await waitDone(c, lib.id, docs.txt.id);
    const after = await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.txt.id });
    assert.ok(after.lastProcessedAt > before.lastProcessedAt, `processed again: ${before.lastProcessedAt} → ${after.lastProcessedAt}`);
    assert.equal(after.tokensProcessingTotal, before.tokensProcessingTotal);

    const raw = await rawFetch(`/v1/libraries/${lib.id}/documents/${docs.txt.id}/reprocess`, { method: "POST" });
    assert.equal(raw.status, 204);
    await waitDone(c, lib.id, docs.txt.id);
  });

  test("delete answers 204; the document is gone from get, list and the library's counts", async () => {
    const { lib, docs } = await libraryWithDocs(c);
    const link = await c.beta.libraries.documents.getSignedUrl({ libraryId: lib.id, documentId: docs.txt.id });
    const r = await c.beta.libraries.documents.delete({ libraryId: lib.id, documentId: docs.txt.id });
    assert.equal(r, undefined);
    assert.equal((await fetchSigned(link)).res.status, 404, "a deleted document's signed link is dead");
    await expectStatus(c.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.txt.id }), 404);
    await expectStatus(c.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: docs.txt.id }), 404);
    await expectStatus(c.beta.libraries.documents.delete({ libraryId: lib.id, documentId: docs.txt.id }), 404);
    const list = await c.beta.libraries.documents.list({ libraryId: lib.id });
    assert.deepEqual(list.data.map((d) => d.id), [docs.html.id, docs.md.id]);
    const l = await c.beta.libraries.get({ libraryId: lib.id });
    assert.equal(l.nbDocuments, 2);
    assert.equal(l.totalSize, docs.html.size + docs.md.size);
  });

  test("unknown documents are 404; an upload without a file part is refused", async () => {
    const lib = await newLibrary(c);
    const documentId = randomId();
    await expectStatus(c.beta.libraries.documents.get({ libraryId: lib.id, documentId }), 404);
    await expectStatus(c.beta.libraries.documents.status({ libraryId: lib.id, documentId }), 404);
    await expectStatus(c.beta.libraries.documents.getSignedUrl({ libraryId: lib.id, documentId }), 404);
    await expectStatus(c.beta.libraries.documents.reprocess({ libraryId: lib.id, documentId }), 404);
    await expectStatus(upload(c, randomId(), "x.txt", "x"), 404, "upload into an unknown library");

    const form = new FormData();
    form.append("purpose", "nothing");
    const res = await rawFetch(`/v1/libraries/${lib.id}/documents`, { method: "POST", body: form });
    assert.equal(res.status, 422);
  });
});

describe("sharing (accesses)", () => {
  test("an unshared library is 404 for the other workspace; Viewer reads but cannot write (403); Editor uploads; delete revokes", async () => {
    const otherWs = await otherWorkspaceId();
    const { lib, fx, docs } = await libraryWithDocs(c);

    // Not shared: invisible.
    await expectStatus(other.beta.libraries.get({ libraryId: lib.id }), 404);
    await expectStatus(other.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.md.id }), 404);
    await expectStatus(upload(other, lib.id, "x.txt", "x"), 404);
    assert.equal((await other.beta.libraries.list({ search: lib.name })).data.length, 0);

    // The owner is listed first.
    const before = await c.beta.libraries.accesses.list({ libraryId: lib.id });
    assert.equal(before.data.length, 1, JSON.stringify(before));
    assert.equal(before.data[0].libraryId, lib.id);
    assert.equal(before.data[0].role, "Owner");
    assert.equal(before.data[0].shareWithUuid, lib.ownerId);
    assert.equal(typeof before.data[0].orgId, "string");

    // Viewer.
    const sh = await c.beta.libraries.accesses.updateOrCreate({
      libraryId: lib.id,
      sharingRequest: { level: "Viewer", shareWithUuid: otherWs, shareWithType: "Workspace" },
    });
    assert.equal(sh.libraryId, lib.id);
    assert.equal(sh.role, "Viewer");
    assert.equal(sh.shareWithType, "Workspace");
    assert.equal(sh.shareWithUuid, otherWs);
    assert.equal(typeof sh.orgId, "string");
    const listed = await c.beta.libraries.accesses.list({ libraryId: lib.id });
    assert.deepEqual(
      listed.data.map((s) => [s.role, s.shareWithType, s.shareWithUuid]),
      [
        ["Owner", "Workspace", lib.ownerId],
        ["Viewer", "Workspace", otherWs],
      ],
    );

    const seen = assertLibrary(await other.beta.libraries.get({ libraryId: lib.id }));
    assert.equal(seen.ownerId, lib.ownerId);
    assert.equal(seen.nbDocuments, 3);
    assert.deepEqual((await other.beta.libraries.list({ search: lib.name })).data.map((l) => l.id), [lib.id]);
    assert.equal((await other.beta.libraries.list({ search: lib.name, filterOwnedByMe: true })).data.length, 0);
    const docsSeen = await other.beta.libraries.documents.list({ libraryId: lib.id, search: fx.txt.fileName });
    assert.deepEqual(docsSeen.data.map((d) => d.id), [docs.txt.id]);
    assert.equal((await other.beta.libraries.documents.get({ libraryId: lib.id, documentId: docs.md.id })).name, fx.md.fileName);
    assert.equal((await other.beta.libraries.documents.textContent({ libraryId: lib.id, documentId: docs.txt.id })).text.trim(), fx.txt.text.trim());
    const url = await other.beta.libraries.documents.getSignedUrl({ libraryId: lib.id, documentId: docs.txt.id });
    assert.equal((await fetchSigned(url)).body.toString("utf8"), fx.txt.text);
    assert.equal((await other.beta.libraries.accesses.list({ libraryId: lib.id })).data.length, 2);

    const err = await expectStatus(upload(other, lib.id, "viewer.txt", "a viewer cannot upload"), 403, "Viewer upload");
    assert.ok(err instanceof SDKError, `a 403 is an SDKError: ${err?.constructor?.name}`);
    await expectStatus(
      other.beta.libraries.documents.update({ libraryId: lib.id, documentId: docs.md.id, updateDocumentRequest: { name: "x.md" } }),
      403,
      "Viewer update",
    );
    await expectStatus(other.beta.libraries.documents.delete({ libraryId: lib.id, documentId: docs.md.id }), 403, "Viewer delete");
    await expectStatus(other.beta.libraries.documents.reprocess({ libraryId: lib.id, documentId: docs.md.id }), 403, "Viewer reprocess");
    await expectStatus(other.beta.libraries.update({ libraryId: lib.id, updateLibraryRequest: { name: "x" } }), 403, "Viewer rename");
    await expectStatus(other.beta.libraries.delete({ libraryId: lib.id }), 403, "Viewer delete library");
    await expectStatus(
      other.beta.libraries.accesses.updateOrCreate({
        libraryId: lib.id,
        sharingRequest: { level: "Editor", shareWithUuid: otherWs, shareWithType: "Workspace" },
      }),
      403,
      "Viewer re-shares",
    );

    // Editor (same grantee: updated, not duplicated).
    const ed = await c.beta.libraries.accesses.updateOrCreate({
      libraryId: lib.id,
      sharingRequest: { level: "Editor", shareWithUuid: otherWs, shareWithType: "Workspace" },
    });
    assert.equal(ed.role, "Editor");
    assert.deepEqual(
      (await c.beta.libraries.accesses.list({ libraryId: lib.id })).data.map((s) => s.role),
      ["Owner", "Editor"],
    );
    const name = `${uniq("by-editor")}.txt`;
    const up = await upload(other, lib.id, name, "uploaded by the editor workspace");
    assert.equal(up.libraryId, lib.id);
    assert.equal(up.uploadedById, otherWs);
    await waitDone(other, lib.id, up.id);
    assert.equal((await c.beta.libraries.documents.get({ libraryId: lib.id, documentId: up.id })).name, name);
    const renamed = await other.beta.libraries.documents.update({ libraryId: lib.id, documentId: up.id, updateDocumentRequest: { name: "e.txt" } });
    assert.equal(renamed.name, "e.txt");
    await expectStatus(other.beta.libraries.delete({ libraryId: lib.id }), 403, "Editor delete library");
    await expectStatus(
      other.beta.libraries.accesses.delete({ libraryId: lib.id, sharingDelete: { shareWithUuid: otherWs, shareWithType: "Workspace" } }),
      403,
      "Editor unshares",
    );

    // Revoke.
    const removed = await c.beta.libraries.accesses.delete({
      libraryId: lib.id,
      sharingDelete: { shareWithUuid: otherWs, shareWithType: "Workspace" },
    });
    if (removed !== undefined) {
      assert.equal(removed.libraryId, lib.id);
      assert.equal(removed.shareWithUuid, otherWs);
    }
    assert.deepEqual((await c.beta.libraries.accesses.list({ libraryId: lib.id })).data.map((s) => s.role), ["Owner"]);
    await expectStatus(other.beta.libraries.get({ libraryId: lib.id }), 404, "after revoke");
    await expectStatus(
      c.beta.libraries.accesses.delete({ libraryId: lib.id, sharingDelete: { shareWithUuid: otherWs, shareWithType: "Workspace" } }),
      404,
      "revoke twice",
    );
  });

  test("bad share targets are 422 (User, unknown workspace, the owner itself)", async () => {
    const lib = await newLibrary(c);
    const share = (shareWithType, shareWithUuid, level = "Viewer") =>
      c.beta.libraries.accesses.updateOrCreate({ libraryId: lib.id, sharingRequest: { level, shareWithUuid, shareWithType } });
    await expectStatus(share("User", randomId()), 422, "share with a user");
    await expectStatus(share("Workspace", "ws_" + randomId()), 422, "unknown workspace");
    await expectStatus(share("Workspace", lib.ownerId), 422, "the owner itself");
    await expectStatus(share("Workspace", await otherWorkspaceId(), "Owner"), 422, "level Owner");
    await expectStatus(c.beta.libraries.accesses.list({ libraryId: randomId() }), 404);
  });

  test("Org sharing: every workspace of the deployment gets the level", async () => {
    const lib = await newLibrary(c);
    const orgId = (await c.beta.libraries.accesses.list({ libraryId: lib.id })).data[0].orgId;
    const sh = await c.beta.libraries.accesses.updateOrCreate({
      libraryId: lib.id,
      sharingRequest: { level: "Viewer", shareWithUuid: orgId, shareWithType: "Org" },
    });
    assert.equal(sh.shareWithType, "Org");
    assert.equal(sh.role, "Viewer");
    try {
      assert.equal((await other.beta.libraries.get({ libraryId: lib.id })).id, lib.id);
      await expectStatus(upload(other, lib.id, "x.txt", "x"), 403);
    } finally {
      await c.beta.libraries.accesses.delete({ libraryId: lib.id, sharingDelete: { shareWithUuid: orgId, shareWithType: "Org" } });
      await safeDeleteLibrary(c, lib.id);
    }
    await expectStatus(other.beta.libraries.get({ libraryId: lib.id }), 404);
  });
});
