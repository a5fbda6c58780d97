// The web_search and web_search_premium connectors through the official TS SDK.
// Contract: shared/API.md §4.1 (tool_reference chunks), §5.2 (events), §7.1 (outputs);
// behaviour: docs/connectors.md#web_search.
//
// run.sh points web_search at the fake upstream's fake SearXNG: every query finds
// /pages/1.html ("The Tramontane wind") and /pages/2.html ("Mistral and tramontane compared"),
// plus a duplicate of the first (dropped by the server), and web_search_premium also finds the
// news page /pages/3.html. Script rules (upstream-script.yaml): "conf-ws-cite …" searches for the
// input and answers citing [1] and [2]; "conf-wsp-cite …" uses web_search_premium and cites [3]
// and [1]; a query containing "conf-searxng-error" makes the fake engine fail.

import { describe, test } from "node:test";

import { createAgent, uniq } from "../lib/helpers.mjs";
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
  startModel,
  textOf,
  upstreamRequests,
} from "../lib/conv.mjs";
import {
  PAGES,
  assertStreamedChunksMatchHistory,
  chunksOf,
  pageURL,
  searxngRequests,
  skipUnless,
  stripCitations,
} from "../lib/connectors.mjs";

const c = client();
const skip = await skipUnless("web_search", { needsFake: true });

const CITED_TEXT = "The tramontane is a cold, dry wind from the north. It is a sister wind of the mistral. conf-ws-cite done.";

/** Assert a tool_reference chunk (SDK ToolReferenceChunk) pointing at fake page n. */
function assertRef(ch, n, tool = "web_search") {
  assert.equal(ch.type, "tool_reference", JSON.stringify(ch));
  assert.equal(ch.tool, tool);
  assert.equal(ch.title, PAGES[n].title);
  assert.equal(ch.url, pageURL(n));
  for (const k of ["favicon", "description"]) {
    if (ch[k] !== undefined && ch[k] !== null) assert.equal(typeof ch[k], "string", `${k}: ${JSON.stringify(ch)}`);
  }
}

