// The document_library connector through the official TS SDK: agents (and model conversations)
// whose tools include {type: "document_library", libraryIds}. Contract: shared/API.md §1.2,
// §4.1 (tool_reference chunks), §5.2 (events), §7.1 (document_library outputs); behaviour:
// docs/libraries.md#the-document_library-connector.
//
// Script rules (upstream-script.yaml): "conf-doclib-cite <marker> <query>" makes the model call
// document_library({query}); on passages it answers "The tramontane blows from the north-west
// across the Languedoc [1]. conf-doclib-cite done."; with no passage "conf-doclib: the libraries
// have nothing on that."; when the tool fails "conf-doclib: the libraries could not be searched."

import { describe, test } from "node:test";

import { URL_BASE, createAgent, expectStatus, otherClient } from "../lib/helpers.mjs";
import {
  MODEL,
  assert,
  assertResponse,
  assertStreamMatchesHistory,
  checkStream,
  client,
  collect,
  history,
  last,
  textOf,
  uniq,
  upstreamRequests,
} from "../lib/conv.mjs";
import { assertStreamedChunksMatchHistory, chunksOf, stripCitations } from "../lib/connectors.mjs";
import {
  fetchSigned,
  libraryWithDocs,
  makePDF,
  newLibrary,
  otherWorkspaceId,
  uploadBytes,
  waitDone,
  word,
} from "../lib/libraries.mjs";

const c = client();
const other = otherClient();

const CITED_TEXT = "The tramontane blows from the north-west across the Languedoc. conf-doclib-cite done.";

const docTool = (...libraryIds) => ({ type: "document_library", libraryIds });

/** The user input of the citing scenario: trigger, unique marker, query. */
function citeInput(query) {
  const marker = uniq("m");
  return { input: `conf-doclib-cite ${marker} ${query}`, marker };
}

/** Assert a tool_reference chunk (SDK ToolReferenceChunk) citing document `doc` named `name`. */
async function assertDocRef(ch, doc, name, text) {
  assert.equal(ch.type, "tool_reference", JSON.stringify(ch));
  assert.equal(ch.tool, "document_library");
  assert.equal(ch.title, name, "title = the document's name");
  assert.equal(typeof ch.url, "string");
  const u = new URL(ch.url);
  assert.equal(u.pathname, `/documents/signed/${doc.id}`, `url is the document's signed link: ${ch.url}`);
  assert.ok(u.searchParams.get("signature") && u.searchParams.get("expires"), ch.url);
  assert.ok(ch.url.startsWith(URL_BASE + "/"), `link on the server: ${ch.url}`);
  if (ch.description !== undefined && ch.description !== null) assert.equal(typeof ch.description, "string");
  // The link works without an API key and serves the original document.
  const got = await fetchSigned(ch.url);
  assert.equal(got.res.status, 200, ch.url);
  assert.equal(got.body.toString("utf8"), text);
}

/** Assert tool.execution info: {query, results: [{chunk_id, document_id, score}], …}. */
function assertInfo(info, query) {
  assert.equal(info.query, query, JSON.stringify(info));
  assert.equal(info.error, undefined, `no error: ${JSON.stringify(info)}`);
  assert.ok(Array.isArray(info.results), JSON.stringify(info));
  for (const r of info.results) {
    // chunk_id: the server's id of the passage (Tramontane: an integer; any scalar id is fine).
    assert.ok(["string", "number"].includes(typeof r.chunk_id), JSON.stringify(r));
    assert.equal(typeof r.document_id, "string", JSON.stringify(r));
    assert.equal(typeof r.score, "number", JSON.stringify(r));
  }
  const scores = info.results.map((r) => r.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), "results best first");
}

