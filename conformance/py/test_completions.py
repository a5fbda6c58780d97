"""Stateless completions through the official Python SDK: client.chat.complete/stream and
client.agents.complete/stream (POST /v1/chat/completions, /v1/agents/completions).
Answers come from the fake upstream's script (conformance/upstream-script.yaml)."""

import json

import pytest

from helpers import MODEL, create_agent, expect_status, raw_request, weather_tool


def _text(chunks):
    return "".join((ch.choices[0].delta.content or "") for ch in chunks if ch.choices)


def test_chat_complete(client):
    res = client.chat.complete(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "conf-chat py hello"}]},
        ],
        temperature=0.2,
        max_tokens=64,
    )
    assert res.object == "chat.completion"
    assert res.model == MODEL
    choice = res.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "conf-default: you said conf-chat py hello"
    assert res.usage.total_tokens > 0


def test_chat_tools_round_trip(client):
    tools = [weather_tool("conf_get_weather")]
    messages = [{"role": "user", "content": "conf-fc-single Oslo"}]
    res = client.chat.complete(model=MODEL, messages=messages, tools=tools, tool_choice="any")
    choice = res.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "conf_get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo", "unit": "celsius"}
    messages.append(choice.message)
    messages.append({"role": "tool", "tool_call_id": call.id, "name": "conf_get_weather", "content": "3C"})
    res2 = client.chat.complete(model=MODEL, messages=messages, tools=tools)
    assert res2.choices[0].message.content.startswith("conf-fc done: ")
    assert "3C" in res2.choices[0].message.content


def test_chat_stream(client):
    chunks = [ev.data for ev in client.chat.stream(model=MODEL, messages=[{"role": "user", "content": "conf-chat py stream a b c"}])]
    assert len(chunks) >= 2
    assert _text(chunks) == "conf-default: you said conf-chat py stream a b c"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.usage.total_tokens > 0
    assert len({ch.id for ch in chunks}) == 1


def test_chat_stream_tool_call(client):
    chunks = [
        ev.data
        for ev in client.chat.stream(
            model=MODEL,
            messages=[{"role": "user", "content": "conf-fc-single Lima"}],
            tools=[weather_tool("conf_get_weather")],
        )
    ]
    last = chunks[-1].choices[0]
    assert last.finish_reason == "tool_calls"
    call = last.delta.tool_calls[0]
    assert call.function.name == "conf_get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lima", "unit": "celsius"}


def test_chat_raw_stream_ends_with_done():
    res = raw_request(
        "/v1/chat/completions",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "conf-chat raw"}]}).encode(),
    )
    assert res.status == 200
    lines = [l for l in res.body.decode().split("\n") if l]
    assert all(l.startswith("data: ") for l in lines), lines
    assert lines[-1] == "data: [DONE]"


def test_chat_errors(client, bad_client):
    expect_status(lambda: client.chat.complete(model=MODEL, messages=[]), 422)
    expect_status(lambda: client.chat.complete(model="no-such-model-conf", messages=[{"role": "user", "content": "x"}]), 400)
    expect_status(lambda: bad_client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "x"}]), 401)
    expect_status(lambda: client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "conf-ratelimit py"}]), 429)


def test_agents_complete_and_stream(client, other_client, bad_client):
    agent = create_agent(client, instructions="conf-agentc-py-v0", tools=[weather_tool("conf_get_weather")])
    try:
        client.beta.agents.update(agent_id=agent.id, instructions="conf-agentc-py-v1")
        res = client.agents.complete(agent_id=agent.id, messages=[{"role": "user", "content": "conf-show-system"}])
        assert res.object == "chat.completion"
        content = res.choices[0].message.content
        assert "system=[conf-agentc-py-v1]" in content
        assert "tools=[conf_get_weather]" in content

        chunks = [ev.data for ev in client.agents.stream(agent_id=agent.id, messages=[{"role": "user", "content": "conf-show-system"}])]
        assert "system=[conf-agentc-py-v1]" in _text(chunks)

        raw = raw_request(
            "/v1/agents/completions",
            method="POST",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"agent_id": agent.id, "agent_version": 0, "messages": [{"role": "user", "content": "conf-show-system"}]}).encode(),
        )
        assert raw.status == 200
        assert "system=[conf-agentc-py-v0]" in raw.json()["choices"][0]["message"]["content"]

        expect_status(lambda: other_client.agents.complete(agent_id=agent.id, messages=[{"role": "user", "content": "x"}]), 404)
        expect_status(lambda: bad_client.agents.complete(agent_id=agent.id, messages=[{"role": "user", "content": "x"}]), 401)
        expect_status(lambda: client.agents.complete(agent_id=agent.id, messages=[]), 422)
    finally:
        client.beta.agents.delete(agent_id=agent.id)


def test_fim(client):
    res = client.fim.complete(model="codestral-latest", prompt="def add(a, b):", suffix="return c")
    assert res.choices[0].message.content == "fim(b):|return)"
    assert res.usage.total_tokens > 0
    chunks = [ev.data for ev in client.fim.stream(model="codestral-latest", prompt="x =", suffix="y")]
    assert _text(chunks) == "fim(=|y)"
    expect_status(lambda: client.fim.complete(model="no-such-model-conf", prompt="x"), 400)


@pytest.mark.sdk3
def test_chat_sdk3_sampling_arguments(client):
    # min_tokens and top_k exist only in the 3.x SDK line: accepted (and not acted on).
    res = client.chat.complete(
        model=MODEL, messages=[{"role": "user", "content": "conf-chat sdk3"}], min_tokens=1, top_k=5
    )
    assert res.choices[0].message.content == "conf-default: you said conf-chat sdk3"
