"""Function calling, tool confirmations and failing built-in connectors through the
official Python SDK. Wire contract: shared/API.md §4, §7.1, §7.2, §7.6.

Script rules (conformance/upstream-script.yaml): "conf-fc-single X" calls
conf_get_weather{city:X}; "conf-fc-parallel X and Y" makes two calls; a conf_get_weather result
is answered "conf-fc done: <results>"; "conf-confirm-fn" calls conf_confirm_action;
"conf-websearch"/"conf-confirm-ws" call web_search.
"""

import json

from conv_helpers import (
    MODEL,
    assert_response,
    fn_tool,
    history,
    last,
    raw_json,
    results_for,
    text_of,
    types,
    upstream_requests,
    weather_fn,
)
from helpers import create_agent, expect_status, uniq

try:
    from mistralai.client.models import FunctionResultEntry, ToolCallConfirmation
except ImportError:  # pragma: no cover
    from mistralai.models import FunctionResultEntry, ToolCallConfirmation  # type: ignore


def start_model(client, inputs, **kw):
    return client.beta.conversations.start(model=MODEL, inputs=inputs, **kw)


# --------------------------------------------------------------------------- function calling


def test_function_call_result_final_answer(client):
    res = start_model(client, "conf-fc-single Lisbon", tools=[weather_fn()])
    assert_response(res)
    assert len(res.outputs) == 1
    call = res.outputs[0]
    assert call.type == "function.call"
    assert call.name == "conf_get_weather"
    assert isinstance(call.arguments, str), "arguments is a JSON-encoded string"
    assert json.loads(call.arguments) == {"city": "Lisbon", "unit": "celsius"}
    assert isinstance(call.tool_call_id, str) and call.tool_call_id
    assert not call.confirmation_status
    assert call.model == MODEL

    result = f"temp_c=21 {uniq('conf-fc-result')}"
    fin = client.beta.conversations.append(
        conversation_id=res.conversation_id,
        inputs=[FunctionResultEntry(tool_call_id=call.tool_call_id, result=result)],
    )
    assert_response(fin)
    assert fin.conversation_id == res.conversation_id
    assert types(fin.outputs) == ["message.output"]
    assert text_of(last(fin).content) == f"conf-fc done: {result}"

    reqs = upstream_requests(result)
    if reqs is not None:
        msgs = reqs[-1]["messages"]
        asst = next(m for m in msgs if m["role"] == "assistant" and m.get("tool_calls"))
        assert asst["tool_calls"][0]["id"] == call.tool_call_id
        tool = next(m for m in msgs if m["role"] == "tool")
        assert tool["tool_call_id"] == call.tool_call_id and tool["content"] == result

    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "function.call", "function.result", "message.output"]
    assert h[1].id == call.id
    assert h[2].tool_call_id == call.tool_call_id and h[2].result == result


def test_agent_function_call_carries_agent_id(client):
    a = create_agent(client, tools=[weather_fn()])
    res = client.beta.conversations.start(agent_id=a.id, inputs="conf-fc-single Oslo")
    call = last(res)
    assert call.type == "function.call" and call.agent_id == a.id
    fin = client.beta.conversations.append(conversation_id=res.conversation_id, inputs=results_for([call], lambda c: "cold"))
    assert text_of(last(fin).content) == "conf-fc done: cold"
    assert last(fin).agent_id == a.id


def test_parallel_calls_both_results_at_once(client):
    res = start_model(client, "conf-fc-parallel Paris and Rome", tools=[weather_fn()])
    assert_response(res)
    assert types(res.outputs) == ["function.call", "function.call"]
    c1, c2 = res.outputs
    assert json.loads(c1.arguments) == {"city": "Paris"}
    assert json.loads(c2.arguments) == {"city": "Rome"}
    assert c1.tool_call_id != c2.tool_call_id and c1.id != c2.id
    fin = client.beta.conversations.append(
        conversation_id=res.conversation_id,
        inputs=[
            FunctionResultEntry(tool_call_id=c.tool_call_id, result=f"{json.loads(c.arguments)['city']}=sunny")
            for c in res.outputs
        ],
    )
    assert types(fin.outputs) == ["message.output"]
    assert text_of(last(fin).content) == "conf-fc done: Paris=sunny\nRome=sunny"
    assert types(history(client, res.conversation_id)) == [
        "message.input",
        "function.call",
        "function.call",
        "function.result",
        "function.result",
        "message.output",
    ]