describe("document_library connector", () => {
  test("agent: tool.execution (query, results) then message.output citing the document (tool_reference)", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const agent = await createAgent(c, { tools: [docTool(lib.id)] });
    assert.deepEqual(agent.tools.map((t) => [t.type, t.libraryIds]), [["document_library", [lib.id]]]);
    const query = `${fx.tokens.md} tramontane`;
    const { input, marker } = citeInput(query);

    const res = assertResponse(await c.beta.conversations.start({ agentId: agent.id, inputs: input }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assert.equal(ex.name, "document_library");
    assert.equal(ex.agentId, agent.id);
    assert.deepEqual(JSON.parse(ex.arguments), { query });
    assertInfo(ex.info, query);
    assert.ok(ex.info.results.length >= 1);
    assert.equal(ex.info.results[0].document_id, docs.md.id, "the document with the rare word ranks first");
    const docIds = new Set(ex.info.results.map((r) => r.document_id));
    assert.ok(!docIds.has(docs.txt.id), "the text file matches no query word");

    const msg = res.outputs[1];
    assert.equal(msg.agentId, agent.id);
    assert.ok(Array.isArray(msg.content), `content is a chunk list: ${JSON.stringify(msg.content)}`);
    assert.deepEqual(msg.content.map((ch) => ch.type), ["text", "tool_reference", "text"]);
    const [ref] = chunksOf(msg.content, "tool_reference");
    await assertDocRef(ref, docs.md, fx.md.fileName, fx.md.text);
    assert.match(stripCitations(msg.content[0].text), /across the Languedoc\.?$/);
    assert.equal(stripCitations(textOf(msg.content)), CITED_TEXT);

    assert.equal(res.usage.connectors?.document_library, 1, JSON.stringify(res.usage));
    assert.ok(res.usage.connectorTokens > 0, `connector_tokens: ${JSON.stringify(res.usage)}`);

    // What the model read: numbered passages, [1] from the markdown document.
    const reqs = await upstreamRequests(marker);
    if (reqs) {
      const toolMsgs = reqs.flatMap((r) => r.messages.filter((m) => m.role === "tool"));
      assert.equal(toolMsgs.length, 1);
      const body = typeof toolMsgs[0].content === "string" ? toolMsgs[0].content : JSON.stringify(toolMsgs[0].content);
      assert.ok(body.includes(`[1] ${fx.md.fileName}`), body.slice(0, 600));
      assert.ok(body.includes(`Marker ${fx.tokens.md}`), `the passage text is given: ${body.slice(0, 600)}`);
      // The model is offered one function, document_library({query}).
      const offered = reqs[0].tools.map((t) => t.function?.name);
      assert.deepEqual(offered, ["document_library"]);
    }

    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "tool.execution", "message.output"]);
    assert.deepEqual(h[2].content, msg.content);
    assert.deepEqual(h[1].info, ex.info);
  });

  test("model conversation: a query with no passage gives empty results and the run goes on", async () => {
    const { lib } = await libraryWithDocs(c);
    const query = word("nothingmatches");
    const { input } = citeInput(query);
    const res = assertResponse(await c.beta.conversations.start({ model: MODEL, inputs: input, tools: [docTool(lib.id)] }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    assertInfo(res.outputs[0].info, query);
    assert.deepEqual(res.outputs[0].info.results, []);
    assert.equal(textOf(last(res).content), "conf-doclib: the libraries have nothing on that.");
    assert.equal(res.usage.connectors?.document_library, 1);
  });

  test("stream: tool.execution.started/done, then message.output.delta events carrying the tool_reference chunk", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const agent = await createAgent(c, { tools: [docTool(lib.id)] });
    const query = `${fx.tokens.html} Narbonne`;
    const { input } = citeInput(query);
    const events = await collect(await c.beta.conversations.startStream({ agentId: agent.id, inputs: input }));
    const s = checkStream(events);
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = s.outputs[0];
    assert.equal(ex.events[0], "tool.execution.started");
    assert.equal(ex.events[ex.events.length - 1], "tool.execution.done");
    assert.equal(ex.name, "document_library");
    assert.deepEqual(JSON.parse(ex.arguments), { query });
    assertInfo(ex.info, query);
    assert.equal(ex.info.results[0].document_id, docs.html.id);

    // Every delta is a string token or one chunk the SDK parsed; one of them is the citation.
    const deltas = events.filter((e) => e.data.type === "message.output.delta").map((e) => e.data);
    const refDeltas = deltas.filter((d) => typeof d.content !== "string" && d.content.type === "tool_reference");
    assert.equal(refDeltas.length, 1, `one tool_reference delta: ${JSON.stringify(deltas).slice(0, 600)}`);
    for (const d of deltas) {
      assert.ok(Number.isInteger(d.contentIndex));
      if (typeof d.content !== "string") assert.ok(["text", "tool_reference"].includes(d.content.type), JSON.stringify(d.content));
    }
    await assertDocRef(refDeltas[0].content, docs.html, fx.html.fileName, fx.html.text);
    assert.equal(stripCitations(s.outputs[1].text), CITED_TEXT);
    assert.equal(s.usage.connectors?.document_library, 1);
    assert.ok(s.usage.connectorTokens > 0);

    await assertStreamMatchesHistory(c, s);
    const stored = await assertStreamedChunksMatchHistory(c, s, 1);
    assert.deepEqual(chunksOf(stored.content, "tool_reference").map((r) => r.title), [fx.html.fileName]);
  });

  test("a PDF passage is cited with the page: url = signed link + #page=N", async () => {
    // Small chunks (chunk_size 32) and a heading at the top of page two, so that page two's
    // passage is a chunk of its own (a chunk stops at a new section once a quarter full).
    const lib = await newLibrary(c, { chunkSize: 32 });
    const tok = word("zpdf");
    const pdf = makePDF([
      [
        "Winds of southern France are described in this atlas chapter.",
        "Each wind has a name, a direction and a season of strength.",
        "The following pages list them one after another in order.",
      ],
      [{ text: "Tramontane", size: 20 }, `The tramontane section ${tok} lives on page two.`],
      ["Appendix closes."],
    ]);
    const name = `${uniq("atlas")}.pdf`;
    const d = await uploadBytes(c, lib.id, name, pdf);
    await waitDone(c, lib.id, d.id);
    const res = assertResponse(await c.beta.conversations.start({ model: MODEL, inputs: citeInput(tok).input, tools: [docTool(lib.id)] }));
    assert.deepEqual(res.outputs[0].info.results.map((r) => r.document_id), [d.id]);
    const [ref] = chunksOf(last(res).content, "tool_reference");
    assert.equal(ref.title, name);
    const u = new URL(ref.url);
    assert.equal(u.pathname, `/documents/signed/${d.id}`);
    assert.equal(u.hash, "#page=2", ref.url);
    assert.equal(ref.description, "Tramontane", "description = the passage's heading");
    // The model was told the same page.
    const reqs = await upstreamRequests(tok);
    if (reqs) {
      const tool = reqs.flatMap((r) => r.messages.filter((m) => m.role === "tool"))[0];
      assert.ok(String(tool.content).includes(`[1] ${name}, page 2 — Tramontane`), String(tool.content).slice(0, 400));
    }
    const got = await fetchSigned(ref.url);
    assert.equal(got.res.status, 200);
    assert.deepEqual(got.body, pdf);
  });

  test("sharing: another workspace names a library in an agent only once shared, and searches it only while shared", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const otherWs = await otherWorkspaceId();
    const query = `${fx.tokens.txt} mistral`;

    // Not shared: another workspace cannot even name it in an agent.
    await expectStatus(createAgent(other, { tools: [docTool(lib.id)] }), 422);

    // Shared as Viewer: searchable, cited like the owner's own documents.
    await c.beta.libraries.accesses.updateOrCreate({
      libraryId: lib.id,
      sharingRequest: { level: "Viewer", shareWithUuid: otherWs, shareWithType: "Workspace" },
    });
    const agent = await createAgent(other, { tools: [docTool(lib.id)] });
    const run = async () =>
      assertResponse(await other.beta.conversations.start({ agentId: agent.id, inputs: citeInput(query).input }));
    let res = await run();
    assertInfo(res.outputs[0].info, query);
    assert.equal(res.outputs[0].info.results[0].document_id, docs.txt.id);
    const [ref] = chunksOf(last(res).content, "tool_reference");
    await assertDocRef(ref, docs.txt, fx.txt.fileName, fx.txt.text);

    // Revoked: not found again.
    await c.beta.libraries.accesses.delete({ libraryId: lib.id, sharingDelete: { shareWithUuid: otherWs, shareWithType: "Workspace" } });
    res = await run();
    assert.equal(typeof res.outputs[0].info.error, "string");
  });

  test("several libraries: unreadable ids are skipped and named in info", async () => {
    const { lib, fx, docs } = await libraryWithDocs(c);
    const foreign = (await libraryWithDocs(other)).lib;
    const query = `${fx.tokens.md}`;
    const res = assertResponse(
      await c.beta.conversations.start({ model: MODEL, inputs: citeInput(query).input, tools: [docTool(lib.id, foreign.id)] }),
    );
    const info = res.outputs[0].info;
    assertInfo(info, query);
    assert.deepEqual(info.missing_library_ids, [foreign.id], JSON.stringify(info));
    assert.deepEqual(info.results.map((r) => r.document_id), [docs.md.id]);
    assert.deepEqual(chunksOf(last(res).content, "tool_reference").map((r) => r.title), [fx.md.fileName]);
  });
});
