"""The document_library connector through the official Python SDK: agents (and model
conversations) whose tools include {"type": "document_library", "library_ids": [...]}.
Contract: shared/API.md §1.2, §4.1 (tool_reference chunks), §5.2 (events), §7.1
(document_library outputs); behaviour: docs/libraries.md#the-document_library-connector.

Script rules (upstream-script.yaml): "conf-doclib-cite <marker> <query>" makes the model call
document_library({query}); on passages it answers "The tramontane blows from the north-west
across the Languedoc [1]. conf-doclib-cite done."; with no passage "conf-doclib: the libraries
have nothing on that."; when the tool fails "conf-doclib: the libraries could not be searched."
"""

import json
import urllib.parse

from connector_helpers import assert_streamed_chunks_match_history, chunks_of, strip_citations
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
from helpers import MODEL, URL, create_agent, expect_status, uniq
from library_helpers import (
    fetch_signed,
    library_with_docs,
    make_pdf,
    new_library,
    other_workspace_id,
    upload_bytes,
    wait_done,
    word,
)

try:  # SDK 2.x
    from mistralai.client.models import TextChunk, ToolReferenceChunk  # type: ignore
except ImportError:  # pragma: no cover
    from mistralai.models import TextChunk, ToolReferenceChunk  # type: ignore

CITED_TEXT = "The tramontane blows from the north-west across the Languedoc. conf-doclib-cite done."


def doc_tool(*library_ids: str) -> dict:
    return {"type": "document_library", "library_ids": list(library_ids)}


def cite_input(query: str):
    """The user input of the citing scenario: trigger, unique marker, query."""
    marker = uniq("m")
    return f"conf-doclib-cite {marker} {query}", marker


def assert_doc_ref(ch, doc, name: str, text: str) -> None:
    """A tool_reference chunk (SDK ToolReferenceChunk, or its dict) citing document doc."""
    d = ch if isinstance(ch, dict) else None
    if d is None:
        assert isinstance(ch, ToolReferenceChunk), f"{type(ch).__name__}: {ch}"
        d = {"type": ch.type, "tool": ch.tool, "title": ch.title, "url": opt(ch.url), "description": opt(ch.description)}
    assert d["type"] == "tool_reference"
    assert d["tool"] == "document_library"
    assert d["title"] == name, "title = the document's name"
    url = d["url"]
    assert isinstance(url, str), d
    u = urllib.parse.urlsplit(url)
    assert u.path == f"/documents/signed/{doc.id}", f"url is the document's signed link: {url}"
    q = dict(urllib.parse.parse_qsl(u.query))
    assert q.get("signature") and q.get("expires"), url
    assert url.startswith(URL + "/"), url
    assert d.get("description") is None or isinstance(d["description"], str)
    status, _, body = fetch_signed(url)
    assert status == 200, url
    assert body.decode() == text, "the link serves the original document without an API key"


def assert_info(info: dict, query: str) -> None:
    """tool.execution info: {query, results: [{chunk_id, document_id, score}], …}."""
    assert info["query"] == query, info
    assert "error" not in info, info
    assert isinstance(info["results"], list), info
    for r in info["results"]:
        # chunk_id: the server's id of the passage (Tramontane: an integer; any scalar id is fine).
        assert isinstance(r["chunk_id"], (str, int)), r
        assert isinstance(r["document_id"], str), r
        assert isinstance(r["score"], (int, float)), r
    scores = [r["score"] for r in info["results"]]
    assert scores == sorted(scores, reverse=True), "results best first"