describe("web_search connector", { skip }, () => {
  test("seed §5.1 webAgent: tool.execution (query, results) then message.output interleaving text and tool_reference chunks", async () => {
    // Seed §5.1: client.beta.agents.create({model:"mistral-medium-latest", name:"news-bot",
    // tools:[{type:"web_search"}]}), then conversations.start({agentId, inputs}).
    // "Parse tool_reference chunks for source URLs."
    const webAgent = await c.beta.agents.create({ model: MODEL, name: uniq("news-bot"), tools: [{ type: "web_search" }] });
    const q = `conf-ws-cite tramontane wind ${uniq("q")}`;
    const res = assertResponse(await c.beta.conversations.start({ agentId: webAgent.id, inputs: q }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);

    const ex = res.outputs[0];
    assert.equal(ex.name, "web_search");
    assert.equal(typeof ex.arguments, "string");
    assert.deepEqual(JSON.parse(ex.arguments), { query: q });
    assert.equal(ex.agentId, webAgent.id);
    assert.equal(ex.info.query, q, `info: ${JSON.stringify(ex.info)}`);
    assert.equal(ex.info.error, undefined, `no error: ${JSON.stringify(ex.info)}`);
    // The duplicate result URL is dropped; the engine's order is kept.
    assert.deepEqual(ex.info.results, [
      { title: PAGES[1].title, url: pageURL(1) },
      { title: PAGES[2].title, url: pageURL(2) },
    ]);

    const msg = res.outputs[1];
    assert.equal(msg.agentId, webAgent.id);
    assert.ok(Array.isArray(msg.content), `content is a chunk list: ${JSON.stringify(msg.content)}`);
    assert.deepEqual(msg.content.map((ch) => ch.type), ["text", "tool_reference", "text", "tool_reference", "text"]);
    const refs = chunksOf(msg.content, "tool_reference");
    assertRef(refs[0], 1);
    assertRef(refs[1], 2);
    // Each reference comes right after the sentence it supports.
    assert.match(stripCitations(msg.content[0].text), /cold, dry wind from the north$/);
    assert.match(stripCitations(msg.content[2].text), /sister wind of the mistral$/);
    assert.equal(stripCitations(textOf(msg.content)), CITED_TEXT);

    assert.equal(res.usage.connectors?.web_search, 1, JSON.stringify(res.usage));
    assert.ok(res.usage.connectorTokens > 0, `connector_tokens: ${JSON.stringify(res.usage)}`);

    // History keeps the same entries and the same chunk list.
    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "tool.execution", "message.output"]);
    assert.deepEqual(h[2].content, msg.content);
    assert.deepEqual(h[1].info, ex.info);
  });

  test("the engine is asked for the query, and the model reads the pages' article text without boilerplate", async () => {
    const q = `conf-ws-cite tramontane farmers ${uniq("q")}`;
    const res = assertResponse(await startModel(c, q, { tools: [{ type: "web_search" }] }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);

    const searches = await searxngRequests(q);
    assert.equal(searches.length, 1, "one SearXNG request for the query");
    assert.equal(searches[0].get("format"), "json");
    assert.ok(!(searches[0].get("categories") || "").includes("news"), "plain web_search does not ask for news");

    // The second model call carries the tool result: numbered sources with the extracted text.
    const reqs = await upstreamRequests(q);
    const toolMsgs = reqs.flatMap((r) => r.messages.filter((m) => m.role === "tool"));
    assert.equal(toolMsgs.length, 1, "the search result went to the model once");
    const body = typeof toolMsgs[0].content === "string" ? toolMsgs[0].content : JSON.stringify(toolMsgs[0].content);
    assert.ok(body.includes(`[1] ${PAGES[1].title} — ${pageURL(1)}`), body.slice(0, 500));
    assert.ok(body.includes(`[2] ${PAGES[2].title} — ${pageURL(2)}`), body.slice(0, 500));
    assert.ok(body.includes("Tramontane fact one") && body.includes("Tramontane fact two"), "article text is given");
    assert.ok(body.includes("cypress trees"), "page text is read, not only the engine's snippet");
    assert.ok(!body.includes("boilerplate-"), `nav/header/aside/footer/script text is dropped: ${body}`);
    assert.ok(!body.includes("[12]"), "Wikipedia-style footnote numbers are removed");
  });

  test("web_search_premium: news asked from the engine, the news page cited first", async () => {
    const q = `conf-wsp-cite tramontane news ${uniq("q")}`;
    const res = assertResponse(await startModel(c, q, { tools: [{ type: "web_search_premium" }] }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assert.equal(ex.name, "web_search_premium");
    assert.deepEqual(JSON.parse(ex.arguments), { query: q });
    assert.deepEqual(ex.info.results, [
      { title: PAGES[1].title, url: pageURL(1) },
      { title: PAGES[2].title, url: pageURL(2) },
      { title: PAGES[3].title, url: pageURL(3) },
    ]);
    const searches = await searxngRequests(q);
    assert.equal(searches.length, 1);
    assert.ok((searches[0].get("categories") || "").split(",").includes("news"), `categories=${searches[0].get("categories")}`);

    const msg = last(res);
    assert.deepEqual(msg.content.map((ch) => ch.type), ["text", "tool_reference", "text", "tool_reference", "text"]);
    const refs = chunksOf(msg.content, "tool_reference");
    // The chunk's tool names the connector (API.md §1.2 BuiltInConnectors).
    assert.ok(["web_search_premium", "web_search"].includes(refs[0].tool), refs[0].tool);
    assertRef(refs[0], 3, refs[0].tool);
    assertRef(refs[1], 1, refs[0].tool);
    assert.equal(
      stripCitations(textOf(msg.content)),
      "Tramontane gusts closed the port of Sète. The wind blows from the north. conf-wsp-cite done.",
    );
    assert.equal(res.usage.connectors?.web_search_premium, 1, JSON.stringify(res.usage));
    assert.ok(res.usage.connectorTokens > 0);
  });

  test("a search engine failure is reported in info.error and the run continues", async () => {
    const q = uniq("conf-websearch conf-searxng-error");
    const res = assertResponse(await startModel(c, q, { tools: [{ type: "web_search" }] }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assert.equal(ex.name, "web_search");
    assert.equal(typeof ex.info.error, "string", `info: ${JSON.stringify(ex.info)}`);
    assert.ok(ex.info.error.length > 0);
    assert.equal(textOf(last(res).content), "conf-websearch final: answered after the search.");
    assert.equal(res.usage.connectors?.web_search, 1);
  });

  test("stream: tool.execution.started/done (query, results), then message.output.delta events", async () => {
    const a = await createAgent(c, { tools: [{ type: "web_search" }] });
    const q = `conf-ws-cite streamed ${uniq("q")}`;
    const events = await collect(await c.beta.conversations.startStream({ agentId: a.id, inputs: q }));
    const s = checkStream(events);
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = s.outputs[0];
    assert.equal(ex.events[0], "tool.execution.started");
    assert.equal(ex.events[ex.events.length - 1], "tool.execution.done");
    assert.equal(ex.name, "web_search");
    assert.deepEqual(JSON.parse(ex.arguments), { query: q });
    assert.equal(ex.info.query, q);
    assert.deepEqual(ex.info.results.map((r) => r.url), [pageURL(1), pageURL(2)]);

    const msg = s.outputs[1];
    assert.equal(msg.agentId, a.id);
    // Every delta is a string token or one chunk the SDK parsed (TextChunk / ToolReferenceChunk).
    const deltas = events.filter((e) => e.data.type === "message.output.delta").map((e) => e.data);
    for (const d of deltas) {
      assert.ok(Number.isInteger(d.contentIndex), "content_index is an integer");
      if (typeof d.content !== "string") {
        assert.ok(["text", "tool_reference"].includes(d.content.type), `delta chunk: ${JSON.stringify(d.content)}`);
        if (d.content.type === "tool_reference") assert.equal(typeof d.content.title, "string");
      }
    }
    assert.equal(stripCitations(msg.text), CITED_TEXT);
    assert.equal(s.usage.connectors?.web_search, 1);
    assert.ok(s.usage.connectorTokens > 0);
    await assertStreamMatchesHistory(c, s);
  });

  test("stream: the message.output.delta events carry the tool_reference chunks of the stored message", async () => {
    const q = `conf-ws-cite streamed refs ${uniq("q")}`;
    const s = checkStream(await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: q, tools: [{ type: "web_search" }] })));
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const stored = await assertStreamedChunksMatchHistory(c, s, 1);
    const refs = chunksOf(stored.content, "tool_reference");
    assertRef(refs[0], 1);
    assertRef(refs[1], 2);
  });
});
