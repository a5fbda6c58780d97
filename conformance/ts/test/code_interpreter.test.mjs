// The code_interpreter connector through the official TS SDK: real Python in a bubblewrap
// sandbox (docs/connectors.md#code_interpreter). Contract: shared/API.md §4.1 (tool_file
// chunks), §5.2 (events), §7.1 (code/code_output info, plots as files), §9 (files.download).
//
// Script rules (upstream-script.yaml): the seed §5.3 graph agent (instructions "Use code
// interpreter to plot when asked.") plots with matplotlib and plt.show() on "conf-ci-plot …";
// "conf-ci-state-set" runs x = 41, "conf-ci-state-get" prints x + 1; "conf-ci-error" raises
// ZeroDivisionError. Skipped when /healthz does not report code_interpreter "available", except
// in CI (CI=true), where a missing sandbox fails the tests.

import { describe, test } from "node:test";

import { expectStatus, otherClient, uniq } from "../lib/helpers.mjs";
import {
  MODEL,
  append,
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
} from "../lib/conv.mjs";
import { assertStreamedChunksMatchHistory, assertToolFile, chunksOf, downloadPNG, skipUnless } from "../lib/connectors.mjs";

const c = client();
const skip = await skipUnless("code_interpreter");

/** Seed §5.3's graph agent (fix: `name` added, required by the SDK). */
function graphAgent() {
  // Seed §5.3:
  //   const graphAgent = await client.beta.agents.create({
  //     model:"mistral-large-latest", tools:[{type:"code_interpreter"}],
  //     instructions:"Use code interpreter to plot when asked." });
  return c.beta.agents.create({
    model: "mistral-large-latest",
    name: uniq("graph-bot"),
    tools: [{ type: "code_interpreter" }],
    instructions: "Use code interpreter to plot when asked.",
  });
}

/** Assert a successful code_interpreter tool.execution (entry or rebuilt stream output). */
function assertExec(ex, { codeIncludes, outputIncludes }) {
  assert.equal(ex.name, "code_interpreter");
  assert.equal(typeof ex.arguments, "string");
  const args = JSON.parse(ex.arguments);
  assert.equal(typeof args.code, "string");
  assert.ok(ex.info && typeof ex.info === "object", `info: ${JSON.stringify(ex.info)}`);
  assert.equal(ex.info.error, undefined, `no error: ${JSON.stringify(ex.info)}`);
  assert.equal(ex.info.code, args.code, "info.code is the code the model sent");
  for (const s of [].concat(codeIncludes ?? [])) assert.ok(ex.info.code.includes(s), `code includes ${s}`);
  assert.equal(typeof ex.info.code_output, "string", `info: ${JSON.stringify(ex.info)}`);
  for (const s of [].concat(outputIncludes ?? [])) assert.ok(ex.info.code_output.includes(s), `code_output ${JSON.stringify(ex.info.code_output)} includes ${s}`);
}

