"""Agents API (client.beta.agents) through the official Python SDK.

Wire contract: shared/API.md §2 and §7.5.
"""

from datetime import datetime, timezone

import pytest

from helpers import (
    MODEL,
    HTTPValidationError,
    assert_agent,
    create_agent,
    expect_status,
    library_id_for_tests,
    random_id,
    uniq,
    weather_tool,
)


# --------------------------------------------------------------------------- create / get


def test_create_with_every_field_and_get(client):
    name = uniq("full")
    lib_id = library_id_for_tests(client)
    fn = weather_tool("get_weather")
    a = client.beta.agents.create(
        model=MODEL,
        name=name,
        description="Conformance agent with every field",
        instructions="Answer in one sentence.",
        tools=[fn, {"type": "web_search"}, {"type": "document_library", "library_ids": [lib_id]}],
        completion_args={"temperature": 0.3, "top_p": 0.9, "max_tokens": 256, "tool_choice": "auto"},
        metadata={"team": "qa", "tier": 2, "nested": {"ok": True}},
        guardrails=[{"block_on_error": True, "moderation_llm_v1": {"action": "block"}}],
        version_message="initial version",
    )
    assert_agent(a)
    assert a.version == 0
    assert a.versions == [0]
    assert a.model == MODEL
    assert a.name == name
    assert a.description == "Conformance agent with every field"
    assert a.instructions == "Answer in one sentence."
    assert a.deployment_chat is False
    assert a.version_message == "initial version"
    assert a.metadata == {"team": "qa", "tier": 2, "nested": {"ok": True}}

    assert [t.type for t in a.tools] == ["function", "web_search", "document_library"]
    assert a.tools[0].function.name == "get_weather"
    assert a.tools[0].function.description == "Get the current weather for a city"
    assert a.tools[0].function.parameters == fn["function"]["parameters"]
    assert a.tools[2].library_ids == [lib_id]

    assert a.completion_args.temperature == 0.3
    assert a.completion_args.top_p == 0.9
    assert a.completion_args.max_tokens == 256
    assert a.completion_args.tool_choice == "auto"

    assert len(a.guardrails) == 1
    assert a.guardrails[0].block_on_error is True
    assert a.guardrails[0].moderation_llm_v1.action == "block"

    assert abs((a.created_at - datetime.now(timezone.utc)).total_seconds()) < 600

    g = client.beta.agents.get(agent_id=a.id)
    assert_agent(g)
    assert g.id == a.id
    assert g.version == 0
    assert g.versions == [0]
    assert g.name == name
    assert g.instructions == a.instructions
    assert g.description == a.description
    assert g.tools == a.tools
    assert g.completion_args == a.completion_args
    assert g.metadata == a.metadata
    assert g.guardrails == a.guardrails
    assert g.created_at == a.created_at


def test_create_minimal(client):
    name = uniq("min")
    a = client.beta.agents.create(model=MODEL, name=name)
    assert_agent(a)
    assert (a.name, a.model, a.version, a.versions) == (name, MODEL, 0, [0])
    assert client.beta.agents.get(agent_id=a.id).name == name


def test_create_with_handoffs(client):
    target = create_agent(client)
    a = create_agent(client, handoffs=[target.id])
    assert a.handoffs == [target.id]
    assert client.beta.agents.get(agent_id=a.id).handoffs == [target.id]


# --------------------------------------------------------------------------- list


def test_list_without_filters_sends_sdk_defaults(client):
    """The 2.x SDK sends metadata=<unset sentinel> when no filter is given (API.md §0.2)."""
    a = create_agent(client)
    got = client.beta.agents.list()
    assert isinstance(got, list)
    for x in got:
        assert_agent(x)
    # Default page_size is 20 and the newest agents come first in practice; search to be safe.
    assert [x.id for x in client.beta.agents.list(search=a.name)] == [a.id]


