// Agents API (client.beta.agents) through the official TypeScript SDK.
// Wire contract: shared/API.md §2 and §7.5.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  HTTPValidationError,
  MODEL,
  assertAgent,
  badKeyClient,
  client,
  createAgent,
  expectStatus,
  libraryIdForTests,
  otherClient,
  randomId,
  sortedNums,
  uniq,
  weatherTool,
} from "../lib/helpers.mjs";

const c = client();

describe("agents: create / get", () => {
  test("create with every field returns version 0 and echoes the request", async () => {
    const name = uniq("full");
    const libId = await libraryIdForTests(c);
    const req = {
      model: MODEL,
      name,
      description: "Conformance agent with every field",
      instructions: "Answer in one sentence.",
      tools: [
        weatherTool("get_weather"),
        { type: "web_search" },
        { type: "document_library", libraryIds: [libId] },
      ],
      completionArgs: { temperature: 0.3, topP: 0.9, maxTokens: 256, toolChoice: "auto" },
      metadata: { team: "qa", tier: 2, nested: { ok: true } },
      guardrails: [{ blockOnError: true, moderationLlmV1: { action: "block" } }],
      versionMessage: "initial version",
    };
    const a = await c.beta.agents.create(req);
    assertAgent(a);
    assert.equal(a.object, "agent");
    assert.equal(a.version, 0);
    assert.deepEqual(a.versions, [0]);
    assert.equal(a.model, MODEL);
    assert.equal(a.name, name);
    assert.equal(a.description, req.description);
    assert.equal(a.instructions, req.instructions);
    assert.equal(a.deploymentChat, false);
    assert.equal(a.versionMessage, "initial version");
    assert.deepEqual(a.metadata, req.metadata);

    assert.equal(a.tools.length, 3);
    const [fn, ws, dl] = a.tools;
    assert.equal(fn.type, "function");
    assert.equal(fn.function.name, "get_weather");
    assert.equal(fn.function.description, "Get the current weather for a city");
    assert.deepEqual(fn.function.parameters, req.tools[0].function.parameters);
    assert.equal(ws.type, "web_search");
    assert.equal(dl.type, "document_library");
    assert.deepEqual(dl.libraryIds, [libId]);

    assert.equal(a.completionArgs.temperature, 0.3);
    assert.equal(a.completionArgs.topP, 0.9);
    assert.equal(a.completionArgs.maxTokens, 256);
    assert.equal(a.completionArgs.toolChoice, "auto");

    assert.equal(a.guardrails.length, 1);
    assert.equal(a.guardrails[0].blockOnError, true);
    assert.equal(a.guardrails[0].moderationLlmV1.action, "block");

    // createdAt is "now" (same machine, generous window).
    assert.ok(Math.abs(a.createdAt.getTime() - Date.now()) < 10 * 60 * 1000);

    // GET returns the same agent.
    const g = await c.beta.agents.get({ agentId: a.id });
    assertAgent(g);
    assert.equal(g.id, a.id);
    assert.equal(g.version, 0);
    assert.deepEqual(g.versions, [0]);
    assert.equal(g.name, name);
    assert.equal(g.description, req.description);
    assert.equal(g.instructions, req.instructions);
    assert.deepEqual(g.tools, a.tools);
    assert.deepEqual(g.completionArgs, a.completionArgs);
    assert.deepEqual(g.metadata, req.metadata);
    assert.deepEqual(g.guardrails, a.guardrails);
    assert.equal(g.createdAt.getTime(), a.createdAt.getTime());
  });

  test("create with only model and name (minimal)", async () => {
    const name = uniq("min");
    const a = await c.beta.agents.create({ model: MODEL, name });
    assertAgent(a);
    assert.equal(a.name, name);
    assert.equal(a.model, MODEL);
    assert.equal(a.version, 0);
    assert.deepEqual(a.versions, [0]);
    const g = await c.beta.agents.get({ agentId: a.id });
    assert.equal(g.id, a.id);
    assert.equal(g.name, name);
  });

  test("create with handoffs to an existing agent echoes them", async () => {
    const target = await createAgent(c);
    const a = await createAgent(c, { handoffs: [target.id] });
    assertAgent(a);
    assert.deepEqual(a.handoffs, [target.id]);
    const g = await c.beta.agents.get({ agentId: a.id });
    assert.deepEqual(g.handoffs, [target.id]);
  });
});