describe("code_interpreter connector", { skip }, () => {
  test("seed §5.3 graphAgent plots: tool.execution (code, code_output), message.output with a tool_file plot; files.download gives a PNG", async () => {
    const agent = await graphAgent();
    const res = assertResponse(
      await c.beta.conversations.start({ agentId: agent.id, inputs: `conf-ci-plot the ECB deposit rate 2010-2024 ${uniq("q")}` }),
    );
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assertExec(ex, { codeIncludes: ["matplotlib", "plt.show()"], outputIncludes: "conf-ci-plot-ok 8 points" });
    assert.equal(ex.agentId, agent.id);

    const msg = res.outputs[1];
    assert.equal(msg.agentId, agent.id);
    assert.ok(Array.isArray(msg.content), `content: ${JSON.stringify(msg.content)}`);
    assert.equal(textOf(msg.content), "conf-ci-plot: here is the plot of the ECB deposit rate.");
    const files = chunksOf(msg.content, "tool_file");
    assert.equal(files.length, 1, JSON.stringify(msg.content));
    assertToolFile(files[0], { tool: "code_interpreter", fileName: "plot_0.png", fileType: "png" });
    assert.equal(res.usage.connectors?.code_interpreter, 1, JSON.stringify(res.usage));

    // The plot is a file of the workspace: retrievable and downloadable, a real PNG.
    const bytes = await downloadPNG(c, files[0].fileId);
    assert.ok(bytes.length > 1000, `a rendered figure, not a stub: ${bytes.length} bytes`);
    const meta = await c.files.retrieve({ fileId: files[0].fileId });
    assert.equal(meta.id, files[0].fileId);
    assert.equal(meta.filename, "plot_0.png");
    assert.equal(meta.sizeBytes, bytes.length);
    // ... of this workspace only.
    await expectStatus(otherClient().files.download({ fileId: files[0].fileId }), 404, "another workspace");

    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "tool.execution", "message.output"]);
    assert.deepEqual(h[2].content, msg.content);
    assert.equal(h[1].info.code_output, ex.info.code_output);
  });

  test("state persists across two appends of one conversation (x = 41, then print(x + 1) → 42), not across conversations", async () => {
    const first = assertResponse(await startModel(c, `conf-ci-state-set ${uniq("q")}`, { tools: [{ type: "code_interpreter" }] }));
    assert.deepEqual(first.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    assertExec(first.outputs[0], { codeIncludes: "x = 41", outputIncludes: "conf-ci-state-set-ok" });

    const second = assertResponse(await append(c, first.conversationId, { inputs: `conf-ci-state-get ${uniq("q")}` }));
    assert.equal(second.conversationId, first.conversationId);
    assert.deepEqual(second.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    assertExec(second.outputs[0], { codeIncludes: "x + 1", outputIncludes: "conf-ci-state-get 42" });
    assert.equal(textOf(last(second).content), "conf-ci-state: x + 1 = 42");

    // Another conversation has its own session: x is not defined there.
    const other = assertResponse(await startModel(c, `conf-ci-state-get ${uniq("q")}`, { tools: [{ type: "code_interpreter" }] }));
    const ex = other.outputs[0];
    assert.equal(ex.name, "code_interpreter");
    assert.ok(ex.info.code_output.includes("NameError"), `code_output: ${ex.info.code_output}`);
  });

  test("a code error: the traceback is in code_output and the run continues", async () => {
    const res = assertResponse(await startModel(c, `conf-ci-error ${uniq("q")}`, { tools: [{ type: "code_interpreter" }] }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assert.equal(ex.name, "code_interpreter");
    const out = ex.info.code_output;
    assert.equal(typeof out, "string", `info: ${JSON.stringify(ex.info)}`);
    assert.ok(out.includes("Traceback (most recent call last)"), out);
    assert.ok(out.includes("conf_ci_boom"), `the user's frames are shown: ${out}`);
    assert.ok(out.includes("ZeroDivisionError: division by zero"), out);
    assert.equal(textOf(last(res).content), "conf-ci-error: the code raised ZeroDivisionError, as the traceback shows.");
  });

  test("stream: tool.execution.started/done with code and code_output, then message.output.delta events", async () => {
    const agent = await graphAgent();
    const events = await collect(
      await c.beta.conversations.startStream({ agentId: agent.id, inputs: `conf-ci-plot streamed ${uniq("q")}` }),
    );
    const s = checkStream(events);
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = s.outputs[0];
    assert.equal(ex.events[0], "tool.execution.started");
    assert.equal(ex.events[ex.events.length - 1], "tool.execution.done");
    assertExec(ex, { codeIncludes: "plt.show()", outputIncludes: "conf-ci-plot-ok 8 points" });
    assert.equal(s.outputs[1].agentId, agent.id);
    assert.equal(s.outputs[1].text, "conf-ci-plot: here is the plot of the ECB deposit rate.");
    for (const ch of s.outputs[1].chunks) assert.ok(["tool_file"].includes(ch.type), `delta chunk: ${JSON.stringify(ch)}`);
    assert.equal(s.usage.connectors?.code_interpreter, 1);
    await assertStreamMatchesHistory(c, s);
  });

  test("stream: appendStream keeps the session (x + 1 → 42)", async () => {
    const first = assertResponse(await startModel(c, `conf-ci-state-set ${uniq("q")}`, { tools: [{ type: "code_interpreter" }] }));
    const s = checkStream(
      await collect(
        await c.beta.conversations.appendStream({
          conversationId: first.conversationId,
          conversationAppendStreamRequest: { inputs: `conf-ci-state-get ${uniq("q")}` },
        }),
      ),
    );
    assert.equal(s.conversationId, first.conversationId);
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    assertExec(s.outputs[0], { outputIncludes: "conf-ci-state-get 42" });
    assert.equal(s.outputs[1].text, "conf-ci-state: x + 1 = 42");
    await assertStreamMatchesHistory(c, s);
  });

  test("stream: the message.output.delta events carry the plot's tool_file chunk, which downloads as a PNG", async () => {
    const agent = await graphAgent();
    const s = checkStream(
      await collect(await c.beta.conversations.startStream({ agentId: agent.id, inputs: `conf-ci-plot file ${uniq("q")}` })),
    );
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    // The stored message has the file (so the run worked) ...
    const entries = await history(c, s.conversationId);
    const storedFiles = chunksOf(entries[entries.length - 1].content, "tool_file");
    assert.equal(storedFiles.length, 1);
    assertToolFile(storedFiles[0], { tool: "code_interpreter", fileName: "plot_0.png", fileType: "png" });
    await downloadPNG(c, storedFiles[0].fileId);
    // ... and a streaming client must learn it from the stream itself.
    await assertStreamedChunksMatchHistory(c, s, 1);
  });
});
