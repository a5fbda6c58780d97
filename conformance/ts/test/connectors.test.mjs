// Connectors API (client.beta.connectors) and MCP connector tools through the official TS SDK.
// Wire contract: shared/API.md §11; behaviour: docs/connectors.md ("MCP connectors").
// run.sh starts the MCP reference server "everything" on loopback (MCP_EVERYTHING_URL) and lets
// connectors reach exactly that address (connectors.allow_private_hosts). A connector's tools
// are offered to the model as "<connector name>__<tool>"; the script rule
// "conf-mcp-echo <function> <text>" makes the model call that function with {message: text},
// and answers the result with "conf-mcp done: <result>".

import { describe, test } from "node:test";

import { createAgent, expectStatus, otherClient, rawFetch, uniq } from "../lib/helpers.mjs";
import { MODEL, append, assert, assertResponse, assertStreamMatchesHistory, checkStream, client, collect, history, last, textOf } from "../lib/conv.mjs";

const c = client();
const other = otherClient();
const MCP = process.env.MCP_EVERYTHING_URL || "";
const IN_CI = ["true", "1"].includes(String(process.env.CI || "").toLowerCase());
const skip = MCP || IN_CI ? false : "MCP_EVERYTHING_URL not set (run conformance/install.sh, then run.sh)";

async function register(extra = {}) {
  const name = uniq("mcp").replace(/-/g, "_");
  const conn = await c.beta.connectors.create({ protocol: "mcp", name, description: "the MCP reference server", server: MCP, ...extra });
  return conn;
}

