"""The web_search and web_search_premium connectors through the official Python SDK.
Contract: shared/API.md §4.1 (tool_reference chunks), §5.2 (events), §7.1 (outputs); behaviour:
docs/connectors.md#web_search.

run.sh points web_search at the fake upstream's fake SearXNG: every query finds /pages/1.html
("The Tramontane wind") and /pages/2.html ("Mistral and tramontane compared"), plus a duplicate
of the first (dropped by the server), and web_search_premium also finds the news page
/pages/3.html. Script rules (upstream-script.yaml): "conf-ws-cite …" searches for the input and
answers citing [1] and [2]; "conf-wsp-cite …" uses web_search_premium and cites [3] and [1]; a
query containing "conf-searxng-error" makes the fake engine fail.
"""

import json

from connector_helpers import (
    PAGES,
    assert_streamed_chunks_match_history,
    chunks_of,
    page_url,
    searxng_requests,
    skip_unless,
    strip_citations,
)
from conv_helpers import (
    assert_response,
    assert_stream_matches_history,
    check_stream,
    collect,
    history,
    last,
    opt,
    text_of,
    types,
    upstream_requests,
)
from helpers import MODEL, create_agent, uniq

try:  # SDK 2.x
    from mistralai.client.models import TextChunk, ToolReferenceChunk  # type: ignore
except ImportError:  # pragma: no cover
    from mistralai.models import TextChunk, ToolReferenceChunk  # type: ignore

pytestmark = skip_unless("web_search", needs_fake=True)

CITED_TEXT = "The tramontane is a cold, dry wind from the north. It is a sister wind of the mistral. conf-ws-cite done."


def assert_ref(ch, n: int, tool: str = "web_search") -> None:
    """A tool_reference chunk (SDK ToolReferenceChunk) pointing at fake page n."""
    assert isinstance(ch, ToolReferenceChunk), f"{type(ch).__name__}: {ch}"
    assert ch.type == "tool_reference"
    assert ch.tool == tool
    assert ch.title == PAGES[n]["title"]
    assert ch.url == page_url(n)
    for k in ("favicon", "description"):
        v = opt(getattr(ch, k))
        assert v is None or isinstance(v, str), f"{k}: {ch}"


def test_seed_5_1_web_agent_citations(client):
    # Seed §5.1 (TS, same calls in Python): agents.create(model="mistral-medium-latest",
    # name="news-bot", tools=[{"type":"web_search"}]); conversations.start(agent_id, inputs).
    # "Parse tool_reference chunks for source URLs."
    agent = client.beta.agents.create(model=MODEL, name=uniq("news-bot"), tools=[{"type": "web_search"}])
    q = f"conf-ws-cite tramontane wind {uniq('q')}"
    res = assert_response(client.beta.conversations.start(agent_id=agent.id, inputs=q))
    assert types(res.outputs) == ["tool.execution", "message.output"]

    ex = res.outputs[0]
    assert ex.name == "web_search"
    assert isinstance(ex.arguments, str)
    assert json.loads(ex.arguments) == {"query": q}
    assert ex.agent_id == agent.id
    assert ex.info["query"] == q, ex.info
    assert "error" not in ex.info, ex.info
    # The duplicate result URL is dropped; the engine's order is kept.
    assert ex.info["results"] == [
        {"title": PAGES[1]["title"], "url": page_url(1)},
        {"title": PAGES[2]["title"], "url": page_url(2)},
    ]

    msg = res.outputs[1]
    assert msg.agent_id == agent.id
    assert isinstance(msg.content, list), msg.content
    assert [c.type for c in msg.content] == ["text", "tool_reference", "text", "tool_reference", "text"]
    assert isinstance(msg.content[0], TextChunk)
    refs = chunks_of(msg.content, "tool_reference")
    assert_ref(refs[0], 1)
    assert_ref(refs[1], 2)
    # Each reference comes right after the sentence it supports.
    assert strip_citations(msg.content[0].text).endswith("cold, dry wind from the north")
    assert strip_citations(msg.content[2].text).endswith("sister wind of the mistral")
    assert strip_citations(text_of(msg.content)) == CITED_TEXT

    assert (res.usage.connectors or {}).get("web_search") == 1, res.usage
    assert (opt(res.usage.connector_tokens) or 0) > 0, res.usage

    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "tool.execution", "message.output"]
    assert h[2].content == msg.content
    assert h[1].info == ex.info