describe("agents: list", () => {
  test("list filters: name, search, id, metadata, sources, page/page_size", async () => {
    const tag = uniq("lst");
    const red1 = await createAgent(c, { name: `${tag}-red-1`, metadata: { suite: tag, color: "red" } });
    const red2 = await createAgent(c, { name: `${tag}-red-2`, metadata: { suite: tag, color: "red" } });
    const blue = await createAgent(c, { name: `${tag}-blue`, metadata: { suite: tag, color: "blue" } });
    const all = new Set([red1.id, red2.id, blue.id]);

    // Default listing: a bare array of Agent objects containing ours.
    const page = await c.beta.agents.list({ pageSize: 1000 });
    assert.ok(Array.isArray(page));
    page.forEach(assertAgent);
    for (const id of all) assert.ok(page.some((a) => a.id === id), `default list must contain ${id}`);

    // name: exact filter.
    const byName = await c.beta.agents.list({ name: `${tag}-blue` });
    assert.deepEqual(byName.map((a) => a.id), [blue.id]);

    // search: name (or id).
    const bySearch = await c.beta.agents.list({ search: tag, pageSize: 100 });
    assert.deepEqual(new Set(bySearch.map((a) => a.id)), all);

    // id filter.
    const byId = await c.beta.agents.list({ id: red2.id });
    assert.deepEqual(byId.map((a) => a.id), [red2.id]);

    // metadata filter (URL-encoded JSON object): all given key/values must match.
    const reds = await c.beta.agents.list({ metadata: { suite: tag, color: "red" }, pageSize: 100 });
    assert.deepEqual(new Set(reds.map((a) => a.id)), new Set([red1.id, red2.id]));
    const tagged = await c.beta.agents.list({ metadata: { suite: tag }, pageSize: 100 });
    assert.deepEqual(new Set(tagged.map((a) => a.id)), all);
    const none = await c.beta.agents.list({ metadata: { suite: tag, color: "green" } });
    assert.deepEqual(none, []);

    // sources: our agents were created through the API.
    const src = red1.source;
    const bySource = await c.beta.agents.list({ search: tag, sources: [src], pageSize: 100 });
    assert.deepEqual(new Set(bySource.map((a) => a.id)), all);
    const otherSource = src === "playground" ? "agent_builder_v1" : "playground";
    const byOtherSource = await c.beta.agents.list({ search: tag, sources: [otherSource] });
    assert.deepEqual(byOtherSource, []);

    // deployment_chat filter: ours are not deployed to chat.
    const deployed = await c.beta.agents.list({ search: tag, deploymentChat: true });
    assert.deepEqual(deployed, []);

    // page / page_size (0-based pages): 2 + 1, no overlap.
    const p0 = await c.beta.agents.list({ search: tag, page: 0, pageSize: 2 });
    const p1 = await c.beta.agents.list({ search: tag, page: 1, pageSize: 2 });
    const p2 = await c.beta.agents.list({ search: tag, page: 2, pageSize: 2 });
    assert.equal(p0.length, 2);
    assert.equal(p1.length, 1);
    assert.equal(p2.length, 0);
    assert.deepEqual(new Set([...p0, ...p1].map((a) => a.id)), all);
  });

  test("list does not return deleted agents", async () => {
    const tag = uniq("lstdel");
    const keep = await createAgent(c, { name: `${tag}-keep` });
    const gone = await createAgent(c, { name: `${tag}-gone` });
    await c.beta.agents.delete({ agentId: gone.id });
    const found = await c.beta.agents.list({ search: tag });
    assert.deepEqual(found.map((a) => a.id), [keep.id]);
  });

  test("listPages iterates with a cursor across several pages", async () => {
    const tag = uniq("pages");
    const ids = new Set();
    for (let i = 0; i < 5; i++) {
      ids.add((await createAgent(c, { name: `${tag}-${i}` })).id);
    }
    const seen = [];
    const sizes = [];
    const iter = await c.beta.agents.listPages({ search: tag, pageSize: 2 });
    for await (const page of iter) {
      assert.equal(page.result.object, "list");
      assert.ok(Array.isArray(page.result.data));
      page.result.data.forEach(assertAgent);
      sizes.push(page.result.data.length);
      seen.push(...page.result.data.map((a) => a.id));
      assert.ok(sizes.length <= 5, "paginator must terminate");
    }
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.equal(seen.length, 5, "no agent returned twice");
    assert.deepEqual(new Set(seen), ids);

    // First page carries a non-empty cursor; following it by hand gives the second page.
    const first = await c.beta.agents.listPages({ search: tag, pageSize: 2 });
    assert.equal(typeof first.result.nextPageToken, "string");
    assert.ok(first.result.nextPageToken.length > 0);
    const second = await c.beta.agents.listPages({
      search: tag,
      pageSize: 2,
      pageToken: first.result.nextPageToken,
    });
    assert.equal(second.result.data.length, 2);
    for (const a of second.result.data) {
      assert.ok(!first.result.data.some((b) => b.id === a.id), "pages must not overlap");
    }
  });

  test("listPages with filters (name, metadata)", async () => {
    const tag = uniq("pgflt");
    const a = await createAgent(c, { name: `${tag}-a`, metadata: { suite: tag, k: "v" } });
    await createAgent(c, { name: `${tag}-b`, metadata: { suite: tag, k: "w" } });
    const byName = await c.beta.agents.listPages({ name: `${tag}-a` });
    assert.deepEqual(byName.result.data.map((x) => x.id), [a.id]);
    const byMeta = await c.beta.agents.listPages({ metadata: { suite: tag, k: "v" } });
    assert.deepEqual(byMeta.result.data.map((x) => x.id), [a.id]);
  });
});

