"""Conversations API (client.beta.conversations): start / append / restart / list / get /
delete / history / messages / store=false / validation, through the official Python SDK.

Wire contract: shared/API.md §3, §4, §7.4. Model replies come from
conformance/upstream-script.yaml ("conf-show-system" echoes the system prompt and tools;
anything else gets "conf-default: you said <input>").
"""

import time

from conv_helpers import (
    MODEL,
    assert_entry,
    assert_response,
    history,
    last,
    text_of,
    types,
    upstream_requests,
    weather_fn,
)
from helpers import HTTPValidationError, create_agent, expect_status, random_id, uniq


def start_model(client, inputs, **kw):
    return client.beta.conversations.start(model=MODEL, inputs=inputs, **kw)


# --------------------------------------------------------------------------- start


def test_model_conversation_with_every_field(client):
    marker = uniq("conf-instr")
    res = start_model(
        client,
        f"conf-show-system {marker}",
        instructions=f"You are {marker}. Answer briefly.",
        tools=[weather_fn()],
        completion_args={"temperature": 0.25, "max_tokens": 321, "top_p": 0.5, "tool_choice": "auto"},
        name=f"name-{marker}",
        description=f"description of {marker}",
        metadata={"suite": "py", "marker": marker},
        guardrails=[{"block_on_error": False, "moderation_llm_v1": {"action": "none"}}],
    )
    assert_response(res)
    assert len(res.outputs) == 1
    out = res.outputs[0]
    assert out.type == "message.output"
    assert out.model == MODEL
    assert not out.agent_id
    text = text_of(out.content)
    assert f"You are {marker}" in text, f"instructions reach the model: {text}"
    assert "conf_get_weather" in text, f"tools offered to the model: {text}"
    assert res.usage.total_tokens > 0

    reqs = upstream_requests(marker)
    if reqs is not None:
        assert len(reqs) == 1
        assert reqs[0]["temperature"] == 0.25
        assert reqs[0]["max_tokens"] == 321
        assert reqs[0]["top_p"] == 0.5

    g = client.beta.conversations.get(conversation_id=res.conversation_id)
    assert type(g).__name__ == "ModelConversation", type(g)
    assert g.object == "conversation"
    assert g.id == res.conversation_id
    assert g.model == MODEL
    assert g.instructions == f"You are {marker}. Answer briefly."
    assert g.name == f"name-{marker}"
    assert g.description == f"description of {marker}"
    assert g.metadata == {"suite": "py", "marker": marker}
    assert [t.type for t in g.tools] == ["function"]
    assert g.tools[0].function.name == "conf_get_weather"
    assert g.completion_args.temperature == 0.25
    assert g.completion_args.max_tokens == 321
    assert len(g.guardrails) == 1 and g.guardrails[0].moderation_llm_v1.action == "none"
    assert g.created_at.tzinfo is not None and g.updated_at >= g.created_at


def test_model_conversation_minimal_and_entry_inputs(client):
    m = uniq("conf-min")
    res = start_model(client, m)
    assert_response(res)
    assert text_of(last(res).content) == f"conf-default: you said {m}"

    m2 = uniq("conf-entries")
    res2 = start_model(client, [{"type": "message.input", "role": "user", "content": m2}])
    assert text_of(last(res2).content) == f"conf-default: you said {m2}"
    h = history(client, res2.conversation_id)
    assert types(h) == ["message.input", "message.output"]
    assert text_of(h[0].content) == m2 and h[0].role == "user"