def test_agent_cites_the_document(client):
    lib, fx, docs = library_with_docs(client)
    agent = create_agent(client, tools=[doc_tool(lib.id)])
    assert [(t.type, t.library_ids) for t in agent.tools] == [("document_library", [lib.id])]
    query = f"{fx.tokens['md']} tramontane"
    inp, marker = cite_input(query)

    res = assert_response(client.beta.conversations.start(agent_id=agent.id, inputs=inp))
    assert types(res.outputs) == ["tool.execution", "message.output"]
    ex = res.outputs[0]
    assert ex.name == "document_library"
    assert ex.agent_id == agent.id
    assert json.loads(ex.arguments) == {"query": query}
    assert_info(ex.info, query)
    assert ex.info["results"][0]["document_id"] == docs["md"].id, "the document with the rare word ranks first"
    assert docs["txt"].id not in {r["document_id"] for r in ex.info["results"]}

    msg = res.outputs[1]
    assert msg.agent_id == agent.id
    assert isinstance(msg.content, list), msg.content
    assert [c.type for c in msg.content] == ["text", "tool_reference", "text"]
    assert isinstance(msg.content[0], TextChunk)
    (ref,) = chunks_of(msg.content, "tool_reference")
    assert_doc_ref(ref, docs["md"], fx.md.file_name, fx.md.text)
    assert strip_citations(msg.content[0].text).rstrip(".").endswith("across the Languedoc")
    assert strip_citations(text_of(msg.content)) == CITED_TEXT

    assert (res.usage.connectors or {}).get("document_library") == 1, res.usage
    assert (opt(res.usage.connector_tokens) or 0) > 0, res.usage

    reqs = upstream_requests(marker)
    if reqs is not None:
        tool_msgs = [m for r in reqs for m in r["messages"] if m.get("role") == "tool"]
        assert len(tool_msgs) == 1
        body = tool_msgs[0]["content"] if isinstance(tool_msgs[0]["content"], str) else json.dumps(tool_msgs[0]["content"])
        assert f"[1] {fx.md.file_name}" in body, body[:600]
        assert f"Marker {fx.tokens['md']}" in body, body[:600]
        assert [t["function"]["name"] for t in reqs[0]["tools"]] == ["document_library"]

    h = history(client, res.conversation_id)
    assert types(h) == ["message.input", "tool.execution", "message.output"]
    assert h[2].content == msg.content
    assert h[1].info == ex.info


def test_no_passage(client):
    lib, _, _ = library_with_docs(client)
    query = word("nothingmatches")
    inp, _ = cite_input(query)
    res = assert_response(client.beta.conversations.start(model=MODEL, inputs=inp, tools=[doc_tool(lib.id)]))
    assert types(res.outputs) == ["tool.execution", "message.output"]
    assert_info(res.outputs[0].info, query)
    assert res.outputs[0].info["results"] == []
    assert text_of(last(res).content) == "conf-doclib: the libraries have nothing on that."
    assert (res.usage.connectors or {}).get("document_library") == 1


def test_stream_carries_the_citation(client):
    lib, fx, docs = library_with_docs(client)
    agent = create_agent(client, tools=[doc_tool(lib.id)])
    query = f"{fx.tokens['html']} Narbonne"
    inp, _ = cite_input(query)
    events = collect(client.beta.conversations.start_stream(agent_id=agent.id, inputs=inp))
    s = check_stream(events)
    assert [o.type for o in s.outputs] == ["tool.execution", "message.output"]
    ex = s.outputs[0]
    assert ex.events[0] == "tool.execution.started" and ex.events[-1] == "tool.execution.done"
    assert ex.name == "document_library"
    assert json.loads(ex.arguments) == {"query": query}
    assert_info(ex.info, query)
    assert ex.info["results"][0]["document_id"] == docs["html"].id

    ref_deltas = []
    for ev in events:
        d = ev.data
        if d.type != "message.output.delta":
            continue
        assert isinstance(d.content_index, int)
        if not isinstance(d.content, str):
            assert isinstance(d.content, (TextChunk, ToolReferenceChunk)), f"delta chunk: {d.content!r}"
            if isinstance(d.content, ToolReferenceChunk):
                ref_deltas.append(d.content)
    assert len(ref_deltas) == 1, "one tool_reference delta"
    assert_doc_ref(ref_deltas[0], docs["html"], fx.html.file_name, fx.html.text)
    assert strip_citations(s.outputs[1].text) == CITED_TEXT
    assert (s.usage.connectors or {}).get("document_library") == 1
    assert (opt(s.usage.connector_tokens) or 0) > 0

    assert_stream_matches_history(client, s)
    stored = assert_streamed_chunks_match_history(client, s, 1)
    assert [r.title for r in chunks_of(stored.content, "tool_reference")] == [fx.html.file_name]