def test_parallel_calls_answered_in_two_appends(client):
    res = start_model(client, "conf-fc-parallel Kyiv and Riga", tools=[weather_fn()])
    c1, c2 = res.outputs
    half = client.beta.conversations.append(conversation_id=res.conversation_id, inputs=results_for([c1], lambda c: "Kyiv=mild"))
    assert_response(half)
    assert half.outputs == []
    expect_status(
        lambda: client.beta.conversations.append(conversation_id=res.conversation_id, inputs="conf-fc-intrude"), 409
    )
    fin = client.beta.conversations.append(conversation_id=res.conversation_id, inputs=results_for([c2], lambda c: "Riga=cool"))
    assert text_of(last(fin).content) == "conf-fc done: Kyiv=mild\nRiga=cool"


def test_result_for_unknown_tool_call_id_is_4xx(client):
    res = start_model(client, "conf-fc-single Berlin", tools=[weather_fn()])
    assert last(res).type == "function.call"
    expect_status(
        lambda: client.beta.conversations.append(
            conversation_id=res.conversation_id, inputs=[FunctionResultEntry(tool_call_id="nosuchcall", result="x")]
        ),
        (400, 404, 409, 422),
    )
    fin = client.beta.conversations.append(conversation_id=res.conversation_id, inputs=results_for([last(res)], lambda c: "ok"))
    assert text_of(last(fin).content) == "conf-fc done: ok"
    expect_status(
        lambda: client.beta.conversations.append(
            conversation_id=res.conversation_id, inputs=results_for([last(res)], lambda c: "again")
        ),
        (400, 409, 422),
        "result for an answered call",
    )


def test_new_message_while_calls_pending_is_409(client):
    res = start_model(client, "conf-fc-single Madrid", tools=[weather_fn()])
    assert last(res).type == "function.call"
    expect_status(
        lambda: client.beta.conversations.append(conversation_id=res.conversation_id, inputs="conf-fc-intrude"), 409
    )
    assert len(history(client, res.conversation_id)) == 2


# --------------------------------------------------------------------------- tool confirmations


def confirm_agent():
    """An agent whose function tool requires confirmation. The SDKs' FunctionTool schema has no
    tool_configuration (pydantic drops it), so the agent is created with a raw request."""
    status, body = raw_json(
        "/v1/agents",
        "POST",
        {
            "model": MODEL,
            "name": uniq("conf-confirm-agent"),
            "instructions": "conf-confirm agent",
            "tools": [
                {
                    "type": "function",
                    "function": fn_tool("conf_confirm_action", {"target": {"type": "string"}})["function"],
                    "tool_configuration": {"requires_confirmation": ["conf_confirm_action"]},
                }
            ],
        },
    )
    assert status == 200, body
    return body


def test_confirmation_pending_then_deny(client):
    a = confirm_agent()
    res = client.beta.conversations.start(agent_id=a["id"], inputs="conf-confirm-fn please")
    assert_response(res)
    call = last(res)
    assert call.type == "function.call"
    assert call.name == "conf_confirm_action"
    assert call.confirmation_status == "pending"
    assert json.loads(call.arguments) == {"target": "record-7"}

    expect_status(
        lambda: client.beta.conversations.append(conversation_id=res.conversation_id, inputs="conf-confirm-intrude"),
        409,
    )
    expect_status(
        lambda: client.beta.conversations.append(
            conversation_id=res.conversation_id,
            tool_confirmations=[ToolCallConfirmation(tool_call_id="nosuchcall", confirmation="deny")],
        ),
        (400, 404, 409, 422),
    )
    fin = client.beta.conversations.append(
        conversation_id=res.conversation_id,
        tool_confirmations=[ToolCallConfirmation(tool_call_id=call.tool_call_id, confirmation="deny")],
    )
    assert_response(fin)
    assert last(fin).type == "message.output"
    assert text_of(last(fin).content) == "conf-confirm: the action was denied, so it was not run."
    fc = next(e for e in history(client, res.conversation_id) if e.type == "function.call")
    assert fc.confirmation_status == "denied"


