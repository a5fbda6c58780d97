"""Conversation streams (start_stream / append_stream / restart_stream) through the official
Python SDK. Wire contract: shared/API.md §5. check_stream() (conv_helpers.py) asserts framing
and order: conversation.response.started first (with conversation_id), event name equal to
event.data.type, one stable id per output_index, function.call.delta fragments forming valid
JSON, conversation.response.done last with usage; streamed ids are compared with history.
"""

import json

from conv_helpers import (
    MODEL,
    assert_stream_matches_history,
    check_stream,
    collect,
    history,
    results_for,
    text_of,
    types,
    weather_fn,
)
from helpers import create_agent, expect_status, uniq


def test_start_stream_text(client):
    m = uniq("conf-stream-text")
    s = check_stream(collect(client.beta.conversations.start_stream(model=MODEL, inputs=f"{m} one two three")))
    assert len(s.outputs) == 1
    o = s.outputs[0]
    assert (o.type, o.output_index) == ("message.output", 0)
    assert o.text == f"conf-default: you said {m} one two three"
    assert len(o.events) > 1
    assert o.model == MODEL
    assert s.usage.total_tokens > 0
    assert_stream_matches_history(client, s)
    assert client.beta.conversations.get(conversation_id=s.conversation_id).model == MODEL


def test_append_stream_parallel_function_calls_then_results(client):
    first = client.beta.conversations.start(model=MODEL, inputs=uniq("conf-stream-first"), tools=[weather_fn()])
    s = check_stream(
        collect(
            client.beta.conversations.append_stream(
                conversation_id=first.conversation_id, inputs="conf-fc-parallel Vienna and Prague"
            )
        )
    )
    assert s.conversation_id == first.conversation_id
    assert [o.type for o in s.outputs] == ["function.call", "function.call"]
    assert [o.output_index for o in s.outputs] == [0, 1]
    assert json.loads(s.outputs[0].arguments) == {"city": "Vienna"}
    assert json.loads(s.outputs[1].arguments) == {"city": "Prague"}
    assert len(s.outputs[0].events) > 1, "arguments arrive in several fragments"
    assert_stream_matches_history(client, s)

    s2 = check_stream(
        collect(
            client.beta.conversations.append_stream(
                conversation_id=first.conversation_id,
                inputs=results_for(s.outputs, lambda o: f"{json.loads(o.arguments)['city']}:warm"),
            )
        )
    )
    assert [o.type for o in s2.outputs] == ["message.output"]
    assert s2.outputs[0].output_index == 0
    assert s2.outputs[0].text == "conf-fc done: Vienna:warm\nPrague:warm"
    assert_stream_matches_history(client, s2)


def test_restart_stream(client):
    m1 = uniq("conf-rs1")
    r1 = client.beta.conversations.start(model=MODEL, inputs=m1)
    client.beta.conversations.append(conversation_id=r1.conversation_id, inputs=uniq("conf-rs2"))
    m3 = uniq("conf-rs3")
    s = check_stream(
        collect(
            client.beta.conversations.restart_stream(
                conversation_id=r1.conversation_id, from_entry_id=r1.outputs[0].id, inputs=m3
            )
        )
    )
    assert s.conversation_id != r1.conversation_id
    assert [o.text for o in s.outputs] == [f"conf-default: you said {m3}"]
    entries = assert_stream_matches_history(client, s)
    assert types(entries) == ["message.input", "message.output", "message.input", "message.output"]
    assert text_of(entries[0].content) == m1 and text_of(entries[2].content) == m3


def test_handoff_stream(client):
    specialist = create_agent(
        client, name="conf-ho-specialist", instructions="conf-ho-specialist-marker: you handle the requests routed to you."
    )
    router = create_agent(
        client,
        name=uniq("conf-ho-router"),
        instructions="conf-ho-router-marker: route every request.",
        handoffs=[specialist.id],
    )
    s = check_stream(collect(client.beta.conversations.start_stream(agent_id=router.id, inputs="conf-ho-server stream")))
    assert [o.type for o in s.outputs] == ["agent.handoff", "message.output"]
    ho = s.outputs[0]
    assert ho.events == ["agent.handoff.started", "agent.handoff.done"]
    assert (ho.previous_agent_id, ho.previous_agent_name) == (router.id, router.name)
    assert (ho.next_agent_id, ho.next_agent_name) == (specialist.id, specialist.name)
    assert s.outputs[1].agent_id == specialist.id
    assert s.outputs[1].text == "conf-ho specialist here: your request is handled."
    assert_stream_matches_history(client, s)


def test_tool_execution_stream(client):
    # A failing built-in: "conf-searxng-error" in the query makes run.sh's fake SearXNG answer 500.
    q = uniq("conf-websearch conf-searxng-error streamed")
    s = check_stream(collect(client.beta.conversations.start_stream(model=MODEL, inputs=q, tools=[{"type": "web_search"}])))
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    ex = s.outputs[0]
    assert ex.events[0] == "tool.execution.started" and ex.events[-1] == "tool.execution.done"
    assert ex.name == "web_search"
    assert json.loads(ex.arguments) == {"query": q}
    assert isinstance(ex.info, dict) and isinstance(ex.info.get("error"), str), ex.info
    assert s.outputs[1].text.startswith("conf-websearch final:")
    assert (s.usage.connectors or {}).get("web_search") == 1
    assert_stream_matches_history(client, s)


