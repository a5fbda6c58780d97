"""The code_interpreter connector through the official Python SDK: real Python in a bubblewrap
sandbox (docs/connectors.md#code_interpreter). Contract: shared/API.md §4.1 (tool_file chunks),
§5.2 (events), §7.1 (code/code_output info, plots as files), §9 (files.download).

Script rules (upstream-script.yaml): the seed §5.3 graph agent (instructions "Use code
interpreter to plot when asked.") plots with matplotlib and plt.show() on "conf-ci-plot …";
"conf-ci-state-set" runs x = 41, "conf-ci-state-get" prints x + 1; "conf-ci-error" raises
ZeroDivisionError. Skipped when /healthz does not report code_interpreter "available", except in
CI (CI=true), where a missing sandbox fails the tests.
"""

import json
import os

from connector_helpers import (
    assert_streamed_chunks_match_history,
    assert_tool_file,
    chunks_of,
    download_png,
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

pytestmark = skip_unless("code_interpreter")

CI_TOOLS = [{"type": "code_interpreter"}]
PLOT_TEXT = "conf-ci-plot: here is the plot of the ECB deposit rate."


def graph_agent(client):
    # Seed §5.3 (TS; same call in Python):
    #   const graphAgent = await client.beta.agents.create({
    #     model:"mistral-large-latest", tools:[{type:"code_interpreter"}],
    #     instructions:"Use code interpreter to plot when asked." });
    # Minimal fix (API.md §10(d)): agents need `name`.
    return client.beta.agents.create(
        model="mistral-large-latest",
        name=uniq("graph-bot"),
        tools=CI_TOOLS,
        instructions="Use code interpreter to plot when asked.",
    )


def assert_exec(ex, code_includes=(), output_includes=()) -> None:
    """A successful code_interpreter tool.execution (entry or rebuilt stream output)."""
    assert ex.name == "code_interpreter"
    assert isinstance(ex.arguments, str)
    args = json.loads(ex.arguments)
    assert isinstance(args.get("code"), str)
    assert isinstance(ex.info, dict), ex.info
    assert "error" not in ex.info, ex.info
    assert ex.info["code"] == args["code"], "info.code is the code the model sent"
    for s in code_includes:
        assert s in ex.info["code"], s
    assert isinstance(ex.info.get("code_output"), str), ex.info
    for s in output_includes:
        assert s in ex.info["code_output"], (s, ex.info["code_output"])


def test_seed_5_3_graph_agent_plots(client, other_client):
    agent = graph_agent(client)
    res = assert_response(
        client.beta.conversations.start(agent_id=agent.id, inputs=f"conf-ci-plot the ECB deposit rate 2010-2024 {uniq('q')}")
    )
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert_exec(ex, code_includes=("matplotlib", "plt.show()"), output_includes=("conf-ci-plot-ok 8 points",))
    assert ex.agent_id == agent.id

    msg = res.outputs[1]
    assert msg.agent_id == agent.id
    assert isinstance(msg.content, list), msg.content
    assert text_of(msg.content) == PLOT_TEXT
    files = chunks_of(msg.content, "tool_file")
    assert len(files) == 1, msg.content
    assert_tool_file(files[0], tool="code_interpreter", file_type="png", file_name="plot_0.png")
    assert (res.usage.connectors or {}).get("code_interpreter") == 1, res.usage

    # The plot is a file of the workspace: retrievable and downloadable, a real PNG ...
    data = download_png(client, files[0].file_id)
    assert len(data) > 1000, f"a rendered figure, not a stub: {len(data)} bytes"
    meta = client.files.retrieve(file_id=files[0].file_id)
    assert meta.id == files[0].file_id
    assert meta.filename == "plot_0.png"
    assert meta.size_bytes == len(data)
    # ... of this workspace only.
    expect_status(lambda: other_client.files.download(file_id=files[0].file_id), 404, "another workspace")

    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "tool.execution", "message.output"]
    assert h[2].content == msg.content
    assert h[1].info["code_output"] == ex.info["code_output"]