describe("connectors API", { skip }, () => {
  test("create, get by id and by name, list, update, delete", async () => {
    const conn = await register({ title: "Everything" });
    assert.equal(conn.protocol, "mcp");
    assert.equal(conn.server, MCP);
    assert.equal(conn.title, "Everything");
    assert.equal(conn.ownerType, "workspace");
    assert.ok(conn.createdAt instanceof Date);
    const byId = await c.beta.connectors.get({ connectorIdOrName: conn.id });
    const byName = await c.beta.connectors.get({ connectorIdOrName: conn.name });
    assert.equal(byId.id, conn.id);
    assert.equal(byName.id, conn.id);
    const page = await c.beta.connectors.list({ pageSize: 1000 });
    assert.ok(page.items.some((x) => x.id === conn.id), "listed");
    const up = await c.beta.connectors.update({ connectorId: conn.id, requestBody: { protocol: "mcp", description: "updated" } });
    assert.equal(up.description, "updated");
    await expectStatus(c.beta.connectors.create({ protocol: "mcp", name: conn.name, description: "dup", server: MCP }), 409, "duplicate name");
    const del = await c.beta.connectors.delete({ connectorId: conn.id });
    assert.equal(typeof del.message, "string");
    await expectStatus(c.beta.connectors.get({ connectorIdOrName: conn.id }), 404, "after delete");
  });

  test("cursor pagination", async () => {
    for (let i = 0; i < 3; i++) await register();
    const seen = new Set();
    let cursor;
    for (let n = 0; n < 100; n++) {
      const page = await c.beta.connectors.list({ pageSize: 2, cursor });
      assert.equal(page.pagination.pageSize, 2);
      for (const it of page.items) {
        assert.ok(!seen.has(it.id), "no item twice");
        seen.add(it.id);
      }
      if (!page.pagination.nextCursor) break;
      cursor = page.pagination.nextCursor;
    }
    assert.ok(seen.size >= 3);
  });

  test("list_tools and call_tool (text and image)", async () => {
    const conn = await register();
    const tools = await c.beta.connectors.listTools({ connectorIdOrName: conn.name, refresh: true });
    const names = tools.map((t) => t.name);
    for (const want of ["echo", "get-sum", "get-tiny-image"]) assert.ok(names.includes(want), `${want} in ${names}`);
    const echo = tools.find((t) => t.name === "echo");
    assert.equal(echo.inputSchema.type, "object");
    const res = await c.beta.connectors.callTool({ connectorIdOrName: conn.id, toolName: "echo", connectorCallToolRequest: { arguments: { message: "hi" } } });
    assert.equal(res.content[0].type, "text");
    assert.equal(res.content[0].text, "Echo: hi");
    const sum = await c.beta.connectors.callTool({ connectorIdOrName: conn.id, toolName: "get-sum", connectorCallToolRequest: { arguments: { a: 2, b: 3 } } });
    assert.match(sum.content[0].text, /5/);
    const img = await c.beta.connectors.callTool({ connectorIdOrName: conn.id, toolName: "get-tiny-image", connectorCallToolRequest: { arguments: {} } });
    const image = img.content.find((x) => x.type === "image");
    assert.ok(image, JSON.stringify(img.content).slice(0, 200));
    assert.equal(image.mimeType, "image/png");
  });

  test("workspace credentials: created, listed without the secret, deleted", async () => {
    const conn = await register();
    await c.beta.connectors.createCredentials({ connectorIdOrName: conn.id, consumerScope: "workspace",
      credentialsCreateOrUpdate: { name: "main", credentials: { bearerToken: "tok-secret-123", headers: { "X-Team": "a" } } } });
    const list = await c.beta.connectors.listWorkspaceCredentials({ connectorIdOrName: conn.id });
    assert.equal(list.credentials.length, 1);
    assert.equal(list.credentials[0].name, "main");
    assert.equal(list.credentials[0].authenticationType, "bearer");
    assert.ok(!JSON.stringify(list).includes("tok-secret-123"), "the secret is never returned");
    await c.beta.connectors.updateCredentials({ connectorIdOrName: conn.id, consumerScope: "workspace",
      credentialsCreateOrUpdate: { name: "main", credentials: { bearerToken: "tok-2" } } });
    // The reference server ignores the token: calls still work with it sent.
    const res = await c.beta.connectors.callTool({ connectorIdOrName: conn.id, toolName: "echo", connectorCallToolRequest: { arguments: { message: "x" } } });
    assert.equal(res.content[0].text, "Echo: x");
    await expectStatus(c.beta.connectors.createCredentials({ connectorIdOrName: conn.id, consumerScope: "organization",
      credentialsCreateOrUpdate: { name: "org" } }), 400, "organization scope");
    await c.beta.connectors.deleteWorkspaceCredentials({ connectorIdOrName: conn.id, credentialsName: "main" });
    assert.equal((await c.beta.connectors.listWorkspaceCredentials({ connectorIdOrName: conn.id })).credentials.length, 0);
  });

  test("isolation: another workspace gets 404 on get, call_tool, list_tools and delete, and does not list it", async () => {
    const conn = await register();
    await expectStatus(other.beta.connectors.get({ connectorIdOrName: conn.id }), 404, "get");
    await expectStatus(other.beta.connectors.get({ connectorIdOrName: conn.name }), 404, "get by name");
    await expectStatus(other.beta.connectors.callTool({ connectorIdOrName: conn.id, toolName: "echo", connectorCallToolRequest: { arguments: { message: "x" } } }), 404, "call_tool");
    await expectStatus(other.beta.connectors.listTools({ connectorIdOrName: conn.id }), 404, "list_tools");
    await expectStatus(other.beta.connectors.delete({ connectorId: conn.id }), 404, "delete");
    const page = await other.beta.connectors.list({ pageSize: 1000 });
    assert.ok(!page.items.some((x) => x.id === conn.id), "not listed");
    await expectStatus(createAgent(other, { tools: [{ type: "connector", connectorId: conn.id }] }), "4xx", "agent with another workspace's connector");
  });

  test("SSRF: a private address is refused without the opt-in, naming the setting", async () => {
    for (const server of ["http://127.0.0.1:1/mcp", "http://169.254.169.254/latest", "http://10.1.2.3/mcp"]) {
      const err = await expectStatus(c.beta.connectors.create({ protocol: "mcp", name: uniq("ssrf"), description: "x", server }), "4xx", server);
      assert.match(String(err.body), /connectors\.allow_private/);
    }
  });

  test("unsupported: OAuth auth_url answers a clear 4xx", async () => {
    const conn = await register();
    const res = await rawFetch(`/v1/connectors/${conn.id}/auth_url`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /not supported/);
  });

  test("an unreachable server: 502 on list_tools, a readable error in a conversation", async () => {
    // A loopback port nothing listens on, registered on a server whose URL is allowed:
    // the MCP server's own host:port is, so take its host with a port that refuses.
    const conn = await register();
    await c.beta.connectors.update({ connectorId: conn.id, requestBody: { protocol: "mcp", server: MCP.replace(/\/mcp$/, "/nothing-here") } });
    await expectStatus(c.beta.connectors.listTools({ connectorIdOrName: conn.id, refresh: true }), [502, 504], "list_tools");
    const res = await c.beta.conversations.start({ model: MODEL, inputs: `conf-mcp-echo ${conn.name}__echo hello`,
      tools: [{ type: "connector", connectorId: conn.id }] });
    assertResponse(res);
    const ex = res.outputs.find((o) => o.type === "tool.execution");
    assert.ok(ex, "the call is recorded");
    assert.ok(ex.info.error, "with an error the user can see");
  });
});