def test_list_filters_and_pagination(client):
    tag = uniq("lst")
    red1 = create_agent(client, name=f"{tag}-red-1", metadata={"suite": tag, "color": "red"})
    red2 = create_agent(client, name=f"{tag}-red-2", metadata={"suite": tag, "color": "red"})
    blue = create_agent(client, name=f"{tag}-blue", metadata={"suite": tag, "color": "blue"})
    mine = {red1.id, red2.id, blue.id}

    everything = client.beta.agents.list(page_size=1000)
    assert mine <= {x.id for x in everything}

    assert [x.id for x in client.beta.agents.list(name=f"{tag}-blue")] == [blue.id]
    assert {x.id for x in client.beta.agents.list(search=tag, page_size=100)} == mine
    assert [x.id for x in client.beta.agents.list(id=red2.id)] == [red2.id]

    reds = client.beta.agents.list(metadata={"suite": tag, "color": "red"}, page_size=100)
    assert {x.id for x in reds} == {red1.id, red2.id}
    assert {x.id for x in client.beta.agents.list(metadata={"suite": tag}, page_size=100)} == mine
    assert client.beta.agents.list(metadata={"suite": tag, "color": "green"}) == []

    src = red1.source
    assert {x.id for x in client.beta.agents.list(search=tag, sources=[src], page_size=100)} == mine
    other_src = "agent_builder_v1" if src == "playground" else "playground"
    assert client.beta.agents.list(search=tag, sources=[other_src]) == []
    assert client.beta.agents.list(search=tag, deployment_chat=True) == []

    p0 = client.beta.agents.list(search=tag, page=0, page_size=2)
    p1 = client.beta.agents.list(search=tag, page=1, page_size=2)
    p2 = client.beta.agents.list(search=tag, page=2, page_size=2)
    assert (len(p0), len(p1), len(p2)) == (2, 1, 0)
    assert {x.id for x in p0 + p1} == mine


def test_list_pages_cursor(client):
    tag = uniq("pages")
    ids = {create_agent(client, name=f"{tag}-{i}").id for i in range(5)}
    page = client.beta.agents.list_pages(search=tag, page_size=2)
    sizes, seen = [], []
    while page is not None:
        assert page.result.object == "list"
        for x in page.result.data:
            assert_agent(x)
        sizes.append(len(page.result.data))
        seen += [x.id for x in page.result.data]
        assert len(sizes) <= 5, "paginator must terminate"
        page = page.next()
    assert sizes == [2, 2, 1]
    assert len(seen) == 5 and set(seen) == ids

    first = client.beta.agents.list_pages(search=tag, page_size=2)
    assert isinstance(first.result.next_page_token, str) and first.result.next_page_token
    second = client.beta.agents.list_pages(search=tag, page_size=2, page_token=first.result.next_page_token)
    assert len(second.result.data) == 2
    assert not ({x.id for x in first.result.data} & {x.id for x in second.result.data})


def test_list_pages_filters(client):
    tag = uniq("pgflt")
    a = create_agent(client, name=f"{tag}-a", metadata={"suite": tag, "k": "v"})
    create_agent(client, name=f"{tag}-b", metadata={"suite": tag, "k": "w"})
    assert [x.id for x in client.beta.agents.list_pages(name=f"{tag}-a").result.data] == [a.id]
    by_meta = client.beta.agents.list_pages(metadata={"suite": tag, "k": "v"})
    assert [x.id for x in by_meta.result.data] == [a.id]


def test_list_excludes_deleted(client):
    tag = uniq("lstdel")
    keep = create_agent(client, name=f"{tag}-keep")
    gone = create_agent(client, name=f"{tag}-gone")
    client.beta.agents.delete(agent_id=gone.id)
    assert [x.id for x in client.beta.agents.list(search=tag)] == [keep.id]


# --------------------------------------------------------------------------- versions


