// The image_generation connector through the official TS SDK (docs/connectors.md#image_generation).
// Contract: shared/API.md §4.1 (tool_file chunks), §5.2 (events), §7.1 (image outputs), §9
// (files.download).
//
// run.sh points image_generation at the fake upstream's images API (model "conf-image-model"),
// which answers a tiny PNG as b64_json, or HTTP 500 for a prompt containing "conf-images-error".
// Script rules (upstream-script.yaml): "conf-img-gen …" calls image_generation with the input as
// the prompt, then describes the image (or reports the failure).

import { describe, test } from "node:test";

import { expectStatus, otherClient, uniq } from "../lib/helpers.mjs";
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
} from "../lib/conv.mjs";
import {
  assertStreamedChunksMatchHistory,
  assertToolFile,
  chunksOf,
  downloadPNG,
  fakeRequests,
  skipUnless,
} from "../lib/connectors.mjs";

const c = client();
const skip = await skipUnless("image_generation", { needsFake: true });

/** Seed §5.4's image agent (fix: `name` added, required by the SDK). */
function imgAgent() {
  // Seed §5.4 (Python, same call in TS):
  //   img_agent = client.beta.agents.create(model="mistral-large-latest",
  //                                         tools=[{"type":"image_generation"}])
  return c.beta.agents.create({ model: "mistral-large-latest", name: uniq("img-bot"), tools: [{ type: "image_generation" }] });
}

describe("image_generation connector", { skip }, () => {
  test("seed §5.4 image agent: tool.execution (prompt, file_id), then message.output with text and a tool_file PNG; files.download", async () => {
    const agent = await imgAgent();
    const prompt = `conf-img-gen a watercolor of the tramontane over the sea ${uniq("q")}`;
    const res = assertResponse(await c.beta.conversations.start({ agentId: agent.id, inputs: prompt }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);

    const ex = res.outputs[0];
    assert.equal(ex.name, "image_generation");
    assert.equal(ex.agentId, agent.id);
    assert.deepEqual(JSON.parse(ex.arguments), { prompt });
    assert.equal(ex.info.error, undefined, `no error: ${JSON.stringify(ex.info)}`);
    assert.equal(ex.info.prompt, prompt);

    const msg = res.outputs[1];
    assert.equal(msg.agentId, agent.id);
    assert.ok(Array.isArray(msg.content), `content: ${JSON.stringify(msg.content)}`);
    assert.deepEqual(msg.content.map((ch) => ch.type), ["text", "tool_file"]);
    assert.equal(textOf(msg.content), "conf-img: here is a watercolor of the tramontane over the sea.");
    const [file] = chunksOf(msg.content, "tool_file");
    assertToolFile(file, { tool: "image_generation", fileType: "png", fileName: /^image_generated_0(\.png)?$/ });
    assert.equal(ex.info.file_id, file.fileId, "info.file_id names the same file");
    assert.equal(res.usage.connectors?.image_generation, 1, JSON.stringify(res.usage));

    // The backend was asked once, with the prompt and the configured model.
    const calls = (await fakeRequests("/images/generations")).filter((r) => r.body?.prompt === prompt);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].body.model, "conf-image-model");
    assert.equal(calls[0].body.n, 1);

    // The image is a file of the workspace (and only of it).
    const bytes = await downloadPNG(c, file.fileId);
    const meta = await c.files.retrieve({ fileId: file.fileId });
    assert.equal(meta.sizeBytes, bytes.length);
    assert.match(meta.filename, /^image_generated_0\.png$/);
    await expectStatus(otherClient().files.download({ fileId: file.fileId }), 404, "another workspace");

    const h = await history(c, res.conversationId);
    assert.deepEqual(h.map((e) => e.type), ["message.input", "tool.execution", "message.output"]);
    assert.deepEqual(h[2].content, msg.content);
  });

  test("a backend failure is reported in info.error, no file is attached, and the run continues", async () => {
    const prompt = `conf-img-gen conf-images-error ${uniq("q")}`;
    const res = assertResponse(await startModel(c, prompt, { model: "mistral-large-latest", tools: [{ type: "image_generation" }] }));
    assert.deepEqual(res.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = res.outputs[0];
    assert.equal(ex.name, "image_generation");
    assert.equal(typeof ex.info.error, "string", `info: ${JSON.stringify(ex.info)}`);
    assert.ok(ex.info.error.includes("500"), ex.info.error);
    const content = last(res).content;
    assert.equal(chunksOf(content, "tool_file").length, 0);
    assert.ok(textOf(content).startsWith("conf-img: the image could not be generated."), textOf(content));
    assert.equal(res.usage.connectors?.image_generation, 1);
  });

  test("stream: tool.execution.started/done (prompt, file_id), then message.output.delta events", async () => {
    const agent = await imgAgent();
    const prompt = `conf-img-gen streamed ${uniq("q")}`;
    const s = checkStream(await collect(await c.beta.conversations.startStream({ agentId: agent.id, inputs: prompt })));
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const ex = s.outputs[0];
    assert.equal(ex.events[0], "tool.execution.started");
    assert.equal(ex.events[ex.events.length - 1], "tool.execution.done");
    assert.equal(ex.name, "image_generation");
    assert.deepEqual(JSON.parse(ex.arguments), { prompt });
    assert.equal(ex.info.prompt, prompt);
    assert.equal(typeof ex.info.file_id, "string");
    await downloadPNG(c, ex.info.file_id);
    assert.equal(s.outputs[1].agentId, agent.id);
    assert.equal(s.outputs[1].text, "conf-img: here is a watercolor of the tramontane over the sea.");
    for (const ch of s.outputs[1].chunks) assert.equal(ch.type, "tool_file", `delta chunk: ${JSON.stringify(ch)}`);
    assert.equal(s.usage.connectors?.image_generation, 1);
    await assertStreamMatchesHistory(c, s);
  });

  test("stream: the message.output.delta events carry the image's tool_file chunk", async () => {
    const s = checkStream(
      await collect(
        await c.beta.conversations.startStream({
          model: MODEL,
          inputs: `conf-img-gen streamed file ${uniq("q")}`,
          tools: [{ type: "image_generation" }],
        }),
      ),
    );
    assert.deepEqual(s.outputs.map((o) => o.type), ["tool.execution", "message.output"]);
    const stored = await assertStreamedChunksMatchHistory(c, s, 1);
    const [file] = chunksOf(stored.content, "tool_file");
    assertToolFile(file, { tool: "image_generation", fileType: "png" });
  });
});