def test_agent_conversation_with_version_number_and_alias(client):
    tag = uniq("conf-ver")
    a = create_agent(client, instructions=f"{tag} version-zero")
    u = client.beta.agents.update(agent_id=a.id, instructions=f"{tag} version-one")
    assert u.version == 1
    client.beta.agents.create_version_alias(agent_id=a.id, alias="stable", version=0)

    r1 = client.beta.conversations.start(agent_id=a.id, inputs=f"conf-show-system {tag}")
    assert_response(r1)
    assert last(r1).agent_id == a.id
    assert last(r1).model == MODEL
    assert f"{tag} version-one" in text_of(last(r1).content)

    r0 = client.beta.conversations.start(agent_id=a.id, agent_version=0, inputs=f"conf-show-system {tag}")
    assert f"{tag} version-zero" in text_of(last(r0).content)
    g0 = client.beta.conversations.get(conversation_id=r0.conversation_id)
    assert type(g0).__name__ == "AgentConversation", type(g0)
    assert g0.agent_id == a.id
    assert int(g0.agent_version) == 0

    ra = client.beta.conversations.start(agent_id=a.id, agent_version="stable", inputs=f"conf-show-system {tag}")
    assert f"{tag} version-zero" in text_of(last(ra).content)
    ga = client.beta.conversations.get(conversation_id=ra.conversation_id)
    assert ga.agent_version in (0, "0", "stable")

    # Pinned: after a new agent version the conversation still answers with version 0.
    client.beta.agents.update(agent_id=a.id, instructions=f"{tag} version-two")
    ap = client.beta.conversations.append(conversation_id=r0.conversation_id, inputs=f"conf-show-system {tag} again")
    assert f"{tag} version-zero" in text_of(last(ap).content)

    expect_status(
        lambda: client.beta.conversations.start(agent_id=a.id, agent_version=99, inputs="x"), (400, 404, 422)
    )
    expect_status(
        lambda: client.beta.conversations.start(agent_id=a.id, agent_version="no-such-alias", inputs="x"),
        (400, 404, 422),
    )


def test_agent_conversation_completion_args_override(client):
    tag = uniq("conf-argsov")
    a = create_agent(client, completion_args={"temperature": 0.9, "max_tokens": 50})
    client.beta.conversations.start(agent_id=a.id, inputs=tag, completion_args={"temperature": 0.1})
    reqs = upstream_requests(tag)
    if reqs is not None:
        assert len(reqs) == 1
        assert reqs[0]["temperature"] == 0.1
        assert reqs[0]["max_tokens"] == 50


def test_unknown_agent_is_404(client):
    expect_status(lambda: client.beta.conversations.start(agent_id="ag_" + random_id().replace("-", ""), inputs="hi"), 404)


def test_both_or_neither_agent_id_and_model_is_422(client):
    a = create_agent(client)
    both = expect_status(
        lambda: client.beta.conversations.start(agent_id=a.id, model=MODEL, inputs="conf-both"), 422, "both"
    )
    assert isinstance(both, HTTPValidationError), type(both)
    neither = expect_status(lambda: client.beta.conversations.start(inputs="conf-neither"), 422, "neither")
    assert isinstance(neither, HTTPValidationError), type(neither)


def test_unrouted_model_is_400(client):
    expect_status(lambda: client.beta.conversations.start(model="conf-no-such-model-" + uniq(), inputs="x"), 400)


def test_store_false_returns_an_id_that_404s(client):
    m = uniq("conf-nostore")
    res = start_model(client, m, store=False)
    assert_response(res)
    assert text_of(last(res).content) == f"conf-default: you said {m}"
    expect_status(lambda: client.beta.conversations.get(conversation_id=res.conversation_id), 404)
    expect_status(lambda: client.beta.conversations.get_history(conversation_id=res.conversation_id), 404)


# --------------------------------------------------------------------------- append / history


