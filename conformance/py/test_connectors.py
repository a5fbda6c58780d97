"""Connectors API (client.beta.connectors) and MCP connector tools through the Python SDK.

The connectors API exists only in mistralai 3.x: these tests carry the `sdk3` marker and are
deselected on the 2.x line (conftest.py). Wire contract: shared/API.md §11; behaviour:
docs/connectors.md ("MCP connectors"). run.sh starts the MCP reference server "everything" on
loopback (MCP_EVERYTHING_URL). A connector's tools are offered as "<connector name>__<tool>";
"conf-mcp-echo <function> <text>" makes the scripted model call that function.
"""

from __future__ import annotations

import json
import os

import pytest

from conv_helpers import assert_response, assert_stream_matches_history, check_stream, collect, history, last, text_of, types
from helpers import MODEL, create_agent, expect_status, raw_request, uniq

pytestmark = pytest.mark.sdk3

MCP = os.environ.get("MCP_EVERYTHING_URL", "")
if not MCP and os.environ.get("CI", "").lower() not in ("1", "true"):
    pytestmark = [pytest.mark.sdk3, pytest.mark.skip(reason="MCP_EVERYTHING_URL not set (run conformance/install.sh, then run.sh)")]


def register(client, **extra):
    name = uniq("mcp").replace("-", "_")
    return client.beta.connectors.create(
        request={"protocol": "mcp", "name": name, "description": "the MCP reference server", "server": MCP, **extra}
    )


def dump(x):
    return x.model_dump(by_alias=True) if hasattr(x, "model_dump") else x


def test_crud_get_by_name_list(client):
    conn = register(client, title="Everything")
    assert conn.protocol == "mcp"
    assert conn.server == MCP and conn.title == "Everything"
    assert client.beta.connectors.get(connector_id_or_name=conn.id).id == conn.id
    assert client.beta.connectors.get(connector_id_or_name=conn.name).id == conn.id
    page = client.beta.connectors.list(page_size=1000)
    assert any(x.id == conn.id for x in page.items)
    up = client.beta.connectors.update(connector_id=conn.id, request_body={"protocol": "mcp", "description": "updated"})
    assert up.description == "updated"
    expect_status(lambda: register(client, name=conn.name), 409, "duplicate name")
    assert isinstance(client.beta.connectors.delete(connector_id=conn.id).message, str)
    expect_status(lambda: client.beta.connectors.get(connector_id_or_name=conn.id), 404, "after delete")


def test_cursor_pagination(client):
    for _ in range(3):
        register(client)
    seen, cursor = set(), None
    for _ in range(100):
        page = client.beta.connectors.list(page_size=2, cursor=cursor)
        for it in page.items:
            assert it.id not in seen
            seen.add(it.id)
        if not page.pagination.next_cursor:
            break
        cursor = page.pagination.next_cursor
    assert len(seen) >= 3


def test_list_tools_and_call_tool(client):
    conn = register(client)
    tools = [dump(t) for t in client.beta.connectors.list_tools(connector_id_or_name=conn.name, refresh=True)]
    names = [t["name"] for t in tools]
    for want in ("echo", "get-sum", "get-tiny-image"):
        assert want in names
    res = client.beta.connectors.call_tool(connector_id_or_name=conn.id, tool_name="echo", arguments={"message": "hi"})
    assert res.content[0].type == "text" and res.content[0].text == "Echo: hi"
    img = client.beta.connectors.call_tool(connector_id_or_name=conn.id, tool_name="get-tiny-image", arguments={})
    assert any(getattr(c, "type", None) == "image" for c in img.content)


def test_credentials(client):
    conn = register(client)
    client.beta.connectors.create_credentials(
        connector_id_or_name=conn.id, consumer_scope="workspace", name="main",
        credentials={"bearer_token": "tok-secret-py", "headers": {"X-Team": "a"}},
    )
    listed = client.beta.connectors.list_workspace_credentials(connector_id_or_name=conn.id)
    assert [c.name for c in listed.credentials] == ["main"]
    assert "tok-secret-py" not in json.dumps(dump(listed), default=str)
    client.beta.connectors.update_credentials(connector_id_or_name=conn.id, consumer_scope="workspace", name="main",
                                              credentials={"bearer_token": "tok-2"})
    res = client.beta.connectors.call_tool(connector_id_or_name=conn.id, tool_name="echo", arguments={"message": "x"})
    assert res.content[0].text == "Echo: x"
    client.beta.connectors.delete_credentials(connector_id_or_name=conn.id, consumer_scope="workspace", credentials_name="main")
    assert client.beta.connectors.list_workspace_credentials(connector_id_or_name=conn.id).credentials == []