def test_engine_request_and_extracted_text(client):
    q = f"conf-ws-cite tramontane farmers {uniq('q')}"
    res = assert_response(
        client.beta.conversations.start(model=MODEL, inputs=q, tools=[{"type": "web_search"}])
    )
    assert types(res.outputs) == ["tool.execution", "message.output"]

    searches = searxng_requests(q)
    assert len(searches) == 1, "one SearXNG request for the query"
    assert searches[0].get("format") == "json"
    assert "news" not in (searches[0].get("categories") or ""), "plain web_search does not ask for news"

    # The second model call carries the tool result: numbered sources with the extracted text.
    reqs = upstream_requests(q)
    tool_msgs = [m for r in reqs for m in r["messages"] if m.get("role") == "tool"]
    assert len(tool_msgs) == 1, "the search result went to the model once"
    body = tool_msgs[0]["content"] if isinstance(tool_msgs[0]["content"], str) else json.dumps(tool_msgs[0]["content"])
    assert f"[1] {PAGES[1]['title']} — {page_url(1)}" in body, body[:500]
    assert f"[2] {PAGES[2]['title']} — {page_url(2)}" in body, body[:500]
    assert "Tramontane fact one" in body and "Tramontane fact two" in body, "article text is given"
    assert "cypress trees" in body, "page text is read, not only the engine's snippet"
    assert "boilerplate-" not in body, f"nav/header/aside/footer/script text is dropped: {body}"
    assert "[12]" not in body, "Wikipedia-style footnote numbers are removed"


def test_web_search_premium(client):
    q = f"conf-wsp-cite tramontane news {uniq('q')}"
    res = assert_response(
        client.beta.conversations.start(model=MODEL, inputs=q, tools=[{"type": "web_search_premium"}])
    )
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == "web_search_premium"
    assert json.loads(ex.arguments) == {"query": q}
    assert ex.info["results"] == [
        {"title": PAGES[1]["title"], "url": page_url(1)},
        {"title": PAGES[2]["title"], "url": page_url(2)},
        {"title": PAGES[3]["title"], "url": page_url(3)},
    ]
    searches = searxng_requests(q)
    assert len(searches) == 1
    assert "news" in (searches[0].get("categories") or "").split(","), searches[0]

    msg = last(res)
    assert [c.type for c in msg.content] == ["text", "tool_reference", "text", "tool_reference", "text"]
    refs = chunks_of(msg.content, "tool_reference")
    # The chunk's tool names the connector (API.md §1.2 BuiltInConnectors).
    assert refs[0].tool in ("web_search_premium", "web_search"), refs[0].tool
    assert_ref(refs[0], 3, refs[0].tool)
    assert_ref(refs[1], 1, refs[0].tool)
    assert strip_citations(text_of(msg.content)) == (
        "Tramontane gusts closed the port of Sète. The wind blows from the north. conf-wsp-cite done."
    )
    assert (res.usage.connectors or {}).get("web_search_premium") == 1, res.usage
    assert (opt(res.usage.connector_tokens) or 0) > 0


def test_engine_failure_reported_in_info(client):
    q = uniq("conf-websearch conf-searxng-error")
    res = assert_response(client.beta.conversations.start(model=MODEL, inputs=q, tools=[{"type": "web_search"}]))
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == "web_search"
    assert isinstance(ex.info.get("error"), str) and ex.info["error"], ex.info
    assert text_of(last(res).content) == "conf-websearch final: answered after the search."
    assert (res.usage.connectors or {}).get("web_search") == 1


def test_stream_events(client):
    agent = create_agent(client, tools=[{"type": "web_search"}])
    q = f"conf-ws-cite streamed {uniq('q')}"
    events = collect(client.beta.conversations.start_stream(agent_id=agent.id, inputs=q))
    s = check_stream(events)
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    ex = s.outputs[0]
    assert ex.events[0] == "tool.execution.started" and ex.events[-1] == "tool.execution.done"
    assert ex.name == "web_search"
    assert json.loads(ex.arguments) == {"query": q}
    assert ex.info["query"] == q
    assert [r["url"] for r in ex.info["results"]] == [page_url(1), page_url(2)]

    msg = s.outputs[1]
    assert msg.agent_id == agent.id
    # Every delta is a string token or one chunk the SDK parsed (TextChunk / ToolReferenceChunk).
    for ev in events:
        d = ev.data
        if d.type != "message.output.delta":
            continue
        assert isinstance(d.content_index, int)
        if not isinstance(d.content, str):
            assert isinstance(d.content, (TextChunk, ToolReferenceChunk)), f"delta chunk: {d.content!r}"
    assert strip_citations(msg.text) == CITED_TEXT
    assert (s.usage.connectors or {}).get("web_search") == 1
    assert (opt(s.usage.connector_tokens) or 0) > 0
    assert_stream_matches_history(client, s)


def test_stream_carries_tool_reference_chunks(client):
    q = f"conf-ws-cite streamed refs {uniq('q')}"
    s = check_stream(collect(client.beta.conversations.start_stream(model=MODEL, inputs=q, tools=[{"type": "web_search"}])))
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    stored = assert_streamed_chunks_match_history(client, s, 1)
    refs = chunks_of(stored.content, "tool_reference")
    assert_ref(refs[0], 1)
    assert_ref(refs[1], 2)
