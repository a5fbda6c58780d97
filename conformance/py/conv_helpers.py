"""Helpers for the Conversations suites (start/append/restart, streams, function calls,
handoffs). Wire contract: shared/API.md §3, §4, §5, §7.

The model behind every conversation is the fake upstream driven by
conformance/upstream-script.yaml: each scenario has its own trigger phrase ("conf-…") or
instruction marker, so replies are deterministic.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from helpers import KEY, MODEL, URL

try:  # SDK 2.x
    from mistralai.client.models import UnknownConversationEventsData  # type: ignore
except ImportError:  # pragma: no cover
    UnknownConversationEventsData = ()  # type: ignore

OUTPUT_TYPES = ("message.output", "function.call", "tool.execution", "agent.handoff")
ENTRY_TYPES = OUTPUT_TYPES + ("message.input", "function.result")


def opt(v: Any) -> Any:
    """SDK optional-nullable fields default to an UNSET sentinel (falsy): map it to None."""
    if v is None or (not v and type(v).__name__ == "Unset"):
        return None
    return v


def fn_tool(name: str, properties: Optional[dict] = None, required: Optional[list] = None) -> dict:
    props = properties if properties is not None else {"city": {"type": "string"}}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"conformance function {name}",
            "parameters": {
                "type": "object",
                "properties": props,
                "required": required if required is not None else list(props),
            },
        },
    }


def weather_fn() -> dict:
    """The function tool of the function-calling scenarios (conf-fc-*)."""
    return fn_tool("conf_get_weather", {"city": {"type": "string"}, "unit": {"type": "string"}}, ["city"])


def text_of(content: Any) -> str:
    """Plain text of an entry's content: a string, or the text chunks of a chunk list."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(getattr(c, "text", "") for c in content if getattr(c, "type", None) == "text")


def chunk_dict(c: Any) -> dict:
    """A content chunk (SDK model or dict) as a plain dict with its wire keys, unset keys dropped."""
    if isinstance(c, dict):
        return dict(c)
    return c.model_dump(by_alias=True, exclude_unset=False, mode="json")


def normalize_content(content: Any) -> list:
    """A message's content as a list of chunk dicts with adjacent text merged: a string is one
    text chunk; a list of strings (stream deltas) and chunks is merged the same way."""
    items = [content] if isinstance(content, str) else list(content or [])
    out: list = []
    for it in items:
        d = None if isinstance(it, str) else chunk_dict(it)
        text = it if isinstance(it, str) else (d.get("text") if d.get("type") == "text" else None)
        if text is not None:
            if out and out[-1].get("type") == "text":
                out[-1] = {"type": "text", "text": out[-1]["text"] + text}
            else:
                out.append({"type": "text", "text": text})
        else:
            out.append(d)
    return [c for c in out if c.get("type") != "text" or c["text"] != ""]


def assert_entry(e: Any, allowed=ENTRY_TYPES) -> None:
    assert e.type in allowed, f"entry type {e.type} not in {allowed}: {e}"
    assert e.object == "entry"
    assert isinstance(e.id, str) and e.id, f"entry id: {e}"
    assert isinstance(e.created_at, datetime) and e.created_at.tzinfo is not None, f"created_at: {e}"
    if e.type == "message.output":
        assert e.role == "assistant"
        assert isinstance(e.content, (str, list))
    elif e.type == "message.input":
        assert isinstance(e.role, str)
        assert isinstance(e.content, (str, list))
    elif e.type == "function.call":
        assert isinstance(e.tool_call_id, str) and e.tool_call_id
        assert isinstance(e.name, str)
        assert isinstance(e.arguments, str), "function.call arguments should be a JSON string"
        json.loads(e.arguments)
    elif e.type == "function.result":
        assert isinstance(e.tool_call_id, str)
        assert isinstance(e.result, str)
    elif e.type == "tool.execution":
        assert isinstance(e.name, str)
        assert isinstance(e.arguments, str), "tool.execution arguments must be a string"
    elif e.type == "agent.handoff":
        for k in ("previous_agent_id", "previous_agent_name", "next_agent_id", "next_agent_name"):
            assert isinstance(getattr(e, k), str), f"agent.handoff {k}: {e}"