def test_update_and_update_version(client):
    name = uniq("ver")
    a = create_agent(
        client,
        name=name,
        description="v0 description",
        instructions="v0 instructions",
        tools=[weather_tool("v0_tool")],
        completion_args={"temperature": 0.1},
        metadata={"rev": "0"},
        version_message="v0",
    )
    assert a.version == 0

    u = client.beta.agents.update(
        agent_id=a.id,
        description="v1 description",
        instructions="v1 instructions",
        completion_args={"temperature": 0.7, "tool_choice": "any"},
        metadata={"rev": "1"},
        version_message="v1",
    )
    assert_agent(u)
    assert u.id == a.id
    assert u.version == 1
    assert sorted(u.versions) == [0, 1]
    assert u.description == "v1 description"
    assert u.instructions == "v1 instructions"
    assert u.completion_args.temperature == 0.7
    assert u.completion_args.tool_choice == "any"
    assert u.metadata == {"rev": "1"}
    assert u.version_message == "v1"
    # untouched fields are kept
    assert u.name == name
    assert u.model == MODEL
    assert [t.function.name for t in u.tools] == ["v0_tool"]

    g = client.beta.agents.get(agent_id=a.id)
    assert (g.version, g.instructions) == (1, "v1 instructions")

    g0 = client.beta.agents.get(agent_id=a.id, agent_version=0)
    assert (g0.version, g0.instructions, g0.description) == (0, "v0 instructions", "v0 description")
    assert g0.completion_args.temperature == 0.1
    assert g0.metadata == {"rev": "0"}

    sw = client.beta.agents.update_version(agent_id=a.id, version=0)
    assert_agent(sw)
    assert (sw.version, sw.instructions) == (0, "v0 instructions")
    assert sorted(sw.versions) == [0, 1]
    g = client.beta.agents.get(agent_id=a.id)
    assert (g.version, g.instructions, g.description, g.version_message) == (
        0,
        "v0 instructions",
        "v0 description",
        "v0",
    )
    assert sorted(g.versions) == [0, 1]
    assert client.beta.agents.get(agent_id=a.id, agent_version=1).instructions == "v1 instructions"

    u2 = client.beta.agents.update(agent_id=a.id, name=f"{name}-renamed")
    assert u2.version == 2
    assert sorted(u2.versions) == [0, 1, 2]
    assert u2.name == f"{name}-renamed"


def test_update_replaces_tools(client):
    a = create_agent(client, tools=[weather_tool("old_tool")])
    u = client.beta.agents.update(agent_id=a.id, tools=[{"type": "web_search"}, weather_tool("new_tool")])
    assert u.version == 1
    assert [t.type for t in u.tools] == ["web_search", "function"]
    assert u.tools[1].function.name == "new_tool"


def test_update_deployment_chat_and_filter(client):
    tag = uniq("deploy")
    a = create_agent(client, name=f"{tag}-on")
    b = create_agent(client, name=f"{tag}-off")
    assert a.deployment_chat is False
    u = client.beta.agents.update(agent_id=a.id, deployment_chat=True)
    assert (u.deployment_chat, u.version) == (True, 1)
    assert client.beta.agents.get(agent_id=a.id).deployment_chat is True
    assert [x.id for x in client.beta.agents.list(search=tag, deployment_chat=True)] == [a.id]
    assert [x.id for x in client.beta.agents.list(search=tag, deployment_chat=False)] == [b.id]


def test_list_versions_and_get_version(client):
    a = create_agent(client, instructions="i0")
    client.beta.agents.update(agent_id=a.id, instructions="i1")
    client.beta.agents.update(agent_id=a.id, instructions="i2")

    vs = client.beta.agents.list_versions(agent_id=a.id)
    assert len(vs) == 3
    for v in vs:
        assert_agent(v)
        assert v.id == a.id
        assert v.instructions == f"i{v.version}"
    assert sorted(v.version for v in vs) == [0, 1, 2]

    p0 = client.beta.agents.list_versions(agent_id=a.id, page=0, page_size=2)
    p1 = client.beta.agents.list_versions(agent_id=a.id, page=1, page_size=2)
    assert (len(p0), len(p1)) == (2, 1)
    assert sorted(v.version for v in p0 + p1) == [0, 1, 2]

    for n in range(3):
        v = client.beta.agents.get_version(agent_id=a.id, version=str(n))
        assert_agent(v)
        assert (v.id, v.version, v.instructions) == (a.id, n, f"i{n}")
    expect_status(lambda: client.beta.agents.get_version(agent_id=a.id, version="7"), 404, "unknown version")
    expect_status(lambda: client.beta.agents.get(agent_id=a.id, agent_version=7), 404, "get unknown version")
    expect_status(lambda: client.beta.agents.update_version(agent_id=a.id, version=7), "4xx", "switch to unknown")