def test_run_stream_async_rebuilds_the_citation(client):
    # The Python helper run_stream_async (API.md §5.3) rebuilds the message from the deltas:
    # the tool_reference chunk must survive as a chunk object.
    import asyncio

    try:
        from mistralai.extra.run.context import RunContext  # type: ignore
    except ImportError:  # pragma: no cover
        from mistralai.client.extra.run.context import RunContext  # type: ignore

    lib, fx, docs = library_with_docs(client)
    agent = create_agent(client, tools=[doc_tool(lib.id)])
    inp, _ = cite_input(f"{fx.tokens['txt']} mistral")

    async def go():
        async with RunContext(agent_id=agent.id) as ctx:
            result = None
            async for ev in await client.beta.conversations.run_stream_async(run_ctx=ctx, inputs=inp):
                result = ev
            return result

    result = asyncio.run(go())
    assert type(result).__name__ == "RunResult", result
    # The helper rebuilds message and function-call entries only (tool.execution events are
    # passed through, not rebuilt): one message, with the citation kept as a chunk object.
    msgs = [e for e in result.output_entries if e.type == "message.output"]
    assert len(msgs) == 1, result.output_entries
    assert strip_citations(text_of(msgs[0].content)) == CITED_TEXT
    refs = chunks_of(msgs[0].content, "tool_reference")
    assert len(refs) == 1, outs[1].content
    assert_doc_ref(refs[0], docs["txt"], fx.txt.file_name, fx.txt.text)


def test_pdf_passage_cited_with_page(client):
    # Small chunks (chunk_size 32) and a heading at the top of page two, so that page two's
    # passage is a chunk of its own (a chunk stops at a new section once a quarter full).
    lib = new_library(client, chunk_size=32)
    tok = word("zpdf")
    pdf = make_pdf(
        [
            [
                "Winds of southern France are described in this atlas chapter.",
                "Each wind has a name, a direction and a season of strength.",
                "The following pages list them one after another in order.",
            ],
            [("Tramontane", 20), f"The tramontane section {tok} lives on page two."],
            ["Appendix closes."],
        ]
    )
    name = f"{uniq('atlas')}.pdf"
    d = upload_bytes(client, lib.id, name, pdf)
    wait_done(client, lib.id, d.id)
    res = assert_response(client.beta.conversations.start(model=MODEL, inputs=cite_input(tok)[0], tools=[doc_tool(lib.id)]))
    assert [r["document_id"] for r in res.outputs[0].info["results"]] == [d.id]
    (ref,) = chunks_of(last(res).content, "tool_reference")
    assert ref.title == name
    u = urllib.parse.urlsplit(ref.url)
    assert u.path == f"/documents/signed/{d.id}"
    assert u.fragment == "page=2", ref.url
    assert opt(ref.description) == "Tramontane", "description = the passage's heading"
    status, _, body = fetch_signed(ref.url)
    assert status == 200 and body == pdf
    reqs = upstream_requests(tok)
    if reqs is not None:
        tool = [m for r in reqs for m in r["messages"] if m.get("role") == "tool"][0]
        assert f"[1] {name}, page 2 — Tramontane" in str(tool["content"]), str(tool["content"])[:400]


def test_shared_library_searchable_only_while_shared(client, other_client):
    lib, fx, docs = library_with_docs(client)
    other_ws = other_workspace_id()
    query = f"{fx.tokens['txt']} mistral"

    # Not shared: another workspace cannot even name it in an agent.
    expect_status(lambda: create_agent(other_client, tools=[doc_tool(lib.id)]), 422)

    client.beta.libraries.accesses.update_or_create(
        library_id=lib.id, level="Viewer", share_with_uuid=other_ws, share_with_type="Workspace"
    )
    agent = create_agent(other_client, tools=[doc_tool(lib.id)])

    def run():
        return assert_response(other_client.beta.conversations.start(agent_id=agent.id, inputs=cite_input(query)[0]))

    res = run()
    assert_info(res.outputs[0].info, query)
    assert res.outputs[0].info["results"][0]["document_id"] == docs["txt"].id
    (ref,) = chunks_of(last(res).content, "tool_reference")
    assert_doc_ref(ref, docs["txt"], fx.txt.file_name, fx.txt.text)

    client.beta.libraries.accesses.delete(library_id=lib.id, share_with_uuid=other_ws, share_with_type="Workspace")
    res = run()
    assert isinstance(res.outputs[0].info.get("error"), str)


def test_unreadable_library_ids_are_skipped(client, other_client):
    lib, fx, docs = library_with_docs(client)
    foreign, _, _ = library_with_docs(other_client)
    query = fx.tokens["md"]
    res = assert_response(
        client.beta.conversations.start(model=MODEL, inputs=cite_input(query)[0], tools=[doc_tool(lib.id, foreign.id)])
    )
    info = res.outputs[0].info
    assert_info(info, query)
    assert info.get("missing_library_ids") == [foreign.id], info
    assert [r["document_id"] for r in info["results"]] == [docs["md"].id]
    assert [r.title for r in chunks_of(last(res).content, "tool_reference")] == [fx.md.file_name]