def test_append_history_and_messages(client):
    m1, m2 = uniq("conf-turn1"), uniq("conf-turn2")
    r1 = start_model(client, m1)
    r2 = client.beta.conversations.append(conversation_id=r1.conversation_id, inputs=m2)
    assert_response(r2)
    assert r2.conversation_id == r1.conversation_id
    assert len(r2.outputs) == 1
    assert text_of(last(r2).content) == f"conf-default: you said {m2}"

    reqs = upstream_requests(m2)
    if reqs is not None:
        assert [m["role"] for m in reqs[-1]["messages"]] == ["user", "assistant", "user"]

    h = history(client, r1.conversation_id)
    assert types(h) == ["message.input", "message.output", "message.input", "message.output"]
    assert text_of(h[0].content) == m1 and text_of(h[2].content) == m2
    assert h[1].id == r1.outputs[0].id and h[3].id == r2.outputs[0].id
    assert len({e.id for e in h}) == len(h)
    for prev, cur in zip(h, h[1:]):
        assert cur.created_at >= prev.created_at

    msgs = client.beta.conversations.get_messages(conversation_id=r1.conversation_id)
    assert msgs.object == "conversation.messages"
    assert msgs.conversation_id == r1.conversation_id
    for e in msgs.messages:
        assert_entry(e, ("message.input", "message.output"))
    assert [e.id for e in msgs.messages] == [e.id for e in h]


def test_inputs_with_other_entry_types_and_chunks(client):
    m = uniq("conf-multi")
    img = "data:image/png;base64,iVBORw0KGgo="
    res = start_model(
        client,
        [
            {"type": "message.input", "role": "user", "content": f"{m} first"},
            {"type": "message.output", "role": "assistant", "content": f"{m} earlier answer"},
            {
                "type": "message.input",
                "role": "user",
                "content": [{"type": "text", "text": f"{m} look"}, {"type": "image_url", "image_url": img}],
            },
        ],
    )
    assert_response(res)
    assert text_of(last(res).content) == f"conf-default: you said {m} look"
    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "message.output", "message.input", "message.output"]
    assert text_of(h[1].content) == f"{m} earlier answer"
    chunks = h[2].content
    assert isinstance(chunks, list) and [x.type for x in chunks] == ["text", "image_url"]
    url = chunks[1].image_url if isinstance(chunks[1].image_url, str) else chunks[1].image_url.url
    assert url == img


def test_updated_at_moves_on_append(client):
    r = start_model(client, uniq("conf-upd"))
    g1 = client.beta.conversations.get(conversation_id=r.conversation_id)
    time.sleep(0.02)
    client.beta.conversations.append(conversation_id=r.conversation_id, inputs=uniq("conf-upd2"))
    g2 = client.beta.conversations.get(conversation_id=r.conversation_id)
    assert g2.created_at == g1.created_at
    assert g2.updated_at > g1.updated_at


def test_append_store_false_does_not_persist(client):
    r1 = start_model(client, uniq("conf-ns1"))
    r2 = client.beta.conversations.append(conversation_id=r1.conversation_id, inputs=uniq("conf-ns2"), store=False)
    assert_response(r2)
    assert len(history(client, r1.conversation_id)) == 2


def test_unknown_conversation_is_404_everywhere(client):
    cid = "conv_" + random_id().replace("-", "")
    conv = client.beta.conversations
    expect_status(lambda: conv.append(conversation_id=cid, inputs="x"), 404, "append")
    expect_status(lambda: conv.get(conversation_id=cid), 404, "get")
    expect_status(lambda: conv.get_history(conversation_id=cid), 404, "history")
    expect_status(lambda: conv.get_messages(conversation_id=cid), 404, "messages")
    expect_status(lambda: conv.restart(conversation_id=cid, from_entry_id="msg_x", inputs="x"), 404, "restart")
    expect_status(lambda: conv.delete(conversation_id=cid), 404, "delete")


# --------------------------------------------------------------------------- restart


