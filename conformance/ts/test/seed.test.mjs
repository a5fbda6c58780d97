// The product description's (shared/seed) TypeScript examples, run as written against the
// server with only `serverURL` added, plus the minimal fixes shared/API.md §10(d) lists.
// Each test quotes its seed section. The model behind them is the fake upstream
// (conformance/upstream-script.yaml), which recognises the seed's own input texts.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Mistral } from "@mistralai/mistralai";

import { KEY, URL_BASE, uniq } from "../lib/helpers.mjs";
import { textOf } from "../lib/conv.mjs";

// Seed §12: `const client = new Mistral({ apiKey: process.env.MISTRAL_API_KEY! });`
// The only change: serverURL points at the server under test.
const client = new Mistral({ apiKey: KEY, serverURL: URL_BASE });

describe("seed examples (TypeScript)", () => {
  test("seed §5.1: webAgent with web_search, then conversations.start", async () => {
    // Seed §5.1, as written:
    //   const webAgent = await client.beta.agents.create({
    //     model:"mistral-medium-latest", name:"news-bot", tools:[{type:"web_search"}] });
    //   const res = await client.beta.conversations.start({
    //     agentId: webAgent.id, inputs:"Latest SpaceX launch?" });
    // No fix needed.
    const webAgent = await client.beta.agents.create({
      model: "mistral-medium-latest",
      name: "news-bot",
      tools: [{ type: "web_search" }],
    });
    const res = await client.beta.conversations.start({
      agentId: webAgent.id,
      inputs: "Latest SpaceX launch?",
    });
    assert.equal(webAgent.tools[0].type, "web_search");
    // The agent searched (a tool.execution entry), then answered.
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    assert.equal(res.outputs[0].name, "web_search");
    assert.equal(typeof res.outputs[0].arguments, "string");
    assert.equal(res.outputs[1].agentId, webAgent.id);
    // "Parse tool_reference chunks for source URLs": content is a string or chunks; any
    // tool_reference chunk must carry tool and title.
    const content = res.outputs[1].content;
    if (Array.isArray(content)) {
      for (const ch of content.filter((x) => x.type === "tool_reference")) {
        assert.equal(typeof ch.title, "string");
        assert.equal(typeof ch.tool, "string");
      }
    }
  });

  test("seed §5.3: graphAgent with code_interpreter (fix: `name` added, required by the SDK)", async () => {
    // Seed §5.3:
    //   const graphAgent = await client.beta.agents.create({
    //     model:"mistral-large-latest", tools:[{type:"code_interpreter"}],
    //     instructions:"Use code interpreter to plot when asked." });
    // Minimal fix (API.md §10(d)): agents need `name`.
    const graphAgent = await client.beta.agents.create({
      model: "mistral-large-latest",
      name: "graph-bot",
      tools: [{ type: "code_interpreter" }],
      instructions: "Use code interpreter to plot when asked.",
    });
    assert.equal(graphAgent.model, "mistral-large-latest");
    assert.equal(graphAgent.tools[0].type, "code_interpreter");
  });

  test("seed §6/§12 (TypeScript pattern): get_stock_price function-calling loop", async () => {
    // Seed §12 "Same pattern in TypeScript":
    //   import { Mistral, FunctionResultEntry } from "@mistralai/mistralai";
    // Minimal fix: in SDK 2.7.0 FunctionResultEntry is a TypeScript *type* (exported from
    // "@mistralai/mistralai/models/components", not from the package root), so plain JS
    // builds the entry as an object literal { toolCallId, result }.
    function getStockPrice({ ticker }) {
      return { ticker, price: ticker === "TSLA" ? 251.2 : 189.5, currency: "USD" };
    }
    const schema = {
      name: "get_stock_price",
      description: "Fetch price.",
      parameters: {
        type: "object",
        properties: { ticker: { type: "string" } },
        required: ["ticker"],
      },
    };
    // §6 creates the agent without a name (fix: name added); §12 names it "fin-bot".
    const agent = await client.beta.agents.create({
      model: "mistral-medium-latest",
      name: "fin-bot",
      tools: [{ type: "web_search" }, { type: "function", function: schema }],
    });

    const resp = await client.beta.conversations.start({
      agentId: agent.id,
      inputs: "Current TSLA price and last news?",
    });
    const call = resp.outputs[resp.outputs.length - 1];
    assert.equal(call.type, "function.call");
    let final;
    if (call.type === "function.call") {
      const price = getStockPrice(JSON.parse(call.arguments));
      const entry = { toolCallId: call.toolCallId, result: JSON.stringify(price) };
      final = await client.beta.conversations.append({
        conversationId: resp.conversationId,
        conversationAppendRequest: { inputs: [entry] },
      });
    }
    const answer = textOf(final.outputs[final.outputs.length - 1].content);
    assert.equal(answer, 'The stock price lookup returned {"ticker":"TSLA","price":251.2,"currency":"USD"}');
  });

  test("seed §7 (TypeScript translation): handoffs via agents.update, then start", async () => {
    // Seed §7 is Python; the same calls through the TS SDK:
    //   client.beta.agents.update(agent_id=finance.id, handoffs=[web.id, ecb.id])
    //   resp = client.beta.conversations.start(agent_id=finance.id,
    //           inputs="Plot ECB rate evolution 2010-2024")
    //   # Server automatically passes conversation to ecb agent, then to graph agent
    const { finance, web, ecb, graph } = await seed7Agents(client);
    await client.beta.agents.update({ agentId: finance.id, updateAgentRequest: { handoffs: [web.id, ecb.id] } });
    const resp = await client.beta.conversations.start({
      agentId: finance.id,
      inputs: "Plot ECB rate evolution 2010-2024",
    });
    assert.deepEqual(resp.outputs.map((o) => o.type), ["agent.handoff", "agent.handoff", "message.output"]);
    assert.equal(resp.outputs[0].previousAgentId, finance.id);
    assert.equal(resp.outputs[0].nextAgentId, ecb.id);
    assert.equal(resp.outputs[1].previousAgentId, ecb.id);
    assert.equal(resp.outputs[1].nextAgentId, graph.id);
    assert.equal(resp.outputs[2].agentId, graph.id);
  });

  test("seed §9: error handling reads e.statusCode (404 and 429)", async () => {
    // Seed §9:
    //   try { ... } catch (e:any) { if (e.status===429) await wait(2000) }
    // Minimal fix (API.md §10(d)): the SDK's error carries the status as `e.statusCode`.
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    let seen404;
    try {
      await client.beta.conversations.get({ conversationId: "conv_" + uniq("missing").replace(/-/g, "") });
    } catch (e) {
      seen404 = e.statusCode;
    }
    assert.equal(seen404, 404);

    // A rate limit: the fake upstream answers 429 to "conf-ratelimit", which the server relays.
    let seen429;
    let waited = false;
    try {
      await client.beta.conversations.start({ model: "mistral-medium-latest", inputs: "conf-ratelimit seed9" });
    } catch (e) {
      seen429 = e.statusCode;
      if (e.statusCode === 429) {
        await wait(10);
        waited = true;
      }
      assert.ok(e.headers?.get("retry-after"), "a 429 carries Retry-After");
    }
    assert.equal(seen429, 429);
    assert.ok(waited);
  });
});

/** The agents of seed §7: finance (router), web, ecb-interest-rate, graph. */
export async function seed7Agents(client) {
  const graph = await client.beta.agents.create({
    model: "mistral-medium-latest",
    name: "graph-agent",
    instructions: "conf-seed7-graph: plot what you are given.",
    tools: [{ type: "code_interpreter" }],
  });
  const ecb = await client.beta.agents.create({
    model: "mistral-medium-latest",
    name: "ecb-interest-rate-agent",
    instructions: "conf-seed7-ecb: you know ECB interest rates.",
    handoffs: [graph.id],
  });
  const web = await client.beta.agents.create({
    model: "mistral-medium-latest",
    name: "web-search-agent",
    instructions: "conf-seed7-web: search the web.",
    tools: [{ type: "web_search" }],
  });
  const finance = await client.beta.agents.create({
    model: "mistral-medium-latest",
    name: "finance-agent",
    instructions: "conf-seed7-finance: route finance questions.",
  });
  return { finance, web, ecb, graph };
}