def assert_usage(u: Any) -> None:
    assert u is not None
    for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
        v = getattr(u, k)
        assert isinstance(v, int) and v >= 0, f"usage.{k}: {u}"
    connector = opt(u.connector_tokens) or 0
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens + connector, f"usage totals: {u}"


def assert_response(res: Any) -> Any:
    assert res.object == "conversation.response"
    assert isinstance(res.conversation_id, str) and res.conversation_id
    assert isinstance(res.outputs, list)
    for e in res.outputs:
        assert_entry(e, OUTPUT_TYPES)
    assert_usage(res.usage)
    return res


def last(res: Any) -> Any:
    return res.outputs[-1]


def types(entries) -> list:
    return [e.type for e in entries]


def results_for(calls, fn: Callable[[Any], Any]) -> list:
    """function.result entries (dicts) answering every call with str(fn(call))."""
    return [{"type": "function.result", "tool_call_id": c.tool_call_id, "result": str(fn(c))} for c in calls]


def history(client, conversation_id: str) -> list:
    h = client.beta.conversations.get_history(conversation_id=conversation_id)
    assert h.object == "conversation.history"
    assert h.conversation_id == conversation_id
    for e in h.entries:
        assert_entry(e)
    return h.entries


# ------------------------------------------------------------------------------ streams


def collect(stream) -> list:
    with stream as s:
        return list(s)


@dataclass
class StreamOutput:
    output_index: int
    type: str
    id: str
    events: list = field(default_factory=list)
    text: str = ""
    name: Optional[str] = None
    tool_call_id: Optional[str] = None
    arguments: Optional[str] = None
    confirmation_status: Optional[str] = None
    agent_id: Optional[str] = None
    model: Optional[str] = None
    info: Any = None
    # message.output: the content as streamed (text merged, chunk objects kept, as dicts) and
    # the chunk objects alone.
    content: list = field(default_factory=list)
    chunks: list = field(default_factory=list)
    previous_agent_id: Optional[str] = None
    previous_agent_name: Optional[str] = None
    next_agent_id: Optional[str] = None
    next_agent_name: Optional[str] = None


@dataclass
class StreamResult:
    conversation_id: str
    outputs: list
    usage: Any
    types: list


BOUNDARY = ("conversation.response.started", "conversation.response.done", "conversation.response.error")