def test_restart_copies_history_up_to_and_including_from_entry(client):
    m1, m2, m3 = uniq("conf-r1"), uniq("conf-r2"), uniq("conf-r3")
    r1 = start_model(client, m1, metadata={"origin": "source"})
    r2 = client.beta.conversations.append(conversation_id=r1.conversation_id, inputs=m2)
    rr = client.beta.conversations.restart(
        conversation_id=r1.conversation_id,
        from_entry_id=r1.outputs[0].id,
        inputs=m3,
        metadata={"origin": "restart"},
    )
    assert_response(rr)
    assert rr.conversation_id != r1.conversation_id
    assert text_of(last(rr).content) == f"conf-default: you said {m3}"
    h = history(client, rr.conversation_id)
    assert types(h) == ["message.input", "message.output", "message.input", "message.output"]
    assert text_of(h[0].content) == m1
    assert text_of(h[2].content) == m3
    assert h[3].id == rr.outputs[0].id
    reqs = upstream_requests(m3)
    if reqs is not None:
        assert m2 not in str(reqs[-1]["messages"]), "restart drops the later entries"
    hs = history(client, r1.conversation_id)
    assert len(hs) == 4 and hs[3].id == r2.outputs[0].id
    g = client.beta.conversations.get(conversation_id=rr.conversation_id)
    assert g.model == MODEL
    assert g.metadata == {"origin": "restart"}


def test_restart_agent_conversation_from_input_entry(client):
    tag = uniq("conf-rag")
    a = create_agent(client, instructions=f"{tag} restart-agent")
    r1 = client.beta.conversations.start(agent_id=a.id, inputs=f"conf-show-system {tag}")
    h1 = history(client, r1.conversation_id)
    rr = client.beta.conversations.restart(
        conversation_id=r1.conversation_id, from_entry_id=h1[0].id, inputs=f"conf-show-system {tag} again"
    )
    assert rr.conversation_id != r1.conversation_id
    assert last(rr).agent_id == a.id
    assert client.beta.conversations.get(conversation_id=rr.conversation_id).agent_id == a.id
    assert types(history(client, rr.conversation_id)) == ["message.input", "message.input", "message.output"]


def test_restart_with_agent_version(client):
    tag = uniq("conf-rver")
    a = create_agent(client, instructions=f"{tag} version-zero")
    client.beta.agents.update(agent_id=a.id, instructions=f"{tag} version-one")
    r1 = client.beta.conversations.start(agent_id=a.id, agent_version=0, inputs=f"conf-show-system {tag}")
    assert "version-zero" in text_of(last(r1).content)
    rr = client.beta.conversations.restart(
        conversation_id=r1.conversation_id,
        from_entry_id=r1.outputs[0].id,
        inputs=f"conf-show-system {tag} v1",
        agent_version=1,
    )
    assert f"{tag} version-one" in text_of(last(rr).content)
    assert int(client.beta.conversations.get(conversation_id=rr.conversation_id).agent_version) == 1


def test_concurrent_run_is_409(client):
    import threading

    r = start_model(client, uniq("conf-busy"))
    out = {}

    def slow():
        out["res"] = client.beta.conversations.append(conversation_id=r.conversation_id, inputs="conf-slow please")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    expect_status(
        lambda: client.beta.conversations.append(conversation_id=r.conversation_id, inputs="conf-busy second"), 409
    )
    t.join(10)
    assert text_of(last(out["res"]).content) == "conf-slow done"
    after = client.beta.conversations.append(conversation_id=r.conversation_id, inputs=uniq("conf-busy-after"))
    assert after.conversation_id == r.conversation_id


def test_restart_from_input_without_new_inputs(client):
    m = uniq("conf-rnoin")
    r1 = start_model(client, m)
    h1 = history(client, r1.conversation_id)
    rr = client.beta.conversations.restart(conversation_id=r1.conversation_id, from_entry_id=h1[0].id)
    assert_response(rr)
    assert text_of(last(rr).content) == f"conf-default: you said {m}"
    h = history(client, rr.conversation_id)
    assert types(h) == ["message.input", "message.output"]
    assert h[1].id != h1[1].id


