"""Handoffs between agents through the official Python SDK.

Wire contract: shared/API.md §4 (agent.handoff), §7.3. Script rules
(conformance/upstream-script.yaml): an agent whose instructions contain
"conf-ho-router-marker" hands off to the agent named "conf-ho-specialist" on
"conf-ho-server"/"conf-ho-client" and to "conf-ho-fn-agent" on "conf-ho-fn";
"conf-ho-specialist" answers anything; "conf-ho-fn-agent" calls conf_ho_lookup first.
"""

import json

from conv_helpers import MODEL, assert_response, fn_tool, history, last, results_for, text_of, types
from helpers import create_agent, expect_status, uniq

SPECIALIST_REPLY = "conf-ho specialist here: your request is handled."


def chain(client):
    specialist = create_agent(
        client,
        name="conf-ho-specialist",
        instructions="conf-ho-specialist-marker: you handle the requests routed to you.",
        description="Handles routed requests",
    )
    router = create_agent(
        client,
        name=uniq("conf-ho-router"),
        instructions="conf-ho-router-marker: route every request.",
        handoffs=[specialist.id],
    )
    return router, specialist


def assert_handoff(h, frm, to):
    assert h.type == "agent.handoff" and h.object == "entry"
    assert (h.previous_agent_id, h.previous_agent_name) == (frm.id, frm.name)
    assert (h.next_agent_id, h.next_agent_name) == (to.id, to.name)
    assert h.id


def test_server_mode_chain(client):
    router, specialist = chain(client)
    res = client.beta.conversations.start(agent_id=router.id, inputs="conf-ho-server please")
    assert_response(res)
    assert types(res.outputs) == ["agent.handoff", "message.output"]
    assert_handoff(res.outputs[0], router, specialist)
    msg = res.outputs[1]
    assert msg.agent_id == specialist.id
    assert msg.model == MODEL
    assert text_of(msg.content) == SPECIALIST_REPLY
    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "agent.handoff", "message.output"]
    assert client.beta.conversations.get(conversation_id=res.conversation_id).agent_id == router.id
    nxt = client.beta.conversations.append(conversation_id=res.conversation_id, inputs="conf-ho-followup anything")
    assert last(nxt).agent_id == specialist.id
    assert text_of(last(nxt).content) == SPECIALIST_REPLY


def test_client_mode_stops_at_handoff(client):
    router, specialist = chain(client)
    res = client.beta.conversations.start(agent_id=router.id, inputs="conf-ho-client please", handoff_execution="client")
    assert_response(res)
    assert types(res.outputs) == ["agent.handoff"]
    assert_handoff(res.outputs[0], router, specialist)
    nxt = client.beta.conversations.append(
        conversation_id=res.conversation_id, inputs="conf-ho-continue go on", handoff_execution="client"
    )
    assert_response(nxt)
    assert types(nxt.outputs) == ["message.output"]
    assert last(nxt).agent_id == specialist.id
    assert text_of(last(nxt).content) == SPECIALIST_REPLY
    assert types(history(client, res.conversation_id)) == [
        "message.input",
        "agent.handoff",
        "message.input",
        "message.output",
    ]


def test_handoff_to_agent_with_client_function(client):
    fn_agent = create_agent(
        client,
        name="conf-ho-fn-agent",
        instructions="conf-ho-fn-marker: look orders up.",
        tools=[fn_tool("conf_ho_lookup", {"order_id": {"type": "string"}})],
    )
    router = create_agent(
        client,
        name=uniq("conf-ho-router"),
        instructions="conf-ho-router-marker: route every request.",
        handoffs=[fn_agent.id],
    )
    res = client.beta.conversations.start(agent_id=router.id, inputs="conf-ho-fn where is my order")
    assert_response(res)
    assert types(res.outputs) == ["agent.handoff", "function.call"]
    assert_handoff(res.outputs[0], router, fn_agent)
    call = res.outputs[1]
    assert call.name == "conf_ho_lookup" and call.agent_id == fn_agent.id
    assert json.loads(call.arguments) == {"order_id": "A-42"}
    fin = client.beta.conversations.append(conversation_id=res.conversation_id, inputs=results_for([call], lambda c: "shipped"))
    assert types(fin.outputs) == ["message.output"]
    assert last(fin).agent_id == fn_agent.id
    assert text_of(last(fin).content) == "conf-ho-fn final: the lookup returned shipped"


def test_no_handoff_without_target(client):
    lonely = create_agent(client, name=uniq("conf-ho-router"), instructions="conf-ho-router-marker: route every request.")
    res = client.beta.conversations.start(agent_id=lonely.id, inputs="conf-ho-server nowhere to go")
    assert "agent.handoff" not in types(res.outputs)
    assert last(res).type == "message.output" and last(res).agent_id == lonely.id


def test_handoff_to_unknown_agent_rejected(client):
    expect_status(lambda: create_agent(client, handoffs=["ag_00000000000000000000000000000000"]), (400, 404, 422))
