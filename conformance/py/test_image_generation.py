"""The image_generation connector through the official Python SDK
(docs/connectors.md#image_generation). Contract: shared/API.md §4.1 (tool_file chunks), §5.2
(events), §7.1 (image outputs), §9 (files.download).

run.sh points image_generation at the fake upstream's images API (model "conf-image-model"),
which answers a tiny PNG as b64_json, or HTTP 500 for a prompt containing "conf-images-error".
Script rules (upstream-script.yaml): "conf-img-gen …" calls image_generation with the input as the
prompt, then describes the image (or reports the failure).
"""

import json
import re

from connector_helpers import (
    assert_streamed_chunks_match_history,
    assert_tool_file,
    chunks_of,
    download_png,
    fake_requests,
    skip_unless,
)
from conv_helpers import (
    assert_response,
    assert_stream_matches_history,
    check_stream,
    collect,
    history,
    last,
    text_of,
    types,
)
from helpers import MODEL, expect_status, uniq

pytestmark = skip_unless("image_generation", needs_fake=True)

IMG_TOOLS = [{"type": "image_generation"}]
IMG_TEXT = "conf-img: here is a watercolor of the tramontane over the sea."


def img_agent(client):
    # Seed §5.4:
    #   img_agent = client.beta.agents.create(model="mistral-large-latest",
    #                                         tools=[{"type":"image_generation"}])
    # Minimal fix (API.md §10(d)): agents need `name`.
    return client.beta.agents.create(model="mistral-large-latest", name=uniq("img-bot"), tools=IMG_TOOLS)


def test_seed_5_4_image_agent(client, other_client):
    agent = img_agent(client)
    prompt = f"conf-img-gen a watercolor of the tramontane over the sea {uniq('q')}"
    res = assert_response(client.beta.conversations.start(agent_id=agent.id, inputs=prompt))
    assert types(res.outputs) == ["tool.execution", "message.output"]

    ex = res.outputs[0]
    assert ex.name == "image_generation"
    assert ex.agent_id == agent.id
    assert json.loads(ex.arguments) == {"prompt": prompt}
    assert "error" not in ex.info, ex.info
    assert ex.info["prompt"] == prompt

    msg = res.outputs[1]
    assert msg.agent_id == agent.id
    assert isinstance(msg.content, list), msg.content
    assert [c.type for c in msg.content] == ["text", "tool_file"]
    assert text_of(msg.content) == IMG_TEXT
    (f,) = chunks_of(msg.content, "tool_file")
    assert_tool_file(f, tool="image_generation", file_type="png", file_name=re.compile(r"^image_generated_0(\.png)?$"))
    assert ex.info.get("file_id") == f.file_id, "info.file_id names the same file"
    assert (res.usage.connectors or {}).get("image_generation") == 1, res.usage

    # The backend was asked once, with the prompt and the configured model.
    calls = [r for r in fake_requests("/images/generations") if (r.get("body") or {}).get("prompt") == prompt]
    assert len(calls) == 1
    assert calls[0]["body"]["model"] == "conf-image-model"
    assert calls[0]["body"]["n"] == 1

    # The image is a file of the workspace (and only of it).
    data = download_png(client, f.file_id)
    meta = client.files.retrieve(file_id=f.file_id)
    assert meta.size_bytes == len(data)
    assert meta.filename == "image_generated_0.png"
    expect_status(lambda: other_client.files.download(file_id=f.file_id), 404, "another workspace")

    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "tool.execution", "message.output"]
    assert h[2].content == msg.content


def test_backend_failure_reported_in_info(client):
    prompt = f"conf-img-gen conf-images-error {uniq('q')}"
    res = assert_response(client.beta.conversations.start(model="mistral-large-latest", inputs=prompt, tools=IMG_TOOLS))
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == "image_generation"
    assert isinstance(ex.info.get("error"), str) and "500" in ex.info["error"], ex.info
    content = last(res).content
    assert chunks_of(content, "tool_file") == []
    assert text_of(content).startswith("conf-img: the image could not be generated."), content
    assert (res.usage.connectors or {}).get("image_generation") == 1


def test_stream_events(client):
    agent = img_agent(client)
    prompt = f"conf-img-gen streamed {uniq('q')}"
    s = check_stream(collect(client.beta.conversations.start_stream(agent_id=agent.id, inputs=prompt)))
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    ex = s.outputs[0]
    assert ex.events[0] == "tool.execution.started" and ex.events[-1] == "tool.execution.done"
    assert ex.name == "image_generation"
    assert json.loads(ex.arguments) == {"prompt": prompt}
    assert ex.info["prompt"] == prompt
    assert isinstance(ex.info.get("file_id"), str)
    download_png(client, ex.info["file_id"])
    assert s.outputs[1].agent_id == agent.id
    assert s.outputs[1].text == IMG_TEXT
    for ch in s.outputs[1].chunks:
        assert ch["type"] == "tool_file", ch
    assert (s.usage.connectors or {}).get("image_generation") == 1
    assert_stream_matches_history(client, s)


def test_stream_carries_tool_file_chunk(client):
    s = check_stream(
        collect(client.beta.conversations.start_stream(model=MODEL, inputs=f"conf-img-gen streamed file {uniq('q')}", tools=IMG_TOOLS))
    )
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    stored = assert_streamed_chunks_match_history(client, s, 1)
    (f,) = chunks_of(stored.content, "tool_file")
    assert_tool_file(f, tool="image_generation", file_type="png")