# --------------------------------------------------------------------------- aliases


def test_aliases_lifecycle(client):
    a = create_agent(client, instructions="alias v0")
    client.beta.agents.update(agent_id=a.id, instructions="alias v1")

    created = client.beta.agents.create_version_alias(agent_id=a.id, alias="prod", version=0)
    assert (created.alias, created.version) == ("prod", 0)
    assert created.created_at.tzinfo is not None and created.updated_at.tzinfo is not None
    v = client.beta.agents.get(agent_id=a.id, agent_version="prod")
    assert (v.version, v.instructions) == (0, "alias v0")

    moved = client.beta.agents.create_version_alias(agent_id=a.id, alias="prod", version=1)
    assert (moved.alias, moved.version) == ("prod", 1)
    v = client.beta.agents.get(agent_id=a.id, agent_version="prod")
    assert (v.version, v.instructions) == (1, "alias v1")

    client.beta.agents.create_version_alias(agent_id=a.id, alias="staging-2_b", version=0)
    aliases = client.beta.agents.list_version_aliases(agent_id=a.id)
    assert sorted((x.alias, x.version) for x in aliases) == [("prod", 1), ("staging-2_b", 0)]

    assert client.beta.agents.delete_version_alias(agent_id=a.id, alias="prod") is None
    assert [x.alias for x in client.beta.agents.list_version_aliases(agent_id=a.id)] == ["staging-2_b"]
    expect_status(lambda: client.beta.agents.get(agent_id=a.id, agent_version="prod"), "4xx", "deleted alias")
    expect_status(
        lambda: client.beta.agents.delete_version_alias(agent_id=a.id, alias="prod"), 404, "delete deleted alias"
    )

    b = create_agent(client)
    assert client.beta.agents.list_version_aliases(agent_id=b.id) == []


@pytest.mark.parametrize(
    "alias", ["Bad Alias", "UPPER", "1starts-with-digit", "ends-with-dash-", "", "x" * 65]
)
def test_invalid_alias_names(client, alias):
    a = create_agent(client)
    expect_status(
        lambda: client.beta.agents.create_version_alias(agent_id=a.id, alias=alias, version=0), "4xx", repr(alias)
    )
    assert client.beta.agents.list_version_aliases(agent_id=a.id) == []


def test_alias_to_missing_version(client):
    a = create_agent(client)
    expect_status(lambda: client.beta.agents.create_version_alias(agent_id=a.id, alias="future", version=5), "4xx")


# --------------------------------------------------------------------------- delete


def test_delete_then_404(client):
    a = create_agent(client)
    assert client.beta.agents.delete(agent_id=a.id) is None
    expect_status(lambda: client.beta.agents.get(agent_id=a.id), 404, "get deleted")
    expect_status(lambda: client.beta.agents.delete(agent_id=a.id), 404, "delete deleted")
    expect_status(lambda: client.beta.agents.update(agent_id=a.id, name="x"), 404, "update deleted")
    expect_status(lambda: client.beta.agents.list_versions(agent_id=a.id), 404, "versions of deleted")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "object", "properties": {"city": {"type": "banana"}}},
        {"type": "object", "required": "city"},
        {"type": 42},
    ],
    ids=["bad-type-name", "required-not-array", "type-not-string"],
)
def test_invalid_function_schema_is_422(client, parameters):
    err = expect_status(
        lambda: client.beta.agents.create(
            model=MODEL,
            name=uniq("badschema"),
            tools=[{"type": "function", "function": {"name": "f", "parameters": parameters}}],
        ),
        422,
    )
    assert isinstance(err, HTTPValidationError), f"expected HTTPValidationError, got {type(err).__name__}"
    for d in err.data.detail or []:
        assert isinstance(d.loc, list)
        assert isinstance(d.msg, str)
        assert isinstance(d.type, str)