describe("agents: versions", () => {
  test("update creates version 1 (partial patch), update_version switches back", async () => {
    const name = uniq("ver");
    const a = await createAgent(c, {
      name,
      description: "v0 description",
      instructions: "v0 instructions",
      tools: [weatherTool("v0_tool")],
      completionArgs: { temperature: 0.1 },
      metadata: { rev: "0" },
      versionMessage: "v0",
    });
    assert.equal(a.version, 0);

    const u = await c.beta.agents.update({
      agentId: a.id,
      updateAgentRequest: {
        description: "v1 description",
        instructions: "v1 instructions",
        completionArgs: { temperature: 0.7, toolChoice: "any" },
        metadata: { rev: "1" },
        versionMessage: "v1",
      },
    });
    assertAgent(u);
    assert.equal(u.id, a.id);
    assert.equal(u.version, 1);
    assert.deepEqual(sortedNums(u.versions), [0, 1]);
    assert.equal(u.description, "v1 description");
    assert.equal(u.instructions, "v1 instructions");
    assert.equal(u.completionArgs.temperature, 0.7);
    assert.equal(u.completionArgs.toolChoice, "any");
    assert.deepEqual(u.metadata, { rev: "1" });
    assert.equal(u.versionMessage, "v1");
    // Fields not in the patch are kept.
    assert.equal(u.name, name);
    assert.equal(u.model, MODEL);
    assert.equal(u.tools.length, 1);
    assert.equal(u.tools[0].function.name, "v0_tool");

    // The new version is active.
    let g = await c.beta.agents.get({ agentId: a.id });
    assert.equal(g.version, 1);
    assert.equal(g.instructions, "v1 instructions");
    assert.deepEqual(sortedNums(g.versions), [0, 1]);

    // Explicit version through get?agent_version=.
    const g0 = await c.beta.agents.get({ agentId: a.id, agentVersion: 0 });
    assert.equal(g0.version, 0);
    assert.equal(g0.instructions, "v0 instructions");
    assert.equal(g0.description, "v0 description");
    assert.equal(g0.completionArgs.temperature, 0.1);
    assert.deepEqual(g0.metadata, { rev: "0" });

    // Switch the active version back to 0 without creating a new one.
    const sw = await c.beta.agents.updateVersion({ agentId: a.id, version: 0 });
    assertAgent(sw);
    assert.equal(sw.version, 0);
    assert.equal(sw.instructions, "v0 instructions");
    assert.deepEqual(sortedNums(sw.versions), [0, 1]);
    g = await c.beta.agents.get({ agentId: a.id });
    assert.equal(g.version, 0);
    assert.equal(g.instructions, "v0 instructions");
    assert.equal(g.description, "v0 description");
    assert.equal(g.versionMessage, "v0");
    assert.deepEqual(sortedNums(g.versions), [0, 1]);

    // Version 1 is still reachable.
    const g1 = await c.beta.agents.get({ agentId: a.id, agentVersion: 1 });
    assert.equal(g1.version, 1);
    assert.equal(g1.instructions, "v1 instructions");

    // An update after switching appends version 2 (max+1).
    const u2 = await c.beta.agents.update({
      agentId: a.id,
      updateAgentRequest: { name: `${name}-renamed` },
    });
    assert.equal(u2.version, 2);
    assert.deepEqual(sortedNums(u2.versions), [0, 1, 2]);
    assert.equal(u2.name, `${name}-renamed`);
  });

  test("update can replace tools and model fields", async () => {
    const a = await createAgent(c, { tools: [weatherTool("old_tool")] });
    const u = await c.beta.agents.update({
      agentId: a.id,
      updateAgentRequest: { tools: [{ type: "web_search" }, weatherTool("new_tool")], model: MODEL },
    });
    assert.equal(u.version, 1);
    assert.deepEqual(u.tools.map((t) => t.type), ["web_search", "function"]);
    assert.equal(u.tools[1].function.name, "new_tool");
  });

  test("update can set deployment_chat; list filters on it", async () => {
    const tag = uniq("deploy");
    const a = await createAgent(c, { name: `${tag}-on` });
    const b = await createAgent(c, { name: `${tag}-off` });
    assert.equal(a.deploymentChat, false);
    const u = await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { deploymentChat: true } });
    assert.equal(u.deploymentChat, true);
    assert.equal(u.version, 1);
    assert.equal((await c.beta.agents.get({ agentId: a.id })).deploymentChat, true);
    const on = await c.beta.agents.list({ search: tag, deploymentChat: true });
    assert.deepEqual(on.map((x) => x.id), [a.id]);
    const off = await c.beta.agents.list({ search: tag, deploymentChat: false });
    assert.deepEqual(off.map((x) => x.id), [b.id]);
  });

  test("list_versions and get_version", async () => {
    const a = await createAgent(c, { instructions: "i0" });
    await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { instructions: "i1" } });
    await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { instructions: "i2" } });

    const vs = await c.beta.agents.listVersions({ agentId: a.id });
    assert.ok(Array.isArray(vs));
    assert.equal(vs.length, 3);
    vs.forEach(assertAgent);
    assert.deepEqual(sortedNums(vs.map((v) => v.version)), [0, 1, 2]);
    for (const v of vs) {
      assert.equal(v.id, a.id);
      assert.equal(v.instructions, `i${v.version}`);
    }

    const paged0 = await c.beta.agents.listVersions({ agentId: a.id, page: 0, pageSize: 2 });
    const paged1 = await c.beta.agents.listVersions({ agentId: a.id, page: 1, pageSize: 2 });
    assert.equal(paged0.length, 2);
    assert.equal(paged1.length, 1);
    assert.deepEqual(sortedNums([...paged0, ...paged1].map((v) => v.version)), [0, 1, 2]);

    for (const n of [0, 1, 2]) {
      const v = await c.beta.agents.getVersion({ agentId: a.id, version: String(n) });
      assertAgent(v);
      assert.equal(v.id, a.id);
      assert.equal(v.version, n);
      assert.equal(v.instructions, `i${n}`);
    }
    await expectStatus(c.beta.agents.getVersion({ agentId: a.id, version: "7" }), 404, "unknown version");
    await expectStatus(c.beta.agents.get({ agentId: a.id, agentVersion: 7 }), 404, "get unknown version");
    await expectStatus(c.beta.agents.updateVersion({ agentId: a.id, version: 7 }), "4xx", "switch to unknown version");
  });
});