def test_state_persists_across_appends(client):
    first = assert_response(client.beta.conversations.start(model=MODEL, inputs=f"conf-ci-state-set {uniq('q')}", tools=CI_TOOLS))
    assert types(first.outputs) == ["tool.execution", "message.output"]
    assert_exec(first.outputs[0], code_includes=("x = 41",), output_includes=("conf-ci-state-set-ok",))

    second = assert_response(
        client.beta.conversations.append(conversation_id=first.conversation_id, inputs=f"conf-ci-state-get {uniq('q')}")
    )
    assert second.conversation_id == first.conversation_id
    assert types(second.outputs) == ["tool.execution", "message.output"]
    assert_exec(second.outputs[0], code_includes=("x + 1",), output_includes=("conf-ci-state-get 42",))
    assert text_of(last(second).content) == "conf-ci-state: x + 1 = 42"

    # Another conversation has its own session: x is not defined there.
    other = assert_response(client.beta.conversations.start(model=MODEL, inputs=f"conf-ci-state-get {uniq('q')}", tools=CI_TOOLS))
    ex = other.outputs[0]
    assert ex.name == "code_interpreter"
    assert "NameError" in ex.info["code_output"], ex.info


def test_code_error_traceback(client):
    res = assert_response(client.beta.conversations.start(model=MODEL, inputs=f"conf-ci-error {uniq('q')}", tools=CI_TOOLS))
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == "code_interpreter"
    out = ex.info.get("code_output")
    assert isinstance(out, str), ex.info
    assert "Traceback (most recent call last)" in out, out
    assert "conf_ci_boom" in out, f"the user's frames are shown: {out}"
    assert "ZeroDivisionError: division by zero" in out, out
    assert text_of(last(res).content) == "conf-ci-error: the code raised ZeroDivisionError, as the traceback shows."


def test_stream_events(client):
    agent = graph_agent(client)
    s = check_stream(
        collect(client.beta.conversations.start_stream(agent_id=agent.id, inputs=f"conf-ci-plot streamed {uniq('q')}"))
    )
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    ex = s.outputs[0]
    assert ex.events[0] == "tool.execution.started" and ex.events[-1] == "tool.execution.done"
    assert_exec(ex, code_includes=("plt.show()",), output_includes=("conf-ci-plot-ok 8 points",))
    assert s.outputs[1].agent_id == agent.id
    assert s.outputs[1].text == PLOT_TEXT
    for ch in s.outputs[1].chunks:
        assert ch["type"] == "tool_file", ch
    assert (s.usage.connectors or {}).get("code_interpreter") == 1
    assert_stream_matches_history(client, s)


def test_append_stream_keeps_session(client):
    first = assert_response(client.beta.conversations.start(model=MODEL, inputs=f"conf-ci-state-set {uniq('q')}", tools=CI_TOOLS))
    s = check_stream(
        collect(
            client.beta.conversations.append_stream(
                conversation_id=first.conversation_id, inputs=f"conf-ci-state-get {uniq('q')}"
            )
        )
    )
    assert s.conversation_id == first.conversation_id
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    assert_exec(s.outputs[0], output_includes=("conf-ci-state-get 42",))
    assert s.outputs[1].text == "conf-ci-state: x + 1 = 42"
    assert_stream_matches_history(client, s)


def test_stream_carries_tool_file_chunk(client):
    agent = graph_agent(client)
    s = check_stream(
        collect(client.beta.conversations.start_stream(agent_id=agent.id, inputs=f"conf-ci-plot file {uniq('q')}"))
    )
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    # The stored message has the file (so the run worked) ...
    entries = history(client, s.conversation_id)
    files = chunks_of(entries[-1].content, "tool_file")
    assert len(files) == 1
    assert_tool_file(files[0], tool="code_interpreter", file_type="png", file_name="plot_0.png")
    download_png(client, files[0].file_id)
    # ... and a streaming client must learn it from the stream itself.
    assert_streamed_chunks_match_history(client, s, 1)


def test_state_survives_any_routing(client):
    """Behind a round-robin balancer (conformance/run.sh with TRAMONTANE_INSTANCES=3) each
    append lands on another instance: the session's state must follow the conversation."""
    n = max(3, int(os.environ.get("TRAMONTANE_INSTANCES", "1")))
    first = assert_response(client.beta.conversations.start(model=MODEL, inputs=f"conf-ci-state-set {uniq('q')}", tools=CI_TOOLS))
    assert_exec(first.outputs[0], code_includes=("x = 41",), output_includes=("conf-ci-state-set-ok",))
    for i in range(n):
        res = assert_response(
            client.beta.conversations.append(conversation_id=first.conversation_id, inputs=f"conf-ci-state-get {uniq('q')}")
        )
        ex = res.outputs[0]
        assert "NameError" not in ex.info["code_output"], f"append {i + 1} lost the session: {ex.info}"
        assert_exec(ex, code_includes=("x + 1",), output_includes=("conf-ci-state-get 42",))