def test_restart_with_unknown_entry_is_4xx(client):
    r1 = start_model(client, uniq("conf-rbad"))
    expect_status(
        lambda: client.beta.conversations.restart(
            conversation_id=r1.conversation_id, from_entry_id="msg_doesnotexist", inputs="x"
        ),
        (400, 404, 422),
    )


# --------------------------------------------------------------------------- list / get / delete


def test_list_metadata_filter_newest_first_and_pages(client):
    tag = uniq("conf-list")
    ids = []
    for i in range(3):
        ids.append(start_model(client, f"{tag}-{i}", metadata={"list_tag": tag, "i": i}).conversation_id)
        time.sleep(0.015)
    a = create_agent(client)
    ids.append(
        client.beta.conversations.start(agent_id=a.id, inputs=f"{tag}-agent", metadata={"list_tag": tag, "i": 3})
        .conversation_id
    )
    newest_first = list(reversed(ids))

    all_ = client.beta.conversations.list(page_size=100, metadata={"list_tag": tag})
    assert [x.id for x in all_] == newest_first
    assert type(all_[0]).__name__ == "AgentConversation" and all_[0].agent_id == a.id
    assert type(all_[1]).__name__ == "ModelConversation" and all_[1].model == MODEL
    assert all_[1].metadata["i"] == 2

    p0 = client.beta.conversations.list(page=0, page_size=3, metadata={"list_tag": tag})
    p1 = client.beta.conversations.list(page=1, page_size=3, metadata={"list_tag": tag})
    p2 = client.beta.conversations.list(page=2, page_size=3, metadata={"list_tag": tag})
    assert [x.id for x in p0] == newest_first[:3]
    assert [x.id for x in p1] == [ids[0]]
    assert p2 == []
    one = client.beta.conversations.list(metadata={"list_tag": tag, "i": 1})
    assert [x.id for x in one] == [ids[1]]

    # No filter: the Python SDK sends its "unset" sentinel as metadata (API.md §0.2).
    unfiltered = client.beta.conversations.list()
    assert isinstance(unfiltered, list)
    for x in unfiltered:
        assert type(x).__name__ in ("AgentConversation", "ModelConversation")


def test_list_is_per_workspace(client, other_client):
    tag = uniq("conf-ws")
    start_model(client, tag, metadata={"ws_tag": tag})
    assert other_client.beta.conversations.list(metadata={"ws_tag": tag}) == []


def test_get_agent_vs_model_conversation_shape(client, other_client):
    a = create_agent(client)
    ra = client.beta.conversations.start(agent_id=a.id, inputs=uniq("conf-ga"), name="agent conv", description="d")
    rm = start_model(client, uniq("conf-gm"), instructions="conf-gm instructions")
    ga = client.beta.conversations.get(conversation_id=ra.conversation_id)
    gm = client.beta.conversations.get(conversation_id=rm.conversation_id)
    assert type(ga).__name__ == "AgentConversation"
    assert ga.agent_id == a.id and ga.name == "agent conv" and ga.description == "d"
    assert int(ga.agent_version) == 0
    assert type(gm).__name__ == "ModelConversation"
    assert gm.model == MODEL and gm.instructions == "conf-gm instructions"
    expect_status(lambda: other_client.beta.conversations.get(conversation_id=ra.conversation_id), 404)


def test_delete_then_404(client):
    r = start_model(client, uniq("conf-del"))
    assert client.beta.conversations.delete(conversation_id=r.conversation_id) is None
    conv = client.beta.conversations
    expect_status(lambda: conv.get(conversation_id=r.conversation_id), 404, "get")
    expect_status(lambda: conv.get_history(conversation_id=r.conversation_id), 404, "history")
    expect_status(lambda: conv.get_messages(conversation_id=r.conversation_id), 404, "messages")
    expect_status(lambda: conv.append(conversation_id=r.conversation_id, inputs="x"), 404, "append")
    expect_status(lambda: conv.delete(conversation_id=r.conversation_id), 404, "second delete")