describe("agents: aliases", () => {
  test("create, re-point, list, resolve and delete aliases", async () => {
    const a = await createAgent(c, { instructions: "alias v0" });
    await c.beta.agents.update({ agentId: a.id, updateAgentRequest: { instructions: "alias v1" } });

    const created = await c.beta.agents.createVersionAlias({ agentId: a.id, alias: "prod", version: 0 });
    assert.equal(created.alias, "prod");
    assert.equal(created.version, 0);
    assert.ok(created.createdAt instanceof Date);
    assert.ok(created.updatedAt instanceof Date);

    let viaAlias = await c.beta.agents.get({ agentId: a.id, agentVersion: "prod" });
    assert.equal(viaAlias.version, 0);
    assert.equal(viaAlias.instructions, "alias v0");

    // Re-point (PUT is an upsert).
    const moved = await c.beta.agents.createVersionAlias({ agentId: a.id, alias: "prod", version: 1 });
    assert.equal(moved.alias, "prod");
    assert.equal(moved.version, 1);
    viaAlias = await c.beta.agents.get({ agentId: a.id, agentVersion: "prod" });
    assert.equal(viaAlias.version, 1);
    assert.equal(viaAlias.instructions, "alias v1");

    await c.beta.agents.createVersionAlias({ agentId: a.id, alias: "staging-2_b", version: 0 });
    let aliases = await c.beta.agents.listVersionAliases({ agentId: a.id });
    assert.ok(Array.isArray(aliases));
    assert.deepEqual(
      aliases.map((x) => [x.alias, x.version]).sort(),
      [["prod", 1], ["staging-2_b", 0]],
    );
    for (const x of aliases) {
      assert.ok(x.createdAt instanceof Date);
      assert.ok(x.updatedAt instanceof Date);
    }

    // Delete returns 204 (SDK resolves to undefined).
    const del = await c.beta.agents.deleteVersionAlias({ agentId: a.id, alias: "prod" });
    assert.equal(del, undefined);
    aliases = await c.beta.agents.listVersionAliases({ agentId: a.id });
    assert.deepEqual(aliases.map((x) => x.alias), ["staging-2_b"]);
    await expectStatus(c.beta.agents.get({ agentId: a.id, agentVersion: "prod" }), "4xx", "deleted alias");
    await expectStatus(c.beta.agents.deleteVersionAlias({ agentId: a.id, alias: "prod" }), 404, "delete deleted alias");

    // Aliases are per agent.
    const b = await createAgent(c);
    assert.deepEqual(await c.beta.agents.listVersionAliases({ agentId: b.id }), []);
  });

  test("invalid alias names and versions are rejected", async () => {
    const a = await createAgent(c);
    for (const alias of ["Bad Alias", "UPPER", "1starts-with-digit", "ends-with-dash-", "", "x".repeat(65)]) {
      await expectStatus(
        c.beta.agents.createVersionAlias({ agentId: a.id, alias, version: 0 }),
        "4xx",
        `alias ${JSON.stringify(alias)}`,
      );
    }
    await expectStatus(
      c.beta.agents.createVersionAlias({ agentId: a.id, alias: "future", version: 5 }),
      "4xx",
      "alias to a version that does not exist",
    );
    assert.deepEqual(await c.beta.agents.listVersionAliases({ agentId: a.id }), []);
  });
});