def test_isolation(client, other_client):
    conn = register(client)
    expect_status(lambda: other_client.beta.connectors.get(connector_id_or_name=conn.id), 404, "get")
    expect_status(lambda: other_client.beta.connectors.call_tool(connector_id_or_name=conn.id, tool_name="echo", arguments={"message": "x"}), 404, "call_tool")
    expect_status(lambda: other_client.beta.connectors.delete(connector_id=conn.id), 404, "delete")
    assert all(x.id != conn.id for x in other_client.beta.connectors.list(page_size=1000).items)
    expect_status(lambda: create_agent(other_client, tools=[{"type": "connector", "connector_id": conn.id}]), "4xx", "agent")


def test_ssrf_refused_without_opt_in(client):
    for server in ("http://127.0.0.1:1/mcp", "http://169.254.169.254/latest"):
        err = expect_status(lambda: client.beta.connectors.create(
            request={"protocol": "mcp", "name": uniq("ssrf"), "description": "x", "server": server}), "4xx", server)
        assert "connectors.allow_private" in str(getattr(err, "body", err))


def test_unreachable_server(client):
    conn = register(client)
    client.beta.connectors.update(connector_id=conn.id, request_body={"protocol": "mcp", "server": MCP.replace("/mcp", "/nothing-here")})
    expect_status(lambda: client.beta.connectors.list_tools(connector_id_or_name=conn.id, refresh=True), [502, 504], "list_tools")


def test_agent_calls_mcp_tool(client):
    conn = register(client)
    agent = create_agent(client, tools=[{"type": "connector", "connector_id": conn.id}])
    fn = f"{conn.name}__echo"
    res = client.beta.conversations.start(agent_id=agent.id, inputs=f"conf-mcp-echo {fn} hallo")
    assert_response(res)
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == fn and json.loads(ex.arguments) == {"message": "hallo"}
    assert ex.info["connector_id"] == conn.id and ex.info["tool"] == "echo"
    assert text_of(last(res).content) == "conf-mcp done: Echo: hallo"
    assert (res.usage.connectors or {}).get(fn) == 1
    assert types(history(client, res.conversation_id)) == ["message.input", "tool.execution", "message.output"]


def test_streaming(client):
    conn = register(client)
    fn = f"{conn.name}__echo"
    events = collect(client.beta.conversations.start_stream(
        model=MODEL, inputs=f"conf-mcp-echo {fn} streamed", tools=[{"type": "connector", "connector_id": conn.id}]))
    s = check_stream(events)
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    assert s.outputs[0].info["tool"] == "echo"
    assert_stream_matches_history(client, s)


def test_requires_confirmation(client):
    conn = register(client)
    agent = create_agent(client, tools=[{"type": "connector", "connector_id": conn.id,
                                         "tool_configuration": {"requires_confirmation": ["echo"]}}])
    fn = f"{conn.name}__echo"
    res = client.beta.conversations.start(agent_id=agent.id, inputs=f"conf-mcp-echo {fn} careful")
    call = res.outputs[0]
    assert call.type == "function.call" and call.name == fn and call.confirmation_status == "pending"
    nxt = client.beta.conversations.append(conversation_id=res.conversation_id,
                                           tool_confirmations=[{"tool_call_id": call.tool_call_id, "confirmation": "allow"}])
    assert types(nxt.outputs) == ["tool.execution", "message.output"]
    assert text_of(last(nxt).content) == "conf-mcp done: Echo: careful"


def test_unsupported_auth_url(client):
    conn = register(client)
    r = raw_request(f"/v1/connectors/{conn.id}/auth_url")
    assert r.status == 400 and b"not supported" in r.body