def test_confirmation_stream(client):
    a = create_agent(client, tools=[{"type": "web_search", "tool_configuration": {"requires_confirmation": ["web_search"]}}])
    s = check_stream(collect(client.beta.conversations.start_stream(agent_id=a.id, inputs="conf-confirm-ws stream")))
    assert [o.type for o in s.outputs] == ["function.call"]
    assert s.outputs[0].name == "web_search" and s.outputs[0].confirmation_status == "pending"
    assert_stream_matches_history(client, s)
    s2 = check_stream(
        collect(
            client.beta.conversations.append_stream(
                conversation_id=s.conversation_id,
                tool_confirmations=[{"tool_call_id": s.outputs[0].tool_call_id, "confirmation": "deny"}],
            )
        )
    )
    assert s2.outputs[-1].type == "message.output"
    assert s2.outputs[-1].text == "conf-websearch: the search was denied, answering without it."


def test_stream_errors_before_start_are_http_errors(client):
    expect_status(
        lambda: client.beta.conversations.append_stream(conversation_id="conv_doesnotexist", inputs="x"), 404
    )
    a = create_agent(client)
    expect_status(lambda: client.beta.conversations.start_stream(agent_id=a.id, model=MODEL, inputs="x"), 422)



def test_stream_upstream_rate_limit_is_an_error_event(client):
    # A stream announces its conversation at once (headers and started are
    # sent before the first model call), so an upstream 429 arrives as
    # conversation.response.error with code 429, and the conversation the
    # client was told of exists with its input.
    events = collect(client.beta.conversations.start_stream(model=MODEL, inputs="conf-ratelimit stream"))
    kinds = [e.data.type for e in events]
    assert kinds[0] == "conversation.response.started"
    err = events[-1].data
    assert err.type == "conversation.response.error", kinds
    assert err.code == 429
    assert types(history(client, events[0].data.conversation_id)) == ["message.input"]


def test_upstream_failure_after_output_ends_with_response_error(client):
    events = collect(
        client.beta.conversations.start_stream(
            model=MODEL, inputs="conf-midfail please", instructions="conf-midfail-marker", tools=[{"type": "web_search"}]
        )
    )
    kinds = [e.data.type for e in events]
    for e in events:
        assert e.event == e.data.type
    assert kinds[0] == "conversation.response.started"
    # The tool call (its arguments may stream as tool.execution.delta).
    tool = [k for k in kinds[1:] if k != "tool.execution.delta"]
    assert tool[:2] == ["tool.execution.started", "tool.execution.done"]
    err = events[-1].data
    assert err.type == "conversation.response.error", kinds
    assert isinstance(err.message, str) and err.message
    assert isinstance(err.code, int)
    assert "conversation.response.done" not in kinds
    assert types(history(client, events[0].data.conversation_id)) == ["message.input", "tool.execution"]


def test_broken_upstream_stream_ends_with_response_error(client):
    events = collect(client.beta.conversations.start_stream(model=MODEL, inputs="conf-broken-stream now"))
    kinds = [e.data.type for e in events]
    assert kinds[0] == "conversation.response.started"
    assert "message.output.delta" in kinds
    assert events[-1].data.type == "conversation.response.error", kinds
    assert isinstance(events[-1].data.code, int)
    expect_status(lambda: client.beta.conversations.start(model=MODEL, inputs="conf-broken-stream again"), (500, 502, 503, 504))


def test_raw_sse_framing():
    from helpers import raw_request

    res = raw_request(
        "/v1/conversations",
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
        body=json.dumps(
            {"model": MODEL, "inputs": "conf-fc-single Quito", "tools": [weather_fn()], "stream": True}
        ).encode(),
    )
    assert res.status == 200
    assert res.content_type.startswith("text/event-stream")
    body = res.body.decode()
    assert body.endswith("\n\n"), "the last event is terminated by a blank line"
    assert "[DONE]" not in body
    n = 0
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [l for l in block.split("\n") if l and not l.startswith(":")]
        if not lines:
            continue
        ev = [l for l in lines if l.startswith("event:")]
        data = [l for l in lines if l.startswith("data:")]
        assert len(ev) == 1 and len(data) == 1, block
        assert json.loads(data[0][5:])["type"] == ev[0][6:].strip()
        n += 1
    assert n >= 3


def test_store_false_stream(client):
    s = check_stream(collect(client.beta.conversations.start_stream(model=MODEL, inputs=uniq("conf-sns"), store=False)))
    assert len(s.outputs) == 1
    expect_status(lambda: client.beta.conversations.get(conversation_id=s.conversation_id), 404)


def test_history_after_streamed_function_call(client):
    s = check_stream(
        collect(client.beta.conversations.start_stream(model=MODEL, inputs="conf-fc-single Athens", tools=[weather_fn()]))
    )
    h = history(client, s.conversation_id)
    assert types(h) == ["message.input", "function.call"]
    assert h[1].tool_call_id == s.outputs[0].tool_call_id