describe("agents: delete", () => {
  test("delete returns 204, then every operation is 404", async () => {
    const a = await createAgent(c);
    const res = await c.beta.agents.delete({ agentId: a.id });
    assert.equal(res, undefined);
    await expectStatus(c.beta.agents.get({ agentId: a.id }), 404, "get deleted");
    await expectStatus(c.beta.agents.delete({ agentId: a.id }), 404, "delete deleted");
    await expectStatus(
      c.beta.agents.update({ agentId: a.id, updateAgentRequest: { name: "x" } }),
      404,
      "update deleted",
    );
    await expectStatus(c.beta.agents.listVersions({ agentId: a.id }), 404, "versions of deleted");
  });
});

describe("agents: errors", () => {
  test("function tool with invalid JSON-schema parameters is 422 HTTPValidationError", async () => {
    const bad = [
      { type: "object", properties: { city: { type: "banana" } } },
      { type: "object", required: "city" },
      { type: 42 },
    ];
    for (const parameters of bad) {
      const err = await expectStatus(
        c.beta.agents.create({
          model: MODEL,
          name: uniq("badschema"),
          tools: [{ type: "function", function: { name: "f", parameters } }],
        }),
        422,
        `parameters ${JSON.stringify(parameters)}`,
      );
      assert.ok(err instanceof HTTPValidationError, `expected HTTPValidationError, got ${err.constructor.name}`);
      if (err.detail !== undefined) {
        assert.ok(Array.isArray(err.detail));
        for (const d of err.detail) {
          assert.ok(Array.isArray(d.loc));
          assert.equal(typeof d.msg, "string");
          assert.equal(typeof d.type, "string");
        }
      }
    }
    // The same invalid schema on update is rejected too, and creates no version.
    const a = await createAgent(c);
    await expectStatus(
      c.beta.agents.update({
        agentId: a.id,
        updateAgentRequest: {
          tools: [{ type: "function", function: { name: "f", parameters: { type: "banana" } } }],
        },
      }),
      422,
      "update with invalid schema",
    );
    const g = await c.beta.agents.get({ agentId: a.id });
    assert.deepEqual(g.versions, [0]);
  });

  test("handoffs naming a non-existent agent are rejected", async () => {
    await expectStatus(
      createAgent(c, { handoffs: ["ag_" + "0".repeat(32)] }),
      "4xx",
      "create with unknown handoff",
    );
    const a = await createAgent(c);
    await expectStatus(
      c.beta.agents.update({ agentId: a.id, updateAgentRequest: { handoffs: [randomId()] } }),
      "4xx",
      "update with unknown handoff",
    );
  });

  test("unknown agent id is 404 everywhere", async () => {
    const id = "ag_" + "f".repeat(32);
    await expectStatus(c.beta.agents.get({ agentId: id }), 404, "get");
    await expectStatus(c.beta.agents.update({ agentId: id, updateAgentRequest: { name: "x" } }), 404, "update");
    await expectStatus(c.beta.agents.delete({ agentId: id }), 404, "delete");
    await expectStatus(c.beta.agents.updateVersion({ agentId: id, version: 0 }), 404, "updateVersion");
    await expectStatus(c.beta.agents.listVersions({ agentId: id }), 404, "listVersions");
    await expectStatus(c.beta.agents.getVersion({ agentId: id, version: "0" }), 404, "getVersion");
    await expectStatus(c.beta.agents.createVersionAlias({ agentId: id, alias: "a", version: 0 }), 404, "createVersionAlias");
    await expectStatus(c.beta.agents.listVersionAliases({ agentId: id }), 404, "listVersionAliases");
    await expectStatus(c.beta.agents.deleteVersionAlias({ agentId: id, alias: "a" }), 404, "deleteVersionAlias");
  });

  test("another workspace's agent is 404, and invisible in lists", async () => {
    const tag = uniq("xws");
    const a = await createAgent(c, { name: `${tag}-a` });
    await c.beta.agents.createVersionAlias({ agentId: a.id, alias: "live", version: 0 });
    const o = otherClient();
    await expectStatus(o.beta.agents.get({ agentId: a.id }), 404, "get");
    await expectStatus(o.beta.agents.get({ agentId: a.id, agentVersion: "live" }), 404, "get via alias");
    await expectStatus(o.beta.agents.update({ agentId: a.id, updateAgentRequest: { name: "stolen" } }), 404, "update");
    await expectStatus(o.beta.agents.updateVersion({ agentId: a.id, version: 0 }), 404, "updateVersion");
    await expectStatus(o.beta.agents.listVersions({ agentId: a.id }), 404, "listVersions");
    await expectStatus(o.beta.agents.getVersion({ agentId: a.id, version: "0" }), 404, "getVersion");
    await expectStatus(o.beta.agents.listVersionAliases({ agentId: a.id }), 404, "listVersionAliases");
    await expectStatus(o.beta.agents.createVersionAlias({ agentId: a.id, alias: "x", version: 0 }), 404, "createVersionAlias");
    await expectStatus(o.beta.agents.deleteVersionAlias({ agentId: a.id, alias: "live" }), 404, "deleteVersionAlias");
    await expectStatus(o.beta.agents.delete({ agentId: a.id }), 404, "delete");
    assert.deepEqual(await o.beta.agents.list({ search: tag }), []);
    assert.deepEqual(await o.beta.agents.list({ id: a.id }), []);
    const pages = await o.beta.agents.listPages({ search: tag });
    assert.deepEqual(pages.result.data, []);

    // A handoff to another workspace's agent is rejected as if it did not exist.
    await expectStatus(createAgent(o, { handoffs: [a.id] }), "4xx", "cross-workspace handoff");

    // Still intact for its owner.
    const g = await c.beta.agents.get({ agentId: a.id });
    assert.equal(g.name, `${tag}-a`);
    assert.deepEqual(g.versions, [0]);
    const aliases = await c.beta.agents.listVersionAliases({ agentId: a.id });
    assert.deepEqual(aliases.map((x) => x.alias), ["live"]);
  });

  test("bad API key is 401", async () => {
    const b = badKeyClient();
    await expectStatus(b.beta.agents.list(), 401, "list");
    await expectStatus(b.beta.agents.create({ model: MODEL, name: uniq("nokey") }), 401, "create");
    await expectStatus(b.beta.agents.get({ agentId: "ag_" + "0".repeat(32) }), 401, "get");
  });
});