def check_stream(events: list) -> StreamResult:
    """Check a conversation event stream against API.md §5 and rebuild its outputs."""
    assert len(events) >= 2, f"stream has at least started+done: {len(events)} events"
    for ev in events:
        assert not isinstance(ev.data, UnknownConversationEventsData) if UnknownConversationEventsData else True, (
            f"event data did not match its SDK schema: {ev.data}"
        )
        assert ev.event == ev.data.type, f"SSE event name {ev.event} equals data.type {ev.data.type}"
    first, last_ev = events[0].data, events[-1].data
    assert first.type == "conversation.response.started", "first event is conversation.response.started"
    assert isinstance(first.conversation_id, str) and first.conversation_id
    assert last_ev.type == "conversation.response.done", f"last event is conversation.response.done, got {last_ev.type}"
    assert_usage(last_ev.usage)
    for ev in events[1:-1]:
        assert ev.data.type not in BOUNDARY, f"unexpected {ev.data.type} in the middle of the stream"

    groups: dict = {}
    seen_ids: dict = {}
    max_index = -1
    for ev in events[1:-1]:
        d = ev.data
        assert isinstance(d.output_index, int), f"{d.type} has an integer output_index"
        assert isinstance(d.id, str) and d.id, f"{d.type} has an id"
        if d.output_index not in groups:
            assert d.output_index == max_index + 1, f"output_index {d.output_index} in order (after {max_index})"
            max_index = d.output_index
            assert d.id not in seen_ids, f"id {d.id} reused for output_index {d.output_index} and {seen_ids[d.id]}"
            seen_ids[d.id] = d.output_index
            groups[d.output_index] = []
        g = groups[d.output_index]
        if g:
            assert d.id == g[0].id, f"stable id within output_index {d.output_index}"
        g.append(d)

    outputs = []
    for idx, g in groups.items():
        head = g[0]
        kinds = [d.type for d in g]
        o = StreamOutput(output_index=idx, type="", id=head.id, events=kinds)
        if head.type == "message.output.delta":
            assert set(kinds) == {"message.output.delta"}, f"output {idx} mixes event kinds: {kinds}"
            o.type = "message.output"
            o.text = "".join(
                d.content if isinstance(d.content, str) else (d.content.text if getattr(d.content, "type", None) == "text" else "")
                for d in g
            )
            o.content = normalize_content([d.content for d in g])
            o.chunks = [c for c in o.content if c.get("type") != "text"]
            o.agent_id, o.model = opt(head.agent_id), opt(head.model)
            for d in g:
                assert d.role == "assistant"
        elif head.type == "function.call.delta":
            assert set(kinds) == {"function.call.delta"}, f"output {idx} mixes event kinds: {kinds}"
            o.type = "function.call"
            for d in g:
                assert d.name == head.name, "every function.call.delta carries the full name"
                assert d.tool_call_id == head.tool_call_id, "every function.call.delta carries the tool_call_id"
            o.name, o.tool_call_id = head.name, head.tool_call_id
            o.arguments = "".join(d.arguments for d in g)
            json.loads(o.arguments)  # the concatenated fragments are valid JSON
            o.confirmation_status = opt(head.confirmation_status)
            o.agent_id = opt(head.agent_id)
        elif head.type == "tool.execution.started":
            o.type = "tool.execution"
            assert kinds[-1] == "tool.execution.done", f"tool execution ends with done: {kinds}"
            assert all(k == "tool.execution.delta" for k in kinds[1:-1]), kinds
            assert isinstance(head.arguments, str), "tool.execution.started arguments is a string"
            # started may carry the arguments whole, or "" with the text
            # following as tool.execution.delta fragments (API.md §5.2).
            o.name, o.info = head.name, g[-1].info
            o.arguments = head.arguments + "".join(d.arguments for d in g[1:-1])
            for d in g:
                assert d.name == head.name
        elif head.type == "agent.handoff.started":
            o.type = "agent.handoff"
            assert kinds == ["agent.handoff.started", "agent.handoff.done"], kinds
            o.previous_agent_id, o.previous_agent_name = head.previous_agent_id, head.previous_agent_name
            o.next_agent_id, o.next_agent_name = g[1].next_agent_id, g[1].next_agent_name
        else:
            raise AssertionError(f"output {idx} starts with unexpected event {head.type}")
        outputs.append(o)
    return StreamResult(first.conversation_id, outputs, last_ev.usage, [ev.data.type for ev in events])


def assert_stream_matches_history(client, s: StreamResult) -> list:
    entries = history(client, s.conversation_id)
    tail = entries[len(entries) - len(s.outputs):]
    assert [(e.type, e.id) for e in tail] == [(o.type, o.id) for o in s.outputs], (
        "streamed output ids equal the stored entry ids"
    )
    for e, o in zip(tail, s.outputs):
        if e.type == "message.output":
            assert text_of(e.content) == o.text
        elif e.type == "function.call":
            assert e.tool_call_id == o.tool_call_id
            assert e.name == o.name
            assert json.loads(e.arguments) == json.loads(o.arguments)
        elif e.type == "tool.execution":
            assert e.name == o.name
            assert e.arguments == o.arguments
        elif e.type == "agent.handoff":
            assert e.next_agent_id == o.next_agent_id
            assert e.previous_agent_id == o.previous_agent_id
    return entries


# ------------------------------------------------------------------------------ raw / upstream


def raw_json(path: str, method: str = "GET", body: Any = None, key: str = KEY):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        URL + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:  # type: ignore[attr-defined]
        return e.code, e.read().decode()


def upstream_requests(marker: str) -> Optional[list]:
    """Chat requests the fake upstream received whose messages mention marker (None if no
    FAKEUPSTREAM_URL, i.e. an external server)."""
    base = os.environ.get("FAKEUPSTREAM_URL")
    if not base:
        return None
    with urllib.request.urlopen(base.rstrip("/") + "/_requests", timeout=30) as res:
        recs = json.loads(res.read())
    out = []
    for r in recs:
        body = r.get("body")
        if r.get("path", "").endswith("/chat/completions") and isinstance(body, dict):
            if marker in json.dumps(body.get("messages", []), ensure_ascii=False):
                out.append(body)
    return out


__all__ = [name for name in globals() if not name.startswith("_")] + ["MODEL"]