def test_confirmation_allow_then_client_runs_it(client):
    a = confirm_agent()
    res = client.beta.conversations.start(agent_id=a["id"], inputs="conf-confirm-fn now")
    call = last(res)
    assert call.confirmation_status == "pending"
    allowed = client.beta.conversations.append(
        conversation_id=res.conversation_id,
        tool_confirmations=[{"tool_call_id": call.tool_call_id, "confirmation": "allow"}],
    )
    assert_response(allowed)
    for o in allowed.outputs:
        assert o.type == "function.call"
        assert o.tool_call_id == call.tool_call_id
        assert o.confirmation_status == "allowed"
    fin = client.beta.conversations.append(conversation_id=res.conversation_id, inputs=results_for([call], lambda c: "done-7"))
    assert text_of(last(fin).content) == "conf-confirm: the action ran and returned done-7"
    fc = next(e for e in history(client, res.conversation_id) if e.type == "function.call")
    assert fc.confirmation_status == "allowed"


def test_builtin_confirmation_deny_and_allow(client):
    a = create_agent(client, tools=[{"type": "web_search", "tool_configuration": {"requires_confirmation": ["web_search"]}}])
    assert a.tools[0].tool_configuration.requires_confirmation == ["web_search"]

    r1 = client.beta.conversations.start(agent_id=a.id, inputs="conf-confirm-ws deny me")
    p1 = last(r1)
    assert (p1.type, p1.name, p1.confirmation_status) == ("function.call", "web_search", "pending")
    d = client.beta.conversations.append(
        conversation_id=r1.conversation_id,
        tool_confirmations=[{"tool_call_id": p1.tool_call_id, "confirmation": "deny"}],
    )
    assert text_of(last(d).content) == "conf-websearch: the search was denied, answering without it."
    assert "tool.execution" not in types(d.outputs)

    r2 = client.beta.conversations.start(agent_id=a.id, inputs="conf-confirm-ws allow me")
    p2 = last(r2)
    assert p2.confirmation_status == "pending"
    al = client.beta.conversations.append(
        conversation_id=r2.conversation_id,
        tool_confirmations=[{"tool_call_id": p2.tool_call_id, "confirmation": "allow"}],
    )
    assert_response(al)
    ex = [o for o in al.outputs if o.type == "tool.execution"]
    assert ex and ex[0].name == "web_search", types(al.outputs)
    assert last(al).type == "message.output"
    assert text_of(last(al).content).startswith("conf-websearch final:")


# --------------------------------------------------------------------------- failing connector


def test_failing_web_search_reports_error_and_continues(client):
    # "conf-searxng-error" in the query makes run.sh's fake SearXNG answer HTTP 500.
    q = uniq("conf-websearch conf-searxng-error")
    res = start_model(client, q, tools=[{"type": "web_search"}])
    assert_response(res)
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == "web_search"
    assert isinstance(ex.arguments, str)
    assert json.loads(ex.arguments) == {"query": q}
    assert isinstance(ex.info, dict)
    # The search engine failed, so the execution reports an error.
    assert isinstance(ex.info.get("error"), str), ex.info
    assert text_of(last(res).content).startswith("conf-websearch final:")
    assert (res.usage.connectors or {}).get("web_search") == 1, res.usage
    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "tool.execution", "message.output"]
    assert h[1].id == ex.id