def test_invalid_function_schema_on_update_is_422(client):
    a = create_agent(client)
    expect_status(
        lambda: client.beta.agents.update(
            agent_id=a.id,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "banana"}}}],
        ),
        422,
    )
    assert client.beta.agents.get(agent_id=a.id).versions == [0]


def test_handoff_to_unknown_agent_rejected(client):
    expect_status(lambda: create_agent(client, handoffs=["ag_" + "0" * 32]), "4xx", "create")
    a = create_agent(client)
    expect_status(lambda: client.beta.agents.update(agent_id=a.id, handoffs=[random_id()]), "4xx", "update")


def test_unknown_agent_is_404(client):
    aid = "ag_" + "f" * 32
    ag = client.beta.agents
    expect_status(lambda: ag.get(agent_id=aid), 404, "get")
    expect_status(lambda: ag.update(agent_id=aid, name="x"), 404, "update")
    expect_status(lambda: ag.delete(agent_id=aid), 404, "delete")
    expect_status(lambda: ag.update_version(agent_id=aid, version=0), 404, "update_version")
    expect_status(lambda: ag.list_versions(agent_id=aid), 404, "list_versions")
    expect_status(lambda: ag.get_version(agent_id=aid, version="0"), 404, "get_version")
    expect_status(lambda: ag.create_version_alias(agent_id=aid, alias="a", version=0), 404, "create_version_alias")
    expect_status(lambda: ag.list_version_aliases(agent_id=aid), 404, "list_version_aliases")
    expect_status(lambda: ag.delete_version_alias(agent_id=aid, alias="a"), 404, "delete_version_alias")


def test_cross_workspace_is_404(client, other_client):
    tag = uniq("xws")
    a = create_agent(client, name=f"{tag}-a")
    client.beta.agents.create_version_alias(agent_id=a.id, alias="live", version=0)
    o = other_client.beta.agents
    expect_status(lambda: o.get(agent_id=a.id), 404, "get")
    expect_status(lambda: o.get(agent_id=a.id, agent_version="live"), 404, "get via alias")
    expect_status(lambda: o.update(agent_id=a.id, name="stolen"), 404, "update")
    expect_status(lambda: o.update_version(agent_id=a.id, version=0), 404, "update_version")
    expect_status(lambda: o.list_versions(agent_id=a.id), 404, "list_versions")
    expect_status(lambda: o.get_version(agent_id=a.id, version="0"), 404, "get_version")
    expect_status(lambda: o.list_version_aliases(agent_id=a.id), 404, "list_version_aliases")
    expect_status(lambda: o.create_version_alias(agent_id=a.id, alias="x", version=0), 404, "create_version_alias")
    expect_status(lambda: o.delete_version_alias(agent_id=a.id, alias="live"), 404, "delete_version_alias")
    expect_status(lambda: o.delete(agent_id=a.id), 404, "delete")
    assert o.list(search=tag) == []
    assert o.list(id=a.id) == []
    assert o.list_pages(search=tag).result.data == []
    expect_status(lambda: create_agent(other_client, handoffs=[a.id]), "4xx", "cross-workspace handoff")

    g = client.beta.agents.get(agent_id=a.id)
    assert g.name == f"{tag}-a" and g.versions == [0]
    assert [x.alias for x in client.beta.agents.list_version_aliases(agent_id=a.id)] == ["live"]


def test_bad_api_key_is_401(bad_client):
    expect_status(lambda: bad_client.beta.agents.list(), 401, "list")
    expect_status(lambda: bad_client.beta.agents.create(model=MODEL, name=uniq("nokey")), 401, "create")
    expect_status(lambda: bad_client.beta.agents.get(agent_id="ag_" + "0" * 32), 401, "get")