describe("MCP tools in conversations", { skip }, () => {
  test("an agent calls an MCP tool: tool.execution with info, then the answer; usage counts it", async () => {
    const conn = await register();
    const a = await createAgent(c, { tools: [{ type: "connector", connectorId: conn.id }] });
    assert.equal(a.tools[0].type, "connector");
    const fn = `${conn.name}__echo`;
    const res = await c.beta.conversations.start({ agentId: a.id, inputs: `conf-mcp-echo ${fn} bonjour` });
    assertResponse(res);
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assert.equal(ex.name, fn);
    assert.deepEqual(JSON.parse(ex.arguments), { message: "bonjour" });
    assert.equal(ex.info.connector_id, conn.id);
    assert.equal(ex.info.tool, "echo");
    assert.equal(ex.info.result.content[0].text, "Echo: bonjour");
    assert.equal(textOf(last(res).content), "conf-mcp done: Echo: bonjour");
    assert.equal(res.usage.connectors?.[fn], 1);
    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "tool.execution", "message.output"]);
  });

  test("streaming: tool.execution.started/done then message deltas, matching the history", async () => {
    const conn = await register();
    const fn = `${conn.name}__echo`;
    const events = await collect(await c.beta.conversations.startStream({ model: MODEL, inputs: `conf-mcp-echo ${fn} streamed`,
      tools: [{ type: "connector", connectorId: conn.id }] }));
    const s = checkStream(events);
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = s.outputs[0];
    assert.equal(ex.events[0], "tool.execution.started");
    assert.equal(ex.events[ex.events.length - 1], "tool.execution.done");
    assert.equal(ex.info.tool, "echo");
    assert.match(s.outputs[1].text, /conf-mcp done: Echo: streamed/);
    await assertStreamMatchesHistory(c, s);
  });

  test("requires_confirmation on an MCP tool: pending, then allow runs it", async () => {
    const conn = await register();
    const a = await createAgent(c, { tools: [{ type: "connector", connectorId: conn.id, toolConfiguration: { requiresConfirmation: ["echo"] } }] });
    const fn = `${conn.name}__echo`;
    const res = await c.beta.conversations.start({ agentId: a.id, inputs: `conf-mcp-echo ${fn} careful` });
    assert.equal(res.outputs.length, 1);
    const call = res.outputs[0];
    assert.equal(call.type, "function.call");
    assert.equal(call.name, fn);
    assert.equal(call.confirmationStatus, "pending");
    const next = await append(c, res.conversationId, { toolConfirmations: [{ toolCallId: call.toolCallId, confirmation: "allow" }] });
    assert.deepEqual(next.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    assert.equal(textOf(last(next).content), "conf-mcp done: Echo: careful");
    // The conversation goes on normally afterwards.
    const again = await append(c, res.conversationId, { inputs: "conf-show-system" });
    assert.equal(again.outputs[0].type, "message.output");
  });

  test("include/exclude filter the offered tools", async () => {
    const conn = await register();
    const res = await c.beta.conversations.start({ model: MODEL, inputs: "conf-show-system",
      tools: [{ type: "connector", connectorId: conn.id, toolConfiguration: { include: ["echo", "get-sum"], exclude: ["get-sum"] } }] });
    const text = textOf(last(res).content);
    assert.match(text, new RegExp(`${conn.name}__echo`));
    assert.doesNotMatch(text, /__get-sum/);
  });

  test("a connector_id the workspace cannot see is a 4xx at conversation start", async () => {
    await expectStatus(c.beta.conversations.start({ model: MODEL, inputs: "x", tools: [{ type: "connector", connectorId: "no-such-connector" }] }), "4xx", "start");
  });
});
